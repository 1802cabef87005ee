//! Layers the contract switches on (`@log`, `@metrics`, `@trace`, `@security(bearer)`,
//! `@rate_limit`), applied by the server to each method whose policies ask for them, before the
//! user's own layers. Each is a file: the observers with a start and an end (`log.rs`,
//! `metrics.rs`, `trace.rs`), the guards with a check that may refuse the call (`auth.rs`,
//! `rate.rs`); `observe.rs` runs them as one tower service, so a method pays for one boxed
//! future, not one per layer. A new one is a file here, a field in `observe::Parts` and a line
//! in [`for_method`].

pub(crate) mod auth;
mod duration_histogram;
mod go_compat;
mod log;
pub(crate) mod metrics;
pub(crate) mod observe;
pub(crate) mod process;
mod rate;
mod trace;

use crate::method::{Handler, MethodInfo, MethodService};
use std::sync::Arc;

/// What the layers of every method share.
pub(crate) struct Shared<'a> {
    pub(crate) metrics: &'a Arc<metrics::Metrics>,
    /// The token verifier (required when some method needs bearer tokens).
    pub(crate) jwt: Option<&'a Arc<crate::auth::Jwt>>,
}

/// A method wrapped in the built-in layers its policies switch on (one fused service,
/// `observe.rs`).
pub(crate) struct Layered {
    /// The method's stack, for the user's layers to wrap.
    pub(crate) service: MethodService,
    /// The built-in layers around the bare handler, called as a handler when no layer of the
    /// user's wraps the method (`None` without a bare handler).
    pub(crate) direct: Option<Handler>,
}

/// Wraps `inner` (and the bare handler `direct`, when there is one — `typed` when its future's
/// type is known) in the built-in layers `info`'s policies switch on.
pub(crate) fn for_method(
    info: &'static MethodInfo,
    inner: MethodService,
    direct: Option<&Handler>,
    typed: Option<&Arc<dyn observe::TypedHandler>>,
    shared: &Shared<'_>,
) -> Layered {
    let metrics = shared.metrics;
    let parts = observe::Parts {
        gate: match shared.jwt {
            Some(jwt) if auth::needs_bearer(info) => {
                Some(auth::gate(jwt.clone(), metrics.unauthenticated(info)))
            }
            _ => None,
        },
        limiter: info
            .policies
            .rate_limit
            .as_ref()
            .map(|l| rate::limiter(info, l, metrics.rate_limited(info))),
        breaker: info.policies.circuit_breaker.as_ref().map(|p| {
            crate::breaker::Breaker::shared(crate::breaker::Settings::from_policy(
                format!("server:{}.{}", info.service, info.name),
                p,
            ))
        }),
        log: info.policies.log.is_some().then(|| log::logger(info)),
        meter: info.policies.metrics.then(|| metrics::meter(info, metrics)),
        tracer: info.policies.trace.then(|| trace::tracer(info)),
    };
    if !parts.any() {
        return Layered {
            service: inner,
            direct: direct.cloned(),
        };
    }
    let parts = Arc::new(parts);
    Layered {
        service: observe::layer(inner, parts.clone()),
        direct: match typed {
            Some(t) => Some(t.observed(parts)),
            None => direct.map(|h| observe::direct(h.clone(), parts)),
        },
    }
}

/// Whether a method's layers show its parameters (so their JSON text is kept).
pub(crate) fn shows_params(info: &MethodInfo) -> bool {
    info.policies.log.is_some()
}
