//! `svcc init`: what it writes and what it refuses. Building the crate and running its test
//! is `scripts/check-init` (a full cargo build of a new crate, outside the workspace).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../frontend/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn svcc(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svcc"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("svcc-init-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn writes_a_crate_with_path_dependencies_on_a_checkout() {
    let dir = temp_dir("path");
    let root = common::root();
    let out = svcc(
        &["init", "order-desk", "--svcc-path", root.to_str().unwrap()],
        &dir,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let krate = dir.join("order-desk");
    for f in [
        "Cargo.toml",
        "build.rs",
        "src/lib.rs",
        "src/main.rs",
        "tests/order_desk.rs",
        "idl/order_desk.svc",
        "README.md",
        ".gitignore",
        ".github/workflows/ci.yml",
        ".vscode/extensions.json",
    ] {
        assert!(krate.join(f).is_file(), "{f} missing");
    }
    let manifest = read(krate.join("Cargo.toml"));
    assert!(manifest.contains("name = \"order-desk\""));
    assert!(manifest.contains(&format!(
        "svcc-runtime = {{ path = \"{}\" }}",
        root.join("runtime").display()
    )));
    assert!(manifest.contains("svcc-build = { path = "));
    let contract = read(krate.join("idl/order_desk.svc"));
    assert!(contract.contains("package order_desk.v1;"));
    assert!(contract.contains("service OrderDeskService {"));
    let lib = read(krate.join("src/lib.rs"));
    assert!(lib.contains("impl OrderDeskService for Items"));
    assert!(lib.contains("use api::order_desk::v1::"));
    let test = read(krate.join("tests/order_desk.rs"));
    assert!(test.contains("OrderDeskServiceJsonRpcClient"));
    let ci = read(krate.join(".github/workflows/ci.yml"));
    assert!(ci.contains("svcc check --format github --deny-warnings idl"));
    assert!(
        ci.contains("${{ github.base_ref }}"),
        "GitHub's expressions are kept"
    );
    let readme = read(krate.join("README.md"));
    assert!(readme.contains("\"method\": \"orderDeskService.get\""));
    // The contract checks clean, warnings denied.
    let check = svcc(&["check", "--deny-warnings", "idl"], &krate);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn versions_without_a_checkout_and_a_chosen_package() {
    let dir = temp_dir("version");
    let out = svcc(&["init", "billing", "--package", "acme.billing.v2"], &dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--svcc-path"));
    let krate = dir.join("billing");
    let manifest = read(krate.join("Cargo.toml"));
    let version = env!("CARGO_PKG_VERSION");
    assert!(manifest.contains(&format!("svcc-runtime = \"{version}\"")));
    assert!(manifest.contains(&format!("svcc-build = \"{version}\"")));
    assert!(read(krate.join("idl/billing.svc")).contains("package acme.billing.v2;"));
    assert!(read(krate.join("src/lib.rs")).contains("use api::acme::billing::v2::"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_bad_names_packages_and_folders_and_writes_nothing() {
    let dir = temp_dir("refuse");
    for (args, says) in [
        (vec!["init", "Bad Name"], "is not a crate name"),
        (vec!["init", "9lives"], "is not a crate name"),
        (
            vec!["init", "ok", "--package", "Not.A.Package"],
            "would not be clean",
        ),
        (
            vec!["init", "ok", "--svcc-path", "/nonexistent"],
            "is not a checkout of svcc",
        ),
    ] {
        let out = svcc(&args, &dir);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );
    // An existing, non-empty folder is left alone.
    std::fs::create_dir_all(dir.join("taken")).unwrap();
    std::fs::write(dir.join("taken/keep.txt"), "mine").unwrap();
    let out = svcc(&["init", "taken"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_dir(dir.join("taken")).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
