//! Diagnostics of the resolve stage: imports, packages, names.

use super::{Diagnostic, all_of};
use crate::source::Span;

pub fn import_not_found(span: Span, path: &str, tried: &[String]) -> Diagnostic {
    Diagnostic::error("E0100", format!("cannot find imported file `{path}`"), span)
        .with_primary_label("no such file")
        .with_help(format!(
            "looked in {}; add an include root with `-I DIR` if the file lives elsewhere",
            all_of(tried)
        ))
}

pub fn import_cycle(span: Span, cycle: &[String], others: Vec<(Span, String)>) -> Diagnostic {
    let mut d = Diagnostic::error(
        "E0101",
        format!("import cycle: {}", cycle.join(" → ")),
        span,
    )
    .with_primary_label("this import closes the cycle")
    .with_help("move the shared declarations into a file that both can import");
    for (s, text) in others {
        d = d.with_label(s, text);
    }
    d
}

pub fn unresolved(span: Span, name: &str, what: &str, suggestion: Option<String>) -> Diagnostic {
    let d = Diagnostic::error(
        "E0102",
        format!("cannot find {what} `{name}` in this scope"),
        span,
    )
    .with_primary_label("not found");
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("declare it, or import the file that declares it"),
    }
}

pub fn ambiguous(span: Span, name: &str, candidates: Vec<(Span, String)>) -> Diagnostic {
    let names: Vec<String> = candidates.iter().map(|(_, q)| format!("`{q}`")).collect();
    let mut d = Diagnostic::error("E0103", format!("`{name}` is ambiguous"), span)
        .with_primary_label(format!("could be {}", all_of(&names)))
        .with_help("write the fully qualified name, or import one of the files with `as`");
    for (s, q) in candidates {
        d = d.with_label(s, format!("`{q}` is declared here"));
    }
    d
}

pub fn duplicate_declaration(span: Span, name: &str, first: Span) -> Diagnostic {
    Diagnostic::error(
        "E0104",
        format!("`{name}` is declared more than once"),
        span,
    )
    .with_primary_label("declared again here")
    .with_label(first, "first declared here")
    .with_help("declarations of one package share one namespace, across all its files")
}

pub fn duplicate_import_alias(span: Span, alias: &str, first: Span) -> Diagnostic {
    Diagnostic::error(
        "E0105",
        format!("import alias `{alias}` is used twice"),
        span,
    )
    .with_primary_label("used again here")
    .with_label(first, "first used here")
    .with_help("give each aliased import its own name")
}

pub fn not_a_type(span: Span, name: &str, kind: &str, decl: Span) -> Diagnostic {
    Diagnostic::error(
        "E0106",
        format!("expected a type, found {kind} `{name}`"),
        span,
    )
    .with_primary_label("not a type")
    .with_label(decl, format!("`{name}` is declared as {kind} here"))
    .with_help("only records, aliases, enums, unions and built-in types can be used as types")
}

pub fn bad_package_name(span: Span, segment: &str) -> Diagnostic {
    Diagnostic::error(
        "E0107",
        format!("package segment `{segment}` must be lower-case"),
        span,
    )
    .with_primary_label("not a lower-case identifier")
    .with_help(format!(
        "write `{}`: package segments are lower-case letters, digits and `_`",
        segment.to_ascii_lowercase()
    ))
}

pub fn builtin_shadowed(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "E0109",
        format!("`{name}` is a built-in type and cannot be declared"),
        span,
    )
    .with_primary_label("built-in type name")
    .with_help("choose another name")
}

pub fn unreadable_input(span: Span, path: &str, err: &str) -> Diagnostic {
    Diagnostic::error("E0108", format!("cannot read `{path}`: {err}"), span)
        .with_primary_label("named here")
        .with_help("name `.svc` files, or directories that contain them")
}

pub fn import_io(span: Span, path: &str, err: &str) -> Diagnostic {
    Diagnostic::error(
        "E0108",
        format!("cannot read imported file `{path}`: {err}"),
        span,
    )
    .with_primary_label("imported here")
}

pub fn not_an_error(span: Span, name: &str, kind: &str, decl: Span) -> Diagnostic {
    Diagnostic::error(
        "E0211",
        format!("`throws` lists {kind} `{name}`, which is not an error"),
        span,
    )
    .with_primary_label("not an error")
    .with_label(decl, format!("`{name}` is declared as {kind} here"))
    .with_help("declare it with `error Name: kind { ... }`")
}
