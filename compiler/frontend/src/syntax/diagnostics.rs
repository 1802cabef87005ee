//! Diagnostics of the parse stage: reading files and the grammar.

use svcc_model::Diagnostic;
use svcc_model::source::Span;

pub fn invalid_utf8(span: Span) -> Diagnostic {
    Diagnostic::error("E0002", "file is not valid UTF-8", span)
        .with_primary_label("this byte does not start a valid UTF-8 sequence")
        .with_help("save the file as UTF-8")
}

pub fn nul_byte(span: Span) -> Diagnostic {
    Diagnostic::error("E0003", "file contains a NUL byte", span)
        .with_primary_label("NUL byte")
        .with_help("`.svc` files are text; remove the NUL byte (is this a binary file?)")
}

pub fn unterminated_string(span: Span) -> Diagnostic {
    Diagnostic::error("E0004", "unterminated string", span)
        .with_primary_label("this string has no closing `\"` on its line")
        .with_help("close the string with `\"`; strings cannot span lines")
}

pub fn unterminated_comment(span: Span) -> Diagnostic {
    Diagnostic::error("E0005", "unterminated block comment", span)
        .with_primary_label("this comment is never closed")
        .with_help("close the comment with `*/`")
}

pub fn nesting_too_deep(span: Span, max: usize) -> Diagnostic {
    Diagnostic::error(
        "E0006",
        format!("brackets nested more than {max} levels deep"),
        span,
    )
    .with_primary_label("too deep")
    .with_help("split the type into named declarations")
}

pub fn syntax(span: Span, message: String, label: String, help: Option<String>) -> Diagnostic {
    let d = Diagnostic::error("E0001", message, span).with_primary_label(label);
    match help {
        Some(h) => d.with_help(h),
        None => d,
    }
}

pub fn number_out_of_range(span: Span, what: &str, max: &str) -> Diagnostic {
    Diagnostic::error("E0007", format!("{what} is out of range"), span)
        .with_primary_label(format!("the largest accepted value is {max}"))
}

pub fn invalid_escape(span: Span, esc: &str) -> Diagnostic {
    Diagnostic::error("E0008", format!("unknown escape `{esc}` in string"), span)
        .with_primary_label("unknown escape")
        .with_help(
            "the escapes are `\\\\`, `\\\"`, `\\n`, `\\r`, `\\t`, `\\0` and `\\u{XXXX}`; \
             write `\\\\` for a backslash",
        )
}

pub fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error("E0999", format!("internal compiler error: {what}"), span)
        .with_primary_label("while reading this")
        .with_help("this is a bug in svcc; please report it with this file")
}

pub fn not_a_union_field(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error("E0009", format!("a union variant cannot have {what}"), span)
        .with_primary_label(format!("{what} not allowed here"))
        .with_help("exactly one variant of a union is present; remove it")
}
