//! Helpers shared by the integration tests: finding the repository's `.svc` files and
//! loading UI cases.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// Every `.svc` file in the repository (sorted), skipping build output and dependencies.
pub fn all_svc_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&root(), &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            // `snapshots`: the editor grammar's test copies of these same files.
            if !(name.starts_with('.')
                || name == "target"
                || name == "node_modules"
                || name == "snapshots")
            {
                walk(&p, out);
            }
        } else if name.ends_with(".svc") {
            out.push(p);
        }
    }
}

/// A deterministic pseudo-random generator (xorshift64*), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}
