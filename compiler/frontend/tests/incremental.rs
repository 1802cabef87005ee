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

/// Re-parsing only what an edit touched gives the very tree a full parse gives, for edits of
/// every kind anywhere in real contracts (inside declarations, between them, new and removed
/// declarations, broken text), and it is taken for the common edit inside one declaration.
#[test]
fn reparse_equals_a_full_parse() {
    use svcc_frontend::syntax::{parse_file, reparse};
    use svcc_model::source::FileId;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = [
        "examples/messenger/idl/user/user.svc",
        "examples/messenger/idl/chat/chat.svc",
        "tests/codegen/contracts/wire.svc",
        "tests/breaking/base.svc",
    ];
    let edits = [
        "",
        " ",
        "\n",
        "x",
        ";",
        "}",
        "{",
        "/// doc\n",
        "// note\n",
        "@deprecated\n",
        "\n/// A.\ntype Extra {\n  a @1: string;\n}\n",
        "?",
        "\"",
        "é",
    ];
    // A small deterministic generator (no dependency).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut fast, mut total) = (0, 0);
    for f in files {
        let old_text = std::fs::read_to_string(root.join(f)).unwrap();
        let (old, _) = parse_file(FileId(0), &old_text);
        let old = old.unwrap();
        for _ in 0..150 {
            // Replace 0..6 bytes at a random place by one of the edits.
            let mut at = next(old_text.len());
            while !old_text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + next(6)).min(old_text.len());
            while !old_text.is_char_boundary(end) {
                end -= 1;
            }
            let text = format!(
                "{}{}{}",
                &old_text[..at],
                edits[next(edits.len())],
                &old_text[end..]
            );
            if text == old_text {
                continue;
            }
            // File ids change when files come and go: the re-parse renumbers too.
            let (full, _) = parse_file(FileId(3), &text);
            if full.is_some() {
                total += 1;
            }
            if let Some(quick) = reparse(FileId(3), &text, &old_text, &old) {
                fast += 1;
                assert_eq!(Some(&quick), full.as_ref(), "{f}: edit at {at}..{end}");
            }
        }
    }
    // Of the edits that leave a valid file, most land inside a declaration: the quick path
    // must be the usual one there (it never applies to a file that does not parse).
    assert!(
        fast * 3 >= total * 2,
        "re-parsed only {fast} of {total} valid edits"
    );
}
