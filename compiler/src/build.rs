//! Code generation from `build.rs`, in the spirit of prost-build: a one-call function for the
//! common case and a [`Builder`] for the rest.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), svcc::build::BuildError> {
//!     svcc::build::compile(&["idl"], &["idl"])
//! }
//! ```
//!
//! and in the crate: `include!(concat!(env!("OUT_DIR"), "/svc.rs"));`

use crate::diagnostics::render;
use crate::emit::{Target, rust::RustOptions};
use std::path::{Path, PathBuf};

/// A failed build. Its `Debug` is the rendered diagnostics, so `fn main() -> Result<…>` in
/// build.rs prints them readably.
pub struct BuildError {
    pub message: String,
}

impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\n")?;
        f.write_str(&self.message)
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuildError {}

/// Compiles `inputs` (files or directories of `.svc` files) into Rust in `$OUT_DIR`, with
/// servers and clients. `include` lists include roots for imports.
///
/// ```no_run
/// svcc::build::compile(&["idl/user.svc", "idl/chat.svc"], &["idl"]).unwrap();
/// ```
pub fn compile(
    inputs: &[impl AsRef<Path>],
    include: &[impl AsRef<Path>],
) -> Result<(), BuildError> {
    let mut b = configure();
    for i in include {
        b = b.include(i);
    }
    b.compile(inputs)
}

/// Starts a configurable build.
///
/// ```no_run
/// svcc::build::configure()
///     .out_dir("src/generated")      // default: $OUT_DIR
///     .include("../shared/idl")      // include roots for imports
///     .server(false)                 // only clients
///     .compile(&["idl"])
///     .unwrap();
/// ```
pub fn configure() -> Builder {
    Builder::default()
}

/// Every option of a build.
#[derive(Clone, Debug)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    include: Vec<PathBuf>,
    targets: Vec<Target>,
    server: bool,
    client: bool,
    cargo_directives: bool,
    openapi: crate::emit::openapi::OpenApiOptions,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            out_dir: None,
            include: Vec::new(),
            targets: vec![Target::Rust],
            server: true,
            client: true,
            cargo_directives: true,
            openapi: crate::emit::openapi::OpenApiOptions::default(),
        }
    }
}

/// What a build wrote.
#[derive(Clone, Debug, Default)]
pub struct BuildOutput {
    /// Every file generated (written or unchanged).
    pub files: Vec<PathBuf>,
    /// The files whose bytes changed (only these were written).
    pub written: Vec<PathBuf>,
    /// Every `.svc` read: the inputs and every resolved import.
    pub sources: Vec<PathBuf>,
    /// Rendered warnings.
    pub warnings: Vec<String>,
    /// The `cargo:` lines for build scripts (printed when cargo directives are on).
    pub directives: Vec<String>,
}

impl Builder {
    /// Where to write (default: the `OUT_DIR` cargo sets for build scripts).
    ///
    /// ```no_run
    /// svcc::build::configure().out_dir("target/svc").compile(&["idl"]).unwrap();
    /// ```
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Builder {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Adds an include root, searched for imports after the importing file's directory.
    ///
    /// ```no_run
    /// svcc::build::configure().include("../common/idl").compile(&["idl"]).unwrap();
    /// ```
    pub fn include(mut self, dir: impl AsRef<Path>) -> Builder {
        self.include.push(dir.as_ref().to_path_buf());
        self
    }

    /// The targets to generate (default: Rust).
    ///
    /// ```no_run
    /// use svcc::emit::Target;
    /// svcc::build::configure().targets(&[Target::Rust]).compile(&["idl"]).unwrap();
    /// ```
    pub fn targets(mut self, targets: &[Target]) -> Builder {
        self.targets = targets.to_vec();
        self
    }

    /// Generate server glue (default: on).
    ///
    /// ```no_run
    /// svcc::build::configure().server(false).compile(&["idl"]).unwrap();
    /// ```
    pub fn server(mut self, on: bool) -> Builder {
        self.server = on;
        self
    }

    /// Generate clients (default: on).
    ///
    /// ```no_run
    /// svcc::build::configure().client(false).compile(&["idl"]).unwrap();
    /// ```
    pub fn client(mut self, on: bool) -> Builder {
        self.client = on;
        self
    }

    /// Options of the OpenAPI target: version (3.0.3 default, 3.1), YAML, one merged document.
    ///
    /// ```no_run
    /// use svcc::emit::{Target, openapi::{OpenApiOptions, Version}};
    /// svcc::build::configure()
    ///     .targets(&[Target::OpenApi])
    ///     .openapi(OpenApiOptions { version: Version::V3_1, yaml: true, merged: true })
    ///     .out_dir("docs/api")
    ///     .compile(&["idl"])
    ///     .unwrap();
    /// ```
    pub fn openapi(mut self, options: crate::emit::openapi::OpenApiOptions) -> Builder {
        self.openapi = options;
        self
    }

    /// Print `cargo:rerun-if-changed` and `cargo:warning` lines (default: on; the CLI turns
    /// them off).
    ///
    /// ```no_run
    /// svcc::build::configure().cargo_directives(false).compile(&["idl"]).unwrap();
    /// ```
    pub fn cargo_directives(mut self, on: bool) -> Builder {
        self.cargo_directives = on;
        self
    }

    /// Compiles `inputs` (files, or directories searched for `*.svc`).
    pub fn compile(self, inputs: &[impl AsRef<Path>]) -> Result<(), BuildError> {
        self.run(inputs).map(|_| ())
    }

    /// Like [`Builder::compile`], returning what was written.
    pub fn run(self, inputs: &[impl AsRef<Path>]) -> Result<BuildOutput, BuildError> {
        let paths: Vec<PathBuf> = inputs.iter().map(|p| p.as_ref().to_path_buf()).collect();
        let files = crate::collect_inputs(&paths).map_err(|message| BuildError { message })?;
        let out_dir = match self
            .out_dir
            .clone()
            .or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from))
        {
            Some(d) => d,
            None => {
                return Err(BuildError {
                    message: "no output directory: call `.out_dir(…)` or run from a build script (OUT_DIR)".into(),
                });
            }
        };
        let options = crate::Options {
            include: self.include.clone(),
            ..crate::Options::default()
        };
        let comp = crate::compile(&files, &options);
        self.emit_from(&comp, &paths, &out_dir)
    }

    /// Writes the targets of an existing compilation into `out_dir` (what `run` does after
    /// compiling; `svcc watch` calls it with its incremental compilation). `paths` are the
    /// inputs as given (folders among them are watched by cargo).
    pub fn emit_from(
        &self,
        comp: &crate::Compilation,
        paths: &[PathBuf],
        out_dir: &Path,
    ) -> Result<BuildOutput, BuildError> {
        let sources: Vec<PathBuf> = comp.sources.files().map(|(_, f)| f.path.clone()).collect();
        // Directories (new files appear there), every input and every resolved import.
        let mut directives: Vec<String> = paths
            .iter()
            .filter(|p| p.is_dir())
            .chain(sources.iter())
            .map(|p| format!("cargo:rerun-if-changed={}", p.display()))
            .collect();
        let mut warnings = Vec::new();
        let mut errors = String::new();
        for d in &comp.diagnostics {
            let text = render::human(d, &comp.sources, false);
            if d.is_error() {
                errors.push_str(&text);
            } else {
                directives.extend(text.lines().map(|l| format!("cargo:warning={l}")));
                warnings.push(text);
            }
        }
        if self.cargo_directives {
            for d in &directives {
                println!("{d}");
            }
        }
        if comp.has_errors() {
            errors.push_str(&render::summary(
                comp.error_count(),
                comp.warning_count(),
                comp.sources.len(),
            ));
            return Err(BuildError { message: errors });
        }
        let note = source_note(paths);
        let mut out = BuildOutput {
            sources,
            warnings,
            directives,
            ..BuildOutput::default()
        };
        for target in &self.targets {
            let generated = match target {
                Target::Rust => crate::emit::rust::generate(
                    &comp.model,
                    &RustOptions {
                        server: self.server,
                        client: self.client,
                    },
                    &note,
                )
                .map_err(|message| BuildError { message })?,
                Target::OpenApi => crate::emit::openapi::generate(&comp.model, self.openapi),
                Target::TypeScript => crate::emit::typescript::generate(&comp.model, &note),
            };
            std::fs::create_dir_all(out_dir).map_err(|e| BuildError {
                message: format!("cannot create `{}`: {e}", out_dir.display()),
            })?;
            for (name, text) in generated {
                let path = out_dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| BuildError {
                        message: format!("cannot create `{}`: {e}", parent.display()),
                    })?;
                }
                if write_if_changed(&path, text.as_bytes()).map_err(|e| BuildError {
                    message: format!("cannot write `{}`: {e}", path.display()),
                })? {
                    out.written.push(path.clone());
                }
                out.files.push(path);
            }
        }
        Ok(out)
    }
}

/// `a.svc, b/` — for the generated files' first line.
fn source_note(paths: &[PathBuf]) -> String {
    let parts: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    parts.join(", ")
}

/// Writes `bytes` unless the file already holds them (so cargo does not rebuild the world).
/// Returns whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    std::fs::write(path, bytes)?;
    Ok(true)
}
