//! Request ids: the caller's `X-Request-Id` (or the configured header) when it is printable
//! text, else a fresh UUID v4. The connection service (`dispatch.rs`) applies it to every
//! request and echoes it on the response.

use axum::http::HeaderValue;

/// A fresh id: a UUID v4 formatted on the stack.
pub(crate) fn fresh() -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}
