//! The lint registry: every lint's name, default level and explanation, and the levels a
//! project sets. A leaf module: the resolver reads the names (for `@allow`), the CLI and
//! `svcc.toml` the levels, the linter everything.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

#[derive(Debug)]
pub struct Lint {
    pub name: &'static str,
    pub default: Level,
    pub summary: &'static str,
    /// A contract that triggers the lint.
    pub example: &'static str,
}

pub static LINTS: &[Lint] = &[
    Lint {
        name: "implicit_tag",
        default: Level::Warn,
        summary: "a field or enum value that travels on a protobuf wire has no explicit `@N`",
        example: "@topic(\"user.created\")\nevent UserCreated {\n  user_id: uuid;   // implicit_tag: write `user_id @1: uuid;`\n}",
    },
    Lint {
        name: "naming_convention",
        default: Level::Warn,
        summary: "types, services, errors, events and enum values are UpperCamelCase; \
                  fields, parameters, results and methods are snake_case",
        example: "type user_profile {      // should be `UserProfile`\n  displayName @1: string; // should be `display_name`\n}",
    },
    Lint {
        name: "unused_import",
        default: Level::Warn,
        summary: "nothing from an imported file is used",
        example: "import \"../common/page.svc\"; // nothing from page.svc is used",
    },
    Lint {
        name: "unused_declaration",
        default: Level::Warn,
        summary: "a type or error is never referenced",
        example: "type Leftover { x @1: string; } // never referenced",
    },
    Lint {
        name: "empty_service",
        default: Level::Warn,
        summary: "a service has no methods",
        example: "service Placeholder {}",
    },
    Lint {
        name: "deprecated",
        default: Level::Warn,
        summary: "a deprecated type, enum, union or error is used",
        example: "@deprecated(\"use Money\") type Price = decimal;\ntype Item { price @1: Price; } // uses a deprecated type",
    },
    Lint {
        name: "missing_docs",
        default: Level::Allow,
        summary: "a service, method or declaration has no doc comment",
        example: "service UserService { rpc get(id: uuid); } // no `///` docs",
    },
    Lint {
        name: "inert_annotation",
        default: Level::Warn,
        summary: "an annotation svcc accepts but does not act on yet (\
                  `@key`, `@security(api_key)`, `@security(basic)`): the warning says \
                  what does not happen yet, so nobody relies on it",
        example: "@topic(\"user.created\")\n@key(id)   // inert_annotation: no Kafka producer is generated yet\nevent UserCreated { id @1: string; }",
    },
];

/// The text printed by `svcc explain <lint>`.
pub fn explain(l: &Lint) -> String {
    let level = match l.default {
        Level::Allow => "allow",
        Level::Warn => "warn",
        Level::Deny => "deny",
    };
    let mut s = format!(
        "lint `{}` (default level: {level})\n\n{}.\n\nExample:\n\n",
        l.name, l.summary
    );
    for line in l.example.lines() {
        s.push_str("    ");
        s.push_str(line);
        s.push('\n');
    }
    s.push_str(&format!(
        "\nSilence it on a declaration or member with `@allow({0})`, for a whole package by \
         putting `@allow({0})` before `package`, or for the project in svcc.toml:\n\n    \
         [lints]\n    {0} = \"allow\"   # or \"warn\", \"deny\"\n",
        l.name
    ));
    s
}

/// Project-wide lint levels (from `svcc.toml`'s `[lints]` table).
#[derive(Debug, Default, Clone)]
pub struct LintConfig {
    pub levels: BTreeMap<String, Level>,
}

impl LintConfig {
    pub fn level(&self, lint: &Lint) -> Level {
        self.levels.get(lint.name).copied().unwrap_or(lint.default)
    }
}
