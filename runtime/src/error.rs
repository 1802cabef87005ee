//! The error model shared by every transport: canonical codes with their HTTP statuses,
//! JSON-RPC codes and gRPC codes in one table; the platform error; validation violations.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The canonical error codes with their gRPC codes, HTTP statuses and JSON-RPC codes, and
/// the standard JSON-RPC codes: one table, shared with the compiler through `svcc-rules`.
pub use svcc_rules::{Code, jsonrpc_codes};

/// One broken rule of a request: where, which rule, and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// `user.tags[2]`, `email`, …
    pub path: String,
    /// `length`, `range`, `pattern`, `format`, `unique`, `required`, `type`, …
    pub rule: String,
    pub message: String,
}

/// An error as it crosses a transport: the canonical kind, a stable string code, a message,
/// and optional data (a declared error's payload, or the violations of a request).
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub kind: Code,
    /// `USER_NOT_FOUND` for declared errors; the kind's name otherwise.
    pub code: String,
    pub message: String,
    pub data: Option<Value>,
    /// Overrides the kind's HTTP status (`@http_status`).
    pub http_status: Option<u16>,
    /// A declared error of the contract (its JSON-RPC code is in the application range).
    pub declared: bool,
    /// Headers for an HTTP answer (`WWW-Authenticate`, `Retry-After`); JSON-RPC answers
    /// carry what matters of them in `data`.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

impl Error {
    pub fn new(kind: Code, message: impl Into<String>) -> Error {
        Error {
            kind,
            code: kind.as_str().to_string(),
            message: message.into(),
            data: None,
            http_status: None,
            declared: false,
            headers: Vec::new(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(Code::Internal, message)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(Code::InvalidArgument, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::new(Code::Unavailable, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Error {
        Error::new(Code::Unauthenticated, message)
    }

    /// A request that broke the contract's constraints: every violation, in `data`.
    pub fn validation(violations: Vec<Violation>) -> Error {
        let message = match violations.as_slice() {
            [one] => format!("invalid request: {}: {}", one.path, one.message),
            many => format!("invalid request: {} violations", many.len()),
        };
        Error {
            data: Some(serde_json::json!({ "violations": violations })),
            ..Error::new(Code::InvalidArgument, message)
        }
    }

    /// Adds a header to the HTTP answer (a value that is not a valid header is dropped).
    pub fn with_header(mut self, name: http::HeaderName, value: &str) -> Error {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub fn with_data(mut self, data: Value) -> Error {
        self.data = Some(data);
        self
    }

    pub fn http_status(&self) -> u16 {
        self.http_status.unwrap_or_else(|| self.kind.http_status())
    }

    /// The JSON-RPC `error.code`: `1000 + gRPC code` for declared errors; for the platform's
    /// own errors -32602 (invalid params, validation), -32603 (internal) or `1000 + gRPC code`.
    pub fn jsonrpc_code(&self) -> i64 {
        if self.declared {
            self.kind.declared_jsonrpc()
        } else {
            self.kind.jsonrpc()
        }
    }

    /// The `error` object of a JSON-RPC response. Declared errors carry their string code in
    /// `data.code` next to their payload fields.
    pub fn to_jsonrpc(&self) -> Value {
        let mut data = match &self.data {
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), other.clone());
                m
            }
            None => serde_json::Map::new(),
        };
        data.insert("code".into(), Value::String(self.code.clone()));
        serde_json::json!({
            "code": self.jsonrpc_code(),
            "message": self.message,
            "data": data,
        })
    }

    /// The JSON body of a REST error response: `{code, message, data}`.
    pub fn to_rest_body(&self) -> Value {
        let mut body = serde_json::json!({ "code": self.code, "message": self.message });
        if let (Some(d), Value::Object(m)) = (&self.data, &mut body) {
            m.insert("data".into(), d.clone());
        }
        body
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// A declared error of a contract (generated types implement it).
pub trait ApiError: Sized + serde::Serialize + serde::de::DeserializeOwned {
    /// The stable string code (`USER_NOT_FOUND`).
    const CODE: &'static str;
    const KIND: Code;
    /// `@http_status`, when the contract overrides the kind's status.
    const HTTP_STATUS: Option<u16> = None;
    /// The message sent with the error (the first line of its docs, or its code).
    const MESSAGE: &'static str;

    /// The message sent with the error.
    fn message(&self) -> String {
        Self::MESSAGE.to_string()
    }

    /// The payload as a JSON object (the error's fields).
    fn payload(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Rebuilds the error from a payload (clients decoding responses).
    fn from_payload(data: &Value) -> Option<Self> {
        serde_json::from_value(data.clone()).ok()
    }

    /// This error, when `e` carries its code and a payload that decodes (no payload counts as
    /// an empty one, so an error without fields is recognized by its code alone — the
    /// platform's own refusals, such as a bearer token's, send none over REST).
    fn recognize(e: &Error) -> Option<Self> {
        if e.code != Self::CODE {
            return None;
        }
        match &e.data {
            Some(data) => Self::from_payload(data),
            None => Self::from_payload(&Value::Object(serde_json::Map::new())),
        }
    }

    fn to_error(&self) -> Error {
        Error {
            kind: Self::KIND,
            code: Self::CODE.to_string(),
            message: self.message(),
            data: Some(self.payload()),
            http_status: Self::HTTP_STATUS,
            declared: true,
            headers: Vec::new(),
        }
    }
}

/// At most `max` characters of `text` (what an error message may quote of a caller's input),
/// with `…` when it was longer.
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((at, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..at])),
    }
}
