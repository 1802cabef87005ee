//! `@trace`: a server span per call, named and attributed by the OpenTelemetry conventions —
//! `{service}/{method}` with `rpc.*` attributes for JSON-RPC and gRPC, `{METHOD} {route}` with
//! `http.*` attributes for REST — continuing the caller's trace from `traceparent` (or from
//! the JSON-RPC batch the call is part of). The span is in the handler's `Context`
//! (`ctx.trace`) and is the task's current span, so clients called from the handler continue
//! it and every log line of the call carries its ids.

use crate::error::Error;
use crate::method::{Call, MethodInfo, Output};
use crate::telemetry::{self, Attributes, CallSpan, CallSpanEnd, SpanContext, SpanHead, SpanKind};

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
        rpc_head: SpanHead::new(&span_name(info, false), SpanKind::Server),
        rest_head: SpanHead::new(&span_name(info, true), SpanKind::Server),
        rpc_attributes,
        rest_attributes,
        grpc_attributes,
    }
}

pub(super) struct Tracer {
    info: &'static MethodInfo,
    /// The spans' names and kind, encoded once.
    rpc_head: SpanHead,
    rest_head: SpanHead,
    /// The attributes every span of this method carries, encoded once per transport.
    rpc_attributes: Attributes,
    rest_attributes: Attributes,
    grpc_attributes: Attributes,
}

/// A call's span in progress.
pub(super) struct Started {
    span: CallSpan,
    rest: bool,
    grpc: bool,
    /// The verified token's subject (`enduser.id`), when the span is recorded.
    subject: Option<String>,
}

impl Started {
    /// Makes the span the current one (while the call's future is polled) until the guard is
    /// dropped.
    #[inline]
    pub(super) fn enter(&mut self) -> telemetry::Current<'_> {
        self.span.enter()
    }

    /// When the span started ([`telemetry::clock::monotonic_nanos`]).
    pub(super) fn started(&self) -> u64 {
        self.span.started()
    }

    /// The wall-clock time `elapsed` after the span started, and the span: when and where
    /// the call's event is.
    pub(super) fn at(&self, elapsed: std::time::Duration) -> super::log::At<'_> {
        (
            self.span.start_unix_nanos() + elapsed.as_nanos() as u64,
            self.span.context(),
        )
    }

    /// The verified token's subject (`enduser.id`).
    pub(super) fn set_subject(&mut self, subject: &str) {
        if self.span.is_recording() {
            self.subject = Some(subject.to_string());
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
        let span = CallSpan::start(parent.as_ref());
        call.ctx.trace = Some(span.context().clone());
        Started {
            span,
            rest: call.transport == "rest",
            grpc: call.transport == "grpc",
            subject: None,
        }
    }

    /// Ends the span `elapsed` after it started, with the call's outcome (`None`: the call
    /// was dropped before it had one — no status), and queues it for export.
    pub(super) fn end(
        &self,
        started: &Started,
        outcome: Option<&Result<Output, Error>>,
        elapsed: std::time::Duration,
        request_id: &str,
        client: Option<&telemetry::Address>,
    ) {
        let Started {
            span,
            rest,
            grpc,
            subject,
        } = started;
        let (rest, grpc) = (*rest, *grpc);
        if !span.is_recording() {
            return;
        }
        let (mut error_type, mut status, mut error) = (None, None, None);
        match outcome {
            Some(Ok(_)) if grpc => status = Some(("rpc.grpc.status_code", 0)),
            Some(Ok(_)) => {
                if let (true, Some(http)) = (rest, &self.info.http) {
                    status = Some(("http.response.status_code", i64::from(http.status)));
                }
            }
            Some(Err(e)) => {
                error_type = Some(e.code.as_str());
                status = Some(if rest {
                    ("http.response.status_code", i64::from(e.http_status()))
                } else if grpc {
                    ("rpc.grpc.status_code", i64::from(e.kind.grpc()))
                } else {
                    ("rpc.jsonrpc.error_code", e.jsonrpc_code())
                });
                error = Some(e.message.as_str());
            }
            None => {}
        }
        let (head, attributes) = if rest {
            (&self.rest_head, &self.rest_attributes)
        } else if grpc {
            (&self.rpc_head, &self.grpc_attributes)
        } else {
            (&self.rpc_head, &self.rpc_attributes)
        };
        span.end(
            elapsed,
            &CallSpanEnd {
                head,
                attributes,
                client,
                request_id,
                subject: subject.as_deref(),
                error_type,
                status,
                error,
            },
        );
    }
}

/// `{service}/{method}` (RPC conventions) or `{METHOD} {route}` (HTTP conventions).
fn span_name(info: &MethodInfo, rest: bool) -> String {
    match (&info.http, rest) {
        (Some(http), true) => format!("{} {}", http.method, http.path),
        _ => format!("{}/{}", info.service, info.name),
    }
}
