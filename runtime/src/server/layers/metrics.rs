//! `@metrics`: per-method request metrics in Prometheus' text format at `/metrics`, named as
//! the OpenTelemetry semantic conventions are exported to Prometheus:
//!
//! - `rpc_server_call_duration_seconds` (histogram) for JSON-RPC calls, labels
//!   `rpc_system_name` (`jsonrpc`), `rpc_service`, `rpc_method`, `rpc_response_status_code`
//!   (`OK`, or the canonical error code: low cardinality);
//! - `http_server_request_duration_seconds` (histogram) for REST calls, labels
//!   `http_request_method`, `http_route` (the route template, never the raw path),
//!   `http_response_status_code`;
//! - `rpc_server_active_requests` (gauge) by `rpc_service` and `rpc_method`;
//! - `svcc_rate_limited_total` and `svcc_unauthenticated_total` by `rpc_service` and
//!   `rpc_method`: calls refused by `@rate_limit`, and for a missing or invalid bearer token
//!   (whether or not the method has `@metrics`);
//! - `svcc_server_connections`, `svcc_server_max_connections` (gauges) and
//!   `svcc_server_connections_rejected_total`: client connections open, the cap, and those
//!   closed on accept for being over it;
//! - `svcc_build_info` (always 1) with the runtime's `version`;
//! - `svcc_otlp_dropped_total` by `signal` (`spans`, `logs`): telemetry the OTLP exporter
//!   dropped (queue full, collector down); `svcc_log_lines_dropped_total`: log lines dropped
//!   because stdout did not keep up;
//! - the `process_*` metrics ([`super::process`]) and, when asked, the Go platform library's
//!   names ([`super::go_compat`]).
//!
//! Request counts and rates are the histograms' `_count` series.

use super::duration_histogram::DurationHistogram;
use super::go_compat::{self, GoNames, Handles};
use crate::error::Error;
use crate::method::{MethodInfo, Output};
use crate::server::MetricsConfig;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    rpc_system_name: &'static str,
    rpc_service: &'static str,
    rpc_method: &'static str,
    rpc_response_status_code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    http_request_method: &'static str,
    http_route: &'static str,
    http_response_status_code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    rpc_service: &'static str,
    rpc_method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// One server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    go: Option<(Arc<GoNames>, go_compat::Latency)>,
    rpc: Family<RpcLabels, DurationHistogram>,
    http: Family<HttpLabels, DurationHistogram>,
    active: Family<MethodLabels, Gauge>,
    rate_limited: Family<MethodLabels, Counter>,
    unauthenticated: Family<MethodLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub(crate) fn new(
        config: &MetricsConfig,
        connections: Arc<crate::server::connections::Connections>,
    ) -> Arc<Metrics> {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(OpenConnections(connections)));
        let rpc = Family::<RpcLabels, DurationHistogram>::default();
        let http = Family::<HttpLabels, DurationHistogram>::default();
        let active = Family::<MethodLabels, Gauge>::default();
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register_with_unit(
            "rpc_server_call_duration",
            "Duration of RPC calls (JSON-RPC and gRPC)",
            Unit::Seconds,
            rpc.clone(),
        );
        registry.register_with_unit(
            "http_server_request_duration",
            "Duration of REST requests",
            Unit::Seconds,
            http.clone(),
        );
        registry.register(
            "rpc_server_active_requests",
            "Calls in progress",
            active.clone(),
        );
        let rate_limited = Family::<MethodLabels, Counter>::default();
        registry.register(
            "svcc_rate_limited",
            "Calls refused by @rate_limit",
            rate_limited.clone(),
        );
        let unauthenticated = Family::<MethodLabels, Counter>::default();
        registry.register(
            "svcc_unauthenticated",
            "Calls refused for a missing or invalid bearer token",
            unauthenticated.clone(),
        );
        registry.register("svcc_build_info", "The svcc runtime's version", build);
        registry.register_collector(Box::new(Dropped));
        if config.process {
            registry.register_collector(Box::new(super::process::Process));
        }
        let go = config.go_names.then(|| {
            let names = Arc::new(GoNames::default());
            let latency = go_compat::latency_family();
            registry.register(
                "service_requests_latency_microseconds",
                "Request latency in microseconds (the Go platform library's name)",
                latency.clone(),
            );
            registry.register_collector(Box::new(names.clone()));
            (names, latency)
        });
        Arc::new(Metrics {
            registry,
            go,
            rpc,
            http,
            active,
            rate_limited,
            unauthenticated,
        })
    }

    /// The counter of `info`'s calls refused by its rate limit.
    pub(crate) fn rate_limited(&self, info: &'static MethodInfo) -> Counter {
        self.rate_limited
            .get_or_create(&MethodLabels {
                rpc_service: info.service,
                rpc_method: info.name,
            })
            .clone()
    }

    /// The counter of `info`'s calls refused for their bearer token.
    pub(crate) fn unauthenticated(&self, info: &'static MethodInfo) -> Counter {
        self.unauthenticated
            .get_or_create(&MethodLabels {
                rpc_service: info.service,
                rpc_method: info.name,
            })
            .clone()
    }

    /// The scrape in the Prometheus text format 0.0.4 (for scrapers and tools that do not
    /// ask for OpenMetrics, such as `promtool check metrics`): the OpenMetrics text without
    /// `# UNIT` and `# EOF`, and with counters described under their sample name (`…_total`).
    pub(crate) fn encode_text(&self) -> String {
        to_text_004(&self.encode())
    }

    /// The scrape: OpenMetrics text.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

fn to_text_004(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line.starts_with("# HELP ") {
            help = Some(line);
            continue;
        }
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.rsplit_once(' ').unwrap_or((rest, "untyped"));
            let (name, kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "unknown" | "info" | "stateset" => (name.to_string(), "untyped"),
                other => (name.to_string(), other),
            };
            if let Some(h) = help.take() {
                let text = h.splitn(4, ' ').nth(3).unwrap_or("");
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        if let Some(h) = help.take() {
            out.push_str(h);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The server's connections: open, the cap, and those closed at once for being over it.
#[derive(Debug)]
struct OpenConnections(Arc<crate::server::connections::Connections>);

impl prometheus_client::collector::Collector for OpenConnections {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::metrics::MetricType;
        let c = &self.0;
        for (name, help, v) in [
            (
                "svcc_server_connections",
                "Client connections open",
                c.open(),
            ),
            (
                "svcc_server_max_connections",
                "The cap on open client connections (ServerConfig::max_connections)",
                c.max(),
            ),
        ] {
            encoder
                .encode_descriptor(name, help, None, MetricType::Gauge)?
                .encode_gauge(&(i64::try_from(v).unwrap_or(i64::MAX)))?;
        }
        encoder
            .encode_descriptor(
                "svcc_server_connections_rejected",
                "Connections closed on accept because the server was at its cap",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(
                &c.rejected(),
                None,
            )?;
        Ok(())
    }
}

/// What the OTLP exporter dropped, read at scrape time.
#[derive(Debug)]
struct Dropped;

impl prometheus_client::collector::Collector for Dropped {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct Signal {
            signal: &'static str,
        }
        let mut m = encoder.encode_descriptor(
            "svcc_otlp_dropped",
            "Spans and log records the OTLP exporter dropped (queue full, collector down)",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (signal, n) in [
            ("spans", crate::telemetry::dropped_spans()),
            ("logs", crate::telemetry::dropped_logs()),
        ] {
            m.encode_family(&Signal { signal })?
                .encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(&n, None)?;
        }
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct Breaker {
            breaker: String,
        }
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct Transition {
            breaker: String,
            to: &'static str,
        }
        // Breakers of one name (a method's, in every client of it in this process) are
        // reported as one: the most open state, the transitions summed.
        let mut breakers: Vec<(String, i64, [u64; 3])> = Vec::new();
        for b in crate::breaker::registered() {
            use crate::breaker::State;
            let counts = [State::Closed, State::HalfOpen, State::Open].map(|s| b.transitions_to(s));
            match breakers.iter_mut().find(|(n, _, _)| n == b.name()) {
                Some((_, state, t)) => {
                    *state = (*state).max(b.state().as_gauge());
                    for (sum, n) in t.iter_mut().zip(counts) {
                        *sum += n;
                    }
                }
                None => breakers.push((b.name().to_string(), b.state().as_gauge(), counts)),
            }
        }
        if !breakers.is_empty() {
            use crate::breaker::State;
            let mut m = encoder.encode_descriptor(
                "svcc_circuit_breaker_state",
                "Circuit breaker state: 0 closed, 1 half-open, 2 open",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for (name, state, _) in &breakers {
                m.encode_family(&Breaker {
                    breaker: name.clone(),
                })?
                .encode_gauge(state)?;
            }
            let mut m = encoder.encode_descriptor(
                "svcc_circuit_breaker_transitions",
                "Circuit breaker state changes, by the state entered",
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            for (name, _, counts) in &breakers {
                for (state, n) in [State::Closed, State::HalfOpen, State::Open]
                    .iter()
                    .zip(counts)
                {
                    m.encode_family(&Transition {
                        breaker: name.clone(),
                        to: state.as_str(),
                    })?
                    .encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(n, None)?;
                }
            }
        }
        #[cfg(feature = "events")]
        {
            #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
            struct Messages {
                messaging_system: &'static str,
                messaging_destination_name: String,
                messaging_consumer_group_name: String,
                outcome: &'static str,
            }
            let counts = crate::events::counts();
            for (direction, name, help) in [
                (
                    "sent",
                    "messaging_client_sent_messages",
                    "Event records published, by outcome (ok: the bus holds it)",
                ),
                (
                    "consumed",
                    "messaging_client_consumed_messages",
                    "Event records handled, by outcome (ok, dead_lettered, skipped)",
                ),
            ] {
                let of: Vec<_> = counts
                    .iter()
                    .filter(|(c, _)| c.direction == direction)
                    .collect();
                if of.is_empty() {
                    continue;
                }
                let mut m = encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    prometheus_client::metrics::MetricType::Counter,
                )?;
                for (c, n) in of {
                    m.encode_family(&Messages {
                        messaging_system: c.system,
                        messaging_destination_name: c.topic.clone(),
                        messaging_consumer_group_name: c.group.clone(),
                        outcome: c.outcome,
                    })?
                    .encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(n, None)?;
                }
            }
        }
        #[cfg(feature = "events")]
        {
            #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
            struct Operation {
                messaging_system: &'static str,
                messaging_destination_name: String,
                messaging_consumer_group_name: String,
            }
            let all = crate::events::durations();
            for (direction, name, help) in [
                (
                    "sent",
                    "messaging_client_operation_duration_seconds",
                    "How long publishing an event record took (until the bus held it or refused)",
                ),
                (
                    "consumed",
                    "messaging_process_duration_seconds",
                    "How long a handler took with an event record (each attempt)",
                ),
            ] {
                let of: Vec<_> = all.iter().filter(|(k, _)| k.0 == direction).collect();
                if of.is_empty() {
                    continue;
                }
                let mut m = encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    prometheus_client::metrics::MetricType::Histogram,
                )?;
                for ((_, system, topic, group), d) in of {
                    let buckets: Vec<(f64, u64)> = crate::events::DURATION_BUCKETS
                        .iter()
                        .copied()
                        .zip(d.buckets.iter().copied())
                        .collect();
                    m.encode_family(&Operation {
                        messaging_system: system,
                        messaging_destination_name: topic.clone(),
                        messaging_consumer_group_name: group.clone(),
                    })?
                    .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                        d.sum, d.count, &buckets, None,
                    )?;
                }
            }
        }
        #[cfg(feature = "postgres")]
        if let Some((open, idle, waiting, max)) = crate::db::pool_totals() {
            for (name, help, v) in [
                (
                    "svcc_db_pool_connections",
                    "Database connections open",
                    open,
                ),
                (
                    "svcc_db_pool_idle_connections",
                    "Database connections open and idle",
                    idle,
                ),
                (
                    "svcc_db_pool_waiting",
                    "Callers waiting for a database connection",
                    waiting,
                ),
                (
                    "svcc_db_pool_max_connections",
                    "The pools' connection limit",
                    max,
                ),
            ] {
                let mut m = encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    prometheus_client::metrics::MetricType::Gauge,
                )?;
                m.encode_gauge(&(i64::try_from(v).unwrap_or(i64::MAX)))?;
            }
        }
        #[cfg(feature = "client")]
        {
            let answers = crate::client::fallback_answers();
            if !answers.is_empty() {
                #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
                struct Method {
                    rpc_service: &'static str,
                    rpc_method: &'static str,
                }
                let mut m = encoder.encode_descriptor(
                    "svcc_client_fallback_answers",
                    "Client calls answered from the @fallback cache instead of with their error",
                    None,
                    prometheus_client::metrics::MetricType::Counter,
                )?;
                for ((rpc_service, rpc_method), n) in answers {
                    m.encode_family(&Method {
                        rpc_service,
                        rpc_method,
                    })?
                    .encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(&n, None)?;
                }
            }
        }
        #[cfg(feature = "logging")]
        {
            let mut m = encoder.encode_descriptor(
                "svcc_log_lines_dropped",
                "Log lines dropped because stdout did not keep up",
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            m.encode_counter::<prometheus_client::encoding::NoLabelSet, _, u64>(
                &crate::logging::dropped_lines(),
                None,
            )?;
        }
        Ok(())
    }
}

/// A method's metrics. The series a successful call records are looked up once here, not per
/// call; failures (rarer, labelled by their code) are looked up per call.
pub(super) fn meter(info: &'static MethodInfo, metrics: &Arc<Metrics>) -> Meter {
    let active = metrics
        .active
        .get_or_create(&MethodLabels {
            rpc_service: info.service,
            rpc_method: info.name,
        })
        .clone();
    let rpc_ok = metrics
        .rpc
        .get_or_create(&rpc_labels(info, "jsonrpc", "OK"))
        .clone();
    let http_ok = info.http.as_ref().map(|h| {
        metrics
            .http
            .get_or_create(&http_labels(h, h.status))
            .clone()
    });
    let go = metrics
        .go
        .as_ref()
        .map(|(names, latency)| names.handles(latency, info.service, info.name));
    Meter {
        info,
        metrics: metrics.clone(),
        active,
        rpc_ok,
        http_ok,
        go,
    }
}

fn rpc_labels(info: &'static MethodInfo, transport: &'static str, code: &'static str) -> RpcLabels {
    RpcLabels {
        rpc_system_name: transport,
        rpc_service: info.service,
        rpc_method: info.jsonrpc.unwrap_or(info.name),
        rpc_response_status_code: code,
    }
}

fn http_labels(h: &'static crate::method::HttpBinding, status: u16) -> HttpLabels {
    HttpLabels {
        http_request_method: &h.method,
        http_route: &h.path,
        http_response_status_code: status,
    }
}

/// One method's metrics, its series looked up once.
pub(super) struct Meter {
    info: &'static MethodInfo,
    metrics: Arc<Metrics>,
    active: Gauge,
    /// The series of a successful JSON-RPC call, and of a successful REST call.
    rpc_ok: DurationHistogram,
    http_ok: Option<DurationHistogram>,
    /// The Go names' series, when switched on.
    go: Option<Handles>,
}

/// A call in progress: counted in `rpc_server_active_requests` until dropped (a panic
/// unwinding through it too).
pub(super) struct Active(Gauge);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Meter {
    /// A call starts.
    pub(super) fn enter(&self) -> Active {
        self.active.inc();
        Active(self.active.clone())
    }

    /// A call ended with `outcome` after `seconds`.
    pub(super) fn record(
        &self,
        transport: &'static str,
        outcome: &Result<Output, Error>,
        seconds: f64,
    ) {
        let info = self.info;
        if let Some(go) = &self.go {
            go.record(outcome.is_ok(), seconds);
        }
        match (transport, &info.http) {
            ("rest", Some(h)) => match (outcome, &self.http_ok) {
                (Ok(_), Some(ok)) => ok.observe(seconds),
                _ => {
                    let status = outcome
                        .as_ref()
                        .map_or_else(Error::http_status, |_| h.status);
                    self.metrics
                        .http
                        .get_or_create(&http_labels(h, status))
                        .observe(seconds);
                }
            },
            _ => match outcome {
                Ok(_) if transport == "jsonrpc" => self.rpc_ok.observe(seconds),
                _ => {
                    let code = outcome.as_ref().map_or_else(|e| e.kind.as_str(), |_| "OK");
                    self.metrics
                        .rpc
                        .get_or_create(&rpc_labels(info, transport, code))
                        .observe(seconds);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_text_format_names_counters_by_their_samples() {
        let om = "# HELP a_seconds Time.\n# TYPE a_seconds counter\n# UNIT a_seconds seconds\na_seconds_total 1.5\n# HELP g A gauge.\n# TYPE g gauge\ng 2\n# EOF\n";
        assert_eq!(
            super::to_text_004(om),
            "# HELP a_seconds_total Time.\n# TYPE a_seconds_total counter\na_seconds_total 1.5\n# HELP g A gauge.\n# TYPE g gauge\ng 2\n"
        );
    }
}
