//! Code generation from `build.rs`, in the spirit of prost-build: a one-call function for the
//! common case and a [`Builder`] for the rest.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), svcc_build::BuildError> {
//!     svcc_build::compile(&["idl"], &["idl"])
//! }
//! ```
//!
//! and in the crate: `include!(concat!(env!("OUT_DIR"), "/svc.rs"));`
//!
//! This package is what a service's `[build-dependencies]` names; it pulls in the front end
//! and the targets, never the command line's dependencies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use svcc_codegen::{Target, TargetOptions};
use svcc_frontend::{Compilation, render};

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
/// svcc_build::compile(&["idl/user.svc", "idl/chat.svc"], &["idl"]).unwrap();
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
/// svcc_build::configure()
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
    targets: Vec<&'static dyn Target>,
    /// Options by target name, checked against the target's declarations.
    options: BTreeMap<&'static str, TargetOptions>,
    /// The first invalid target or option named, reported by `compile`.
    invalid: Option<String>,
    cargo_directives: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            out_dir: None,
            include: Vec::new(),
            targets: vec![&svcc_codegen::rust::RustTarget],
            options: BTreeMap::new(),
            invalid: None,
            cargo_directives: true,
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
    /// svcc_build::configure().out_dir("target/svc").compile(&["idl"]).unwrap();
    /// ```
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Builder {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Adds an include root, searched for imports after the importing file's directory.
    ///
    /// ```no_run
    /// svcc_build::configure().include("../common/idl").compile(&["idl"]).unwrap();
    /// ```
    pub fn include(mut self, dir: impl AsRef<Path>) -> Builder {
        self.include.push(dir.as_ref().to_path_buf());
        self
    }

    /// The targets to generate, by their registry names (default: `rust`; see
    /// [`svcc_codegen::TARGETS`]). An unknown name fails the build with the list of targets.
    ///
    /// ```no_run
    /// svcc_build::configure().targets(&["rust", "openapi"]).compile(&["idl"]).unwrap();
    /// ```
    pub fn targets(mut self, names: &[&str]) -> Builder {
        self.targets.clear();
        for name in names {
            match svcc_codegen::find(name) {
                Ok(t) => self.targets.push(t),
                Err(e) => {
                    self.invalid.get_or_insert(e);
                }
            }
        }
        self
    }

    /// Sets a target's option by name, as `svcc.toml` (`[target.NAME] option = value`) and the
    /// CLI (`--opt NAME.option=value`) do. Unknown targets, options or values fail the build.
    ///
    /// ```no_run
    /// svcc_build::configure()
    ///     .targets(&["openapi"])
    ///     .option("openapi", "version", "3.1")
    ///     .out_dir("docs/api")
    ///     .compile(&["idl"])
    ///     .unwrap();
    /// ```
    pub fn option(mut self, target: &str, name: &str, value: &str) -> Builder {
        if let Err(e) = self.try_option(target, name, value) {
            let e = match svcc_codegen::find(target) {
                Ok(t) => format!("target `{}`: {e}", t.name()),
                Err(_) => e,
            };
            self.invalid.get_or_insert(e);
        }
        self
    }

    /// Like [`Builder::option`], returning the error (an unknown target, option or value)
    /// instead of keeping it for [`Builder::compile`]: for callers that word it themselves.
    pub fn try_option(&mut self, target: &str, name: &str, value: &str) -> Result<(), String> {
        let t = svcc_codegen::find(target)?;
        self.options
            .entry(t.name())
            .or_default()
            .set(t.options(), name, value)
    }

    /// Generate server glue (default: on); the Rust target's `server` option.
    ///
    /// ```no_run
    /// svcc_build::configure().server(false).compile(&["idl"]).unwrap();
    /// ```
    pub fn server(self, on: bool) -> Builder {
        self.option("rust", "server", if on { "true" } else { "false" })
    }

    /// Generate clients (default: on).
    ///
    /// ```no_run
    /// svcc_build::configure().client(false).compile(&["idl"]).unwrap();
    /// ```
    pub fn client(self, on: bool) -> Builder {
        self.option("rust", "client", if on { "true" } else { "false" })
    }

    /// Options of the OpenAPI target: version (3.0.3 default, 3.1), YAML, one merged document
    /// (the same as three [`Builder::option`] calls).
    ///
    /// ```no_run
    /// use svcc_codegen::openapi::{OpenApiOptions, Version};
    /// svcc_build::configure()
    ///     .targets(&["openapi"])
    ///     .openapi(OpenApiOptions { version: Version::V3_1, yaml: true, merged: true })
    ///     .out_dir("docs/api")
    ///     .compile(&["idl"])
    ///     .unwrap();
    /// ```
    pub fn openapi(mut self, options: svcc_codegen::openapi::OpenApiOptions) -> Builder {
        for (name, value) in options.to_pairs() {
            self = self.option("openapi", name, value);
        }
        self
    }

    /// Print `cargo:rerun-if-changed` and `cargo:warning` lines (default: on; the CLI turns
    /// them off).
    ///
    /// ```no_run
    /// svcc_build::configure().cargo_directives(false).compile(&["idl"]).unwrap();
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
        if let Some(message) = self.invalid.clone() {
            return Err(BuildError { message });
        }
        let files =
            svcc_frontend::collect_inputs(&paths).map_err(|message| BuildError { message })?;
        if files.is_empty() {
            return Err(BuildError {
                message: svcc_frontend::no_inputs_error(&paths),
            });
        }
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
        let options = svcc_frontend::Options {
            include: self.include.clone(),
            ..svcc_frontend::Options::default()
        };
        let comp = svcc_frontend::compile(&files, &options);
        self.emit_from(&comp, &paths, &out_dir)
    }

    /// Writes the targets of an existing compilation into `out_dir` (what `run` does after
    /// compiling; `svcc watch` calls it with its incremental compilation). `paths` are the
    /// inputs as given (folders among them are watched by cargo).
    pub fn emit_from(
        &self,
        comp: &Compilation,
        paths: &[PathBuf],
        out_dir: &Path,
    ) -> Result<BuildOutput, BuildError> {
        if let Some(message) = self.invalid.clone() {
            return Err(BuildError { message });
        }
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
                // Cargo shows each `cargo:warning` line as a warning of its own: one line per
                // diagnostic with its location, and its help on a second.
                directives.push(format!(
                    "cargo:warning={}",
                    render::plain(d, &comp.sources).trim_end()
                ));
                if let Some(help) = &d.help {
                    directives.push(format!("cargo:warning=  help: {help}"));
                }
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
        let cx = svcc_codegen::Context {
            source_note: source_note(paths),
        };
        let mut out = BuildOutput {
            sources,
            warnings,
            directives,
            ..BuildOutput::default()
        };
        for target in &self.targets {
            let options = self.options.get(target.name()).cloned().unwrap_or_default();
            let generated = target
                .generate(&comp.model, &options, &cx)
                .map_err(|message| BuildError { message })?;
            std::fs::create_dir_all(out_dir).map_err(|e| BuildError {
                message: format!("cannot create `{}`: {e}", out_dir.display()),
            })?;
            for svcc_codegen::File {
                path: name,
                contents: text,
            } in generated
            {
                let path = out_dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| BuildError {
                        message: format!("cannot create `{}`: {e}", parent.display()),
                    })?;
                }
                if write_if_changed(&path, &text).map_err(|e| BuildError {
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
