//! The per-connection service every request passes through once: request ids, the body limit,
//! the request timeout, panic safety — then fast-path URLs (JSON-RPC's) are answered directly
//! (one exact-path lookup; no router, no boxed middleware stack) and everything else (REST
//! routes, hand-written routes, health, the OpenAPI document, 404) goes to the axum router
//! built at start-up.

use super::transport::FastPath;
use super::watchdog::{Busy, Clock, Limits};
use crate::context::Context;
use crate::error::{Code, Error};
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, Version};
use futures_util::FutureExt as _;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tower::ServiceExt as _;

/// What every connection of one server shares, built once at start-up.
pub(crate) struct Shared {
    /// Fast-path handlers by exact path (JSON-RPC's `/rpc`, `/rpc/userService`,
    /// `/rpc/userService.get`).
    pub fast: HashMap<String, FastPath>,
    /// Everything else.
    pub router: axum::Router,
    pub body_limit: usize,
    pub request_id_header: HeaderName,
    /// The header that raises a request's log level, when allowed.
    pub log_level_header: Option<HeaderName>,
    pub request_timeout: Duration,
    pub limits: Limits,
}

/// One connection's service.
#[derive(Clone)]
pub(crate) struct Dispatch(Arc<Conn>);

pub(crate) struct Conn {
    pub shared: Arc<Shared>,
    pub peer: Option<SocketAddr>,
    pub clock: Arc<Clock>,
    /// Accepted on the gRPC-only address (`ServerConfig::grpc_bind`): anything but gRPC is 404.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub grpc_only: bool,
}

impl Dispatch {
    pub(crate) fn new(conn: Arc<Conn>) -> Dispatch {
        Dispatch(conn)
    }
}

type Reply = Response<axum::body::Body>;

/// A caught panic's payload.
type Panic = Box<dyn std::any::Any + Send>;

impl hyper::service::Service<Request<Incoming>> for Dispatch {
    type Response = Reply;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Reply, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let conn = self.0.clone();
        let shared = &*conn.shared;
        let id = request_id(req.headers().get(&shared.request_id_header));
        let text = id.to_str().unwrap_or_default().to_string();
        let busy = conn.clock.begin();
        if req.version() == Version::HTTP_2 {
            // HTTP/2 streams run in tasks of their own, out of reach of the connection clock.
            return Box::pin(async move {
                let _busy = busy;
                let limit = conn.shared.request_timeout;
                let work = AssertUnwindSafe(handle(conn.clone(), req, text)).catch_unwind();
                let outcome = tokio::time::timeout(limit, work).await.ok();
                Ok(finish(&conn.shared, outcome, id))
            });
        }
        // HTTP/1: one boxed future, polled by the connection's task, so the clock reaches it.
        let limit = shared.limits.request;
        Box::pin(Answer {
            inner: AssertUnwindSafe(handle(conn.clone(), req, text)).catch_unwind(),
            busy,
            limit,
            conn,
            id: Some(id),
        })
    }
}

pin_project_lite::pin_project! {
    /// An HTTP/1 request's answer: the handler's response, 500 after a panic or 408 once the
    /// request is overdue — with the request id echoed.
    struct Answer<F> {
        #[pin]
        inner: F,
        busy: Busy,
        limit: u32,
        conn: Arc<Conn>,
        id: Option<HeaderValue>,
    }
}

impl<F: Future<Output = Result<Reply, Panic>>> Future for Answer<F> {
    type Output = Result<Reply, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = match this.inner.poll(cx) {
            Poll::Ready(r) => Some(r),
            Poll::Pending if this.busy.overdue(*this.limit) => None,
            Poll::Pending => return Poll::Pending,
        };
        let id = this.id.take().unwrap_or(HeaderValue::from_static("-"));
        Poll::Ready(Ok(finish(&this.conn.shared, outcome, id)))
    }
}

/// The response for a handler's outcome (`None`: overdue), with the request id echoed unless
/// the handler set its own.
fn finish(shared: &Shared, outcome: Option<Result<Reply, Panic>>, id: HeaderValue) -> Reply {
    let mut res = match outcome {
        Some(Ok(res)) => res,
        Some(Err(_)) => crate::server::error_response(&Error::internal("the handler panicked")),
        None => {
            let e = Error {
                http_status: Some(408),
                ..Error::new(
                    Code::DeadlineExceeded,
                    format!(
                        "the request was not answered within {} ms",
                        shared.request_timeout.as_millis()
                    ),
                )
            };
            crate::server::error_response(&e)
        }
    };
    res.headers_mut()
        .entry(&shared.request_id_header)
        .or_insert(id);
    res
}

/// The request id: the caller's (`X-Request-Id` or the configured header) when it is printable
/// text, else a fresh UUID v4.
fn request_id(sent: Option<&HeaderValue>) -> HeaderValue {
    match sent {
        Some(v) if !v.is_empty() && v.to_str().is_ok() => v.clone(),
        _ => fresh_request_id(),
    }
}

/// A fresh id: a UUID v4 (from a thread-local RNG, `uuid/fast-rng`) formatted on the stack.
fn fresh_request_id() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}

/// Fast-path URLs are answered here; the rest goes to the router. The router's future is
/// boxed so that this future — moved once into its box per request — stays small.
async fn handle(conn: Arc<Conn>, req: Request<Incoming>, request_id: String) -> Reply {
    // `X-Log-Level: debug` (when the server lets requests raise their level).
    let raised = conn
        .shared
        .log_level_header
        .as_ref()
        .and_then(|h| req.headers().get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(crate::log_level::parse);
    match raised {
        None => serve(conn, req, request_id).await,
        Some(level) => {
            let scoped: Pin<Box<dyn Future<Output = Reply> + Send>> = Box::pin(
                crate::log_level::scope(Some(level), serve(conn, req, request_id)),
            );
            scoped.await
        }
    }
}

async fn serve(conn: Arc<Conn>, req: Request<Incoming>, request_id: String) -> Reply {
    let shared = &*conn.shared;
    #[cfg(feature = "grpc")]
    if conn.grpc_only && !super::transport::grpc::is_grpc(req.headers()) {
        return crate::server::error_response(&Error {
            http_status: Some(404),
            ..Error::new(
                Code::NotFound,
                "this address serves gRPC only (`content-type: application/grpc`)",
            )
        });
    }
    // A body declared larger than the limit is refused before any route sees it — after it has
    // been read and thrown away (up to a bound), so that a client which writes its whole body
    // before reading gets the 413 rather than a broken pipe.
    let declared = hyper::body::Body::size_hint(req.body()).upper();
    if declared.is_some_and(|n| n > shared.body_limit as u64) {
        // A client waiting for `100 Continue` has sent nothing yet: refuse without reading.
        let waiting = req
            .headers()
            .get(axum::http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let drained = !waiting && drain(req.into_body()).await;
        let mut res = too_large();
        if !drained {
            // Too much, too slow, or never sent: say the connection ends here.
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                HeaderValue::from_static("close"),
            );
        }
        return res;
    }
    if req.method() == Method::POST
        && let Some(fast) = shared.fast.get(req.uri().path())
        && fast.accepts(req.headers())
    {
        let (parts, body) = req.into_parts();
        let ctx = Context {
            request_id,
            client_addr: conn.peer,
            headers: parts.headers,
            deadline: None,
            claims: None,
            trace: None,
            #[cfg(feature = "postgres")]
            tx: None,
        };
        return match read_body(body, shared.body_limit).await {
            Ok(bytes) => fast.handle(ctx, bytes).await,
            Err(res) => res,
        };
    }
    let (mut parts, body) = req.into_parts();
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        parts
            .extensions
            .insert(tower_http::request_id::RequestId::new(id));
    }
    if let Some(peer) = conn.peer {
        parts.extensions.insert(ConnectInfo(peer));
    }
    let req = Request::from_parts(parts, axum::body::Body::new(body));
    let routed: Pin<Box<dyn Future<Output = Result<Reply, Infallible>> + Send>> =
        Box::pin(shared.router.clone().oneshot(req));
    match routed.await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// The whole body, or the error response: 413 over the limit (checked against
/// `Content-Length` first), 400 when the body breaks off.
async fn read_body(body: Incoming, limit: usize) -> Result<bytes::Bytes, Reply> {
    use http_body_util::BodyExt as _;
    let declared = hyper::body::Body::size_hint(&body).upper();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(crate::server::error_response(&Error::invalid_argument(
            format!("cannot read the body: {e}"),
        ))),
    }
}

/// At most this much of a refused body is read and discarded, for at most [`DRAIN_TIME`];
/// beyond either, the connection is closed (as nginx's lingering close does).
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads `body` to its end and drops it; `false` when it was longer than [`DRAIN_BYTES`],
/// slower than [`DRAIN_TIME`] or broken.
async fn drain(mut body: Incoming) -> bool {
    use http_body_util::BodyExt as _;
    let read = async {
        let mut seen = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return false;
            };
            if let Some(data) = frame.data_ref() {
                seen += data.len() as u64;
                if seen > DRAIN_BYTES {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}

pub(crate) fn too_large() -> Reply {
    let err = Error {
        http_status: Some(413),
        ..Error::new(Code::ResourceExhausted, "the request body is too large")
    };
    crate::server::error_response(&err)
}
