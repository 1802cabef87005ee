//! What a generated client does around each call, from the method's policies:
//!
//! - `@circuit_breaker`: the call goes through the method's breaker (one per client and
//!   method, gobreaker's rules, [`crate::breaker`]); an open breaker fails fast with
//!   unavailable, without a network call.
//! - retries: an idempotent method (REST `GET`/`PUT`/`DELETE`/…, [`RetryPolicy`]) is tried
//!   again after an unavailable answer, with exponential backoff and full jitter, never past
//!   the call's deadline, and never while its breaker refuses;
//! - `@fallback(ttl)`: a good result is stored ([`crate::fallback`]); when the call fails with
//!   a failure-class error or the breaker is open, the last good result younger than the TTL
//!   is the answer instead — logged (target `svcc::client`, warn) and counted
//!   ([`fallback_answers`]).

use super::ClientOutput;
use crate::breaker::{Breaker, Settings};
use crate::context::Context;
use crate::error::{Code, Error};
use crate::fallback::{Entry, FallbackCache};
use crate::method::MethodInfo;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Retries of idempotent methods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (default 3; 1 turns retries off).
    pub max_attempts: u32,
    /// The first backoff (default 100 ms); each next one doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Default 2 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before try `attempt` (2, 3, …): a random duration up to the doubled backoff
    /// ("full jitter"), so that many clients do not retry in step.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(2)));
        let cap = exp.min(self.max_backoff);
        let random = uuid::Uuid::new_v4().as_u128() as u64;
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX).max(1);
        Duration::from_nanos(random % nanos)
    }
}

/// Per client: the methods' breakers.
#[derive(Debug, Default)]
pub(crate) struct Breakers(Mutex<HashMap<(&'static str, &'static str), Arc<Breaker>>>);

impl Breakers {
    fn of(&self, info: &'static MethodInfo) -> Option<Arc<Breaker>> {
        let policy = info.policies.circuit_breaker.as_ref()?;
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(
            map.entry((info.service, info.name))
                .or_insert_with(|| {
                    Breaker::shared(Settings::from_policy(
                        format!("client:{}.{}", info.service, info.name),
                        policy,
                    ))
                })
                .clone(),
        )
    }
}

static FALLBACK_ANSWERS: Mutex<Vec<((&str, &str), u64)>> = Mutex::new(Vec::new());

/// Calls answered from the fallback cache so far, by (service, method).
pub fn fallback_answers() -> Vec<((&'static str, &'static str), u64)> {
    FALLBACK_ANSWERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

fn count_fallback(info: &MethodInfo) {
    let mut all = FALLBACK_ANSWERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match all
        .iter_mut()
        .find(|(k, _)| *k == (info.service, info.name))
    {
        Some((_, n)) => *n += 1,
        None => all.push(((info.service, info.name), 1)),
    }
}

/// Whether an answer may be retried: the service was unreachable or said it is unavailable
/// (not a declared error, not the client's own breaker).
fn retryable(e: &Error) -> bool {
    !e.declared && e.kind == Code::Unavailable
}

/// Runs `attempt` under the method's breaker, retries and fallback cache.
#[allow(clippy::too_many_arguments)] // one private call site (`Core::resilient`)
pub(crate) async fn call<F, Fut>(
    info: &'static MethodInfo,
    ctx: &Context,
    params: impl FnOnce() -> Option<Value>,
    breakers: &Breakers,
    cache: Option<&Arc<dyn FallbackCache>>,
    retry: RetryPolicy,
    deadline: Instant,
    attempt: F,
) -> Result<ClientOutput, Error>
where
    F: Fn(Context) -> Fut,
    Fut: Future<Output = Result<ClientOutput, Error>>,
{
    let breaker = breakers.of(info);
    let fallback = info
        .policies
        .fallback_ttl_ms
        .map(Duration::from_millis)
        .zip(cache);
    let key = match fallback {
        Some(_) => params().map(|p| crate::fallback::key(info.service, info.name, &p)),
        None => None,
    };
    // Every try shares the call's deadline.
    let mut ctx = ctx.clone();
    ctx.deadline = Some(ctx.deadline.map_or(deadline, |d| d.min(deadline)));
    let tries = if info.policies.idempotent {
        retry.max_attempts.max(1)
    } else {
        1
    };
    let mut n = 0;
    let outcome = loop {
        n += 1;
        let ticket = match &breaker {
            Some(b) => match b.allow() {
                Ok(t) => Some(t),
                Err(r) => break Err(r.to_error(b.name())),
            },
            None => None,
        };
        let result = attempt(ctx.clone()).await;
        if let (Some(b), Some(t)) = (&breaker, ticket) {
            b.record(t, result.as_ref().map(|_| ()));
        }
        match result {
            Err(e) if n < tries && retryable(&e) => {
                let wait = retry.backoff(n + 1);
                if Instant::now() + wait >= deadline {
                    break Err(e);
                }
                tracing::debug!(target: "svcc::client", service = info.service, method = info.name, attempt = n + 1, "retrying after {wait:?}: {e}");
                tokio::time::sleep(wait).await;
            }
            other => break other,
        }
    };
    let (Some((ttl, cache)), Some(key)) = (fallback, key) else {
        return outcome;
    };
    match outcome {
        Ok(out) => {
            let headers = out
                .headers
                .iter()
                .filter(|(name, _)| {
                    info.results.iter().any(|r| match &r.location {
                        crate::method::Location::Header(h) => name.as_str().eq_ignore_ascii_case(h),
                        crate::method::Location::Cookie(_) => *name == http::header::SET_COOKIE,
                        _ => false,
                    })
                })
                .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
                .collect();
            cache
                .put(&key, Entry::new(out.result.clone(), headers), ttl)
                .await;
            Ok(out)
        }
        Err(e) if crate::breaker::is_failure(&e) => match cache.get(&key).await {
            Some(entry) if entry.age() < ttl => {
                tracing::warn!(target: "svcc::client", service = info.service, method = info.name, age_ms = entry.age().as_millis() as u64, error = %e, "answered from the fallback cache");
                count_fallback(info);
                let mut headers = HeaderMap::new();
                for (k, v) in &entry.headers {
                    if let (Ok(k), Ok(v)) =
                        (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v))
                    {
                        headers.append(k, v);
                    }
                }
                Ok(ClientOutput {
                    result: entry.result,
                    headers,
                    results: info.results,
                })
            }
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_and_capped() {
        let p = RetryPolicy::default();
        for attempt in 2..10 {
            let w = p.backoff(attempt);
            assert!(w <= p.max_backoff, "{w:?}");
        }
        assert!(p.backoff(2) <= Duration::from_millis(100));
        assert_eq!(RetryPolicy::none().max_attempts, 1);
    }
}
