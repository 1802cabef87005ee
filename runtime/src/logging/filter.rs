//! The level filter: `RUST_LOG`'s directives, or — inside a request that raised its level
//! (`crate::log_level`) — anything at or above the raised level.

use crate::log_level;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

pub(super) struct Levels(pub(super) EnvFilter);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Levels {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        let interest = Layer::<S>::register_callsite(&self.0, meta);
        // Below the configured level, a request may still raise it: ask per event.
        if interest.is_never() && log_level::enabled() {
            Interest::sometimes()
        } else {
            interest
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        Layer::<S>::enabled(&self.0, meta, ctx)
            || log_level::raised().is_some_and(|level| *meta.level() <= level)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        if log_level::enabled() {
            Some(LevelFilter::TRACE)
        } else {
            Layer::<S>::max_level_hint(&self.0)
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        Layer::<S>::on_new_span(&self.0, attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        Layer::<S>::on_record(&self.0, id, values, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        Layer::<S>::on_enter(&self.0, id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        Layer::<S>::on_exit(&self.0, id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        Layer::<S>::on_close(&self.0, id, ctx);
    }
}
