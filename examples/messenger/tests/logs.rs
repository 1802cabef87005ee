//! The example's log output as an operator sees it: JSON lines on stdout (not a terminal here),
//! one call event per `@log` call with its fields, no secret, flushed on graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod example;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[test]
fn the_example_writes_json_call_logs_without_secrets() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_messenger"))
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("JWT_SECRET", example::SECRET)
        .env_remove("SVCC_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The banner (stderr) says where it listens.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr = String::new();
    for _ in 0..50 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split("serving on http://").nth(1) {
            addr = rest.trim().to_string();
            break;
        }
    }
    assert!(!addr.is_empty(), "the example did not start");
    let subject = svcc_runtime::Uuid::new_v4().to_string();
    let token = example::bearer_for(&subject);
    let rt = svcc_runtime::tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = svcc_runtime::reqwest::Client::new();
        let r = http
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&svcc_runtime::serde_json::json!({"email": "nobody@example.com", "password": "s3cret-passw0rd"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let r = http
            .post(format!("http://{addr}/api/v1/users"))
            .json(&svcc_runtime::serde_json::json!({"display_name": "Ada", "email": "ada@example.com", "handle": "ada_l"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let r = http
            .get(format!("http://{addr}/api/v1/auth/whoami"))
            .header("authorization", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    });
    // A graceful stop flushes the queued lines.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let events: Vec<svcc_runtime::serde_json::Value> = out
        .lines()
        .map(|l| {
            svcc_runtime::serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .collect();
    let calls: Vec<&svcc_runtime::serde_json::Value> = events
        .iter()
        .filter(|e| e["target"] == "svcc::call")
        .collect();
    assert_eq!(calls.len(), 3, "{out}");
    // The verified token's subject is in the call's line; the token is nowhere.
    let whoami = calls
        .iter()
        .find(|e| e["method"] == "whoami")
        .expect("whoami logged");
    assert_eq!(whoami["subject"], subject.as_str(), "{whoami}");
    let token_text = token.trim_start_matches("Bearer ");
    assert!(!out.contains(token_text), "the token reached the log");
    let login = calls
        .iter()
        .find(|e| e["method"] == "login")
        .expect("login logged");
    assert_eq!(
        login["level"], "WARN",
        "a declared error logs at warn: {login}"
    );
    assert_eq!(login["code"], "INVALID_CREDENTIALS");
    assert_eq!(login["transport"], "rest");
    // `@log(skip = [password, response])` and `@sensitive`: no password anywhere.
    assert!(!out.contains("s3cret-passw0rd"), "{out}");
    let create = calls
        .iter()
        .find(|e| e["method"] == "create")
        .expect("create logged");
    assert_eq!(create["level"], "INFO");
    assert_eq!(create["outcome"], "ok");
    assert!(create["params"]["handle"] == "ada_l", "{create}");
}

#[test]
fn svcc_log_format_text_writes_readable_lines() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_messenger"))
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("JWT_SECRET", example::SECRET)
        .env("SVCC_LOG_FORMAT", "text")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("serving on") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the example did not start"
        );
    }
    // Once it answers, it is serving (and listens for SIGTERM).
    let addr = line
        .split("serving on http://")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let rt = svcc_runtime::tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = svcc_runtime::reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        // A traced call (`@trace` on the user package).
        let r = svcc_runtime::reqwest::Client::new()
            .post(format!("http://{addr}/rpc"))
            .header("authorization", example::bearer())
            .body(r#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":1}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success());
    // The shutdown event, as text (no colour: stdout is not a terminal), not JSON.
    let shutdown = out
        .lines()
        .find(|l| l.contains("shutting down"))
        .unwrap_or_else(|| panic!("no shutdown line in {out:?}"));
    assert!(
        shutdown.contains(" INFO ") && !shutdown.starts_with('{'),
        "{shutdown}"
    );
    assert!(!shutdown.contains('\u{1b}'), "{shutdown}");
    // The call's line ends with its trace ids, as JSON lines carry them.
    let call = out
        .lines()
        .find(|l| l.contains("UserService.list ok"))
        .unwrap_or_else(|| panic!("no call line in {out:?}"));
    let ids: Vec<&str> = call.rsplit(' ').take(2).collect();
    let hex_of = |s: &str, prefix: &str, len: usize| {
        s.strip_prefix(prefix)
            .is_some_and(|h| h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    assert!(
        hex_of(ids[0], "span_id=", 16) && hex_of(ids[1], "trace_id=", 32),
        "{call}"
    );
}

/// Starts the example (JSON lines, `X-Log-Level` allowed, `env` on top), lists users once per
/// `(request id, X-Log-Level)`, stops it: its stdout, and that as JSON events.
fn list_with_levels(
    env: &[(&str, &str)],
    calls: &[(&str, Option<&str>)],
) -> (String, Vec<svcc_runtime::serde_json::Value>) {
    let mut env = env.to_vec();
    env.extend([
        ("SVCC_LOG_FORMAT", "json"),
        ("SVCC_LOG_LEVEL_HEADER", "x-log-level"),
    ]);
    let (child, addr) = example::start(&env);
    let rt = svcc_runtime::tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = svcc_runtime::reqwest::Client::new();
        for (id, level) in calls {
            let mut req = http
                .post(format!("http://{addr}/rpc"))
                .header("x-request-id", *id)
                .header("authorization", example::bearer())
                .body(r#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":1}"#);
            if let Some(l) = level {
                req = req.header("x-log-level", *l);
            }
            assert_eq!(req.send().await.unwrap().status().as_u16(), 200);
        }
    });
    let out = example::stop(child);
    let events = out
        .lines()
        .map(|l| svcc_runtime::serde_json::from_str(l).unwrap())
        .collect();
    (out, events)
}

/// `X-Log-Level: debug` raises one request's level (the server allows it here), and only
/// that request's.
#[test]
fn one_request_can_raise_its_own_log_level() {
    let (out, events) = list_with_levels(
        &[],
        &[
            ("plain-1", None),
            ("raised-1", Some("debug")),
            ("bogus-1", Some("loud")),
        ],
    );
    let debug_of = |id: &str| {
        events
            .iter()
            .filter(|e| e["level"] == "DEBUG" && e["request_id"] == id)
            .count()
    };
    assert!(debug_of("raised-1") >= 1, "{out}");
    assert_eq!(debug_of("plain-1"), 0, "{out}");
    assert_eq!(debug_of("bogus-1"), 0, "{out}");
    // Each call still has its info event.
    for id in ["plain-1", "raised-1", "bogus-1"] {
        assert!(
            events
                .iter()
                .any(|e| e["level"] == "INFO" && e["request_id"] == id),
            "{id}: {out}"
        );
    }
    assert!(
        events
            .iter()
            .all(|e| e["level"] != "DEBUG" || e["request_id"] == "raised-1"),
        "debug lines outside the raised request: {out}"
    );
}

/// Under a filter that leaves call events out (`RUST_LOG=warn`), a request that raises its
/// level to `info` still gets its call event; the others do not.
#[test]
fn a_raised_request_logs_its_call_under_a_quieter_filter() {
    let (out, events) = list_with_levels(
        &[("RUST_LOG", "warn")],
        &[
            ("quiet-1", None),
            ("raised-2", Some("info")),
            ("quiet-2", None),
        ],
    );
    let calls_of = |id: &str| {
        events
            .iter()
            .filter(|e| e["target"] == "svcc::call" && e["request_id"] == id)
            .count()
    };
    assert_eq!(calls_of("raised-2"), 1, "{out}");
    assert_eq!(calls_of("quiet-1") + calls_of("quiet-2"), 0, "{out}");
}

/// A stdout nobody reads never stalls the server: lines beyond the queue are dropped, the
/// calls are answered, and `/metrics` counts the dropped lines.
#[test]
fn a_blocked_stdout_drops_lines_and_never_stalls_a_request() {
    // Stdout piped and never read: once the pipe is full, the writer thread blocks on it.
    let (mut child, addr) =
        example::start(&[("SVCC_LOG_FORMAT", "json"), ("SVCC_LOG_BUFFER_LINES", "8")]);
    let rt = svcc_runtime::tokio::runtime::Runtime::new().unwrap();
    let scrape = rt.block_on(async {
        let http = svcc_runtime::reqwest::Client::new();
        // Long parameters: each call's line is ~2 KB, so the 64 KiB pipe fills quickly.
        let name = "x".repeat(1500);
        let body = svcc_runtime::serde_json::json!({
            "jsonrpc": "2.0", "method": "userService.list",
            "params": {"page_token": name}, "id": 1
        })
        .to_string();
        for _ in 0..400 {
            let r = http
                .post(format!("http://{addr}/rpc"))
                .timeout(std::time::Duration::from_secs(10))
                .header("authorization", example::bearer())
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
        http.get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let _ = child.kill();
    let _ = child.wait();
    let dropped: u64 = scrape
        .lines()
        .find_map(|l| l.strip_prefix("svcc_log_lines_dropped_total "))
        .unwrap_or_else(|| panic!("no dropped-lines counter:\n{scrape}"))
        .trim()
        .parse()
        .unwrap();
    assert!(dropped > 0, "nothing was dropped:\n{scrape}");
}
