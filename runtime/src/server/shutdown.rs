//! Stop signals. The first SIGTERM or SIGINT begins a graceful stop (pre-stop delay, drain
//! bounded by the shutdown timeout, hooks, telemetry flush); a second one during it stops the
//! server at once, as nginx, Envoy and most servers do.

use futures_util::future::BoxFuture;

/// The stop requests a server receives, in order: the first begins a graceful stop, the
/// second makes it immediate.
pub(crate) enum Stops {
    /// SIGTERM and SIGINT, every time they arrive.
    Os(Signals),
    /// One caller's future (no second request ever comes).
    Once(Option<BoxFuture<'static, ()>>),
}

impl Stops {
    pub(crate) fn os() -> Stops {
        Stops::Os(Signals::new())
    }

    pub(crate) fn once(signal: impl Future<Output = ()> + Send + 'static) -> Stops {
        Stops::Once(Some(Box::pin(signal)))
    }

    /// The next stop request: the signal's name. Cancel-safe.
    pub(crate) async fn next(&mut self) -> &'static str {
        match self {
            Stops::Os(signals) => signals.next().await,
            Stops::Once(slot) => match slot {
                Some(signal) => {
                    signal.await;
                    *slot = None;
                    "the stop signal"
                }
                None => std::future::pending().await,
            },
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C), as a stream.
pub(crate) struct Signals {
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
