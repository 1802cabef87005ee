//! Sampling, as `OTEL_TRACES_SAMPLER` names it.

use super::{SpanContext, TraceId};

/// Which traces are recorded. Unsampled spans still get ids, travel in `traceparent` and mark
/// log lines; they are just not exported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    AlwaysOn,
    AlwaysOff,
    /// A fraction of traces, decided by the trace id (so every service agrees).
    TraceIdRatio(f64),
    /// The parent's decision when there is a parent; the inner sampler for roots. The
    /// default (`parentbased_always_on`).
    ParentBased(Root),
}

/// The sampler a parent-based sampler uses for new traces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Root {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
}

impl Sampler {
    /// From `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (a ratio, default 1.0);
    /// unknown names fall back to the default, as the specification asks.
    pub fn from_names(name: Option<&str>, arg: Option<&str>) -> Sampler {
        let ratio = arg
            .and_then(|a| a.trim().parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r))
            .unwrap_or(1.0);
        match name.map(str::trim) {
            Some("always_on") => Sampler::AlwaysOn,
            Some("always_off") => Sampler::AlwaysOff,
            Some("traceidratio") => Sampler::TraceIdRatio(ratio),
            Some("parentbased_always_off") => Sampler::ParentBased(Root::AlwaysOff),
            Some("parentbased_traceidratio") => Sampler::ParentBased(Root::TraceIdRatio(ratio)),
            _ => Sampler::ParentBased(Root::AlwaysOn),
        }
    }

    /// Whether a new span of `trace_id` under `parent` is recorded.
    pub fn should_sample(&self, parent: Option<&SpanContext>, trace_id: TraceId) -> bool {
        match *self {
            Sampler::AlwaysOn => true,
            Sampler::AlwaysOff => false,
            Sampler::TraceIdRatio(r) => ratio(trace_id, r),
            Sampler::ParentBased(root) => match parent {
                Some(p) => p.sampled,
                None => match root {
                    Root::AlwaysOn => true,
                    Root::AlwaysOff => false,
                    Root::TraceIdRatio(r) => ratio(trace_id, r),
                },
            },
        }
    }
}

/// The low 8 bytes of the trace id against the ratio (the random part under W3C level 2).
fn ratio(id: TraceId, r: f64) -> bool {
    let mut low = [0u8; 8];
    low.copy_from_slice(&id.0[8..]);
    let bound = (r * u64::MAX as f64) as u64;
    r >= 1.0 || u64::from_be_bytes(low) < bound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::SpanId;

    #[test]
    fn parent_based_follows_the_parent_and_ratios_follow_the_id() {
        let parent = |sampled| SpanContext {
            trace_id: TraceId::random(),
            span_id: SpanId::random(),
            sampled,
            trace_state: None,
        };
        let s = Sampler::from_names(None, None);
        assert!(s.should_sample(None, TraceId::random()));
        assert!(!s.should_sample(Some(&parent(false)), TraceId::random()));
        assert!(s.should_sample(Some(&parent(true)), TraceId::random()));
        let half = Sampler::from_names(Some("traceidratio"), Some("0.5"));
        let kept = (0..2000)
            .filter(|_| half.should_sample(None, TraceId::random()))
            .count();
        assert!((800..1200).contains(&kept), "{kept} of 2000");
        let none = Sampler::from_names(Some("traceidratio"), Some("0"));
        assert!(!none.should_sample(None, TraceId::random()));
        assert_eq!(
            Sampler::from_names(Some("nonsense"), None),
            Sampler::ParentBased(Root::AlwaysOn)
        );
    }
}
