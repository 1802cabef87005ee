//! The per-connection service every request passes through once: request ids, the body limit,
//! the request timeout, panic safety — then JSON-RPC URLs are answered directly (one
//! exact-path lookup; no router, no boxed middleware stack) and everything else (REST routes,
//! hand-written routes, health, the OpenAPI document, 404) goes to the axum router built at
//! start-up.

use crate::context::Context;
use crate::error::{Code, Error};
use crate::jsonrpc::Endpoint;
use crate::watchdog::{Bounded, Clock, Limits};
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, Version};
use futures_util::FutureExt as _;
use hyper::body::Incoming;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt as _;

/// What every connection of one server shares, built once at start-up.
pub(crate) struct Shared {
    /// JSON-RPC endpoints by exact path (`/rpc`, `/rpc/userService`, `/rpc/userService.get`).
    pub rpc: HashMap<String, Endpoint>,
    /// Everything else.
    pub router: axum::Router,
    pub body_limit: usize,
    pub request_id_header: HeaderName,
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
}

impl Dispatch {
    pub(crate) fn new(conn: Arc<Conn>) -> Dispatch {
        Dispatch(conn)
    }
}

type Reply = Response<axum::body::Body>;

impl hyper::service::Service<Request<Incoming>> for Dispatch {
    type Response = Reply;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Reply, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let conn = self.0.clone();
        Box::pin(async move {
            let shared = conn.shared.clone();
            let header = &shared.request_id_header;
            let id = request_id(req.headers().get(header));
            let h2 = req.version() == Version::HTTP_2;
            let busy = conn.clock.begin();
            let work = std::panic::AssertUnwindSafe(handle(&conn, req, &id)).catch_unwind();
            let outcome = if h2 {
                // HTTP/2 streams run in tasks of their own, out of reach of the connection clock.
                let _busy = busy;
                tokio::time::timeout(shared.request_timeout, work)
                    .await
                    .ok()
            } else {
                Bounded::new(work, busy, shared.limits.request).await
            };
            let mut res = match outcome {
                Some(Ok(res)) => res,
                Some(Err(_)) => {
                    crate::rest::error_response(&Error::internal("the handler panicked"))
                }
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
                    crate::rest::error_response(&e)
                }
            };
            res.headers_mut().entry(header).or_insert(id);
            Ok(res)
        })
    }
}

/// The caller's id when it is printable text, else a fresh UUID v4.
fn request_id(sent: Option<&HeaderValue>) -> HeaderValue {
    match sent {
        Some(v) if !v.is_empty() && v.to_str().is_ok() => v.clone(),
        _ => crate::request_id::fresh(),
    }
}

async fn handle(conn: &Conn, req: Request<Incoming>, id: &HeaderValue) -> Reply {
    let shared = &*conn.shared;
    if req.method() == Method::POST
        && let Some(ep) = shared.rpc.get(req.uri().path())
    {
        let (parts, body) = req.into_parts();
        let ctx = Context {
            request_id: id.to_str().unwrap_or_default().to_string(),
            client_addr: conn.peer,
            headers: parts.headers,
            deadline: None,
            claims: None,
        };
        return match read_body(body, shared.body_limit).await {
            Ok(bytes) => ep.handle(ctx, bytes).await,
            Err(res) => res,
        };
    }
    let (mut parts, body) = req.into_parts();
    parts
        .extensions
        .insert(tower_http::request_id::RequestId::new(id.clone()));
    if let Some(peer) = conn.peer {
        parts.extensions.insert(ConnectInfo(peer));
    }
    let req = Request::from_parts(parts, axum::body::Body::new(body));
    match shared.router.clone().oneshot(req).await {
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
        Err(e) => Err(crate::rest::error_response(&Error::invalid_argument(
            format!("cannot read the body: {e}"),
        ))),
    }
}

pub(crate) fn too_large() -> Reply {
    let err = Error {
        http_status: Some(413),
        ..Error::new(Code::ResourceExhausted, "the request body is too large")
    };
    crate::rest::error_response(&err)
}
