//! svcc-runtime: the platform library every generated service and client links against.
//!
//! Generated code reaches its dependencies (serde, axum, reqwest, …) only through
//! [`__private`], so regenerating after a runtime upgrade needs no edits by hand.
//!
//! Cargo features (all on by default): `server` (the [`Server`]: axum, hyper), `client`
//! (generated clients: reqwest), one per transport, `jsonrpc`, `rest` and `grpc` (tonic), for
//! both sides, and `logging` ([`logging::init`]: JSON lines or text on stdout, non-blocking).
//! A client-only crate depends on
//! `svcc-runtime = { default-features = false, features = ["client", "jsonrpc", "rest", "grpc"] }` and
//! generates with `svcc_build::configure().server(false)`; it compiles no server.

pub mod auth;
pub mod breaker;
#[cfg(feature = "client")]
pub mod client;
pub mod context;
#[cfg(feature = "postgres")]
pub mod db;
pub mod error;
#[cfg(feature = "events")]
pub mod events;
#[cfg(feature = "client")]
pub mod fallback;
#[cfg(feature = "grpc")]
pub mod grpc;
pub mod log_level;
#[cfg(feature = "logging")]
pub mod logging;
pub mod mask;
pub mod method;
#[cfg(feature = "server")]
pub mod server;
pub mod telemetry;
pub mod validate;
pub mod wire;

/// The server's transports under their old paths.
#[cfg(all(feature = "server", feature = "jsonrpc"))]
pub use server::transport::jsonrpc;
#[cfg(all(feature = "server", feature = "rest"))]
pub use server::transport::rest;
#[cfg(feature = "server")]
pub use server::{MetricsConfig, Server, ServerConfig, health};

// The surface hand-written code needs, at the crate root: the context, errors, validation,
// the ids and wire types contracts use, the server and the clients' configuration.
#[cfg(feature = "client")]
pub use client::ClientConfig;
pub use context::Context;
pub use error::{ApiError, Code, Error, Violation};
pub use uuid::Uuid;
pub use validate::{Validate, Validator};
pub use wire::{Bytes, Date, Decimal, Duration, Timestamp};

/// Runs `main` to completion on a multi-threaded tokio runtime: an entry point without
/// attributes (`#[tokio::main]` needs `crate = "svcc_runtime::tokio"` when tokio is reached
/// through this crate). Fails only when the runtime cannot start.
///
/// ```no_run
/// fn main() -> std::io::Result<()> {
///     svcc_runtime::run(async {
///         let listener = svcc_runtime::tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
///         svcc_runtime::Server::new().serve(listener).await
///     })?
/// }
/// ```
pub fn run<F: std::future::Future>(main: F) -> std::io::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(main))
}

/// Re-exported for hand-written code (custom handlers, `main`): one version for everything.
#[cfg(feature = "server")]
pub use axum;
#[cfg(feature = "client")]
pub use reqwest;
pub use serde;
pub use serde_json;
pub use tokio;

/// The façade generated code uses. Not a stable API for hand-written code.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "server")]
    pub use crate::method::{Call, Handler, Output, Params, ServiceDef};
    pub use crate::method::{HttpBinding, Location, MethodInfo, ParamInfo, ResultInfo, TextKind};
    pub use crate::validate::{Format, Pattern};
    pub use futures_util::future::BoxFuture;
    pub use serde;
    pub use serde_json;
    pub use std::sync::Arc;
    pub use uuid::Uuid;
}
