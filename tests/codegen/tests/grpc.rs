//! The same cases on JSON-RPC, REST and gRPC (`contracts/wire.svc`): every shape of value comes
//! back unchanged through the generated client of each transport; defaults, header
//! parameters, results that are not records, declared errors with their payload, validation
//! violations, deadlines and empty results agree. Then gRPC's own edges: a request that is not
//! gRPC, a message that does not decode, metadata both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use svcc_codegen_tests::EchoImpl;
use svcc_codegen_tests::api::wire::v1 as wire;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::serde_json::json;
use svcc_runtime::{Code, Context, Server, tokio};
use wire::Echo;

async fn serve() -> (String, tokio::sync::oneshot::Sender<()>) {
    serve_with(Server::new()).await
}

async fn serve_with(server: Server) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = server.service(wire::EchoServer::new(EchoImpl).into_service());
    tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    (format!("http://{addr}"), tx)
}

/// A value with something in every field.
fn full() -> wire::Everything {
    wire::Everything {
        flag: true,
        small: -7,
        big: i64::MIN + 1,
        count: u32::MAX,
        huge: u64::MAX,
        ratio: 0.5,
        precise: -3.25e-9,
        text: "héllo, \"wire\" ✓".to_string(),
        raw: svcc_runtime::Bytes(vec![0, 1, 2, 254, 255]),
        id: svcc_runtime::Uuid::new_v4(),
        day: "2026-02-28".parse().unwrap(),
        price: "-12.3400".parse().unwrap(),
        at: "2026-12-02T06:11:50.812563516Z".parse().unwrap(),
        after: "-1.5s".parse().unwrap(),
        extra: json!({"a": [1, 2.5, null, true, "x"], "b": {"c": -4}, "d": null}),
        colour: wire::Colour::Red,
        shape: wire::Shape::Dot(wire::Point { x: 1, y: -1 }),
        point: wire::Point { x: -3, y: 4 },
        maybe_text: Some(String::new()),
        maybe_number: Some(0),
        maybe_point: Some(wire::Point { x: 0, y: 0 }),
        maybe_colour: Some(wire::Colour::Green),
        names: vec!["a".into(), String::new(), "c".into()],
        numbers: vec![0, -1, i64::MAX],
        colours: vec![wire::Colour::Blue, wire::Colour::Red],
        points: vec![wire::Point { x: 1, y: 2 }, wire::Point { x: 0, y: 0 }],
        grid: vec![vec![1, 2], vec![], vec![-3]],
        labels: [
            ("k".to_string(), "v".to_string()),
            (String::new(), String::new()),
        ]
        .into(),
        by_number: [
            (-5, wire::Point { x: 5, y: 5 }),
            (0, wire::Point { x: 0, y: 1 }),
        ]
        .into(),
        by_colour: [(wire::Colour::Green, 2), (wire::Colour::Blue, 0)].into(),
        groups: [
            ("g".to_string(), vec!["x".to_string()]),
            ("empty".to_string(), vec![]),
        ]
        .into(),
        maybe_list: Some(vec!["m".into()]),
        renamed: "renamed".into(),
        shapes: vec![
            wire::Shape::Radius(2.5),
            wire::Shape::Label(String::new()),
            wire::Shape::Radius(0.0),
        ],
        stamps: vec![
            "1970-01-01T00:00:00Z".parse().unwrap(),
            "1969-12-31T23:59:59.5Z".parse().unwrap(),
        ],
    }
}

/// The cases every transport must pass, through a client that stands in for the service.
async fn conformance(client: &impl Echo, transport: &str) {
    let ctx = Context::new();
    for value in [full(), EchoImpl::empty()] {
        let back = client.echo(ctx.clone(), value.clone()).await;
        assert_eq!(back.as_ref().ok(), Some(&value), "{transport}: {back:?}");
    }

    // A result that is not a record; a header parameter; an optional one left out.
    let n = client
        .numbers(ctx.clone(), 3, Some("ab".into()), Some(10))
        .await
        .unwrap();
    assert_eq!(n, [2, 12, 22], "{transport}");
    let n = client.numbers(ctx.clone(), 2, None, None).await.unwrap();
    assert_eq!(n, [0, 1], "{transport}");
    let n = client.numbers(ctx.clone(), 0, None, None).await.unwrap();
    assert!(n.is_empty(), "{transport}");

    // A declared error with its payload, decoded into its type.
    match client.refuse(ctx.clone(), "no".into()).await {
        Err(wire::echo::RefuseError::Refused(r)) => {
            assert_eq!(
                (r.reason.as_str(), r.colour),
                ("no", wire::Colour::Green),
                "{transport}"
            );
        }
        other => panic!("{transport}: expected Refused, got {other:?}"),
    }

    // Every violation, with its path and rule.
    match client.checked(ctx.clone(), "x".into(), 0).await {
        Err(wire::echo::CheckedError::Other(e)) => {
            assert_eq!(e.kind, Code::InvalidArgument, "{transport}: {e:?}");
            let v = &e.data.as_ref().unwrap()["violations"];
            let got: Vec<(&str, &str)> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|x| (x["path"].as_str().unwrap(), x["rule"].as_str().unwrap()))
                .collect();
            assert_eq!(
                got,
                [("name", "length"), ("count", "range")],
                "{transport}: {v}"
            );
        }
        other => panic!("{transport}: expected a validation error, got {other:?}"),
    }
    let ok = client.checked(ctx.clone(), "fine".into(), 2).await.unwrap();
    assert_eq!((ok.name.as_str(), ok.count), ("fine", 2));

    // The contract's deadline (100 ms) and the caller's, shorter.
    match client.slow(ctx.clone(), 2_000).await {
        Err(wire::echo::SlowError::Other(e)) => {
            assert_eq!(e.kind, Code::DeadlineExceeded, "{transport}: {e:?}");
        }
        other => panic!("{transport}: expected a deadline error, got {other:?}"),
    }
    let hurried = Context::new().with_timeout(std::time::Duration::from_millis(30));
    match client.slow(hurried, 80).await {
        Err(wire::echo::SlowError::Other(e)) => {
            assert_eq!(e.kind, Code::DeadlineExceeded, "{transport}: {e:?}");
        }
        other => panic!("{transport}: expected a deadline error, got {other:?}"),
    }
    client.slow(ctx.clone(), 1).await.unwrap();

    let said = client.say(ctx.clone(), "x".repeat(300), -5).await.unwrap();
    assert_eq!((said.text.len(), said.n), (300, -5), "{transport}");

    client.nothing(ctx.clone()).await.unwrap();
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn the_same_cases_pass_on_every_transport() {
    let (base, stop) = serve().await;
    conformance(
        &wire::EchoJsonRpcClient::new(ClientConfig::new(&base)),
        "JSON-RPC",
    )
    .await;
    conformance(&wire::EchoRestClient::new(ClientConfig::new(&base)), "REST").await;
    conformance(&wire::EchoGrpcClient::new(ClientConfig::new(&base)), "gRPC").await;
    let _ = stop.send(());
    // With an HTTP layer every request takes the router, and gRPC goes through tonic's
    // server (the path compressed requests take) instead of the connection's fast path.
    let (base, stop) = serve_with(Server::new().config(svcc_runtime::ServerConfig {
        cors: Some(tower_http::cors::CorsLayer::permissive()),
        ..Default::default()
    }))
    .await;
    conformance(
        &wire::EchoGrpcClient::new(ClientConfig::new(&base)),
        "gRPC through tonic",
    )
    .await;
    let _ = stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn requests_that_are_not_grpc_or_do_not_decode_get_clear_answers() {
    let (base, stop) = serve().await;
    let http = svcc_runtime::reqwest::Client::new();
    // The rpc's path with JSON: 415, saying what to send.
    let r = http
        .post(format!("{base}/wire.v1.Echo/Echo"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(r.text().await.unwrap().contains("application/grpc"));

    // A message that is not protobuf: INVALID_ARGUMENT, and the server keeps serving.
    let garbage: &[u8] = &[0, 0, 0, 0, 3, 0x0a, 0xff, 0xff];
    let r = svcc_runtime::reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap()
        .post(format!("{base}/wire.v1.Echo/Echo"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(garbage.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "gRPC answers errors in its status");
    // tonic answers a trailers-only response: the status is in the headers.
    assert_eq!(r.headers()["grpc-status"], "3", "{:?}", r.headers());
    let message = r.headers()["grpc-message"]
        .to_str()
        .unwrap()
        .replace("%20", " ");
    assert!(message.contains("request message"), "{message}");

    // A message announced larger than the body limit: refused before it is read.
    let mut huge = vec![0u8, 0x7f, 0xff, 0xff, 0xff];
    huge.extend_from_slice(&[0x0a, 0x01, b'x']);
    let r = svcc_runtime::reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap()
        .post(format!("{base}/wire.v1.Echo/Echo"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["grpc-status"],
        "11",
        "OUT_OF_RANGE: {:?}",
        r.headers()
    );

    let client = wire::EchoGrpcClient::new(ClientConfig::new(&base));
    client.nothing(Context::new()).await.unwrap();

    // An address that answers nothing: UNAVAILABLE, not a hang or a panic.
    let nowhere = wire::EchoGrpcClient::new(
        ClientConfig::new("http://127.0.0.1:9").with_timeout(std::time::Duration::from_secs(2)),
    );
    match nowhere.nothing(Context::new()).await {
        Err(wire::echo::NothingError::Other(e)) => assert_eq!(e.kind, Code::Unavailable, "{e:?}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    let _ = stop.send(());
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn grpc_can_have_an_address_of_its_own() {
    // A free port for the gRPC-only listener (bound again by the server at start).
    let grpc_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = Server::new()
        .config(svcc_runtime::ServerConfig {
            grpc_bind: Some(grpc_addr),
            ..Default::default()
        })
        .service(wire::EchoServer::new(EchoImpl).into_service());
    let done = tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    let own = format!("http://{grpc_addr}");
    let mut served = None;
    for _ in 0..50 {
        let client = wire::EchoGrpcClient::new(ClientConfig::new(&own));
        if let Ok(n) = client.numbers(Context::new(), 2, None, None).await {
            served = Some(n);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(served, Some(vec![0, 1]), "gRPC on its own address");
    // The main port still serves gRPC, and REST.
    let main = wire::EchoGrpcClient::new(ClientConfig::new(&base));
    assert_eq!(
        main.numbers(Context::new(), 1, None, None).await.unwrap(),
        [0]
    );
    let rest = wire::EchoRestClient::new(ClientConfig::new(&base));
    assert_eq!(
        rest.numbers(Context::new(), 1, None, None).await.unwrap(),
        [0]
    );
    // The gRPC address answers nothing else.
    let r = svcc_runtime::reqwest::Client::new()
        .post(format!("{own}/wire/numbers"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("gRPC only"));
    let _ = tx.send(());
    done.await.unwrap().unwrap();
}

/// Hostile bytes never panic the transcoder: random messages, and a real message truncated
/// and with bytes flipped, decode to a value or an error — and what decodes encodes again.
#[test]
fn the_transcoder_survives_any_bytes() {
    use svcc_runtime::grpc::transcode;
    let schema = svcc_codegen_tests::api::GRPC_DESCRIPTOR.schema().unwrap();
    let message = "wire.v1.Everything";
    let value = svcc_runtime::serde_json::to_value(full()).unwrap();
    let good = transcode::from_json(schema, message, &value).unwrap();
    assert_eq!(transcode::to_json(schema, message, &good).unwrap(), value);
    // The one-pass encoder from JSON text (the server's results) writes the same message.
    for v in [full(), EchoImpl::empty()] {
        let text = svcc_runtime::serde_json::to_string(&v).unwrap();
        let bytes = transcode::from_json_text(schema, message, &text).unwrap();
        let back = transcode::to_json(schema, message, &bytes).unwrap();
        assert_eq!(back, svcc_runtime::serde_json::to_value(&v).unwrap());
    }
    // xorshift: deterministic, no dependency.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut decoded, mut refused) = (0, 0);
    for round in 0..20_000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            let len = (next() % 64) as usize;
            (0..len).map(|_| next() as u8).collect()
        } else {
            let mut b = good.clone();
            b.truncate((next() as usize) % (b.len() + 1));
            for _ in 0..(next() % 4) {
                if !b.is_empty() {
                    let i = (next() as usize) % b.len();
                    b[i] = next() as u8;
                }
            }
            b
        };
        match transcode::to_json(schema, message, &bytes) {
            Ok(v) => {
                decoded += 1;
                // Whatever decoded is a value the encoder takes (or refuses in words).
                let _ = transcode::from_json(schema, message, &v);
            }
            Err(e) => {
                refused += 1;
                assert!(!e.is_empty());
            }
        }
    }
    assert!(
        decoded > 0 && refused > 0,
        "{decoded} decoded, {refused} refused"
    );
}

/// Everything the subscriber writes, for the assertions.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `@log` and `@metrics` see gRPC calls as they see the other transports': one event per call
/// with `transport="grpc"` and the sensitive value masked, the call counted under
/// `rpc_system_name="grpc"`.
#[tokio::test]
async fn contract_layers_observe_grpc_calls() {
    const SECRET: &str = "grpc-secret-value-42";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (base, stop) =
        serve_with(Server::new().service(
            wire::ObservedServer::new(svcc_codegen_tests::ObservedEchoImpl).into_service(),
        ))
        .await;
    let client = wire::ObservedGrpcClient::new(ClientConfig::new(&base));
    {
        use wire::Observed as _;
        let ok = client
            .greet(Context::new(), "Ada".into(), SECRET.into())
            .await
            .unwrap();
        assert_eq!(ok.greeting, "hello, Ada");
        match client
            .greet(Context::new(), "Bob".into(), String::new())
            .await
        {
            Err(wire::observed::GreetError::Other(e)) => {
                assert_eq!(e.kind, Code::Unauthenticated)
            }
            other => panic!("expected unauthenticated, got {other:?}"),
        }
    }
    let scrape = svcc_runtime::reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = stop.send(());
    let counted: Vec<&str> = scrape
        .lines()
        .filter(|l| {
            l.starts_with("rpc_server_call_duration_seconds_count")
                && l.contains(r#"rpc_system_name="grpc""#)
                && l.contains(r#"rpc_method="observed.greet""#)
        })
        .collect();
    assert_eq!(
        counted.len(),
        2,
        "an OK and an UNAUTHENTICATED series:\n{scrape}"
    );
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let calls: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("svcc::call") && l.contains("duration_ms="))
        .collect();
    assert_eq!(calls.len(), 2, "one finished event per call:\n{log}");
    for field in ["transport=\"grpc\"", "method=\"greet\"", "outcome=\"ok\""] {
        assert!(calls[0].contains(field), "{field} missing in {}", calls[0]);
    }
    assert!(
        calls[1].contains("code=\"UNAUTHENTICATED\""),
        "{}",
        calls[1]
    );
    assert!(!log.contains(SECRET), "a secret reached the log:\n{log}");
}

/// gzip: a compressed request (which takes tonic's server, not the fast path) is accepted and,
/// as the client accepts gzip, answered compressed.
#[tokio::test(crate = "svcc_runtime::tokio")]
async fn gzip_requests_are_accepted_and_answered_compressed() {
    use svcc_runtime::grpc::{RawCodec, transcode};
    use tonic::codec::CompressionEncoding::Gzip;
    let (base, stop) = serve().await;
    let schema = svcc_codegen_tests::api::GRPC_DESCRIPTOR.schema().unwrap();
    let text = "x".repeat(500);
    let request = json!({"text": text, "n": 3});
    let message = transcode::from_json(schema, "wire.v1.SayRequest", &request).unwrap();
    let channel = tonic::transport::Endpoint::from_shared(base)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel)
        .send_compressed(Gzip)
        .accept_compressed(Gzip);
    grpc.ready().await.unwrap();
    let answer = grpc
        .unary(
            tonic::Request::new(tonic::codegen::Bytes::from(message)),
            tonic::codegen::http::uri::PathAndQuery::from_static("/wire.v1.Echo/Say"),
            RawCodec,
        )
        .await
        .unwrap();
    assert_eq!(
        answer
            .metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip"),
        "{:?}",
        answer.metadata()
    );
    let back = transcode::to_json(schema, "wire.v1.SayResponse", &answer.into_inner()).unwrap();
    assert_eq!(back, request);
    let _ = stop.send(());
}
