//! `svcc check` against `protoc` on the same synthetic package, measured in the same run.
//!
//! Generates N services × 10 methods with their request/response records and an enum per
//! service, as `.svc` and as the equivalent `.proto`, at several sizes; runs the release
//! `svcc check` and `protoc --descriptor_set_out` as processes, several rounds each, and
//! reports the median wall time, the svcc/protoc ratio, the growth when the input doubles and
//! the peak memory (max RSS). Run: `cargo bench -p svcc --bench check_vs_protoc`
//! (needs `protoc` on PATH: Debian `protobuf-compiler`).
// `wait4` is the one way to read a single child's own peak memory; nothing else here is unsafe.
#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::fmt::Write as _;

mod synthetic;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use synthetic::svc_package;

fn proto_package(services: usize) -> String {
    let mut s = String::from(
        "// A synthetic package for benchmarks.\nsyntax = \"proto3\";\npackage bench.v1;\n\n",
    );
    for k in 0..services {
        let _ = writeln!(s, "// Service {k}.\nservice Service{k} {{");
        for j in 0..10 {
            let _ = writeln!(
                s,
                "  // Method {j} of service {k}.\n  rpc Method{j}(Req{k}x{j}) returns (Resp{k}x{j});"
            );
        }
        s.push_str("}\n\n");
        let _ = writeln!(
            s,
            "// Kinds of service {k}.\nenum Kind{k} {{\n  KIND{k}_UNSPECIFIED = 0;\n  KIND{k}_A = 1;\n  KIND{k}_B = 2;\n  KIND{k}_C = 3;\n  KIND{k}_D = 4;\n  KIND{k}_E = 5;\n}}\n"
        );
        for j in 0..10 {
            let _ = writeln!(
                s,
                "// Request {j}.\nmessage Req{k}x{j} {{\n  string id = 1;\n  int32 count = 2;\n  repeated string tags = 3;\n  Kind{k} kind = 4;\n  optional string note = 5;\n}}\n"
            );
            let _ = writeln!(
                s,
                "// Response {j}.\nmessage Resp{k}x{j} {{\n  string id = 1;\n  int64 total = 2;\n  repeated Req{k}x{j} items = 3;\n  map<string, string> labels = 4;\n  bool done = 5;\n}}\n"
            );
        }
    }
    s
}

/// Runs a command to completion; returns wall time and peak RSS in KiB.
#[allow(clippy::zombie_processes)] // reaped by `wait4` below, which std's `wait` cannot replace
fn run(cmd: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = i32::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY-free alternative does not exist in std: wait4 gives this child's own rusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(r, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "command failed: {cmd:?}"
    );
    (elapsed, u64::try_from(usage.ru_maxrss).unwrap_or(0))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Row {
    lines: usize,
    svcc: Duration,
    protoc: Option<Duration>,
    svcc_kib: u64,
}

fn measure(dir: &Path, services: usize, rounds: usize, protoc: bool) -> Row {
    let svc = dir.join(format!("bench{services}.svc"));
    let proto = dir.join(format!("bench{services}.proto"));
    let text = svc_package(services);
    let lines = text.lines().count();
    std::fs::write(&svc, &text).unwrap();
    std::fs::write(&proto, proto_package(services)).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_svcc"));
    let mut s_times = Vec::new();
    let mut p_times = Vec::new();
    let mut peak = 0;
    for _ in 0..rounds {
        // Alternate the two tools so drift on a shared machine hits both alike.
        let (t, kib) = run(Command::new(&bin).arg("check").arg(&svc));
        s_times.push(t);
        peak = peak.max(kib);
        if protoc {
            let (t, _) = run(Command::new("protoc")
                .arg(format!("-I{}", dir.display()))
                .arg("--descriptor_set_out=/dev/null")
                .arg(&proto));
            p_times.push(t);
        }
    }
    Row {
        lines,
        svcc: median(s_times),
        protoc: protoc.then(|| median(p_times)),
        svcc_kib: peak,
    }
}

/// Instructions executed by `svcc check FILE`, counted by callgrind (steady on a shared
/// machine, unlike wall time); `None` without valgrind.
fn instructions(file: &Path) -> Option<u64> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(env!("CARGO_BIN_EXE_svcc"))
        .arg("check")
        .arg(file)
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.contains("I   refs:"))?;
    line.rsplit(':')
        .next()?
        .trim()
        .replace(',', "")
        .parse()
        .ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing; there is nothing to list.
    }
    // `-- --emit DIR SERVICES` writes the synthetic package and stops (for profiling).
    if let Some(i) = args.iter().position(|a| a == "--emit") {
        let dir = PathBuf::from(&args[i + 1]);
        let n: usize = args[i + 2].parse().unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bench.svc"), svc_package(n)).unwrap();
        std::fs::write(dir.join("bench.proto"), proto_package(n)).unwrap();
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // Under `cargo test` (no `--bench`): only check that the synthetic package is valid.
        let dir = std::env::temp_dir().join(format!("svcc-bench-smoke-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("smoke.svc");
        std::fs::write(&path, svc_package(3)).unwrap();
        let c = svcc_frontend::compile(&[path], &svcc_frontend::Options::default());
        assert!(
            c.diagnostics.is_empty(),
            "synthetic package has problems: {:#?}",
            c.diagnostics
        );
        assert_eq!(c.model.packages[0].services.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "bench smoke test: the synthetic package checks cleanly (run `cargo bench` to measure)"
        );
        return;
    }
    let has_protoc = Command::new("protoc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_protoc {
        println!(
            "protoc not found: install Debian `protobuf-compiler` for the comparison; measuring svcc alone"
        );
    }
    let dir = std::env::temp_dir().join(format!("svcc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    // ~35k lines, twice that, and ~200k lines for memory.
    let sizes = [165usize, 330, 940];
    let rows: Vec<Row> = sizes
        .iter()
        .map(|&n| measure(&dir, n, if n > 1000 { 3 } else { rounds }, has_protoc))
        .collect();
    println!(
        "\n{:>8} {:>12} {:>12} {:>10} {:>12}",
        "lines", "svcc ms", "protoc ms", "ratio", "svcc MiB"
    );
    for r in &rows {
        let (p, ratio) = match r.protoc {
            Some(p) => (
                format!("{:.1}", ms(p)),
                format!("{:.2}", ms(r.svcc) / ms(p)),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:>8} {:>12.1} {:>12} {:>10} {:>12.1}",
            r.lines,
            ms(r.svcc),
            p,
            ratio,
            r.svcc_kib as f64 / 1024.0
        );
    }
    let growth = ms(rows[1].svcc) / ms(rows[0].svcc);
    let line_growth = rows[1].lines as f64 / rows[0].lines as f64;
    println!(
        "\ngrowth: {line_growth:.2}x the input took {growth:.2}x the time (goal: at most 2.2x for 2x)"
    );
    let small = dir.join(format!("bench{}.svc", sizes[0]));
    let large = dir.join(format!("bench{}.svc", sizes[1]));
    if let (Some(a), Some(b)) = (instructions(&small), instructions(&large)) {
        println!(
            "growth in instructions (callgrind, steady): {:.3}x ({a} -> {b})",
            b as f64 / a as f64
        );
    }
    if let Some(p) = rows[0].protoc {
        println!(
            "at {} lines svcc takes {:.2}x protoc's time (goal: at most 0.5x)",
            rows[0].lines,
            ms(rows[0].svcc) / ms(p)
        );
    }
    println!(
        "peak memory at {} lines: {:.1} MiB (goal: under 300 MB)",
        rows[2].lines,
        rows[2].svcc_kib as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
