//! The Go platform library's metric names, for dashboards made for it (switched on by
//! `MetricsConfig::go_names`), beside the OpenTelemetry-named series:
//!
//! - `service_requests_count{method, service, success}`: requests by outcome;
//! - `service_requests_all_count{method, service}`: all requests;
//! - `service_requests_latency_microseconds{method, service, success}`: a histogram in µs.
//!
//! The two counts keep their exact names: OpenMetrics would append `_total` to a counter, and
//! `unknown` (which keeps names) is not a type `promtool check metrics` or the Prometheus text
//! format accept, so they are exposed as `gauge`s that only grow — `rate()` and `increase()`
//! work on them as on the Go library's counters.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Microseconds: 100 µs to 10 s.
const BUCKETS: &[f64] = &[
    100.0,
    250.0,
    500.0,
    1_000.0,
    2_500.0,
    5_000.0,
    10_000.0,
    25_000.0,
    50_000.0,
    100_000.0,
    250_000.0,
    500_000.0,
    1_000_000.0,
    2_500_000.0,
    10_000_000.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Labels {
    method: &'static str,
    service: &'static str,
    success: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AllLabels {
    method: &'static str,
    service: &'static str,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS.iter().copied())
}

/// The counters (read at scrape time) and the latency family.
#[derive(Debug, Default)]
pub(crate) struct GoNames {
    counts: Mutex<Vec<(Labels, Arc<AtomicU64>)>>,
    all: Mutex<Vec<(AllLabels, Arc<AtomicU64>)>>,
}

/// One method's series, looked up once when its stack is built.
#[derive(Clone, Debug)]
pub(crate) struct Handles {
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    all: Arc<AtomicU64>,
    latency_ok: Histogram,
    latency_failed: Histogram,
}

impl Handles {
    pub(crate) fn record(&self, success: bool, seconds: f64) {
        self.all.fetch_add(1, Ordering::Relaxed);
        let micros = seconds * 1e6;
        if success {
            self.ok.fetch_add(1, Ordering::Relaxed);
            self.latency_ok.observe(micros);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
            self.latency_failed.observe(micros);
        }
    }
}

/// The latency family, registered as a normal histogram.
pub(crate) type Latency = Family<Labels, Histogram, fn() -> Histogram>;

pub(crate) fn latency_family() -> Latency {
    Family::new_with_constructor(histogram as fn() -> Histogram)
}

impl GoNames {
    pub(crate) fn handles(
        &self,
        latency: &Latency,
        service: &'static str,
        method: &'static str,
    ) -> Handles {
        let counter = |success: &'static str| {
            let labels = Labels {
                method,
                service,
                success,
            };
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, c)) = counts.iter().find(|(l, _)| *l == labels) {
                return c.clone();
            }
            let c = Arc::new(AtomicU64::new(0));
            counts.push((labels, c.clone()));
            c
        };
        let all = {
            let labels = AllLabels { method, service };
            let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
            match all.iter().find(|(l, _)| *l == labels) {
                Some((_, c)) => c.clone(),
                None => {
                    let c = Arc::new(AtomicU64::new(0));
                    all.push((labels, c.clone()));
                    c
                }
            }
        };
        let latency_of = |success| {
            latency
                .get_or_create(&Labels {
                    method,
                    service,
                    success,
                })
                .clone()
        };
        Handles {
            ok: counter("true"),
            failed: counter("false"),
            all,
            latency_ok: latency_of("true"),
            latency_failed: latency_of("false"),
        }
    }
}

impl Collector for GoNames {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        {
            let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let mut m = encoder.encode_descriptor(
                "service_requests_count",
                "Requests by method, service and success (the Go platform library's name)",
                None,
                MetricType::Gauge,
            )?;
            for (labels, v) in counts.iter() {
                m.encode_family(labels)?
                    .encode_gauge(&v.load(Ordering::Relaxed))?;
            }
        }
        let all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        let mut m = encoder.encode_descriptor(
            "service_requests_all_count",
            "All requests by method and service (the Go platform library's name)",
            None,
            MetricType::Gauge,
        )?;
        for (labels, v) in all.iter() {
            m.encode_family(labels)?
                .encode_gauge(&v.load(Ordering::Relaxed))?;
        }
        Ok(())
    }
}
