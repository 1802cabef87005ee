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

/// A server with short limits and a hand-written route that never answers in time.
async fn serve_with_short_limits() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    use svcc_runtime::axum::routing::get;
    let config = svcc_runtime::ServerConfig {
        request_timeout: std::time::Duration::from_millis(300),
        idle_timeout: std::time::Duration::from_millis(400),
        ..Default::default()
    };
    let server = Server::new()
        .config(config)
        .service(SpecServer::new(SpecImpl::default()).into_service())
        .route(
            "/stuck",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                "too late"
            }),
        );
    let (base, stop) = serve(server).await;
    (base.trim_start_matches("http://").parse().unwrap(), stop)
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut out = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut out),
    )
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_request_not_answered_in_time_gets_408_on_every_path() {
    use tokio::io::AsyncWriteExt as _;
    let (addr, stop) = serve_with_short_limits().await;
    // A body that never arrives (JSON-RPC, answered by the connection service itself).
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    s.write_all(b"POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n{\"jsonrpc\"")
        .await
        .unwrap();
    let reply = read_to_close_or_reply(&mut s).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("DEADLINE_EXCEEDED"), "{reply}");
    assert!(
        reply.to_ascii_lowercase().contains("x-request-id:"),
        "{reply}"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "answered early"
    );
    // A hand-written route that takes too long (through the router).
    let r = svcc_runtime::reqwest::get(format!("http://{addr}/stuck"))
        .await
        .unwrap();
    assert_eq!(r.status(), 408);
    // The same over HTTP/2, whose streams the connection clock does not see.
    let h2 = svcc_runtime::reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2.get(format!("http://{addr}/stuck")).send().await.unwrap();
    assert_eq!(r.version(), svcc_runtime::reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 408);
    // The server still answers in time when it can.
    let ok = post(
        &format!("http://{addr}/rpc"),
        r#"{"jsonrpc":"2.0","method":"sum","params":{"a":1,"b":2,"c":3},"id":1}"#,
        false,
    )
    .await;
    assert_eq!(ok["result"], json!(6), "{ok}");
    let _ = stop.send(());
}

/// The first response on `stream` (headers and the body up to the close or 2 s of quiet).
async fn read_to_close_or_reply(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
                    break;
                }
            }
            Ok(Err(e)) => panic!("{e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn idle_and_trickling_connections_are_closed() {
    use tokio::io::AsyncWriteExt as _;
    let (addr, stop) = serve_with_short_limits().await;
    // Connected, never sends a byte.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(read_to_close(&mut idle).await, "");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(400),
        "closed early"
    );
    // Sends part of its headers and stops.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /rpc HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert_eq!(read_to_close(&mut slow).await, "");
    // Keep-alive: one answered request, then quiet → closed.
    let mut kept = tokio::net::TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let text = read_to_close(&mut kept).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let _ = stop.send(());
}

#[tokio::test]
async fn rest_responses_carry_the_declared_json_media_type() {
    let server = Server::new().service(TimingServer::new(TimingImpl::default()).into_service());
    let (base, stop) = serve(server).await;
    let r = svcc_runtime::reqwest::Client::new()
        .get(format!("{base}/problem"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()[svcc_runtime::reqwest::header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(r.text().await.unwrap(), "\"see the type\"");
    stop.send(()).unwrap();
}

#[tokio::test]
async fn wrong_http_methods_get_a_405_with_allow_in_the_transports_shape() {
    let server = Server::new()
        .service(TimingServer::new(TimingImpl::default()).into_service())
        .service(SpecServer::new(SpecImpl::default()).into_service());
    let (base, stop) = serve(server).await;
    let client = svcc_runtime::reqwest::Client::new();
    for (method, path, allow) in [
        (svcc_runtime::reqwest::Method::GET, "/rpc", "POST"),
        (
            svcc_runtime::reqwest::Method::DELETE,
            "/problem",
            "GET,HEAD",
        ),
    ] {
        let r = client
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
        let h = r.headers();
        assert_eq!(h["content-type"], "application/json", "{method} {path}");
        assert_eq!(h["allow"], allow, "{method} {path}");
        let body: Value = r.json().await.unwrap();
        // In the path's transport's shape: a JSON-RPC error object under the JSON-RPC prefix.
        let error = if path == "/rpc" {
            assert_eq!(body["jsonrpc"], "2.0", "{body}");
            &body["error"]
        } else {
            &body
        };
        let code = error["data"]["code"].as_str().or(error["code"].as_str());
        assert_eq!(code, Some("UNIMPLEMENTED"), "{body}");
        assert!(error["message"].as_str().unwrap().contains("HTTP method"));
    }
    stop.send(()).unwrap();
}

/// HTTP/2 streams run first in their connection's task, and their answers leave together; a
/// stream that is still waiting (here for the rest of its body) goes on in a task of its own,
/// so it holds back no other stream of the connection.
#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_waiting_http2_stream_holds_back_no_other_stream_of_its_connection() {
    use futures_util::StreamExt as _;
    use http_body_util::BodyExt as _;
    use svcc_runtime::axum::body::Bytes;
    type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;
    let (base, stop) =
        serve(Server::new().service(SpecServer::new(SpecImpl::default()).into_service())).await;
    let addr = base.trim_start_matches("http://").to_string();
    let io = hyper_util::rt::TokioIo::new(tokio::net::TcpStream::connect(&addr).await.unwrap());
    let (send, conn) = hyper::client::conn::http2::handshake::<_, _, Body>(
        hyper_util::rt::TokioExecutor::new(),
        io,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let call = |body: Body| {
        let mut send = send.clone();
        let req = hyper::Request::post(format!("http://{addr}/rpc"))
            .header("content-type", "application/json")
            .body(body)
            .unwrap();
        async move {
            let res = send.send_request(req).await.unwrap();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            svcc_runtime::serde_json::from_slice::<Value>(&bytes).unwrap()
        }
    };
    // A request whose body stops halfway until the test lets the rest go.
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first = futures_util::stream::iter([Ok(hyper::body::Frame::data(Bytes::from_static(
        br#"{"jsonrpc":"2.0","method":"sum","#,
    )))]);
    let rest = futures_util::stream::once(async move {
        let _ = released.await;
        Ok(hyper::body::Frame::data(Bytes::from_static(
            br#""params":{"a":1,"b":2,"c":3},"id":0}"#,
        )))
    });
    let waiting = tokio::spawn(call(http_body_util::BodyExt::boxed(
        http_body_util::StreamBody::new(first.chain(rest)),
    )));
    let fast = futures_util::future::join_all((1..=32).map(|id| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"sum","params":{{"a":{id},"b":0,"c":0}},"id":{id}}}"#
        );
        call(http_body_util::Full::new(Bytes::from(body)).boxed())
    }));
    let fast = tokio::time::timeout(std::time::Duration::from_secs(10), fast)
        .await
        .expect("the other streams waited for the one still reading its body");
    for (reply, id) in fast.iter().zip(1..) {
        assert_eq!(reply["result"], json!(id), "{reply}");
    }
    assert!(!waiting.is_finished());
    let _ = release.send(());
    let waiting = waiting.await.unwrap();
    assert_eq!(waiting["result"], json!(6), "{waiting}");
    let _ = stop.send(());
}

/// Pipelined HTTP/1.1 requests (both sent before either answer is read) are both answered, in
/// order, when the connection gathers its writes.
#[tokio::test(crate = "svcc_runtime::tokio")]
async fn pipelined_http1_requests_are_answered_in_order() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (base, stop) =
        serve(Server::new().service(SpecServer::new(SpecImpl::default()).into_service())).await;
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = |a: i32| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"sum","params":{{"a":{a},"b":2,"c":3}},"id":{a}}}"#
        );
        format!(
            "POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let both = format!("{}{}", request(10), request(20));
    s.write_all(both.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !(String::from_utf8_lossy(&got).contains(r#""result":15"#)
        && String::from_utf8_lossy(&got).contains(r#""result":25"#))
    {
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("the answers did not arrive")
            .unwrap();
        assert!(n > 0, "closed after {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.find(r#""result":15"#) < text.find(r#""result":25"#),
        "{text}"
    );
    assert_eq!(text.matches("HTTP/1.1 200").count(), 2, "{text}");
    let _ = stop.send(());
}
