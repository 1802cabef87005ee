//! Incremental compilation for `svcc watch` (and a language server): unchanged files keep
//! their parse trees, and only packages an edit can affect are checked again.

use crate::resolve::load::{self, FileSystem};
use crate::{Compilation, Options, check, finish, resolve};
use std::path::PathBuf;
use svcc_model::diagnostic::{Diagnostic, Diagnostics};
use svcc_model::source;

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
