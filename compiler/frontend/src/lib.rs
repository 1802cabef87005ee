//! The `.svc` front end: source files in, a [`Model`] and diagnostics out.
//!
//! The pipeline is `load → syntax (parse) → resolve → check → lint`; targets (`svcc-codegen`)
//! read only the resulting [`svcc_model::Model`]. Nothing here prints or exits: every entry
//! point returns a [`Compilation`] (sources, model, diagnostics) for the CLI, the build API or a
//! language server to present. See `ARCHITECTURE.md` for who may import whom.
//!
//! ```
//! use svcc_frontend::{compile_memory, Options};
//! let c = compile_memory(&[("a.svc", "package demo.v1;\ntype A { x @1: string; }\n")], &Options::default());
//! assert!(!c.has_errors());
//! assert_eq!(c.model.packages[0].name, "demo.v1");
//! ```

pub mod breaking;
pub mod check;
pub mod codes;
pub mod config;
pub mod fmt;
mod incremental;
pub mod lint;
pub mod render;
pub mod resolve;
pub mod syntax;

pub use incremental::{Incremental, compile_incremental};
pub use svcc_model::{Diagnostic, Model, Severity, source};

use resolve::load::{self, FileSystem, MemoryFs};
use source::SourceMap;
use std::path::PathBuf;
use svcc_model::diagnostic::Diagnostics;

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
    pub model: Model,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The files named as inputs (the rest were reached through imports).
    pub roots: Vec<source::FileId>,
    /// `@allow` and `@breaking` scopes (for `svcc breaking` and tools).
    pub allows: resolve::Allows,
    /// Every top-level declaration (for a language server: definitions, symbols, rename).
    pub symbols: Vec<resolve::Symbol>,
    /// Where each symbol is referenced (by index into `symbols`); each span covers the name
    /// as written, qualified or not.
    pub references: Vec<Vec<source::Span>>,
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
pub(crate) fn finish(
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
        allows: resolved.allows,
        symbols: resolved.symbols,
        references: resolved.references,
        diagnostics: diags.into_sorted(),
    }
}

/// The error for inputs that hold no `.svc` file: a lint step pointed at the wrong folder must
/// fail, not pass with "0 files checked".
pub fn no_inputs_error(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = if paths.is_empty() {
        vec!["`.`".to_string()]
    } else {
        paths.iter().map(|p| format!("`{}`", p.display())).collect()
    };
    format!(
        "no `.svc` files in {} (folders are searched recursively, skipping hidden folders, \
         `target` and `node_modules`); name the folder or files that hold your contracts",
        shown.join(", ")
    )
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
