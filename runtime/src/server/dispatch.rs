//! The per-connection service every request passes through once: request ids, the body limit,
//! the request timeout, panic safety — then fast-path URLs (JSON-RPC's) are answered directly
//! (one exact-path lookup; no router, no boxed middleware stack) and everything else (REST
//! routes, hand-written routes, health, the OpenAPI document, 404) goes to the axum router
//! built at start-up.

use super::connections::Connections;
use super::refusal::{Shape, too_large_error};
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
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Every connection: the cap, the phase of a stop.
    pub connections: Arc<Connections>,
    /// Where JSON-RPC is served (its refusals take JSON-RPC's shape there).
    pub rpc_prefix: Option<String>,
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
    /// Whether the connection speaks HTTP/2 (set by its first request).
    pub h2: AtomicBool,
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
        let (id, text) = request_id(req.headers().get(&shared.request_id_header));
        let shape = Shape::for_request(shared, req.headers(), req.uri().path());
        let busy = conn.clock.begin();
        if req.version() == Version::HTTP_2 {
            conn.h2.store(true, Ordering::Relaxed);
            // HTTP/2 streams are polled apart from the connection (`streams.rs`), out of reach
            // of its clock.
            return Box::pin(async move {
                let _busy = busy;
                let limit = conn.shared.request_timeout;
                let work = AssertUnwindSafe(handle(conn.clone(), req, text, shape)).catch_unwind();
                let outcome = tokio::time::timeout(limit, work).await.ok();
                Ok(finish(&conn.shared, outcome, id, shape, false))
            });
        }
        // HTTP/1: one boxed future, polled by the connection's task, so the clock reaches it.
        let limit = shared.limits.request;
        Box::pin(Answer {
            inner: AssertUnwindSafe(handle(conn.clone(), req, text, shape)).catch_unwind(),
            busy,
            limit,
            conn,
            id: Some(id),
            shape,
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
        shape: Shape,
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
        Poll::Ready(Ok(finish(
            &this.conn.shared,
            outcome,
            id,
            *this.shape,
            true,
        )))
    }
}

/// The response for a handler's outcome (`None`: overdue), with the request id echoed unless
/// the handler set its own — and, on HTTP/1.1 while the server is stopping, `Connection:
/// close`, so the client takes its next request elsewhere.
fn finish(
    shared: &Shared,
    outcome: Option<Result<Reply, Panic>>,
    id: HeaderValue,
    shape: Shape,
    http1: bool,
) -> Reply {
    let mut res = match outcome {
        Some(Ok(res)) => res,
        Some(Err(_)) => shape.answer(&Error::internal("the handler panicked")),
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
            shape.answer(&e)
        }
    };
    res.headers_mut()
        .entry(&shared.request_id_header)
        .or_insert(id);
    if http1 && shared.connections.leaving() {
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    res
}

/// The longest request id taken from a caller (longer ones are replaced, not echoed).
const MAX_REQUEST_ID: usize = 128;

/// The request id: the caller's (`X-Request-Id` or the configured header) when it is printable
/// text of at most [`MAX_REQUEST_ID`] bytes, else a fresh UUID v4; as the header to echo and as
/// the text the call's context holds (read once, not checked again).
fn request_id(sent: Option<&HeaderValue>) -> (HeaderValue, Arc<str>) {
    if let Some(v) = sent
        && !v.is_empty()
        && v.len() <= MAX_REQUEST_ID
        && let Ok(text) = v.to_str()
    {
        return (v.clone(), Arc::from(text));
    }
    fresh_request_id()
}

/// A fresh id: a UUID v4 (from a thread-local RNG, `uuid/fast-rng`) formatted on the stack.
fn fresh_request_id() -> (HeaderValue, Arc<str>) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text: &str = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    match HeaderValue::from_str(text) {
        Ok(header) => (header, Arc::from(text)),
        Err(_) => (HeaderValue::from_static("-"), Arc::from("-")),
    }
}

/// Fast-path URLs are answered here; the rest goes to the router. The router's future is
/// boxed so that this future — moved once into its box per request — stays small.
async fn handle(
    conn: Arc<Conn>,
    req: Request<Incoming>,
    request_id: Arc<str>,
    shape: Shape,
) -> Reply {
    // `X-Log-Level: debug` (when the server lets requests raise their level).
    let raised = conn
        .shared
        .log_level_header
        .as_ref()
        .and_then(|h| req.headers().get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(crate::log_level::parse);
    match raised {
        None => serve(conn, req, request_id, shape).await,
        Some(level) => {
            let scoped: Pin<Box<dyn Future<Output = Reply> + Send>> = Box::pin(
                crate::log_level::scope(Some(level), serve(conn, req, request_id, shape)),
            );
            scoped.await
        }
    }
}

async fn serve(
    conn: Arc<Conn>,
    req: Request<Incoming>,
    request_id: Arc<str>,
    shape: Shape,
) -> Reply {
    let shared = &*conn.shared;
    #[cfg(feature = "grpc")]
    if conn.grpc_only && !super::transport::grpc::is_grpc(req.headers()) {
        return shape.answer(&Error {
            http_status: Some(404),
            ..Error::new(
                Code::NotFound,
                "this address serves gRPC only (`content-type: application/grpc`)",
            )
        });
    }
    // A body declared larger than the limit is refused before any route sees it — after it has
    // been read and thrown away (up to a bound), so that a client which writes its whole body
    // before reading gets the 413 rather than a broken pipe or a reset stream.
    let declared = hyper::body::Body::size_hint(req.body()).upper();
    if declared.is_some_and(|n| n > shared.body_limit as u64) {
        // A client waiting for `100 Continue` has sent nothing yet: refuse without reading.
        let waiting = req
            .headers()
            .get(axum::http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let drained = !waiting && drain(req.into_body()).await;
        return too_large(shape, drained);
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
        return match read_body(body, shared.body_limit, shape).await {
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
    // A body that may have content is watched: if a route stops reading it at the limit,
    // its 413 gets this transport's shape and the rest of the body is drained.
    let watched = (!hyper::body::Body::is_end_stream(&body)).then(|| Arc::new(Leftover::default()));
    let body = match &watched {
        Some(w) => axum::body::Body::new(Watched {
            inner: Some(body),
            seen: 0,
            leftover: w.clone(),
        }),
        None => axum::body::Body::new(body),
    };
    let req = Request::from_parts(parts, body);
    let routed: Pin<Box<dyn Future<Output = Result<Reply, Infallible>> + Send>> =
        Box::pin(shared.router.clone().oneshot(req));
    let res = match routed.await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    if res.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
        && let Some(w) = watched
        && let Some(rest) = w.over_limit(shared.body_limit)
    {
        let drained = match rest {
            Some(rest) => drain(rest).await,
            None => true,
        };
        return too_large(shape, drained);
    }
    res
}

/// What a route left of a watched body: how much it read, and the unread rest.
#[derive(Default)]
struct Leftover(std::sync::Mutex<(u64, Option<Incoming>)>);

impl Leftover {
    /// When the route read past `limit`: the unread rest (`None` inside when it read to the
    /// end). `None` when the route stopped under the limit (its 413 is its own).
    fn over_limit(&self, limit: usize) -> Option<Option<Incoming>> {
        let mut g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (seen, rest) = &mut *g;
        (*seen > limit as u64).then(|| rest.take())
    }
}

pin_project_lite::pin_project! {
    /// A request body that counts what is read of it and, when dropped unfinished, leaves
    /// its rest in a [`Leftover`].
    struct Watched {
        inner: Option<Incoming>,
        seen: u64,
        leftover: Arc<Leftover>,
    }

    impl PinnedDrop for Watched {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let mut g = this.leftover.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            g.0 = *this.seen;
            g.1 = this.inner.take();
        }
    }
}

impl hyper::body::Body for Watched {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, hyper::Error>>> {
        let this = self.project();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    *this.seen += d.len() as u64;
                }
            }
            Poll::Ready(None) => *this.inner = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(hyper::body::Body::is_end_stream)
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.as_ref().map_or_else(
            || hyper::body::SizeHint::with_exact(0),
            hyper::body::Body::size_hint,
        )
    }
}

/// The whole body, or the refusal: 413 over the limit (checked against `Content-Length`
/// first; the rest of the body is drained so the client reads the answer), 400 when the body
/// breaks off.
async fn read_body(body: Incoming, limit: usize, shape: Shape) -> Result<bytes::Bytes, Reply> {
    use http_body_util::BodyExt as _;
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    let mut first: Option<bytes::Bytes> = None;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                return Err(shape.answer(&Error::invalid_argument(format!(
                    "cannot read the body: {e}"
                ))));
            }
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = first.as_ref().map_or(0, bytes::Bytes::len) + buf.len() + data.len();
        if total > limit {
            return Err(too_large(shape, drain(body).await));
        }
        // One frame (the common case) is kept without copying.
        match first.take() {
            None if buf.is_empty() => first = Some(data),
            None => buf.extend_from_slice(&data),
            Some(f) => {
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
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

/// 413 in the request's shape; `drained: false` (the body was too much, too slow, or never
/// sent) adds `Connection: close` — the connection ends here.
fn too_large(shape: Shape, drained: bool) -> Reply {
    let mut res = shape.answer(&too_large_error());
    if !drained {
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    res
}
