//! Fuzz target: any bytes through parse, resolve, check, lint and fmt must not panic, and
//! every diagnostic must point inside the file.
//!
//! Run: `cd compiler/fuzz && cargo fuzz run parse_check` (on a stable toolchain prefix with
//! `RUSTC_BOOTSTRAP=1`). The deterministic counterpart in the normal suite is
//! `compiler/frontend/tests/robustness.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcc_frontend::resolve::load::MemoryFs;

fuzz_target!(|data: &[u8]| {
    let mut fs = MemoryFs::new();
    fs.add("a.svc", data.to_vec());
    // A second file so imports of it resolve and cross-file paths are exercised.
    fs.add("b.svc", b"package b.v1;\n\ntype B { x @1: string; }\n".to_vec());
    let c = svcc_frontend::compile_with(&fs, &["a.svc".into()], &svcc_frontend::Options::default());
    for d in &c.diagnostics {
        let text = &c.sources.get(d.primary.file).text;
        assert!(d.primary.start <= d.primary.end && (d.primary.end as usize) <= text.len());
        let _ = svcc_frontend::render::human(d, &c.sources, false);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(once) = svcc_frontend::fmt::format_source(text)
    {
        assert_eq!(svcc_frontend::fmt::format_source(&once).ok().as_deref(), Some(once.as_str()));
    }
});
