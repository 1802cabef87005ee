//! `@trace`: a server span per call, named and attributed by the OpenTelemetry conventions —
//! `{service}/{method}` with `rpc.*` attributes for JSON-RPC, `{METHOD} {route}` with
//! `http.*` attributes for REST — continuing the caller's trace from `traceparent` (or from
//! the JSON-RPC batch the call is part of). The span is in the handler's `Context`
//! (`ctx.trace`) and is the task's current span, so clients called from the handler continue
//! it and every log line of the call carries its ids.

use crate::error::Error;
use crate::method::{Call, MethodInfo, MethodService, Output};
use crate::telemetry::{self, Attributes, Span, SpanContext, SpanKind};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

/// Wraps a method's stack with its server span.
pub(super) fn layer(info: &'static MethodInfo, inner: MethodService) -> MethodService {
    let mut rpc = vec![
        ("rpc.system", "jsonrpc"),
        ("rpc.jsonrpc.version", "2.0"),
        ("rpc.service", info.service),
        ("rpc.method", info.name),
    ];
    let rpc_attributes = Attributes::new(&rpc);
    rpc.drain(..2);
    if let Some(http) = &info.http {
        rpc.push(("http.request.method", &http.method));
        rpc.push(("http.route", &http.path));
    }
    let rest_attributes = Attributes::new(&rpc);
    MethodService::new(Traced {
        info,
        inner,
        rpc_name: span_name(info, false),
        rest_name: span_name(info, true),
        rpc_attributes,
        rest_attributes,
    })
}

#[derive(Clone)]
struct Traced {
    info: &'static MethodInfo,
    inner: MethodService,
    /// The span names, made once.
    rpc_name: Arc<str>,
    rest_name: Arc<str>,
    /// The attributes every span of this method carries, encoded once per transport.
    rpc_attributes: Attributes,
    rest_attributes: Attributes,
}

impl tower::Service<Call> for Traced {
    type Response = Output;
    type Error = Error;
    type Future = BoxFuture<'static, Result<Output, Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut call: Call) -> Self::Future {
        let info = self.info;
        let parent = call
            .ctx
            .trace
            .take()
            .or_else(|| SpanContext::from_headers(&call.ctx.headers));
        let rest = call.transport == "rest";
        let name = if rest {
            &self.rest_name
        } else {
            &self.rpc_name
        };
        let mut span = Span::start(name, SpanKind::Server, parent.as_ref());
        if span.is_recording() {
            span.add_attributes(if rest {
                &self.rest_attributes
            } else {
                &self.rpc_attributes
            });
            if let Some(addr) = call.ctx.client_addr {
                span.set_attribute("client.address", telemetry::Value::Ip(addr.ip()));
                span.set_attribute("client.port", i64::from(addr.port()));
            }
            if !call.ctx.request_id.is_empty() {
                span.set_str("svcc.request_id", &call.ctx.request_id);
            }
        }
        let current = span.context().clone();
        call.ctx.trace = Some(current.clone());
        let fut = self.inner.call(call);
        Box::pin(async move {
            let outcome = telemetry::scope(current, fut).await;
            if span.is_recording() {
                match &outcome {
                    Ok(_) => {
                        if let (true, Some(http)) = (rest, &info.http) {
                            span.set_attribute("http.response.status_code", i64::from(http.status));
                        }
                    }
                    Err(e) => {
                        span.set_str("error.type", &e.code);
                        if rest {
                            span.set_attribute(
                                "http.response.status_code",
                                i64::from(e.http_status()),
                            );
                        } else {
                            span.set_attribute("rpc.jsonrpc.error_code", e.jsonrpc_code());
                        }
                        span.set_error(e.message.clone());
                    }
                }
            }
            span.end();
            outcome
        })
    }
}

/// `{service}/{method}` (RPC conventions) or `{METHOD} {route}` (HTTP conventions).
fn span_name(info: &MethodInfo, rest: bool) -> Arc<str> {
    match (&info.http, rest) {
        (Some(http), true) => format!("{} {}", http.method, http.path).into(),
        _ => format!("{}/{}", info.service, info.name).into(),
    }
}
