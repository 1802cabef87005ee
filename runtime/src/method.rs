//! Methods: the static description every generated method has ([`MethodInfo`]: where its
//! values travel, its HTTP binding, its policies), shared by servers and clients; and, with
//! the `server` feature, the erased handler behind a tower stack ([`MethodService`]) that
//! layers ([`MethodLayer`]) wrap once, at start-up, so per-method behaviour (logging, metrics,
//! tracing, rate limits, auth — switched on by annotations) costs nothing at dispatch time.

#[cfg(feature = "server")]
pub use crate::server::service::{
    Call, Handler, HandlerService, MethodEntry, MethodLayer, MethodService, Output, Params,
    ParamsDecoder, Service, ServiceDef, decode_params, invoke,
};

/// Where values travel, the HTTP binding and the policies: one definition shared with the
/// compiler (`svcc-rules`), so what the contract says and what the runtime reads cannot drift.
use serde_json::Value;

pub use svcc_rules::method::{
    CircuitBreaker, HttpBinding, Location, LogPolicy, Mask, Policies, RateKey, RateLimit, Security,
    Sensitive, Text, text,
};

/// The JSON shape of a parameter that arrives as text (path, query, header, cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    String,
    Integer,
    Number,
    Bool,
    /// Anything else: parsed as JSON when it is not a string.
    Json,
}

/// Converts a value that arrived as text (path, query, header, cookie) into its JSON form: the
/// server reads parameters, a client reads header and cookie results.
pub fn text_to_json(kind: TextKind, text: &str) -> Result<Value, String> {
    match kind {
        TextKind::String => Ok(Value::String(text.to_string())),
        TextKind::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .map_err(|_| format!("`{}` is not an integer", crate::error::clip(text, 64))),
        TextKind::Number => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{}` is not a number", crate::error::clip(text, 64))),
        TextKind::Bool => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "`{}` is not `true` or `false`",
                crate::error::clip(text, 64)
            )),
        },
        TextKind::Json => {
            Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())))
        }
    }
}

#[derive(Clone, Debug)]
pub struct ParamInfo {
    /// The JSON key.
    pub name: &'static str,
    pub location: Location,
    pub kind: TextKind,
    /// A list (repeated query keys).
    pub list: bool,
    pub required: bool,
}

/// A result that travels in a header or cookie instead of the body.
#[derive(Clone, Debug)]
pub struct ResultInfo {
    pub name: &'static str,
    pub location: Location,
    pub kind: TextKind,
}

/// Everything the transports need to know about one method, fixed at compile time.
#[derive(Debug)]
pub struct MethodInfo {
    pub service: &'static str,
    pub name: &'static str,
    pub jsonrpc: Option<&'static str>,
    pub http: Option<HttpBinding>,
    /// In declaration order (positional JSON-RPC params follow it, skipping header/cookie).
    pub params: &'static [ParamInfo],
    pub results: &'static [ResultInfo],
    /// The effective policies (`@log`, `@metrics`, `@trace`, `@security`, `@rate_limit`,
    /// `@circuit_breaker`, `@fallback`, `@timeout`, idempotency), for layers to read.
    pub policies: Policies,
    pub deprecated: bool,
    /// `@content_type(request = …)`: the media type accepted on REST (default JSON).
    pub request_content_type: Option<&'static str>,
    /// `@content_type(response = …)`: the media type of REST responses (default JSON).
    pub response_content_type: Option<&'static str>,
}

#[cfg(test)]
impl MethodInfo {
    /// A JSON-RPC method without parameters, results or policies (the unit tests' fixture).
    pub(crate) const fn bare(
        service: &'static str,
        name: &'static str,
        jsonrpc: &'static str,
    ) -> MethodInfo {
        MethodInfo {
            service,
            name,
            jsonrpc: Some(jsonrpc),
            http: None,
            params: &[],
            results: &[],
            policies: Policies::NONE,
            deprecated: false,
            request_content_type: None,
            response_content_type: None,
        }
    }
}

impl MethodInfo {
    /// Whether some parameters come from headers or cookies.
    pub fn has_transport_params(&self) -> bool {
        self.params.iter().any(|p| p.location.is_header_or_cookie())
    }
}
