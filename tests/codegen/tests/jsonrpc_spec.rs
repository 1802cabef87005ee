//! Every example of section 7 of the JSON-RPC 2.0 specification, sent as raw HTTP to a
//! generated server on loopback. Results and ids must match the specification exactly;
//! errors must carry the specified code (messages are the implementation's own).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use svcc_codegen_tests::SpecImpl;
use svcc_codegen_tests::api::spec::v1::SpecServer;
use svcc_runtime::serde_json::{Value, json};
use svcc_runtime::{Server, tokio};

async fn start() -> (String, tokio::sync::oneshot::Sender<()>, SpecImpl) {
    let imp = SpecImpl::default();
    let server = Server::new().service(SpecServer::new(imp.clone()).into_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    (format!("http://{addr}/rpc"), tx, imp)
}

/// Posts `body`; returns the status and the JSON reply (`None` for an empty body).
async fn post(url: &str, body: &str) -> (u16, Option<Value>) {
    let resp = svcc_runtime::reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            None
        } else {
            Some(serde_json_parse(&text))
        },
    )
}

fn serde_json_parse(s: &str) -> Value {
    svcc_runtime::serde_json::from_str(s).unwrap_or_else(|e| panic!("invalid JSON {s:?}: {e}"))
}

/// The parts of a reply the specification fixes: result and id, or error code and id.
fn essence(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(essence).collect()),
        Value::Object(m) => {
            assert_eq!(
                m.get("jsonrpc"),
                Some(&json!("2.0")),
                "reply without jsonrpc: {v}"
            );
            match m.get("error") {
                Some(e) => json!({ "error": e["code"], "id": m["id"] }),
                None => json!({ "result": m["result"], "id": m["id"] }),
            }
        }
        other => other.clone(),
    }
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn section_7_examples() {
    let (url, stop, imp) = start().await;
    let cases: Vec<(&str, &str, Option<Value>)> = vec![
        (
            "positional 1",
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
            Some(json!({"result": 19, "id": 1})),
        ),
        (
            "positional 2",
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#,
            Some(json!({"result": -19, "id": 2})),
        ),
        (
            "named 1",
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
            Some(json!({"result": 19, "id": 3})),
        ),
        (
            "named 2",
            r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
            Some(json!({"result": 19, "id": 4})),
        ),
        (
            "notification",
            r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#,
            None,
        ),
        (
            "notification of an unknown method",
            r#"{"jsonrpc": "2.0", "method": "foobar"}"#,
            None,
        ),
        (
            "non-existent method",
            r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
            Some(json!({"error": -32601, "id": "1"})),
        ),
        (
            "invalid JSON",
            r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
            Some(json!({"error": -32700, "id": null})),
        ),
        (
            "invalid Request object",
            r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
            Some(json!({"error": -32600, "id": null})),
        ),
        (
            "batch, invalid JSON",
            r#"[
          {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
          {"jsonrpc": "2.0", "method"
        ]"#,
            Some(json!({"error": -32700, "id": null})),
        ),
        (
            "empty array",
            "[]",
            Some(json!({"error": -32600, "id": null})),
        ),
        (
            "invalid batch, not empty",
            "[1]",
            Some(json!([{"error": -32600, "id": null}])),
        ),
        (
            "invalid batch",
            "[1,2,3]",
            Some(json!([
                {"error": -32600, "id": null}, {"error": -32600, "id": null}, {"error": -32600, "id": null}
            ])),
        ),
        (
            "batch",
            r#"[
          {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
          {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
          {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
          {"foo": "boo"},
          {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
          {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
        ]"#,
            Some(json!([
                {"result": 7, "id": "1"},
                {"result": 19, "id": "2"},
                {"error": -32600, "id": null},
                {"error": -32601, "id": "5"},
                {"result": ["hello", 5], "id": "9"}
            ])),
        ),
        (
            "batch of notifications",
            r#"[
          {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
          {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
        ]"#,
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (name, body, expected) in cases {
        let (status, reply) = post(&url, body).await;
        let got = reply.as_ref().map(essence);
        let want_status = if expected.is_some() { 200 } else { 204 };
        if got != expected || status != want_status {
            failures.push(format!(
                "{name}: status {status}, got {got:?}, want {expected:?} (raw {reply:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The notifications reached the handlers: update once, notify_hello twice.
    assert_eq!(imp.notified.load(std::sync::atomic::Ordering::SeqCst), 3);
    let _ = stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn every_id_form_is_echoed() {
    let (url, stop, _) = start().await;
    for id in [
        "0",
        "-7",
        "1.5",
        "\"x\"",
        "\"\"",
        "null",
        "12345678901234567890",
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":{id}}}"#);
        let (_, reply) = post(&url, &body).await;
        let reply = reply.unwrap();
        assert_eq!(reply["id"], serde_json_parse(id), "id {id}: {reply}");
        assert_eq!(reply["result"], json!(6));
    }
    // Ids that are neither strings, numbers nor null make an invalid request.
    let (_, reply) = post(
        &url,
        r#"{"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":{"a":1}}"#,
    )
    .await;
    assert_eq!(reply.unwrap()["error"]["code"], json!(-32600));
    let _ = stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn params_errors_and_limits() {
    let (url, stop, _) = start().await;
    // Wrong type and too many positional params are invalid params.
    let (_, r) = post(
        &url,
        r#"{"jsonrpc":"2.0","method":"subtract","params":{"minuend":"x","subtrahend":1},"id":1}"#,
    )
    .await;
    assert_eq!(r.unwrap()["error"]["code"], json!(-32602));
    let (_, r) = post(
        &url,
        r#"{"jsonrpc":"2.0","method":"subtract","params":[1,2,3],"id":1}"#,
    )
    .await;
    assert_eq!(r.unwrap()["error"]["code"], json!(-32602));
    // Missing params.
    let (_, r) = post(&url, r#"{"jsonrpc":"2.0","method":"subtract","id":1}"#).await;
    assert_eq!(r.unwrap()["error"]["code"], json!(-32602));
    // Wrong version.
    let (_, r) = post(
        &url,
        r#"{"jsonrpc":"1.0","method":"sum","params":[1,2,3],"id":1}"#,
    )
    .await;
    assert_eq!(r.unwrap()["error"]["code"], json!(-32600));
    // A batch over the limit (100) gets one error, not silence.
    let one = r#"{"jsonrpc":"2.0","method":"sum","params":[1,1,1],"id":1}"#;
    let big = format!("[{}]", vec![one; 101].join(","));
    let (status, r) = post(&url, &big).await;
    assert_eq!(status, 200);
    let r = r.unwrap();
    assert!(r.is_object(), "one error object: {r}");
    assert_eq!(r["error"]["code"], json!(-32600));
    // At the limit it runs, and replies keep request order.
    let items: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"jsonrpc":"2.0","method":"sum","params":[{i},0,0],"id":{i}}}"#))
        .collect();
    let (_, r) = post(&url, &format!("[{}]", items.join(","))).await;
    let r = r.unwrap();
    let arr = r.as_array().unwrap();
    assert_eq!(arr.len(), 100);
    for (i, item) in arr.iter().enumerate() {
        assert_eq!(item["id"], json!(i));
        assert_eq!(item["result"], json!(i));
    }
    let _ = stop.send(());
}
