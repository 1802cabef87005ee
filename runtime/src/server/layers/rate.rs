//! `@rate_limit(limit, period, key)`: a token bucket per method (governor's GCRA: `limit`
//! calls per `period`, bursts of up to `limit`), one for all callers (`key = global`, the
//! default), one per client address (`ip`) or one per token subject (`subject`; callers
//! without a verified token are counted by address). Every call counts, each call of a
//! JSON-RPC batch too. Over the limit, the call is answered resource exhausted — REST `429`
//! with `Retry-After`, JSON-RPC the resource-exhausted code — with the seconds to wait in
//! `data.retry_after_seconds`, and counted in `svcc_rate_limited_total`.
//!
//! The per-key buckets forget keys that have been idle for a full period, so a flood of
//! addresses cannot grow the map without bound.

use crate::error::{Code, Error};
use crate::method::{Call, MethodInfo, RateKey, RateLimit};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{NotUntil, Quota, RateLimiter};
use prometheus_client::metrics::counter::Counter;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

enum Buckets {
    Global(RateLimiter<NotKeyed, InMemoryState, DefaultClock>),
    Ip(Keyed<IpAddr>),
    Subject(Keyed<String>),
}

/// One method's limit.
pub(super) struct Limiter {
    buckets: Buckets,
    clock: DefaultClock,
    /// What the refusal says.
    message: String,
    refused: Counter,
    /// Checks since the idle keys were last forgotten.
    checks: AtomicU32,
}

/// How often (in checks) keyed buckets forget idle keys.
const SWEEP_EVERY: u32 = 4096;

/// The quota of `limit` calls per `period_ms`: one call's worth refills every
/// `period / limit`, and a full bucket holds `limit`.
pub(crate) fn quota(limit: &RateLimit) -> Quota {
    let burst = u32::try_from(limit.limit)
        .ok()
        .and_then(NonZeroU32::new)
        .unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_millis(limit.period_ms.max(1)) / burst.get();
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(burst))
        .allow_burst(burst)
}

pub(super) fn limiter(info: &'static MethodInfo, limit: &RateLimit, refused: Counter) -> Limiter {
    let quota = quota(limit);
    let clock = DefaultClock::default();
    let buckets = match limit.key {
        RateKey::Global => Buckets::Global(RateLimiter::direct_with_clock(quota, clock.clone())),
        RateKey::Ip => Buckets::Ip(RateLimiter::dashmap_with_clock(quota, clock.clone())),
        RateKey::Subject => Buckets::Subject(RateLimiter::dashmap_with_clock(quota, clock.clone())),
    };
    let per = match limit.key {
        RateKey::Global => "",
        RateKey::Ip => " per client address",
        RateKey::Subject => " per caller",
    };
    Limiter {
        buckets,
        clock,
        message: format!(
            "rate limit exceeded: {}.{} allows {} calls per {}{per}",
            info.service,
            info.name,
            limit.limit,
            period_text(limit.period_ms)
        ),
        refused,
        checks: AtomicU32::new(0),
    }
}

impl Limiter {
    /// Takes a token for the call, or answers resource exhausted.
    pub(super) fn check(&self, call: &Call) -> Result<(), Error> {
        let address = || {
            call.ctx
                .client_addr
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
        };
        let outcome = match &self.buckets {
            Buckets::Global(b) => b.check(),
            Buckets::Ip(b) => {
                self.sweep(|| b.retain_recent());
                b.check_key(&address())
            }
            Buckets::Subject(b) => {
                self.sweep(|| b.retain_recent());
                match call.ctx.subject() {
                    Some(s) => b.check_key(&format!("sub:{s}")),
                    None => b.check_key(&format!("ip:{}", address())),
                }
            }
        };
        outcome.map_err(|not_until| self.refuse(&not_until))
    }

    fn sweep(&self, retain: impl FnOnce()) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            retain();
        }
    }

    fn refuse(&self, not_until: &NotUntil<<DefaultClock as Clock>::Instant>) -> Error {
        self.refused.inc();
        let wait = not_until.wait_time_from(self.clock.now());
        // Whole seconds, rounded up: a client that waits that long finds a token.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let seconds = seconds.max(1);
        Error::new(Code::ResourceExhausted, self.message.clone())
            .with_data(serde_json::json!({ "retry_after_seconds": seconds }))
            .with_header(http::header::RETRY_AFTER, &seconds.to_string())
    }
}

/// `1s`, `1m`, `250ms`: a period as the contract would write it.
fn period_text(ms: u64) -> String {
    match ms {
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_and_periods() {
        let q = quota(&RateLimit {
            limit: 10,
            period_ms: 60_000,
            key: RateKey::Global,
        });
        assert_eq!(q.burst_size().get(), 10);
        assert_eq!(q.replenish_interval(), Duration::from_secs(6));
        assert_eq!(period_text(60_000), "1m");
        assert_eq!(period_text(1500), "1500ms");
        assert_eq!(period_text(7_200_000), "2h");
    }
}
