//! Readable text lines (`tracing-subscriber`'s own format), with the call's `trace_id` and
//! `span_id` appended inside a traced call, as JSON lines carry them.

use crate::telemetry;
use std::fmt;
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The text format; `ansi`: colours (on a terminal).
#[derive(Debug)]
pub(super) struct TextLines(Format<Full, SystemTime>);

impl TextLines {
    pub(super) fn new(ansi: bool) -> TextLines {
        TextLines(Format::default().with_ansi(ansi))
    }
}

impl<S, N> FormatEvent<S, N> for TextLines
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let Some((trace, span)) = telemetry::current_ids() else {
            return self.0.format_event(ctx, w, event);
        };
        // The line without its newline, then the ids (the inner format sets its own colours).
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        w.write_str(line.trim_end_matches('\n'))?;
        writeln!(w, " trace_id={trace} span_id={span}")
    }
}
