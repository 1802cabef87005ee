//! `svcc.toml`: optional project configuration, found next to the inputs or above them.
//!
//! ```toml
//! # include roots for imports, relative to this file
//! include = ["../shared/idl"]
//!
//! [lints]
//! implicit_tag = "deny"    # allow | warn | deny
//! missing_docs = "warn"
//!
//! [target.openapi]         # options of a target, by name (`svcc build --target list`)
//! version = "3.1"
//!
//! [breaking]                # `svcc breaking`: the wires to report (default: all)
//! wires = ["rest", "jsonrpc", "grpc", "kafka"]
//!
//! [breaking.rules]          # rule levels: allow | warn | deny
//! enum_value_added = "deny"
//! ```
//!
//! The front end reads the `[target.*]` tables without knowing the targets; the CLI checks
//! them against the target registry (`svcc-codegen`).

use crate::lint::{LINTS, Level, LintConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "svcc.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    include: Vec<PathBuf>,
    #[serde(default)]
    lints: BTreeMap<String, Level>,
    #[serde(default)]
    target: BTreeMap<String, BTreeMap<String, toml::Value>>,
    #[serde(default)]
    breaking: RawBreaking,
}

/// `[breaking]`: which wires `svcc breaking` reports, and rule levels.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreaking {
    #[serde(default)]
    wires: Vec<String>,
    #[serde(default)]
    rules: BTreeMap<String, Level>,
}

/// A loaded configuration.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// Where it was read from (`None`: defaults).
    pub path: Option<PathBuf>,
    /// Include roots, resolved against the file's directory.
    pub include: Vec<PathBuf>,
    pub lints: LintConfig,
    /// `[target.NAME]` tables: option name → value as text (`true`, `3.1`).
    pub targets: BTreeMap<String, BTreeMap<String, String>>,
    /// `[breaking]`: `wires = ["rest", …]` and `[breaking.rules]` levels.
    pub breaking: crate::breaking::Settings,
}

/// Finds `svcc.toml` in `start` or the nearest ancestor.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start.to_path_buf()
    };
    let abs = std::path::absolute(&start).unwrap_or(start);
    abs.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads and validates a configuration file. Errors are worded for the user.
pub fn load(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let raw: Raw =
        toml::from_str(&text).map_err(|e| format!("invalid `{}`: {e}", path.display()))?;
    for name in raw.lints.keys() {
        if !LINTS.iter().any(|l| l.name == name) {
            let hint = svcc_model::diagnostic::suggest(name, LINTS.iter().map(|l| l.name))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "invalid `{}`: unknown lint `{name}`{hint}",
                path.display()
            ));
        }
    }
    let mut breaking = crate::breaking::Settings::default();
    for name in &raw.breaking.wires {
        let wire = crate::breaking::Wire::parse(name).ok_or_else(|| {
            format!(
                "invalid `{}`: [breaking] wires: unknown wire `{name}` (rest, jsonrpc, grpc, kafka, rust, typescript)",
                path.display()
            )
        })?;
        breaking.wires.push(wire);
    }
    for (name, level) in raw.breaking.rules {
        if crate::breaking::lookup(&name).is_none() {
            let hint =
                svcc_model::diagnostic::suggest(&name, crate::breaking::RULE_NAMES.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
            return Err(format!(
                "invalid `{}`: [breaking.rules]: unknown rule `{name}`{hint}",
                path.display()
            ));
        }
        breaking.levels.insert(name, level);
    }
    let mut targets = BTreeMap::new();
    for (target, options) in raw.target {
        let mut values = BTreeMap::new();
        for (name, value) in options {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    return Err(format!(
                        "invalid `{}`: [target.{target}] {name}: expected a string, number or boolean, found {}",
                        path.display(),
                        other.type_str()
                    ));
                }
            };
            values.insert(name, text);
        }
        targets.insert(target, values);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok(Config {
        path: Some(path.to_path_buf()),
        include: raw.include.iter().map(|p| dir.join(p)).collect(),
        lints: LintConfig { levels: raw.lints },
        targets,
        breaking,
    })
}
