//! The circuit breaker against gobreaker's rules, as a model written from them: random
//! sequences of calls (admitted or refused, then succeeding or failing, possibly reported late)
//! and clock steps, with random settings; after every step the breaker and the model agree on
//! the state and on whether a call is admitted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use std::time::{Duration, Instant};
use svcc_runtime::breaker::{Breaker, Settings, State, Trip};

#[derive(Clone, Debug)]
enum Op {
    /// Ask to call; report at once.
    Call { success: bool },
    /// Ask to call; keep the ticket to report later.
    Start,
    /// Report the oldest kept ticket.
    Finish { success: bool },
    /// Let time pass.
    Wait { ms: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(|success| Op::Call { success }),
        1 => Just(Op::Start),
        1 => any::<bool>().prop_map(|success| Op::Finish { success }),
        2 => (0u64..3_000).prop_map(|ms| Op::Wait { ms }),
    ]
}

/// The rules, one by one, with nothing shared with the implementation.
struct Model {
    max_requests: u64,
    interval: u64,
    timeout: u64,
    /// `None`: more than 5 consecutive failures; `Some((rate, min))`: failure rate.
    rate: Option<(f64, u64)>,
    state: State,
    generation: u64,
    requests: u64,
    failures: u64,
    consecutive_successes: u64,
    consecutive_failures: u64,
    /// Milliseconds: when the closed counts clear or the open state ends.
    expiry: Option<u64>,
}

impl Model {
    fn reset(&mut self, now: u64) {
        self.generation += 1;
        self.requests = 0;
        self.failures = 0;
        self.consecutive_successes = 0;
        self.consecutive_failures = 0;
        self.expiry = match self.state {
            State::Closed => (self.interval > 0).then_some(now + self.interval),
            State::Open => Some(now + self.timeout),
            State::HalfOpen => None,
        };
    }

    fn go(&mut self, to: State, now: u64) {
        if self.state != to {
            self.state = to;
            self.reset(now);
        }
    }

    fn tick(&mut self, now: u64) {
        if let Some(e) = self.expiry
            && e <= now
        {
            match self.state {
                State::Closed => self.reset(now),
                State::Open => self.go(State::HalfOpen, now),
                State::HalfOpen => {}
            }
        }
    }

    fn allow(&mut self, now: u64) -> Option<u64> {
        self.tick(now);
        let admitted = match self.state {
            State::Open => false,
            State::HalfOpen => self.requests < self.max_requests,
            State::Closed => true,
        };
        admitted.then(|| {
            self.requests += 1;
            self.generation
        })
    }

    fn record(&mut self, generation: u64, success: bool, now: u64) {
        self.tick(now);
        if generation != self.generation {
            return;
        }
        if success {
            self.consecutive_successes += 1;
            self.consecutive_failures = 0;
            if self.state == State::HalfOpen && self.consecutive_successes >= self.max_requests {
                self.go(State::Closed, now);
            }
        } else {
            self.failures += 1;
            self.consecutive_failures += 1;
            self.consecutive_successes = 0;
            let trips = match self.rate {
                None => self.consecutive_failures > 5,
                Some((rate, min)) => {
                    self.requests >= min.max(1)
                        && self.failures as f64 >= rate * self.requests as f64
                }
            };
            match self.state {
                State::Closed if trips => self.go(State::Open, now),
                State::HalfOpen => self.go(State::Open, now),
                _ => {}
            }
        }
    }
}

proptest! {
    // No regression files written into the source tree (a test run leaves it as it was).
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_breaker_follows_gobreakers_rules(
        max_requests in 1u64..4,
        interval in prop_oneof![Just(0u64), 500u64..5_000],
        timeout in 200u64..4_000,
        rate in prop_oneof![Just(None), (0.1f64..1.0, 1u64..8).prop_map(Some)],
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let mut settings = Settings::new("model");
        settings.max_requests = max_requests;
        settings.interval = Duration::from_millis(interval);
        settings.timeout = Duration::from_millis(timeout);
        if let Some((rate, min_requests)) = rate {
            settings.trip = Trip::FailureRate { rate, min_requests };
        }
        let start = Instant::now();
        // One clock origin for both: the first interval ends at exactly `interval`.
        let breaker = Breaker::new_at(settings, start);
        let mut model = Model {
            max_requests,
            interval,
            timeout,
            rate,
            state: State::Closed,
            generation: 0,
            requests: 0,
            failures: 0,
            consecutive_successes: 0,
            consecutive_failures: 0,
            expiry: (interval > 0).then_some(interval),
        };
        let mut now = 0u64;
        let mut kept = std::collections::VecDeque::new();
        for op in ops {
            let at = start + Duration::from_millis(now);
            match op {
                Op::Call { success } => {
                    let real = breaker.allow_at(at);
                    let expected = model.allow(now);
                    prop_assert_eq!(real.is_ok(), expected.is_some(), "admission at {} ms", now);
                    if let (Ok(ticket), Some(generation)) = (real, expected) {
                        breaker.record_at(ticket, success, at);
                        model.record(generation, success, now);
                    }
                }
                Op::Start => {
                    let real = breaker.allow_at(at);
                    let expected = model.allow(now);
                    prop_assert_eq!(real.is_ok(), expected.is_some(), "admission at {} ms", now);
                    if let (Ok(ticket), Some(generation)) = (real, expected) {
                        kept.push_back((ticket, generation));
                    }
                }
                Op::Finish { success } => {
                    if let Some((ticket, generation)) = kept.pop_front() {
                        breaker.record_at(ticket, success, at);
                        model.record(generation, success, now);
                    }
                }
                Op::Wait { ms } => now += ms,
            }
            let at = start + Duration::from_millis(now);
            model.tick(now);
            prop_assert_eq!(breaker.state_at(at), model.state, "state at {} ms", now);
            prop_assert_eq!(breaker.counts().requests, model.requests);
        }
    }
}

#[test]
fn an_open_breaker_refuses_until_its_timeout_then_probes() {
    let mut s = Settings::new("t");
    s.max_requests = 2;
    s.timeout = Duration::from_secs(10);
    let b = Breaker::new(s);
    let t0 = Instant::now();
    for _ in 0..6 {
        let t = b.allow_at(t0).unwrap();
        b.record_at(t, false, t0);
    }
    assert_eq!(b.state_at(t0), State::Open);
    assert!(b.allow_at(t0 + Duration::from_secs(9)).is_err());
    let later = t0 + Duration::from_secs(10);
    assert_eq!(b.state_at(later), State::HalfOpen);
    let p1 = b.allow_at(later).unwrap();
    let p2 = b.allow_at(later).unwrap();
    assert!(b.allow_at(later).is_err(), "only max_requests probes");
    b.record_at(p1, true, later);
    b.record_at(p2, true, later);
    assert_eq!(b.state_at(later), State::Closed);
}
