//! Log records to OTLP: every event the filter lets through, with its fields as attributes
//! and, inside a traced call, its trace and span ids — the second output beside stdout. Each
//! record is encoded as it is visited, into one buffer.

use crate::telemetry::{self, LogRecordWriter, Value};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};

/// The layer (installed by `init` when `telemetry::logs_enabled()`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct OtlpLogs;

impl<S: tracing::Subscriber> Layer<S> for OtlpLogs {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        // The exporter's own complaints would feed back into it.
        if meta.target().starts_with("svcc::otlp") {
            return;
        }
        let mut record = Record(LogRecordWriter::new(
            telemetry::now_unix_nanos(),
            *meta.level(),
            meta.target(),
            telemetry::current_ids(),
        ));
        event.record(&mut record);
        telemetry::record_encoded_log(record.0);
    }
}

struct Record(LogRecordWriter);

impl Visit for Record {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.body(value);
        } else {
            self.0.str_attribute(field.name(), value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.attribute(field.name(), &Value::Int(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.0.attribute(field.name(), &Value::Int(v)),
            Err(_) => self.0.str_attribute(field.name(), &value.to_string()),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.attribute(field.name(), &Value::Bool(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.attribute(field.name(), &Value::F64(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.body_fmt(value);
        } else {
            self.0.fmt_attribute(field.name(), value);
        }
    }
}
