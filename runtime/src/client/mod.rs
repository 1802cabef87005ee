//! Clients: JSON-RPC 2.0, REST and gRPC transports that generated clients build on. Typed errors
//! come back through `Error` (declared errors are recognised by the generated code from
//! `code`); timeouts come from `@timeout` or the context's deadline; headers from the context
//! are sent with every call; each request can be logged as a `curl` command.

// Without a transport feature the shared machinery has no user.
// (gRPC uses the core and the config, not the HTTP request machinery.)
#![cfg_attr(not(any(feature = "jsonrpc", feature = "rest")), allow(dead_code))]

use crate::context::Context;
use crate::error::{Code, Error};
use crate::method::text_to_json;

#[cfg(feature = "grpc")]
mod grpc;
#[cfg(feature = "jsonrpc")]
mod jsonrpc;
mod resilience;
#[cfg(feature = "rest")]
mod rest;

pub use resilience::{RetryPolicy, fallback_answers};

use crate::method::{Location, MethodInfo};
use crate::telemetry::Span;
#[cfg(feature = "grpc")]
pub use grpc::GrpcClient;
use http::{HeaderMap, HeaderName, HeaderValue};
#[cfg(feature = "jsonrpc")]
pub use jsonrpc::{Batch, JsonRpcClient, Slot};
#[cfg(feature = "rest")]
pub use rest::RestClient;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// When to log a call as a `curl` command (at `info` level, target `svcc::client`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CurlLog {
    #[default]
    Never,
    Always,
    OnError,
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `http://127.0.0.1:8080` — no trailing slash needed.
    pub base_url: String,
    /// Where the server serves JSON-RPC (default `/rpc`).
    pub rpc_prefix: String,
    /// Timeout when neither `@timeout` nor the context sets one (default 30 s).
    pub default_timeout: Duration,
    /// Headers sent with every call (the context's headers are added per call).
    pub headers: HeaderMap,
    pub curl: CurlLog,
    /// The HTTP client; pass your own for custom TLS, proxies or connection pools.
    pub http: reqwest::Client,
    /// Retries of idempotent methods after an unavailable answer (default: 3 tries in all).
    pub retry: RetryPolicy,
    /// Where methods under `@fallback` keep their last good results (default: in memory,
    /// 10,000 entries, per `ClientConfig`; `RedisCache` shares them between replicas).
    pub fallback: Option<Arc<dyn crate::fallback::FallbackCache>>,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            rpc_prefix: "/rpc".to_string(),
            default_timeout: Duration::from_secs(30),
            headers: HeaderMap::new(),
            curl: CurlLog::Never,
            http: reqwest::Client::new(),
            retry: RetryPolicy::default(),
            fallback: Some(Arc::new(crate::fallback::MemoryCache::default())),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> ClientConfig {
        self.retry = retry;
        self
    }

    /// The store of `@fallback` results (`None`: no fallback answers).
    pub fn with_fallback_cache(
        mut self,
        cache: Option<Arc<dyn crate::fallback::FallbackCache>>,
    ) -> ClientConfig {
        self.fallback = cache;
        self
    }

    /// Uses a caller-supplied HTTP client (custom TLS roots, client certificates, proxies).
    pub fn with_http_client(mut self, client: reqwest::Client) -> ClientConfig {
        self.http = client;
        self
    }

    pub fn with_curl_log(mut self, when: CurlLog) -> ClientConfig {
        self.curl = when;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> ClientConfig {
        self.default_timeout = timeout;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> ClientConfig {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(HeaderName::from_static(name), v);
        }
        self
    }
}

/// A decoded response: the result value and the response headers.
#[derive(Debug)]
pub struct ClientOutput {
    pub result: Value,
    pub headers: HeaderMap,
    results: &'static [crate::method::ResultInfo],
}

impl ClientOutput {
    /// Decodes the result, filling results that travelled in headers or cookies.
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, Error> {
        let mut result = self.result;
        if !self.results.is_empty() {
            let map = match &mut result {
                Value::Object(m) => m,
                _ => return Err(Error::internal("the result is not an object")),
            };
            for r in self.results {
                let text = match &r.location {
                    Location::Header(h) => self
                        .headers
                        .get(h.as_ref())
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                    Location::Cookie(c) => self
                        .headers
                        .get_all(http::header::SET_COOKIE)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .filter_map(|v| v.split(';').next())
                        .filter_map(|kv| kv.split_once('='))
                        .find(|(k, _)| k.trim() == c)
                        .map(|(_, v)| v.to_string()),
                    _ => None,
                };
                if let Some(t) = text
                    && let Ok(v) = text_to_json(r.kind, &t)
                {
                    map.insert(r.name.to_string(), v);
                }
            }
        }
        serde_json::from_value(result)
            .map_err(|e| Error::internal(format!("cannot decode the result: {e}")))
    }
}

/// Splits a request's serialized params by location: body, path, query, headers, cookies.
pub(crate) struct Split {
    body: Map<String, Value>,
    path: Vec<(&'static str, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(&'static str, String)>,
    cookies: Vec<(&'static str, String)>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn split(info: &MethodInfo, req: &impl serde::Serialize) -> Result<Split, Error> {
    let value = serde_json::to_value(req)
        .map_err(|e| Error::internal(format!("cannot encode the request: {e}")))?;
    let Value::Object(mut body) = value else {
        return Err(Error::internal("the request is not an object"));
    };
    let mut s = Split {
        body: Map::new(),
        path: Vec::new(),
        query: Vec::new(),
        headers: Vec::new(),
        cookies: Vec::new(),
    };
    for p in info.params {
        let Some(v) = body.remove(p.name) else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        match &p.location {
            Location::Body => {
                s.body.insert(p.name.to_string(), v);
            }
            Location::Path => s.path.push((p.name, text_of(&v))),
            Location::Query(q) => match v {
                Value::Array(items) => s
                    .query
                    .extend(items.iter().map(|i| (q.to_string(), text_of(i)))),
                other => s.query.push((q.to_string(), text_of(&other))),
            },
            Location::Header(h) => s.headers.push((&**h, text_of(&v))),
            Location::Cookie(c) => s.cookies.push((&**c, text_of(&v))),
        }
    }
    Ok(s)
}

#[derive(Clone, Debug)]
struct Core {
    config: Arc<ClientConfig>,
    breakers: Arc<resilience::Breakers>,
}

impl Core {
    fn new(config: ClientConfig) -> Core {
        Core {
            config: Arc::new(config),
            breakers: Arc::default(),
        }
    }

    /// One call of `info` with its breaker, retries and fallback cache around `attempt`.
    async fn resilient<F, Fut>(
        &self,
        info: &'static MethodInfo,
        req: &impl serde::Serialize,
        ctx: &Context,
        attempt: F,
    ) -> Result<ClientOutput, Error>
    where
        F: Fn(Context) -> Fut,
        Fut: std::future::Future<Output = Result<ClientOutput, Error>>,
    {
        let deadline = std::time::Instant::now() + self.timeout(Some(info), ctx);
        resilience::call(
            info,
            ctx,
            || serde_json::to_value(req).ok(),
            &self.breakers,
            self.config.fallback.as_ref(),
            self.config.retry,
            deadline,
            attempt,
        )
        .await
    }

    fn timeout(&self, info: Option<&MethodInfo>, ctx: &Context) -> Duration {
        ctx.remaining()
            .or_else(|| {
                info.and_then(|i| i.policies.timeout_ms)
                    .map(Duration::from_millis)
            })
            .unwrap_or(self.config.default_timeout)
    }

    /// Sends a request; returns status, headers and body.
    #[allow(clippy::too_many_arguments)] // one private call site per transport
    async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<String>,
        split_headers: &[(&'static str, String)],
        cookies: &[(&'static str, String)],
        ctx: &Context,
        timeout: Duration,
        redact: &(dyn Fn(&mut Value) + Sync),
        traced: Option<Traced>,
    ) -> Result<(u16, HeaderMap, bytes::Bytes), Error> {
        let mut headers = self.config.headers.clone();
        for (k, v) in &ctx.headers {
            // A server's context holds the incoming request's headers: the ones that describe
            // that request's body or connection would corrupt this one.
            if !is_request_specific(k) {
                headers.insert(k.clone(), v.clone());
            }
        }
        // The trace continues: the caller's span (the context's, else the task's current
        // one), through a client span when the method is under `@trace`.
        let parent = ctx.trace.clone().or_else(crate::telemetry::current);
        let mut span = traced
            .filter(|t| t.info.policies.trace)
            .map(|t| t.start(&url, parent.as_ref()));
        match (&span, &parent) {
            (Some(s), _) => s.context().inject(&mut headers),
            (None, Some(p)) => p.inject(&mut headers),
            (None, None) => {
                // Not traced: headers passed on from a server's context must not claim to be.
                headers.remove("traceparent");
                headers.remove("tracestate");
            }
        }
        for (k, v) in split_headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.insert(name, value);
            }
        }
        if !cookies.is_empty() {
            let c: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if let Ok(v) = HeaderValue::from_str(&c.join("; ")) {
                headers.insert(http::header::COOKIE, v);
            }
        }
        if body.is_some() {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let curl = if self.config.curl == CurlLog::Never {
            String::new()
        } else {
            redacted_curl(&method, &url, &headers, body.as_deref(), redact)
        };
        if self.config.curl == CurlLog::Always {
            tracing::info!(target: "svcc::client", "{curl}");
        }
        let mut req = self
            .config
            .http
            .request(method, &url)
            .headers(headers)
            .timeout(timeout);
        if let Some(b) = body {
            req = req.body(b);
        }
        let result: Result<(u16, HeaderMap, bytes::Bytes), Error> = async {
            let resp = req.send().await.map_err(|e| transport_error(&e))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await.map_err(|e| transport_error(&e))?;
            Ok((status, headers, bytes))
        }
        .await;
        let failed = match &result {
            Err(_) => true,
            Ok((status, _, _)) => *status >= 400,
        };
        if failed && self.config.curl == CurlLog::OnError {
            tracing::info!(target: "svcc::client", "{curl}");
        }
        if let Some(span) = &mut span {
            match &result {
                Ok((status, _, _)) => {
                    span.set_attribute("http.response.status_code", i64::from(*status));
                    if *status >= 400 {
                        span.set_attribute("error.type", status.to_string());
                        span.set_error(format!("HTTP {status}"));
                    }
                }
                Err(e) => {
                    span.set_str("error.type", &e.code);
                    span.set_error(e.message.clone());
                }
            }
        }
        result
    }
}

/// Headers a context passed on from a server must not carry into a new request: the body's
/// framing and encoding, the connection's, and the target host.
fn is_request_specific(name: &HeaderName) -> bool {
    use http::header;
    [
        header::CONTENT_LENGTH,
        header::CONTENT_TYPE,
        header::CONTENT_ENCODING,
        header::TRANSFER_ENCODING,
        header::HOST,
        header::CONNECTION,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::EXPECT,
        header::ACCEPT_ENCODING,
        header::PROXY_AUTHORIZATION,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// What a client span is about: the method and the transport carrying it.
#[derive(Clone, Copy, Debug)]
struct Traced {
    info: &'static MethodInfo,
    rest: bool,
}

impl Traced {
    /// A client span named and attributed as the OpenTelemetry RPC/HTTP conventions ask.
    fn start(self, url: &str, parent: Option<&crate::telemetry::SpanContext>) -> Span {
        use crate::telemetry::SpanKind;
        let info = self.info;
        let http = info.http.as_ref().filter(|_| self.rest);
        let name = match http {
            Some(h) => format!("{} {}", h.method, h.path),
            None => format!("{}/{}", info.service, info.name),
        };
        let mut span = Span::start(&name, SpanKind::Client, parent);
        if span.is_recording() {
            match http {
                Some(h) => {
                    span.set_str("http.request.method", &h.method);
                    span.set_str("url.template", &h.path);
                }
                None => {
                    span.set_str("rpc.system", "jsonrpc");
                    span.set_str("rpc.jsonrpc.version", "2.0");
                }
            }
            span.set_str("rpc.service", info.service);
            span.set_str("rpc.method", info.name);
            if let Ok(u) = url.parse::<http::Uri>() {
                if let Some(host) = u.host() {
                    span.set_str("server.address", host);
                }
                if let Some(port) = u.port_u16() {
                    span.set_attribute("server.port", i64::from(port));
                }
            }
        }
        span
    }
}

fn transport_error(e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::new(Code::DeadlineExceeded, format!("the call timed out: {e}"))
    } else {
        Error::unavailable(format!("the call failed: {e}"))
    }
}

/// The call as a `curl` command line for the log: secret headers and the body's `@sensitive`
/// values masked (`redact` knows where they stand in this call's body).
fn redacted_curl(
    method: &reqwest::Method,
    url: &str,
    headers: &HeaderMap,
    body: Option<&str>,
    redact: &(dyn Fn(&mut Value) + Sync),
) -> String {
    let mut shown = headers.clone();
    for name in crate::mask::SECRET_HEADERS {
        if shown.contains_key(*name) {
            shown.insert(*name, HeaderValue::from_static("***"));
        }
    }
    let body = body.map(|b| match serde_json::from_str::<Value>(b) {
        Ok(mut v) => {
            redact(&mut v);
            v.to_string()
        }
        Err(_) => b.to_string(),
    });
    curl_command(method, url, &shown, body.as_deref())
}

/// The call as a `curl` command line.
pub fn curl_command(
    method: &reqwest::Method,
    url: &str,
    headers: &HeaderMap,
    body: Option<&str>,
) -> String {
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut parts = vec![
        "curl".to_string(),
        "-X".to_string(),
        method.to_string(),
        q(url),
    ];
    for (k, v) in headers {
        parts.push("-H".to_string());
        parts.push(q(&format!("{}: {}", k, v.to_str().unwrap_or(""))));
    }
    if let Some(b) = body {
        parts.push("--data-raw".to_string());
        parts.push(q(b));
    }
    parts.join(" ")
}

/// An error from a REST error body `{code, message, data}`.
fn error_from_rest(status: u16, body: &[u8]) -> Error {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = v.get("code").and_then(Value::as_str).map(str::to_string);
    let kind = code
        .as_deref()
        .and_then(Code::from_str_code)
        .unwrap_or_else(|| Code::from_http_status(status));
    Error {
        code: code.unwrap_or_else(|| kind.as_str().to_string()),
        message: v
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| format!("HTTP {status}"), str::to_string),
        data: v.get("data").cloned(),
        http_status: Some(status),
        ..Error::new(kind, "")
    }
}
