//! The export queue: encoded spans and log records wait here for the exporter's thread, already
//! written as the repeated field they will be in the export request (`ScopeSpans.spans`,
//! `ScopeLogs.log_records`: field 2), in batches of at most `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
//!
//! Adding one is a lock, a copy of its bytes and, when it fills a batch, a wake-up: the exporter
//! sleeps until a batch is full, the schedule delay has passed or someone asks for a flush —
//! not once per span. Bounded by `OTEL_BSP_MAX_QUEUE_SIZE`: past it a message is dropped (the
//! caller counts it), never waited for.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Messages of one signal, back to back as request fields.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) bytes: Vec<u8>,
    pub(super) count: usize,
}

/// One signal's batches: the full ones in order, then the one filling.
#[derive(Debug)]
struct Signal {
    full: VecDeque<Batch>,
    open: Batch,
    /// Messages in all the batches.
    queued: usize,
}

impl Signal {
    fn new() -> Signal {
        Signal {
            full: VecDeque::new(),
            open: Batch::default(),
            queued: 0,
        }
    }

    /// Takes the full batches, and the open one too when `all`.
    fn take(&mut self, all: bool, into: &mut Vec<Batch>) {
        into.extend(self.full.drain(..));
        if all && self.open.count > 0 {
            into.push(std::mem::take(&mut self.open));
        }
        self.queued = self.open.count;
    }
}

/// Which signal a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Spans,
    Logs,
}

#[derive(Debug)]
struct State {
    spans: Signal,
    logs: Signal,
    /// Callers of [`Queue::flush`] waiting for everything queued before them to be exported.
    flushes: Vec<std::sync::mpsc::Sender<()>>,
}

/// What the exporter is given to send at one wake-up.
#[derive(Debug, Default)]
pub(super) struct Work {
    pub(super) spans: Vec<Batch>,
    pub(super) logs: Vec<Batch>,
    /// Told once the batches above are exported (or dropped).
    pub(super) flushes: Vec<std::sync::mpsc::Sender<()>>,
}

#[derive(Debug)]
pub(super) struct Queue {
    state: Mutex<State>,
    wake: Condvar,
    max_queued: usize,
    batch: usize,
}

impl Queue {
    /// At most `max_queued` messages of each signal waiting, sent `batch` at a time.
    pub(super) fn new(max_queued: usize, batch: usize) -> Queue {
        Queue {
            state: Mutex::new(State {
                spans: Signal::new(),
                logs: Signal::new(),
                flushes: Vec::new(),
            }),
            wake: Condvar::new(),
            max_queued: max_queued.max(1),
            batch: batch.clamp(1, max_queued.max(1)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the batches half-written in a way that
        // matters more than losing telemetry: go on with what is there.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an encoded message; `false` when the queue is full (the message is dropped).
    pub(super) fn push(&self, kind: Kind, message: &[u8]) -> bool {
        self.push_with(kind, |bytes| {
            let mut out = super::otlp::Enc(std::mem::take(bytes));
            out.bytes(2, message);
            *bytes = out.0;
        })
    }

    /// Queues a message `append` writes at the end of the open batch's bytes, already framed
    /// as a request field (no buffer of its own, no copy); `false` when the queue is full
    /// (`append` is not called).
    pub(super) fn push_with(&self, kind: Kind, append: impl FnOnce(&mut Vec<u8>)) -> bool {
        let mut state = self.lock();
        let signal = match kind {
            Kind::Spans => &mut state.spans,
            Kind::Logs => &mut state.logs,
        };
        if signal.queued >= self.max_queued {
            return false;
        }
        append(&mut signal.open.bytes);
        signal.open.count += 1;
        signal.queued += 1;
        if signal.open.count >= self.batch {
            // The next batch starts with room for as much as this one took: no chain of
            // reallocations (and copies) as it fills.
            let room = signal.open.bytes.len() + signal.open.bytes.len() / 8;
            let next = Batch {
                bytes: Vec::with_capacity(room),
                count: 0,
            };
            let batch = std::mem::replace(&mut signal.open, next);
            signal.full.push_back(batch);
            drop(state);
            self.wake.notify_one();
        }
        true
    }

    /// Asks for everything queued so far to be exported; `done` is told when it has been.
    pub(super) fn flush(&self, done: std::sync::mpsc::Sender<()>) {
        self.lock().flushes.push(done);
        self.wake.notify_one();
    }

    /// The exporter's wait: returns at once with the full batches there are, else at `until`
    /// with everything queued, or earlier when a batch fills or a flush is asked for.
    pub(super) fn wait(&self, until: Instant) -> (Work, bool) {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let due = now >= until;
            let flush = !state.flushes.is_empty();
            if due || flush || !state.spans.full.is_empty() || !state.logs.full.is_empty() {
                let all = due || flush;
                let mut work = Work::default();
                state.spans.take(all, &mut work.spans);
                state.logs.take(all, &mut work.logs);
                work.flushes = std::mem::take(&mut state.flushes);
                return (work, due);
            }
            state = self
                .wake
                .wait_timeout(
                    state,
                    until
                        .saturating_duration_since(now)
                        .max(Duration::from_millis(1)),
                )
                .map_or_else(|e| e.into_inner().0, |(s, _)| s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(batch: &Batch) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut b = &batch.bytes[..];
        while let Some((&tag, rest)) = b.split_first() {
            assert_eq!(tag, 0x12);
            let (mut len, mut shift, mut at) = (0usize, 0, 0);
            loop {
                let byte = rest[at];
                len |= usize::from(byte & 0x7f) << shift;
                shift += 7;
                at += 1;
                if byte < 0x80 {
                    break;
                }
            }
            out.push(rest[at..at + len].to_vec());
            b = &rest[at + len..];
        }
        assert_eq!(out.len(), batch.count);
        out
    }

    #[test]
    fn messages_wait_in_batches_as_request_fields() {
        let q = Queue::new(10, 3);
        let long = vec![7u8; 300];
        for m in [&b"a"[..], b"bc", &long, b"d"] {
            assert!(q.push(Kind::Spans, m));
        }
        assert!(q.push(Kind::Logs, b"log"));
        // One full batch of spans is there: taken at once, the rest left for later.
        let (work, due) = q.wait(Instant::now() + Duration::from_secs(60));
        assert!(!due);
        assert_eq!(work.spans.len(), 1);
        assert_eq!(
            messages(&work.spans[0]),
            [b"a".to_vec(), b"bc".to_vec(), long]
        );
        assert!(work.logs.is_empty());
        // When the delay is up, everything goes.
        let (work, due) = q.wait(Instant::now());
        assert!(due);
        assert_eq!(messages(&work.spans[0]), [b"d".to_vec()]);
        assert_eq!(messages(&work.logs[0]), [b"log".to_vec()]);
    }

    #[test]
    fn a_full_queue_drops_instead_of_waiting() {
        let q = Queue::new(4, 2);
        for _ in 0..4 {
            assert!(q.push(Kind::Spans, b"x"));
        }
        assert!(!q.push(Kind::Spans, b"x"));
        // The other signal has its own room.
        assert!(q.push(Kind::Logs, b"y"));
        let (work, _) = q.wait(Instant::now());
        assert_eq!(work.spans.iter().map(|b| b.count).sum::<usize>(), 4);
        assert!(q.push(Kind::Spans, b"x"), "room again once exported");
    }

    #[test]
    fn a_flush_takes_everything_and_is_answered_with_it() {
        let q = std::sync::Arc::new(Queue::new(100, 50));
        assert!(q.push(Kind::Spans, b"x"));
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let q = q.clone();
            std::thread::spawn(move || q.wait(Instant::now() + Duration::from_secs(60)))
        };
        q.flush(tx);
        let (work, due) = waiter.join().unwrap_or_default();
        assert!(!due);
        assert_eq!(work.spans[0].count, 1);
        assert_eq!(work.flushes.len(), 1);
        for f in work.flushes {
            let _ = f.send(());
        }
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
    }
}
