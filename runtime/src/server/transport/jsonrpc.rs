//! The JSON-RPC 2.0 endpoint: requests, notifications, batches, every id form, params by name
//! and by position, the standard error codes, application errors.
//!
//! The method table is built once at start-up; a request costs one parse of the envelope
//! (params stay raw text) and one decode of the params straight into the method's type.

use super::{FastPath, Routes, Setup, Transport};
use crate::context::Context;
use crate::error::{Error, jsonrpc_codes};
use crate::method::{Call, Location, MethodEntry, Params, invoke, text_to_json};
use crate::telemetry::{Span, SpanContext, SpanKind};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

/// The JSON-RPC 2.0 transport: every method with a JSON-RPC name, at `{prefix}` (all),
/// `{prefix}/{service}` and `{prefix}/{method}`, answered on the connection service's fast path.
pub(crate) struct JsonRpc;

impl Transport for JsonRpc {
    fn install(&self, setup: &Setup<'_>, routes: &mut Routes) {
        let cfg = setup.config;
        let mut table: HashMap<&'static str, MethodEntry> = HashMap::new();
        for m in setup.methods {
            if let Some(name) = m.info.jsonrpc {
                table.insert(name, m.clone());
            }
        }
        if table.is_empty() {
            return;
        }
        let table = Arc::new(table);
        let prefix = cfg.rpc_prefix.trim_end_matches('/').to_string();
        let root = if prefix.is_empty() { "/" } else { &prefix };
        let mut endpoints = vec![(
            root.to_string(),
            Endpoint::new(table.clone(), Scope::All, cfg.rpc),
        )];
        for svc in setup.services {
            if svc.methods.iter().any(|m| m.info.jsonrpc.is_some()) {
                endpoints.push((
                    format!("{prefix}/{}", svc.jsonrpc_name),
                    Endpoint::new(table.clone(), Scope::Service(svc.name), cfg.rpc),
                ));
            }
        }
        for name in table.keys() {
            endpoints.push((
                format!("{prefix}/{name}"),
                Endpoint::new(table.clone(), Scope::Method(name), cfg.rpc),
            ));
        }
        let limit = cfg.body_limit;
        for (path, endpoint) in endpoints {
            // POSTs are answered by the connection service (the fast path) — unless the server
            // has HTTP layers (CORS, the user's own), which only the router runs: then this
            // route answers them. Other HTTP methods get 405 with `Allow: POST`.
            let routed = endpoint.clone();
            let router = std::mem::take(&mut routes.router);
            routes.router = router.route(
                &path,
                axum::routing::post(move |req: axum::extract::Request| {
                    let endpoint = routed.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let ctx = super::context(parts);
                        match axum::body::to_bytes(body, limit).await {
                            Ok(bytes) => endpoint.handle(ctx, bytes).await,
                            Err(e) => body_error(&e),
                        }
                    }
                }),
            );
            routes.fast.insert(path, FastPath::JsonRpc(endpoint));
        }
    }
}

/// A body that could not be read, as a JSON-RPC response: 413 over the limit, 400 when it
/// broke off.
fn body_error(e: &axum::Error) -> Response {
    use crate::server::refusal::{Shape, too_large_error};
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return Shape::JsonRpc.answer(&too_large_error());
        }
        source = s.source();
    }
    Shape::JsonRpc.answer(&Error::invalid_argument("the request body broke off"))
}

/// The longest `id` answered (as JSON text: a string's quotes count): an id is echoed in
/// the reply, so one of megabytes would be sent back whole.
const MAX_ID: usize = 256;

/// Limits of the endpoint.
#[derive(Clone, Copy, Debug)]
pub struct RpcConfig {
    /// Most requests in one batch (default 100); a larger batch gets one error.
    pub batch_limit: usize,
    /// How many calls of a batch run at once (default 10). `X-Sync-On: true` runs them in order.
    pub batch_parallelism: usize,
}

impl Default for RpcConfig {
    fn default() -> RpcConfig {
        RpcConfig {
            batch_limit: 100,
            batch_parallelism: 10,
        }
    }
}

/// Which methods an endpoint URL serves.
#[derive(Clone, Debug)]
pub enum Scope {
    All,
    /// One service (`/rpc/userService`).
    Service(&'static str),
    /// One method (`/rpc/userService.create`).
    Method(&'static str),
}

/// A JSON-RPC endpoint: the method table (shared by every URL) and its scope.
#[derive(Clone, Debug)]
pub struct Endpoint {
    table: Arc<HashMap<&'static str, MethodEntry>>,
    scope: Scope,
    config: RpcConfig,
    /// Whether some method is under `@trace` (batches are then spans of their own).
    traced: bool,
}

impl Endpoint {
    pub fn new(
        table: Arc<HashMap<&'static str, MethodEntry>>,
        scope: Scope,
        config: RpcConfig,
    ) -> Endpoint {
        let traced = table.values().any(|e| e.info.policies.trace);
        Endpoint {
            table,
            scope,
            config,
            traced,
        }
    }

    fn lookup(&self, method: &str) -> Option<&MethodEntry> {
        let entry = self.table.get(method)?;
        let visible = match &self.scope {
            Scope::All => true,
            Scope::Service(s) => entry.info.service == *s,
            Scope::Method(m) => method == *m,
        };
        visible.then_some(entry)
    }

    /// Handles one HTTP request body.
    pub async fn handle(&self, ctx: Context, body: bytes::Bytes) -> Response {
        self.respond(ctx, body, true).await
    }

    /// `common`: try the one-pass reading first (off only to compare the two in tests).
    async fn respond(&self, ctx: Context, body: bytes::Bytes, common: bool) -> Response {
        let text = match std::str::from_utf8(&body) {
            Ok(t) => t,
            Err(_) => return json_response(parse_error("the body is not valid UTF-8"), Vec::new()),
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') && !matches!(self.scope, Scope::All) {
            // Batches go to the prefix URL; scoped URLs serve one request at a time.
            let msg =
                "batches are served at the JSON-RPC prefix URL, not at a service's or method's URL";
            return json_response(
                error_reply("null", jsonrpc_codes::INVALID_REQUEST, msg, None),
                Vec::new(),
            );
        }
        if trimmed.starts_with('[') {
            let items: Vec<&RawValue> = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => return json_response(parse_error(&e.to_string()), Vec::new()),
            };
            // Boxed: batches are rare, and their future would otherwise enlarge every request's.
            let batch: futures_util::future::BoxFuture<'_, Response> =
                Box::pin(self.batch(ctx, items));
            return batch.await;
        }
        if common && let Some(req) = self.read_common(text, &body) {
            let (reply, headers) = call_method(req.entry, ctx, req.params, req.id).await;
            return single_response(reply, headers);
        }
        let single: &RawValue = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return json_response(parse_error(&e.to_string()), Vec::new()),
        };
        let (reply, headers) = self.one(ctx, single, Some((&body, text))).await;
        single_response(reply, headers)
    }

    async fn batch(&self, ctx: Context, items: Vec<&RawValue>) -> Response {
        if items.is_empty() {
            return json_response(
                error_reply("null", jsonrpc_codes::INVALID_REQUEST, "empty batch", None),
                Vec::new(),
            );
        }
        if items.len() > self.config.batch_limit {
            let msg = format!(
                "a batch of {} requests exceeds the limit of {}",
                items.len(),
                self.config.batch_limit
            );
            return json_response(
                error_reply("null", jsonrpc_codes::INVALID_REQUEST, &msg, None),
                Vec::new(),
            );
        }
        // Under `@trace`, a batch is a span of its own and its calls are its children.
        let mut ctx = ctx;
        let batch_span = self.traced.then(|| {
            let parent = SpanContext::from_headers(&ctx.headers);
            let mut span = Span::start("jsonrpc batch", SpanKind::Server, parent.as_ref());
            span.set_attribute("rpc.system", "jsonrpc");
            span.set_attribute("rpc.jsonrpc.version", "2.0");
            span.set_attribute("svcc.batch.size", items.len() as i64);
            ctx.trace = Some(span.context().clone());
            span
        });
        let sequential = ctx
            .header("x-sync-on")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut replies: Vec<Option<String>> = Vec::with_capacity(items.len());
        let mut headers = Vec::new();
        if sequential {
            for item in items {
                let (r, h) = self.one(ctx.clone(), item, None).await;
                replies.push(r);
                headers.extend(h);
            }
        } else {
            use futures_util::StreamExt as _;
            let owned: Vec<Box<RawValue>> = items.into_iter().map(ToOwned::to_owned).collect();
            // Spawned calls keep the request's raised log level.
            let level = crate::log_level::raised();
            let mut handles = Vec::with_capacity(owned.len());
            for item in owned {
                let this = self.clone();
                let ctx = ctx.clone();
                handles.push(async move {
                    tokio::spawn(crate::log_level::scope(level, async move {
                        this.one(ctx, &item, None).await
                    }))
                    .await
                });
            }
            let futures = handles.into_iter();
            let mut stream =
                futures_util::stream::iter(futures).buffered(self.config.batch_parallelism.max(1));
            while let Some(joined) = stream.next().await {
                match joined {
                    Ok((r, h)) => {
                        replies.push(r);
                        headers.extend(h);
                    }
                    Err(_) => replies.push(Some(error_reply(
                        "null",
                        jsonrpc_codes::INTERNAL_ERROR,
                        "the call failed",
                        None,
                    ))),
                }
            }
        }
        drop(batch_span);
        let present: Vec<String> = replies.into_iter().flatten().collect();
        if present.is_empty() {
            return no_content(headers);
        }
        let mut out = String::with_capacity(
            present.iter().map(String::len).sum::<usize>() + present.len() + 2,
        );
        out.push('[');
        out.push_str(&present.join(","));
        out.push(']');
        json_response(out, headers)
    }

    /// One request object → its reply (`None` for a notification) and response headers.
    /// `body`: the request body and its text, when `raw` lies inside it (params are then
    /// shared, not copied).
    async fn one(
        &self,
        ctx: Context,
        raw: &RawValue,
        body: Option<(&bytes::Bytes, &str)>,
    ) -> (Option<String>, Vec<(axum::http::HeaderName, HeaderValue)>) {
        let req = match parse_request(raw) {
            Ok(r) => r,
            Err((id, msg)) => {
                let id = id.unwrap_or("null");
                return (
                    Some(error_reply(id, jsonrpc_codes::INVALID_REQUEST, &msg, None)),
                    Vec::new(),
                );
            }
        };
        let id = req.id;
        let reply_to = |text: String| id.map(|_| text);
        let id_text = id.unwrap_or("null");
        let Some(entry) = self.lookup(&req.method) else {
            let msg = format!("method `{}` not found", crate::error::clip(&req.method, 64));
            return (
                reply_to(error_reply(
                    id_text,
                    jsonrpc_codes::METHOD_NOT_FOUND,
                    &msg,
                    None,
                )),
                Vec::new(),
            );
        };
        let params = match build_params(entry, req.params, &ctx, body) {
            Ok(p) => p,
            Err(e) => return (reply_to(error_object_reply(id_text, &e)), Vec::new()),
        };
        call_method(entry, ctx, params, id).await
    }
}

/// Runs a method and writes its reply: `None` for a notification (`id` absent), and the
/// response headers from `@header`/`@cookie` results.
async fn call_method(
    entry: &MethodEntry,
    ctx: Context,
    params: Params,
    id: Option<&str>,
) -> (Option<String>, Vec<(axum::http::HeaderName, HeaderValue)>) {
    let call = Call {
        ctx,
        info: entry.info,
        params,
        transport: "jsonrpc",
        validate_result: entry.validate_result,
    };
    let id_text = id.unwrap_or("null");
    let (text, headers) = match invoke(entry, call).await {
        Ok(out) => (success_reply(id_text, out.body.as_deref()), out.headers),
        Err(e) => (error_object_reply(id_text, &e), Vec::new()),
    };
    (id.map(|_| text), headers)
}

/// The HTTP response to a single request: its reply, or 204 for a notification.
fn single_response(
    reply: Option<String>,
    headers: Vec<(axum::http::HeaderName, HeaderValue)>,
) -> Response {
    match reply {
        Some(r) => json_response(r, headers),
        None => no_content(headers),
    }
}

/// A request object in the common shape, read in one pass (see [`Endpoint::read_common`]).
struct Common<'a> {
    entry: &'a MethodEntry,
    params: Params,
    /// The id exactly as sent; `None` for a notification.
    id: Option<&'a str>,
}

impl Endpoint {
    /// Reads a request object in one pass when it has the common shape: only the members
    /// `jsonrpc` (exactly `"2.0"`), `method` (a string without escapes, naming a method this URL
    /// serves, without header or cookie parameters), `params` (an object, after `method`, which
    /// decodes into the method's request type — decoded right here, not scanned twice) and
    /// `id` (a number, a string without escapes, or null), each at most once.
    /// Anything else returns `None` and takes the general path, which answers every request
    /// this one accepts the same way and reports the precise error for bad ones.
    /// Methods whose layers show parameters (`@log`) keep the decoded text beside the value
    /// (`body` is `text`'s bytes, shared without copying).
    fn read_common<'a>(&'a self, text: &'a str, body: &bytes::Bytes) -> Option<Common<'a>> {
        let b = text.as_bytes();
        let mut i = skip_ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let (mut jsonrpc, mut entry, mut params, mut id) = (false, None, None, None);
        loop {
            let (key, after) = plain_string(text, i)?;
            i = skip_ws(b, after);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = skip_ws(b, i + 1);
            match key {
                "jsonrpc" if !jsonrpc => {
                    if !text.get(i..)?.starts_with("\"2.0\"") {
                        return None;
                    }
                    jsonrpc = true;
                    i += 5;
                }
                "method" if entry.is_none() => {
                    let (name, after) = plain_string(text, i)?;
                    let e = self.lookup(name)?;
                    if e.info.has_transport_params() {
                        return None;
                    }
                    entry = Some(e);
                    i = after;
                }
                "params" if params.is_none() && b.get(i) == Some(&b'{') => {
                    let decode = entry?.decode?;
                    let (value, used) = decode(text.get(i..)?)?;
                    // A key twice: the request type's decoder refuses it in a record, but
                    // keeps the last of a map's (or an `any`'s), which can only hide in an
                    // object inside this one; the general path refuses those.
                    let text = b.get(i..i + used)?;
                    if text.get(1..).is_some_and(|t| t.contains(&b'{'))
                        && super::duplicates::duplicate_key(text).is_some()
                    {
                        return None;
                    }
                    params = Some(if entry?.keep_text {
                        Params::DecodedText(value, body.clone(), i..i + used)
                    } else {
                        Params::Decoded(value)
                    });
                    i += used;
                }
                "id" if id.is_none() => {
                    let end = id_end(text, i)?;
                    if end - i > MAX_ID {
                        return None;
                    }
                    id = Some(text.get(i..end)?);
                    i = end;
                }
                _ => return None,
            }
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => break,
                _ => return None,
            }
        }
        if !jsonrpc || skip_ws(b, i + 1) != b.len() {
            return None;
        }
        Some(Common {
            entry: entry?,
            params: params.unwrap_or(Params::None),
            id,
        })
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// A string without escapes or control characters starting at `i`: its content and the
/// index after its closing quote.
fn plain_string(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let len = b
        .get(i + 1..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    let end = i + 1 + len;
    if b[end] != b'"' {
        return None;
    }
    Some((text.get(i + 1..end)?, end + 1))
}

/// Where an id starting at `i` ends: a plain string, `null`, or a JSON number.
fn id_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    match b.get(i)? {
        b'"' => plain_string(text, i).map(|(_, end)| end),
        b'n' => text.get(i..)?.starts_with("null").then_some(i + 4),
        _ => {
            // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
            let digits = |mut j: usize| {
                let start = j;
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                (j > start).then_some(j)
            };
            let mut j = i;
            if b.get(j) == Some(&b'-') {
                j += 1;
            }
            j = match b.get(j)? {
                b'0' => j + 1,
                b'1'..=b'9' => digits(j)?,
                _ => return None,
            };
            if b.get(j) == Some(&b'.') {
                j = digits(j + 1)?;
            }
            if matches!(b.get(j), Some(b'e' | b'E')) {
                j += 1;
                if matches!(b.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                j = digits(j)?;
            }
            Some(j)
        }
    }
}

/// `{"jsonrpc":"2.0","result":…,"id":…}` (`null` for no result).
fn success_reply(id: &str, result: Option<&str>) -> String {
    let result = result.unwrap_or("null");
    let mut s = String::with_capacity(result.len() + id.len() + 34);
    s.push_str("{\"jsonrpc\":\"2.0\",\"result\":");
    s.push_str(result);
    s.push_str(",\"id\":");
    s.push_str(id);
    s.push('}');
    s
}

struct Request<'a> {
    method: std::borrow::Cow<'a, str>,
    params: Option<&'a RawValue>,
    /// The id exactly as sent; `None` for a notification.
    id: Option<&'a str>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
}

/// Keeps `null` as a present value (unlike `Option`'s default), so `"id": null` is not a
/// notification.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// Validates a request object. On failure: the id if it could be read, and a message.
fn parse_request(raw: &RawValue) -> Result<Request<'_>, (Option<&str>, String)> {
    if !raw.get().trim_start().starts_with('{') {
        return Err((None, "a request must be a JSON object".into()));
    }
    let env: Envelope<'_> = serde_json::from_str(raw.get())
        .map_err(|e| (None, format!("invalid request object: {e}")))?;
    let id = match env.id {
        None => None,
        Some(v) => {
            let t = v.get().trim();
            let ok = t == "null"
                || t.starts_with('"')
                || t.starts_with('-')
                || t.starts_with(|c: char| c.is_ascii_digit());
            if !ok {
                return Err((None, "`id` must be a string, a number or null".into()));
            }
            if t.len() > MAX_ID {
                return Err((
                    None,
                    format!("`id` is longer than {MAX_ID} characters (it is not echoed)"),
                ));
            }
            Some(t)
        }
    };
    if env.jsonrpc.map(RawValue::get) != Some("\"2.0\"") {
        return Err((id, "`jsonrpc` must be exactly \"2.0\"".into()));
    }
    let method: std::borrow::Cow<'_, str> = match env.method.map(RawValue::get) {
        // A plain string (no escapes) is borrowed from the body.
        Some(m)
            if m.len() >= 2
                && m.starts_with('"')
                && m.ends_with('"')
                && !m[1..m.len() - 1].contains(['\\', '"']) =>
        {
            std::borrow::Cow::Borrowed(&m[1..m.len() - 1])
        }
        Some(m) => match serde_json::from_str::<String>(m) {
            Ok(s) => std::borrow::Cow::Owned(s),
            Err(_) => return Err((id, "`method` must be a string".into())),
        },
        None => return Err((id, "`method` must be a string".into())),
    };
    if let Some(p) = env.params {
        let t = p.get().trim_start();
        if !(t.starts_with('{') || t.starts_with('[')) {
            return Err((id, "`params` must be an object or an array".into()));
        }
    }
    Ok(Request {
        method,
        params: env.params,
        id,
    })
}

/// Turns the sent params into the method's params: by name (fast path), by position, plus
/// header and cookie parameters read from the HTTP request.
fn build_params(
    entry: &MethodEntry,
    params: Option<&RawValue>,
    ctx: &Context,
    body: Option<(&bytes::Bytes, &str)>,
) -> Result<Params, Error> {
    let info = entry.info;
    let transport = info.has_transport_params();
    if let Some(d) = params.and_then(|p| super::duplicates::duplicate_key(p.get().as_bytes())) {
        return Err(Error::invalid_argument(format!(
            "invalid params: {}",
            d.message()
        )));
    }
    let Some(p) = params else {
        if !transport {
            return Ok(Params::None);
        }
        let mut map = serde_json::Map::new();
        add_transport_params(info, ctx, &mut map)?;
        return Ok(Params::Value(Value::Object(map)));
    };
    let positional = p.get().trim_start().starts_with('[');
    if !positional && !transport {
        // The params' position inside the body (both borrow the same text).
        if let Some((bytes, text)) = body {
            let start = (p.get().as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
            let end = start.wrapping_add(p.get().len());
            if end <= bytes.len() && bytes.get(start..end) == Some(p.get().as_bytes()) {
                return Ok(Params::Slice(bytes.clone(), start..end));
            }
        }
        return Ok(Params::Raw(p.to_owned()));
    }
    let mut map = if positional {
        let items: Vec<Value> = serde_json::from_str(p.get())
            .map_err(|e| Error::invalid_argument(format!("invalid params: {e}")))?;
        let names: Vec<&str> = info
            .params
            .iter()
            .filter(|x| !matches!(x.location, Location::Header(_) | Location::Cookie(_)))
            .map(|x| x.name)
            .collect();
        if items.len() > names.len() {
            return Err(Error::invalid_argument(format!(
                "invalid params: {} given, the method takes {}",
                items.len(),
                names.len()
            )));
        }
        names
            .into_iter()
            .zip(items)
            .map(|(n, v)| (n.to_string(), v))
            .collect()
    } else {
        serde_json::from_str::<serde_json::Map<String, Value>>(p.get())
            .map_err(|e| Error::invalid_argument(format!("invalid params: {e}")))?
    };
    add_transport_params(info, ctx, &mut map)?;
    Ok(Params::Value(Value::Object(map)))
}

fn add_transport_params(
    info: &crate::method::MethodInfo,
    ctx: &Context,
    map: &mut serde_json::Map<String, Value>,
) -> Result<(), Error> {
    for p in info.params {
        let text = match &p.location {
            Location::Header(h) => ctx.header(h),
            Location::Cookie(c) => ctx.cookie(c),
            _ => continue,
        };
        if let Some(t) = text {
            let v = text_to_json(p.kind, t)
                .map_err(|m| Error::invalid_argument(format!("parameter `{}`: {m}", p.name)))?;
            map.insert(p.name.to_string(), v);
        }
    }
    Ok(())
}

fn parse_error(detail: &str) -> String {
    error_reply(
        "null",
        jsonrpc_codes::PARSE_ERROR,
        "parse error",
        Some(Value::String(detail.to_string())),
    )
}

fn error_reply(id: &str, code: i64, message: &str, data: Option<Value>) -> String {
    let mut err = serde_json::json!({ "code": code, "message": message });
    if let (Some(d), Value::Object(m)) = (data, &mut err) {
        m.insert("data".into(), d);
    }
    format!("{{\"jsonrpc\":\"2.0\",\"error\":{err},\"id\":{id}}}")
}

fn error_object_reply(id: &str, e: &Error) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"error\":{},\"id\":{id}}}",
        e.to_jsonrpc()
    )
}

fn json_response(body: String, headers: Vec<(axum::http::HeaderName, HeaderValue)>) -> Response {
    let mut r = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    append(r.headers_mut(), headers);
    r
}

fn no_content(headers: Vec<(axum::http::HeaderName, HeaderValue)>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    append(r.headers_mut(), headers);
    r
}

fn append(map: &mut HeaderMap, headers: Vec<(axum::http::HeaderName, HeaderValue)>) {
    for (k, v) in headers {
        map.append(k, v);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
    use super::*;
    use crate::method::{Handler, MethodInfo, Output, ParamInfo, ServiceDef, TextKind};

    #[derive(serde::Deserialize, serde::Serialize)]
    struct EchoRequest {
        a: i32,
        b: Option<String>,
    }

    static ECHO: MethodInfo = MethodInfo {
        service: "Test",
        name: "echo",
        jsonrpc: Some("test.echo"),
        http: None,
        params: &[
            ParamInfo {
                name: "a",
                location: Location::Body,
                kind: TextKind::Integer,
                list: false,
                required: true,
            },
            ParamInfo {
                name: "b",
                location: Location::Body,
                kind: TextKind::String,
                list: false,
                required: false,
            },
        ],
        results: &[],
        policies: crate::method::Policies::NONE,
        deprecated: false,
        request_content_type: None,
        response_content_type: None,
    };

    fn endpoint() -> Endpoint {
        let handler: Handler = Arc::new(|call: Call| {
            Box::pin(async move {
                let req: EchoRequest = call.params.decode()?;
                Output::json(&req)
            })
        });
        let def = ServiceDef::new("Test", "test").method::<EchoRequest>(&ECHO, handler);
        let table: HashMap<&'static str, MethodEntry> =
            def.methods.into_iter().map(|m| ("test.echo", m)).collect();
        Endpoint::new(Arc::new(table), Scope::All, RpcConfig::default())
    }

    async fn answer(ep: &Endpoint, body: &str, common: bool) -> (u16, String) {
        let res = ep
            .respond(Context::new(), bytes::Bytes::from(body.to_string()), common)
            .await;
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// The one-pass reading answers exactly as the general path does, on the common shapes,
    /// on their near misses, and on thousands of mutations of them.
    #[tokio::test]
    async fn one_pass_reading_answers_like_the_general_path() {
        let ep = endpoint();
        let seeds = [
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":1,"b":"x"},"id":1}"#,
            r#" { "jsonrpc" : "2.0" , "method" : "test.echo" , "params" : { "a" : -7 } , "id" : "abc" } "#,
            r#"{"id":-1.5e3,"jsonrpc":"2.0","method":"test.echo","params":{"a":2}}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":3},"id":null}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":4}}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":5,"b":"\u00e9\n"},"id":0}"#,
            r#"{"jsonrpc":"2.0","params":{"a":6},"method":"test.echo","id":6}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":[7,"y"],"id":7}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":"8"},"id":8}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{},"id":9}"#,
            r#"{"jsonrpc":"2.0","method":"test.ech\u006f","params":{"a":10},"id":10}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","method":"test.echo","params":{"a":11},"id":11}"#,
            r#"{"jsonrpc":"2.0","method":"nope","params":{"a":12},"id":12}"#,
            r#"{"jsonrpc":"1.0","method":"test.echo","params":{"a":13},"id":13}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":14},"id":01}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":15},"id":{}}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":16},"id":16,"extra":true}"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":{"a":17},"id":17} x"#,
            r#"{"jsonrpc":"2.0","method":"test.echo","params":null,"id":18}"#,
        ];
        let alphabet = b"{}[]\":,\\ 0123456789abcdeflnrtu.-+Ee";
        let mut state: u64 = 0x5eed;
        let mut next = move |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap() % n.max(1)
        };
        let mut inputs: Vec<String> = seeds.iter().map(|s| (*s).to_string()).collect();
        for seed in seeds {
            for _ in 0..400 {
                let mut b = seed.as_bytes().to_vec();
                for _ in 0..=next(2) {
                    let at = next(b.len() + 1);
                    match next(3) {
                        0 if at < b.len() => {
                            b.remove(at);
                        }
                        1 if at < b.len() => b[at] = alphabet[next(alphabet.len())],
                        _ => b.insert(at, alphabet[next(alphabet.len())]),
                    }
                }
                inputs.push(String::from_utf8(b).unwrap());
            }
        }
        let mut common = 0;
        for input in &inputs {
            if ep
                .read_common(input, &bytes::Bytes::from(input.clone()))
                .is_some()
            {
                common += 1;
            }
            let one_pass = answer(&ep, input, true).await;
            let general = answer(&ep, input, false).await;
            assert_eq!(one_pass, general, "input: {input}");
        }
        // Both paths were exercised: the common shape, and inputs it leaves to the general one.
        assert!(
            common >= 50,
            "only {common} inputs took the one-pass reading"
        );
        assert!(common < inputs.len() / 2, "{common} of {}", inputs.len());
    }
}
