//! Layers the contract switches on (`@log`, `@metrics`, `@trace`), applied by the
//! server to each method whose policies ask for them, before the user's own layers. A new one
//! is a file here and a line in [`for_method`].

mod go_compat;
mod log;
pub(crate) mod metrics;
mod process;
mod trace;

use crate::method::{MethodInfo, MethodService};
use std::sync::Arc;

/// Wraps `inner` in every built-in layer `info`'s policies switch on; `true` when one did
/// (the method then goes through its stack, not straight to the handler).
pub(crate) fn for_method(
    info: &'static MethodInfo,
    inner: MethodService,
    metrics: &Arc<metrics::Metrics>,
) -> (MethodService, bool) {
    let mut service = inner;
    let mut wrapped = false;
    if info.policies.log.is_some() {
        service = log::layer(info, service);
        wrapped = true;
    }
    // Outside the log layer, so the measured time includes writing the log event.
    if info.policies.metrics {
        service = metrics::layer(info, service, metrics);
        wrapped = true;
    }
    // Outermost: the span covers the whole call, and the call's log event is written inside
    // it (with its ids).
    if info.policies.trace {
        service = trace::layer(info, service);
        wrapped = true;
    }
    (service, wrapped)
}

/// Whether a method's layers show its parameters (so their JSON text is kept).
pub(crate) fn shows_params(info: &MethodInfo) -> bool {
    info.policies.log.is_some()
}
