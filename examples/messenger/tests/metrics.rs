//! `@metrics`: the scrape names methods by their route template and canonical outcome, never
//! by raw paths or ids (low cardinality), and counts every call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_runtime::tokio;

#[tokio::test]
async fn the_scrape_counts_calls_by_route_template_and_outcome() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = messenger::server(messenger::memory::Store::new());
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let http = svcc_runtime::reqwest::Client::new();
    let missing = svcc_runtime::Uuid::new_v4();
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
    assert!(
        scrape.contains(
            "rpc_server_active_requests{rpc_service=\"UserService\",rpc_method=\"get\"} 0"
        ),
        "{scrape}"
    );
    assert!(scrape.ends_with("# EOF\n"));
}
