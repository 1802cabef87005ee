//! Log records to OTLP: every event the filter lets through, with its fields as attributes
//! and, inside a traced call, its trace and span ids — the second output beside stdout.

use crate::telemetry::{self, LogData, Value};
use std::borrow::Cow;
use std::fmt::Write as _;
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
        let mut fields = Record {
            message: String::new(),
            attributes: Vec::with_capacity(16),
        };
        event.record(&mut fields);
        telemetry::record_log(LogData {
            unix_nanos: telemetry::now_unix_nanos(),
            level: *meta.level(),
            target: Cow::Borrowed(meta.target()),
            body: fields.message,
            attributes: fields.attributes,
            trace: telemetry::current_ids(),
        });
    }
}

#[derive(Default)]
struct Record {
    message: String,
    attributes: Vec<(Cow<'static, str>, Value)>,
}

impl Visit for Record {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.attributes
                .push((Cow::Borrowed(field.name()), Value::from(value.to_string())));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes
            .push((Cow::Borrowed(field.name()), Value::Int(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let v = i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::Int);
        self.attributes.push((Cow::Borrowed(field.name()), v));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes
            .push((Cow::Borrowed(field.name()), Value::Bool(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes
            .push((Cow::Borrowed(field.name()), Value::F64(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.attributes
                .push((Cow::Borrowed(field.name()), Value::from(text)));
        }
    }
}
