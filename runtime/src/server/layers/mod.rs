//! Layers the contract switches on (`@log`, `@metrics`, `@trace`), applied by the
//! server to each method whose policies ask for them, before the user's own layers. Each is a
//! file with a start and an end (`log.rs`, `metrics.rs`, `trace.rs`); `observe.rs` runs them
//! as one tower service, so a method pays for one boxed future, not one per layer. A new one
//! is a file here, a field in `observe::Parts` and a line in [`for_method`].

mod go_compat;
mod log;
pub(crate) mod metrics;
mod observe;
mod process;
mod trace;

use crate::method::{MethodInfo, MethodService};
use std::sync::Arc;

/// Wraps `inner` in the built-in layers `info`'s policies switch on (one fused service,
/// `observe.rs`); `true` when any did (the method then goes through its stack, not straight to
/// the handler).
pub(crate) fn for_method(
    info: &'static MethodInfo,
    inner: MethodService,
    metrics: &Arc<metrics::Metrics>,
) -> (MethodService, bool) {
    let parts = observe::Parts {
        log: info.policies.log.is_some().then(|| log::logger(info)),
        meter: info.policies.metrics.then(|| metrics::meter(info, metrics)),
        tracer: info.policies.trace.then(|| trace::tracer(info)),
    };
    if !parts.any() {
        return (inner, false);
    }
    (observe::layer(inner, parts), true)
}

/// Whether a method's layers show its parameters (so their JSON text is kept).
pub(crate) fn shows_params(info: &MethodInfo) -> bool {
    info.policies.log.is_some()
}
