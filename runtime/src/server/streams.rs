//! HTTP/2 streams run first in their connection's task, so that answers written in one turn
//! leave in one write.
//!
//! hyper hands each HTTP/2 stream to an executor. Spawned as a task of its own (hyper's
//! `TokioExecutor`), a stream that answers at once wakes the connection's task, which tokio
//! runs next (its LIFO slot): the connection writes and flushes that one answer, then the next
//! stream runs, and so on — one `writev` per answer. With 16 streams in flight on a connection
//! that was most of the server's time (grpc-go batches its writes: 0.68× its throughput).
//!
//! [`Streams`] is the executor instead: it queues each stream, and [`drive`] — the connection's
//! future — polls the new streams once, in the connection's task, after the connection has read
//! what there was to read. Those that finish have queued their answers; the connection is
//! polled again and writes them all with one flush. A stream that does not finish on its first
//! poll (a handler waiting on a database, a body still arriving) is spawned as a task of its
//! own, as before, so slow calls of one connection still run side by side and on every worker.

use super::coalesce::Flusher;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

type Stream = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How many times one poll of a connection goes round (read, run the new streams, write)
/// before it lets other tasks run.
const ROUNDS: usize = 4;

/// One connection's executor: the streams hyper accepted, waiting for their first poll.
#[derive(Clone, Default)]
pub(crate) struct Streams(Arc<Mutex<Vec<Stream>>>);

impl<F> hyper::rt::Executor<F> for Streams
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        self.lock().push(Box::pin(stream));
    }
}

impl Streams {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Stream>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) -> Vec<Stream> {
        std::mem::take(&mut *self.lock())
    }

    /// Spawns the streams not polled yet (the connection has ended; they finish on their own).
    fn spawn_waiting(&self) {
        for stream in self.take() {
            tokio::spawn(stream);
        }
    }
}

/// Drives one connection: polls it with its writes gathered, runs the streams it accepted,
/// and writes each turn's bytes once (see the module's docs and [`super::coalesce`]).
pub(crate) struct Driver<O> {
    streams: Streams,
    flusher: Flusher,
    /// The connection's outcome, held while its last bytes are still being written.
    done: Option<O>,
}

impl<O> Driver<O> {
    pub(crate) fn new(streams: Streams, flusher: Flusher) -> Driver<O> {
        Driver {
            streams,
            flusher,
            done: None,
        }
    }

    pub(crate) fn poll<C: Future<Output = O>>(
        &mut self,
        mut connection: Pin<&mut C>,
        cx: &mut Context<'_>,
    ) -> Poll<O> {
        if self.done.is_none() {
            for round in 0.. {
                self.flusher.deferring(true);
                let polled = connection.as_mut().poll(cx);
                self.flusher.deferring(false);
                if let Poll::Ready(out) = polled {
                    self.streams.spawn_waiting();
                    self.done = Some(out);
                    break;
                }
                let new = self.streams.take();
                if new.is_empty() {
                    break;
                }
                run(new, cx);
                if round + 1 == ROUNDS {
                    // Still busy: come back after the other tasks have had their turn.
                    cx.waker().wake_by_ref();
                    break;
                }
            }
        }
        // The turn's bytes, in one write. A broken socket is told to the connection at its
        // next write; a full one wakes this task when it can take more.
        let flushed = self.flusher.poll_flush(cx);
        match self.done.take() {
            Some(out) if flushed.is_ready() => Poll::Ready(out),
            Some(out) => {
                self.done = Some(out);
                Poll::Pending
            }
            None => Poll::Pending,
        }
    }
}

/// Polls each new stream once; those not finished go on in tasks of their own.
fn run(new: Vec<Stream>, cx: &mut Context<'_>) {
    for mut stream in new {
        // The handler runs under the dispatcher's own panic guard; this one covers hyper's
        // glue, so that a panic there ends the stream, not the connection.
        match std::panic::catch_unwind(AssertUnwindSafe(|| stream.as_mut().poll(cx))) {
            Ok(Poll::Ready(())) | Err(_) => {}
            Ok(Poll::Pending) => {
                tokio::spawn(stream);
            }
        }
    }
}
