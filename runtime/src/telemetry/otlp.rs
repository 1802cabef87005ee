//! OTLP's protobuf messages, encoded by hand: the few messages export needs
//! (`ExportTraceServiceRequest`, `ExportLogsServiceRequest` and what they hold), field numbers
//! from `opentelemetry-proto`. The tests decode what this writes with the official
//! definitions (`opentelemetry-proto`'s prost types), so a wrong number cannot pass.

#![cfg_attr(not(feature = "otlp"), allow(dead_code))]

use super::{LogData, Settings, SpanData, Status, Value};

/// The instrumentation scope every span and record names.
const SCOPE: &str = "svcc-runtime";

#[derive(Default)]
pub(super) struct Enc(pub(super) Vec<u8>);

impl Enc {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from(field << 3 | wire));
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
    }

    fn fixed64(&mut self, field: u32, v: u64) {
        self.key(field, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn fixed32(&mut self, field: u32, v: u32) {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A nested message, written in place: one byte is kept for its length, which is
    /// widened afterwards when the message is 128 bytes or longer (no buffer per message).
    fn message(&mut self, field: u32, f: impl FnOnce(&mut Enc)) {
        self.key(field, 2);
        let at = self.0.len();
        self.0.push(0);
        f(self);
        let len = self.0.len() - at - 1;
        if len < 0x80 {
            self.0[at] = len as u8;
            return;
        }
        let mut prefix = [0u8; 10];
        let mut n = 0;
        let mut v = len as u64;
        while v >= 0x80 {
            prefix[n] = (v as u8) | 0x80;
            v >>= 7;
            n += 1;
        }
        prefix[n] = v as u8;
        n += 1;
        self.0.splice(at..at + 1, prefix[..n].iter().copied());
    }

    /// `KeyValue { key = 1; AnyValue value = 2 }`.
    fn attribute(&mut self, field: u32, key: &str, value: &Value) {
        self.message(field, |kv| {
            kv.string(1, key);
            kv.message(2, |any| any.any_value(value));
        });
    }

    /// `AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4 }`.
    fn any_value(&mut self, value: &Value) {
        match value {
            Value::Str(s) => self.bytes(1, s.as_bytes()),
            Value::Bool(b) => {
                self.key(2, 0);
                self.varint(u64::from(*b));
            }
            Value::Int(i) => {
                self.key(3, 0);
                self.varint(*i as u64);
            }
            Value::F64(f) => self.fixed64(4, f.to_bits()),
            Value::Ip(ip) => self.bytes(1, ip.to_string().as_bytes()),
        }
    }

    /// `Resource { attributes = 1 }`.
    fn resource(&mut self, field: u32, settings: &Settings) {
        self.message(field, |r| {
            r.attribute(
                1,
                "service.name",
                &Value::from(settings.service_name.clone()),
            );
            r.attribute(1, "telemetry.sdk.name", &Value::from("svcc-runtime"));
            r.attribute(1, "telemetry.sdk.language", &Value::from("rust"));
            r.attribute(
                1,
                "telemetry.sdk.version",
                &Value::from(env!("CARGO_PKG_VERSION")),
            );
            for (k, v) in &settings.resource {
                r.attribute(1, k, &Value::from(v.clone()));
            }
        });
    }

    /// `InstrumentationScope { name = 1; version = 2 }`.
    fn scope(&mut self, field: u32) {
        self.message(field, |s| {
            s.string(1, SCOPE);
            s.string(2, env!("CARGO_PKG_VERSION"));
        });
    }
}

/// `ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }`, with
/// `ResourceSpans { resource = 1; repeated ScopeSpans scope_spans = 2 }` and
/// `ScopeSpans { scope = 1; repeated Span spans = 2 }`.
pub(super) fn traces(settings: &Settings, spans: &[SpanData]) -> Vec<u8> {
    let mut out = Enc::default();
    out.message(1, |rs| {
        rs.resource(1, settings);
        rs.message(2, |ss| {
            ss.scope(1);
            for span in spans {
                ss.message(2, |s| span_message(s, span));
            }
        });
    });
    out.0
}

/// `Span`: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6,
/// start 7, end 8 (fixed64), attributes 9, status 15, flags 16 (fixed32).
fn span_message(s: &mut Enc, span: &SpanData) {
    s.bytes(1, &span.context.trace_id.0);
    s.bytes(2, &span.context.span_id.0);
    if let Some(state) = &span.context.trace_state {
        s.string(3, state);
    }
    if let Some(parent) = span.parent {
        s.bytes(4, &parent.0);
    }
    s.string(5, &span.name);
    s.uint(6, span.kind as u64);
    s.fixed64(7, span.start_unix_nanos);
    s.fixed64(8, span.end_unix_nanos);
    for (k, v) in &span.attributes {
        s.attribute(9, k, v);
    }
    // `Status { message = 2; code = 3 }`: 2 is ERROR.
    if let Status::Error(message) = &span.status {
        s.message(15, |st| {
            st.string(2, message);
            st.uint(3, 2);
        });
    }
    // The sampled flag, and "the parent is remote or not known" left unset.
    s.fixed32(16, u32::from(span.context.sampled));
}

/// `ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1 }`, with
/// `ResourceLogs { resource = 1; repeated ScopeLogs scope_logs = 2 }` and
/// `ScopeLogs { scope = 1; repeated LogRecord log_records = 2 }`.
pub(super) fn logs(settings: &Settings, records: &[LogData]) -> Vec<u8> {
    let mut out = Enc::default();
    out.message(1, |rl| {
        rl.resource(1, settings);
        rl.message(2, |sl| {
            sl.scope(1);
            for record in records {
                sl.message(2, |r| log_message(r, record));
            }
        });
    });
    out.0
}

/// `LogRecord`: time 1 (fixed64), severity_number 2, severity_text 3, body 5, attributes 6,
/// flags 8 (fixed32), trace_id 9, span_id 10, observed time 11 (fixed64).
fn log_message(r: &mut Enc, log: &LogData) {
    r.fixed64(1, log.unix_nanos);
    let (number, text) = match log.level {
        tracing::Level::TRACE => (1, "TRACE"),
        tracing::Level::DEBUG => (5, "DEBUG"),
        tracing::Level::INFO => (9, "INFO"),
        tracing::Level::WARN => (13, "WARN"),
        tracing::Level::ERROR => (17, "ERROR"),
    };
    r.uint(2, number);
    r.string(3, text);
    r.message(5, |any| any.any_value(&Value::from(log.body.clone())));
    r.attribute(6, "log.target", &Value::Str(log.target.clone()));
    for (k, v) in &log.attributes {
        r.attribute(6, k, v);
    }
    if let Some((trace, span)) = log.trace {
        r.fixed32(8, 1);
        r.bytes(9, &trace.0);
        r.bytes(10, &span.0);
    }
    r.fixed64(11, log.unix_nanos);
}

#[cfg(test)]
mod tests {
    use super::Enc;

    #[test]
    fn varints_match_the_protobuf_examples() {
        let mut e = Enc::default();
        e.varint(1);
        e.varint(150);
        e.varint(u64::MAX);
        assert_eq!(e.0[..3], [0x01, 0x96, 0x01]);
        assert_eq!(e.0.len(), 3 + 10);
    }
}
