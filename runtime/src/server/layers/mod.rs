//! Layers the contract switches on (`@log`, `@metrics`; tracing to come), applied by the
//! server to each method whose policies ask for them, before the user's own layers. A new one
//! is a file here and a line in [`for_method`].

mod log;
pub(crate) mod metrics;

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
    (service, wrapped)
}

/// Whether a method's layers need its parameters as JSON text (not decoded early).
pub(crate) fn need_raw_params(info: &MethodInfo) -> bool {
    info.policies.log.is_some()
}
