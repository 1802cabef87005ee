//! A per-request log level: a server with `ServerConfig::log_level_header` set (e.g.
//! `X-Log-Level`) runs a request that carries `X-Log-Level: debug` with that level raised for
//! its task, so one call can be debugged in production without raising every call's level.
//! The filter `logging::init` installs reads [`raised`]; until a server enables raising
//! ([`enable`]), it costs nothing: callsites below the configured level stay disabled for good.

use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

tokio::task_local! {
    static RAISED: tracing::Level;
}

/// Lets requests raise their level (a server calls it when the header is configured).
pub fn enable() {
    if !ENABLED.swap(true, Ordering::SeqCst) {
        // Callsites judged "never" under the configured filter are asked again.
        tracing::callsite::rebuild_interest_cache();
    }
}

/// Whether some server lets requests raise their level.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The level the current request raised logging to, if any.
pub fn raised() -> Option<tracing::Level> {
    if !enabled() {
        return None;
    }
    RAISED.try_with(|l| *l).ok()
}

/// Parses a header value: `trace`, `debug`, `info`, `warn` or `error`, any case.
pub fn parse(value: &str) -> Option<tracing::Level> {
    value.trim().parse().ok()
}

/// Runs `fut` with `level` raised for its task (and what it awaits).
pub async fn scope<F: std::future::Future>(level: Option<tracing::Level>, fut: F) -> F::Output {
    match level {
        Some(l) => RAISED.scope(l, fut).await,
        None => fut.await,
    }
}
