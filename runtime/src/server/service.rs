//! The server's side of a method: its parameters as received ([`Params`]), one call
//! ([`Call`]), its result ([`Output`]), the erased handler and its tower stack
//! ([`MethodService`], wrapped by [`MethodLayer`]s), and a service's methods ([`ServiceDef`]).
//! Re-exported from [`crate::method`], where layers and generated code find them.

use crate::context::Context;
use crate::error::Error;
use crate::method::MethodInfo;
use futures_util::future::BoxFuture;
use http::{HeaderName, HeaderValue};
use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use tower::util::BoxCloneSyncService;

/// Re-exported so layers can be written without a direct `tower` dependency.
pub use tower::Service;

/// A method's parameters as received.
#[derive(Debug)]
pub enum Params {
    /// No parameters were sent.
    None,
    /// A JSON object exactly as sent (the fast path: decoded once, straight into the type).
    Raw(Box<RawValue>),
    /// A JSON object inside the request body, shared without copying: `body[range]`.
    Slice(bytes::Bytes, std::ops::Range<usize>),
    /// An object assembled by the transport (positional params, REST, header/cookie values).
    Value(Value),
    /// Already decoded into the method's request type while the request was read (the
    /// JSON-RPC fast path, see [`ParamsDecoder`]).
    Decoded(Box<dyn std::any::Any + Send>),
    /// Decoded as [`Params::Decoded`], with the JSON text it was decoded from (`body[range]`,
    /// UTF-8: it was decoded from a `&str`) kept for layers that show parameters (`@log`).
    DecodedText(
        Box<dyn std::any::Any + Send>,
        bytes::Bytes,
        std::ops::Range<usize>,
    ),
}

impl Params {
    /// Decodes the parameters into the method's request type.
    pub fn decode<T: serde::de::DeserializeOwned + 'static>(self) -> Result<T, Error> {
        // The fast decoders do not track where they fail; on failure the same text is decoded
        // again with its path tracked, so the error names the parameter.
        fn from_text<T: serde::de::DeserializeOwned>(text: &[u8]) -> Result<T, Error> {
            serde_json::from_slice(text).map_err(|_| {
                let mut de = serde_json::Deserializer::from_slice(text);
                match serde_path_to_error::deserialize::<_, T>(&mut de) {
                    Err(e) => params_error(&e.path().to_string(), &e.into_inner().to_string()),
                    Ok(_) => Error::invalid_argument("invalid params"),
                }
            })
        }
        match self {
            Params::Decoded(v) | Params::DecodedText(v, _, _) => v
                .downcast::<T>()
                .map(|v| *v)
                .map_err(|_| Error::internal("the parameters were decoded as another type")),
            Params::None => from_text(b"{}"),
            Params::Raw(r) => from_text(r.get().as_bytes()),
            Params::Slice(b, r) => from_text(b.get(r).unwrap_or(b"{}")),
            // By value: strings move into the request instead of being copied.
            Params::Value(v) => serde_path_to_error::deserialize(v)
                .map_err(|e| params_error(&e.path().to_string(), &e.into_inner().to_string())),
        }
    }
}

/// One call of a method.
#[derive(Debug)]
pub struct Call {
    pub ctx: Context,
    pub info: &'static MethodInfo,
    pub params: Params,
    /// The transport the call came in on (`jsonrpc`, `rest`).
    pub transport: &'static str,
    /// Whether the result is checked against the contract before it is sent
    /// ([`ServerConfig::validate_results`](crate::ServerConfig)).
    pub validate_result: bool,
}

/// What a method produced.
#[derive(Debug, Default)]
pub struct Output {
    /// The JSON result as text (`None`: the method returns nothing).
    pub body: Option<String>,
    /// Response headers from `@header` results and `Set-Cookie` from `@cookie` results.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Output {
    /// Serializes a result value.
    pub fn json<T: serde::Serialize>(value: &T) -> Result<Output, Error> {
        let s = serde_json::to_string(value)
            .map_err(|e| Error::internal(format!("cannot encode the result: {e}")))?;
        Ok(Output {
            body: Some(s),
            headers: Vec::new(),
        })
    }

    pub fn empty() -> Output {
        Output::default()
    }

    /// Adds a response header (from a `@header` result).
    pub fn header(&mut self, name: &'static str, value: &str) {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((HeaderName::from_static(name), v));
        }
    }

    /// Adds a cookie (from a `@cookie` result).
    pub fn cookie(&mut self, name: &str, value: &str) {
        let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            self.headers.push((axum::http::header::SET_COOKIE, v));
        }
    }
}

/// Decodes a method's parameters from the start of `text` (a JSON object) straight into its
/// request type; returns the value and the bytes it took, or `None` when they do not decode
/// (the caller then takes the general path, which reports the precise error).
pub type ParamsDecoder = fn(&str) -> Option<(Box<dyn std::any::Any + Send>, usize)>;

/// The [`ParamsDecoder`] of request type `T`.
pub fn decode_params<T>(text: &str) -> Option<(Box<dyn std::any::Any + Send>, usize)>
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<T>();
    match stream.next() {
        Some(Ok(v)) => Some((Box::new(v), stream.byte_offset())),
        _ => None,
    }
}

/// A method's stack: erased, cloneable, shareable.
pub type MethodService = BoxCloneSyncService<Call, Output, Error>;

/// Wraps methods' stacks at start-up. `info` says which method (and its effective settings).
pub trait MethodLayer: Send + Sync + 'static {
    fn layer(&self, info: &'static MethodInfo, inner: MethodService) -> MethodService;
}

/// The handler at the bottom of a method's stack, built by generated code.
pub type Handler = Arc<dyn Fn(Call) -> BoxFuture<'static, Result<Output, Error>> + Send + Sync>;

/// Adapts a handler function into a tower service.
#[derive(Clone)]
pub struct HandlerService(pub Handler);

impl std::fmt::Debug for HandlerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerService")
    }
}

impl tower::Service<Call> for HandlerService {
    type Response = Output;
    type Error = Error;
    type Future = BoxFuture<'static, Result<Output, Error>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Call) -> Self::Future {
        (self.0)(call)
    }
}

/// One method ready to serve: its description and its stack.
#[derive(Clone)]
pub struct MethodEntry {
    pub info: &'static MethodInfo,
    pub service: MethodService,
    /// The method as a handler, when no layer of the user's wraps it (the bare handler, or the
    /// built-in layers fused around it): called directly, skipping the service stack's
    /// per-call clone and its boxed future per layer.
    pub direct: Option<Handler>,
    /// The bare handler with its future's type known ([`ServiceDef::method_fn`]): the built-in
    /// layers then hold that future in their own allocation.
    pub(crate) typed: Option<Arc<dyn super::layers::observe::TypedHandler>>,
    /// Decodes the parameters while the request is read (JSON-RPC's one-pass fast path).
    pub decode: Option<ParamsDecoder>,
    /// Whether the method's layers show its parameters (`@log`): the fast path then keeps
    /// their text beside the decoded value ([`Params::DecodedText`]).
    pub keep_text: bool,
    /// Whether its results are checked against the contract (the server's setting).
    pub validate_result: bool,
}

impl std::fmt::Debug for MethodEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodEntry")
            .field("info", &self.info)
            .finish()
    }
}

/// A service's methods, as generated code hands them to the server.
#[derive(Clone, Debug)]
pub struct ServiceDef {
    pub name: &'static str,
    /// `userService`: the per-service JSON-RPC URL segment.
    pub jsonrpc_name: &'static str,
    pub methods: Vec<MethodEntry>,
    /// The service's gRPC binding (`@grpc`).
    #[cfg(feature = "grpc")]
    pub grpc: Option<&'static crate::grpc::GrpcService>,
    /// Where the emitters of its methods publish (methods with `emits`): the server fills
    /// it when it starts.
    #[cfg(feature = "events")]
    pub events: Option<crate::events::BusSlot>,
}

impl ServiceDef {
    pub fn new(name: &'static str, jsonrpc_name: &'static str) -> ServiceDef {
        ServiceDef {
            name,
            jsonrpc_name,
            methods: Vec::new(),
            #[cfg(feature = "grpc")]
            grpc: None,
            #[cfg(feature = "events")]
            events: None,
        }
    }

    /// The slot its emitters read the bus from (generated code, for methods with `emits`).
    #[cfg(feature = "events")]
    pub fn events(mut self, slot: crate::events::BusSlot) -> ServiceDef {
        self.events = Some(slot);
        self
    }

    /// Serves the service over gRPC too (`@grpc`).
    #[cfg(feature = "grpc")]
    pub fn grpc(mut self, binding: &'static crate::grpc::GrpcService) -> ServiceDef {
        self.grpc = Some(binding);
        self
    }

    /// Adds a method with its handler at the bottom of its stack; `Req` is the method's
    /// request type (its parameters as one record).
    pub fn method<Req>(mut self, info: &'static MethodInfo, handler: Handler) -> ServiceDef
    where
        Req: serde::de::DeserializeOwned + Send + 'static,
    {
        self.methods.push(MethodEntry {
            info,
            service: BoxCloneSyncService::new(HandlerService(handler.clone())),
            direct: Some(handler),
            typed: None,
            decode: Some(decode_params::<Req>),
            keep_text: false,
            validate_result: false,
        });
        self
    }

    /// [`ServiceDef::method`] with the handler as a function returning its future, unboxed
    /// (what generated code uses): a bare method boxes the future as `method` would, and a
    /// method under built-in layers (`@log`, `@metrics`, `@trace`…) boxes it once together with
    /// the layers' state for the call, instead of in a box of its own.
    pub fn method_fn<Req, F, Fut>(mut self, info: &'static MethodInfo, handler: F) -> ServiceDef
    where
        Req: serde::de::DeserializeOwned + Send + 'static,
        F: Fn(Call) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Output, Error>> + Send + 'static,
    {
        let f = Arc::new(handler);
        let boxed: Handler = {
            let f = f.clone();
            Arc::new(move |call| Box::pin(f(call)))
        };
        self.methods.push(MethodEntry {
            info,
            service: BoxCloneSyncService::new(HandlerService(boxed.clone())),
            direct: Some(boxed),
            typed: Some(Arc::new(super::layers::observe::Typed(f))),
            decode: Some(decode_params::<Req>),
            keep_text: false,
            validate_result: false,
        });
        self
    }
}

/// Runs a call through its stack: deadline, panic safety.
pub async fn invoke(entry: &MethodEntry, mut call: Call) -> Result<Output, Error> {
    use futures_util::FutureExt as _;
    use tower::ServiceExt as _;
    if let Some(ms) = entry.info.policies.timeout_ms {
        let limit = std::time::Instant::now() + std::time::Duration::from_millis(ms);
        call.ctx.deadline = Some(call.ctx.deadline.map_or(limit, |d| d.min(limit)));
    }
    let remaining = call.ctx.remaining();
    let fut: BoxFuture<'static, Result<Output, Error>> = match &entry.direct {
        Some(handler) => handler(call),
        None => Box::pin(entry.service.clone().oneshot(call)),
    };
    let fut = std::panic::AssertUnwindSafe(fut).catch_unwind();
    let outcome = match remaining {
        Some(left) => match tokio::time::timeout(left, fut).await {
            Ok(r) => r,
            Err(_) => {
                return Err(Error::new(
                    crate::error::Code::DeadlineExceeded,
                    "the method did not finish before its deadline",
                ));
            }
        },
        None => fut.await,
    };
    match outcome {
        Ok(r) => r,
        Err(_) => Err(Error::internal("the handler panicked")),
    }
}

/// A parameter that does not decode, named with the path to it: ``parameter `tags[2]`: invalid
/// type: string "x", expected a sequence``; ``missing parameter `name` ``.
pub(crate) fn params_error(path: &str, message: &str) -> Error {
    // Map keys are part of the path: a caller's text, quoted only so far.
    let path = &*crate::error::clip(path, 128);
    // serde_json's position (`at line 1 column 12`) means nothing to a REST caller.
    let message = message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i]);
    let hidden = hide_values(message);
    let message = hidden.as_str();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        let at = if path == "." {
            String::new()
        } else {
            format!("{path}.")
        };
        return Error::invalid_argument(format!("missing parameter `{at}{field}`"));
    }
    if path == "." || path.is_empty() {
        return Error::invalid_argument(format!("invalid params: {message}"));
    }
    Error::invalid_argument(format!("parameter `{path}`: {message}"))
}

/// serde's messages without the values they quote (`invalid type: string "hunter2", expected
/// u32` → `invalid type: string, expected u32`): a wrongly typed password must not come back
/// in the error, nor reach the call log through it. The kind and the expectation stay.
fn hide_values(message: &str) -> String {
    use std::sync::OnceLock;
    static VALUES: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let re = VALUES.get_or_init(|| {
        regex::Regex::new(
            r#"(string|integer|floating point|boolean|character|byte array|unknown variant) ("(?:[^"\\]|\\.)*"|`[^`]*`)"#,
        )
        .ok()
    });
    match re {
        Some(re) => re.replace_all(message, "$1").into_owned(),
        None => "invalid value".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameter_errors_do_not_echo_values() {
        let e = super::params_error(
            "password",
            "invalid type: string \"hunter2\", expected u32 at line 1 column 20",
        );
        assert_eq!(
            e.message,
            "parameter `password`: invalid type: string, expected u32"
        );
        let e = super::params_error(
            "role",
            "unknown variant `s3cret`, expected `admin` or `member`",
        );
        assert_eq!(
            e.message,
            "parameter `role`: unknown variant, expected `admin` or `member`"
        );
        let e = super::params_error("n", "invalid value: integer `-4`, expected u8");
        assert_eq!(
            e.message,
            "parameter `n`: invalid value: integer, expected u8"
        );
    }
}
