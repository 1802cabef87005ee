//! No input makes the compiler panic: thousands of mutated and random inputs go through
//! parse, resolve, check, lint and fmt, deterministically (a fixed seed), in the normal suite.
//! The `cargo fuzz` target in `compiler/fuzz` explores the same path without bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use svcc_frontend::resolve::load::MemoryFs;

const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "<",
    ">",
    "[",
    "]",
    ";",
    ":",
    ",",
    "?",
    "=",
    "->",
    "@",
    "@1",
    "@0",
    "@99999999999999999999",
    "\"",
    "\"\\u{110000}\"",
    "\"\\q\"",
    "/*",
    "*/",
    "//",
    "///",
    "//!",
    "\0",
    "\u{FEFF}",
    "\r\n",
    "\n",
    " ",
    "type",
    "enum",
    "union",
    "error",
    "service",
    "rpc",
    "event",
    "throws",
    "import \"x.svc\";",
    "import \"../../../etc/passwd\";",
    "package a.b;",
    "list<",
    "map<",
    "string",
    "int32",
    "User",
    "x.y.Z",
    "@length(min = 5, max = 1)",
    "@pattern(\"(\")",
    "@http(method = GET, path = \"/{x}\")",
    "@key(nope)",
    "@range(min = 1e400)",
    "-",
    "1.5",
    "99999999999999999999999999",
    "é",
    "🎉",
    "\u{202E}",
    "true",
    "[1, [2, [3]]]",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 => {
                let end = (at + rng.below(40)).min(v.len());
                v.drain(at..end);
            }
            1 | 2 => {
                let p = PIECES[rng.below(PIECES.len())].as_bytes();
                v.splice(at..at, p.iter().copied());
            }
            3 => {
                let end = (at + rng.below(80)).min(v.len());
                let copy = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, copy);
            }
            4 => v.truncate(at),
            5 => {
                if !v.is_empty() {
                    let i = rng.below(v.len());
                    v[i] = (rng.next() & 0xff) as u8;
                }
            }
            _ => {
                let p = PIECES[rng.below(PIECES.len())].as_bytes();
                for _ in 0..rng.below(200) {
                    v.splice(at..at, p.iter().copied());
                }
            }
        }
    }
    v
}

/// Runs one input through everything; panics are caught and reported with the input.
fn exercise(files: &[(PathBuf, Vec<u8>)], target: usize) -> Result<(), String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut fs = MemoryFs::new();
        for (p, b) in files {
            fs.add(p, b.clone());
        }
        let c = svcc_frontend::compile_with(
            &fs,
            &[files[target].0.clone()],
            &svcc_frontend::Options::default(),
        );
        for d in &c.diagnostics {
            let text = &c.sources.get(d.primary.file).text;
            let (s, e) = (d.primary.start as usize, d.primary.end as usize);
            assert!(
                s <= e && e <= text.len(),
                "span {s}..{e} outside a {}-byte file",
                text.len()
            );
            assert!(
                text.is_char_boundary(s) && text.is_char_boundary(e),
                "span {s}..{e} splits a character"
            );
            assert!(!d.message.is_empty());
            let _ = svcc_frontend::render::human(d, &c.sources, false);
            let _ = svcc_frontend::render::json(d, &c.sources);
        }
        let (text, bad) = svcc_frontend::syntax::decode(files[target].1.clone());
        if bad.is_none()
            && let Ok(once) = svcc_frontend::fmt::format_source(&text)
        {
            let twice = svcc_frontend::fmt::format_source(&once).expect("formatted output parses");
            assert_eq!(once, twice, "fmt is not idempotent");
        }
    }));
    result.map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        format!(
            "{msg}\ninput: {:?}",
            String::from_utf8_lossy(&files[target].1)
        )
    })
}

#[test]
fn thousands_of_mutated_inputs_never_panic() {
    let root = common::root();
    let seeds: Vec<(PathBuf, Vec<u8>)> = common::all_svc_files()
        .iter()
        .map(|f| {
            (
                f.strip_prefix(&root).unwrap().to_path_buf(),
                std::fs::read(f).unwrap(),
            )
        })
        .collect();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    // SVCC_MUTATIONS=100000 for a longer hunt; the default keeps the suite quick.
    let iterations: usize = std::env::var("SVCC_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for i in 0..iterations {
        let target = rng.below(seeds.len());
        let mut files = seeds.clone();
        files[target].1 = mutate(&mut rng, &seeds[target].1);
        if let Err(e) = exercise(&files, target) {
            panic!("iteration {i} on {}: {e}", files[target].0.display());
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    for i in 0..2000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| (rng.next() & 0xff) as u8).collect()
        } else {
            let mut s = String::new();
            for _ in 0..rng.below(60) {
                s.push_str(PIECES[rng.below(PIECES.len())]);
                s.push(' ');
            }
            s.into_bytes()
        };
        let files = vec![(PathBuf::from("r.svc"), bytes)];
        if let Err(e) = exercise(&files, 0) {
            panic!("random input {i}: {e}");
        }
    }
}

#[test]
fn absurd_inputs_get_errors_not_crashes() {
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "package a;\ntype T = {}string{};",
                "list<".repeat(100_000),
                ">".repeat(100_000)
            ),
            "E0006",
        ),
        (
            format!(
                "package a;\ntype T {{ x @1: int32 = {}; }}",
                "9".repeat(10_000)
            ),
            "E0007",
        ),
        (
            format!("package a;\n@x({})\ntype T = string;", "[".repeat(50_000)),
            "E0006",
        ),
        (
            format!("package a;\ntype T {{ x @{}: string; }}", "1".repeat(400)),
            "E0007",
        ),
        (
            "package a;\ntype T = string;\n\"never closed".to_string(),
            "E0004",
        ),
    ];
    for (text, code) in cases {
        let files = vec![(PathBuf::from("a.svc"), text.clone().into_bytes())];
        exercise(&files, 0).unwrap();
        let c =
            svcc_frontend::compile_memory(&[("a.svc", &text)], &svcc_frontend::Options::default());
        assert!(
            c.diagnostics.iter().any(|d| d.code == code),
            "expected {code}, got {:?}",
            c.diagnostics.iter().map(|d| &d.code).collect::<Vec<_>>()
        );
    }
}
