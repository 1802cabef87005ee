//! Golden files: every target's output for the repository's test contracts is committed
//! beside them (`tests/codegen/golden/`, `examples/messenger/golden/`), so every change to a
//! generator is a diff a reviewer reads. Re-bless after an intended change with
//! `UPDATE_EXPECT=1 cargo test -p svcc-codegen --test golden`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// Every file below `dir`, by path relative to it.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Compiles the contracts in `project/inputs` (as its build.rs does, from `project`, with the
/// inputs as include roots) and compares each target's files with `project/golden/<target>/`.
fn check(project: &str, inputs: &[&str]) -> Vec<String> {
    let dir = root().join(project);
    let paths: Vec<PathBuf> = inputs.iter().map(|i| dir.join(i)).collect();
    let files = svcc_frontend::collect_inputs(&paths).unwrap();
    let options = svcc_frontend::Options {
        include: paths,
        ..Default::default()
    };
    let comp = svcc_frontend::compile(&files, &options);
    assert!(!comp.has_errors(), "{project}: {:?}", comp.diagnostics);
    let cx = svcc_codegen::Context {
        // What `svcc_build::compile(&[<inputs>], …)` writes in the first line.
        source_note: inputs.join(", "),
    };
    let bless = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for target in svcc_codegen::TARGETS {
        // A target that refuses the contracts has its message as its golden file.
        let generated: BTreeMap<String, Vec<u8>> =
            match target.generate(&comp.model, &Default::default(), &cx) {
                Ok(files) => files.into_iter().map(|f| (f.path, f.contents)).collect(),
                Err(message) => {
                    BTreeMap::from([("REFUSED.txt".to_string(), (message + "\n").into_bytes())])
                }
            };
        let golden_dir = dir.join("golden").join(target.name());
        if bless {
            let _ = std::fs::remove_dir_all(&golden_dir);
            for (path, text) in &generated {
                let p = golden_dir.join(path);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, text).unwrap();
            }
            continue;
        }
        let golden = read_tree(&golden_dir);
        for (path, text) in &generated {
            match golden.get(path) {
                None => failures.push(format!("{project}: {}/{path} is new", target.name())),
                Some(g) if g != text => {
                    let (g, text) = (String::from_utf8_lossy(g), String::from_utf8_lossy(text));
                    let line = g
                        .lines()
                        .zip(text.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or_else(|| g.lines().count().min(text.lines().count()))
                        + 1;
                    failures.push(format!(
                        "{project}: {}/{path} differs from line {line}:\n  golden:    {}\n  generated: {}",
                        target.name(),
                        g.lines().nth(line - 1).unwrap_or("<end>"),
                        text.lines().nth(line - 1).unwrap_or("<end>")
                    ));
                }
                Some(_) => {}
            }
        }
        for path in golden.keys().filter(|p| !generated.contains_key(*p)) {
            failures.push(format!(
                "{project}: {}/{path} is no longer generated",
                target.name()
            ));
        }
    }
    failures
}

#[test]
fn generated_output_matches_the_golden_files() {
    let mut failures = check("tests/codegen", &["contracts", "../../idl"]);
    failures.extend(check("examples/messenger", &["idl"]));
    assert!(
        failures.is_empty(),
        "{}\n\nre-bless after an intended change: UPDATE_EXPECT=1 cargo test -p svcc-codegen --test golden",
        failures.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    let dir = root().join("examples/messenger/idl");
    let files = svcc_frontend::collect_inputs(std::slice::from_ref(&dir)).unwrap();
    let options = svcc_frontend::Options {
        include: vec![dir],
        ..Default::default()
    };
    let a = svcc_frontend::compile(&files, &options);
    let b = svcc_frontend::compile(&files, &options);
    for target in svcc_codegen::TARGETS {
        let cx = svcc_codegen::Context::default();
        assert_eq!(
            target.generate(&a.model, &Default::default(), &cx).unwrap(),
            target.generate(&b.model, &Default::default(), &cx).unwrap(),
            "{}",
            target.name()
        );
    }
}
