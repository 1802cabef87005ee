//! The request context handed to every handler, and the call context a client sends with.

use crate::auth::Claims;
use crate::telemetry::SpanContext;
use http::HeaderMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a handler knows about the request besides its parameters.
///
/// Clients accept the same type: its headers are sent with the call and its deadline bounds
/// the call's timeout, so a handler can pass its own context on to the services it calls.
///
/// Its `Debug` shows secret headers (`Authorization`, `Cookie`, …) as `***`, so logging a
/// context does not log a token.
#[derive(Clone, Default)]
pub struct Context {
    /// The request id: from the configured header (default `X-Request-Id`), or a new UUID v4.
    /// Shared, not copied: the call log, the span and the handler read the same text.
    pub request_id: Arc<str>,
    /// The peer address, when the server knows it.
    pub client_addr: Option<SocketAddr>,
    /// The request headers (on a client: headers to send).
    pub headers: HeaderMap,
    /// When the call must be finished (`@timeout`, or a caller's deadline).
    pub deadline: Option<Instant>,
    /// The verified access token's claims, on methods under `@security(bearer)` (read them
    /// with [`Context::claims`]).
    pub claims: Option<Arc<Claims>>,
    /// The trace this call belongs to: on a server, the call's own span (`@trace`); on a
    /// client, the span to continue (default: the span of the call the task is serving).
    pub trace: Option<SpanContext>,
    /// The database transaction the call is in: set by [`crate::db::Db::transaction`] on
    /// the context it hands its closure (public so that `Context { …, ..Context::new() }`
    /// keeps working; a `Tx` cannot be made any other way).
    #[cfg(feature = "postgres")]
    pub tx: Option<crate::db::Tx>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Headers<'a>(&'a HeaderMap);
        impl std::fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(k, v)| {
                        let secret = crate::mask::SECRET_HEADERS.contains(&k.as_str());
                        (
                            k.as_str(),
                            if secret {
                                "***"
                            } else {
                                v.to_str().unwrap_or("…")
                            },
                        )
                    }))
                    .finish()
            }
        }
        f.debug_struct("Context")
            .field("request_id", &self.request_id)
            .field("client_addr", &self.client_addr)
            .field("headers", &Headers(&self.headers))
            .field("deadline", &self.deadline)
            .field("claims", &self.claims)
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// An empty context (for clients and tests).
    pub fn new() -> Context {
        Context::default()
    }

    /// Adds a header to send (clients) — returns the context for chaining.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Context {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Context {
        self.deadline = Some(Instant::now() + timeout);
        self
    }

    /// The verified access token's claims: `Some` in every method under `@security(bearer)`
    /// that is not `@public` (the server refuses the call before the handler otherwise).
    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_deref()
    }

    /// The caller's user id (`sub` of the verified token).
    pub fn subject(&self) -> Option<&str> {
        self.claims().map(|c| c.sub.as_str())
    }

    /// The trace id as 32 hex digits, when the call is traced.
    pub fn trace_id(&self) -> Option<String> {
        self.trace.as_ref().map(|t| t.trace_id.to_string())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A cookie's value from the `Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// Whether the call is in a database transaction (statements and emitted events with
    /// this context go through it).
    #[cfg(feature = "postgres")]
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_hides_secret_headers() {
        let ctx = super::Context::new()
            .with_header("authorization", "Bearer abc.def.ghi")
            .with_header("cookie", "session=s3cret")
            .with_header("x-request-source", "app");
        let text = format!("{ctx:?}");
        assert!(
            !text.contains("abc.def.ghi") && !text.contains("s3cret"),
            "{text}"
        );
        assert!(text.contains("\"authorization\": \"***\""), "{text}");
        assert!(text.contains("\"x-request-source\": \"app\""), "{text}");
    }
}
