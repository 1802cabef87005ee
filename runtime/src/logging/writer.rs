//! stdout without blocking: lines are appended to one buffer under a lock and a thread of its
//! own writes whatever has gathered in one `write`. Call lines are made straight in that buffer
//! when its lock is free ([`Lines::line_with`]), else in the thread's own buffer and copied in.
//! A line that finds the buffer full (more than `SVCC_LOG_BUFFER_LINES` waiting) is dropped and
//! counted, never waited for. The writer is woken only when it sleeps; woken, it lets lines
//! gather for [`GATHER`] (unless 32 KiB already wait) and writes them together, so a line
//! reaches stdout at most that much later and a busy server makes one `write` per many lines. Dropping the [`Guard`] writes what is
//! still waiting, at once.
//!
//! In place of `tracing-appender`'s non-blocking writer, which copied every line into a `Vec`
//! of its own and sent it through a channel: replacing it took ~0.55k instructions off each
//! call line (`scripts/bench-observability`).

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

/// How long the writer lets lines gather before it writes them: one `write` per 2 ms at most
/// under load (`scripts/bench-observability`: a write per two lines before, ~0.2k instructions
/// per call line), a delay no reader of the log sees.
const GATHER: Duration = Duration::from_millis(2);

/// Waiting bytes past which the writer writes without gathering more.
const GATHER_BYTES: usize = 32 * 1024;

#[derive(Debug)]
struct Waiting {
    bytes: Vec<u8>,
    lines: usize,
    /// The writer thread is waiting for lines (wake it).
    idle: bool,
    /// The guard was dropped: write what is left, then stop.
    closing: bool,
    /// The writer wrote everything and stopped.
    stopped: bool,
}

#[derive(Debug)]
struct Shared {
    waiting: Mutex<Waiting>,
    wake: Condvar,
    stopped: Condvar,
    limit: usize,
    dropped: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // Lines are appended whole under the lock: a panic elsewhere cannot leave half a one.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where lines go: cheap to clone, each `write` one line.
#[derive(Clone, Debug)]
pub(crate) struct Lines(Arc<Shared>);

/// Lines dropped because the writer could not keep up.
#[derive(Clone, Debug)]
pub(crate) struct Dropped(Arc<Shared>);

impl Dropped {
    pub(crate) fn get(&self) -> usize {
        self.0.dropped.load(Ordering::Relaxed)
    }
}

/// Keeps the writer thread; dropping it writes the lines still waiting (at most 1 s).
#[derive(Debug)]
pub(crate) struct Guard(Arc<Shared>);

/// Starts a writer thread that writes lines to `out`, at most `limit` lines waiting.
pub(crate) fn start<W: Write + Send + 'static>(out: W, limit: usize) -> (Lines, Guard) {
    let shared = Arc::new(Shared {
        waiting: Mutex::new(Waiting {
            bytes: Vec::with_capacity(64 * 1024),
            lines: 0,
            idle: false,
            closing: false,
            stopped: false,
        }),
        wake: Condvar::new(),
        stopped: Condvar::new(),
        limit: limit.max(1),
        dropped: AtomicUsize::new(0),
    });
    let worker = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("svcc-log-writer".to_string())
        .spawn(move || write_lines(&worker, out));
    if spawned.is_err() {
        // No thread, no writer: every line is dropped and counted, nothing blocks.
        shared.lock().stopped = true;
    }
    (Lines(shared.clone()), Guard(shared))
}

impl Lines {
    /// Queues one line (all of `line`), or drops and counts it when the buffer is full.
    pub(crate) fn line(&self, line: &[u8]) {
        self.append(self.0.lock(), |out| {
            out.extend_from_slice(line);
            true
        });
    }

    /// Queues the line `make` appends to the buffer it is given (`false`: no line). Made in
    /// place in the waiting buffer when its lock is free at once — no copy of the line — and
    /// otherwise in this thread's own buffer, then queued as [`Lines::line`] does: a thread
    /// never waits to start making its line, only, when another is making one in place, for
    /// that one line before it appends its own. A full buffer drops the line unmade. A line
    /// whose making fails or panics leaves nothing behind.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn line_with(&self, make: impl FnOnce(&mut Vec<u8>) -> bool) {
        match self.0.waiting.try_lock() {
            Ok(w) => self.append(w, make),
            // Poisoned by a panic elsewhere: lines are whole all the same (see `Shared::lock`).
            Err(TryLockError::Poisoned(e)) => self.append(e.into_inner(), make),
            Err(TryLockError::WouldBlock) => super::json::with_line(|line| {
                if make(line) {
                    self.line(line);
                }
            }),
        }
    }

    /// Appends the line `make` writes to the waiting buffer `w` (locked), unless the buffer
    /// is full (dropped and counted, `make` not called); wakes the writer if it sleeps.
    fn append(&self, w: MutexGuard<'_, Waiting>, make: impl FnOnce(&mut Vec<u8>) -> bool) {
        let shared = &*self.0;
        if w.lines >= shared.limit || w.stopped {
            drop(w);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut line = InPlace {
            from: w.bytes.len(),
            w,
            made: false,
        };
        line.made = make(&mut line.w.bytes);
        if !line.made {
            return;
        }
        line.w.lines += 1;
        let wake = std::mem::replace(&mut line.w.idle, false);
        drop(line);
        if wake {
            shared.wake.notify_one();
        }
    }

    pub(crate) fn dropped(&self) -> Dropped {
        Dropped(self.0.clone())
    }
}

/// A line being made in the waiting buffer: unless it was made, dropping it (also while a
/// panic unwinds) cuts the buffer back to where the line began.
struct InPlace<'a> {
    w: MutexGuard<'a, Waiting>,
    from: usize,
    made: bool,
}

impl Drop for InPlace<'_> {
    fn drop(&mut self) {
        if !self.made {
            let from = self.from;
            self.w.bytes.truncate(from);
        }
    }
}

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

fn write_lines(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::with_capacity(64 * 1024);
    loop {
        let closing = {
            let mut w = shared.lock();
            while w.bytes.is_empty() && !w.closing {
                w.idle = true;
                w = shared.wake.wait(w).unwrap_or_else(|e| e.into_inner());
            }
            w.idle = false;
            if !w.closing && w.bytes.len() < GATHER_BYTES {
                drop(w);
                std::thread::sleep(GATHER);
                w = shared.lock();
            }
            std::mem::swap(&mut w.bytes, &mut batch);
            w.lines = 0;
            w.closing && batch.is_empty()
        };
        if closing {
            break;
        }
        // A failing stdout loses these lines; the next ones are tried again.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
    }
    let _ = out.flush();
    shared.lock().stopped = true;
    shared.stopped.notify_all();
}

impl Drop for Guard {
    fn drop(&mut self) {
        let shared = &*self.0;
        let mut w = shared.lock();
        w.closing = true;
        shared.wake.notify_one();
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while !w.stopped {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            w = shared
                .stopped
                .wait_timeout(w, left)
                .map_or_else(|e| e.into_inner().0, |(w, _)| w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test reads, which can be held shut.
    #[derive(Clone, Default)]
    struct Sink {
        text: Arc<Mutex<Vec<u8>>>,
        gate: Arc<Mutex<()>>,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _open = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            self.text
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.text.lock().unwrap_or_else(|e| e.into_inner()))
                .into_owned()
        }
    }

    #[test]
    fn every_line_arrives_whole_and_in_order_before_the_guard_returns() {
        let sink = Sink::default();
        let (lines, guard) = start(sink.clone(), 100_000);
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        lines.line(format!("{t} {i}\n").as_bytes());
                    }
                })
            })
            .collect();
        for w in writers {
            let _ = w.join();
        }
        drop(guard);
        let text = sink.text();
        for t in 0..4 {
            let seen: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("{t} ")))
                .filter_map(|n| n.parse().ok())
                .collect();
            assert_eq!(seen, (0..1000).collect::<Vec<_>>(), "thread {t}");
        }
        assert_eq!(lines.dropped().get(), 0);
    }

    #[test]
    fn a_stalled_output_drops_and_counts_lines_instead_of_blocking() {
        let sink = Sink::default();
        let shut = sink.gate.lock().unwrap_or_else(|e| e.into_inner());
        let (lines, guard) = start(sink.clone(), 8);
        // The writer takes the first line and blocks on the shut sink; 8 more wait; the rest
        // are dropped — and none of these calls waits.
        lines.line(b"first\n");
        while lines.0.lock().lines != 0 {
            std::thread::yield_now();
        }
        for i in 0..20 {
            lines.line(format!("{i}\n").as_bytes());
        }
        assert_eq!(lines.dropped().get(), 12);
        drop(shut);
        drop(guard);
        let text = sink.text();
        assert_eq!(text.lines().count(), 9, "{text}");
        assert!(text.starts_with("first\n0\n"), "{text}");
    }

    #[test]
    fn tracing_writes_through_it() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let sink = Sink::default();
        let (lines, guard) = start(sink.clone(), 100);
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(lines)
                .with_ansi(false),
        );
        tracing::subscriber::with_default(subscriber, || tracing::info!("hello from tracing"));
        drop(guard);
        assert!(
            sink.text().contains("hello from tracing"),
            "{}",
            sink.text()
        );
    }

    /// Lines made in place and lines made aside (while another thread holds the buffer) all
    /// arrive whole; a line whose making fails or panics leaves nothing, not even a part.
    #[test]
    fn lines_made_in_place_or_aside_arrive_whole_and_failed_ones_leave_nothing() {
        let sink = Sink::default();
        let (lines, guard) = start(sink.clone(), 100_000);
        lines.line_with(|out| {
            out.extend_from_slice(b"in place\n");
            true
        });
        lines.line_with(|out| {
            out.extend_from_slice(b"half a line");
            false
        });
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lines.line_with(|out| {
                out.extend_from_slice(b"another half");
                panic!("formatting failed");
            })
        }));
        assert!(panicked.is_err());
        // Held by this thread (with a line of its own in it): the other thread makes its
        // line aside, in its own empty buffer, then waits for the buffer to queue it.
        let mut held = lines.0.lock();
        held.bytes.extend_from_slice(b"held\n");
        held.lines += 1;
        let (made, was_alone) = std::sync::mpsc::channel();
        let aside = {
            let lines = lines.clone();
            std::thread::spawn(move || {
                lines.line_with(|out| {
                    let _ = made.send(out.is_empty());
                    out.extend_from_slice(b"aside\n");
                    true
                });
            })
        };
        assert_eq!(
            was_alone.recv().ok(),
            Some(true),
            "made in the shared buffer"
        );
        drop(held);
        let _ = aside.join();
        lines.line_with(|out| {
            out.extend_from_slice(b"last\n");
            true
        });
        drop(guard);
        assert_eq!(sink.text(), "in place\nheld\naside\nlast\n");
        assert_eq!(lines.dropped().get(), 0);
    }

    /// A full buffer drops a line made in place, unmade, and counts it.
    #[test]
    fn a_full_buffer_drops_lines_made_in_place_unmade() {
        let sink = Sink::default();
        let shut = sink.gate.lock().unwrap_or_else(|e| e.into_inner());
        let (lines, guard) = start(sink.clone(), 2);
        let mut made = 0;
        for _ in 0..10 {
            lines.line_with(|out| {
                made += 1;
                out.extend_from_slice(b"line\n");
                true
            });
        }
        // The writer took at most one batch and is stuck on the shut sink; at most three lines
        // were made (one taken, two waiting), and every other was dropped before being made.
        assert!(made <= 3, "{made} lines made");
        assert_eq!(lines.dropped().get(), 10 - made);
        drop(shut);
        drop(guard);
        assert_eq!(sink.text().matches("line\n").count(), made);
    }
}
