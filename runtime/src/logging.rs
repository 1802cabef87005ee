//! Log output for services: one call installs a `tracing` subscriber that writes JSON lines
//! when stdout is not a terminal (what log collectors read) and readable text on a terminal,
//! filtered by `RUST_LOG` (default `info`), through a non-blocking writer: a slow or blocked
//! stdout never stalls a request — lines are dropped instead, and counted.
//!
//! ```no_run
//! fn main() -> std::io::Result<()> {
//!     let _logging = svcc_runtime::logging::init(); // keep it: it flushes on drop
//!     svcc_runtime::run(async { /* serve */ })
//! }
//! ```

use std::io::IsTerminal as _;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// Readable text (with colour on a terminal).
    Text,
}

impl Format {
    /// `SVCC_LOG_FORMAT=json|text` when set, else JSON unless stdout is a terminal.
    pub fn from_env() -> Format {
        match std::env::var("SVCC_LOG_FORMAT").as_deref() {
            Ok("json") => Format::Json,
            Ok("text") => Format::Text,
            _ if std::io::stdout().is_terminal() => Format::Text,
            _ => Format::Json,
        }
    }
}

/// The installed output. Keep it alive for the program's life: dropping it flushes the lines
/// still queued.
#[must_use = "dropping it stops the log writer; keep it for the program's life"]
pub struct Logging {
    _guard: WorkerGuard,
    dropped: ErrorCounter,
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

impl Logging {
    /// Lines dropped because the writer could not keep up.
    pub fn dropped(&self) -> usize {
        self.dropped.dropped_lines()
    }
}

/// Installs the subscriber (format from [`Format::from_env`], filter from `RUST_LOG`, default
/// `info`). A second call, or another subscriber already set, leaves the first in place.
pub fn init() -> Logging {
    init_with(Format::from_env())
}

/// [`init`] with a chosen format.
pub fn init_with(format: Format) -> Logging {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(64 * 1024)
        .finish(std::io::stdout());
    let dropped = writer.error_counter();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        Format::Text => builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
    };
    Logging {
        _guard: guard,
        dropped,
        format,
    }
}
