//! A real OTLP receiver for tests: an HTTP/1.1 + HTTP/2 (cleartext) server on loopback that
//! accepts OTLP/HTTP protobuf exports (`POST /v1/traces`, `POST /v1/logs`) and OTLP/gRPC
//! exports (`…TraceService/Export`, `…LogsService/Export`, answered with `grpc-status: 0`),
//! and decodes every body with the `opentelemetry-proto` definitions — the same the
//! OpenTelemetry Collector uses — so what the runtime encodes is checked by an independent
//! decoder, not by itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Frame;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
pub use opentelemetry_proto::tonic::logs::v1::LogRecord;
pub use opentelemetry_proto::tonic::trace::v1::Span;
pub use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

/// A received span with the `service.name` of the resource that sent it.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub service: String,
    pub span: Span,
}

/// A received log record with its resource's `service.name`.
#[derive(Clone, Debug)]
pub struct ReceivedLog {
    pub service: String,
    pub record: LogRecord,
}

#[derive(Default)]
struct Store {
    spans: Vec<ReceivedSpan>,
    logs: Vec<ReceivedLog>,
    /// Bodies that did not decode (the test fails on any).
    errors: Vec<String>,
    requests: usize,
}

/// The running receiver; stops with the test process.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    store: Arc<Mutex<Store>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Receiver {
    /// Starts on `127.0.0.1:0`, on a thread of its own.
    pub fn start() -> Receiver {
        Receiver::start_on("127.0.0.1:0").unwrap()
    }

    /// Starts on `addr`, on a thread of its own.
    pub fn start_on(addr: &str) -> std::io::Result<Receiver> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let store = Arc::new(Mutex::new(Store::default()));
        let shared = store.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(serve(listener, shared));
        });
        Ok(Receiver { addr, store })
    }

    /// The base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.check();
        self.store.lock().unwrap().spans.clone()
    }

    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.check();
        self.store.lock().unwrap().logs.clone()
    }

    /// How many export requests arrived.
    pub fn requests(&self) -> usize {
        self.store.lock().unwrap().requests
    }

    fn check(&self) {
        let errors = self.store.lock().unwrap().errors.clone();
        assert!(errors.is_empty(), "undecodable OTLP bodies: {errors:?}");
    }

    /// Waits (at most 20 s) until `ready` holds for the spans received so far.
    pub fn wait_for_spans(&self, ready: impl Fn(&[ReceivedSpan]) -> bool) -> Vec<ReceivedSpan> {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let spans = self.spans();
            if ready(&spans) || Instant::now() > until {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (at most 20 s) until `ready` holds for the log records received so far.
    pub fn wait_for_logs(&self, ready: impl Fn(&[ReceivedLog]) -> bool) -> Vec<ReceivedLog> {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let logs = self.logs();
            if ready(&logs) || Instant::now() > until {
                return logs;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A span's attribute as text (strings as they are, other values formatted).
pub fn attribute(span: &Span, key: &str) -> Option<String> {
    attr(&span.attributes, key)
}

/// A log record's attribute as text.
pub fn log_attribute(record: &LogRecord, key: &str) -> Option<String> {
    attr(&record.attributes, key)
}

fn attr(list: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<String> {
    let kv = list.iter().find(|kv| kv.key == key)?;
    Some(match kv.value.as_ref()?.value.as_ref()? {
        AnyValue::StringValue(s) => s.clone(),
        AnyValue::IntValue(i) => i.to_string(),
        AnyValue::BoolValue(b) => b.to_string(),
        AnyValue::DoubleValue(d) => d.to_string(),
        other => format!("{other:?}"),
    })
}

/// Lowercase hex, as ids are written in `traceparent` and log lines.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn serve(listener: std::net::TcpListener, store: Arc<Mutex<Store>>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, store.clone()));
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
        });
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

async fn handle(
    req: http::Request<hyper::body::Incoming>,
    store: Arc<Mutex<Store>>,
) -> Result<http::Response<Body>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let grpc = req
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    let body = req.into_body().collect().await.map(|c| c.to_bytes());
    let Ok(body) = body else {
        return Ok(status(400));
    };
    let message = if grpc {
        // One length-prefixed, uncompressed message.
        if body.len() < 5 || body[0] != 0 {
            store
                .lock()
                .unwrap()
                .errors
                .push(format!("bad gRPC frame on {path}"));
            return Ok(grpc_reply(13));
        }
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        body.slice(5..(5 + len).min(body.len()))
    } else {
        body
    };
    let kind = match path.as_str() {
        "/v1/traces" | "/opentelemetry.proto.collector.trace.v1.TraceService/Export" => "traces",
        "/v1/logs" | "/opentelemetry.proto.collector.logs.v1.LogsService/Export" => "logs",
        _ => return Ok(status(404)),
    };
    let mut s = store.lock().unwrap();
    s.requests += 1;
    let ok = if kind == "traces" {
        match ExportTraceServiceRequest::decode(message) {
            Ok(req) => {
                for rs in req.resource_spans {
                    let service = rs
                        .resource
                        .as_ref()
                        .and_then(|r| attr(&r.attributes, "service.name"))
                        .unwrap_or_default();
                    for ss in rs.scope_spans {
                        for span in ss.spans {
                            s.spans.push(ReceivedSpan {
                                service: service.clone(),
                                span,
                            });
                        }
                    }
                }
                true
            }
            Err(e) => {
                s.errors.push(format!("traces: {e}"));
                false
            }
        }
    } else {
        match ExportLogsServiceRequest::decode(message) {
            Ok(req) => {
                for rl in req.resource_logs {
                    let service = rl
                        .resource
                        .as_ref()
                        .and_then(|r| attr(&r.attributes, "service.name"))
                        .unwrap_or_default();
                    for sl in rl.scope_logs {
                        for record in sl.log_records {
                            s.logs.push(ReceivedLog {
                                service: service.clone(),
                                record,
                            });
                        }
                    }
                }
                true
            }
            Err(e) => {
                s.errors.push(format!("logs: {e}"));
                false
            }
        }
    };
    drop(s);
    Ok(match (grpc, ok) {
        (true, true) => grpc_reply(0),
        (true, false) => grpc_reply(3),
        // An empty Export…ServiceResponse is an empty protobuf body.
        (false, true) => {
            let mut r = http::Response::new(Full::new(Bytes::new()).boxed());
            r.headers_mut().insert(
                "content-type",
                http::HeaderValue::from_static("application/x-protobuf"),
            );
            r
        }
        (false, false) => status(400),
    })
}

fn status(code: u16) -> http::Response<Body> {
    let mut r = http::Response::new(Full::new(Bytes::new()).boxed());
    *r.status_mut() = http::StatusCode::from_u16(code).unwrap();
    r
}

/// A gRPC answer: an empty message, then `grpc-status` in the trailers.
fn grpc_reply(code: u32) -> http::Response<Body> {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from(code));
    let mut frames = std::collections::VecDeque::new();
    if code == 0 {
        frames.push_back(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 0])));
    }
    frames.push_back(Frame::trailers(trailers));
    let mut r = http::Response::new(Frames(frames).boxed());
    r.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    r
}

/// A body of ready frames (data, then trailers).
struct Frames(std::collections::VecDeque<Frame<Bytes>>);

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(Ok))
    }
}
