//! One layer that gives every request an id and echoes it on the response: the incoming
//! `x-request-id` (or the configured header) when the caller sent a valid one, else a fresh
//! UUID v4. It replaces tower-http's `SetRequestId` + `PropagateRequestId` pair, which cost two
//! service wrappers and two futures per request on the hot path (measured with
//! `scripts/bench-jsonrpc-instructions`); the id is stored as tower-http's `RequestId`
//! extension, so readers are unchanged.

use axum::http::{HeaderName, HeaderValue, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower_http::request_id::RequestId;

/// Sets and propagates the request id header.
#[derive(Clone, Debug)]
pub(crate) struct RequestIdLayer {
    header: HeaderName,
}

impl RequestIdLayer {
    pub(crate) fn new(header: HeaderName) -> RequestIdLayer {
        RequestIdLayer { header }
    }
}

impl<S> tower::Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;
    fn layer(&self, inner: S) -> RequestIdService<S> {
        RequestIdService {
            inner,
            header: self.header.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct RequestIdService<S> {
    inner: S,
    header: HeaderName,
}

/// A fresh id: a UUID v4 formatted on the stack.
fn fresh() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}

impl<S, B, R> tower::Service<Request<B>> for RequestIdService<S>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let id = match req.headers().get(&self.header) {
            // Only ids that are printable text are kept (they end up in logs and responses).
            Some(v) if !v.is_empty() && v.to_str().is_ok() => v.clone(),
            _ => {
                let v = fresh();
                req.headers_mut().insert(self.header.clone(), v.clone());
                v
            }
        };
        req.extensions_mut().insert(RequestId::new(id.clone()));
        RequestIdFuture {
            inner: self.inner.call(req),
            echo: Some((self.header.clone(), id)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner response, with the id header added unless the handler set its own.
    pub(crate) struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        echo: Option<(HeaderName, HeaderValue)>,
    }
}

impl<F, R, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.inner.poll(cx))?;
        if let Some((name, value)) = this.echo.take() {
            res.headers_mut().entry(name).or_insert(value);
        }
        Poll::Ready(Ok(res))
    }
}
