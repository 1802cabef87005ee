//! The JSON-RPC 2.0 client transport, and typed batches of calls.

use super::{ClientConfig, ClientOutput, Core, Split, error_from_rest, split};
use crate::context::Context;
use crate::error::{Code, Error};
use crate::method::{Location, MethodInfo};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};

/// JSON-RPC params: every parameter except those sent as headers or cookies, as typed JSON.
fn rpc_params(
    info: &MethodInfo,
    req: &impl serde::Serialize,
) -> Result<(Map<String, Value>, Split), Error> {
    let s = split(info, req)?;
    let value = serde_json::to_value(req)
        .map_err(|e| Error::internal(format!("cannot encode the request: {e}")))?;
    let Value::Object(mut params) = value else {
        return Err(Error::internal("the request is not an object"));
    };
    for p in info.params {
        if matches!(p.location, Location::Header(_) | Location::Cookie(_))
            || params.get(p.name).is_some_and(Value::is_null)
        {
            params.remove(p.name);
        }
    }
    Ok((params, s))
}

/// An error from a JSON-RPC `error` object: the string code from `data.code` when present.
fn error_from_jsonrpc(obj: &Value) -> Error {
    let message = obj
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let num = obj.get("code").and_then(Value::as_i64).unwrap_or(0);
    let mut data = obj.get("data").cloned();
    let code = data
        .as_mut()
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("code"))
        .and_then(|c| c.as_str().map(str::to_string));
    let kind = code
        .as_deref()
        .and_then(Code::from_str_code)
        .or_else(|| Code::from_declared_jsonrpc(num))
        .unwrap_or(match num {
            crate::error::jsonrpc_codes::INVALID_PARAMS
            | crate::error::jsonrpc_codes::INVALID_REQUEST => Code::InvalidArgument,
            crate::error::jsonrpc_codes::METHOD_NOT_FOUND => Code::Unimplemented,
            _ => Code::Internal,
        });
    Error {
        code: code.unwrap_or_else(|| kind.as_str().to_string()),
        message,
        data,
        ..Error::new(kind, "")
    }
}

/// A refusal with an HTTP status (413, 408, 404 …): the server answers these on JSON-RPC
/// paths with a JSON-RPC response carrying the error object; other peers may send a REST body.
fn error_from_http(status: u16, body: &[u8]) -> Error {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match v.get("error").filter(|e| e.is_object()) {
        Some(obj) if v.get("jsonrpc").is_some() => Error {
            http_status: Some(status),
            ..error_from_jsonrpc(obj)
        },
        _ => error_from_rest(status, body),
    }
}

/// The JSON-RPC 2.0 transport.
#[derive(Clone, Debug)]
pub struct JsonRpcClient {
    core: Core,
    next_id: Arc<std::sync::atomic::AtomicU64>,
}

impl JsonRpcClient {
    pub fn new(config: ClientConfig) -> JsonRpcClient {
        JsonRpcClient {
            core: Core::new(config),
            next_id: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        }
    }

    fn url(&self) -> String {
        format!(
            "{}{}",
            self.core.config.base_url, self.core.config.rpc_prefix
        )
    }

    /// Calls one method, under its breaker, retries and fallback cache (`resilience.rs`).
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
        let name = info
            .jsonrpc
            .ok_or_else(|| Error::new(Code::Unimplemented, "not served over JSON-RPC"))?;
        let (params, s) = rpc_params(info, req)?;
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body =
            serde_json::json!({ "jsonrpc": "2.0", "method": name, "params": params, "id": id })
                .to_string();
        let timeout = self.core.timeout(Some(info), ctx);
        let (status, headers, bytes) = self
            .core
            .send(
                reqwest::Method::POST,
                self.url(),
                Some(body),
                &s.headers,
                &s.cookies,
                ctx,
                timeout,
                &|v| {
                    if let Some(params) = v.get_mut("params") {
                        crate::mask::mask_all(params, &info.policies.sensitive);
                    }
                },
                Some(super::Traced { info, rest: false }),
            )
            .await?;
        if status != 200 {
            return Err(error_from_http(status, &bytes));
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::internal(format!("invalid JSON-RPC response: {e}")))?;
        if let Some(err) = v.get("error") {
            return Err(error_from_jsonrpc(err));
        }
        Ok(ClientOutput {
            result: v.get("result").cloned().unwrap_or(Value::Null),
            headers,
            results: info.results,
        })
    }
}

type Outcome = Arc<Mutex<Option<Result<Value, Error>>>>;

/// Calls collected into one JSON-RPC batch request.
#[derive(Debug, Default)]
pub struct Batch {
    calls: Vec<(Value, Outcome, &'static MethodInfo)>,
}

/// Where one call's result lands once its batch is sent.
#[derive(Debug)]
pub struct Slot<T, E> {
    outcome: Outcome,
    to_error: fn(Error) -> E,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned, E> Slot<T, E> {
    /// The call's result (an error if the batch was not sent or the call failed).
    pub fn take(self) -> Result<T, E> {
        let taken = self.outcome.lock().map(|mut g| g.take()).unwrap_or(None);
        match taken {
            Some(Ok(v)) => serde_json::from_value(v).map_err(|e| {
                (self.to_error)(Error::internal(format!("cannot decode the result: {e}")))
            }),
            Some(Err(e)) => Err((self.to_error)(e)),
            None => Err((self.to_error)(Error::new(
                Code::FailedPrecondition,
                "the batch was not sent",
            ))),
        }
    }
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Adds a call (generated batch types call this).
    pub fn push<T, E>(
        &mut self,
        info: &'static MethodInfo,
        req: &impl serde::Serialize,
        to_error: fn(Error) -> E,
    ) -> Slot<T, E> {
        let outcome: Outcome = Arc::new(Mutex::new(None));
        let id = self.calls.len() + 1;
        let request = match (info.jsonrpc, rpc_params(info, req)) {
            (Some(name), Ok((params, _))) => Ok(
                serde_json::json!({ "jsonrpc": "2.0", "method": name, "params": params, "id": id }),
            ),
            (None, _) => Err(Error::new(Code::Unimplemented, "not served over JSON-RPC")),
            (_, Err(e)) => Err(e),
        };
        match request {
            Ok(r) => self.calls.push((r, outcome.clone(), info)),
            Err(e) => {
                if let Ok(mut g) = outcome.lock() {
                    *g = Some(Err(e));
                }
            }
        }
        Slot {
            outcome,
            to_error,
            _t: std::marker::PhantomData,
        }
    }

    /// Sends every call in one request; each slot then holds its call's result.
    pub async fn send(&mut self, client: &JsonRpcClient, ctx: &Context) -> Result<(), Error> {
        if self.calls.is_empty() {
            return Ok(());
        }
        let body = Value::Array(self.calls.iter().map(|(r, _, _)| r.clone()).collect()).to_string();
        let infos: Vec<&'static MethodInfo> = self.calls.iter().map(|(_, _, i)| *i).collect();
        let timeout = client.core.timeout(None, ctx);
        let (status, _, bytes) = client
            .core
            .send(
                reqwest::Method::POST,
                client.url(),
                Some(body),
                &[],
                &[],
                ctx,
                timeout,
                &|v| {
                    // Each call of the batch with its own method's sensitive values.
                    if let Value::Array(calls) = v {
                        for (call, info) in calls.iter_mut().zip(&infos) {
                            if let Some(params) = call.get_mut("params") {
                                crate::mask::mask_all(params, &info.policies.sensitive);
                            }
                        }
                    }
                },
                // The batch continues the caller's trace; it is not one method's call.
                None,
            )
            .await?;
        if status != 200 {
            return Err(error_from_http(status, &bytes));
        }
        let replies: Vec<Value> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::internal(format!("invalid batch response: {e}")))?;
        for (i, (_, outcome, _)) in self.calls.drain(..).enumerate() {
            let id = Value::from(i + 1);
            let reply = replies.iter().find(|r| r.get("id") == Some(&id));
            let result = match reply {
                Some(r) => match r.get("error") {
                    Some(e) => Err(error_from_jsonrpc(e)),
                    None => Ok(r.get("result").cloned().unwrap_or(Value::Null)),
                },
                None => Err(Error::internal("no reply for this call")),
            };
            if let Ok(mut g) = outcome.lock() {
                *g = Some(result);
            }
        }
        Ok(())
    }
}
