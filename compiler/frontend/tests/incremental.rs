//! `compile_incremental` (what `svcc watch` runs) must report exactly what a full compilation
//! reports, after every kind of edit, while re-checking only the packages an edit can affect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use svcc_frontend::resolve::load::MemoryFs;
use svcc_frontend::{Compilation, Incremental, Options};

/// A diagnostic with file ids replaced by paths, so two compilations can be compared.
fn normalized(c: &Compilation) -> Vec<String> {
    let path = |id: svcc_model::source::FileId| {
        c.sources
            .files()
            .find(|(i, _)| *i == id)
            .map(|(_, f)| f.path.display().to_string())
            .unwrap()
    };
    c.diagnostics
        .iter()
        .map(|d| {
            let labels: Vec<String> = d
                .labels
                .iter()
                .map(|l| {
                    format!(
                        "{}:{}-{} {}",
                        path(l.span.file),
                        l.span.start,
                        l.span.end,
                        l.message
                    )
                })
                .collect();
            format!(
                "{} {}:{}-{} {} {:?}",
                d.code,
                path(d.primary.file),
                d.primary.start,
                d.primary.end,
                d.message,
                labels
            )
        })
        .collect()
}

struct Project {
    fs: MemoryFs,
    inputs: Vec<PathBuf>,
    inc: Incremental,
}

impl Project {
    fn set(&mut self, path: &str, text: &str) {
        self.fs.add(path, text.as_bytes().to_vec());
        let p = PathBuf::from(path);
        if !self.inputs.contains(&p) {
            self.inputs.push(p);
            self.inputs.sort();
        }
    }

    fn remove(&mut self, path: &str) {
        // MemoryFs has no removal: rebuild it without the file.
        let p = PathBuf::from(path);
        self.inputs.retain(|i| *i != p);
        let mut fs = MemoryFs::new();
        for i in &self.inputs {
            use svcc_frontend::resolve::load::FileSystem;
            fs.add(i, self.fs.read(i).unwrap());
        }
        self.fs = fs;
    }

    /// Compiles incrementally, checks the result against a full compilation and returns the
    /// number of packages re-checked and the diagnostics.
    fn compile(&mut self) -> (usize, Vec<String>) {
        let options = Options::default();
        let inc =
            svcc_frontend::compile_incremental(&self.fs, &self.inputs, &options, &mut self.inc);
        let full = svcc_frontend::compile_with(&self.fs, &self.inputs, &options);
        let got = normalized(&inc);
        assert_eq!(
            got,
            normalized(&full),
            "incremental and full results differ"
        );
        (self.inc.checked_packages, got)
    }
}

const A: &str = "package demo.a;\n\n/// A.\ntype A { x @1: string; }\n";
const A_BAD: &str = "package demo.a;\n\n/// A.\ntype A { x @1: string; y @1: string; }\n";
const B: &str = "package demo.b;\n\nimport \"a.svc\";\n\n/// B.\ntype B { a @1: A; }\n";
const C_BAD: &str =
    "package demo.c;\n\n/// S.\nservice S {\n  rpc get(id: uuid);\n  rpc get(name: string);\n}\n";
const C: &str = "package demo.c;\n\n/// S.\nservice S {\n  rpc get(id: uuid);\n}\n";

#[test]
fn incremental_results_equal_full_results_after_every_edit() {
    let mut p = Project {
        fs: MemoryFs::new(),
        inputs: Vec::new(),
        inc: Incremental::default(),
    };
    p.set("a.svc", A);
    p.set("b.svc", B);
    p.set("c.svc", C_BAD);
    let (checked, diags) = p.compile();
    assert_eq!(checked, 3);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("E0204 c.svc"), "{diags:?}");

    // Nothing changed: nothing re-checked, and c's reused error is still reported.
    let (checked, diags) = p.compile();
    assert_eq!((checked, diags.len()), (0, 1), "{diags:?}");

    // An edit to a re-checks a and its importer b, not c.
    p.set("a.svc", A_BAD);
    let (checked, diags) = p.compile();
    assert_eq!(checked, 2);
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert!(
        diags.iter().any(|d| d.starts_with("E0201 a.svc")),
        "{diags:?}"
    );

    // An edit to c re-checks c alone; a's reused error remains.
    p.set("c.svc", C);
    let (checked, diags) = p.compile();
    assert_eq!(checked, 1);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("E0201 a.svc"), "{diags:?}");

    // A new file that sorts first renumbers every file: reused diagnostics follow their paths.
    p.set(
        "0.svc",
        "package demo.zero;\n\n/// Z.\ntype Z { z @1: int32; }\n",
    );
    let (checked, diags) = p.compile();
    assert_eq!(checked, 1, "only the new package is checked");
    assert!(diags[0].starts_with("E0201 a.svc"), "{diags:?}");

    // Removing it renumbers them back.
    p.remove("0.svc");
    let (_, diags) = p.compile();
    assert!(diags[0].starts_with("E0201 a.svc"), "{diags:?}");

    // A file that moves to another package re-checks both packages.
    p.set("c.svc", &C.replace("demo.c", "demo.a"));
    let (checked, _) = p.compile();
    assert!(checked >= 2, "{checked}");

    // Fixing the error clears it (lints, which run on error-free contracts, then appear).
    p.set("a.svc", A);
    p.set("c.svc", C);
    let (_, diags) = p.compile();
    assert!(!diags.iter().any(|d| d.starts_with('E')), "{diags:?}");
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("unused_declaration b.svc")),
        "{diags:?}"
    );
}
