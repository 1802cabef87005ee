//! The REST client transport: a method's `@http` binding, with path, query, header and cookie
//! parameters where the contract puts them.

use super::{ClientConfig, ClientOutput, Core, error_from_rest, split};
use crate::context::Context;
use crate::error::{Code, Error};
use crate::method::{Location, MethodInfo};
use serde_json::Value;

/// Percent-encodes a path segment or query component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The REST transport.
#[derive(Clone, Debug)]
pub struct RestClient {
    core: Core,
}

impl RestClient {
    pub fn new(config: ClientConfig) -> RestClient {
        RestClient {
            core: Core::new(config),
        }
    }

    /// Calls one method through its `@http` binding, under its breaker, retries and fallback
    /// cache (`resilience.rs`).
    pub async fn call(
        &self,
        info: &'static MethodInfo,
        req: &impl serde::Serialize,
        ctx: &Context,
    ) -> Result<ClientOutput, Error> {
        self.core
            .resilient(info, req, ctx, |ctx| async move {
                self.call_once(info, req, &ctx).await
            })
            .await
    }

    /// One request.
    async fn call_once(
        &self,
        info: &'static MethodInfo,
        req: &impl serde::Serialize,
        ctx: &Context,
    ) -> Result<ClientOutput, Error> {
        let binding = info
            .http
            .as_ref()
            .ok_or_else(|| Error::new(Code::Unimplemented, "not served over REST"))?;
        let s = split(info, req)?;
        let mut path = binding.path.to_string();
        for (k, v) in &s.path {
            path = path.replace(&format!("{{{k}}}"), &encode(v));
        }
        let mut url = format!("{}{}", self.core.config.base_url, path);
        if !s.query.is_empty() {
            let q: Vec<String> = s
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        let method =
            reqwest::Method::from_bytes(binding.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let has_body = info.params.iter().any(|p| p.location == Location::Body)
            && !matches!(&*binding.method, "GET" | "DELETE" | "HEAD");
        let body = has_body.then(|| Value::Object(s.body).to_string());
        let timeout = self.core.timeout(Some(info), ctx);
        let (status, headers, bytes) = self
            .core
            .send(
                method,
                url,
                body,
                &s.headers,
                &s.cookies,
                ctx,
                timeout,
                &|v| {
                    crate::mask::mask_all(v, &info.policies.sensitive);
                },
                Some(super::Traced { info, rest: true }),
            )
            .await?;
        if status >= 400 {
            return Err(error_from_rest(status, &bytes));
        }
        let result = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| Error::internal(format!("invalid response body: {e}")))?
        };
        Ok(ClientOutput {
            result,
            headers,
            results: info.results,
        })
    }
}
