//! The parser corpus (`tests/corpus/ok`, `tests/corpus/err`) and the formatter's guarantees
//! over every `.svc` file in the repository: idempotent, comments kept, meaning unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use svcc_frontend::resolve::load::MemoryFs;
use svcc_frontend::syntax::decode;

fn files_in(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svc"))
        .collect();
    v.sort();
    v
}

#[test]
fn ok_corpus_has_no_errors() {
    let files = files_in("tests/corpus/ok");
    assert!(files.len() >= 5);
    for f in files {
        let c =
            svcc_frontend::compile(std::slice::from_ref(&f), &svcc_frontend::Options::default());
        let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
        assert_eq!(c.model.packages.len(), 1, "{}", f.display());
    }
}

#[test]
fn err_corpus_reports_errors_with_locations() {
    let files = files_in("tests/corpus/err");
    assert!(files.len() >= 5);
    for f in files {
        let c =
            svcc_frontend::compile(std::slice::from_ref(&f), &svcc_frontend::Options::default());
        assert!(c.has_errors(), "{} should not compile", f.display());
        for d in &c.diagnostics {
            let text = &c.sources.get(d.primary.file).text;
            assert!(
                d.primary.end as usize <= text.len(),
                "{}: span out of range",
                f.display()
            );
        }
    }
}

#[test]
fn contextual_keywords_are_names_in_the_model() {
    let c = svcc_frontend::compile(
        &[common::root().join("tests/corpus/ok/contextual_keywords.svc")],
        &svcc_frontend::Options::default(),
    );
    let pkg = &c.model.packages[0];
    let svcc_model::TypeDef::Record(thing) = &pkg.types[0] else {
        panic!("expected a record")
    };
    let names: Vec<&str> = thing.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(&names[..3], ["type", "error", "package"]);
    assert_eq!(pkg.services[0].methods[0].name, "type");
}

#[test]
fn bom_and_crlf_are_accepted() {
    for name in ["bom.svc", "crlf.svc"] {
        let c = svcc_frontend::compile(
            &[common::root().join("tests/corpus/ok").join(name)],
            &svcc_frontend::Options::default(),
        );
        assert!(!c.has_errors(), "{name}: {:#?}", c.diagnostics);
        let svcc_model::TypeDef::Record(a) = &c.model.packages[0].types[0] else {
            panic!()
        };
        assert_eq!(
            a.docs,
            if name == "bom.svc" {
                "A UTF-8 byte-order mark."
            } else {
                "CRLF line endings."
            }
        );
    }
}

/// Every plain comment of `before` appears in `after`.
fn comments_kept(before: &str, after: &str) -> Result<(), String> {
    let scan = svcc_frontend::syntax::scan::prescan(svcc_model::source::FileId(0), before);
    for c in scan.comments {
        let text = c.text.replace("\r\n", "\n");
        if !after.contains(text.trim_end()) {
            return Err(format!("comment {:?} was lost", c.text));
        }
    }
    Ok(())
}

#[test]
fn fmt_is_idempotent_and_keeps_comments_for_every_svc_file() {
    let files = common::all_svc_files();
    assert!(files.len() > 60, "found {} .svc files", files.len());
    let mut formatted_count = 0;
    for f in &files {
        let (text, bad) = decode(std::fs::read(f).unwrap());
        if bad.is_some() {
            continue;
        }
        let Ok(once) = svcc_frontend::fmt::format_source(&text) else {
            continue;
        };
        formatted_count += 1;
        let twice = svcc_frontend::fmt::format_source(&once).unwrap_or_else(|e| {
            panic!(
                "{}: formatted output does not parse: {e:#?}\n{once}",
                f.display()
            )
        });
        assert_eq!(once, twice, "{}: fmt is not idempotent", f.display());
        comments_kept(&text, &once).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    assert!(formatted_count > 40);
}

/// Compiles `inputs` from a file system holding every `.svc` of the repository, with some
/// files replaced, and returns the model as JSON.
fn model_json(all: &[(PathBuf, Vec<u8>)], inputs: &[PathBuf]) -> (String, bool) {
    let mut fs = MemoryFs::new();
    for (p, b) in all {
        fs.add(p, b.clone());
    }
    let c = svcc_frontend::compile_with(&fs, inputs, &svcc_frontend::Options::default());
    (
        serde_json::to_string_pretty(&c.model).unwrap(),
        c.has_errors(),
    )
}

#[test]
fn fmt_never_changes_meaning() {
    let root = common::root();
    let files = common::all_svc_files();
    let original: Vec<(PathBuf, Vec<u8>)> = files
        .iter()
        .map(|f| {
            (
                f.strip_prefix(&root).unwrap().to_path_buf(),
                std::fs::read(f).unwrap(),
            )
        })
        .collect();
    let formatted: Vec<(PathBuf, Vec<u8>)> = original
        .iter()
        .map(|(p, b)| {
            let (text, bad) = decode(b.clone());
            match (bad, svcc_frontend::fmt::format_source(&text)) {
                (None, Ok(t)) => (p.clone(), t.into_bytes()),
                _ => (p.clone(), b.clone()),
            }
        })
        .collect();
    let mut compared = 0;
    for (p, _) in &original {
        let inputs = vec![p.clone()];
        let (before, errors) = model_json(&original, &inputs);
        if errors {
            continue;
        }
        let (after, _) = model_json(&formatted, &inputs);
        assert_eq!(
            before,
            after,
            "{}: the model changed under fmt",
            p.display()
        );
        compared += 1;
    }
    assert!(compared >= 10, "compared {compared} models");
    // The whole example at once, too.
    let messenger: Vec<PathBuf> = original
        .iter()
        .map(|(p, _)| p.clone())
        .filter(|p| p.starts_with(Path::new("examples/messenger")))
        .collect();
    assert_eq!(
        model_json(&original, &messenger).0,
        model_json(&formatted, &messenger).0
    );
}

#[test]
fn fmt_output_of_the_examples_is_already_canonical() {
    for f in common::all_svc_files()
        .iter()
        .filter(|f| f.starts_with(common::root().join("examples")))
    {
        let text = std::fs::read_to_string(f).unwrap();
        assert_eq!(
            svcc_frontend::fmt::format_source(&text).unwrap(),
            text,
            "{} is not formatted: run `svcc fmt`",
            f.display()
        );
    }
}
