//! `@metrics`: the scrape names methods by their route template and canonical outcome, never
//! by raw paths or ids (low cardinality), and counts every call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_runtime::tokio;

/// A client that sends a valid access token of `store`'s keys with every request.
fn signed_in(store: &messenger::memory::Store) -> svcc_runtime::reqwest::Client {
    let user = svcc_runtime::Uuid::new_v4().to_string();
    let token = store
        .jwt()
        .issue(svcc_runtime::auth::TokenType::Access, &user, None)
        .unwrap()
        .token;
    let mut headers = svcc_runtime::reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    svcc_runtime::reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_scrape_counts_calls_by_route_template_and_outcome() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let store = messenger::memory::Store::new();
    let http = signed_in(&store);
    let server = messenger::server(store);
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let missing = svcc_runtime::Uuid::new_v4();
    // Without a token: refused, and counted.
    let r = svcc_runtime::reqwest::Client::new()
        .get(format!("{base}/api/v1/users/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    for _ in 0..3 {
        let r = http
            .get(format!("{base}/api/v1/users/{missing}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
    let r = http
        .post(format!("{base}/rpc"))
        .body(r#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let scrape = r.text().await.unwrap();
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();

    let rest = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_route="/api/v1/users/{id}",http_response_status_code="404"} 3"#;
    assert!(scrape.contains(rest), "{scrape}");
    let rpc = r#"rpc_server_call_duration_seconds_count{rpc_system_name="jsonrpc",rpc_service="UserService",rpc_method="userService.list",rpc_response_status_code="OK"} 1"#;
    assert!(scrape.contains(rpc), "{scrape}");
    assert!(
        !scrape.contains(&missing.to_string()),
        "a raw path reached a label"
    );
    assert!(scrape.contains("svcc_build_info{version=\""), "{scrape}");
    let refused = r#"svcc_unauthenticated_total{rpc_service="UserService",rpc_method="get"} 1"#;
    assert!(scrape.contains(refused), "{scrape}");
    let refused_rest = r#"http_server_request_duration_seconds_count{http_request_method="GET",http_route="/api/v1/users/{id}",http_response_status_code="401"} 1"#;
    assert!(scrape.contains(refused_rest), "{scrape}");
    assert!(
        scrape.contains(
            "rpc_server_active_requests{rpc_service=\"UserService\",rpc_method=\"get\"} 0"
        ),
        "{scrape}"
    );
    assert!(scrape.ends_with("# EOF\n"));
}

/// `/metrics` on an address of its own (and gone from the service's port), with the Go
/// platform library's names beside the OpenTelemetry ones, and the process metrics.
#[tokio::test]
async fn metrics_on_their_own_address_with_the_go_names_and_process_metrics() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // A free port for the metrics listener.
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = svcc_runtime::ServerConfig {
        metrics: svcc_runtime::MetricsConfig {
            bind: Some(metrics_addr),
            go_names: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let store = messenger::memory::Store::new();
    let http = signed_in(&store);
    let server = messenger::server(store).config(config);
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    for body in [
        r#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":2}"#,
        r#"{"jsonrpc":"2.0","method":"userService.get","params":{"id":"00000000-0000-4000-8000-000000000000"},"id":3}"#,
    ] {
        let r = http
            .post(format!("{base}/rpc"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let on_service_port = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(on_service_port.status().as_u16(), 404);
    let scrape = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    for expected in [
        r#"service_requests_count{method="list",service="UserService",success="true"} 2"#,
        r#"service_requests_count{method="get",service="UserService",success="false"} 1"#,
        r#"service_requests_all_count{method="list",service="UserService"} 2"#,
        r#"service_requests_latency_microseconds_count{method="list",service="UserService",success="true"} 2"#,
        "# TYPE service_requests_count gauge",
        "# TYPE process_cpu_seconds counter",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        r#"svcc_otlp_dropped_total{signal="spans"} 0"#,
        r#"rpc_server_call_duration_seconds_count{rpc_system_name="jsonrpc",rpc_service="UserService",rpc_method="userService.list",rpc_response_status_code="OK"} 2"#,
    ] {
        assert!(
            scrape.contains(expected),
            "{expected} missing from:\n{scrape}"
        );
    }
}

/// A metric name and its label matchers (`Some(value)` for `=`).
type Selector = (String, Vec<(String, Option<String>)>);

/// `name{k="v",…}` selectors of a PromQL expression: the name and its `=` matchers (other
/// matchers keep only their label name, with an empty value).
fn selectors(expr: &str) -> Vec<Selector> {
    let mut out = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '{' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && (chars[start - 1].is_ascii_alphanumeric() || chars[start - 1] == '_') {
            start -= 1;
        }
        let name: String = chars[start..i].iter().collect();
        // The matchers, up to the closing brace outside quotes.
        let mut j = i + 1;
        let mut quoted = false;
        while j < chars.len() && (quoted || chars[j] != '}') {
            if chars[j] == '"' {
                quoted = !quoted;
            }
            j += 1;
        }
        let body: String = chars[i + 1..j].iter().collect();
        let matchers = body
            .split("\",")
            .map(|m| {
                let key: String = m
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let value = m[key.len()..]
                    .strip_prefix("=\"")
                    .map(|v| v.trim_end_matches('"').to_string());
                (key, value)
            })
            .collect();
        out.push((name, matchers));
        i = j + 1;
    }
    out
}

/// The series of a scrape: name and labels.
fn series(scrape: &str) -> Vec<(String, Vec<(String, String)>)> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (head, _) = l.rsplit_once(' ').unwrap();
            match head.split_once('{') {
                Some((name, labels)) => {
                    let labels = labels
                        .trim_end_matches('}')
                        .split("\",")
                        .filter_map(|kv| kv.split_once("=\""))
                        .map(|(k, v)| (k.to_string(), v.trim_end_matches('"').to_string()))
                        .collect();
                    (name.to_string(), labels)
                }
                None => (head.to_string(), Vec::new()),
            }
        })
        .collect()
}

/// The generated Grafana dashboards query exactly what the server exports: every metric and
/// label they name is in a real scrape, and every selector's exact matchers meet a series.
#[tokio::test]
async fn the_generated_dashboards_query_the_series_a_scrape_shows() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let store = messenger::memory::Store::new();
    let http = signed_in(&store);
    let server = messenger::server(store);
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    http.post(format!("{base}/rpc"))
        .body(r#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":1}"#)
        .send()
        .await
        .unwrap();
    let missing = svcc_runtime::Uuid::new_v4();
    http.get(format!("{base}/api/v1/users/{missing}"))
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/api/v1/auth/login"))
        .json(&svcc_runtime::serde_json::json!({"email": "a@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    let scrape = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    let scraped = series(&scrape);

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/dashboards/grafana");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let dashboard: svcc_runtime::serde_json::Value =
            svcc_runtime::serde_json::from_str(&text).unwrap();
        for panel in dashboard["panels"].as_array().unwrap() {
            for t in panel["targets"].as_array().into_iter().flatten() {
                for (name, matchers) in selectors(t["expr"].as_str().unwrap()) {
                    checked += 1;
                    // `job` is Prometheus' label, added at scrape time.
                    let matchers: Vec<_> = matchers.iter().filter(|(k, _)| k != "job").collect();
                    let of_name: Vec<_> = scraped.iter().filter(|(n, _)| *n == name).collect();
                    assert!(
                        !of_name.is_empty(),
                        "`{name}` is not in the scrape:\n{scrape}"
                    );
                    for (key, _) in &matchers {
                        assert!(
                            of_name.iter().any(|(_, l)| l.iter().any(|(k, _)| k == key)),
                            "`{name}` has no label `{key}` in the scrape"
                        );
                    }
                    let wanted: Vec<_> = matchers
                        .iter()
                        .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
                        .collect();
                    // The server creates every method's success series up front, so every
                    // selector's exact matchers meet one series, called or not.
                    assert!(
                        of_name
                            .iter()
                            .any(|(_, l)| wanted.iter().all(|w| l.contains(w))),
                        "no scraped `{name}` series has {wanted:?}"
                    );
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} selectors");
}
