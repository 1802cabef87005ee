//! `@trace` on a gRPC call: the generated gRPC client's span and the server's span are one
//! trace, parent and child, with the RPC conventions' gRPC attributes (`rpc.system=grpc`,
//! `rpc.grpc.status_code`). Checked by a real OTLP receiver decoding the export. (Its own test
//! binary: the exporter is set up once per process.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_receiver::{Receiver, SpanKind, attribute};
use svcc_codegen_tests::api::wire::v1 as wire;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::telemetry::{self, Settings};
use svcc_runtime::{Context, tokio};
use wire::Observed as _;

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_grpc_call_is_one_trace_client_to_server() {
    let receiver = Receiver::start();
    let endpoint = receiver.endpoint();
    assert!(telemetry::init(Settings::from_lookup(|k| match k {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_SERVICE_NAME" => Some("grpc-trace".to_string()),
        "OTEL_BSP_SCHEDULE_DELAY" => Some("50".to_string()),
        _ => None,
    })));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = svcc_runtime::Server::new()
        .service(wire::ObservedServer::new(svcc_codegen_tests::ObservedEchoImpl).into_service());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let client = wire::ObservedGrpcClient::new(ClientConfig::new(&base));
    let ok = client
        .greet(Context::new(), "Ada".into(), "s3cret".into())
        .await
        .unwrap();
    assert_eq!(ok.greeting, "hello, Ada");
    assert!(
        client
            .greet(Context::new(), "Bob".into(), String::new())
            .await
            .is_err()
    );
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    telemetry::flush(std::time::Duration::from_secs(10));
    let spans = receiver.wait_for_spans(|s| s.len() >= 4);
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let clients: Vec<_> = spans
        .iter()
        .filter(|s| s.span.kind == SpanKind::Client as i32)
        .collect();
    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.span.kind == SpanKind::Server as i32)
        .collect();
    assert_eq!((clients.len(), servers.len()), (2, 2), "{spans:#?}");
    for c in &clients {
        assert_eq!(c.span.name, "wire.v1.Observed/Greet");
        assert_eq!(attribute(&c.span, "rpc.system").as_deref(), Some("grpc"));
        // Its server span is its child, in the same trace.
        let s = servers
            .iter()
            .find(|s| s.span.parent_span_id == c.span.span_id)
            .unwrap_or_else(|| panic!("no server span under {c:#?}"));
        assert_eq!(s.span.trace_id, c.span.trace_id);
        assert_eq!(attribute(&s.span, "rpc.system").as_deref(), Some("grpc"));
        assert_eq!(
            attribute(&s.span, "rpc.grpc.status_code"),
            attribute(&c.span, "rpc.grpc.status_code")
        );
    }
    let codes: Vec<Option<String>> = servers
        .iter()
        .map(|s| attribute(&s.span, "rpc.grpc.status_code"))
        .collect();
    assert!(
        codes.contains(&Some("0".to_string())) && codes.contains(&Some("16".to_string())),
        "OK and UNAUTHENTICATED: {codes:?}"
    );
}
