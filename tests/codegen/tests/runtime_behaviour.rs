//! What the runtime guarantees around generated methods: the per-method layer slot, scoped
//! JSON-RPC URLs, sequential batches on request, deadlines from `@timeout`, curl logging.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use svcc_codegen_tests::api::behaviour::v1::TimingServer;
use svcc_codegen_tests::api::spec::v1::SpecServer;
use svcc_codegen_tests::{SpecImpl, TimingImpl};
use svcc_runtime::method::{MethodInfo, MethodLayer, MethodService};
use svcc_runtime::serde_json::{Value, json};
use svcc_runtime::{Server, tokio};

async fn serve(server: Server) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    (format!("http://{addr}"), tx)
}

async fn post(url: &str, body: &str, sync: bool) -> Value {
    let mut req = svcc_runtime::reqwest::Client::new()
        .post(url)
        .body(body.to_string());
    if sync {
        req = req.header("x-sync-on", "true");
    }
    let text = req.send().await.unwrap().text().await.unwrap();
    svcc_runtime::serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Counts calls per method; applied once per method at start-up.
struct Counting {
    calls: Arc<AtomicUsize>,
    wrapped: Arc<std::sync::Mutex<Vec<&'static str>>>,
}

impl MethodLayer for Counting {
    fn layer(&self, info: &'static MethodInfo, inner: MethodService) -> MethodService {
        self.wrapped.lock().unwrap().push(info.name);
        let calls = self.calls.clone();
        MethodService::new(tower_like::Count { inner, calls })
    }
}

mod tower_like {
    //! A minimal tower service that counts calls before delegating.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};
    use svcc_runtime::method::{Call, MethodService, Output};

    #[derive(Clone)]
    pub struct Count {
        pub inner: MethodService,
        pub calls: Arc<AtomicUsize>,
    }

    impl svcc_runtime::method::Service<Call> for Count {
        type Response = Output;
        type Error = svcc_runtime::Error;
        type Future = <MethodService as svcc_runtime::method::Service<Call>>::Future;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, call: Call) -> Self::Future {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.call(call)
        }
    }
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn layers_wrap_every_method_once_and_see_every_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let wrapped = Arc::new(std::sync::Mutex::new(Vec::new()));
    let server = Server::new()
        .service(SpecServer::new(SpecImpl::default()).into_service())
        .layer(Counting {
            calls: calls.clone(),
            wrapped: wrapped.clone(),
        });
    let (base, stop) = serve(server).await;
    post(
        &format!("{base}/rpc"),
        r#"{"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":1}"#,
        false,
    )
    .await;
    let mut names = wrapped.lock().unwrap().clone();
    names.sort_unstable();
    assert_eq!(
        names,
        ["get_data", "notify_hello", "subtract", "sum", "update"],
        "each method wrapped once, at start-up"
    );
    post(&format!("{base}/rpc"), r#"[{"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":1},{"jsonrpc":"2.0","method":"get_data","id":2}]"#, false).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let _ = stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn per_service_and_per_method_urls_serve_only_their_methods() {
    let server = Server::new()
        .service(SpecServer::new(SpecImpl::default()).into_service())
        .service(TimingServer::new(TimingImpl::default()).into_service());
    let (base, stop) = serve(server).await;
    let sum = r#"{"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":1}"#;
    assert_eq!(
        post(&format!("{base}/rpc"), sum, false).await["result"],
        json!(6)
    );
    assert_eq!(
        post(&format!("{base}/rpc/spec"), sum, false).await["result"],
        json!(6)
    );
    assert_eq!(
        post(&format!("{base}/rpc/sum"), sum, false).await["result"],
        json!(6)
    );
    // Another service's URL, or another method's, does not serve `sum`.
    assert_eq!(
        post(&format!("{base}/rpc/timing"), sum, false).await["error"]["code"],
        json!(-32601)
    );
    assert_eq!(
        post(&format!("{base}/rpc/subtract"), sum, false).await["error"]["code"],
        json!(-32601)
    );
    // Batches belong at the prefix URL: a scoped URL answers one error object.
    let batch = format!("[{sum}]");
    let reply = post(&format!("{base}/rpc/spec"), &batch, false).await;
    assert_eq!(reply["error"]["code"], json!(-32600), "{reply}");
    assert_eq!(
        post(&format!("{base}/rpc"), &batch, false).await[0]["result"],
        json!(6)
    );
    let record = r#"{"jsonrpc":"2.0","method":"timing.record","params":{"n":1},"id":2}"#;
    assert_eq!(
        post(&format!("{base}/rpc/timing"), record, false).await["result"],
        json!([1])
    );
    let _ = stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn x_sync_on_runs_a_batch_in_order() {
    let imp = TimingImpl::default();
    let (base, stop) =
        serve(Server::new().service(TimingServer::new(imp.clone()).into_service())).await;
    let batch: Vec<String> = (1..=10)
        .map(|n| {
            format!(r#"{{"jsonrpc":"2.0","method":"timing.record","params":{{"n":{n}}},"id":{n}}}"#)
        })
        .collect();
    let body = format!("[{}]", batch.join(","));
    let replies = post(&format!("{base}/rpc"), &body, true).await;
    for (i, r) in replies.as_array().unwrap().iter().enumerate() {
        // Sequential: call n saw exactly the calls 1..=n before it.
        let expected: Vec<i32> = (1..=i32::try_from(i).unwrap() + 1).collect();
        assert_eq!(r["result"], json!(expected), "{replies}");
    }
    // Without the header the calls run concurrently; replies still come in request order.
    imp.log.lock().unwrap().clear();
    let replies = post(&format!("{base}/rpc"), &body, false).await;
    let ids: Vec<i64> = replies
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (1..=10).collect::<Vec<i64>>());
    assert_eq!(imp.log.lock().unwrap().len(), 10);
    let _ = stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn timeout_from_the_contract_bounds_a_call() {
    let (base, stop) =
        serve(Server::new().service(TimingServer::new(TimingImpl::default()).into_service())).await;
    let fast = post(
        &format!("{base}/rpc"),
        r#"{"jsonrpc":"2.0","method":"timing.slow","params":{"millis":1},"id":1}"#,
        false,
    )
    .await;
    assert_eq!(fast["result"], Value::Null, "{fast}");
    assert!(fast.get("error").is_none(), "{fast}");
    let slow = post(
        &format!("{base}/rpc"),
        r#"{"jsonrpc":"2.0","method":"timing.slow","params":{"millis":2000},"id":2}"#,
        false,
    )
    .await;
    assert_eq!(
        slow["error"]["data"]["code"],
        json!("DEADLINE_EXCEEDED"),
        "{slow}"
    );
    assert_eq!(slow["error"]["code"], json!(1004));
    let _ = stop.send(());
}

#[test]
fn curl_commands_quote_safely() {
    let mut headers = svcc_runtime::axum::http::HeaderMap::new();
    headers.insert("x-name", "O'Brien".parse().unwrap());
    let c = svcc_runtime::client::curl_command(
        &svcc_runtime::reqwest::Method::POST,
        "http://h/rpc",
        &headers,
        Some(r#"{"a":"it's"}"#),
    );
    assert_eq!(
        c,
        r#"curl -X POST 'http://h/rpc' -H 'x-name: O'\''Brien' --data-raw '{"a":"it'\''s"}'"#
    );
}
