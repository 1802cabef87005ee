//! Clients: JSON-RPC 2.0 and REST transports that generated clients build on. Typed errors
//! come back through `Error` (declared errors are recognised by the generated code from
//! `code`); timeouts come from `@timeout` or the context's deadline; headers from the context
//! are sent with every call; each request can be logged as a `curl` command.

use crate::context::Context;
use crate::error::{Code, Error};
use crate::jsonrpc::text_to_json;
use crate::method::{Location, MethodInfo};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
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
        }
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
                        .get_all(axum::http::header::SET_COOKIE)
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
struct Split {
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

/// JSON-RPC params: every parameter except those sent as headers or cookies, as typed JSON.
fn rpc_params(
    info: &MethodInfo,
    req: &impl serde::Serialize,
) -> Result<(Map<String, Value>, Split), Error> {
    let s = split(info, req)?;
    let value = serde_json::to_value(req)
        .map_err(|e| Error::internal(format!("cannot encode the request: {e}")))?;
    let Value::Object(mut params) = value else {
        return Err(Error::internal("the request is not an object"));
    };
    for p in info.params {
        if matches!(p.location, Location::Header(_) | Location::Cookie(_))
            || params.get(p.name).is_some_and(Value::is_null)
        {
            params.remove(p.name);
        }
    }
    Ok((params, s))
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

/// Percent-encodes a path segment or query component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Clone, Debug)]
struct Core {
    config: Arc<ClientConfig>,
}

impl Core {
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
    ) -> Result<(u16, HeaderMap, bytes::Bytes), Error> {
        let mut headers = self.config.headers.clone();
        for (k, v) in &ctx.headers {
            headers.insert(k.clone(), v.clone());
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
                headers.insert(axum::http::header::COOKIE, v);
            }
        }
        if body.is_some() {
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let curl = curl_command(&method, &url, &headers, body.as_deref());
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
        let result = async {
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
        result
    }
}

fn transport_error(e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::new(Code::DeadlineExceeded, format!("the call timed out: {e}"))
    } else {
        Error::unavailable(format!("the call failed: {e}"))
    }
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

/// An error from a JSON-RPC `error` object: the string code from `data.code` when present.
fn error_from_jsonrpc(obj: &Value) -> Error {
    let message = obj
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let num = obj.get("code").and_then(Value::as_i64).unwrap_or(0);
    let mut data = obj.get("data").cloned();
    let code = data
        .as_mut()
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("code"))
        .and_then(|c| c.as_str().map(str::to_string));
    let kind = code
        .as_deref()
        .and_then(Code::from_str_code)
        .or_else(|| Code::from_declared_jsonrpc(num))
        .unwrap_or(match num {
            crate::error::jsonrpc_codes::INVALID_PARAMS
            | crate::error::jsonrpc_codes::INVALID_REQUEST => Code::InvalidArgument,
            crate::error::jsonrpc_codes::METHOD_NOT_FOUND => Code::Unimplemented,
            _ => Code::Internal,
        });
    Error {
        code: code.unwrap_or_else(|| kind.as_str().to_string()),
        message,
        data,
        ..Error::new(kind, "")
    }
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

/// The JSON-RPC 2.0 transport.
#[derive(Clone, Debug)]
pub struct JsonRpcClient {
    core: Core,
    next_id: Arc<std::sync::atomic::AtomicU64>,
}

impl JsonRpcClient {
    pub fn new(config: ClientConfig) -> JsonRpcClient {
        JsonRpcClient {
            core: Core {
                config: Arc::new(config),
            },
            next_id: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        }
    }

    fn url(&self) -> String {
        format!(
            "{}{}",
            self.core.config.base_url, self.core.config.rpc_prefix
        )
    }

    /// Calls one method.
    pub async fn call(
        &self,
        info: &'static MethodInfo,
        req: &impl serde::Serialize,
        ctx: &Context,
    ) -> Result<ClientOutput, Error> {
        let name = info
            .jsonrpc
            .ok_or_else(|| Error::new(Code::Unimplemented, "not served over JSON-RPC"))?;
        let (params, s) = rpc_params(info, req)?;
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body =
            serde_json::json!({ "jsonrpc": "2.0", "method": name, "params": params, "id": id })
                .to_string();
        let timeout = self.core.timeout(Some(info), ctx);
        let (status, headers, bytes) = self
            .core
            .send(
                reqwest::Method::POST,
                self.url(),
                Some(body),
                &s.headers,
                &s.cookies,
                ctx,
                timeout,
            )
            .await?;
        if status != 200 {
            return Err(error_from_rest(status, &bytes));
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::internal(format!("invalid JSON-RPC response: {e}")))?;
        if let Some(err) = v.get("error") {
            return Err(error_from_jsonrpc(err));
        }
        Ok(ClientOutput {
            result: v.get("result").cloned().unwrap_or(Value::Null),
            headers,
            results: info.results,
        })
    }
}

/// The REST transport.
#[derive(Clone, Debug)]
pub struct RestClient {
    core: Core,
}

impl RestClient {
    pub fn new(config: ClientConfig) -> RestClient {
        RestClient {
            core: Core {
                config: Arc::new(config),
            },
        }
    }

    /// Calls one method through its `@http` binding.
    pub async fn call(
        &self,
        info: &'static MethodInfo,
        req: &impl serde::Serialize,
        ctx: &Context,
    ) -> Result<ClientOutput, Error> {
        let binding = info
            .http
            .as_ref()
            .ok_or_else(|| Error::new(Code::Unimplemented, "not served over REST"))?;
        let s = split(info, req)?;
        let mut path = binding.path.to_string();
        for (k, v) in &s.path {
            path = path.replace(&format!("{{{k}}}"), &encode(v));
        }
        let mut url = format!("{}{}", self.core.config.base_url, path);
        if !s.query.is_empty() {
            let q: Vec<String> = s
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        let method =
            reqwest::Method::from_bytes(binding.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let has_body = info.params.iter().any(|p| p.location == Location::Body)
            && !matches!(&*binding.method, "GET" | "DELETE" | "HEAD");
        let body = has_body.then(|| Value::Object(s.body).to_string());
        let timeout = self.core.timeout(Some(info), ctx);
        let (status, headers, bytes) = self
            .core
            .send(method, url, body, &s.headers, &s.cookies, ctx, timeout)
            .await?;
        if status >= 400 {
            return Err(error_from_rest(status, &bytes));
        }
        let result = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| Error::internal(format!("invalid response body: {e}")))?
        };
        Ok(ClientOutput {
            result,
            headers,
            results: info.results,
        })
    }
}

type Outcome = Arc<Mutex<Option<Result<Value, Error>>>>;

/// Calls collected into one JSON-RPC batch request.
#[derive(Debug, Default)]
pub struct Batch {
    calls: Vec<(Value, Outcome)>,
}

/// Where one call's result lands once its batch is sent.
#[derive(Debug)]
pub struct Slot<T, E> {
    outcome: Outcome,
    to_error: fn(Error) -> E,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned, E> Slot<T, E> {
    /// The call's result (an error if the batch was not sent or the call failed).
    pub fn take(self) -> Result<T, E> {
        let taken = self.outcome.lock().map(|mut g| g.take()).unwrap_or(None);
        match taken {
            Some(Ok(v)) => serde_json::from_value(v).map_err(|e| {
                (self.to_error)(Error::internal(format!("cannot decode the result: {e}")))
            }),
            Some(Err(e)) => Err((self.to_error)(e)),
            None => Err((self.to_error)(Error::new(
                Code::FailedPrecondition,
                "the batch was not sent",
            ))),
        }
    }
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Adds a call (generated batch types call this).
    pub fn push<T, E>(
        &mut self,
        info: &'static MethodInfo,
        req: &impl serde::Serialize,
        to_error: fn(Error) -> E,
    ) -> Slot<T, E> {
        let outcome: Outcome = Arc::new(Mutex::new(None));
        let id = self.calls.len() + 1;
        let request = match (info.jsonrpc, rpc_params(info, req)) {
            (Some(name), Ok((params, _))) => Ok(
                serde_json::json!({ "jsonrpc": "2.0", "method": name, "params": params, "id": id }),
            ),
            (None, _) => Err(Error::new(Code::Unimplemented, "not served over JSON-RPC")),
            (_, Err(e)) => Err(e),
        };
        match request {
            Ok(r) => self.calls.push((r, outcome.clone())),
            Err(e) => {
                if let Ok(mut g) = outcome.lock() {
                    *g = Some(Err(e));
                }
            }
        }
        Slot {
            outcome,
            to_error,
            _t: std::marker::PhantomData,
        }
    }

    /// Sends every call in one request; each slot then holds its call's result.
    pub async fn send(&mut self, client: &JsonRpcClient, ctx: &Context) -> Result<(), Error> {
        if self.calls.is_empty() {
            return Ok(());
        }
        let body = Value::Array(self.calls.iter().map(|(r, _)| r.clone()).collect()).to_string();
        let timeout = client.core.timeout(None, ctx);
        let (status, _, bytes) = client
            .core
            .send(
                reqwest::Method::POST,
                client.url(),
                Some(body),
                &[],
                &[],
                ctx,
                timeout,
            )
            .await?;
        if status != 200 {
            return Err(error_from_rest(status, &bytes));
        }
        let replies: Vec<Value> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::internal(format!("invalid batch response: {e}")))?;
        for (i, (_, outcome)) in self.calls.drain(..).enumerate() {
            let id = Value::from(i + 1);
            let reply = replies.iter().find(|r| r.get("id") == Some(&id));
            let result = match reply {
                Some(r) => match r.get("error") {
                    Some(e) => Err(error_from_jsonrpc(e)),
                    None => Ok(r.get("result").cloned().unwrap_or(Value::Null)),
                },
                None => Err(Error::internal("no reply for this call")),
            };
            if let Ok(mut g) = outcome.lock() {
                *g = Some(result);
            }
        }
        Ok(())
    }
}
