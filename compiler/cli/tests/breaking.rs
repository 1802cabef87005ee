//! `svcc breaking`: one paired tree per rule under `tests/breaking/RULE/{previous,current}`,
//! each with the exact findings and wires it must report (`expected`), plus git revisions,
//! formats, suppression and `svcc.toml` levels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../frontend/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn svcc(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pairs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/breaking"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// `rule: wire,wire` per finding, as `expected` writes them.
fn findings(stdout: &[u8]) -> Vec<String> {
    text(stdout)
        .lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            let wires: Vec<&str> = j["wires"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap())
                .collect();
            let mut line = format!("{}: {}", j["rule"].as_str().unwrap(), wires.join(","));
            if let Some(reason) = j["accepted"].as_str() {
                line.push_str(&format!(" (accepted: {reason})"));
            }
            line
        })
        .collect()
}

#[test]
fn every_pair_reports_exactly_its_findings_and_wires() {
    let mut failures = Vec::new();
    for dir in pairs() {
        let out = svcc(
            &[
                "breaking",
                "--against",
                "previous",
                "current",
                "--format",
                "json",
            ],
            &dir,
        );
        let got = findings(&out.stdout);
        let want: Vec<String> = std::fs::read_to_string(dir.join("expected"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let errors = text(&out.stdout)
            .lines()
            .filter(|l| l.contains("\"severity\":\"error\"") && l.contains("\"accepted\":null"))
            .count();
        let code = if errors > 0 { 1 } else { 0 };
        if got != want || out.status.code() != Some(code) {
            failures.push(format!(
                "{}: got {got:?} (exit {:?}), expected {want:?} (exit {code})\n{}",
                dir.display(),
                out.status.code(),
                text(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_its_pair_and_an_explanation() {
    let dirs: Vec<String> = pairs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for rule in svcc_frontend::breaking::RULES {
        assert!(
            dirs.iter().any(|d| d == rule.name),
            "no tests/breaking/{} pair",
            rule.name
        );
        let expected =
            std::fs::read_to_string(common::root().join("tests/breaking").join(rule.name)).ok();
        assert!(expected.is_none(), "a folder, not a file");
        let out = svcc(&["explain", rule.name], &common::root());
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).starts_with(&format!("{}: {}", rule.name, rule.summary)));
        assert!(text(&out.stdout).contains(&format!("@breaking({}", rule.name)));
    }
    assert_eq!(
        svcc_frontend::breaking::RULE_NAMES.len(),
        svcc_frontend::breaking::RULES.len()
    );
}

#[test]
fn the_old_version_can_be_a_git_revision() {
    let dir = std::env::temp_dir().join(format!("svcc-breaking-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("idl")).unwrap();
    let base = common::root().join("tests/breaking/base.svc");
    std::fs::copy(&base, dir.join("idl/shop.svc")).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    // The working tree renames a field and removes a method.
    let renamed = common::root().join("tests/breaking/field_renamed/current/shop.svc");
    std::fs::copy(&renamed, dir.join("idl/shop.svc")).unwrap();
    let out = svcc(
        &["breaking", "--against", "HEAD", "idl", "--format", "json"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        findings(&out.stdout),
        [
            "field_renamed: rest,jsonrpc,kafka,rust,typescript",
            "field_renamed: rust"
        ]
    );
    let line: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(line["file"], "idl/shop.svc");
    assert!(text(&out.stderr).contains("against HEAD"));
    // From a sub-folder, the same path at the revision is compared.
    let out = svcc(
        &["breaking", "--against", "main", "--format", "json"],
        &dir.join("idl"),
    );
    assert_eq!(findings(&out.stdout).len(), 2, "{}", text(&out.stderr));
    // A removed package points into the old revision, named `REV:path`.
    std::fs::write(
        dir.join("idl/shop.svc"),
        "package other.v1;\n\n/// A.\ntype A {\n  a @1: string;\n}\n",
    )
    .unwrap();
    let out = svcc(
        &["breaking", "--against", "HEAD", "idl", "--format", "json"],
        &dir,
    );
    let line: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(line["rule"], "package_removed");
    assert_eq!(line["file"], "HEAD:idl/shop.svc");
    // Neither a path nor a revision: a usage error that says so.
    let out = svcc(&["breaking", "--against", "no-such-rev", "idl"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("neither a path nor a git revision"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn human_github_and_sarif_formats() {
    let dir = common::root().join("tests/breaking/field_renamed");
    let out = svcc(&["breaking", "--against", "previous", "current"], &dir);
    let err = text(&out.stderr);
    assert!(err.contains("error[field_renamed]: field `display_name` of `Profile` was renamed to `name` (tag @2 kept)"), "{err}");
    assert!(
        err.contains("breaks rest, jsonrpc, kafka, rust, typescript"),
        "{err}"
    );
    assert!(
        err.contains("svcc breaking: 2 breaking changes (2 errors, 0 warnings) against previous"),
        "{err}"
    );
    let out = svcc(
        &[
            "breaking",
            "--against",
            "previous",
            "current",
            "--format",
            "github",
        ],
        &dir,
    );
    assert!(
        text(&out.stdout).starts_with("::error file=current/shop.svc,line=24,col=3,endLine=24,endColumn=7,title=svcc field_renamed::field `display_name` of `Profile` was renamed to `name` (tag @2 kept) (breaks rest, jsonrpc, kafka, rust, typescript)"),
        "{}",
        text(&out.stdout)
    );
    let out = svcc(
        &[
            "breaking",
            "--against",
            "previous",
            "current",
            "--format",
            "sarif",
        ],
        &common::root().join("tests/breaking/accepted"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "accepted: nothing left to fail on"
    );
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "field_renamed");
    assert_eq!(
        result["properties"]["wires"],
        serde_json::json!(["rest", "jsonrpc", "kafka", "rust", "typescript"])
    );
    assert_eq!(result["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        result["suppressions"][0]["justification"],
        "no client reads it yet"
    );
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["id"], "field_renamed");
    assert!(
        rule["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("Protobuf")
    );
}

#[test]
fn svcc_toml_sets_levels_and_wires() {
    let dir = std::env::temp_dir().join(format!("svcc-breaking-toml-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pair = common::root().join("tests/breaking/enum_value_added");
    for side in ["previous", "current"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
        std::fs::copy(
            pair.join(side).join("shop.svc"),
            dir.join(side).join("shop.svc"),
        )
        .unwrap();
    }
    let args = [
        "breaking",
        "--against",
        "previous",
        "current",
        "--format",
        "json",
    ];
    // A warning by default: exit 0.
    let out = svcc(&args, &dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("\"severity\":\"warning\""));
    // Denied: an error, exit 1.
    std::fs::write(
        dir.join("svcc.toml"),
        "[breaking.rules]\nenum_value_added = \"deny\"\n",
    )
    .unwrap();
    let out = svcc(&args, &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("\"severity\":\"error\""));
    // Only gRPC is reported: the finding keeps that wire alone.
    std::fs::write(
        dir.join("svcc.toml"),
        "[breaking]\nwires = [\"grpc\"]\n\n[breaking.rules]\nenum_value_added = \"deny\"\n",
    )
    .unwrap();
    let out = svcc(&args, &dir);
    assert_eq!(findings(&out.stdout), ["enum_value_added: grpc"]);
    // Allowed: nothing.
    std::fs::write(
        dir.join("svcc.toml"),
        "[breaking.rules]\nenum_value_added = \"allow\"\n",
    )
    .unwrap();
    let out = svcc(&args, &dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    // Unknown names are refused with a suggestion.
    std::fs::write(
        dir.join("svcc.toml"),
        "[breaking.rules]\nenum_value_add = \"allow\"\n",
    )
    .unwrap();
    let out = svcc(&args, &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `enum_value_added`?"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(dir.join("svcc.toml"), "[breaking]\nwires = [\"soap\"]\n").unwrap();
    assert_eq!(svcc(&args, &dir).status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_rule_in_breaking_is_a_contract_error() {
    let dir = std::env::temp_dir().join(format!("svcc-breaking-ann-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.svc"),
        "package a.v1;\n\n/// A.\n@breaking(field_renamd, reason = \"x\")\ntype A {\n  a @1: string;\n}\n",
    )
    .unwrap();
    let out = svcc(&["check", "a.svc"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("field_renamed"),
        "{}",
        text(&out.stderr)
    );
    // The reason is required.
    std::fs::write(
        dir.join("a.svc"),
        "package a.v1;\n\n/// A.\n@breaking(field_renamed)\ntype A {\n  a @1: string;\n}\n",
    )
    .unwrap();
    assert_eq!(svcc(&["check", "a.svc"], &dir).status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}
