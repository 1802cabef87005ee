//! The server's connections as a whole: how many are open (and the cap on them), which phase
//! of a stop they are in, and what a stop had to cut.
//!
//! - **The cap** ([`ServerConfig::max_connections`](super::ServerConfig)): a connection
//!   accepted beyond it is closed at once — before any byte of it is read — and counted
//!   (`svcc_server_connections_rejected_total`). Near the cap (90 %), connections with no
//!   request in progress are closed after one tick of the watchdog instead of the idle
//!   timeout, so idle and slow clients make room for working ones.
//! - **The phases** of a stop ([`Phase`]), which every connection's task watches.
//! - **The tally** of a stop that ran out of time: connections closed and requests cut.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use tokio::sync::{Notify, watch};

/// Where the server is in its life; connections act on each change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Serving,
    /// The stop signal came; the pre-stop delay runs. `/readyz` answers 503, every HTTP/1.1
    /// response says `Connection: close` and HTTP/2 connections get GOAWAY, so clients move
    /// to new connections (which the listener still accepts) without a failed request.
    Leaving,
    /// The listener is closed: idle connections close, busy ones finish what they started.
    Draining,
    /// The drain ran out of time (or a second signal came): every connection closes now.
    Cut,
}

/// Every connection of one server.
pub(crate) struct Connections {
    open: AtomicUsize,
    max: usize,
    rejected: AtomicU64,
    /// Tally of [`Phase::Cut`]: connections closed, and requests in progress on them.
    cut_connections: AtomicUsize,
    cut_requests: AtomicUsize,
    phase: watch::Sender<Phase>,
    /// `phase >= Leaving`, read by every HTTP/1.1 response without a lock.
    leaving: AtomicBool,
    /// Notified when the last connection closes.
    none_left: Notify,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("open", &self.open())
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Connections {
    pub(crate) fn new(max: usize) -> Connections {
        Connections {
            open: AtomicUsize::new(0),
            max: max.max(1),
            rejected: AtomicU64::new(0),
            cut_connections: AtomicUsize::new(0),
            cut_requests: AtomicUsize::new(0),
            phase: watch::Sender::new(Phase::Serving),
            leaving: AtomicBool::new(false),
            none_left: Notify::new(),
        }
    }

    /// A newly accepted connection: its slot, or `None` when the server is at its cap (the
    /// caller closes it; it is counted as rejected).
    pub(crate) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok();
        if admitted {
            Some(Slot(self.clone()))
        } else {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Whether the server is near its cap (90 %): idle connections then go early.
    pub(crate) fn crowded(&self) -> bool {
        self.open() >= self.max - self.max / 10
    }

    pub(crate) fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    pub(crate) fn watch(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// Whether the server is stopping: responses then tell HTTP/1.1 clients to close.
    pub(crate) fn leaving(&self) -> bool {
        self.leaving.load(Ordering::Relaxed)
    }

    /// Moves to `phase` (never back).
    pub(crate) fn enter(&self, phase: Phase) {
        if phase >= Phase::Leaving {
            self.leaving.store(true, Ordering::Relaxed);
        }
        self.phase.send_if_modified(|p| {
            let later = phase > *p;
            if later {
                *p = phase;
            }
            later
        });
    }

    /// Completes once no connection is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let notified = self.none_left.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// A connection closed by [`Phase::Cut`], with `requests` in progress on it.
    pub(crate) fn record_cut(&self, requests: usize) {
        self.cut_connections.fetch_add(1, Ordering::Relaxed);
        self.cut_requests.fetch_add(requests, Ordering::Relaxed);
    }

    /// Connections closed and requests cut by [`Phase::Cut`].
    pub(crate) fn cut(&self) -> (usize, usize) {
        (
            self.cut_connections.load(Ordering::Relaxed),
            self.cut_requests.load(Ordering::Relaxed),
        )
    }
}

/// An open connection's place; frees it when dropped.
pub(crate) struct Slot(Arc<Connections>);

impl Drop for Slot {
    fn drop(&mut self) {
        release(&self.0);
    }
}

fn release(c: &Connections) {
    if c.open.fetch_sub(1, Ordering::AcqRel) == 1 {
        c.none_left.notify_waiters();
    }
}

/// The default cap: the process's open-file limit less a tenth of it (at least 64) kept for
/// everything else — database pools, brokers, log files — and at most 10,000; 10,000 where
/// the limit cannot be read.
pub(crate) fn default_max() -> usize {
    let soft = super::layers::process::max_open_files().and_then(|n| usize::try_from(n).ok());
    match soft {
        Some(n) => n.saturating_sub((n / 10).max(64)).clamp(16, 10_000),
        None => 10_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_admits_up_to_max_and_counts_the_rest() {
        let c = Arc::new(Connections::new(2));
        let a = c.admit().unwrap();
        let b = c.admit().unwrap();
        assert!(c.admit().is_none());
        assert_eq!((c.open(), c.rejected()), (2, 1));
        drop(a);
        let _c = c.admit().unwrap();
        drop(b);
        assert_eq!(c.open(), 1);
    }

    #[test]
    fn phases_only_move_forward() {
        let c = Connections::new(10);
        c.enter(Phase::Draining);
        c.enter(Phase::Leaving);
        assert_eq!(c.phase(), Phase::Draining);
        c.enter(Phase::Cut);
        assert_eq!(c.phase(), Phase::Cut);
    }

    #[test]
    fn the_default_cap_leaves_room_under_the_file_limit() {
        let n = default_max();
        assert!((16..=10_000).contains(&n), "{n}");
    }
}
