//! The `envoy` target: `envoy.yaml` and the descriptor set it names (`descriptor.pb`), in one
//! folder, for Envoy in front of the services under `@grpc`:
//!
//! - a listener whose HTTP connection manager runs the gRPC-JSON transcoder for those
//!   services (REST/JSON in, from the `google.api.http` routes in the descriptor; print
//!   options chosen to match svcc's own REST JSON as far as Envoy can: JSON names, enum
//!   names, every required field printed; `convert_grpc_status` so errors come back as JSON),
//!   CORS when origins are given, and a local rate limit on each route whose method has a
//!   global `@rate_limit`;
//! - a route per rpc (gRPC and transcoded calls alike) to its service's cluster, with the
//!   method's `@timeout`;
//! - a cluster per service: the upstream addresses, a load-balancing policy, HTTP/2, and active
//!   health checks through the standard gRPC health service the svcc server answers;
//! - TLS termination when a certificate and key are given; an admin interface.

use crate::proto::{GrpcPlan, ServicePlan};
use crate::{File, Model, OptionKind, OptionSpec, TargetOptions};
use std::fmt::Write as _;

/// The Envoy target (`envoy`).
#[derive(Debug)]
pub struct EnvoyTarget;

const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
const DEFAULT_UPSTREAMS: &str = "127.0.0.1:8081";
const DEFAULT_ADMIN: &str = "127.0.0.1:9901";

impl crate::Target for EnvoyTarget {
    fn name(&self) -> &'static str {
        "envoy"
    }

    fn summary(&self) -> &'static str {
        "envoy.yaml + descriptor.pb: gRPC-JSON transcoding, routes, load balancing and health checks for the @grpc services"
    }

    fn options(&self) -> &'static [OptionSpec] {
        &[
            OptionSpec {
                name: "listen",
                kind: OptionKind::Text,
                default: DEFAULT_LISTEN,
                doc: "the `host:port` Envoy listens on",
            },
            OptionSpec {
                name: "upstreams",
                kind: OptionKind::Text,
                default: DEFAULT_UPSTREAMS,
                doc: "the services' instances, `host:port` comma-separated (every cluster balances over them)",
            },
            OptionSpec {
                name: "lb_policy",
                kind: OptionKind::Choice(&["round_robin", "least_request", "random"]),
                default: "round_robin",
                doc: "how a cluster picks an instance",
            },
            OptionSpec {
                name: "admin",
                kind: OptionKind::Text,
                default: DEFAULT_ADMIN,
                doc: "the `host:port` of Envoy's admin interface (`off`: none)",
            },
            OptionSpec {
                name: "cors_origins",
                kind: OptionKind::Text,
                default: "",
                doc: "origins allowed by CORS, comma-separated (empty: no CORS)",
            },
            OptionSpec {
                name: "tls_cert",
                kind: OptionKind::Text,
                default: "",
                doc: "a PEM certificate chain: the listener terminates TLS (with `tls_key`)",
            },
            OptionSpec {
                name: "tls_key",
                kind: OptionKind::Text,
                default: "",
                doc: "the PEM private key of `tls_cert`",
            },
        ]
    }

    fn generate(
        &self,
        model: &Model,
        options: &TargetOptions,
        _cx: &crate::Context,
    ) -> Result<Vec<File>, String> {
        let plan = crate::proto::grpc_plan(model)?.ok_or_else(|| {
            "no service is under `@grpc`: Envoy transcodes REST to gRPC, so put `@grpc` on the \
             package or services it fronts"
                .to_string()
        })?;
        // The status details the server sends, so `convert_grpc_status` can print them.
        let mut files = plan.files.clone();
        files.push(File::new("google/rpc/status.proto", GOOGLE_RPC_STATUS));
        files.push(File::new(
            "google/rpc/error_details.proto",
            GOOGLE_RPC_ERROR_DETAILS,
        ));
        let descriptor = crate::proto::descriptor_set(&files)?;
        let config = Config::from(options)?;
        Ok(vec![
            File::new("envoy.yaml", yaml(model, &plan, &config)),
            File::binary("descriptor.pb", descriptor),
        ])
    }
}

/// The options, checked.
struct Config {
    listen: (String, u16),
    upstreams: Vec<(String, u16)>,
    lb_policy: &'static str,
    admin: Option<(String, u16)>,
    cors_origins: Vec<String>,
    tls: Option<(String, String)>,
}

fn address(option: &str, text: &str) -> Result<(String, u16), String> {
    let text = text.trim();
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("envoy.{option}: `{text}` is not `host:port`"))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("envoy.{option}: `{port}` is not a port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("envoy.{option}: `{text}` has no host"));
    }
    Ok((host.to_string(), port))
}

impl Config {
    fn from(options: &TargetOptions) -> Result<Config, String> {
        let listen = address("listen", options.get("listen").unwrap_or(DEFAULT_LISTEN))?;
        let upstreams = options
            .get("upstreams")
            .unwrap_or(DEFAULT_UPSTREAMS)
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| address("upstreams", s))
            .collect::<Result<Vec<_>, _>>()?;
        if upstreams.is_empty() {
            return Err("envoy.upstreams: give at least one `host:port`".to_string());
        }
        let lb_policy = match options.get("lb_policy").unwrap_or("round_robin") {
            "least_request" => "LEAST_REQUEST",
            "random" => "RANDOM",
            _ => "ROUND_ROBIN",
        };
        let admin = match options.get("admin").unwrap_or(DEFAULT_ADMIN) {
            "off" | "" => None,
            a => Some(address("admin", a)?),
        };
        let cors_origins = options
            .get("cors_origins")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let tls = match (
            options.get("tls_cert").unwrap_or(""),
            options.get("tls_key").unwrap_or(""),
        ) {
            ("", "") => None,
            (cert, key) if !cert.is_empty() && !key.is_empty() => {
                Some((cert.to_string(), key.to_string()))
            }
            _ => return Err("envoy: give both `tls_cert` and `tls_key`, or neither".to_string()),
        };
        Ok(Config {
            listen,
            upstreams,
            lb_policy,
            admin,
            cors_origins,
            tls,
        })
    }
}

/// A YAML string (JSON's quoting is YAML's).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

fn yaml(model: &Model, plan: &GrpcPlan, c: &Config) -> String {
    let mut y = String::new();
    let names: Vec<&str> = plan.services.iter().map(|s| s.full_name.as_str()).collect();
    let _ = writeln!(
        y,
        "# Generated by svcc. Do not edit. Services:\n#   {}\n#\n# Run in this folder: `envoy -c envoy.yaml` (it reads descriptor.pb from here).\n# REST/JSON on {}:{} is transcoded to gRPC from the google.api.http routes in the\n# descriptor and balanced over the services' instances ({}).",
        names.join("\n#   "),
        c.listen.0,
        c.listen.1,
        c.upstreams
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some((host, port)) = &c.admin {
        let _ = writeln!(
            y,
            "admin:\n  address:\n    socket_address: {{ address: {}, port_value: {port} }}",
            q(host)
        );
    }
    y.push_str("static_resources:\n  listeners:\n  - name: svcc\n");
    let _ = writeln!(
        y,
        "    address:\n      socket_address: {{ address: {}, port_value: {} }}",
        q(&c.listen.0),
        c.listen.1
    );
    y.push_str("    filter_chains:\n    - filters:\n      - name: envoy.filters.network.http_connection_manager\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n          stat_prefix: svcc\n          codec_type: AUTO\n          route_config:\n            name: svcc\n            virtual_hosts:\n            - name: services\n              domains: [\"*\"]\n");
    if !c.cors_origins.is_empty() {
        y.push_str("              typed_per_filter_config:\n                envoy.filters.http.cors:\n                  \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy\n                  allow_origin_string_match:\n");
        for o in &c.cors_origins {
            let _ = writeln!(y, "                  - exact: {}", q(o));
        }
        y.push_str("                  allow_methods: \"GET, POST, PUT, PATCH, DELETE, OPTIONS\"\n                  allow_headers: \"authorization, content-type, x-request-id, traceparent, tracestate\"\n                  expose_headers: \"x-request-id, retry-after, www-authenticate\"\n                  max_age: \"600\"\n");
    }
    y.push_str("              routes:\n");
    for svc in &plan.services {
        routes(&mut y, model, svc);
    }
    y.push_str("          http_filters:\n");
    if !c.cors_origins.is_empty() {
        y.push_str("          - name: envoy.filters.http.cors\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors\n");
    }
    y.push_str("          - name: envoy.filters.http.grpc_json_transcoder\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder\n              proto_descriptor: descriptor.pb\n              services:\n");
    for n in &names {
        let _ = writeln!(y, "              - {n}");
    }
    y.push_str("              # svcc's JSON: wire names (json_name), enum names, required fields printed.\n              print_options:\n                add_whitespace: false\n                always_print_primitive_fields: true\n                always_print_enums_as_ints: false\n                preserve_proto_field_names: false\n              convert_grpc_status: true\n              request_validation_options:\n                reject_unknown_method: false\n                reject_unknown_query_parameters: false\n");
    y.push_str("          # Per-route buckets (`@rate_limit` with the global key); none applies elsewhere.\n          - name: envoy.filters.http.local_ratelimit\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n              stat_prefix: svcc_rate_limit\n");
    y.push_str("          - name: envoy.filters.http.router\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n");
    if let Some((cert, key)) = &c.tls {
        let _ = writeln!(
            y,
            "      transport_socket:\n        name: envoy.transport_sockets.tls\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext\n          common_tls_context:\n            alpn_protocols: [h2, http/1.1]\n            tls_certificates:\n            - certificate_chain: {{ filename: {} }}\n              private_key: {{ filename: {} }}",
            q(cert),
            q(key)
        );
    }
    y.push_str("  clusters:\n");
    for svc in &plan.services {
        let _ = writeln!(
            y,
            "  - name: {}\n    type: STRICT_DNS\n    lb_policy: {}\n    connect_timeout: 1s\n    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n        explicit_http_config:\n          http2_protocol_options: {{}}\n    load_assignment:\n      cluster_name: {}\n      endpoints:\n      - lb_endpoints:",
            q(&svc.full_name),
            c.lb_policy,
            q(&svc.full_name)
        );
        for (host, port) in &c.upstreams {
            let _ = writeln!(
                y,
                "        - endpoint:\n            address:\n              socket_address: {{ address: {}, port_value: {port} }}",
                q(host)
            );
        }
        let _ = writeln!(
            y,
            "    health_checks:\n    - timeout: 1s\n      interval: 2s\n      unhealthy_threshold: 2\n      healthy_threshold: 1\n      grpc_health_check:\n        service_name: {}",
            q(&svc.full_name)
        );
    }
    y
}

/// One route per rpc of `svc`, with the method's timeout and global rate limit.
fn routes(y: &mut String, model: &Model, svc: &ServicePlan) {
    let service = model
        .packages
        .iter()
        .find(|p| p.name == svc.package)
        .and_then(|p| p.services.iter().find(|s| s.name == svc.service));
    for rpc in &svc.rpcs {
        let method = service.and_then(|s| s.methods.iter().find(|m| m.name == rpc.method));
        let policies = method.map(|m| &m.settings.policies);
        let _ = writeln!(
            y,
            "              - match: {{ path: {} }}\n                route:\n                  cluster: {}",
            q(&format!("/{}/{}", svc.full_name, rpc.name)),
            q(&svc.full_name)
        );
        if let Some(ms) = policies.and_then(|p| p.timeout_ms) {
            let _ = writeln!(y, "                  timeout: {}", duration(ms));
        }
        if let Some(r) = policies
            .and_then(|p| p.rate_limit.as_ref())
            .filter(|r| r.key == svcc_model::RateKey::Global)
        {
            let _ = writeln!(
                y,
                "                typed_per_filter_config:\n                  envoy.filters.http.local_ratelimit:\n                    \"@type\": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit\n                    stat_prefix: {}\n                    token_bucket:\n                      max_tokens: {}\n                      tokens_per_fill: {}\n                      fill_interval: {}\n                    filter_enabled:\n                      default_value: {{ numerator: 100, denominator: HUNDRED }}\n                    filter_enforced:\n                      default_value: {{ numerator: 100, denominator: HUNDRED }}",
                q(&format!(
                    "{}_{}",
                    svc.full_name.replace('.', "_"),
                    rpc.method
                )),
                r.limit,
                r.limit,
                duration(r.period_ms)
            );
        }
    }
}

/// `google/rpc/status.proto` (Apache 2.0, Google LLC).
const GOOGLE_RPC_STATUS: &str = r#"// Copyright 2025 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

syntax = "proto3";

package google.rpc;

import "google/protobuf/any.proto";

// The error model of gRPC: a code, a message and details.
message Status {
  int32 code = 1;
  string message = 2;
  repeated google.protobuf.Any details = 3;
}
"#;

/// The two messages of `google/rpc/error_details.proto` (Apache 2.0, Google LLC) svcc sends,
/// with their numbers.
const GOOGLE_RPC_ERROR_DETAILS: &str = r#"// Copyright 2025 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

syntax = "proto3";

package google.rpc;

// Describes the cause of the error with structured details.
message ErrorInfo {
  string reason = 1;
  string domain = 2;
  map<string, string> metadata = 3;
}

// Describes violations in a client request.
message BadRequest {
  // A message type used to describe a single bad request field.
  message FieldViolation {
    string field = 1;
    string description = 2;
    string reason = 3;
  }
  repeated FieldViolation field_violations = 1;
}
"#;
