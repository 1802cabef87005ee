//! A call from one generated service to another is one trace: test client → `Front` server →
//! `Back` client (inside the handler) → `Back` server, each span the child of the one before,
//! whether the handler passes its context on or makes a fresh one. Checked by a real OTLP
//! receiver decoding the export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_receiver::{ReceivedSpan, Receiver, SpanKind};
use svcc_codegen_tests::api::traced::v1 as traced;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::telemetry::{self, Settings};
use svcc_runtime::{Context, tokio};
use traced::{Back as _, Front as _};

struct FrontImpl {
    back: traced::BackJsonRpcClient,
}

impl traced::Front for FrontImpl {
    async fn greet(&self, ctx: Context, name: String) -> Result<String, traced::front::GreetError> {
        assert!(ctx.trace.is_some(), "the handler sees its span");
        self.back
            .hello(ctx, name)
            .await
            .map_err(|e| traced::front::GreetError::Other(e.into_error()))
    }

    async fn greet_fresh(
        &self,
        _ctx: Context,
        name: String,
    ) -> Result<String, traced::front::GreetFreshError> {
        self.back
            .hello(Context::new(), name)
            .await
            .map_err(|e| traced::front::GreetFreshError::Other(e.into_error()))
    }
}

struct BackImpl;

impl traced::Back for BackImpl {
    async fn hello(&self, _ctx: Context, name: String) -> Result<String, traced::back::HelloError> {
        if name == "slow" {
            // Past the server's request timeout: the call is dropped before its outcome.
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
        Ok(format!("hello, {name}"))
    }
}

/// The chain under the test's client span named `name`, in order.
fn chain<'a>(spans: &'a [ReceivedSpan], root_name: &str) -> Vec<&'a ReceivedSpan> {
    let mut out: Vec<&ReceivedSpan> = Vec::new();
    let root = spans
        .iter()
        .find(|s| s.span.name == root_name && s.span.parent_span_id.is_empty())
        .unwrap_or_else(|| panic!("no root span {root_name}: {spans:#?}"));
    out.push(root);
    while let Some(child) = spans
        .iter()
        .find(|s| s.span.parent_span_id == out[out.len() - 1].span.span_id)
    {
        out.push(child);
    }
    out
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn one_trace_across_two_generated_services() {
    let receiver = Receiver::start();
    let endpoint = receiver.endpoint();
    assert!(telemetry::init(Settings::from_lookup(|k| match k {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_SERVICE_NAME" => Some("chain".to_string()),
        "OTEL_BSP_SCHEDULE_DELAY" => Some("50".to_string()),
        _ => None,
    })));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let front = FrontImpl {
        back: traced::BackJsonRpcClient::new(ClientConfig::new(&base)),
    };
    let server = svcc_runtime::Server::new()
        .config(svcc_runtime::ServerConfig {
            request_timeout: std::time::Duration::from_millis(300),
            ..svcc_runtime::ServerConfig::default()
        })
        .service(traced::FrontServer::new(front).into_service())
        .service(traced::BackServer::new(BackImpl).into_service());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let client = traced::FrontJsonRpcClient::new(ClientConfig::new(&base));
    assert_eq!(
        client.greet(Context::new(), "Ada".into()).await.unwrap(),
        "hello, Ada"
    );
    assert_eq!(
        client
            .greet_fresh(Context::new(), "Lin".into())
            .await
            .unwrap(),
        "hello, Lin"
    );
    let back = traced::BackJsonRpcClient::new(ClientConfig::new(&base));
    assert!(back.hello(Context::new(), "slow".into()).await.is_err());
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    telemetry::flush(std::time::Duration::from_secs(10));
    let spans = receiver.wait_for_spans(|s| s.len() >= 10);
    assert_eq!(spans.len(), 10, "{spans:#?}");
    // The call the server dropped at its timeout still has its span: ended then, with its
    // attributes, without a status of its own.
    let dropped = spans
        .iter()
        .find(|s| {
            s.span.name == "Back/hello"
                && s.span.kind == SpanKind::Server as i32
                && s.span.end_time_unix_nano - s.span.start_time_unix_nano >= 250_000_000
        })
        .unwrap_or_else(|| panic!("no span for the dropped call: {spans:#?}"));
    assert!(
        dropped.span.status.as_ref().is_none_or(|s| s.code == 0),
        "{dropped:#?}"
    );
    let keys: Vec<&str> = dropped
        .span
        .attributes
        .iter()
        .map(|a| a.key.as_str())
        .collect();
    for key in [
        "rpc.method",
        "client.address",
        "client.port",
        "svcc.request_id",
    ] {
        assert!(keys.contains(&key), "{key}: {dropped:#?}");
    }
    assert!(
        spans
            .iter()
            .any(|s| s.span.span_id == dropped.span.parent_span_id
                && s.span.kind == SpanKind::Client as i32),
        "the dropped call's span is the client's child"
    );
    for root in ["Front/greet", "Front/greet_fresh"] {
        let chain = chain(&spans, root);
        let shape: Vec<(String, i32)> = chain
            .iter()
            .map(|s| (s.span.name.clone(), s.span.kind))
            .collect();
        assert_eq!(
            shape,
            vec![
                (root.to_string(), SpanKind::Client as i32),
                (root.to_string(), SpanKind::Server as i32),
                ("Back/hello".to_string(), SpanKind::Client as i32),
                ("Back/hello".to_string(), SpanKind::Server as i32),
            ],
            "{root}"
        );
        assert!(
            chain
                .iter()
                .all(|s| s.span.trace_id == chain[0].span.trace_id),
            "{root}: one trace"
        );
    }
}
