//! A collector that is down, or a queue that is full, costs dropped telemetry (counted), never
//! an error or a wait on the caller's side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_runtime::telemetry::{self, Settings, Span, SpanKind};

#[test]
fn spans_to_a_dead_collector_are_dropped_and_counted() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(telemetry::init(Settings::from_lookup(|k| match k {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(format!("http://127.0.0.1:{port}")),
        "OTEL_BSP_MAX_QUEUE_SIZE" => Some("4".to_string()),
        "OTEL_BSP_SCHEDULE_DELAY" => Some("60000".to_string()),
        _ => None,
    })));
    // More spans than the queue holds, faster than the worker can fail on them.
    for i in 0..200 {
        let mut s = Span::start("burst", SpanKind::Internal, None);
        s.set_attribute("i", i64::from(i));
        s.end();
    }
    telemetry::flush(std::time::Duration::from_secs(10));
    // Every span is accounted for as dropped: by the full queue or by the failed export.
    assert_eq!(telemetry::dropped_spans(), 200);
}
