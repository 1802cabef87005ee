//! Telemetry settings from the standard `OTEL_*` environment variables.

use super::Sampler;
use std::sync::OnceLock;
use std::time::Duration;

/// How spans and log records are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (`grpc`), usually port 4317.
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), usually port 4318.
    HttpProtobuf,
}

/// Where and how telemetry is exported. [`Settings::from_env`] reads the variables the
/// OpenTelemetry specification defines; nothing is exported unless an endpoint is set (the
/// SDKs' default of `localhost:4318` would send a service's spans wherever that is).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Full URL for spans (`…/v1/traces` for HTTP; the collector's address for gRPC), when
    /// traces are exported.
    pub traces_endpoint: Option<String>,
    /// Full URL for log records, when logs are exported.
    pub logs_endpoint: Option<String>,
    pub protocol: Protocol,
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`: `key=value,…`).
    pub headers: Vec<(String, String)>,
    /// How long one export may take (`OTEL_EXPORTER_OTLP_TIMEOUT`, ms; default 10 s).
    pub timeout: Duration,
    /// `service.name` (`OTEL_SERVICE_NAME`, else `service.name` in
    /// `OTEL_RESOURCE_ATTRIBUTES`, else `unknown_service`).
    pub service_name: String,
    /// Other resource attributes (`OTEL_RESOURCE_ATTRIBUTES`).
    pub resource: Vec<(String, String)>,
    pub sampler: Sampler,
    /// Largest number of items waiting for export (`OTEL_BSP_MAX_QUEUE_SIZE`, default 2048);
    /// more are dropped and counted.
    pub max_queue_size: usize,
    /// Most items in one export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, default 512).
    pub max_export_batch_size: usize,
    /// Longest wait before a partial batch is sent (`OTEL_BSP_SCHEDULE_DELAY`, ms, default
    /// 5000).
    pub schedule_delay: Duration,
}

impl Settings {
    /// Reads the environment.
    pub fn from_env() -> Settings {
        Settings::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Settings {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let disabled = get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let protocol_of = |signal: &str| match get(&format!("OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"))
            .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .as_deref()
        {
            Some("grpc") => Protocol::Grpc,
            _ => Protocol::HttpProtobuf,
        };
        let protocol = protocol_of("TRACES");
        let endpoint = |signal: &str, path: &str, exporter: &str| {
            if disabled || get(exporter).is_some_and(|v| v.trim() == "none") {
                return None;
            }
            if let Some(full) = get(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")) {
                return Some(full);
            }
            let base = get("OTEL_EXPORTER_OTLP_ENDPOINT")?;
            Some(match protocol {
                Protocol::Grpc => base,
                Protocol::HttpProtobuf => format!("{}/{path}", base.trim_end_matches('/')),
            })
        };
        let pairs = |v: Option<String>| -> Vec<(String, String)> {
            v.unwrap_or_default()
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), percent_decode(v.trim())))
                .filter(|(k, _)| !k.is_empty())
                .collect()
        };
        let mut resource = pairs(get("OTEL_RESOURCE_ATTRIBUTES"));
        let from_resource = resource
            .iter()
            .position(|(k, _)| k == "service.name")
            .map(|i| resource.remove(i).1);
        let ms = |k: &str, default: u64| {
            Duration::from_millis(
                get(k)
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(default),
            )
        };
        let count = |k: &str, default: usize| {
            get(k)
                .and_then(|v| v.trim().parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        let max_queue_size = count("OTEL_BSP_MAX_QUEUE_SIZE", 2048);
        Settings {
            traces_endpoint: endpoint("TRACES", "v1/traces", "OTEL_TRACES_EXPORTER"),
            logs_endpoint: endpoint("LOGS", "v1/logs", "OTEL_LOGS_EXPORTER"),
            protocol,
            headers: pairs(get("OTEL_EXPORTER_OTLP_HEADERS")),
            timeout: ms("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000),
            service_name: get("OTEL_SERVICE_NAME")
                .or(from_resource)
                .unwrap_or_else(|| "unknown_service".to_string()),
            resource,
            sampler: Sampler::from_names(
                get("OTEL_TRACES_SAMPLER").as_deref(),
                get("OTEL_TRACES_SAMPLER_ARG").as_deref(),
            ),
            max_queue_size,
            max_export_batch_size: count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512).min(max_queue_size),
            schedule_delay: ms("OTEL_BSP_SCHEDULE_DELAY", 5000),
        }
    }
}

/// `%XX` escapes in header and resource values (W3C Baggage's encoding, which the variables
/// use).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// The process's settings: those given to [`init`](super::init), else the environment's, read
/// once.
pub(crate) fn get() -> &'static Settings {
    SETTINGS.get_or_init(Settings::from_env)
}

/// Sets the process's settings; `false` when they were already fixed (by an earlier call or
/// by the first span).
pub(crate) fn set(settings: Settings) -> bool {
    SETTINGS.set(settings).is_ok()
}

pub(crate) fn sampler() -> Sampler {
    get().sampler
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_is_exported_without_an_endpoint() {
        let s = settings(&[("OTEL_SERVICE_NAME", "users")]);
        assert_eq!(s.traces_endpoint, None);
        assert_eq!(s.logs_endpoint, None);
        assert_eq!(s.service_name, "users");
    }

    #[test]
    fn endpoints_protocols_headers_and_resource_follow_the_specification() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,x=1"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=chats,deployment.environment=prod",
            ),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_BSP_SCHEDULE_DELAY", "250"),
        ]);
        assert_eq!(
            s.traces_endpoint.as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(s.logs_endpoint, None);
        assert_eq!(s.protocol, Protocol::HttpProtobuf);
        assert_eq!(s.headers[0], ("api-key".to_string(), "a b".to_string()));
        assert_eq!(s.service_name, "chats");
        assert_eq!(
            s.resource,
            vec![("deployment.environment".to_string(), "prod".to_string())]
        );
        assert_eq!(s.schedule_delay, Duration::from_millis(250));
        let g = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        assert_eq!(g.protocol, Protocol::Grpc);
        assert_eq!(g.logs_endpoint.as_deref(), Some("http://collector:4317"));
        let off = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert_eq!(off.traces_endpoint, None);
    }
}
