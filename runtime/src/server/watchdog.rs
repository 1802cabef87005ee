//! Time limits without a timer per request.
//!
//! Each connection has one coarse clock: a tick counter advanced by one interval timer owned
//! by the connection's task (`TICKS_PER_LIMIT` ticks per limit). A request notes the tick it
//! started at — two relaxed atomic operations — and checks the counter whenever it is polled.
//! An HTTP/1 request runs inside its connection's task, so every tick wakes that task, the
//! connection polls the request, and an overdue request answers 408. A connection with no
//! request in progress — idle between requests, a client trickling its headers, or one that
//! does not read its response — is closed once it has been quiet for the idle limit.
//!
//! Why not `tokio::time::timeout` per request (tower-http's `TimeoutLayer`): registering and
//! cancelling a timer entry on every request measured ~550 more instructions per request
//! than this clock (2.4% of a whole JSON-RPC request; `scripts/bench-jsonrpc-instructions`).
//! HTTP/2 streams are polled apart from their connection's future (first in its task, then, if
//! they wait, in tasks of their own: `streams.rs`), out of this clock's reach, so they still use
//! a tokio timer — registered only by a stream that does not finish on its first poll.
//!
//! A limit fires between the limit and one tick (an eighth of it) later.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Ticks per limit: a limit fires at most 1/8 late.
const TICKS_PER_LIMIT: u32 = 8;

/// Both limits as tick counts of one tick length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub tick: Duration,
    /// Ticks a request may run.
    pub request: u32,
    /// Ticks a connection may sit with no request in progress.
    pub idle: u32,
}

impl Limits {
    pub(crate) fn new(request: Duration, idle: Duration) -> Limits {
        // A tick of 1 ms to 1 h: limits of "never" (`Duration::MAX`) stay representable.
        let shortest = request
            .min(idle)
            .clamp(Duration::from_millis(8), Duration::from_secs(8 * 3600));
        let tick = shortest / TICKS_PER_LIMIT;
        let ticks = |d: Duration| -> u32 {
            let n = d.as_nanos().div_ceil(tick.as_nanos().max(1));
            u32::try_from(n).unwrap_or(u32::MAX / 2).min(u32::MAX / 2)
        };
        Limits {
            tick,
            request: ticks(request),
            idle: ticks(idle),
        }
    }
}

/// One connection's clock.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    ticks: AtomicU32,
    /// Requests in progress.
    busy: AtomicU32,
    /// The tick at which the last request ended (or the connection opened).
    last_active: AtomicU32,
}

impl Clock {
    /// Advances the clock; `true` when the connection has been idle for `idle` ticks.
    pub(crate) fn tick(&self, idle: u32) -> bool {
        let now = self.ticks.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.busy.load(Ordering::Relaxed) == 0
            && now.wrapping_sub(self.last_active.load(Ordering::Relaxed)) > idle
    }

    /// Requests in progress.
    pub(crate) fn busy(&self) -> u32 {
        self.busy.load(Ordering::Relaxed)
    }

    /// A request begins; the returned guard ends it when dropped.
    pub(crate) fn begin(self: &Arc<Clock>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy {
            start: self.ticks.load(Ordering::Relaxed),
            clock: self.clone(),
        }
    }
}

/// A request in progress on a connection.
#[derive(Debug)]
pub(crate) struct Busy {
    clock: Arc<Clock>,
    start: u32,
}

impl Busy {
    /// Whether the request has run for more than `limit` ticks.
    pub(crate) fn overdue(&self, limit: u32) -> bool {
        self.clock
            .ticks
            .load(Ordering::Relaxed)
            .wrapping_sub(self.start)
            > limit
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let c = &self.clock;
        c.last_active
            .store(c.ticks.load(Ordering::Relaxed), Ordering::Relaxed);
        c.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_counted_in_eighths_of_the_shorter_one() {
        let l = Limits::new(Duration::from_secs(30), Duration::from_secs(60));
        assert_eq!(l.tick, Duration::from_millis(3750));
        assert_eq!((l.request, l.idle), (8, 16));
        // A tiny limit still gets a usable tick.
        let l = Limits::new(Duration::from_millis(1), Duration::from_secs(1));
        assert_eq!(l.tick, Duration::from_millis(1));
        assert_eq!(l.request, 1);
        // "Never" does not overflow.
        let l = Limits::new(Duration::MAX, Duration::MAX);
        assert_eq!(l.tick, Duration::from_secs(3600));
        assert_eq!(l.request, u32::MAX / 2);
    }

    #[test]
    fn a_request_is_overdue_only_after_its_limit_and_idleness_waits_for_the_last_request() {
        let clock = Arc::new(Clock::default());
        let busy = clock.begin();
        for _ in 0..8 {
            assert!(
                !clock.tick(2),
                "a connection with a request in progress is not idle"
            );
        }
        assert!(!busy.overdue(8));
        assert!(!clock.tick(2));
        assert!(busy.overdue(8));
        drop(busy);
        assert!(!clock.tick(2));
        assert!(!clock.tick(2));
        assert!(
            clock.tick(2),
            "idle for more than two ticks after the last request"
        );
    }
}
