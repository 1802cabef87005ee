//! `svcc breaking --against OLD [NEW]`: the breaking changes from OLD to NEW, each with the
//! wires it breaks. OLD is a folder or file, or a git revision of the repository holding NEW
//! (`--against main`, `--against HEAD~1`): that revision's tree is read with `git archive`
//! into a temporary folder and the same path inside it is compared.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use svcc_frontend::breaking::{self, Finding, Side};
use svcc_frontend::render;
use svcc_frontend::source::{SourceMap, Span};
use svcc_frontend::{Compilation, Severity};

/// What the command was asked.
pub struct Request {
    pub against: String,
    pub new: PathBuf,
    pub include: Vec<PathBuf>,
    pub format: Format,
    pub color: bool,
    pub settings: breaking::Settings,
    pub lints: svcc_frontend::lint::LintConfig,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

/// A temporary folder removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Exit codes as `check`: 1 when an unaccepted finding of severity error remains (or NEW has
/// errors), 2 for usage errors, unreadable inputs and an OLD that does not compile.
pub fn run(req: &Request) -> ExitCode {
    let (old_path, label, _scratch) = match old_inputs(&req.against, &req.new) {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let compile = |path: &Path| -> Result<Compilation, String> {
        let files = svcc_frontend::collect_inputs(&[path.to_path_buf()])?;
        if files.is_empty() {
            return Err(svcc_frontend::no_inputs_error(&[path.to_path_buf()]));
        }
        Ok(svcc_frontend::compile(
            &files,
            &svcc_frontend::Options {
                include: req.include.clone(),
                lints: req.lints.clone(),
            },
        ))
    };
    let new = match compile(&req.new) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let old = match compile(&old_path) {
        Ok(c) => c,
        Err(e) => return fail(&format!("{label}: {e}")),
    };
    if new.has_errors() {
        for d in new.diagnostics.iter().filter(|d| d.is_error()) {
            eprint!("{}", render::human(d, &new.sources, req.color));
        }
        eprintln!("svcc breaking: the new contract has errors; fix them first");
        return ExitCode::from(1);
    }
    if old.has_errors() {
        return fail(&format!(
            "the contract at {label} does not compile ({} errors); compare against a revision that does",
            old.error_count()
        ));
    }
    let findings = breaking::compare(&old, &new, &req.settings);
    // One source map for both versions: the new files, then the old ones (named after OLD).
    let mut sources = SourceMap::new();
    for (_, f) in new.sources.files() {
        sources.add(f.path.clone(), f.text.clone());
    }
    let offset = u32::try_from(new.sources.len()).unwrap_or(u32::MAX);
    for (_, f) in old.sources.files() {
        // A file of a git revision is shown as `REV:path` (the path NEW was given with).
        let shown = match (&_scratch, f.path.strip_prefix(&old_path)) {
            (Some(_), Ok(rel)) => {
                PathBuf::from(format!("{label}:{}", old_path_shown(&req.new, rel)))
            }
            _ => f.path.clone(),
        };
        sources.add(shown, f.text.clone());
    }
    let span_of = |f: &Finding| -> Span {
        match f.side {
            Side::New => f.span,
            Side::Old => Span {
                file: svcc_frontend::source::FileId(f.span.file.0 + offset),
                ..f.span
            },
        }
    };
    let shown: Vec<&Finding> = findings.iter().filter(|f| f.accepted.is_none()).collect();
    let errors = shown
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let mut out = std::io::stdout().lock();
    match req.format {
        Format::Human => {
            for f in &shown {
                eprint!(
                    "{}",
                    render::human(&f.diagnostic(span_of(f)), &sources, req.color)
                );
            }
        }
        Format::Github => {
            for f in &shown {
                // Annotations show no labels: the wires go into the message.
                let mut d = f.diagnostic(span_of(f));
                if let Some(label) = d.primary_label.take() {
                    d.message = format!("{} ({label})", d.message);
                }
                let _ = writeln!(out, "{}", render::github(&d, &sources));
            }
        }
        Format::Json => {
            for f in &findings {
                let loc = render::Location::of(span_of(f), &sources);
                let line = serde_json::json!({
                    "rule": f.rule.name,
                    "severity": f.severity,
                    "wires": f.wires.iter().map(|w| w.name()).collect::<Vec<_>>(),
                    "categories": f.rule.categories.iter().map(|c| c.name()).collect::<Vec<_>>(),
                    "message": f.message,
                    "file": loc.file,
                    "line": loc.line,
                    "column": loc.column,
                    "end_line": loc.end_line,
                    "end_column": loc.end_column,
                    "accepted": f.accepted,
                });
                let _ = writeln!(out, "{line}");
            }
        }
        Format::Sarif => {
            let diagnostics: Vec<_> = findings.iter().map(|f| f.diagnostic(span_of(f))).collect();
            let describe = |code: &str| {
                breaking::lookup(code).map(|r| render::RuleText {
                    short: r.summary.to_string(),
                    full: r.explanation.to_string(),
                })
            };
            let properties = |i: usize| {
                let f = &findings[i];
                let mut p = serde_json::json!({
                    "wires": f.wires.iter().map(|w| w.name()).collect::<Vec<_>>(),
                    "categories": f.rule.categories.iter().map(|c| c.name()).collect::<Vec<_>>(),
                });
                if let Some(reason) = &f.accepted {
                    p["acceptedReason"] = serde_json::json!(reason);
                }
                Some(p)
            };
            let suppressed = |i: usize| findings[i].accepted.clone();
            let log =
                render::sarif_with(&diagnostics, &sources, &describe, &properties, &suppressed);
            let _ = writeln!(out, "{log}");
        }
    }
    let accepted = findings.len() - shown.len();
    eprintln!(
        "svcc breaking: {} against {label}{}",
        match shown.len() {
            0 => "no breaking changes".to_string(),
            1 => format!("1 breaking change ({})", counts(errors, 1)),
            n => format!("{n} breaking changes ({})", counts(errors, n)),
        },
        if accepted > 0 {
            format!("; {accepted} accepted with @breaking")
        } else {
            String::new()
        }
    );
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn counts(errors: usize, total: usize) -> String {
    let warnings = total - errors;
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// How a file of the old tree is named: the path NEW was given with, then the rest.
fn old_path_shown(new: &Path, rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        new.display().to_string()
    } else {
        new.join(rel).display().to_string()
    }
}

/// The old contract's path, its label in messages, and the scratch folder to delete.
fn old_inputs(against: &str, new: &Path) -> Result<(PathBuf, String, Option<Scratch>), String> {
    let as_path = Path::new(against);
    if as_path.exists() {
        return Ok((as_path.to_path_buf(), against.to_string(), None));
    }
    // A git revision of the repository that holds NEW.
    let dir = if new.is_dir() {
        new.to_path_buf()
    } else {
        new.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let git = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("`{against}` is not a path, and git cannot run: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    };
    let top = git(&["rev-parse", "--show-toplevel"]).map_err(|_| {
        format!(
            "`{against}` is neither a path nor a git revision (`{}` is not inside a git repository)",
            new.display()
        )
    })?;
    git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{against}^{{commit}}"),
    ])
    .map_err(|_| format!("`{against}` is neither a path nor a git revision of this repository"))?;
    let abs_new = std::path::absolute(new).map_err(|e| e.to_string())?;
    let abs_new = abs_new.canonicalize().unwrap_or(abs_new);
    let top = PathBuf::from(top);
    let top = top.canonicalize().unwrap_or(top);
    let rel = abs_new
        .strip_prefix(&top)
        .map_err(|_| {
            format!(
                "`{}` is outside the repository at `{}`",
                new.display(),
                top.display()
            )
        })?
        .to_path_buf();
    let scratch = Scratch(std::env::temp_dir().join(format!(
        "svcc-breaking-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )));
    std::fs::create_dir_all(&scratch.0).map_err(|e| e.to_string())?;
    // `git archive REV -- PATH | tar -x`: only the compared folder (tar is on every machine
    // git is; both ends read and write through pipes, no shell).
    let mut archive = Command::new("git")
        .args(["archive", "--format=tar", against])
        .current_dir(&top)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git archive: {e}"))?;
    let stdout = archive
        .stdout
        .take()
        .ok_or_else(|| "git archive wrote nothing".to_string())?;
    let tar = Command::new("tar")
        .args(["-x", "-f", "-", "-C"])
        .arg(&scratch.0)
        .stdin(stdout)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let status = archive.wait().map_err(|e| e.to_string())?;
    if !status.success() || !tar.status.success() {
        return Err(format!(
            "cannot read the tree of `{against}`: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        ));
    }
    let old = scratch.0.join(&rel);
    if !old.exists() {
        return Err(format!("`{}` does not exist at `{against}`", rel.display()));
    }
    Ok((old, against.to_string(), Some(scratch)))
}
