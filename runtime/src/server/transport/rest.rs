//! REST: a method's `@http` binding becomes a route; path, query, header and cookie values are
//! converted to their types (a bad value is a 400 with a clear body), the JSON body supplies
//! the rest; errors answer with their status and `{code, message, data}`.

use super::{Routes, Setup, Transport};
use crate::context::Context;
use crate::error::Error;
use crate::method::{Call, Location, MethodEntry, Params, invoke, text_to_json};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// An error as a REST response (the same as [`crate::server::error_response`]).
pub use crate::server::error_response;

/// The REST transport: one axum route per `@http` binding; methods sharing a path share a
/// route.
pub(crate) struct Rest;

impl Transport for Rest {
    fn install(&self, setup: &Setup<'_>, routes: &mut Routes) {
        let mut by_path: HashMap<&'static str, Vec<&MethodEntry>> = HashMap::new();
        for e in setup.methods {
            if let Some(h) = &e.info.http {
                by_path.entry(&*h.path).or_default().push(e);
            }
        }
        let mut paths: Vec<_> = by_path.into_iter().collect();
        paths.sort_by_key(|(p, _)| *p);
        let mut router = std::mem::take(&mut routes.router);
        for (path, entries) in paths {
            let mut route: axum::routing::MethodRouter<()> = axum::routing::MethodRouter::new();
            for e in entries {
                let Some(h) = &e.info.http else { continue };
                let Ok(method) = Method::from_bytes(h.method.as_bytes()) else {
                    continue;
                };
                let Ok(filter) = MethodFilter::try_from(method) else {
                    continue;
                };
                let one: axum::routing::MethodRouter<()> = on(filter, rest_handler)
                    .with_state((Arc::new(e.clone()), setup.config.body_limit));
                route = route.merge(one);
            }
            router = router.route(path, route);
        }
        routes.router = router;
    }
}

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
        transport: "rest",
        validate_result: entry.validate_result,
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
                    "unsupported content type `{}`: send {declared}",
                    crate::error::clip(content_type, 64)
                ))
            });
        }
        if let Some(d) = super::duplicates::duplicate_key(body) {
            return Err(Error::invalid_argument(format!(
                "the request body is refused: {}",
                d.message()
            )));
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
            // From the request's headers, as on every transport that has them.
            Location::Header(_) | Location::Cookie(_) => {}
        }
    }
    super::header_and_cookie_params(info.params, ctx, &mut map)?;
    Ok(Params::Value(Value::Object(map)))
}

async fn rest_handler(State(state): State<(Arc<MethodEntry>, usize)>, req: Request) -> Response {
    use axum::extract::FromRequestParts as _;
    let (mut parts, body) = req.into_parts();
    let path = match Path::<HashMap<String, String>>::from_request_parts(&mut parts, &()).await {
        Ok(Path(p)) => p,
        Err(e) => return error_response(&Error::invalid_argument(e.body_text())),
    };
    let query = match Query::<Vec<(String, String)>>::from_request_parts(&mut parts, &()).await {
        Ok(Query(q)) => q,
        Err(e) => return error_response(&Error::invalid_argument(e.body_text())),
    };
    let ctx = super::context(parts);
    match axum::body::to_bytes(body, state.1).await {
        Ok(bytes) => handle(&state.0, ctx, path, query, &bytes).await,
        Err(e) => body_error(&e),
    }
}

/// A body that could not be read: too large (413, as the body limit says) or broken (400).
fn body_error(e: &axum::Error) -> Response {
    let too_large = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<http_body_util::LengthLimitError>())
        .is_some();
    if too_large {
        error_response(&crate::server::refusal::too_large_error())
    } else {
        error_response(&Error::invalid_argument(format!(
            "cannot read the body: {e}"
        )))
    }
}
