//! Diagnostics of the lint stage (warnings, named by their lint).

use svcc_model::Diagnostic;
use svcc_model::source::Span;

pub fn implicit_tag(span: Span, what: &str, name: &str, tag: u32) -> Diagnostic {
    Diagnostic::warning(
        "implicit_tag",
        format!("{what} `{name}` travels on a protobuf wire but has no explicit tag"),
        span,
    )
    .with_primary_label(format!("implicitly `@{tag}`"))
    .with_help(format!(
        "write `{name} @{tag}` so that reordering never changes the wire format"
    ))
}

pub fn naming(span: Span, what: &str, name: &str, fixed: &str, style: &str) -> Diagnostic {
    Diagnostic::warning(
        "naming_convention",
        format!("{what} `{name}` should be {style}"),
        span,
    )
    .with_primary_label(format!("not {style}"))
    .with_help(format!("rename it to `{fixed}`"))
}

pub fn unused_import(span: Span) -> Diagnostic {
    Diagnostic::warning("unused_import", "nothing from this import is used", span)
        .with_primary_label("unused import")
        .with_help("remove the import")
}

pub fn unused_declaration(span: Span, kind: &str, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "unused_declaration",
        format!("{kind} `{name}` is never used"),
        span,
    )
    .with_primary_label("declared here")
    .with_help("remove it, or silence this lint with `@allow(unused_declaration)` if other contracts use it")
}

pub fn empty_service(span: Span, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "empty_service",
        format!("service `{name}` has no methods"),
        span,
    )
    .with_primary_label("empty service")
    .with_help("add an `rpc`, or remove the service")
}

pub fn deprecated_use(span: Span, name: &str, reason: &str, decl: Span) -> Diagnostic {
    let msg = if reason.is_empty() {
        format!("`{name}` is deprecated")
    } else {
        format!("`{name}` is deprecated: {reason}")
    };
    Diagnostic::warning("deprecated", msg, span)
        .with_primary_label("deprecated")
        .with_label(decl, "deprecated here")
}

pub fn missing_docs(span: Span, what: &str, name: &str) -> Diagnostic {
    Diagnostic::warning(
        "missing_docs",
        format!("{what} `{name}` has no documentation"),
        span,
    )
    .with_primary_label("undocumented")
    .with_help("add a `///` doc comment")
}

pub fn inert_annotation(span: Span, name: &str, missing: &str) -> Diagnostic {
    Diagnostic::warning(
        "inert_annotation",
        format!("`@{name}` has no effect yet: {missing}"),
        span,
    )
    .with_primary_label("accepted, but nothing acts on it yet")
    .with_help(
        "keep it to state the intent (it takes effect when svcc implements it), or \
         `@allow(inert_annotation)` once you know; `svcc explain inert_annotation` lists them all",
    )
}
