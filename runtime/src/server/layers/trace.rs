//! `@trace`: a server span per call, named and attributed by the OpenTelemetry conventions —
//! `{service}/{method}` with `rpc.*` attributes for JSON-RPC and gRPC, `{METHOD} {route}` with
//! `http.*` attributes for REST — continuing the caller's trace from `traceparent` (or from
//! the JSON-RPC batch the call is part of). The span is in the handler's `Context`
//! (`ctx.trace`) and is the task's current span, so clients called from the handler continue
//! it and every log line of the call carries its ids.

use crate::error::Error;
use crate::method::{Call, MethodInfo, Output};
use crate::telemetry::{self, Attributes, Span, SpanContext, SpanKind};
use std::sync::Arc;

/// One method's span settings, made once.
pub(super) fn tracer(info: &'static MethodInfo) -> Tracer {
    let mut rpc = vec![
        ("rpc.system", "jsonrpc"),
        ("rpc.jsonrpc.version", "2.0"),
        ("rpc.service", info.service),
        ("rpc.method", info.name),
    ];
    let rpc_attributes = Attributes::new(&rpc);
    let grpc_attributes = Attributes::new(&[
        ("rpc.system", "grpc"),
        ("rpc.service", info.service),
        ("rpc.method", info.name),
    ]);
    rpc.drain(..2);
    if let Some(http) = &info.http {
        rpc.push(("http.request.method", &http.method));
        rpc.push(("http.route", &http.path));
    }
    let rest_attributes = Attributes::new(&rpc);
    Tracer {
        info,
        rpc_name: span_name(info, false),
        rest_name: span_name(info, true),
        rpc_attributes,
        rest_attributes,
        grpc_attributes,
    }
}

pub(super) struct Tracer {
    info: &'static MethodInfo,
    /// The span names, made once.
    rpc_name: Arc<str>,
    rest_name: Arc<str>,
    /// The attributes every span of this method carries, encoded once per transport.
    rpc_attributes: Attributes,
    rest_attributes: Attributes,
    grpc_attributes: Attributes,
}

/// A call's span in progress.
pub(super) struct Started {
    span: Span,
    rest: bool,
    grpc: bool,
}

impl Started {
    /// The span's identity, to make current while the call runs.
    pub(super) fn context(&self) -> &SpanContext {
        self.span.context()
    }

    /// When the span started (the monotonic clock).
    pub(super) fn started(&self) -> std::time::Instant {
        self.span.started()
    }

    /// The wall-clock time `elapsed` after the span started, and the span's ids: where and
    /// when the call's event is.
    pub(super) fn at(&self, elapsed: std::time::Duration) -> super::log::At<'_> {
        (
            self.span.start_unix_nanos() + elapsed.as_nanos() as u64,
            self.span.context(),
        )
    }

    /// The verified token's subject (`enduser.id`).
    pub(super) fn set_subject(&mut self, subject: &str) {
        if self.span.is_recording() {
            self.span.set_str("enduser.id", subject);
        }
    }
}

impl Tracer {
    /// Starts the call's span (a child of the caller's, from the context or `traceparent`)
    /// and puts it in the call's context.
    pub(super) fn start(&self, call: &mut Call) -> Started {
        let parent = call
            .ctx
            .trace
            .take()
            .or_else(|| SpanContext::from_headers(&call.ctx.headers));
        let rest = call.transport == "rest";
        let grpc = call.transport == "grpc";
        let name = if rest {
            &self.rest_name
        } else {
            &self.rpc_name
        };
        let mut span = Span::start(name, SpanKind::Server, parent.as_ref());
        if span.is_recording() {
            span.add_attributes(if rest {
                &self.rest_attributes
            } else if grpc {
                &self.grpc_attributes
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
        call.ctx.trace = Some(span.context().clone());
        Started { span, rest, grpc }
    }

    /// Ends the span with the call's outcome, `elapsed` after it started.
    pub(super) fn end(
        &self,
        started: Started,
        outcome: &Result<Output, Error>,
        elapsed: std::time::Duration,
    ) {
        let Started {
            mut span,
            rest,
            grpc,
        } = started;
        if span.is_recording() {
            match outcome {
                Ok(_) if grpc => span.set_attribute("rpc.grpc.status_code", 0),
                Ok(_) => {
                    if let (true, Some(http)) = (rest, &self.info.http) {
                        span.set_attribute("http.response.status_code", i64::from(http.status));
                    }
                }
                Err(e) => {
                    span.set_str("error.type", &e.code);
                    if rest {
                        span.set_attribute("http.response.status_code", i64::from(e.http_status()));
                    } else if grpc {
                        span.set_attribute("rpc.grpc.status_code", i64::from(e.kind.grpc()));
                    } else {
                        span.set_attribute("rpc.jsonrpc.error_code", e.jsonrpc_code());
                    }
                    span.set_error(e.message.clone());
                }
            }
        }
        span.end_after(elapsed);
    }
}

/// `{service}/{method}` (RPC conventions) or `{METHOD} {route}` (HTTP conventions).
fn span_name(info: &MethodInfo, rest: bool) -> Arc<str> {
    match (&info.http, rest) {
        (Some(http), true) => format!("{} {}", http.method, http.path).into(),
        _ => format!("{}/{}", info.service, info.name).into(),
    }
}
