//! svcc's targets: the resolved [`Model`] in, files out.
//!
//! Every target implements [`Target`] (a name, its options, `generate`) and has one entry in
//! [`TARGETS`], the registry the CLI (`svcc build`, `svcc watch`), `svcc.toml` and the build
//! API (`svcc-build`) all read. Adding a target is adding one module and one entry. Options are
//! declared by the target ([`Target::options`]) and set by name from every front door alike:
//! `--opt openapi.version=3.1`, `[target.openapi] version = "3.1"`, or
//! `Builder::option("openapi", "version", "3.1")`.
//!
//! ```
//! let target = svcc_codegen::find("openapi").unwrap();
//! assert_eq!(target.name(), "openapi");
//! assert!(target.options().iter().any(|o| o.name == "version"));
//! ```

pub mod asyncapi;
pub mod dashboards;
pub mod envoy;
pub mod openapi;
pub mod openrpc;
mod options;
pub mod proto;
pub mod rust;
pub mod stack;
pub mod typescript;

pub use options::{OptionKind, OptionSpec, TargetOptions};
pub use svcc_model::Model;

/// A generated file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Relative to the output directory (`/` separated).
    pub path: String,
    /// Text for every target but one: the Envoy target's descriptor set is binary.
    pub contents: Vec<u8>,
}

impl File {
    /// A text file.
    pub fn new(path: impl Into<String>, contents: impl Into<String>) -> File {
        File {
            path: path.into(),
            contents: contents.into().into_bytes(),
        }
    }

    /// A binary file.
    pub fn binary(path: impl Into<String>, contents: Vec<u8>) -> File {
        File {
            path: path.into(),
            contents,
        }
    }

    /// The contents as text (binary files lossily).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.contents)
    }
}

/// What a target may know about the build besides the model.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The inputs as given (`idl/`, `a.svc`), for the generated files' first line.
    pub source_note: String,
}

/// One output of svcc.
pub trait Target: Sync + std::fmt::Debug {
    /// The name on the command line and in `svcc.toml` (`rust`, `openapi`, `ts`).
    fn name(&self) -> &'static str;
    /// Other names accepted for it (`typescript`).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// One line for `svcc build --target` listings.
    fn summary(&self) -> &'static str;
    /// The options it reads, with their values, defaults and docs.
    fn options(&self) -> &'static [OptionSpec] {
        &[]
    }
    /// The files for `model` (a checked model without errors).
    fn generate(
        &self,
        model: &Model,
        options: &TargetOptions,
        cx: &Context,
    ) -> Result<Vec<File>, String>;
}

/// Every target, in the order `svcc build --target` lists them.
pub static TARGETS: &[&dyn Target] = &[
    &rust::RustTarget,
    &openapi::OpenApiTarget,
    &typescript::TypeScriptTarget,
    &dashboards::DashboardsTarget,
    &proto::ProtoTarget,
    &envoy::EnvoyTarget,
    &asyncapi::AsyncApiTarget,
    &stack::StackTarget,
    &openrpc::OpenRpcTarget,
];

/// The target called `name` (or one of its aliases).
pub fn find(name: &str) -> Result<&'static dyn Target, String> {
    TARGETS
        .iter()
        .copied()
        .find(|t| t.name() == name || t.aliases().contains(&name))
        .ok_or_else(|| {
            let names: Vec<&str> = TARGETS.iter().map(|t| t.name()).collect();
            let hint = svcc_model::diagnostic::suggest(name, names.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            format!(
                "unknown target `{name}` ({hint}the targets are: {})",
                names.join(", ")
            )
        })
}

/// `svcc build --target` without a value: every target with its summary and options.
pub fn describe_targets() -> String {
    use std::fmt::Write as _;
    let mut out = String::from("targets:\n");
    for t in TARGETS {
        let _ = writeln!(out, "  {:<10} {}", t.name(), t.summary());
        for o in t.options() {
            let _ = writeln!(
                out,
                "    {}.{}={} (default {}): {}",
                t.name(),
                o.name,
                o.kind.describe(),
                o.default,
                o.doc
            );
        }
    }
    out
}
