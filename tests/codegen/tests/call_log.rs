//! `@log` and `@sensitive`: one event per call with the method's fields, skipped parameters
//! left out, sensitive values masked — and no secret anywhere in what the test run logged,
//! nor in `Debug` of the generated types.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_codegen_tests::Captured;
use svcc_codegen_tests::api::obstacle::helpers::v1 as helpers;
use svcc_runtime::serde_json::{Value, json};
use svcc_runtime::{Context, Server, tokio};

/// The secret every call sends; it must appear in no log line.
const SECRET: &str = "correct-horse-battery-staple";

struct Impl;

impl helpers::Other for Impl {
    async fn new(&self, _ctx: Context) -> Result<(), helpers::other::NewError> {
        Ok(())
    }
    async fn send(&self, _ctx: Context) -> Result<(), helpers::other::SendError> {
        Ok(())
    }
    async fn policed(
        &self,
        _ctx: Context,
        id: String,
        secret: String,
    ) -> Result<String, helpers::other::PolicedError> {
        assert_eq!(secret, SECRET, "the handler gets the real value");
        if id == "boom" {
            panic!("handler failed for {id}");
        }
        Ok(format!("ok {id}"))
    }
    async fn open(&self, _ctx: Context) -> Result<(), helpers::other::OpenError> {
        Ok(())
    }
}

#[tokio::test]
async fn one_event_per_call_without_skipped_or_sensitive_values() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    // The test's runtime has one thread: every task of the server logs through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::new().service(helpers::OtherServer::new(Impl).into_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    // The generated clients, logging each call as a curl command: secrets masked there too.
    let config = svcc_runtime::ClientConfig::new(&base)
        .with_curl_log(svcc_runtime::client::CurlLog::Always)
        .with_header("authorization", "Bearer bearer-token-123");
    let rpc = helpers::OtherJsonRpcClient::new(config.clone());
    let rest = helpers::OtherRestClient::new(config);
    {
        use helpers::Other as _;
        assert_eq!(
            rpc.policed(Context::default(), "c1".into(), SECRET.into())
                .await
                .unwrap(),
            "ok c1"
        );
        assert_eq!(
            rest.policed(Context::default(), "c2".into(), SECRET.into())
                .await
                .unwrap(),
            "ok c2"
        );
        let mut batch = helpers::OtherBatch::new_();
        let slot = batch.policed("c3".into(), SECRET.into());
        batch.send_(&rpc, &Context::default()).await.unwrap();
        assert_eq!(slot.take().unwrap(), "ok c3");
    }
    let http = svcc_runtime::reqwest::Client::new();
    // JSON-RPC and REST, a success and a panic.
    let r: Value = http
        .post(format!("{base}/rpc"))
        .body(json!({"jsonrpc": "2.0", "method": "other.policed", "params": {"id": "a1", "secret": SECRET}, "id": 1}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["result"], "ok a1");
    let r = http
        .put(format!("{base}/helpers/other/boom"))
        .header("x-key", "k")
        .json(&json!({"secret": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();

    let log = captured.text();
    let curls: Vec<&str> = log.lines().filter(|l| l.contains("svcc::client")).collect();
    assert_eq!(curls.len(), 3, "one curl line per request:\n{log}");
    assert!(
        curls
            .iter()
            .all(|l| l.contains("curl -X") && l.contains("authorization: ***")),
        "{log}"
    );
    assert!(
        !log.contains("bearer-token-123"),
        "a token reached the log:\n{log}"
    );
    // The events of the two raw calls (the clients' calls, ids c1–c3, log their own).
    let calls: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("svcc::call")
                && (l.contains(r#"\"id\":\"a1\""#) || l.contains(r#"\"id\":\"boom\""#))
        })
        .collect();
    assert_eq!(calls.len(), 2, "one event per call:\n{log}");
    let ok = calls[0];
    for field in [
        "INFO",
        "service=\"Other\"",
        "method=\"policed\"",
        "transport=\"jsonrpc\"",
        "outcome=\"ok\"",
        "duration_ms=",
        "request_id=",
        "params=\"{\\\"id\\\":\\\"a1\\\"}\"",
        "result=\"\\\"ok a1\\\"\"",
    ] {
        assert!(ok.contains(field), "{field} missing in {ok}");
    }
    let failed = calls[1];
    for field in [
        "ERROR",
        "transport=\"rest\"",
        "outcome=\"error\"",
        "code=\"INTERNAL\"",
    ] {
        assert!(failed.contains(field), "{field} missing in {failed}");
    }
    // `@log(skip = [secret])` and `@sensitive`: the secret is in no line of the run.
    assert!(!log.contains(SECRET), "a secret reached the log:\n{log}");
    assert!(
        !log.contains("correct-horse"),
        "part of a secret reached the log:\n{log}"
    );
}

#[test]
fn debug_of_generated_types_masks_sensitive_fields() {
    let req = helpers::other::PolicedRequest {
        id: "a1".into(),
        secret: SECRET.into(),
    };
    let text = format!("{req:?}");
    assert_eq!(text, "PolicedRequest { id: \"a1\", secret: \"***\" }");
}
