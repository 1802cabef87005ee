//! Serving under faults, in process: every refusal in its transport's shape (JSON-RPC, REST,
//! gRPC, HTTP/1.1 and HTTP/2), one rule for duplicate JSON keys, bounded echoes, results held
//! to the contract, the connection cap, and a stop that tells clients to move, then drains
//! within its deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use bytes::Bytes;
use http_body_util::BodyExt as _;
use std::time::Duration;
use svcc_codegen_tests::api::behaviour::v1 as behaviour;
use svcc_codegen_tests::api::spec::v1 as spec;
use svcc_codegen_tests::api::wire::v1 as wire;
use svcc_codegen_tests::{EchoImpl, SpecImpl, TimingImpl};
use svcc_runtime::serde_json::{self, Value, json};
use svcc_runtime::{Server, ServerConfig, tokio};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A running server: its address and what stops it.
struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(config: ServerConfig) -> Running {
    use svcc_runtime::axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let server = Server::new()
        .config(config)
        .service(spec::SpecServer::new(SpecImpl::default()).into_service())
        .service(wire::EchoServer::new(EchoImpl).into_service())
        .service(behaviour::TimingServer::new(TimingImpl::default()).into_service())
        // A hand-written route that reads its body with axum's own extractor.
        .route(
            "/upload",
            post(|body: Bytes| async move { body.len().to_string() }),
        );
    let served = tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    Running { addr, stop, served }
}

fn small_limits() -> ServerConfig {
    ServerConfig {
        body_limit: 64 * 1024,
        request_timeout: Duration::from_millis(300),
        ..Default::default()
    }
}

/// An HTTP/2 connection (prior knowledge) to `addr`.
async fn h2(
    addr: std::net::SocketAddr,
) -> hyper::client::conn::http2::SendRequest<
    http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>,
> {
    let io = hyper_util::rt::TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
    let (send, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    send
}

/// A body of `n` bytes in 16 KiB frames, with no length announced.
fn streamed(n: usize) -> http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible> {
    let chunks = (0..n.div_ceil(16 * 1024)).map(|_| {
        Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(Bytes::from(vec![
            b' ';
            16 * 1024
        ])))
    });
    http_body_util::BodyExt::boxed(http_body_util::StreamBody::new(futures_util::stream::iter(
        chunks,
    )))
}

/// Status, headers and body of one HTTP/2 request.
async fn send_h2(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>,
) -> (u16, hyper::HeaderMap, String) {
    let mut send = h2(addr).await;
    let req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("content-type", content_type)
        .body(body)
        .unwrap();
    let res = send
        .send_request(req)
        .await
        .expect("a readable answer, not a reset stream");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .expect("the whole answer")
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// One raw HTTP/1.1 exchange: what the server sent until it closed or went quiet.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn body_of(reply: &str) -> Value {
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {reply}"))
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn every_refusal_takes_its_transports_shape_on_both_http_versions() {
    let s = start(small_limits()).await;
    let addr = s.addr;
    // JSON-RPC, a body that never arrives: 408 with a JSON-RPC error object.
    let reply = raw(
        addr,
        b"POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n{\"jsonrpc\"",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    let v = body_of(&reply);
    assert_eq!(v["jsonrpc"], "2.0", "{reply}");
    assert_eq!(v["error"]["data"]["code"], "DEADLINE_EXCEEDED", "{reply}");
    assert_eq!(v["id"], Value::Null);
    // JSON-RPC, a body declared over the limit: 413 with a JSON-RPC error object.
    let reply = raw(
        addr,
        b"POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\nexpect: 100-continue\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert_eq!(
        body_of(&reply)["error"]["data"]["code"],
        "RESOURCE_EXHAUSTED"
    );
    // Over HTTP/2 with no length announced, on JSON-RPC and on REST: a readable 413 in each
    // shape (the stream used to be reset).
    let (status, _, body) = send_h2(
        addr,
        "POST",
        "/rpc",
        "application/json",
        streamed(200 * 1024),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["jsonrpc"].as_str(), v["error"]["data"]["code"].as_str()),
        (Some("2.0"), Some("RESOURCE_EXHAUSTED")),
        "{body}"
    );
    let (status, _, body) = send_h2(
        addr,
        "POST",
        "/wire/echo",
        "application/json",
        streamed(200 * 1024),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "RESOURCE_EXHAUSTED"
    );
    // A hand-written route's 413 (axum's extractor said it in plain text): the REST shape.
    for body in [streamed(200 * 1024)] {
        let (status, headers, text) =
            send_h2(addr, "POST", "/upload", "application/octet-stream", body).await;
        assert_eq!(status, 413, "{text}");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["code"],
            "RESOURCE_EXHAUSTED"
        );
    }
    let reply = raw(
        addr,
        format!(
            "POST /upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            100 * 1024,
            " ".repeat(100 * 1024)
        )
        .as_bytes(),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert_eq!(body_of(&reply)["code"], "RESOURCE_EXHAUSTED");
    // gRPC over the limit: a gRPC status (RESOURCE_EXHAUSTED), not an HTTP error.
    let big = http_body_util::BodyExt::boxed(http_body_util::Full::new(Bytes::from(vec![
            0u8;
            100 * 1024
        ])));
    let (status, headers, _) =
        send_h2(addr, "POST", "/wire.v1.Echo/Say", "application/grpc", big).await;
    assert_eq!(status, 200);
    assert_eq!(headers["grpc-status"], "8", "{headers:?}");
    // No such route: each transport's "not found".
    let reply = raw(
        addr,
        b"POST /rpc/nowhere HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    assert_eq!(body_of(&reply)["jsonrpc"], "2.0", "{reply}");
    let reply = raw(addr, b"GET /rpc HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");
    assert_eq!(body_of(&reply)["jsonrpc"], "2.0", "{reply}");
    let empty = http_body_util::BodyExt::boxed(http_body_util::Empty::<Bytes>::new());
    let (status, headers, _) = send_h2(
        addr,
        "POST",
        "/wire.v1.Echo/Nowhere",
        "application/grpc",
        empty,
    )
    .await;
    assert_eq!(
        (status, &headers["grpc-status"]),
        (200, &hyper::header::HeaderValue::from_static("12"))
    );
    let reply = raw(addr, b"GET /api/nowhere HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    assert_eq!(body_of(&reply)["code"], "NOT_FOUND");
    let _ = s.stop.send(());
}

/// `Everything` with nothing in it, as JSON text, with `labels` replaced by `labels`.
fn everything_with_labels(labels: &str) -> String {
    let text = serde_json::to_string(&EchoImpl::empty()).unwrap();
    assert!(text.contains(r#""labels":{}"#), "{text}");
    text.replace(r#""labels":{}"#, &format!(r#""labels":{labels}"#))
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_key_twice_is_refused_on_rest_and_json_rpc_alike() {
    let s = start(ServerConfig::default()).await;
    let http = svcc_runtime::reqwest::Client::new();
    let base = format!("http://{}", s.addr);
    let post = |path: &str, body: String| {
        http.post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // REST: top level and inside a map, where a decoder keeps the last value silently.
    let r = post(
        "/wire/checked",
        r#"{"name":"ab","count":1,"name":"abcdef"}"#.into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("`name` appears twice"),
        "{v}"
    );
    let dup = everything_with_labels(r#"{"role":"member","role":"admin"}"#);
    let r = post("/wire/echo", format!(r#"{{"value":{dup}}}"#))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("`role` appears twice in `value.labels`"),
        "{v}"
    );
    // JSON-RPC: the same rule, -32602 with the request's id.
    let r = post(
        "/rpc",
        format!(r#"{{"jsonrpc":"2.0","method":"echo.echo","params":{{"value":{dup}}},"id":7}}"#),
    )
    .await
    .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["error"]["code"].as_i64(), v["id"].as_i64()),
        (Some(-32602), Some(7)),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`role` appears twice in `value.labels`"),
        "{v}"
    );
    // Each key once — in sibling objects too — is fine on both.
    let ok = everything_with_labels(r#"{"role":"member","team":"a"}"#);
    let r = post("/wire/echo", format!(r#"{{"value":{ok}}}"#))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = post(
        "/rpc",
        format!(r#"{{"jsonrpc":"2.0","method":"echo.echo","params":{{"value":{ok}}},"id":8}}"#),
    )
    .await
    .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"]["labels"]["team"], "a", "{v}");
    let _ = s.stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn what_the_server_echoes_of_a_request_is_bounded() {
    let s = start(ServerConfig::default()).await;
    let http = svcc_runtime::reqwest::Client::new();
    let url = format!("http://{}/rpc", s.addr);
    let huge = "x".repeat(3 * 1024 * 1024);
    // A 3 MiB id: refused, not sent back.
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"sum","params":{{"a":1,"b":2,"c":3}},"id":"{huge}"}}"#
    );
    let text = http
        .post(&url)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.len() < 1024, "{} bytes came back", text.len());
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (v["error"]["code"].as_i64(), &v["id"]),
        (Some(-32600), &Value::Null),
        "{v}"
    );
    // A 3 MiB method name: named in the error, clipped.
    let body = format!(r#"{{"jsonrpc":"2.0","method":"{huge}","id":1}}"#);
    let text = http
        .post(&url)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.len() < 1024, "{} bytes came back", text.len());
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"]["code"],
        -32601
    );
    // A request id of 1 KiB is replaced by a fresh one rather than echoed.
    let r = http
        .post(&url)
        .header("x-request-id", "r".repeat(1024))
        .body(r#"{"jsonrpc":"2.0","method":"sum","params":{"a":1,"b":2,"c":3},"id":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"].len(), 36);
    // A query value of 8 KiB that is not a number: named, clipped.
    let r = svcc_runtime::reqwest::get(format!(
        "http://{}/wire/numbers?count={}",
        s.addr,
        "9".repeat(8192)
    ))
    .await
    .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.len() < 1024, "{text}");
    let _ = s.stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_result_that_breaks_the_contract_is_an_internal_error_while_results_are_checked() {
    let call = |url: String, n: i32| async move {
        svcc_runtime::reqwest::Client::new()
            .post(url)
            .json(&json!({"jsonrpc":"2.0","method":"timing.names","params":{"n":n},"id":1}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let captured = svcc_codegen_tests::Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test's runtime has one thread: the server's tasks log through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    // Checked (the default in debug builds and tests).
    assert!(ServerConfig::default().validate_results);
    let s = start(ServerConfig::default()).await;
    let url = format!("http://{}/rpc", s.addr);
    let v = call(url.clone(), 3).await;
    assert_eq!(
        v["result"]["names"].as_array().map(Vec::len),
        Some(3),
        "{v}"
    );
    let v = call(url, 5).await;
    assert_eq!(v["error"]["code"], -32603, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("breaks its contract"),
        "{v}"
    );
    // The log says which method and what broke.
    let log = captured.text();
    let line = log
        .lines()
        .find(|l| l.contains("breaks the contract"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("method=\"names\"") && line.contains("names (length)"),
        "{line}"
    );
    let _ = s.stop.send(());
    // Unchecked (release builds unless configured): sent as the handler made it.
    let s = start(ServerConfig {
        validate_results: false,
        ..Default::default()
    })
    .await;
    let v = call(format!("http://{}/rpc", s.addr), 5).await;
    assert_eq!(
        v["result"]["names"].as_array().map(Vec::len),
        Some(5),
        "{v}"
    );
    let _ = s.stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn connections_over_the_cap_are_closed_at_once_and_counted() {
    let s = start(ServerConfig {
        max_connections: 4,
        // A watchdog tick of 50 ms: near the cap, idle connections go after one.
        request_timeout: Duration::from_millis(400),
        ..Default::default()
    })
    .await;
    let addr = s.addr;
    // Four connections that say nothing fill the cap.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The fifth is accepted and closed before it is read: EOF, no answer.
    let mut fifth = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), fifth.read_to_end(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?} {buf:?}");
    // At the cap, idle connections are closed early, so working clients get in again.
    let reads = idle.iter_mut().map(|c| async move {
        let mut b = [0u8; 1];
        matches!(c.read(&mut b).await, Ok(0) | Err(_))
    });
    let closed = tokio::time::timeout(
        Duration::from_secs(5),
        futures_util::future::select_all(reads.map(Box::pin)),
    )
    .await;
    assert!(
        matches!(closed, Ok((true, _, _))),
        "every idle connection was kept at the cap"
    );
    let metrics = svcc_runtime::reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("svcc_server_max_connections 4"),
        "{metrics}"
    );
    let rejected = metrics
        .lines()
        .find_map(|l| l.strip_prefix("svcc_server_connections_rejected_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(rejected >= 1, "{metrics}");
    let _ = s.stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_stop_tells_clients_to_move_then_drains_within_its_deadline() {
    let s = start(ServerConfig {
        shutdown_delay: Duration::from_millis(800),
        shutdown_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let addr = s.addr;
    // Before the stop: a keep-alive HTTP/1.1 client, an HTTP/2 connection, and a client
    // trickling a request that it never finishes.
    let h1 = svcc_runtime::reqwest::Client::new();
    let r = h1
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("connection").is_none());
    let io = hyper_util::rt::TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
    let (mut send, conn) = hyper::client::conn::http2::handshake::<
        _,
        _,
        http_body_util::Empty<Bytes>,
    >(hyper_util::rt::TokioExecutor::new(), io)
    .await
    .unwrap();
    let h2_conn = tokio::spawn(conn);
    let res = send
        .send_request(
            hyper::Request::get(format!("http://{addr}/healthz"))
                .body(http_body_util::Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut trickling = tokio::net::TcpStream::connect(addr).await.unwrap();
    trickling
        .write_all(b"POST /rpc HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = s.stop.send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Leaving: readiness 503, still answering — and every HTTP/1.1 answer says `Connection:
    // close`, on old connections and new ones alike.
    let r = h1
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["connection"], "close");
    let r = svcc_runtime::reqwest::Client::new()
        .post(format!("http://{addr}/rpc"))
        .body(r#"{"jsonrpc":"2.0","method":"sum","params":{"a":1,"b":2,"c":3},"id":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["connection"], "close");
    assert_eq!(r.json::<Value>().await.unwrap()["result"], 6);
    // The HTTP/2 connection got GOAWAY: it ends by itself, its client knows to reconnect.
    let ended = tokio::time::timeout(Duration::from_secs(5), h2_conn).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
    // The drain ends by its deadline although the trickling client never finishes.
    let served = tokio::time::timeout(Duration::from_secs(20), s.served).await;
    assert!(matches!(served, Ok(Ok(Ok(())))), "{served:?}");
    let mut b = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(5), trickling.read(&mut b)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}
