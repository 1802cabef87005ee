//! OTLP/gRPC export: spans and log records reach a real receiver over HTTP/2, framed as gRPC,
//! and decode with the official definitions; a log record made inside a span carries its ids.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_receiver::{Receiver, SpanKind, attribute, log_attribute};
use svcc_runtime::telemetry::{self, LogData, Settings, Span, SpanContext};

#[test]
fn spans_and_logs_export_over_grpc() {
    let receiver = Receiver::start();
    let endpoint = receiver.endpoint();
    assert!(telemetry::init(Settings::from_lookup(|k| match k {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("grpc".to_string()),
        "OTEL_SERVICE_NAME" => Some("grpc-export".to_string()),
        "OTEL_RESOURCE_ATTRIBUTES" => Some("deployment.environment=test".to_string()),
        _ => None,
    })));
    let parent =
        SpanContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .unwrap();
    let mut span = Span::start("Work/do", telemetry::SpanKind::Server, Some(&parent));
    span.set_attribute("rpc.method", "do");
    span.set_attribute("attempt", 3_i64);
    span.set_error("it broke");
    let ids = (span.context().trace_id, span.context().span_id);
    span.end();
    assert!(telemetry::logs_enabled());
    telemetry::record_log(LogData {
        unix_nanos: telemetry::now_unix_nanos(),
        level: tracing::Level::ERROR,
        target: "work".into(),
        body: "it broke".to_string(),
        attributes: vec![("code".into(), telemetry::Value::Int(7))],
        trace: Some(ids),
    });
    telemetry::flush(std::time::Duration::from_secs(10));
    let spans = receiver.spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let s = &spans[0];
    assert_eq!(s.service, "grpc-export");
    assert_eq!(s.span.name, "Work/do");
    assert_eq!(s.span.kind, SpanKind::Server as i32);
    assert_eq!(s.span.trace_id, parent.trace_id.0.to_vec());
    assert_eq!(s.span.parent_span_id, parent.span_id.0.to_vec());
    assert_eq!(attribute(&s.span, "attempt").as_deref(), Some("3"));
    assert_eq!(
        s.span.status.as_ref().map(|st| st.message.as_str()),
        Some("it broke")
    );
    assert!(s.span.end_time_unix_nano >= s.span.start_time_unix_nano);
    assert_eq!(s.span.flags & 1, 1, "sampled");
    let logs = receiver.logs();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    let r = &logs[0].record;
    assert_eq!(r.severity_number, 17);
    assert_eq!(r.trace_id, ids.0.0.to_vec());
    assert_eq!(r.span_id, ids.1.0.to_vec());
    assert_eq!(log_attribute(r, "code").as_deref(), Some("7"));
    assert_eq!(telemetry::dropped_spans(), 0);
}
