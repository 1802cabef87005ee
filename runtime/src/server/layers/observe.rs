//! The built-in layers as one: a method under `@log`, `@metrics`, `@trace`,
//! `@security(bearer)` and/or `@rate_limit` gets a single tower service (one boxed future, one
//! clock read) that runs each part's start and end around the call, in the order the parts
//! nest:
//!
//! ```text
//! span (trace.rs) ⊃ token check (auth.rs) ⊃ rate limit (rate.rs) ⊃ circuit breaker
//!     ⊃ metrics (metrics.rs) ⊃ call event (log.rs) ⊃ panic guard ⊃ the handler
//! ```
//!
//! A guard that refuses the call (auth, rate limit, an open breaker) skips the handler; the refusal is still
//! the call's outcome for the span, the metrics and the call event, which carry the token's
//! subject once it is known.
//!
//! The span is current while the call runs and its event is written (so lines carry its ids);
//! the call event's `duration_ms` and the histogram's observation are the same reading, taken
//! when the handler (or the refusal) is done; a panic is caught only under `@log` (logged,
//! then answered as an internal error) and otherwise unwinds to the server's guard.

use super::auth::Gate;
use super::log::Logger;
use super::metrics::Meter;
use super::rate::Limiter;
use super::trace::Tracer;
use crate::error::Error;
use crate::method::{Call, Handler, MethodService, Output};
use crate::telemetry;
use futures_util::future::BoxFuture;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

/// The parts `info`'s policies switch on.
pub(crate) struct Parts {
    pub(super) gate: Option<Gate>,
    pub(super) limiter: Option<Limiter>,
    /// `@circuit_breaker`: refuses calls while open; counts the outcomes of the others.
    pub(super) breaker: Option<Arc<crate::breaker::Breaker>>,
    pub(super) log: Option<Logger>,
    pub(super) meter: Option<Meter>,
    pub(super) tracer: Option<Tracer>,
}

impl Parts {
    pub(super) fn any(&self) -> bool {
        self.gate.is_some()
            || self.limiter.is_some()
            || self.breaker.is_some()
            || self.log.is_some()
            || self.meter.is_some()
            || self.tracer.is_some()
    }
}

/// Wraps a method's stack with its parts.
pub(super) fn layer(inner: MethodService, parts: Arc<Parts>) -> MethodService {
    MethodService::new(Observe { inner, parts })
}

/// The parts around the bare handler, as a handler: what a method with no layer of the user's
/// is called through — no per-call clone of a tower stack, no future boxed per layer.
pub(super) fn direct(handler: Handler, parts: Arc<Parts>) -> Handler {
    Typed(handler).observed(parts)
}

/// A handler whose future's type is known (generated code's, through
/// [`ServiceDef::method_fn`](crate::server::ServiceDef::method_fn)): the parts then hold that
/// future itself, in the one allocation that holds their own state, instead of a second box.
pub(crate) trait TypedHandler: Send + Sync {
    /// The parts around the handler, as a handler (what [`direct`] makes of a boxed one).
    fn observed(&self, parts: Arc<Parts>) -> Handler;
}

/// [`TypedHandler`] for a function returning its future (a boxed [`Handler`] too: its future
/// is then the box).
pub(crate) struct Typed<F: ?Sized>(pub(crate) Arc<F>);

impl<F, Fut> TypedHandler for Typed<F>
where
    F: Fn(Call) -> Fut + Send + Sync + ?Sized + 'static,
    Fut: std::future::Future<Output = Result<Output, Error>> + Send + 'static,
{
    fn observed(&self, parts: Arc<Parts>) -> Handler {
        let f = self.0.clone();
        Arc::new(move |call| Box::pin(parts.run(call, |call| f(call))))
    }
}

impl Parts {
    /// The guards, in order: the token, then the rate limit (which may key on the token).
    /// Inlined to skip the call when there are none (the guards' code is large).
    #[inline]
    fn guard(&self, call: &mut Call) -> Result<(), Error> {
        if self.gate.is_none() && self.limiter.is_none() {
            return Ok(());
        }
        self.check_guards(call)
    }

    #[inline(never)]
    fn check_guards(&self, call: &mut Call) -> Result<(), Error> {
        if let Some(g) = &self.gate {
            g.check(call)?;
        }
        if let Some(l) = &self.limiter {
            l.check(call)?;
        }
        Ok(())
    }
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

    fn call(&mut self, call: Call) -> Self::Future {
        let inner = &mut self.inner;
        Box::pin(self.parts.run(call, |call| inner.call(call)))
    }
}

impl Parts {
    /// Runs `call` through the parts, `inner` (the handler or the rest of the stack) unless a
    /// guard refuses it.
    fn run<F>(self: &Arc<Parts>, mut call: Call, inner: impl FnOnce(Call) -> F) -> Observed<F> {
        let parts = self.clone();
        let transport = call.transport;
        let mut span = parts.tracer.as_ref().map(|t| t.start(&mut call));
        // The span's own start when there is one: the call's duration and the span's are then
        // the same reading.
        let started = span
            .as_ref()
            .map_or_else(telemetry::clock::monotonic_nanos, |s| s.started());
        let mut ticket = None;
        let refused = parts
            .guard(&mut call)
            .and_then(|()| match &parts.breaker {
                Some(b) => match b.allow() {
                    Ok(t) => {
                        ticket = Some(t);
                        Ok(())
                    }
                    Err(r) => Err(r.to_error(b.name())),
                },
                None => Ok(()),
            })
            .err();
        if let (Some(s), Some(sub)) = (&mut span, call.ctx.subject()) {
            s.set_subject(sub);
        }
        let pending = parts.log.as_ref().map(|l| l.before(&call));
        // Shared by the call event and the span.
        let request_id = (pending.is_some() || span.is_some()).then(|| call.ctx.request_id.clone());
        let client = call.ctx.client_addr;
        let active = parts.meter.as_ref().map(Meter::enter);
        let catch = pending.is_some();
        // A refusal is rare: boxed, so the future stays small for the calls that run.
        let (fut, refused) = match refused {
            None => (Some(inner(call)), None),
            Some(e) => (None, Some(Box::new(e))),
        };
        Observed {
            fut,
            refused,
            catch,
            finished: false,
            done: Done {
                parts,
                transport,
                span,
                started,
                ticket,
                pending,
                active,
                request_id,
                client,
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// A call under way: the handler's future (in its span's scope when traced), then the
    /// parts' ends. Written by hand rather than as `async` blocks, which kept the parts' state
    /// twice and made the future too large for the allocator's per-thread cache.
    struct Observed<F> {
        // The handler's future (boxed, or the generated handler's own type), polled with the
        // call's span (`@trace`) as the current one…
        #[pin]
        fut: Option<F>,
        // … or the guard's refusal instead of a call.
        refused: Option<Box<Error>>,
        // Whether a panic in the handler is caught (`@log`): logged, then answered as an
        // internal error.
        catch: bool,
        // The parts' ends have run.
        finished: bool,
        // Used in place (not moved out) when the call ends.
        done: Done,
    }

    impl<F> PinnedDrop for Observed<F> {
        // Dropped before it had an outcome (the client went away, the request timed out): the
        // span still ends, without a status, as it would have on its own; no call event.
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.finished {
                this.done.cancelled();
            }
        }
    }
}

/// What the parts need once the call has its outcome.
struct Done {
    parts: Arc<Parts>,
    transport: &'static str,
    span: Option<super::trace::Started>,
    /// When the call started ([`telemetry::clock::monotonic_nanos`]).
    started: u64,
    ticket: Option<crate::breaker::Ticket>,
    pending: Option<super::log::Pending>,
    active: Option<super::metrics::Active>,
    request_id: Option<Arc<str>>,
    client: Option<std::net::SocketAddr>,
}

impl<F> std::future::Future for Observed<F>
where
    F: std::future::Future<Output = Result<Output, Error>>,
{
    type Output = Result<Output, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // Made where it is returned from (not taken apart and put together again: the
        // outcome is not copied on its way out).
        let polled = if let Some(refusal) = this.refused.take() {
            Poll::Ready(Err(*refusal))
        } else if let Some(fut) = this.fut.as_pin_mut() {
            // The span is current while the handler runs, and again as it was after (also when
            // the handler panics).
            let _current = this.done.span.as_mut().map(super::trace::Started::enter);
            if *this.catch {
                std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx)))
                    .unwrap_or_else(|_| Poll::Ready(Err(Error::internal("the handler panicked"))))
            } else {
                fut.poll(cx)
            }
        } else {
            Poll::Ready(Err(Error::internal(
                "a call was polled after it was answered",
            )))
        };
        if let Poll::Ready(outcome) = &polled
            && !std::mem::replace(this.finished, true)
        {
            this.done.finish(outcome);
        }
        polled
    }
}

impl Done {
    /// The ends, innermost first: breaker, call event and histogram (one reading of the
    /// duration for both), in-flight gauge, span.
    fn finish(&mut self, outcome: &Result<Output, Error>) {
        let parts = &*self.parts;
        if let (Some(b), Some(t)) = (&parts.breaker, self.ticket.take()) {
            b.record(t, outcome.as_ref().map(|_| ()));
        }
        let elapsed = since(self.started);
        // The address as text once, for both the call event and the span.
        let client = self.client.map(telemetry::Address::of);
        if let (Some(log), Some(p)) = (&parts.log, &self.pending) {
            let at = self.span.as_ref().map(|s| s.at(elapsed));
            let caller = super::log::Caller {
                transport: self.transport,
                request_id: self.request_id(),
                client: client.as_ref(),
            };
            log.after(p, caller, outcome, elapsed, at);
        }
        if let Some(m) = &parts.meter {
            m.record(self.transport, outcome, elapsed.as_secs_f64());
        }
        self.active = None;
        if let (Some(t), Some(s)) = (&parts.tracer, &self.span) {
            t.end(
                s,
                Some(outcome),
                elapsed,
                self.request_id(),
                client.as_ref(),
            );
        }
    }

    fn request_id(&self) -> &str {
        self.request_id.as_deref().unwrap_or_default()
    }

    /// The call was dropped before its outcome: the span ends now, without a status.
    fn cancelled(&mut self) {
        if let (Some(t), Some(s)) = (&self.parts.tracer, &self.span) {
            let client = self.client.map(telemetry::Address::of);
            let elapsed = since(self.started);
            t.end(s, None, elapsed, self.request_id(), client.as_ref());
        }
    }
}

/// The time since `started` ([`telemetry::clock::monotonic_nanos`]).
fn since(started: u64) -> Duration {
    Duration::from_nanos(telemetry::clock::monotonic_nanos().saturating_sub(started))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use crate::method::{MethodInfo, Params};

    static INFO: MethodInfo = MethodInfo::bare("Test", "probe", "test.probe");

    /// `@log` (so panics are caught) and `@trace` around a handler.
    fn parts() -> Arc<Parts> {
        Arc::new(Parts {
            gate: None,
            limiter: None,
            breaker: None,
            log: Some(super::super::log::logger(&INFO)),
            meter: None,
            tracer: Some(super::super::trace::tracer(&INFO)),
        })
    }

    fn call(request_id: &str) -> Call {
        let mut ctx = Context::new();
        ctx.request_id = request_id.into();
        Call {
            ctx,
            info: &INFO,
            params: Params::None,
            transport: "jsonrpc",
            validate_result: false,
        }
    }

    /// The handler: answers with whether the call's span (the one in its context) is the
    /// current one while it runs, across an await; panics when asked to.
    async fn probe(call: Call) -> Result<Output, Error> {
        let own = call.ctx.trace.as_ref().map(|t| (t.trace_id, t.span_id));
        tokio::task::yield_now().await;
        if &*call.ctx.request_id == "panic" {
            panic!("the probe was asked to panic");
        }
        let current = telemetry::current().map(|t| (t.trace_id, t.span_id));
        Output::json(&(own.is_some() && own == current))
    }

    /// What a handler answers: the body, or the error's message.
    async fn answer(handler: &Handler, request_id: &str) -> String {
        match handler(call(request_id)).await {
            Ok(out) => out.body.unwrap_or_default(),
            Err(e) => e.message,
        }
    }

    /// `rpc_server_active_requests` counts a call while it runs, and not after: answered,
    /// panicked, or dropped before its answer (the client went away).
    #[tokio::test]
    async fn the_in_flight_gauge_comes_back_to_zero_however_a_call_ends() {
        let metrics = super::super::metrics::Metrics::new(
            &crate::server::MetricsConfig::default(),
            Arc::new(crate::server::connections::Connections::new(4)),
        );
        let parts = Arc::new(Parts {
            gate: None,
            limiter: None,
            breaker: None,
            log: Some(super::super::log::logger(&INFO)),
            meter: Some(super::super::metrics::meter(&INFO, &metrics)),
            tracer: None,
        });
        let in_flight = || {
            metrics
                .encode_text()
                .lines()
                .find(|l| l.starts_with("rpc_server_active_requests{"))
                .map(|l| l.rsplit(' ').next().unwrap_or_default().to_string())
        };
        let handler = Typed(Arc::new(probe)).observed(parts);
        assert_eq!(answer(&handler, "r-1").await, "false");
        assert_eq!(in_flight().as_deref(), Some("0"));
        assert_eq!(answer(&handler, "panic").await, "the handler panicked");
        assert_eq!(in_flight().as_deref(), Some("0"));
        // Polled once (the handler waits), counted, then dropped.
        let mut call = handler(call("r-2"));
        let pending = futures_util::poll!(call.as_mut());
        assert!(pending.is_pending());
        assert_eq!(in_flight().as_deref(), Some("1"));
        drop(call);
        assert_eq!(in_flight().as_deref(), Some("0"));
    }

    /// Generated code's handlers (their future's type known, held in the layers' own
    /// allocation) and hand-written ones (boxed) get the same layers: the span current while
    /// the handler runs, a panic answered as an internal error.
    #[tokio::test]
    async fn typed_and_boxed_handlers_get_the_same_layers() {
        let boxed: Handler = Arc::new(|call| Box::pin(probe(call)));
        let handlers = [
            ("boxed", direct(boxed, parts())),
            ("typed", Typed(Arc::new(probe)).observed(parts())),
        ];
        for (kind, handler) in &handlers {
            assert_eq!(answer(handler, "r-1").await, "true", "{kind}");
            assert_eq!(
                answer(handler, "panic").await,
                "the handler panicked",
                "{kind}"
            );
            assert!(
                telemetry::current().is_none(),
                "{kind}: a span left current"
            );
        }
    }
}
