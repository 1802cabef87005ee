//! REST: a method's `@http` binding becomes a route; path, query, header and cookie values are
//! converted to their types (a bad value is a 400 with a clear body), the JSON body supplies
//! the rest; errors answer with their status and `{code, message, data}`.

use crate::context::Context;
use crate::error::Error;
use crate::jsonrpc::text_to_json;
use crate::method::{Call, Location, MethodEntry, Params, invoke};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Handles one REST request for `entry`.
pub async fn handle(
    entry: &MethodEntry,
    ctx: Context,
    path: HashMap<String, String>,
    query: Vec<(String, String)>,
    body: &[u8],
) -> Response {
    let params = match assemble(entry, &ctx, &path, &query, body) {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let call = Call {
        ctx,
        info: entry.info,
        params,
    };
    match invoke(entry, call).await {
        Ok(out) => {
            let status = entry
                .info
                .http
                .as_ref()
                .and_then(|h| StatusCode::from_u16(h.status).ok())
                .unwrap_or(StatusCode::OK);
            // `@content_type(response = …)`: a JSON media type (the compiler refuses others
            // unless a hand-written handler serves the method).
            let media = entry
                .info
                .response_content_type
                .unwrap_or("application/json");
            let mut r = match out.body {
                Some(b) if status != StatusCode::NO_CONTENT => (
                    status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_str(media)
                            .unwrap_or(HeaderValue::from_static("application/json")),
                    )],
                    b,
                )
                    .into_response(),
                _ => status.into_response(),
            };
            for (k, v) in out.headers {
                r.headers_mut().append(k, v);
            }
            r
        }
        Err(e) => error_response(&e),
    }
}

fn assemble(
    entry: &MethodEntry,
    ctx: &Context,
    path: &HashMap<String, String>,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Params, Error> {
    let info = entry.info;
    let has_body_params = info.params.iter().any(|p| p.location == Location::Body);
    let mut map = Map::new();
    if has_body_params && !body.iter().all(u8::is_ascii_whitespace) {
        let declared = info.request_content_type.unwrap_or("application/json");
        let content_type = ctx.header("content-type").unwrap_or(declared);
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case(declared)
            && !essence.starts_with("application/json")
            && !essence.ends_with("+json")
        {
            return Err(Error {
                http_status: Some(415),
                ..Error::invalid_argument(format!(
                    "unsupported content type `{content_type}`: send {declared}"
                ))
            });
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => map = m,
            Ok(_) => {
                return Err(Error::invalid_argument(
                    "the request body must be a JSON object",
                ));
            }
            Err(e) => {
                return Err(Error::invalid_argument(format!(
                    "the request body is not valid JSON: {e}"
                )));
            }
        }
    }
    for p in info.params {
        let bad =
            |what: &str, m: String| Error::invalid_argument(format!("{what} `{}`: {m}", p.name));
        match &p.location {
            Location::Body => {}
            Location::Path => {
                if let Some(t) = path.get(p.name) {
                    let v = text_to_json(p.kind, t).map_err(|m| bad("path parameter", m))?;
                    map.insert(p.name.to_string(), v);
                }
            }
            Location::Query(q) => {
                let values: Vec<&str> = query
                    .iter()
                    .filter(|(k, _)| k == q)
                    .map(|(_, v)| v.as_str())
                    .collect();
                if p.list {
                    if !values.is_empty() {
                        let items = values
                            .iter()
                            .map(|t| text_to_json(p.kind, t))
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|m| bad("query parameter", m))?;
                        map.insert(p.name.to_string(), Value::Array(items));
                    }
                } else if let Some(t) = values.last() {
                    let v = text_to_json(p.kind, t).map_err(|m| bad("query parameter", m))?;
                    map.insert(p.name.to_string(), v);
                }
            }
            Location::Header(h) => {
                if let Some(t) = ctx.header(h) {
                    let v = text_to_json(p.kind, t).map_err(|m| bad("header", m))?;
                    map.insert(p.name.to_string(), v);
                }
            }
            Location::Cookie(c) => {
                if let Some(t) = ctx.cookie(c) {
                    let v = text_to_json(p.kind, t).map_err(|m| bad("cookie", m))?;
                    map.insert(p.name.to_string(), v);
                }
            }
        }
    }
    Ok(Params::Value(Value::Object(map)))
}

/// An error as a REST response: its status and `{code, message, data}`.
pub fn error_response(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (status, headers, e.to_rest_body().to_string()).into_response()
}
