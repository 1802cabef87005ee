//! Emitters: the resolved model → files. Each target reads only [`crate::model::Model`].

pub mod openapi;
pub mod rust;
pub mod typescript;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Rust types, validators, service traits, servers and clients.
    Rust,
    /// OpenAPI 3.0.3 documents (JSON), one per package.
    OpenApi,
    /// A TypeScript client package (`package.json`, `tsconfig.json`, `src/`).
    TypeScript,
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        match s {
            "rust" => Ok(Target::Rust),
            "openapi" => Ok(Target::OpenApi),
            "ts" | "typescript" => Ok(Target::TypeScript),
            other => Err(format!(
                "unknown target `{other}` (the targets are: rust, openapi, ts)"
            )),
        }
    }
}
