//! Stop signals. The first SIGTERM or SIGINT begins a graceful stop (pre-stop delay, drain
//! bounded by the shutdown timeout, hooks, telemetry flush); a second one during it stops the
//! server at once, as nginx, Envoy and most servers do.

use tokio::sync::mpsc;

/// The stop requests a server receives, in order: the first begins a graceful stop, the
/// second makes it immediate.
pub(crate) struct Stops(mpsc::UnboundedReceiver<&'static str>);

impl Stops {
    /// SIGTERM and SIGINT, every time they arrive (for the life of the process).
    pub(crate) fn os() -> Stops {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut signals = Signals::new();
            loop {
                let name = signals.next().await;
                if tx.send(name).is_err() {
                    return;
                }
            }
        });
        Stops(rx)
    }

    /// One stop request, when `signal` completes (no second one ever comes).
    pub(crate) fn once(signal: impl Future<Output = ()> + Send + 'static) -> Stops {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            signal.await;
            let _ = tx.send("the stop signal");
            // Kept open: no second request, rather than "the requests are over".
            std::future::pending::<()>().await;
            drop(tx);
        });
        Stops(rx)
    }

    /// The next stop request: the signal's name.
    pub(crate) async fn next(&mut self) -> &'static str {
        match self.0.recv().await {
            Some(name) => name,
            None => std::future::pending().await,
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C), as a stream.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                let delivered = match s {
                    Some(s) => s.recv().await.is_some(),
                    None => false,
                };
                if !delivered {
                    std::future::pending::<()>().await;
                }
            }
            tokio::select! {
                () = recv(&mut self.term) => "SIGTERM",
                () = recv(&mut self.int) => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    Signals::new().next().await;
}
