//! The example binary stopped as an orchestrator stops it, under load and with hostile
//! clients: every request accounted for through SIGTERM, a drain that ends by its deadline, a
//! second signal that stops at once, and a server out of file descriptors that neither spins
//! nor falls over.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod example;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The example started with `env` (and `RUST_LOG=info`, JSON lines on stdout, read into a
/// channel as they come); its address.
fn start(
    env: &[(&str, &str)],
    shell_prefix: Option<&str>,
) -> (Running, String, mpsc::Receiver<String>) {
    let bin = env!("CARGO_BIN_EXE_messenger");
    let mut command = match shell_prefix {
        // `ulimit` and friends, then the binary itself.
        Some(prefix) => {
            let mut c = Command::new("sh");
            c.args(["-c", &format!("{prefix}; exec \"$0\""), bin]);
            c
        }
        None => Command::new(bin),
    };
    command
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("JWT_SECRET", example::SECRET)
        .env_remove("SVCC_LOG_FORMAT");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    for _ in 0..50 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split("serving on http://").nth(1) {
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (Running(child), rest.trim().to_string(), lines);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the example did not start");
}

/// The example's process; killed if a failed assertion leaves it running.
struct Running(Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn signal(child: &Child, name: &str) {
    assert!(
        Command::new("kill")
            .args([&format!("-{name}"), &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
}

/// Waits for the process to exit (at most `limit`): its success, or `None` if it did not.
fn exits_within(child: &mut Child, limit: Duration) -> Option<bool> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.success());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Every line written so far, and until the output ends.
fn all_lines(lines: &mpsc::Receiver<String>) -> Vec<String> {
    lines.iter().collect()
}

/// Waits for a line containing `text`; the lines read meanwhile are kept in `seen`.
fn wait_for(lines: &mpsc::Receiver<String>, text: &str, seen: &mut Vec<String>) {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if let Ok(l) = lines.recv_timeout(Duration::from_millis(100)) {
            let found = l.contains(text);
            seen.push(l);
            if found {
                return;
            }
        }
    }
    panic!("no line with {text:?} in {seen:#?}");
}

/// One HTTP/1.1 response read from `r`: its status and whether it said `Connection: close`;
/// `None` when the connection ended first.
fn read_response(r: &mut BufReader<TcpStream>) -> Option<(u16, bool)> {
    let mut status_line = String::new();
    if r.read_line(&mut status_line).ok()? == 0 {
        return None;
    }
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let (mut length, mut close) = (0usize, false);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        if h == "connection: close" {
            close = true;
        }
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).ok()?;
    Some((status, close))
}

/// What the load's clients saw.
#[derive(Default)]
struct Tally {
    /// Request ids answered.
    answered: HashSet<String>,
    /// Answers that said `Connection: close`, answers after the stop signal, and answers
    /// on connections opened after it (the pre-stop delay still accepts).
    closing: usize,
    after_signal: usize,
    on_new_connections: usize,
    /// Requests that got no answer (the connection ended first).
    unanswered: usize,
}

#[test]
fn every_request_is_accounted_for_through_sigterm() {
    let (mut child, addr, lines) = start(
        &[
            ("SVCC_SHUTDOWN_DELAY", "1s"),
            ("SVCC_SHUTDOWN_TIMEOUT", "5s"),
            // Every call line kept, however fast they come (they are the server's count).
            ("SVCC_LOG_BUFFER_LINES", "1000000"),
        ],
        None,
    );
    let token = example::bearer();
    let signalled = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    // 64 keep-alive clients, each asking in a loop until the server no longer accepts.
    let clients: Vec<_> = (0..64)
        .map(|c| {
            let (addr, token, signalled, tally) =
                (addr.clone(), token.clone(), signalled.clone(), tally.clone());
            std::thread::spawn(move || {
                let mut conn: Option<BufReader<TcpStream>> = None;
                let mut opened_after_signal = false;
                for n in 0.. {
                    if conn.is_none() {
                        opened_after_signal = signalled.load(Ordering::SeqCst);
                        match TcpStream::connect(&addr) {
                            Ok(s) => conn = Some(BufReader::new(s)),
                            // The listener is closed: this client is done.
                            Err(_) => return,
                        }
                    }
                    let Some(r) = conn.as_mut() else { return };
                    let id = format!("load-{c}-{n}");
                    let body = format!(
                        r#"{{"jsonrpc":"2.0","method":"userService.get","params":{{"id":"{}"}},"id":1}}"#,
                        svcc_runtime::Uuid::new_v4()
                    );
                    let after = signalled.load(Ordering::SeqCst);
                    let sent = write!(
                        r.get_mut(),
                        "POST /rpc HTTP/1.1\r\nhost: x\r\nx-request-id: {id}\r\nauthorization: {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let answer = sent.ok().and_then(|()| read_response(r));
                    let mut t = tally.lock().unwrap();
                    match answer {
                        Some((status, close)) => {
                            assert_eq!(status, 200);
                            t.answered.insert(id);
                            if after {
                                t.after_signal += 1;
                            }
                            if opened_after_signal {
                                t.on_new_connections += 1;
                            }
                            if close {
                                t.closing += 1;
                                conn = None;
                            }
                        }
                        None => {
                            t.unanswered += 1;
                            conn = None;
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    signalled.store(true, Ordering::SeqCst);
    signal(&child, "TERM");
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(
        exits_within(&mut child, Duration::from_secs(30)),
        Some(true)
    );
    // What the server executed: each `@log` call line carries the request id.
    let executed: HashSet<String> = all_lines(&lines)
        .iter()
        .filter_map(|l| {
            svcc_runtime::serde_json::from_str::<svcc_runtime::serde_json::Value>(l).ok()
        })
        .filter(|e| e["target"] == "svcc::call" && e["method"] == "get")
        .filter_map(|e| e["request_id"].as_str().map(str::to_string))
        .collect();
    let t = tally.lock().unwrap();
    let lost: Vec<_> = executed.difference(&t.answered).collect();
    assert!(lost.is_empty(), "executed without an answer: {lost:?}");
    let unlogged: Vec<_> = t.answered.difference(&executed).take(5).collect();
    assert!(
        unlogged.is_empty(),
        "answered but not executed: {unlogged:?}"
    );
    assert!(
        t.answered.len() > 64,
        "too little load: {}",
        t.answered.len()
    );
    // During the pre-stop delay the server kept answering, and told each client to move.
    assert!(t.after_signal > 0, "nothing was answered after the signal");
    assert!(
        t.on_new_connections > 0,
        "no connection opened after the signal was served"
    );
    assert!(t.closing > 0, "no answer said `Connection: close`");
}

/// A client that sends part of a request line and then nothing.
fn trickling(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"POST /rpc HTTP/1.1\r\nhost: x\r\n").unwrap();
    s
}

#[test]
fn the_drain_ends_by_its_deadline_with_trickling_and_unreading_clients() {
    let (mut child, addr, lines) = start(&[("SVCC_SHUTDOWN_TIMEOUT", "1s")], None);
    let _trickling = trickling(&addr);
    // Asks for the metrics page again and again and never reads the answers: the server
    // is left writing into a full socket.
    let mut unreading = TcpStream::connect(&addr).unwrap();
    unreading
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for _ in 0..2000 {
        if unreading
            .write_all(b"GET /openapi.json HTTP/1.1\r\nhost: x\r\n\r\n")
            .is_err()
        {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    // The idle timeout (60 s) would have kept it alive for a minute.
    assert_eq!(
        exits_within(&mut child, Duration::from_secs(30)),
        Some(true)
    );
    let out = all_lines(&lines).join("\n");
    assert!(out.contains("the drain ran out of time"), "{out}");
    let cut = out
        .lines()
        .find(|l| l.contains("closed connections still open"))
        .unwrap_or_else(|| panic!("{out}"));
    let v: svcc_runtime::serde_json::Value = svcc_runtime::serde_json::from_str(cut).unwrap();
    assert_eq!(v["connections"], 2, "{cut}");
}

#[test]
fn a_second_signal_stops_at_once() {
    let (mut child, addr, lines) = start(&[("SVCC_SHUTDOWN_TIMEOUT", "120s")], None);
    let _trickling = trickling(&addr);
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "TERM");
    let mut seen = Vec::new();
    wait_for(&lines, "draining", &mut seen);
    signal(&child, "INT");
    // Long before the two minutes the drain would have waited.
    assert_eq!(
        exits_within(&mut child, Duration::from_secs(30)),
        Some(true)
    );
    seen.extend(all_lines(&lines));
    let out = seen.join("\n");
    assert!(
        out.contains("a second stop signal: stopping at once"),
        "{out}"
    );
    assert!(out.contains(r#""signal":"SIGINT""#), "{out}");
}

/// CPU seconds the process has used (Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15; `after` starts at field 3.
    (f[11] + f[12]) as f64 / 100.0
}

#[test]
fn out_of_file_descriptors_the_server_pauses_accepting_and_recovers() {
    // A cap above what the descriptors allow, so that accepts fail with EMFILE.
    let (mut child, addr, lines) =
        start(&[("SVCC_MAX_CONNECTIONS", "10000")], Some("ulimit -n 64"));
    let held: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    let before = cpu_seconds(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_seconds(child.id()) - before;
    // An accept loop that retried at once would burn a core for those two seconds.
    assert!(used < 1.0, "{used} s of CPU while out of descriptors");
    drop(held);
    // Descriptors free again: it serves.
    let until = Instant::now() + Duration::from_secs(10);
    let served = loop {
        let ok = TcpStream::connect(&addr).ok().and_then(|s| {
            let mut r = BufReader::new(s);
            r.get_mut()
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
                .ok()?;
            read_response(&mut r)
        });
        if ok.is_some_and(|(status, _)| status == 200) || Instant::now() > until {
            break ok;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(served.map(|(s, _)| s), Some(200));
    signal(&child, "TERM");
    assert_eq!(
        exits_within(&mut child, Duration::from_secs(30)),
        Some(true)
    );
    let out = all_lines(&lines).join("\n");
    let failures = out.matches("accept failed").count();
    assert_eq!(
        failures, 1,
        "one line per run of failures, not per retry: {out}"
    );
    assert!(out.contains("accepting again"), "{out}");
}

#[test]
fn under_a_low_descriptor_limit_the_default_cap_sheds_connections_instead() {
    let (mut child, addr, lines) = start(&[], Some("ulimit -n 64"));
    let held: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    drop(held);
    // Once the server has seen those connections close, there is room again.
    let until = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = TcpStream::connect(&addr)
            .ok()
            .map(|mut s| {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ =
                    s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\naccept: text/plain\r\n\r\n");
                // The page, up to the server's close or two quiet seconds.
                let mut text = String::new();
                let _ = s.read_to_string(&mut text);
                text
            })
            .unwrap_or_default();
        if text.starts_with("HTTP/1.1 200") || Instant::now() > until {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let rejected = text
        .lines()
        .find_map(|l| l.strip_prefix("svcc_server_connections_rejected_total "))
        .and_then(|v| v.trim().parse::<u64>().ok());
    assert!(rejected.is_some_and(|n| n > 0), "{text}");
    assert!(text.contains("svcc_server_max_connections 16"), "{text}");
    signal(&child, "TERM");
    assert_eq!(
        exits_within(&mut child, Duration::from_secs(30)),
        Some(true)
    );
    let out = all_lines(&lines).join("\n");
    assert!(!out.contains("accept failed"), "{out}");
}
