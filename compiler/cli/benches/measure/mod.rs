//! What the latency benchmarks share: the full `svcc check` they compare with, percentiles,
//! and copying the example into a scratch folder.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The median of five `svcc check .` runs in `dir` (a new process each time), in ms.
pub fn full_check(dir: &Path) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let o = Command::new(env!("CARGO_BIN_EXE_svcc"))
                .args(["check", "."])
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// The benchmarks' inputs, in a scratch folder removed on drop.
pub struct Inputs {
    pub work: std::path::PathBuf,
    /// A copy of the messenger example's contracts.
    pub messenger: std::path::PathBuf,
}

impl Inputs {
    /// A scratch folder named after the benchmark, holding a copy of the example.
    pub fn new(bench: &str) -> Inputs {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap()
            .to_path_buf();
        let work = std::env::temp_dir().join(format!("svcc-{bench}-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let messenger = work.join("messenger");
        copy_dir(&root.join("examples/messenger/idl"), &messenger);
        Inputs { work, messenger }
    }

    /// The synthetic package of 165 services: as one file (its folder and line count) and
    /// split into one file per service (its folder).
    pub fn synthetic(&self) -> (std::path::PathBuf, usize, std::path::PathBuf) {
        let one = self.work.join("synthetic");
        std::fs::create_dir_all(&one).unwrap();
        let text = crate::synthetic::svc_package(165);
        let lines = text.lines().count();
        std::fs::write(one.join("bench.svc"), &text).unwrap();
        let split = self.work.join("split");
        std::fs::create_dir_all(&split).unwrap();
        for (name, text) in crate::synthetic::svc_files(165) {
            std::fs::write(split.join(name), text).unwrap();
        }
        (one, lines, split)
    }
}

impl Drop for Inputs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}
