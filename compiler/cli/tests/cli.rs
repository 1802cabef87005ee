//! The `svcc` binary's contract: commands, exit codes, output formats, configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../frontend/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

fn svcc(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("svcc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_example_succeeds() {
    let out = svcc(&["check", "examples/messenger/idl"], &common::root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("svcc: 6 files checked, no problems"));
}

#[test]
fn errors_exit_1_and_report_every_file() {
    let out = svcc(&["check", "tests/ui/many_errors/main.svc"], &common::root());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for code in ["E0102", "E0200", "E0300", "E0210"] {
        assert!(err.contains(code), "missing {code} in\n{err}");
    }
    assert!(
        err.trim_end()
            .ends_with("svcc: 4 errors, 0 warnings (2 files checked)"),
        "{err}"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let root = common::root();
    assert_eq!(
        svcc(&["check", "no/such/path.svc"], &root).status.code(),
        Some(2)
    );
    assert_eq!(
        svcc(&["check", "--format", "xml"], &root).status.code(),
        Some(2)
    );
    assert_eq!(svcc(&["frobnicate"], &root).status.code(), Some(2));
    assert_eq!(svcc(&["explain", "E9999"], &root).status.code(), Some(2));
    assert_eq!(svcc(&["--help"], &root).status.code(), Some(0));
}

#[test]
fn unreadable_input_is_e0108() {
    let dir = temp_dir("e0108");
    let sub = dir.join("dir.svc");
    std::fs::create_dir_all(&sub).unwrap();
    let c = svcc_frontend::compile(&[sub], &svcc_frontend::Options::default());
    assert!(
        c.diagnostics.iter().any(|d| d.code == "E0108"),
        "{:?}",
        c.diagnostics
    );
}

#[test]
fn json_format_is_json_lines_with_locations() {
    let out = svcc(
        &["check", "--format", "json", "tests/ui/E0102_unresolved.svc"],
        &common::root(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "E0102");
    assert_eq!(first["file"], "tests/ui/E0102_unresolved.svc");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(6), Some(13))
    );
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(6), Some(16))
    );
    assert_eq!(first["help"], "did you mean `User`?");
    assert!(first["labels"].is_array());
    // Labels carry locations and messages.
    let out = svcc(
        &[
            "check",
            "--format",
            "json",
            "tests/ui/E0200_duplicate_field.svc",
        ],
        &common::root(),
    );
    let v: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(v["labels"][0]["message"], "first declared here");
    assert_eq!(v["labels"][0]["line"], 4);
}

#[test]
fn github_format_emits_workflow_commands() {
    let out = svcc(
        &[
            "check",
            "--format",
            "github",
            "tests/ui/E0102_unresolved.svc",
        ],
        &common::root(),
    );
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with("::error file=tests/ui/E0102_unresolved.svc,line=6,col=13,endLine=6,endColumn=16,title=svcc E0102::cannot find type `Usr` in this scope%0Ahelp: did you mean `User`?"),
        "{first}"
    );
}

#[test]
fn sarif_format_is_one_log_with_rules_results_and_related_locations() {
    let out = svcc(
        &[
            "check",
            "--format",
            "sarif",
            "tests/ui/E0200_duplicate_field.svc",
            "tests/ui/E0102_unresolved.svc",
        ],
        &common::root(),
    );
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "svcc");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    // E0104: the two files declare `User` in one package.
    let codes: Vec<_> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["E0104", "E0200", "E0102", "E0102"]);
    assert_eq!(rules.len(), 3);
    for r in results {
        // Each result names its rule, and the index points at that rule.
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(r["message"]["text"].as_str().unwrap().ends_with(['.', '?']));
    }
    let unresolved = results.iter().find(|r| r["ruleId"] == "E0102").unwrap();
    assert_eq!(unresolved["level"], "error");
    assert_eq!(
        unresolved["message"]["text"],
        "cannot find type `Usr` in this scope. Help: did you mean `User`?"
    );
    let loc = &unresolved["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "tests/ui/E0102_unresolved.svc"
    );
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(
        (&loc["region"]["startLine"], &loc["region"]["startColumn"]),
        (&serde_json::json!(6), &serde_json::json!(13))
    );
    let duplicate = results.iter().find(|r| r["ruleId"] == "E0200").unwrap();
    assert_eq!(
        duplicate["relatedLocations"][0]["message"]["text"],
        "first declared here."
    );
    let rule = rules.iter().find(|r| r["id"] == "E0102").unwrap();
    assert!(
        rule["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("not declared in the package"),
        "{rule}"
    );
    assert!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("file:///")
    );
    // Only the log is on stdout; the summary stays on stderr.
    assert!(text(&out.stderr).contains("svcc: 4 errors"));
}

#[test]
fn colour_follows_the_flag() {
    let root = common::root();
    let always = svcc(
        &[
            "check",
            "--color",
            "always",
            "tests/ui/E0102_unresolved.svc",
        ],
        &root,
    );
    assert!(text(&always.stderr).contains("\u{1b}["));
    let never = svcc(
        &["check", "--color", "never", "tests/ui/E0102_unresolved.svc"],
        &root,
    );
    assert!(!text(&never.stderr).contains("\u{1b}["));
}

#[test]
fn warnings_pass_unless_denied_and_config_sets_levels() {
    let dir = temp_dir("lints");
    std::fs::write(dir.join("a.svc"), "package demo.v1;\n\ntype lower_name { x @1: string; }\n\nservice S { rpc f(a: lower_name); }\n").unwrap();
    let out = svcc(&["check", "a.svc"], &dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("naming_convention"));
    let out = svcc(&["check", "--deny-warnings", "a.svc"], &dir);
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(
        dir.join("svcc.toml"),
        "[lints]\nnaming_convention = \"allow\"\n",
    )
    .unwrap();
    let out = svcc(&["check", "--deny-warnings", "a.svc"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(
        dir.join("svcc.toml"),
        "[lints]\nnaming_convention = \"deny\"\n",
    )
    .unwrap();
    assert_eq!(svcc(&["check", "a.svc"], &dir).status.code(), Some(1));
    std::fs::write(
        dir.join("svcc.toml"),
        "[lints]\nnaming_conventions = \"deny\"\n",
    )
    .unwrap();
    let out = svcc(&["check", "a.svc"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `naming_convention`?"));
}

#[test]
fn include_roots_resolve_imports() {
    let dir = temp_dir("include");
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(
        dir.join("shared/money.svc"),
        "package shared.v1;\n\n/// Money.\ntype Money = decimal;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("app/a.svc"),
        "package app.v1;\n\nimport \"money.svc\";\n\nservice S { rpc pay(m: Money); }\n",
    )
    .unwrap();
    let out = svcc(&["check", "app/a.svc"], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("E0100"));
    let out = svcc(&["check", "-I", "shared", "app/a.svc"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(dir.join("app/svcc.toml"), "include = [\"../shared\"]\n").unwrap();
    let out = svcc(&["check", "app/a.svc"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn explain_prints_every_code_and_lint() {
    let root = common::root();
    for c in svcc_frontend::codes::CODES {
        let out = svcc(&["explain", c.code], &root);
        assert_eq!(out.status.code(), Some(0));
        let s = text(&out.stdout);
        assert!(s.starts_with(&format!("{}: {}", c.code, c.title)));
        if c.code != "E0999" {
            assert!(s.contains("Erroneous example:") && s.contains("Fixed:"));
        }
    }
    let out = svcc(&["explain", "implicit_tag"], &root);
    assert!(text(&out.stdout).contains("@allow(implicit_tag)"));
    let out = svcc(&["explain", "E0120"], &root);
    assert!(text(&out.stderr).contains("did you mean"));
}

#[test]
fn fmt_check_lists_files_and_fmt_rewrites_them() {
    let dir = temp_dir("fmt");
    let messy = "package demo.v1;\ntype A{x @1:string;// keep me\n}\n";
    std::fs::write(dir.join("a.svc"), messy).unwrap();
    std::fs::write(dir.join("b.svc"), "package demo.v1;\n\ntype B {}\n").unwrap();
    // `--check` shows what would change as a unified diff; `--check --list` names the files.
    let out = svcc(&["fmt", "--check", "."], &dir);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(
        diff.starts_with("--- ./a.svc\n+++ ./a.svc (formatted)\n@@ "),
        "{diff}"
    );
    assert!(
        diff.contains("\n-type A{x @1:string;// keep me\n"),
        "{diff}"
    );
    assert!(diff.contains("\n+  x @1: string; // keep me\n"), "{diff}");
    assert!(!diff.contains("b.svc"), "{diff}");
    let out = svcc(&["fmt", "--check", "--list", "."], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).trim(), "./a.svc");
    assert_eq!(
        std::fs::read_to_string(dir.join("a.svc")).unwrap(),
        messy,
        "--check must not write"
    );
    let out = svcc(&["fmt", "."], &dir);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("a.svc")).unwrap(),
        "package demo.v1;\n\ntype A {\n  x @1: string; // keep me\n}\n"
    );
    assert_eq!(svcc(&["fmt", "--check", "."], &dir).status.code(), Some(0));
    std::fs::write(dir.join("c.svc"), "package demo.v1;\ntype C {").unwrap();
    let out = svcc(&["fmt", "."], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("E0001"));
}

#[test]
fn no_input_ever_exits_101() {
    let dir = temp_dir("nopanic");
    std::fs::write(dir.join("x.svc"), [0xff, 0xfe, b'p', 0, b'\n']).unwrap();
    std::fs::write(
        dir.join("y.svc"),
        "package a;\ntype T = ".to_string() + &"list<".repeat(200_000),
    )
    .unwrap();
    let out = svcc(&["check", "."], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = svcc(&["fmt", "."], &dir);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn targets_come_from_the_registry_with_their_options() {
    let root = common::root();
    let out = svcc(&["build", "--target", "list"], &root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    for t in svcc_codegen::TARGETS {
        assert!(listing.contains(t.name()), "{listing}");
        for o in t.options() {
            assert!(
                listing.contains(&format!("{}.{}=", t.name(), o.name)),
                "{listing}"
            );
        }
    }
    let dir = temp_dir("targets");
    let out_dir = dir.join("out");
    let out_arg = out_dir.to_str().unwrap();
    let idl = "examples/messenger/idl";
    // Unknown targets, options and values are usage errors with a suggestion.
    for (args, expect) in [
        (vec!["--target", "opnapi"], "did you mean `openapi`?"),
        (
            vec!["--target", "openapi", "--opt", "openapi.versoin=3.1"],
            "did you mean `version`?",
        ),
        (
            vec!["--target", "openapi", "--opt", "openapi.version=2"],
            "expected 3.0|3.1",
        ),
        (vec!["--opt", "openapi"], "TARGET.OPTION=VALUE"),
    ] {
        let mut all = vec!["build", idl, "--out", out_arg];
        all.extend(args);
        let out = svcc(&all, &root);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert!(text(&out.stderr).contains(expect), "{}", text(&out.stderr));
    }
    // `--opt` sets the same option `svcc.toml` does.
    let out = svcc(
        &[
            "build",
            idl,
            "--out",
            out_arg,
            "--target",
            "openapi",
            "--opt",
            "openapi.version=3.1",
        ],
        &root,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc = std::fs::read_to_string(out_dir.join("messenger.user.v1.openapi.json")).unwrap();
    assert!(doc.contains("\"openapi\": \"3.1.0\""), "{}", &doc[..200]);
    // `[target.openapi]` in svcc.toml: YAML, and a typo is an invalid configuration.
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("a.svc"),
        "package a.v1;\n\n/// A.\ntype A { x @1: string; }\n",
    )
    .unwrap();
    std::fs::write(project.join("svcc.toml"), "[target.openapi]\nyaml = true\n").unwrap();
    let out = svcc(
        &["build", ".", "--out", "out", "--target", "openapi"],
        &project,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(project.join("out/a.v1.openapi.yaml").is_file());
    std::fs::write(project.join("svcc.toml"), "[target.openapi]\nyml = true\n").unwrap();
    let out = svcc(
        &["build", ".", "--out", "out", "--target", "openapi"],
        &project,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid `svcc.toml`: [target.openapi]: unknown option `yml`"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_without_contracts_is_an_error_not_a_pass() {
    let dir = temp_dir("empty");
    std::fs::write(dir.join("README.md"), "no contracts here\n").unwrap();
    for args in [
        vec!["check", "."],
        vec!["fmt", "--check", "."],
        vec!["build", ".", "--out", "gen"],
    ] {
        let out = svcc(&args, &dir);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains("no `.svc` files in `.`"), "{args:?}: {err}");
        assert!(err.contains("name the folder or files"), "{err}");
    }
    assert!(!dir.join("gen").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_merged_openapi_document_is_titled_for_all_its_packages() {
    let root = common::root();
    let dir = temp_dir("merged");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let out_a = dir.join("a.json");
    let out = svcc(
        &[
            "build",
            "examples/messenger/idl",
            "--target",
            "openapi",
            "--out",
            out_a.to_str().unwrap(),
        ],
        &root,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc = read("a.json");
    // Not the first package's title: the name the packages share, and each one's version.
    assert_eq!(doc["info"]["title"], "messenger API");
    assert_eq!(
        doc["info"]["version"],
        "messenger.auth.v1 1.1.0, messenger.chat.v1 2.0.0, messenger.user.v1 1.3.0"
    );
    let out_b = dir.join("b.json");
    let out = svcc(
        &[
            "build",
            "examples/messenger/idl",
            "--target",
            "openapi",
            "--out",
            out_b.to_str().unwrap(),
            "--opt",
            "openapi.title=Messenger API",
            "--opt",
            "openapi.api_version=2026.12",
        ],
        &root,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc = read("b.json");
    assert_eq!(doc["info"]["title"], "Messenger API");
    assert_eq!(doc["info"]["version"], "2026.12");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_names_every_command() {
    let out = svcc(&["--help"], &common::root());
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for word in ["check", "fmt", "build", "watch", "explain"] {
        assert!(help.contains(&format!("\n  {word} ")), "{help}");
    }
    let about = help.lines().next().unwrap();
    for word in ["check", "format", "build", "watch", "explain"] {
        assert!(about.contains(word), "{about}");
    }
}
