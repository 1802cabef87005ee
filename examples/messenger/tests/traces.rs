//! Tracing across processes, checked by a real OTLP receiver decoding the protobuf with the
//! official definitions: this test's generated clients (client spans, exported from this
//! process) call the example server (server spans, exported from its process); every call is
//! one trace with the right parent links, names and attributes; JSON-RPC batches are a span
//! with their calls as children; log records reach OTLP with the call's trace ids, as the
//! JSON lines on stdout carry them; and no secret is in any of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod example;

use messenger::api::messenger::common::v1 as common;
use messenger::api::messenger::user::v1 as user;
use otlp_receiver::{ReceivedSpan, Receiver, SpanKind, attribute, hex, log_attribute};
use svcc_runtime::client::ClientConfig;
use svcc_runtime::serde_json::{Value, json};
use svcc_runtime::telemetry::{self, Settings};
use svcc_runtime::{Context, tokio};
use user::UserService as _;

const PASSWORD: &str = "tr4ce-s3cret-pw";
const PARENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

fn find<'a>(spans: &'a [ReceivedSpan], service: &str, name: &str) -> Vec<&'a ReceivedSpan> {
    spans
        .iter()
        .filter(|s| s.service == service && s.span.name == name)
        .collect()
}

#[test]
fn a_call_is_one_trace_from_client_to_server_with_logs_attached() {
    let receiver = Receiver::start();
    let endpoint = receiver.endpoint();
    // This process exports its client spans to the same receiver.
    assert!(telemetry::init(Settings::from_lookup(|k| match k {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_SERVICE_NAME" => Some("messenger-tests".to_string()),
        "OTEL_BSP_SCHEDULE_DELAY" => Some("100".to_string()),
        _ => None,
    })));
    let (child, addr) = example::start(&[
        ("SVCC_LOG_FORMAT", "json"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_SERVICE_NAME", "messenger"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let rpc = user::UserServiceJsonRpcClient::new(ClientConfig::new(&base));
        let rest = user::UserServiceRestClient::new(ClientConfig::new(&base));
        rpc.create(
            Context::new().into(),
            "Ada".into(),
            common::Email("ada@example.com".into()),
            common::Handle("ada_l".into()),
            None,
        )
        .await
        .unwrap();
        rest.create(
            Context::new().into(),
            "Grace".into(),
            common::Email("grace@example.com".into()),
            common::Handle("grace".into()),
            None,
        )
        .await
        .unwrap();
        let http = svcc_runtime::reqwest::Client::new();
        let traceparent = format!("00-{PARENT_TRACE}-{PARENT_SPAN}-01");
        // A caller of another stack: the server continues its trace on REST …
        let r = http
            .post(format!("{base}/api/v1/auth/login"))
            .header("traceparent", &traceparent)
            .header("tracestate", "vendor=opaque")
            .json(&json!({"email": "nobody@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
        // … and a JSON-RPC batch is a span whose calls are its children.
        let batch = json!([
            {"jsonrpc": "2.0", "id": 1, "method": "userService.create",
             "params": {"display_name": "Lin", "email": "lin@example.com", "handle": "lin"}},
            {"jsonrpc": "2.0", "id": 2, "method": "userService.create",
             "params": {"display_name": "Max", "email": "max@example.com", "handle": "max"}}
        ]);
        let r = http
            .post(format!("{base}/rpc"))
            .header("traceparent", &traceparent)
            .json(&batch)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        // A call under `@security(bearer)`: its span names the caller.
        let r = http
            .get(format!("{base}/api/v1/auth/whoami"))
            .header(
                "authorization",
                example::bearer_for("00000000-0000-4000-8000-00000000abcd"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    });
    telemetry::flush(std::time::Duration::from_secs(10));
    // A graceful stop flushes the server's spans and records.
    let out = example::stop(child);

    let spans = receiver.wait_for_spans(|s| s.len() >= 8);
    let names: Vec<String> = spans
        .iter()
        .map(|s| format!("{}: {}", s.service, s.span.name))
        .collect();

    // JSON-RPC: client span here, server span there, one trace, parent link.
    let client = find(&spans, "messenger-tests", "UserService/create");
    assert_eq!(client.len(), 1, "{names:#?}");
    let client = &client[0].span;
    assert_eq!(client.kind, SpanKind::Client as i32);
    assert_eq!(attribute(client, "rpc.system").as_deref(), Some("jsonrpc"));
    assert_eq!(
        attribute(client, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    let servers = find(&spans, "messenger", "UserService/create");
    let server = servers
        .iter()
        .map(|s| &s.span)
        .find(|s| s.parent_span_id == client.span_id)
        .unwrap_or_else(|| panic!("no server span under the client span: {names:#?}"));
    assert_eq!(server.trace_id, client.trace_id);
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(
        attribute(server, "rpc.service").as_deref(),
        Some("UserService")
    );
    assert_eq!(attribute(server, "rpc.method").as_deref(), Some("create"));
    assert!(server.start_time_unix_nano >= client.start_time_unix_nano);
    assert!(server.end_time_unix_nano <= client.end_time_unix_nano);

    // REST: named by the route template, with the HTTP attributes.
    let rest_client = find(&spans, "messenger-tests", "POST /api/v1/users");
    assert_eq!(rest_client.len(), 1, "{names:#?}");
    let rest_server = find(&spans, "messenger", "POST /api/v1/users");
    assert_eq!(rest_server.len(), 1, "{names:#?}");
    let rest_server = &rest_server[0].span;
    assert_eq!(rest_server.parent_span_id, rest_client[0].span.span_id);
    assert_eq!(
        attribute(rest_server, "http.route").as_deref(),
        Some("/api/v1/users")
    );
    assert_eq!(
        attribute(rest_server, "http.response.status_code").as_deref(),
        Some("201")
    );

    // A foreign caller's traceparent is continued; a failure marks the span.
    let login = find(&spans, "messenger", "POST /api/v1/auth/login");
    assert_eq!(login.len(), 1, "{names:#?}");
    let login = &login[0].span;
    assert_eq!(hex(&login.trace_id), PARENT_TRACE);
    assert_eq!(hex(&login.parent_span_id), PARENT_SPAN);
    assert_eq!(login.trace_state, "vendor=opaque");
    let status = login.status.as_ref().expect("a failed call has a status");
    assert_eq!(status.code, 2, "ERROR");
    assert_eq!(
        attribute(login, "http.response.status_code").as_deref(),
        Some("401")
    );

    // The verified token's subject.
    let whoami = find(&spans, "messenger", "GET /api/v1/auth/whoami");
    assert_eq!(whoami.len(), 1, "{names:#?}");
    assert_eq!(
        attribute(&whoami[0].span, "enduser.id").as_deref(),
        Some("00000000-0000-4000-8000-00000000abcd")
    );

    // The batch and its calls.
    let batch = find(&spans, "messenger", "jsonrpc batch");
    assert_eq!(batch.len(), 1, "{names:#?}");
    let batch = &batch[0].span;
    assert_eq!(hex(&batch.parent_span_id), PARENT_SPAN);
    let items: Vec<_> = servers
        .iter()
        .filter(|s| s.span.parent_span_id == batch.span_id)
        .collect();
    assert_eq!(items.len(), 2, "{names:#?}");
    assert!(items.iter().all(|s| hex(&s.span.trace_id) == PARENT_TRACE));

    // Log records over OTLP carry the call's ids; so do the JSON lines on stdout.
    let logs = receiver.wait_for_logs(|l| {
        l.iter().any(|r| {
            log_attribute(&r.record, "log.target").as_deref() == Some("svcc::call")
                && r.record.trace_id == login.trace_id
        })
    });
    let login_record = logs
        .iter()
        .find(|r| {
            log_attribute(&r.record, "method").as_deref() == Some("login")
                && r.record.span_id == login.span_id
        })
        .unwrap_or_else(|| panic!("no OTLP record of the login call: {logs:#?}"));
    assert_eq!(login_record.service, "messenger");
    assert_eq!(login_record.record.severity_text, "WARN");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| svcc_runtime::serde_json::from_str(l).unwrap())
        .collect();
    let line = lines
        .iter()
        .find(|l| {
            l["target"] == "svcc::call" && l["method"] == "create" && l["transport"] == "rest"
        })
        .unwrap_or_else(|| panic!("no call line for the REST create: {out}"));
    assert_eq!(line["trace_id"], hex(&rest_server.trace_id));
    assert_eq!(line["span_id"], hex(&rest_server.span_id));

    // No secret anywhere: not in spans, not in log records, not on stdout.
    let everything = format!("{spans:?}{logs:?}{out}");
    assert!(!everything.contains(PASSWORD), "a secret leaked");
}
