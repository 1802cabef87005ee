//! `svcc lsp` latency: the time from a `didChange` of an open document to the
//! `publishDiagnostics` that answers its version, on the messenger example and on a synthetic
//! package of ~35k lines, beside a full `svcc check` of the same input (a new process each
//! time). Run: `cargo bench -p svcc --bench lsp_latency`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod measure;
mod synthetic;

use measure::{Inputs, full_check, percentile};

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

struct Server {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    rx: Receiver<(Instant, Value)>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_svcc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            loop {
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line.trim_end().is_empty() {
                        break;
                    }
                    if let Some(v) = line.trim_end().strip_prefix("Content-Length: ") {
                        len = v.parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap();
                if tx.send((Instant::now(), v)).is_err() {
                    return;
                }
            }
        });
        let mut s = Server { child, stdin, rx };
        s.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "processId": null, "rootUri": format!("file://{}", root.display()), "capabilities": {} } }));
        loop {
            let (_, m) = s.rx.recv_timeout(Duration::from_secs(120)).unwrap();
            if m["id"] == 1 {
                break;
            }
        }
        s.send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
        s
    }

    fn send(&mut self, v: Value) {
        let body = serde_json::to_vec(&v).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits for the diagnostics of `uri` at `version`; the instant they arrived.
    fn published(&mut self, uri: &str, version: i32) -> Instant {
        loop {
            let (t, m) = self.rx.recv_timeout(Duration::from_secs(120)).unwrap();
            if m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
            {
                return t;
            }
        }
    }
}

/// Latencies (ms) of `edits` edits of `file`, opened in a server rooted at `dir`.
fn measure(dir: &Path, file: &Path, edits: usize) -> Vec<f64> {
    let mut s = Server::start(dir);
    let uri = format!("file://{}", file.display());
    let original = std::fs::read_to_string(file).unwrap();
    s.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": { "textDocument": { "uri": uri, "languageId": "svc", "version": 1, "text": original } } }));
    s.published(&uri, 1);
    let mut out = Vec::new();
    for i in 0..edits {
        let version = i as i32 + 2;
        let text = format!("{original}\n// edit {i}\n");
        let t0 = Instant::now();
        s.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": { "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] } }));
        let t1 = s.published(&uri, version);
        out.push((t1 - t0).as_secs_f64() * 1000.0);
    }
    let _ = s.child.kill();
    let _ = s.child.wait();
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let inputs = Inputs::new("lsp");
    let messenger = inputs.messenger.clone();
    let edits = if bench { 50 } else { 2 };
    let mut m = measure(&messenger, &messenger.join("user/user.svc"), edits);
    if !bench {
        println!(
            "lsp smoke test: {} edits answered (run `cargo bench` to measure)",
            m.len()
        );
        return;
    }
    let (synthetic, lines, split) = inputs.synthetic();
    let mut s = measure(&synthetic, &synthetic.join("bench.svc"), 10);
    let mut p = measure(&split, &split.join("service7.svc"), 10);
    let m_check = full_check(&messenger);
    let s_check = full_check(&synthetic);
    let p_check = full_check(&split);
    println!("\nlatency of `svcc lsp` (didChange → publishDiagnostics of that version), ms:");
    println!(
        "{:<28} {:>8} {:>8} {:>14}",
        "input", "p50", "p90", "svcc check"
    );
    for (name, v, check) in [
        ("messenger (6 files)".to_string(), &mut m, m_check),
        (format!("synthetic, 1 file ({lines} l.)"), &mut s, s_check),
        ("synthetic, 165 files".to_string(), &mut p, p_check),
    ] {
        println!(
            "{:<28} {:>8.1} {:>8.1} {:>14.1}",
            name,
            percentile(v, 0.5),
            percentile(v, 0.9),
            check
        );
    }
    println!(
        "\ngoal: p50 under 50 ms on the example; well under a full check on the synthetic package"
    );
}
