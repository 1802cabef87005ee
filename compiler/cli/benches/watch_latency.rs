//! `svcc watch` latency: the time from writing a file to the printed result line, on the
//! messenger example and on a synthetic package of ~35k lines, beside a full `svcc check` of
//! the same input. Reported after subtracting the debounce (the time the watcher waits for
//! more changes on purpose). Run: `cargo bench -p svcc --bench watch_latency`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod measure;
mod synthetic;

use measure::{Inputs, full_check, percentile};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const DEBOUNCE_MS: u64 = 50;

fn watch(dir: &Path) -> (std::process::Child, Receiver<(Instant, String)>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args([
            "watch",
            ".",
            "--color",
            "never",
            "--debounce",
            &DEBOUNCE_MS.to_string(),
        ])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.contains("svcc watch:") && tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Latencies (ms, debounce subtracted) of `edits` edits of `file`.
fn measure(dir: &Path, file: &Path, edits: usize) -> (Vec<f64>, String) {
    let (mut child, rx) = watch(dir);
    let (_, first) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let original = std::fs::read_to_string(file).unwrap();
    let mut out = Vec::new();
    let mut last = first;
    for i in 0..edits {
        let text = format!("{original}\n// edit {i}\n");
        std::thread::sleep(Duration::from_millis(120));
        let t0 = Instant::now();
        std::fs::write(file, text).unwrap();
        let (t1, line) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        out.push((t1 - t0).as_secs_f64() * 1000.0 - DEBOUNCE_MS as f64);
        last = line;
    }
    let _ = child.kill();
    let _ = child.wait();
    std::fs::write(file, original).unwrap();
    (out, last)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let inputs = Inputs::new("watch");
    let messenger = inputs.messenger.clone();
    let edits = if bench { 25 } else { 2 };
    let (mut m, line) = measure(&messenger, &messenger.join("user/user.svc"), edits);
    assert!(line.contains("ok"), "{line}");
    if !bench {
        println!(
            "watch smoke test: {} edits seen (run `cargo bench` to measure)",
            m.len()
        );
        return;
    }
    let (synthetic, lines, split) = inputs.synthetic();
    let (mut s, line) = measure(&synthetic, &synthetic.join("bench.svc"), 10);
    assert!(line.contains("ok"), "{line}");
    let (mut p, line) = measure(&split, &split.join("service7.svc"), 10);
    assert!(line.contains("ok"), "{line}");
    let m_check = full_check(&messenger);
    let s_check = full_check(&synthetic);
    let p_check = full_check(&split);
    println!("\nlatency after the {DEBOUNCE_MS} ms debounce (write → result line), ms:");
    println!(
        "{:<28} {:>8} {:>8} {:>14}",
        "input", "p50", "p90", "svcc check"
    );
    println!(
        "{:<28} {:>8.1} {:>8.1} {:>14.1}",
        "messenger (6 files)",
        percentile(&mut m, 0.5),
        percentile(&mut m, 0.9),
        m_check
    );
    println!(
        "{:<28} {:>8.1} {:>8.1} {:>14.1}",
        format!("synthetic, 1 file ({lines} l.)"),
        percentile(&mut s, 0.5),
        percentile(&mut s, 0.9),
        s_check
    );
    println!(
        "{:<28} {:>8.1} {:>8.1} {:>14.1}",
        "synthetic, 165 files",
        percentile(&mut p, 0.5),
        percentile(&mut p, 0.9),
        p_check
    );
    println!(
        "\ngoal: p50 under 50 ms on the example; well under a full check on the synthetic package"
    );
}
