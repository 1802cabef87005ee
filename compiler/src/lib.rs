//! svcc: the `.svc` contract compiler.
//!
//! The pipeline is `source → syntax (parse) → resolve → check → lint → model`; emitters
//! (later stages) read only the [`model::Model`]. See `ARCHITECTURE.md` for who may import whom.
//!
//! ```
//! use svcc::{compile_memory, Options};
//! let c = compile_memory(&[("a.svc", "package demo.v1;\ntype A { x @1: string; }\n")], &Options::default());
//! assert!(!c.has_errors());
//! assert_eq!(c.model.packages[0].name, "demo.v1");
//! ```

pub mod build;
pub mod check;
pub mod config;
pub mod diagnostics;
pub mod emit;
pub mod fmt;
pub mod lint;
pub mod model;
pub mod naming;
pub mod resolve;
pub mod source;
pub mod syntax;
pub mod watch;

use diagnostics::{Diagnostic, Diagnostics};
use resolve::load::{self, FileSystem, MemoryFs};
use source::SourceMap;
use std::path::PathBuf;

/// What a compilation needs besides its inputs.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Include roots searched for imports after the importing file's directory (`-I`).
    pub include: Vec<PathBuf>,
    /// Lint levels (from `svcc.toml`).
    pub lints: lint::LintConfig,
}

/// The result of compiling a set of files: the sources, the model and every diagnostic.
#[derive(Debug)]
pub struct Compilation {
    pub sources: SourceMap,
    pub model: model::Model,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The files named as inputs (the rest were reached through imports).
    pub roots: Vec<source::FileId>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Compiles `inputs` (and everything they import) read from `fs`.
pub fn compile_with(fs: &dyn FileSystem, inputs: &[PathBuf], options: &Options) -> Compilation {
    let loaded = load::load(fs, inputs, &options.include);
    let mut diags = Diagnostics::default();
    diags.extend(loaded.diagnostics.iter().cloned());
    let (resolved, resolve_diags) = resolve::resolve(&loaded);
    diags.extend(resolve_diags);
    diags.extend(check::check(&resolved.model));
    finish(loaded, resolved, diags, options)
}

/// The stages after checking, shared by full and incremental compilations: lints (only on
/// error-free contracts) and the result.
fn finish(
    loaded: load::Loaded,
    resolved: resolve::Resolved,
    mut diags: Diagnostics,
    options: &Options,
) -> Compilation {
    if !diags.has_errors() {
        diags.extend(lint::run(&resolved.model, &resolved, &options.lints));
    }
    Compilation {
        roots: loaded.roots,
        sources: loaded.sources,
        model: resolved.model,
        diagnostics: diags.into_sorted(),
    }
}

/// Compiles files from disk.
pub fn compile(inputs: &[PathBuf], options: &Options) -> Compilation {
    compile_with(&load::DiskFs, inputs, options)
}

/// Compiles in-memory files; the first is the input, the others can be imported.
pub fn compile_memory(files: &[(&str, &str)], options: &Options) -> Compilation {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.add(path, text.as_bytes().to_vec());
    }
    let inputs: Vec<PathBuf> = files
        .iter()
        .take(1)
        .map(|(p, _)| PathBuf::from(p))
        .collect();
    compile_with(&fs, &inputs, options)
}

/// Expands directories into their `*.svc` files (sorted; hidden folders, `target` and
/// `node_modules` skipped). Files named explicitly are taken as they are.
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                    walk(&p, out)?;
                }
            } else if name.ends_with(".svc") {
                out.push(p);
            }
        }
        Ok(())
    }
    let defaults = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("no such file or directory: `{}`", p.display()));
        }
    }
    Ok(out)
}

/// State kept between compilations by `svcc watch`: parse trees of unchanged files, and the
/// check diagnostics of packages no edit can have affected.
#[derive(Debug, Default)]
pub struct Incremental {
    pub parse: load::ParseCache,
    checks: std::collections::HashMap<String, Vec<Diagnostic>>,
    /// File → package, from the last compilation.
    files: std::collections::HashMap<PathBuf, String>,
    /// Path of each file id of the last compilation: file ids are renumbered when files come
    /// and go, so reused diagnostics are mapped through paths.
    paths: Vec<PathBuf>,
    /// Packages checked (not reused) by the last compilation.
    pub checked_packages: usize,
}

/// Like [`compile_with`], reusing the parse trees of unchanged files and re-checking only
/// packages that contain a changed, new or removed file, or that (transitively) import such a
/// package; the others keep their diagnostics.
pub fn compile_incremental(
    fs: &dyn FileSystem,
    inputs: &[PathBuf],
    options: &Options,
    inc: &mut Incremental,
) -> Compilation {
    use std::collections::{HashMap, HashSet};
    let loaded = load::load_cached(fs, inputs, &options.include, &mut Some(&mut inc.parse));
    let mut files: HashMap<PathBuf, String> = HashMap::new();
    let mut ids: HashMap<PathBuf, source::FileId> = HashMap::new();
    for (id, f) in loaded.sources.files() {
        ids.insert(f.path.clone(), id);
        if let Some(t) = loaded.tree(id) {
            files.insert(f.path.clone(), t.package.name.text());
        }
    }
    // Packages touched by this edit: changed or new files, removed files, moved files.
    let mut affected: HashSet<String> = HashSet::new();
    for p in &inc.parse.changed {
        affected.extend(files.get(p).cloned());
        affected.extend(inc.files.get(p).cloned());
    }
    for (p, pkg) in &inc.files {
        if files.get(p) != Some(pkg) {
            affected.insert(pkg.clone());
            affected.extend(files.get(p).cloned());
        }
    }
    // ... and every package that imports one of them, transitively.
    let mut importers: HashMap<String, HashSet<String>> = HashMap::new();
    for e in &loaded.edges {
        let (Some(from), Some(to)) = (loaded.tree(e.from), loaded.tree(e.to)) else {
            continue;
        };
        importers
            .entry(to.package.name.text())
            .or_default()
            .insert(from.package.name.text());
    }
    let mut stack: Vec<String> = affected.iter().cloned().collect();
    while let Some(p) = stack.pop() {
        for i in importers.get(&p).into_iter().flatten() {
            if affected.insert(i.clone()) {
                stack.push(i.clone());
            }
        }
    }
    let mut diags = Diagnostics::default();
    diags.extend(loaded.diagnostics.iter().cloned());
    let (resolved, resolve_diags) = resolve::resolve(&loaded);
    diags.extend(resolve_diags);
    let mut checks = HashMap::new();
    inc.checked_packages = 0;
    for pkg in &resolved.model.packages {
        let reused = if affected.contains(&pkg.name) {
            None
        } else {
            inc.checks
                .remove(&pkg.name)
                .and_then(|d| renumber(d, &inc.paths, &ids))
        };
        let d = reused.unwrap_or_else(|| {
            inc.checked_packages += 1;
            check::check_package(&resolved.model, pkg)
        });
        diags.extend(d.iter().cloned());
        checks.insert(pkg.name.clone(), d);
    }
    inc.checks = checks;
    inc.files = files;
    inc.paths = loaded
        .sources
        .files()
        .map(|(_, f)| f.path.clone())
        .collect();
    finish(loaded, resolved, diags, options)
}

/// Moves diagnostics from the last compilation's file ids to this one's; `None` when a file
/// they point into is gone (the package is then checked again).
fn renumber(
    mut diags: Vec<Diagnostic>,
    old: &[PathBuf],
    new: &std::collections::HashMap<PathBuf, source::FileId>,
) -> Option<Vec<Diagnostic>> {
    let map = |span: &mut source::Span| -> Option<()> {
        let path = old.get(span.file.0 as usize)?;
        span.file = *new.get(path)?;
        Some(())
    };
    for d in &mut diags {
        map(&mut d.primary)?;
        for l in &mut d.labels {
            map(&mut l.span)?;
        }
    }
    Some(diags)
}
