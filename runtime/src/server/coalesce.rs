//! What a connection writes in one turn leaves in one system call.
//!
//! hyper and h2 flush whenever they have written a frame they cannot buffer: h2 keeps a DATA
//! payload over 256 bytes aside (to write it vectored) and flushes before it buffers the next
//! frame, so a gRPC answer of a kilobyte — HEADERS, DATA, trailers — took two `writev`s, and
//! every answer a connection finished in one turn paid its own. grpc-go writes each turn's
//! frames once.
//!
//! [`Coalesced`] is the socket hyper sees. While the connection's task polls the connection
//! ([`Flusher::deferring`]), a flush is noted, not done: writes gather in one buffer, and the
//! task writes it when the poll returns ([`Flusher::poll_flush`]). Outside that window (an
//! upgraded connection used by its handler) a flush is a flush. A write that would grow the
//! buffer past [`HIGH_WATER`] first empties it into the socket — so a client that does not
//! read holds the server back as before, and large bodies go out without a copy.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The most a connection gathers before it writes.
const HIGH_WATER: usize = 64 * 1024;

struct Inner {
    stream: TcpStream,
    out: Vec<u8>,
    /// Whether the connection is being polled (flushes wait for the end of the poll).
    deferring: bool,
    /// The error the socket gave while flushing for an earlier poll, told at the next write.
    broken: Option<io::ErrorKind>,
}

impl Inner {
    /// Writes the gathered bytes until none are left or the socket is full.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(kind) = self.broken {
            return Poll::Ready(Err(kind.into()));
        }
        let mut written = 0;
        let result = loop {
            if written == self.out.len() {
                break Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.stream).poll_write(cx, &self.out[written..]) {
                Poll::Ready(Ok(0)) => break Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => break Poll::Ready(Err(e)),
                Poll::Pending => break Poll::Pending,
            }
        };
        self.out.drain(..written);
        if let Poll::Ready(Err(e)) = &result {
            self.broken = Some(e.kind());
            self.out.clear();
        }
        result
    }
}

/// The connection's socket, as hyper reads and writes it.
pub(crate) struct Coalesced(Arc<Mutex<Inner>>);

/// The connection task's handle on the same socket.
pub(crate) struct Flusher(Arc<Mutex<Inner>>);

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The socket for hyper, and the handle that writes what a poll gathered.
pub(crate) fn coalesced(stream: TcpStream) -> (Coalesced, Flusher) {
    let inner = Arc::new(Mutex::new(Inner {
        stream,
        out: Vec::new(),
        deferring: false,
        broken: None,
    }));
    (Coalesced(inner.clone()), Flusher(inner))
}

impl Flusher {
    /// Flushes wait until [`Flusher::poll_flush`] while `on`.
    pub(crate) fn deferring(&self, on: bool) {
        lock(&self.0).deferring = on;
    }

    /// Writes what was gathered; `Pending` while the socket is full (the task is woken when it
    /// can take more).
    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = lock(&self.0);
        if inner.out.is_empty() {
            return Poll::Ready(Ok(()));
        }
        inner.poll_drain(cx)
    }
}

impl AsyncRead for Coalesced {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut lock(&self.0).stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Coalesced {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(data)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut inner = lock(&self.0);
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if inner.out.len() + total > HIGH_WATER {
            ready!(inner.poll_drain(cx))?;
        }
        if let Some(kind) = inner.broken {
            return Poll::Ready(Err(kind.into()));
        }
        if inner.out.is_empty() && total >= HIGH_WATER {
            return Pin::new(&mut inner.stream).poll_write_vectored(cx, bufs);
        }
        for b in bufs {
            inner.out.extend_from_slice(b);
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = lock(&self.0);
        if inner.deferring {
            return match inner.broken {
                Some(kind) => Poll::Ready(Err(kind.into())),
                None => Poll::Ready(Ok(())),
            };
        }
        ready!(inner.poll_drain(cx))?;
        Pin::new(&mut inner.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = lock(&self.0);
        ready!(inner.poll_drain(cx))?;
        Pin::new(&mut inner.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;
    use std::future::poll_fn;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    async fn pair() -> (Coalesced, Flusher, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let (socket, flusher) = coalesced(accepted.unwrap().0);
        (socket, flusher, client.unwrap())
    }

    fn gathered(flusher: &Flusher) -> usize {
        lock(&flusher.0).out.len()
    }

    #[tokio::test]
    async fn a_poll_s_writes_and_flushes_leave_once_the_poll_is_over() {
        let (mut socket, flusher, mut peer) = pair().await;
        flusher.deferring(true);
        socket.write_all(b"HEADERS ").await.unwrap();
        socket.flush().await.unwrap();
        let slices = [io::IoSlice::new(b"DATA "), io::IoSlice::new(b"TRAILERS")];
        let n = poll_fn(|cx| Pin::new(&mut socket).poll_write_vectored(cx, &slices))
            .await
            .unwrap();
        assert_eq!(n, 13);
        socket.flush().await.unwrap();
        // Nothing has reached the socket: it is all still gathered.
        assert_eq!(gathered(&flusher), 21);
        flusher.deferring(false);
        poll_fn(|cx| flusher.poll_flush(cx)).await.unwrap();
        assert_eq!(gathered(&flusher), 0);
        let mut got = vec![0; 21];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"HEADERS DATA TRAILERS");
    }

    #[tokio::test]
    async fn outside_a_poll_a_flush_is_a_flush_and_reads_pass_through() {
        let (mut socket, flusher, mut peer) = pair().await;
        socket.write_all(b"upgraded").await.unwrap();
        socket.flush().await.unwrap();
        assert_eq!(gathered(&flusher), 0);
        let mut got = [0; 8];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"upgraded");
        peer.write_all(b"ping").await.unwrap();
        let mut got = [0; 4];
        socket.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
    }

    #[tokio::test]
    async fn a_peer_that_does_not_read_holds_writes_back_and_the_buffer_stays_bounded() {
        let (mut socket, flusher, mut peer) = pair().await;
        flusher.deferring(true);
        let chunk = vec![7u8; 1000];
        let mut sent = 0usize;
        let held = loop {
            let polled = poll_fn(|cx| {
                let p = Pin::new(&mut socket).poll_write(cx, &chunk);
                Poll::Ready(p)
            })
            .await;
            match polled {
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(e)) => panic!("{e}"),
                Poll::Pending => break true,
            }
            assert!(gathered(&flusher) <= HIGH_WATER);
            if sent > 512 * 1024 * 1024 {
                break false;
            }
        };
        assert!(held, "512 MiB accepted without the peer reading");
        // Once the peer reads, every byte arrives, in order.
        flusher.deferring(false);
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            peer.read_to_end(&mut all).await.unwrap();
            all
        });
        poll_fn(|cx| flusher.poll_flush(cx)).await.unwrap();
        socket.shutdown().await.unwrap();
        drop(socket);
        drop(flusher);
        let all = reader.await.unwrap();
        assert_eq!(all.len(), sent);
        assert!(all.iter().all(|b| *b == 7));
    }

    #[tokio::test]
    async fn a_socket_that_broke_while_flushing_fails_the_next_write() {
        let (mut socket, flusher, peer) = pair().await;
        // The peer resets the connection (linger 0) instead of closing it in order.
        peer.set_zero_linger().unwrap();
        drop(peer);
        flusher.deferring(true);
        let mut failed = None;
        for _ in 0..1000 {
            let wrote = socket.write_all(&[1; 1024]).await;
            if let Err(e) = wrote {
                failed = Some(e);
                break;
            }
            if let Err(e) = poll_fn(|cx| flusher.poll_flush(cx)).await {
                failed = Some(e);
                break;
            }
            tokio::task::yield_now().await;
        }
        let failed = failed.expect("writes to a reset connection kept succeeding");
        assert!(
            matches!(
                failed.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "{failed}"
        );
        // Told again, not swallowed.
        assert!(socket.write_all(b"x").await.is_err());
        assert!(socket.flush().await.is_err());
    }
}
