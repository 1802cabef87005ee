//! The standard health contract (`idl/svc/health/v1/health.svc`) and what the runtime serves
//! are one thing: a client generated from the contract reads the runtime's probes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::Ordering;
use svcc_codegen_tests::api::svc::health::v1::{Health, HealthRestClient, Status};
use svcc_runtime::client::ClientConfig;
use svcc_runtime::{Code, Context, Server, tokio};

#[tokio::test]
async fn a_client_generated_from_the_health_contract_reads_the_probes() {
    let server = Server::new();
    let ready = server.readiness();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    let client = HealthRestClient::new(ClientConfig::new(format!("http://{addr}")));
    let live = client.live(Context::default()).await.unwrap();
    assert_eq!(live.status, Status::Serving);
    let r = client.ready(Context::default()).await.unwrap();
    assert_eq!(r.status, Status::Serving);
    assert!(r.checks.is_empty());
    // Not ready (starting or draining): 503, which the client reports as unavailable.
    ready.store(false, Ordering::SeqCst);
    let e = client.ready(Context::default()).await.unwrap_err();
    assert_eq!(e.into_error().kind, Code::Unavailable);
    // Liveness does not depend on readiness.
    assert_eq!(
        client.live(Context::default()).await.unwrap().status,
        Status::Serving
    );
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
}
