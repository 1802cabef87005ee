//! One error shape per transport, for the answers the server gives itself rather than a
//! method: no such route (404), another HTTP method (405), a body over the limit (413), a
//! request not answered in time (408), a panic (500), a gRPC-only address.
//!
//! - **gRPC** (`content-type: application/grpc…`): a trailers-only answer with `grpc-status`
//!   and `grpc-message` (HTTP 200, as gRPC clients expect);
//! - **JSON-RPC** (the JSON-RPC prefix and the paths under it, whatever the content type): the HTTP status, and a
//!   JSON-RPC response whose `error` is the error object (`id` null: the request was not read);
//! - **REST** and everything else: the HTTP status and `{code, message, data}`.

use super::dispatch::Shared;
use crate::error::{Code, Error};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Marks a response the server shaped itself (response extensions are not sent).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shaped;

/// How a request's refusals look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Rest,
    JsonRpc,
    #[cfg(feature = "grpc")]
    Grpc,
}

impl Shape {
    /// The shape for a request to `path` with `headers`.
    /// (The path first: a JSON-RPC request costs a prefix comparison, no header lookup.)
    pub(crate) fn of(rpc_prefix: Option<&str>, headers: &HeaderMap, path: &str) -> Shape {
        if rpc_prefix.is_some_and(|p| under(p, path)) {
            return Shape::JsonRpc;
        }
        #[cfg(feature = "grpc")]
        if super::transport::grpc::is_grpc(headers) {
            return Shape::Grpc;
        }
        let _ = headers;
        Shape::Rest
    }

    /// The shape for a request, by the server's settings.
    pub(crate) fn for_request(shared: &Shared, headers: &HeaderMap, path: &str) -> Shape {
        Shape::of(shared.rpc_prefix.as_deref(), headers, path)
    }

    /// `e` as this transport answers it.
    pub(crate) fn answer(self, e: &Error) -> Response {
        let mut res = match self {
            Shape::Rest => rest(e),
            Shape::JsonRpc => {
                let status = axum::http::StatusCode::from_u16(e.http_status())
                    .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                let body = format!(
                    "{{\"jsonrpc\":\"2.0\",\"error\":{},\"id\":null}}",
                    e.to_jsonrpc()
                );
                let mut res = (
                    status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
                    .into_response();
                for (name, value) in &e.headers {
                    res.headers_mut().append(name.clone(), value.clone());
                }
                res
            }
            #[cfg(feature = "grpc")]
            Shape::Grpc => super::transport::grpc::grpc_error(e, None),
        };
        res.extensions_mut().insert(Shaped);
        res
    }

    /// "No such route", as this transport says it.
    pub(crate) fn not_found(self) -> Response {
        let e = match self {
            Shape::Rest => Error::new(Code::NotFound, "no such route"),
            Shape::JsonRpc => Error {
                http_status: Some(404),
                ..Error::new(
                    Code::Unimplemented,
                    "no JSON-RPC endpoint at this path (POST to the prefix, a service or a method)",
                )
            },
            #[cfg(feature = "grpc")]
            Shape::Grpc => Error::new(Code::Unimplemented, "no such gRPC method"),
        };
        self.answer(&e)
    }
}

/// Whether `path` is `prefix` or below it.
fn under(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The REST shape: the status and `{code, message, data}`.
pub(crate) fn rest(e: &Error) -> Response {
    let status = axum::http::StatusCode::from_u16(e.http_status())
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in &e.headers {
        headers.append(name.clone(), value.clone());
    }
    let mut res = (status, headers, e.to_rest_body().to_string()).into_response();
    res.extensions_mut().insert(Shaped);
    res
}

/// The error of a body over the limit.
pub(crate) fn too_large_error() -> Error {
    Error {
        http_status: Some(413),
        ..Error::new(Code::ResourceExhausted, "the request body is too large")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_and_the_paths_under_it_are_json_rpc() {
        let h = HeaderMap::new();
        for (path, shape) in [
            ("/rpc", Shape::JsonRpc),
            ("/rpc/userService.get", Shape::JsonRpc),
            ("/rpcx", Shape::Rest),
            ("/api/v1/users", Shape::Rest),
        ] {
            assert_eq!(Shape::of(Some("/rpc"), &h, path), shape, "{path}");
        }
        assert_eq!(Shape::of(None, &h, "/rpc"), Shape::Rest);
    }

    #[cfg(feature = "grpc")]
    #[test]
    fn grpc_content_types_are_grpc_outside_the_json_rpc_prefix() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc+proto"),
        );
        assert_eq!(
            Shape::of(Some("/rpc"), &h, "/pkg.Service/Method"),
            Shape::Grpc
        );
        assert_eq!(Shape::of(None, &h, "/"), Shape::Grpc);
    }

    #[tokio::test]
    async fn a_json_rpc_refusal_is_a_json_rpc_response_with_the_http_status() {
        use http_body_util::BodyExt as _;
        let res = Shape::JsonRpc.answer(&too_large_error());
        assert_eq!(res.status(), 413);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["jsonrpc"], "2.0");
        assert_eq!(v["id"], serde_json::Value::Null);
        assert_eq!(v["error"]["data"]["code"], "RESOURCE_EXHAUSTED");
        assert!(v["error"]["code"].is_i64());
    }
}
