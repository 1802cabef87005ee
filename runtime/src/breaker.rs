//! A circuit breaker with gobreaker's semantics (the Go library the platform's originals use),
//! one implementation for servers (`@circuit_breaker` on a served method: an open breaker
//! answers unavailable at once) and generated clients (an open breaker fails fast without a
//! network call).
//!
//! - **States**: closed (calls pass, outcomes are counted), open (calls are refused), half-open
//!   (at most `max_requests` calls pass, to probe).
//! - **Closed**: the counts are cleared every `interval` (0: never). After each failure,
//!   [`Trip`] decides whether to open: by default when the consecutive failures exceed 5
//!   (gobreaker's default); with `failure_rate`, when at least `min_requests` calls were
//!   counted and the failed fraction reached `failure_rate`.
//! - **Open**: after `timeout` (0: 60 s) the breaker turns half-open.
//! - **Half-open**: a failure opens it again; `max_requests` consecutive successes close it.
//! - Every state change starts a new generation: counts are cleared, and outcomes of calls
//!   admitted in an older generation are ignored.
//! - Which outcomes are failures is the caller's to say ([`is_failure`] by default: unavailable,
//!   deadline exceeded, internal, unknown and data loss; never a declared business error).
//!
//! State changes are logged (target `svcc::breaker`) and reported to an observer (the server
//! turns them into metrics).

use crate::error::{Code, Error};
use crate::method::CircuitBreaker;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// A breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Closed,
    HalfOpen,
    Open,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::HalfOpen => "half_open",
            State::Open => "open",
        }
    }

    /// 0 closed, 1 half-open, 2 open (the gauge's value).
    pub fn as_gauge(self) -> i64 {
        match self {
            State::Closed => 0,
            State::HalfOpen => 1,
            State::Open => 2,
        }
    }
}

/// The counts of the current generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub total_successes: u64,
    pub total_failures: u64,
    pub consecutive_successes: u64,
    pub consecutive_failures: u64,
}

/// When a closed breaker opens.
#[derive(Clone)]
pub enum Trip {
    /// More than this many consecutive failures (gobreaker's default: 5).
    ConsecutiveFailures(u64),
    /// At least `min_requests` counted and a failed fraction of at least `rate`.
    FailureRate { rate: f64, min_requests: u64 },
    /// Your own rule.
    Custom(Arc<dyn Fn(&Counts) -> bool + Send + Sync>),
}

impl std::fmt::Debug for Trip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trip::ConsecutiveFailures(n) => write!(f, "ConsecutiveFailures({n})"),
            Trip::FailureRate { rate, min_requests } => {
                write!(f, "FailureRate({rate} over {min_requests})")
            }
            Trip::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Trip {
    fn ready(&self, c: &Counts) -> bool {
        match self {
            Trip::ConsecutiveFailures(n) => c.consecutive_failures > *n,
            Trip::FailureRate { rate, min_requests } => {
                c.requests >= (*min_requests).max(1)
                    && c.total_failures as f64 >= rate * c.requests as f64
            }
            Trip::Custom(f) => f(c),
        }
    }
}

/// Which errors count as failures by default: the service is down, slow or broken — not a
/// declared business error, not a refusal of a bad request.
pub fn is_failure(e: &Error) -> bool {
    !e.declared
        && matches!(
            e.kind,
            Code::Unavailable
                | Code::DeadlineExceeded
                | Code::Internal
                | Code::Unknown
                | Code::DataLoss
        )
}

/// Called on each state change: (breaker name, from, to).
pub type Observer = Arc<dyn Fn(&str, State, State) + Send + Sync>;

/// A breaker's settings.
#[derive(Clone)]
pub struct Settings {
    pub name: String,
    /// Calls let through while half-open (0 means 1).
    pub max_requests: u64,
    /// How often a closed breaker clears its counts (zero: never).
    pub interval: Duration,
    /// How long it stays open (zero means 60 s).
    pub timeout: Duration,
    pub trip: Trip,
    /// Whether an error is a failure ([`is_failure`] by default).
    pub is_failure: Arc<dyn Fn(&Error) -> bool + Send + Sync>,
    pub observer: Option<Observer>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("name", &self.name)
            .field("max_requests", &self.max_requests)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("trip", &self.trip)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// gobreaker's defaults.
    pub fn new(name: impl Into<String>) -> Settings {
        Settings {
            name: name.into(),
            max_requests: 1,
            interval: Duration::ZERO,
            timeout: Duration::from_secs(60),
            trip: Trip::ConsecutiveFailures(5),
            is_failure: Arc::new(is_failure),
            observer: None,
        }
    }

    /// From `@circuit_breaker(...)`: unset values keep the defaults; `failure_rate` without
    /// `min_requests` counts from the first call; `min_requests` alone trips at half failed.
    pub fn from_policy(name: impl Into<String>, p: &CircuitBreaker) -> Settings {
        let mut s = Settings::new(name);
        if let Some(n) = p.max_requests {
            s.max_requests = n;
        }
        if let Some(ms) = p.interval_ms {
            s.interval = Duration::from_millis(ms);
        }
        if let Some(ms) = p.timeout_ms {
            s.timeout = Duration::from_millis(ms);
        }
        if p.failure_rate.is_some() || p.min_requests.is_some() {
            s.trip = Trip::FailureRate {
                rate: p.failure_rate.unwrap_or(0.5),
                min_requests: p.min_requests.unwrap_or(1),
            };
        }
        s
    }
}

struct Inner {
    state: State,
    generation: u64,
    counts: Counts,
    /// When the closed counts clear, or the open state ends.
    expiry: Option<Instant>,
}

/// A circuit breaker. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Breaker {
    settings: Settings,
    inner: Mutex<Inner>,
    /// State changes so far, by the state entered: closed, half-open, open.
    entered: [AtomicU64; 3],
}

/// Every breaker made with [`Breaker::shared`] while it lives: what `/metrics` reports
/// (`svcc_circuit_breaker_state`, `svcc_circuit_breaker_transitions_total`).
static REGISTRY: Mutex<Vec<Weak<Breaker>>> = Mutex::new(Vec::new());

/// The live registered breakers.
pub fn registered() -> Vec<Arc<Breaker>> {
    let mut all = REGISTRY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    all.retain(|w| w.strong_count() > 0);
    all.iter().filter_map(Weak::upgrade).collect()
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("settings", &self.settings)
            .field("state", &self.state())
            .finish()
    }
}

/// A call the breaker let through: report its outcome with [`Breaker::record`].
#[derive(Clone, Copy, Debug)]
#[must_use = "report the call's outcome with Breaker::record"]
pub struct Ticket {
    generation: u64,
}

/// Why a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The breaker is open.
    Open,
    /// Half-open, and `max_requests` probes are already out.
    TooManyRequests,
}

impl Refused {
    /// The platform error for it: unavailable (REST 503).
    pub fn to_error(self, name: &str) -> Error {
        Error::unavailable(match self {
            Refused::Open => format!("circuit breaker `{name}` is open"),
            Refused::TooManyRequests => {
                format!("circuit breaker `{name}` is half-open and probing")
            }
        })
    }
}

impl Breaker {
    pub fn new(settings: Settings) -> Breaker {
        Breaker::new_at(settings, Instant::now())
    }

    /// A breaker whose clock starts at `now` (its first `interval` ends at `now + interval`).
    pub fn new_at(mut settings: Settings, now: Instant) -> Breaker {
        if settings.max_requests == 0 {
            settings.max_requests = 1;
        }
        if settings.timeout.is_zero() {
            settings.timeout = Duration::from_secs(60);
        }
        let expiry = (!settings.interval.is_zero()).then(|| now + settings.interval);
        Breaker {
            settings,
            inner: Mutex::new(Inner {
                state: State::Closed,
                generation: 0,
                counts: Counts::default(),
                expiry,
            }),
            entered: Default::default(),
        }
    }

    /// A breaker shared behind an `Arc` and registered for `/metrics`.
    pub fn shared(settings: Settings) -> Arc<Breaker> {
        let b = Arc::new(Breaker::new(settings));
        REGISTRY
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::downgrade(&b));
        b
    }

    /// How many times it entered `state`.
    pub fn transitions_to(&self, state: State) -> u64 {
        self.entered[state.as_gauge() as usize].load(Ordering::Relaxed)
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The state now.
    pub fn state(&self) -> State {
        self.state_at(Instant::now())
    }

    /// The state at `now` (time moves only forward).
    pub fn state_at(&self, now: Instant) -> State {
        let mut inner = self.lock();
        self.current(&mut inner, now);
        inner.state
    }

    /// The counts of the current generation.
    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// Asks to make a call now.
    pub fn allow(&self) -> Result<Ticket, Refused> {
        self.allow_at(Instant::now())
    }

    pub fn allow_at(&self, now: Instant) -> Result<Ticket, Refused> {
        let mut inner = self.lock();
        self.current(&mut inner, now);
        match inner.state {
            State::Open => return Err(Refused::Open),
            State::HalfOpen if inner.counts.requests >= self.settings.max_requests => {
                return Err(Refused::TooManyRequests);
            }
            _ => {}
        }
        inner.counts.requests += 1;
        Ok(Ticket {
            generation: inner.generation,
        })
    }

    /// Reports the outcome of a call it let through.
    pub fn record(&self, ticket: Ticket, outcome: Result<(), &Error>) {
        let failed = outcome.is_err_and(|e| (self.settings.is_failure)(e));
        self.record_at(ticket, !failed, Instant::now());
    }

    /// Reports success or failure at `now`.
    pub fn record_at(&self, ticket: Ticket, success: bool, now: Instant) {
        let mut inner = self.lock();
        self.current(&mut inner, now);
        if inner.generation != ticket.generation {
            return;
        }
        if success {
            let c = &mut inner.counts;
            c.total_successes += 1;
            c.consecutive_successes += 1;
            c.consecutive_failures = 0;
            if inner.state == State::HalfOpen
                && inner.counts.consecutive_successes >= self.settings.max_requests
            {
                self.set(&mut inner, State::Closed, now);
            }
        } else {
            let c = &mut inner.counts;
            c.total_failures += 1;
            c.consecutive_failures += 1;
            c.consecutive_successes = 0;
            match inner.state {
                State::Closed if self.settings.trip.ready(&inner.counts) => {
                    self.set(&mut inner, State::Open, now);
                }
                State::HalfOpen => self.set(&mut inner, State::Open, now),
                _ => {}
            }
        }
    }

    /// Applies the passage of time: closed counts clear each interval; open ends after the
    /// timeout.
    fn current(&self, inner: &mut Inner, now: Instant) {
        match inner.state {
            State::Closed => {
                if inner.expiry.is_some_and(|e| e <= now) {
                    self.new_generation(inner, now);
                }
            }
            State::Open => {
                if inner.expiry.is_some_and(|e| e <= now) {
                    self.set(inner, State::HalfOpen, now);
                }
            }
            State::HalfOpen => {}
        }
    }

    fn set(&self, inner: &mut Inner, to: State, now: Instant) {
        let from = inner.state;
        if from == to {
            return;
        }
        inner.state = to;
        self.entered[to.as_gauge() as usize].fetch_add(1, Ordering::Relaxed);
        self.new_generation(inner, now);
        if to == State::Open {
            tracing::warn!(target: "svcc::breaker", breaker = %self.settings.name, from = from.as_str(), to = to.as_str(), "circuit breaker opened");
        } else {
            tracing::info!(target: "svcc::breaker", breaker = %self.settings.name, from = from.as_str(), to = to.as_str(), "circuit breaker changed state");
        }
        if let Some(o) = &self.settings.observer {
            o(&self.settings.name, from, to);
        }
    }

    fn new_generation(&self, inner: &mut Inner, now: Instant) {
        inner.generation += 1;
        inner.counts = Counts::default();
        inner.expiry = match inner.state {
            State::Closed => {
                (!self.settings.interval.is_zero()).then(|| now + self.settings.interval)
            }
            State::Open => Some(now + self.settings.timeout),
            State::HalfOpen => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_the_contracts_settings() {
        let s = Settings::from_policy(
            "users",
            &CircuitBreaker {
                max_requests: Some(5),
                interval_ms: Some(60_000),
                timeout_ms: Some(30_000),
                failure_rate: Some(0.5),
                min_requests: Some(20),
            },
        );
        assert_eq!(s.max_requests, 5);
        assert_eq!(s.interval, Duration::from_secs(60));
        assert_eq!(s.timeout, Duration::from_secs(30));
        assert!(matches!(s.trip, Trip::FailureRate { rate, min_requests: 20 } if rate == 0.5));
        let d = Settings::from_policy("d", &CircuitBreaker::default());
        assert!(matches!(d.trip, Trip::ConsecutiveFailures(5)));
        assert_eq!(d.timeout, Duration::from_secs(60));
    }

    #[test]
    fn failures_by_default() {
        assert!(is_failure(&Error::unavailable("down")));
        assert!(is_failure(&Error::internal("bug")));
        assert!(!is_failure(&Error::invalid_argument("bad")));
        let declared = Error {
            declared: true,
            ..Error::unavailable("a declared error of kind unavailable")
        };
        assert!(!is_failure(&declared));
    }
}
