//! The built-in layers as one: a method under `@log`, `@metrics` and/or `@trace` gets a single
//! tower service (one boxed future, one clock read) that runs each part's start and end around
//! the call, in the order the parts nest:
//!
//! ```text
//! span (trace.rs) ⊃ metrics (metrics.rs) ⊃ call event (log.rs) ⊃ panic guard ⊃ the handler
//! ```
//!
//! The span is current while the call runs and its event is written (so lines carry its ids);
//! the measured time includes writing the event; a panic is caught only under `@log` (logged,
//! then answered as an internal error) and otherwise unwinds to the server's guard.

use super::log::Logger;
use super::metrics::Meter;
use super::trace::Tracer;
use crate::error::Error;
use crate::method::{Call, MethodService, Output};
use crate::telemetry;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

/// The parts `info`'s policies switch on.
pub(super) struct Parts {
    pub(super) log: Option<Logger>,
    pub(super) meter: Option<Meter>,
    pub(super) tracer: Option<Tracer>,
}

impl Parts {
    pub(super) fn any(&self) -> bool {
        self.log.is_some() || self.meter.is_some() || self.tracer.is_some()
    }
}

/// Wraps a method's stack with its parts.
pub(super) fn layer(inner: MethodService, parts: Parts) -> MethodService {
    MethodService::new(Observe {
        inner,
        parts: Arc::new(parts),
    })
}

#[derive(Clone)]
struct Observe {
    inner: MethodService,
    parts: Arc<Parts>,
}

impl tower::Service<Call> for Observe {
    type Response = Output;
    type Error = Error;
    type Future = BoxFuture<'static, Result<Output, Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut call: Call) -> Self::Future {
        let parts = self.parts.clone();
        let started = Instant::now();
        let transport = call.transport;
        let span = parts.tracer.as_ref().map(|t| t.start(&mut call));
        let pending = parts.log.as_ref().map(|l| l.before(&call));
        let active = parts.meter.as_ref().map(Meter::enter);
        let fut = self.inner.call(call);
        Box::pin(async move {
            let current = span.as_ref().map(|s| s.context().clone());
            let run = async {
                let outcome = if pending.is_some() {
                    match AssertUnwindSafe(fut).catch_unwind().await {
                        Ok(r) => r,
                        Err(_) => Err(Error::internal("the handler panicked")),
                    }
                } else {
                    fut.await
                };
                if let (Some(log), Some(p)) = (&parts.log, pending) {
                    log.after(p, &outcome, started.elapsed());
                }
                if let Some(m) = &parts.meter {
                    m.record(transport, &outcome, started.elapsed().as_secs_f64());
                }
                drop(active);
                outcome
            };
            let outcome = match current {
                Some(c) => telemetry::scope(c, run).await,
                None => run.await,
            };
            if let (Some(t), Some(s)) = (&parts.tracer, span) {
                t.end(s, &outcome);
            }
            outcome
        })
    }
}
