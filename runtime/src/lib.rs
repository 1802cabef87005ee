//! svcc-runtime: the platform library every generated service and client links against.
//!
//! Generated code reaches its dependencies (serde, axum, reqwest, …) only through
//! [`__private`], so regenerating after a runtime upgrade needs no edits by hand.

pub mod client;
pub mod context;
mod dispatch;
pub mod error;
pub mod health;
pub mod jsonrpc;
pub mod method;
pub mod rest;
pub mod server;
pub mod validate;
mod watchdog;
pub mod wire;

pub use context::Context;
pub use error::{ApiError, Code, Error, Violation};
pub use server::{Server, ServerConfig};
pub use validate::{Validate, Validator};

/// Re-exported for hand-written code (custom handlers, `main`): one version for everything.
pub use axum;
pub use reqwest;
pub use serde_json;
pub use tokio;

/// The façade generated code uses. Not a stable API for hand-written code.
#[doc(hidden)]
pub mod __private {
    pub use crate::method::{
        Call, Handler, HttpBinding, Location, MethodInfo, Output, ParamInfo, Params, ResultInfo,
        ServiceDef, TextKind,
    };
    pub use crate::validate::{Format, Pattern};
    pub use futures_util::future::BoxFuture;
    pub use serde;
    pub use serde_json;
    pub use std::sync::Arc;
    pub use uuid::Uuid;
}
