//! `svcc watch`: re-check (and rebuild) on every change.
//!
//! File events are debounced (notify + notify-debouncer-full); each run re-collects the inputs
//! (new, deleted and renamed files are picked up), re-parses only files whose bytes changed
//! (`ParseCache`), resolves the whole set, re-checks only the packages an edit can affect
//! (those with changed files and their importers, [`svcc_frontend::Incremental`]), prints the diagnostics and one
//! result line, and when clean writes the chosen targets (files whose bytes are unchanged are
//! not rewritten). Folders of imported files are watched too, also outside the watched paths;
//! events under the output folder are ignored, so the watcher never rebuilds on its own output.

use notify::RecursiveMode;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use svcc_build::Builder;
use svcc_frontend::render;
use svcc_frontend::resolve::load::DiskFs;

/// What to watch and what to do on a change.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub paths: Vec<PathBuf>,
    pub include: Vec<PathBuf>,
    /// Where to write targets; `None`: only check.
    pub out: Option<PathBuf>,
    /// The targets and their options (the output directory is `out`).
    pub builder: Builder,
    /// Clear the screen before each run.
    pub clear: bool,
    pub debounce: Duration,
    pub color: bool,
    pub lints: svcc_frontend::lint::LintConfig,
}

/// The outcome of one run, for the result line (and tests).
#[derive(Debug)]
pub struct RunResult {
    pub errors: usize,
    pub warnings: usize,
    pub files: usize,
    pub parsed: usize,
    /// Packages re-checked (the others kept their diagnostics).
    pub checked: usize,
    pub written: Option<(usize, usize)>,
    pub elapsed: Duration,
    /// Folders holding every file read (to watch).
    pub folders: BTreeSet<PathBuf>,
}

impl RunResult {
    pub fn line(&self) -> String {
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        let status = if self.errors == 0 && self.warnings == 0 {
            "ok".to_string()
        } else {
            format!(
                "{} error{}, {} warning{}",
                self.errors,
                if self.errors == 1 { "" } else { "s" },
                self.warnings,
                if self.warnings == 1 { "" } else { "s" }
            )
        };
        let mut line = format!(
            "svcc watch: {status} — {} file{} checked ({} parsed, {} package{} re-checked) in {ms:.1} ms",
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.parsed,
            self.checked,
            if self.checked == 1 { "" } else { "s" }
        );
        if let Some((written, total)) = self.written {
            line.push_str(&format!("; wrote {written} of {total} files"));
        }
        line
    }
}

/// One check (and build) of the current inputs, printing to `out`.
pub fn run_once(
    options: &WatchOptions,
    cache: &mut svcc_frontend::Incremental,
    out: &mut dyn Write,
) -> RunResult {
    let started = Instant::now();
    let mut result = RunResult {
        errors: 0,
        warnings: 0,
        files: 0,
        parsed: 0,
        checked: 0,
        written: None,
        elapsed: Duration::ZERO,
        folders: BTreeSet::new(),
    };
    let inputs = match svcc_frontend::collect_inputs(&options.paths) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            result.errors = 1;
            result.elapsed = started.elapsed();
            return result;
        }
    };
    let compile_options = svcc_frontend::Options {
        include: options.include.clone(),
        lints: options.lints.clone(),
    };
    let comp = svcc_frontend::compile_incremental(&DiskFs, &inputs, &compile_options, cache);
    for d in &comp.diagnostics {
        let _ = write!(out, "{}", render::human(d, &comp.sources, options.color));
    }
    result.errors = comp.error_count();
    result.warnings = comp.warning_count();
    result.files = comp.sources.len();
    result.parsed = cache.parse.parsed;
    result.checked = cache.checked_packages;
    for (_, f) in comp.sources.files() {
        if let Some(dir) = f.path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            result.folders.insert(dir.to_path_buf());
        }
    }
    if let (Some(out_dir), false) = (&options.out, comp.has_errors()) {
        match options.builder.emit_from(&comp, &options.paths, out_dir) {
            Ok(b) => result.written = Some((b.written.len(), b.files.len())),
            Err(e) => {
                let _ = writeln!(out, "{e}");
                result.errors += 1;
            }
        }
    }
    result.elapsed = started.elapsed();
    result
}

/// Watches until the process is stopped. Returns an error message if watching cannot start.
pub fn watch(options: &WatchOptions) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let mut debouncer = notify_debouncer_full::new_debouncer(options.debounce, None, tx)
        .map_err(|e| format!("cannot watch files: {e}"))?;
    let mut watched: BTreeSet<PathBuf> = BTreeSet::new();
    let out_dir = options
        .out
        .as_ref()
        .map(|o| std::path::absolute(o).unwrap_or_else(|_| o.clone()));
    let mut cache = svcc_frontend::Incremental::default();
    let stdout = std::io::stdout();
    let mut run = |watched: &mut BTreeSet<PathBuf>,
                   debouncer: &mut notify_debouncer_full::Debouncer<_, _>| {
        let mut lock = stdout.lock();
        if options.clear {
            let _ = write!(lock, "\x1b[2J\x1b[H");
        }
        let r = run_once(options, &mut cache, &mut lock);
        // Watch the given paths (recursively) and the folder of every file read — before the
        // result line, so whoever reads it knows every change from then on is seen.
        let mut want: Vec<(PathBuf, RecursiveMode)> = options
            .paths
            .iter()
            .map(|p| {
                if p.is_dir() {
                    (p.clone(), RecursiveMode::Recursive)
                } else {
                    let parent = p
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(Path::new("."));
                    (parent.to_path_buf(), RecursiveMode::NonRecursive)
                }
            })
            .collect();
        want.extend(
            r.folders
                .iter()
                .map(|f| (f.clone(), RecursiveMode::NonRecursive)),
        );
        for (path, mode) in want {
            let key = std::path::absolute(&path).unwrap_or(path.clone());
            if watched.contains(&key) || !path.exists() {
                continue;
            }
            if debouncer.watch(&path, mode).is_ok() {
                watched.insert(key);
            }
        }
        let _ = writeln!(lock, "{}", r.line());
        let _ = lock.flush();
    };
    run(&mut watched, &mut debouncer);
    for events in rx {
        let Ok(events) = events else { continue };
        // Reading files (our own runs) raises access events: only changes count.
        let relevant = events
            .iter()
            .filter(|e| !matches!(e.event.kind, notify::EventKind::Access(_)))
            .any(|e| {
                e.event.paths.iter().any(|p| {
                    let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                    let in_out = out_dir.as_ref().is_some_and(|o| abs.starts_with(o));
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    !in_out && (name.ends_with(".svc") || name == svcc_frontend::config::FILE_NAME)
                })
            });
        if relevant {
            run(&mut watched, &mut debouncer);
        }
    }
    Ok(())
}
