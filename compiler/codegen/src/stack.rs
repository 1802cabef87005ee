//! The local stack (`--target stack`): a docker-compose file that runs the service beside
//! everything it talks to — PostgreSQL, Kafka (KRaft, one node) with a UI, an OpenTelemetry
//! Collector, Prometheus, Grafana provisioned with the generated dashboards, and Envoy with the
//! generated transcoding configuration when a service is under `@grpc` — and the
//! configuration files of each, consistent with one another: Prometheus scrapes the service's
//! `/metrics` under the job names the dashboards query, Envoy's upstream is the service's
//! port, the service exports to the collector's OTLP port and reads the database and broker
//! the compose file starts.
//!
//! The configurations come from the other targets (`dashboards`, `envoy`) with the stack's
//! host names, so a change there shows here too.

use crate::File;
use crate::options::{OptionKind, OptionSpec, TargetOptions};
use std::fmt::Write as _;
use svcc_model::Model;

/// The stack target.
#[derive(Debug)]
pub struct StackTarget;

const SPECS: &[OptionSpec] = &[
    OptionSpec {
        name: "service",
        kind: OptionKind::Text,
        default: "app",
        doc: "the service's name in the compose file (and its host name)",
    },
    OptionSpec {
        name: "image",
        kind: OptionKind::Text,
        default: "",
        doc: "the service's image (default `<service>:latest`)",
    },
    OptionSpec {
        name: "build",
        kind: OptionKind::Text,
        default: "",
        doc: "a build context for the service's image, relative to the output folder (empty: use `image` as it is)",
    },
    OptionSpec {
        name: "port",
        kind: OptionKind::Text,
        default: "8080",
        doc: "the port the service listens on (HTTP, JSON-RPC, gRPC and /metrics)",
    },
];

impl crate::Target for StackTarget {
    fn name(&self) -> &'static str {
        "stack"
    }

    fn summary(&self) -> &'static str {
        "docker-compose.yml with PostgreSQL, Kafka, an OpenTelemetry Collector, Prometheus, Grafana and Envoy, configured for the service"
    }

    fn options(&self) -> &'static [OptionSpec] {
        SPECS
    }

    fn generate(
        &self,
        model: &Model,
        options: &TargetOptions,
        cx: &crate::Context,
    ) -> Result<Vec<File>, String> {
        let service = options.get("service").unwrap_or("app");
        if service.is_empty()
            || !service
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(format!(
                "stack.service: `{service}` is not a compose service name (lower-case letters, digits, `-`, `_`)"
            ));
        }
        let port: u16 = options
            .get("port")
            .unwrap_or("8080")
            .parse()
            .map_err(|_| "stack.port: not a port number".to_string())?;
        let image = match options.get("image") {
            Some(i) if !i.is_empty() => i.to_string(),
            _ => format!("{service}:latest"),
        };
        let build = options.get("build").filter(|b| !b.is_empty());
        let upstream = format!("{service}:{port}");
        let mut files = Vec::new();

        // Prometheus and Grafana's dashboards, from the dashboards target.
        let mut dash = TargetOptions::default();
        dash.set(
            crate::dashboards::DashboardsTarget.options(),
            "targets",
            &upstream,
        )?;
        let dashboards = crate::dashboards::DashboardsTarget.generate(model, &dash, cx)?;
        let metrics = !dashboards.is_empty();
        for f in dashboards {
            let path = match f.path.strip_prefix("grafana/") {
                Some(rest) => format!("grafana/dashboards/{rest}"),
                None => format!("prometheus/{}", f.path),
            };
            files.push(File::binary(path, f.contents));
        }
        // Envoy, from the envoy target, when a service is under `@grpc`.
        let grpc = crate::proto::grpc_plan(model)?.is_some_and(|p| !p.services.is_empty());
        if grpc {
            let mut envoy = TargetOptions::default();
            let specs = crate::envoy::EnvoyTarget.options();
            envoy.set(specs, "listen", "0.0.0.0:10000")?;
            envoy.set(specs, "upstreams", &upstream)?;
            envoy.set(specs, "admin", "0.0.0.0:9901")?;
            for f in crate::envoy::EnvoyTarget.generate(model, &envoy, cx)? {
                files.push(File::binary(format!("envoy/{}", f.path), f.contents));
            }
        }
        files.push(File::new("otel/collector.yaml", COLLECTOR.to_string()));
        if metrics {
            files.push(File::new(
                "grafana/provisioning/datasources/prometheus.yaml",
                GRAFANA_DATASOURCE.to_string(),
            ));
            files.push(File::new(
                "grafana/provisioning/dashboards/svcc.yaml",
                GRAFANA_DASHBOARDS.to_string(),
            ));
        }
        let events = model.packages.iter().any(|p| !p.events.is_empty());
        files.push(File::new(
            "docker-compose.yml",
            compose(service, &image, build, port, metrics, grpc, events),
        ));
        files.push(File::new("README.md", readme(service, port, metrics, grpc)));
        Ok(files)
    }
}

fn compose(
    service: &str,
    image: &str,
    build: Option<&str>,
    port: u16,
    metrics: bool,
    grpc: bool,
    events: bool,
) -> String {
    let mut s = String::new();
    s.push_str(
        "# The local stack, generated by svcc (`--target stack`). Start: `docker compose up`.\n",
    );
    s.push_str("services:\n");
    let _ = writeln!(s, "  {service}:");
    let _ = writeln!(s, "    image: {image}");
    if let Some(b) = build {
        let _ = writeln!(s, "    build: {}", yaml_str(b));
    }
    let _ = writeln!(s, "    ports:\n      - \"{port}:{port}\"");
    s.push_str("    environment:\n");
    let _ = writeln!(s, "      BIND: \"0.0.0.0:{port}\"");
    s.push_str("      DATABASE_URL: \"postgres://postgres:postgres@postgres:5432/app\"\n");
    if events {
        s.push_str("      KAFKA_BROKERS: \"kafka:9092\"\n");
    }
    s.push_str("      OTEL_EXPORTER_OTLP_ENDPOINT: \"http://otel-collector:4318\"\n");
    let _ = writeln!(s, "      OTEL_SERVICE_NAME: {}", yaml_str(service));
    s.push_str("    depends_on:\n      postgres:\n        condition: service_healthy\n");
    if events {
        s.push_str("      kafka:\n        condition: service_started\n");
    }
    s.push_str("      otel-collector:\n        condition: service_started\n\n");

    s.push_str(
        "  postgres:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: postgres
      POSTGRES_DB: app
    ports:
      - \"5432:5432\"
    healthcheck:
      test: [\"CMD\", \"pg_isready\", \"-U\", \"postgres\"]
      interval: 2s
      retries: 30

",
    );
    if events {
        s.push_str(
            "  kafka:
    image: apache/kafka:3.9.1
    environment:
      KAFKA_NODE_ID: 1
      KAFKA_PROCESS_ROLES: broker,controller
      KAFKA_LISTENERS: PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:29092
      KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:9092,HOST://localhost:29092
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT
      KAFKA_CONTROLLER_LISTENER_NAMES: CONTROLLER
      KAFKA_CONTROLLER_QUORUM_VOTERS: 1@kafka:9093
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 1
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: \"true\"
    ports:
      - \"29092:29092\"

  kafka-ui:
    image: provectuslabs/kafka-ui:v0.7.2
    environment:
      KAFKA_CLUSTERS_0_NAME: local
      KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS: kafka:9092
    ports:
      - \"8081:8080\"
    depends_on:
      - kafka

",
        );
    }
    s.push_str(
        "  otel-collector:
    image: otel/opentelemetry-collector-contrib:0.120.0
    command: [\"--config=/etc/otelcol/collector.yaml\"]
    volumes:
      - ./otel/collector.yaml:/etc/otelcol/collector.yaml:ro
    ports:
      - \"4317:4317\"
      - \"4318:4318\"

",
    );
    if metrics {
        let _ = write!(
            s,
            "  prometheus:
    image: prom/prometheus:v3.2.1
    command: [\"--config.file=/etc/prometheus/prometheus.yml\"]
    volumes:
      - ./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro
    ports:
      - \"9090:9090\"
    depends_on:
      - {service}

  grafana:
    image: grafana/grafana:11.5.2
    environment:
      GF_AUTH_ANONYMOUS_ENABLED: \"true\"
      GF_AUTH_ANONYMOUS_ORG_ROLE: Viewer
    volumes:
      - ./grafana/provisioning:/etc/grafana/provisioning:ro
      - ./grafana/dashboards:/var/lib/grafana/dashboards:ro
    ports:
      - \"3000:3000\"
    depends_on:
      - prometheus

"
        );
    }
    if grpc {
        let _ = write!(
            s,
            "  envoy:
    image: envoyproxy/envoy:v1.40.0
    command: [\"-c\", \"/etc/envoy/envoy.yaml\"]
    # envoy.yaml names `descriptor.pb` relative to this folder.
    working_dir: /etc/envoy
    volumes:
      - ./envoy:/etc/envoy:ro
    ports:
      - \"10000:10000\"
      - \"9901:9901\"
    depends_on:
      - {service}

"
        );
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn readme(service: &str, port: u16, metrics: bool, grpc: bool) -> String {
    let mut s = format!(
        "# The local stack\n\nGenerated by svcc (`--target stack`). `docker compose up` starts:\n\n\
         | what | where |\n|---|---|\n\
         | `{service}` (JSON-RPC, REST, gRPC, `/metrics`) | http://localhost:{port} |\n\
         | PostgreSQL (`postgres` / `postgres`, database `app`) | localhost:5432 |\n\
         | Kafka (from the host) / Kafka UI | localhost:29092 / http://localhost:8081 |\n\
         | OpenTelemetry Collector (OTLP gRPC / HTTP; traces and logs to its debug output) | localhost:4317 / localhost:4318 |\n"
    );
    if metrics {
        s.push_str("| Prometheus | http://localhost:9090 |\n| Grafana (the generated dashboards) | http://localhost:3000 |\n");
    }
    if grpc {
        s.push_str("| Envoy (REST transcoded to gRPC) / its admin | http://localhost:10000 / http://localhost:9901 |\n");
    }
    s.push_str(
        "\nThe service's image is not built by svcc: set `stack.image` (or `stack.build`).\n\
         The files are consistent with each other: Prometheus scrapes the service under the job\n\
         names the dashboards query, Envoy's upstream is the service's port, the service exports\n\
         to the collector and uses the database and broker started here.\n",
    );
    s
}

const COLLECTOR: &str =
    "# OpenTelemetry Collector for the local stack (generated by svcc): OTLP in, printed out.
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
processors:
  batch: {}
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
";

const GRAFANA_DATASOURCE: &str = "# Grafana's Prometheus data source (generated by svcc).
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    uid: prometheus
    access: proxy
    url: http://prometheus:9090
    isDefault: true
";

const GRAFANA_DASHBOARDS: &str =
    "# Grafana loads the generated dashboards from this folder (generated by svcc).
apiVersion: 1
providers:
  - name: svcc
    folder: svcc
    type: file
    options:
      path: /var/lib/grafana/dashboards
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target as _;

    fn model() -> Model {
        let c = svcc_frontend::compile_memory(
            &[(
                "t.svc",
                "@jsonrpc @metrics\npackage t.v1;\n/// S.\nservice S {\n  /// M.\n  rpc m();\n}\n",
            )],
            &Default::default(),
        );
        assert!(!c.has_errors(), "{:#?}", c.diagnostics);
        c.model
    }

    fn stack(options: &[(&str, &str)]) -> Result<Vec<File>, String> {
        let mut o = TargetOptions::default();
        for (k, v) in options {
            o.set(SPECS, k, v)?;
        }
        StackTarget.generate(&model(), &o, &Default::default())
    }

    fn text(files: &[File], path: &str) -> String {
        files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.text().into_owned())
            .unwrap_or_else(|| panic!("no {path}"))
    }

    #[test]
    fn the_options_reach_every_file() {
        let files = stack(&[
            ("service", "shop"),
            ("image", "registry.example/shop:1.2"),
            ("build", ".."),
            ("port", "9000"),
        ])
        .unwrap();
        let compose = text(&files, "docker-compose.yml");
        assert!(
            compose.contains("  shop:\n    image: registry.example/shop:1.2\n    build: \"..\"\n"),
            "{compose}"
        );
        assert!(
            compose.contains("\"9000:9000\"") && compose.contains("BIND: \"0.0.0.0:9000\""),
            "{compose}"
        );
        assert!(text(&files, "prometheus/prometheus.yml").contains("\"shop:9000\""));
        // No events and no `@grpc`: no Kafka, no Envoy.
        assert!(
            !compose.contains("kafka") && !compose.contains("envoy"),
            "{compose}"
        );
        let defaults = text(&stack(&[]).unwrap(), "docker-compose.yml");
        assert!(
            defaults.contains("  app:\n    image: app:latest\n    ports:"),
            "{defaults}"
        );
    }

    #[test]
    fn a_bad_service_name_or_port_is_refused() {
        let name = stack(&[("service", "Shop Service")]).unwrap_err();
        assert!(name.contains("stack.service"), "{name}");
        let port = stack(&[("port", "http")]).unwrap_err();
        assert!(port.contains("stack.port"), "{port}");
    }
}
