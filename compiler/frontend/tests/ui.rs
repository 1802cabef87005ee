//! UI tests: every case under `tests/ui` is compiled; its diagnostics must match the
//! `//~ CODE` markers in the sources and the blessed renderings (`.stderr`, `.jsonl`).
//! `UPDATE_EXPECT=1` re-blesses the renderings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use svcc_frontend::codes::CODES;
use svcc_frontend::render;
use svcc_frontend::resolve::load::MemoryFs;

struct Case {
    name: String,
    /// Files by their path in the case (`main.svc`, `b.svc`, or `NAME.svc`).
    files: Vec<(PathBuf, Vec<u8>)>,
    input: PathBuf,
    expect_base: PathBuf,
}

fn cases() -> Vec<Case> {
    let dir = common::root().join("tests/ui");
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        if p.is_dir() {
            let mut files = Vec::new();
            let mut inner: Vec<PathBuf> = std::fs::read_dir(&p)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            inner.sort();
            for f in inner
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "svc"))
            {
                let rel = Path::new(&name).join(f.file_name().unwrap());
                files.push((rel, std::fs::read(f).unwrap()));
            }
            out.push(Case {
                input: Path::new(&name).join("main.svc"),
                expect_base: dir.join(&name),
                name,
                files,
            });
        } else if p.extension().is_some_and(|e| e == "svc") {
            out.push(Case {
                input: PathBuf::from(p.file_name().unwrap()),
                files: vec![(
                    PathBuf::from(p.file_name().unwrap()),
                    std::fs::read(&p).unwrap(),
                )],
                expect_base: dir.join(&name),
                name,
            });
        }
    }
    out
}

/// `(file, line, code)` for every `//~ CODE` / `//~^ CODE` marker.
fn markers(case: &Case) -> BTreeSet<(String, usize, String)> {
    let mut out = BTreeSet::new();
    for (path, bytes) in &case.files {
        let text = String::from_utf8_lossy(bytes);
        for (i, line) in text.split('\n').enumerate() {
            if let Some(pos) = line.find("//~") {
                let rest = &line[pos + 3..];
                let (up, rest) = match rest.strip_prefix('^') {
                    Some(r) => (1, r),
                    None => (0, rest),
                };
                for code in rest.split_whitespace() {
                    out.insert((path.display().to_string(), i + 1 - up, code.to_string()));
                }
            }
        }
    }
    out
}

fn check_expect(path: &Path, actual: &str, failures: &mut Vec<String>) {
    let bless = std::env::var_os("UPDATE_EXPECT").is_some();
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        if bless {
            std::fs::write(path, actual).unwrap();
        } else {
            failures.push(format!(
                "{} differs (UPDATE_EXPECT=1 to bless)\n--- expected\n{expected}\n--- actual\n{actual}",
                path.display()
            ));
        }
    }
}

#[test]
fn ui_cases_match_markers_and_renderings() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(
        all.len() > 50,
        "expected the UI corpus, found {} cases",
        all.len()
    );
    for case in &all {
        let mut fs = MemoryFs::new();
        for (p, b) in &case.files {
            fs.add(p, b.clone());
        }
        let comp = svcc_frontend::compile_with(
            &fs,
            std::slice::from_ref(&case.input),
            &svcc_frontend::Options::default(),
        );
        let found: BTreeSet<(String, usize, String)> = comp
            .diagnostics
            .iter()
            .map(|d| {
                let loc = render::Location::of(d.primary, &comp.sources);
                (loc.file, loc.line, d.code.clone())
            })
            .collect();
        let expected = markers(case);
        if found != expected {
            let missing: Vec<_> = expected.difference(&found).collect();
            let extra: Vec<_> = found.difference(&expected).collect();
            failures.push(format!(
                "{}: markers missing {missing:?}; unmarked diagnostics {extra:?}",
                case.name
            ));
        }
        let mut human = String::new();
        let mut json = String::new();
        for d in &comp.diagnostics {
            human.push_str(&render::human(d, &comp.sources, false));
            json.push_str(&render::json(d, &comp.sources));
            json.push('\n');
        }
        human.push_str(&render::summary(
            comp.error_count(),
            comp.warning_count(),
            comp.sources.len(),
        ));
        human.push('\n');
        check_expect(
            &case.expect_base.with_extension("stderr"),
            &human,
            &mut failures,
        );
        check_expect(
            &case.expect_base.with_extension("jsonl"),
            &json,
            &mut failures,
        );
    }
    assert!(
        failures.is_empty(),
        "{} UI failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_error_code_has_a_ui_case_and_an_explanation() {
    let all = cases();
    let marked: BTreeSet<String> = all
        .iter()
        .flat_map(|c| markers(c).into_iter().map(|m| m.2))
        .collect();
    // E0108 (unreadable file) is covered in tests/cli.rs; E0999 is an internal error.
    let exempt = ["E0108", "E0999"];
    for c in CODES {
        assert!(
            !c.explanation.is_empty() && !c.title.is_empty(),
            "{} lacks an explanation",
            c.code
        );
        if !exempt.contains(&c.code) {
            assert!(
                !c.wrong.is_empty() && !c.fixed.is_empty(),
                "{} lacks examples",
                c.code
            );
            assert!(marked.contains(c.code), "{} has no UI case", c.code);
        }
    }
    for l in svcc_frontend::lint::LINTS
        .iter()
        .filter(|l| l.name != "missing_docs")
    {
        assert!(marked.contains(l.name), "lint {} has no UI case", l.name);
    }
}

#[test]
fn every_code_in_the_source_is_documented() {
    // Every crate of the compiler: stages and targets may both report coded diagnostics.
    let mut used = BTreeSet::new();
    let mut stack = vec![common::root().join("compiler")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("fuzz") && !p.ends_with("tests") && !p.ends_with("benches") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("codes.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("\"E0") {
                    let code = &text[i + 1..i + 6];
                    if code[1..].chars().all(|c| c.is_ascii_digit()) {
                        used.insert(code.to_string());
                    }
                }
            }
        }
    }
    assert!(
        used.len() > 40,
        "found only {} codes in the source",
        used.len()
    );
    for code in &used {
        assert!(
            CODES.iter().any(|c| c.code == code),
            "{code} is emitted but has no `svcc explain` entry"
        );
    }
}
