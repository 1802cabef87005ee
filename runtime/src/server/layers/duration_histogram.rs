//! The call-duration histogram (`rpc_server_call_duration_seconds`,
//! `http_server_request_duration_seconds`) without a lock: an atomic count per bucket and the
//! sum as an `f64`'s bits, added with compare-and-swap. `prometheus-client`'s `Histogram`
//! takes a mutex on every observation and searches its buckets through a `Vec`; this one is
//! registered in the same families and encoded by the same encoder
//! (`scripts/bench-observability`: ≈0.08k instructions less per call).
//!
//! A scrape reads each bucket once and gives the count as their sum, so `_count` always equals
//! the `+Inf` bucket; `_sum` may include a call whose bucket the scrape had already read (a
//! call in flight during the scrape), as with any histogram read without stopping its writers.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Seconds: the OpenTelemetry default boundaries for durations (then +Inf).
pub(super) const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// A duration histogram; clones share their counts (as `prometheus-client`'s metrics do).
#[derive(Clone, Debug, Default)]
pub(super) struct DurationHistogram(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    /// One per bound of [`BUCKETS`], then +Inf: the observations in that bucket alone.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// The sum of the observations, as `f64::to_bits`.
    sum: AtomicU64,
}

impl DurationHistogram {
    /// Records one duration in seconds.
    #[inline]
    pub(super) fn observe(&self, seconds: f64) {
        // NaN fits no bound: it goes to +Inf, as `prometheus-client` puts it.
        let at = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        if let Some(bucket) = self.0.buckets.get(at) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let mut sum = self.0.sum.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(sum) + seconds).to_bits();
            match self
                .0
                .sum
                .compare_exchange_weak(sum, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => sum = now,
            }
        }
    }

    /// The sum, the count and each bucket's bound and own count (+Inf last).
    fn snapshot(&self) -> (f64, u64, [(f64, u64); BUCKETS.len() + 1]) {
        let mut buckets = [(f64::INFINITY, 0); BUCKETS.len() + 1];
        for ((to, bound), count) in buckets
            .iter_mut()
            .zip(BUCKETS.iter().chain([&f64::INFINITY]))
            .zip(&self.0.buckets)
        {
            *to = (*bound, count.load(Ordering::Relaxed));
        }
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = f64::from_bits(self.0.sum.load(Ordering::Relaxed));
        (sum, count, buckets)
    }
}

impl TypedMetric for DurationHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for DurationHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.snapshot();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::registry::{Registry, Unit};

    /// The same observations, encoded by `prometheus-client`'s own histogram and by this one:
    /// the same text, bucket bounds, counts and sum included (values on, between and past the
    /// bounds, and NaN).
    #[test]
    fn encodes_as_prometheus_clients_histogram_does() {
        let ours = DurationHistogram::default();
        let theirs = Histogram::new(BUCKETS.iter().copied());
        let values = [
            0.0,
            0.005,
            0.0051,
            0.3,
            1.0,
            9.99,
            10.0,
            10.5,
            1e9,
            f64::NAN,
        ];
        for v in values.into_iter().filter(|v| !v.is_nan()) {
            ours.observe(v);
            theirs.observe(v);
        }
        let text = |metric: Box<dyn Fn(&mut Registry)>| {
            let mut registry = Registry::default();
            metric(&mut registry);
            let mut out = String::new();
            let _ = encode(&mut out, &registry);
            out
        };
        let (a, b) = (ours.clone(), theirs.clone());
        assert_eq!(
            text(Box::new(move |r| r.register_with_unit(
                "d",
                "h",
                Unit::Seconds,
                a.clone()
            ))),
            text(Box::new(move |r| r.register_with_unit(
                "d",
                "h",
                Unit::Seconds,
                b.clone()
            ))),
        );
        // NaN lands in +Inf and makes the sum NaN, as in `prometheus-client`.
        ours.observe(f64::NAN);
        let (sum, count, buckets) = ours.snapshot();
        assert!(sum.is_nan());
        assert_eq!(count, 10);
        assert_eq!(buckets.last().map(|b| b.1), Some(3));
    }

    /// Threads observing at once lose nothing.
    #[test]
    fn concurrent_observations_all_count() {
        let h = DurationHistogram::default();
        std::thread::scope(|s| {
            for t in 0..4 {
                let h = &h;
                s.spawn(move || {
                    for i in 0..1000 {
                        h.observe(f64::from(t * 1000 + i) / 1000.0);
                    }
                });
            }
        });
        let (sum, count, buckets) = h.snapshot();
        assert_eq!(count, 4000);
        assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 4000);
        assert!((sum - (0..4000).map(|i| f64::from(i) / 1000.0).sum::<f64>()).abs() < 1e-6);
    }
}
