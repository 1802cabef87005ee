//! Log output for services: one call installs a `tracing` subscriber with two outputs, each
//! switchable, as the platform library had:
//!
//! - stdout: JSON lines when stdout is not a terminal (what log collectors read) and readable
//!   text on a terminal (`SVCC_LOG_FORMAT=json|text|off` chooses), through a non-blocking
//!   writer: a slow or blocked stdout never stalls a request — lines are dropped instead, and
//!   counted ([`Logging::dropped`]). Lines inside a traced call carry `trace_id` and
//!   `span_id`.
//! - OTLP log records, when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or
//!   `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`) and `OTEL_LOGS_EXPORTER` is not `none`; see
//!   [`crate::telemetry`].
//!
//! Both are filtered by `RUST_LOG` (default `info`); a server with
//! `ServerConfig::log_level_header` lets one request raise the level for itself
//! (`X-Log-Level: debug`, see [`crate::log_level`]).
//!
//! ```no_run
//! fn main() -> std::io::Result<()> {
//!     let _logging = svcc_runtime::logging::init(); // keep it: it flushes on drop
//!     svcc_runtime::run(async { /* serve */ })
//! }
//! ```

mod filter;
pub(crate) mod json;
#[cfg(feature = "otlp")]
mod otlp;
mod text;
mod writer;

use std::io::IsTerminal as _;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// Readable text (with colour on a terminal).
    Text,
    /// Nothing on stdout (OTLP only, when configured).
    Off,
}

impl Format {
    /// `SVCC_LOG_FORMAT=json|text|off` when set, else JSON unless stdout is a terminal.
    pub fn from_env() -> Format {
        match std::env::var("SVCC_LOG_FORMAT").as_deref() {
            Ok("json") => Format::Json,
            Ok("text") => Format::Text,
            Ok("off" | "none") => Format::Off,
            _ if std::io::stdout().is_terminal() => Format::Text,
            _ => Format::Json,
        }
    }
}

/// The installed output. Keep it alive for the program's life: dropping it flushes the lines
/// still queued.
#[must_use = "dropping it stops the log writer; keep it for the program's life"]
pub struct Logging {
    _guard: writer::Guard,
    dropped: writer::Dropped,
    /// What was chosen.
    pub format: Format,
}

impl std::fmt::Debug for Logging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logging")
            .field("format", &self.format)
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl Drop for Logging {
    /// Log records still queued for OTLP are sent (at most 5 s), as stdout's lines are.
    fn drop(&mut self) {
        crate::telemetry::flush(std::time::Duration::from_secs(5));
    }
}

impl Logging {
    /// Lines dropped because the writer could not keep up.
    pub fn dropped(&self) -> usize {
        self.dropped.get()
    }
}

/// Installs the subscriber (format from [`Format::from_env`], filter from `RUST_LOG`, default
/// `info`). A second call, or another subscriber already set, leaves the first in place.
pub fn init() -> Logging {
    init_with(Format::from_env())
}

static DROPPED: std::sync::OnceLock<writer::Dropped> = std::sync::OnceLock::new();

/// Lines the installed output dropped because stdout did not keep up (0 before [`init`]);
/// servers export it as `svcc_log_lines_dropped_total`.
pub fn dropped_lines() -> u64 {
    DROPPED.get().map_or(0, |d| d.get() as u64)
}

/// How many lines may wait for stdout before new ones are dropped: `SVCC_LOG_BUFFER_LINES`,
/// default 65536.
fn buffered_lines() -> usize {
    std::env::var("SVCC_LOG_BUFFER_LINES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(64 * 1024)
}

type Base = tracing_subscriber::layer::Layered<filter::Levels, tracing_subscriber::Registry>;
type Outputs = Vec<Box<dyn tracing_subscriber::Layer<Base> + Send + Sync>>;
/// The subscriber [`init`] installs.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
type Installed = tracing_subscriber::layer::Layered<Outputs, Base>;

/// Where call events go without `tracing`, when the installed output is JSON lines on stdout
/// alone (see [`write_call`]).
static DIRECT: std::sync::OnceLock<writer::Lines> = std::sync::OnceLock::new();

/// Writes a call event (target `svcc::call`, enabled at `level`) as a JSON line straight to
/// stdout's writer, the fields written by `fields` — the line `tracing` would have made, without
/// its dispatch and per-field visits (`scripts/bench-observability`: 38.0k → 36.6k instructions
/// per call with `@log @metrics @trace`). Only when [`init`] installed JSON lines as the only output and its
/// subscriber is the current one; otherwise `false`, and the caller emits the `tracing` event.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn write_call(
    stamp: json::Stamp,
    level: &tracing::Level,
    fields: impl FnOnce(&mut json::Fields<'_>),
) -> bool {
    let Some(writer) = DIRECT.get() else {
        return false;
    };
    if !tracing::dispatcher::get_default(|d| d.is::<Installed>()) {
        return false;
    }
    // Lossy: a full buffer drops the line and counts it, never waits for the writer.
    writer.line_with(|line| json::format_with(line, stamp, level, "svcc::call", fields).is_ok());
    true
}

/// Whether a call event (target `svcc::call`) at `level` is enabled, as `tracing`'s own
/// `event!` decides it: by the callsite's cached interest, asking the subscriber only when
/// the interest is "sometimes" (`tracing::enabled!` asks it every time).
#[cfg_attr(not(feature = "server"), allow(dead_code))]
#[inline(always)]
pub(crate) fn call_enabled(level: &tracing::Level) -> bool {
    use tracing::callsite::{Callsite as _, DefaultCallsite, Identifier};
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    macro_rules! callsite {
        ($callsite:ident, $meta:ident, $level:expr) => {
            static $callsite: DefaultCallsite = DefaultCallsite::new(&$meta);
            static $meta: tracing::Metadata<'static> = tracing::Metadata::new(
                "svcc call",
                "svcc::call",
                $level,
                Some(file!()),
                Some(line!()),
                Some(module_path!()),
                tracing::field::FieldSet::new(&[], Identifier(&$callsite)),
                tracing::metadata::Kind::EVENT,
            );
        };
    }
    callsite!(INFO, INFO_META, tracing::Level::INFO);
    callsite!(WARN, WARN_META, tracing::Level::WARN);
    callsite!(ERROR, ERROR_META, tracing::Level::ERROR);
    if *level > STATIC_MAX_LEVEL || *level > LevelFilter::current() {
        return false;
    }
    let callsite: &'static DefaultCallsite = match *level {
        tracing::Level::INFO => &INFO,
        tracing::Level::WARN => &WARN,
        tracing::Level::ERROR => &ERROR,
        _ => return false,
    };
    let interest = callsite.interest();
    interest.is_always()
        || (!interest.is_never()
            && tracing::dispatcher::get_default(|d| d.enabled(callsite.metadata())))
}

/// Whether call events are written without `tracing` (set by [`init`]).
#[cfg(test)]
pub(crate) fn writes_calls_directly() -> bool {
    DIRECT.get().is_some()
}

/// [`init`] with a chosen format.
pub fn init_with(format: Format) -> Logging {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // A burst of lines is one write, and a quiet service still shows each line at once.
    let (writer, guard) = writer::start(std::io::stdout(), buffered_lines());
    let dropped = writer.dropped();
    // The first installed output's counter is the one `/metrics` shows.
    let _ = DROPPED.set(dropped.clone());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let mut outputs: Outputs = Vec::new();
    let direct = writer.clone();
    match format {
        Format::Json => outputs.push(
            tracing_subscriber::fmt::layer()
                .event_format(json::JsonLines)
                .with_writer(writer)
                .boxed(),
        ),
        Format::Text => outputs.push(
            tracing_subscriber::fmt::layer()
                .event_format(text::TextLines::new(std::io::stdout().is_terminal()))
                .with_writer(writer)
                .boxed(),
        ),
        Format::Off => {}
    }
    #[cfg(feature = "otlp")]
    let otlp_logs = crate::telemetry::logs_enabled();
    #[cfg(not(feature = "otlp"))]
    let otlp_logs = false;
    #[cfg(feature = "otlp")]
    if otlp_logs {
        outputs.push(otlp::OtlpLogs.boxed());
    }
    let only_stdout_json = format == Format::Json && !otlp_logs;
    let installed = tracing_subscriber::registry()
        .with(filter::Levels(filter))
        .with(outputs)
        .try_init()
        .is_ok();
    if installed && only_stdout_json {
        let _ = DIRECT.set(direct);
    }
    Logging {
        _guard: guard,
        dropped,
        format,
    }
}
