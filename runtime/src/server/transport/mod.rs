//! The server's transports. Each one turns the layered methods into what it serves: routes on
//! the axum router, and — for a transport whose requests are one exact-path POST each, like
//! JSON-RPC — [`FastPath`] entries the connection service answers without the router. A new
//! transport (gRPC) is a file here, one line in [`all`], and (only if it has a fast path) one
//! variant of [`FastPath`].

#[cfg(any(feature = "jsonrpc", feature = "rest"))]
pub(crate) mod duplicates;
#[cfg(feature = "grpc")]
pub mod grpc;
#[cfg(feature = "jsonrpc")]
pub mod jsonrpc;
#[cfg(feature = "rest")]
pub mod rest;

use super::ServerConfig;
use crate::context::Context;
use crate::method::{MethodEntry, ServiceDef};
use axum::Router;
use axum::response::Response;
use std::collections::HashMap;

/// What a transport is given at start-up.
#[cfg_attr(
    not(any(feature = "jsonrpc", feature = "rest", feature = "grpc")),
    allow(dead_code)
)]
pub(crate) struct Setup<'a> {
    pub config: &'a ServerConfig,
    /// The services as added (names, methods in order).
    #[cfg_attr(not(any(feature = "jsonrpc", feature = "grpc")), allow(dead_code))]
    pub services: &'a [ServiceDef],
    /// Every method with its layers applied, once.
    pub methods: &'a [MethodEntry],
}

/// What the transports add to a server.
#[derive(Default)]
pub(crate) struct Routes {
    /// Exact paths whose POSTs the connection service answers itself.
    pub fast: HashMap<String, FastPath>,
    /// Everything else, routed by axum.
    pub router: Router,
}

/// A server transport.
pub(crate) trait Transport {
    /// Adds this transport's routes for `setup`'s methods.
    fn install(&self, setup: &Setup<'_>, routes: &mut Routes);
}

/// Every transport this build of the runtime serves (by cargo features).
pub(crate) fn all() -> Vec<Box<dyn Transport>> {
    vec![
        #[cfg(feature = "jsonrpc")]
        Box::new(jsonrpc::JsonRpc),
        #[cfg(feature = "rest")]
        Box::new(rest::Rest),
        #[cfg(feature = "grpc")]
        Box::new(grpc::Grpc),
    ]
}

/// A handler on the connection service's fast path: one variant per transport that has one
/// (an enum, not a trait object, so the hot path stays a direct call).
pub(crate) enum FastPath {
    #[cfg(feature = "jsonrpc")]
    JsonRpc(jsonrpc::Endpoint),
    /// A unary rpc whose request is uncompressed gRPC (others take the router and tonic).
    #[cfg(feature = "grpc")]
    Grpc(grpc::FastRpc),
}

impl FastPath {
    /// Whether this entry answers a request with these headers (before its body is read).
    pub(crate) fn accepts(&self, headers: &axum::http::HeaderMap) -> bool {
        let _ = headers;
        match *self {
            #[cfg(feature = "jsonrpc")]
            FastPath::JsonRpc(_) => true,
            #[cfg(feature = "grpc")]
            FastPath::Grpc(_) => grpc::FastRpc::accepts(headers),
        }
    }

    /// Whether this entry is JSON-RPC's.
    pub(crate) fn is_jsonrpc(&self) -> bool {
        match *self {
            #[cfg(feature = "jsonrpc")]
            FastPath::JsonRpc(_) => true,
            #[cfg(feature = "grpc")]
            FastPath::Grpc(_) => false,
        }
    }

    /// Answers one request whose body has been read.
    #[allow(clippy::unused_async)] // without a fast-path transport there is nothing to await
    pub(crate) async fn handle(&self, ctx: Context, body: bytes::Bytes) -> Response {
        let _ = (&ctx, &body);
        match *self {
            #[cfg(feature = "jsonrpc")]
            FastPath::JsonRpc(ref endpoint) => endpoint.handle(ctx, body).await,
            #[cfg(feature = "grpc")]
            FastPath::Grpc(ref rpc) => rpc.handle(ctx, body).await,
        }
    }
}

/// Header and cookie parameters, read from the request's headers into the parameters' JSON
/// (REST, and gRPC, whose messages leave them to metadata); a value that does not convert is
/// a clear `INVALID_ARGUMENT`.
#[cfg(any(feature = "rest", feature = "grpc"))]
pub(crate) fn header_and_cookie_params(
    params: &[crate::method::ParamInfo],
    ctx: &Context,
    map: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), crate::error::Error> {
    use crate::method::{Location, text_to_json};
    for p in params {
        let (what, text) = match &p.location {
            Location::Header(h) => ("header", ctx.header(h)),
            Location::Cookie(c) => ("cookie", ctx.cookie(c)),
            _ => continue,
        };
        if let Some(t) = text {
            let v = text_to_json(p.kind, t).map_err(|m| {
                crate::error::Error::invalid_argument(format!("{what} `{}`: {m}", p.name))
            })?;
            map.insert(p.name.to_string(), v);
        }
    }
    Ok(())
}

/// The handler's context; takes the request's headers without copying them.
#[cfg_attr(
    not(any(feature = "jsonrpc", feature = "rest", feature = "grpc")),
    allow(dead_code)
)]
pub(crate) fn context(mut parts: axum::http::request::Parts) -> Context {
    Context {
        request_id: parts
            .extensions
            .get::<tower_http::request_id::RequestId>()
            .and_then(|r| r.header_value().to_str().ok())
            .map(std::sync::Arc::from)
            .unwrap_or_default(),
        client_addr: parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0),
        headers: std::mem::take(&mut parts.headers),
        deadline: None,
        claims: None,
        trace: None,
        #[cfg(feature = "postgres")]
        tx: None,
    }
}
