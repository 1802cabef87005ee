//! `svcc watch` as a real process: write, break, fix, add, delete and rename files in a temp
//! directory (and an imported file outside it) and assert on what it prints and writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

struct Watcher {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watcher {
    fn start(dir: &Path, args: &[&str]) -> Watcher {
        let mut child = Command::new(env!("CARGO_BIN_EXE_svcc"))
            .arg("watch")
            .args(args)
            .args(["--debounce", "30", "--color", "never"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watcher {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The next result line, with the diagnostics printed before it.
    fn next_result(&mut self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut text = String::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(i) = line.find("svcc watch:") {
                        return (line[i..].to_string(), text);
                    }
                    text.push_str(&line);
                    text.push('\n');
                }
                Err(_) => break,
            }
        }
        panic!(
            "no result line within 20 s; output so far:\n{}",
            self.seen.join("\n")
        );
    }

    /// No further result line for a while (no runs without a change).
    fn quiet(&mut self, ms: u64) -> bool {
        match self.lines.recv_timeout(Duration::from_millis(ms)) {
            Ok(line) if line.contains("svcc watch:") => false,
            Ok(_) => self.quiet(ms),
            Err(_) => true,
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("svcc-watch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("idl")).unwrap();
    std::fs::create_dir_all(d.join("shared")).unwrap();
    d
}

/// Writes a file and lets the file system settle (mtime granularity).
fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

const GOOD: &str =
    "package a.v1;\n\n/// A.\ntype A { x @1: string; }\n\n/// S.\nservice S { rpc f(a: A); }\n";

#[test]
fn watch_reports_each_change_and_picks_up_files_and_imports() {
    let dir = temp("cycle");
    write(&dir.join("idl/a.svc"), GOOD);
    let mut w = Watcher::start(&dir, &["idl"]);
    let (line, _) = w.next_result();
    assert!(
        line.starts_with("svcc watch: ok — 1 file checked (1 parsed, 1 package re-checked)"),
        "{line}"
    );

    // Break it: the diagnostic, then an error result; it keeps running.
    write(
        &dir.join("idl/a.svc"),
        "package a.v1;\n\ntype A { x @1: string }\n",
    );
    let (line, text) = w.next_result();
    assert!(line.starts_with("svcc watch: 1 error"), "{line}");
    assert!(
        text.contains("E0001") && text.contains("expected `;`"),
        "{text}"
    );

    // Fix it.
    write(&dir.join("idl/a.svc"), GOOD);
    let (line, _) = w.next_result();
    assert!(line.starts_with("svcc watch: ok"), "{line}");

    // A new file importing a file outside the watched folder.
    write(
        &dir.join("shared/b.svc"),
        "package a.v1;\n\n/// B.\ntype B { z @1: int32; }\n",
    );
    write(
        &dir.join("idl/c.svc"),
        "package a.v1;\n\nimport \"../shared/b.svc\";\n\n/// C.\ntype C { b @1: B; }\n\n/// T.\nservice T { rpc g(c: C); }\n",
    );
    let (line, _) = w.next_result();
    let line = if line.contains("3 files") {
        line
    } else {
        w.next_result().0
    };
    assert!(
        line.starts_with("svcc watch: ok — 3 files checked"),
        "{line}"
    );

    // Breaking the imported file, outside the watched folder, is noticed too.
    write(
        &dir.join("shared/b.svc"),
        "package a.v1;\n\ntype B { z @1: int32 }\n",
    );
    let (line, text) = w.next_result();
    assert!(line.contains("error"), "{line}");
    assert!(text.contains("b.svc"), "{text}");
    write(
        &dir.join("shared/b.svc"),
        "package a.v1;\n\n/// B.\ntype B { z @1: int32; }\n",
    );
    assert!(w.next_result().0.starts_with("svcc watch: ok"));

    // Delete the importing file: back to one file.
    std::fs::remove_file(dir.join("idl/c.svc")).unwrap();
    let (line, _) = w.next_result();
    assert!(
        line.starts_with("svcc watch: ok — 1 file checked"),
        "{line}"
    );

    // Rename: the new name is picked up.
    std::fs::rename(dir.join("idl/a.svc"), dir.join("idl/renamed.svc")).unwrap();
    let (line, _) = w.next_result();
    assert!(line.contains("1 file checked"), "{line}");
    assert!(w.quiet(400), "no runs without changes");
}

#[test]
fn only_changed_files_are_parsed_and_unchanged_outputs_are_not_rewritten() {
    let dir = temp("build");
    write(&dir.join("idl/a.svc"), GOOD);
    write(
        &dir.join("idl/b.svc"),
        "package b.v1;\n\n/// B.\ntype B { z @1: int32; }\n\n/// U.\nservice U { rpc g(b: B); }\n",
    );
    // The output folder lies inside the watched folder: its writes must not trigger runs.
    let mut w = Watcher::start(&dir, &["idl", "--out", "idl/gen"]);
    let (line, _) = w.next_result();
    assert!(
        line.contains("2 files checked (2 parsed, 2 packages re-checked)")
            && line.contains("wrote 4 of 4 files"),
        "{line}"
    );
    assert!(
        w.quiet(500),
        "writing the output must not trigger another run"
    );
    let gen_b = dir.join("idl/gen/b.v1.rs");
    let before = std::fs::metadata(&gen_b).unwrap().modified().unwrap();
    // Change a.svc's docs: only a.svc is parsed again; b's output is untouched.
    write(
        &dir.join("idl/a.svc"),
        &GOOD.replace("/// A.", "/// A, documented."),
    );
    let (line, _) = w.next_result();
    // Package b neither changed nor imports a: its check results are reused.
    assert!(line.contains("(1 parsed, 1 package re-checked)"), "{line}");
    assert!(
        line.contains("wrote 2 of 4 files"),
        "a.v1.rs and openapi.json (the served document) change: {line}"
    );
    assert_eq!(
        std::fs::metadata(&gen_b).unwrap().modified().unwrap(),
        before
    );
    assert!(
        std::fs::read_to_string(dir.join("idl/gen/a.v1.rs"))
            .unwrap()
            .contains("A, documented.")
    );
    // Saving identical bytes: nothing parsed, nothing written.
    write(
        &dir.join("idl/a.svc"),
        &GOOD.replace("/// A.", "/// A, documented."),
    );
    let (line, _) = w.next_result();
    assert!(
        line.contains("(0 parsed, 0 packages re-checked)") && line.contains("wrote 0 of 4 files"),
        "{line}"
    );
    // Errors: nothing is written.
    write(
        &dir.join("idl/a.svc"),
        "package a.v1;\n\ntype A { x @1: Missing; }\n",
    );
    let (line, _) = w.next_result();
    assert!(line.contains("error") && !line.contains("wrote"), "{line}");
    assert!(
        std::fs::read_to_string(dir.join("idl/gen/a.v1.rs"))
            .unwrap()
            .contains("A, documented.")
    );
}

#[test]
fn clear_clears_the_screen_only_when_asked() {
    let dir = temp("clear");
    write(&dir.join("idl/a.svc"), GOOD);
    let mut w = Watcher::start(&dir, &["idl", "--clear"]);
    w.next_result();
    assert!(w.seen.iter().any(|l| l.contains("\u{1b}[2J")));
    let dir2 = temp("noclear");
    write(&dir2.join("idl/a.svc"), GOOD);
    let mut w2 = Watcher::start(&dir2, &["idl"]);
    w2.next_result();
    assert!(!w2.seen.iter().any(|l| l.contains("\u{1b}[2J")));
}

#[test]
fn watch_sets_target_options_like_build() {
    let dir = temp("options");
    write(&dir.join("idl/a.svc"), GOOD);
    // `[target.openapi]` in svcc.toml and `--opt` on the command line, as `svcc build` takes them.
    write(
        &dir.join("svcc.toml"),
        "[target.openapi]\nversion = \"3.1\"\n",
    );
    let mut w = Watcher::start(
        &dir,
        &[
            "idl",
            "--out",
            "gen",
            "--target",
            "openapi",
            "--opt",
            "openapi.yaml=true",
        ],
    );
    let (line, _) = w.next_result();
    assert!(line.contains("wrote 1 of 1 files"), "{line}");
    let doc = std::fs::read_to_string(dir.join("gen/a.v1.openapi.yaml")).unwrap();
    assert!(doc.contains("openapi: \"3.1.0\""), "{doc}");
}
