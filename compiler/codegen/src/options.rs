//! Target options: declared by each target, set by name, checked once.

use std::collections::BTreeMap;

/// The values an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// `true` or `false`.
    Bool,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// Any text.
    Text,
}

impl OptionKind {
    /// `true|false`, `3.0|3.1`.
    pub fn describe(self) -> String {
        match self {
            OptionKind::Bool => "true|false".to_string(),
            OptionKind::Choice(words) => words.join("|"),
            OptionKind::Text => "TEXT".to_string(),
        }
    }
}

/// One option of a target.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    pub name: &'static str,
    pub kind: OptionKind,
    pub default: &'static str,
    pub doc: &'static str,
}

/// The options set for one target, by name. Only values its [`OptionSpec`]s accept get in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetOptions {
    values: BTreeMap<&'static str, String>,
}

impl TargetOptions {
    /// Sets `name = value` for a target with options `specs`; errors are worded for users.
    pub fn set(
        &mut self,
        specs: &'static [OptionSpec],
        name: &str,
        value: &str,
    ) -> Result<(), String> {
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
            let hint = svcc_model::diagnostic::suggest(name, names.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            return Err(if names.is_empty() {
                format!("unknown option `{name}`: this target has no options")
            } else {
                format!(
                    "unknown option `{name}` ({hint}the options are: {})",
                    names.join(", ")
                )
            });
        };
        let ok = match spec.kind {
            OptionKind::Bool => matches!(value, "true" | "false"),
            OptionKind::Choice(words) => words.contains(&value),
            OptionKind::Text => true,
        };
        if !ok {
            return Err(format!(
                "invalid value `{value}` for option `{name}` (expected {})",
                spec.kind.describe()
            ));
        }
        self.values.insert(spec.name, value.to_string());
        Ok(())
    }

    /// The value set for `name`, or `None` (the target's default applies).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A boolean option, or `default` when unset.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.get(name).map_or(default, |v| v == "true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPECS: &[OptionSpec] = &[
        OptionSpec {
            name: "yaml",
            kind: OptionKind::Bool,
            default: "false",
            doc: "",
        },
        OptionSpec {
            name: "version",
            kind: OptionKind::Choice(&["3.0", "3.1"]),
            default: "3.0",
            doc: "",
        },
    ];

    #[test]
    fn values_are_checked_against_the_specs() {
        let mut o = TargetOptions::default();
        o.set(SPECS, "yaml", "true").unwrap();
        o.set(SPECS, "version", "3.1").unwrap();
        assert!(o.flag("yaml", false));
        assert_eq!(o.get("version"), Some("3.1"));
        let e = o.set(SPECS, "versoin", "3.1").unwrap_err();
        assert!(e.contains("did you mean `version`"), "{e}");
        let e = o.set(SPECS, "yaml", "yes").unwrap_err();
        assert!(e.contains("expected true|false"), "{e}");
        let e = o.set(SPECS, "version", "2.0").unwrap_err();
        assert!(e.contains("expected 3.0|3.1"), "{e}");
    }
}
