//! Diagnostics of the check stage: declarations, tags, constraints, literals, bindings.

use svcc_model::Diagnostic;
use svcc_model::source::Span;

pub fn invalid_value(span: Span, message: String, help: String) -> Diagnostic {
    Diagnostic::error("E0306", message, span)
        .with_primary_label("invalid value")
        .with_help(help)
}

pub fn duplicate_member(what: &str, name: &str, span: Span, first: Span) -> Diagnostic {
    let code = match what {
        "method" => "E0204",
        "enum value" => "E0205",
        "variant" => "E0206",
        "parameter" | "result" => "E0209",
        _ => "E0200",
    };
    Diagnostic::error(code, format!("duplicate {what} `{name}`"), span)
        .with_primary_label("declared again here")
        .with_label(first, "first declared here")
}

pub fn duplicate_tag(tag: u32, span: Span, first: Span, implicit: bool) -> Diagnostic {
    let d = Diagnostic::error("E0201", format!("tag `@{tag}` is used twice"), span)
        .with_primary_label(if implicit {
            format!("implicitly numbered `@{tag}` here")
        } else {
            "used again here".to_string()
        })
        .with_label(first, "first used here");
    d.with_help("give every field its own tag; tags identify fields on the protobuf wire")
}

pub fn tag_out_of_range(tag: u64, span: Span) -> Diagnostic {
    Diagnostic::error("E0202", format!("tag `@{tag}` is out of range"), span)
        .with_primary_label("must be between 1 and 536,870,911")
        .with_help("protobuf field numbers run from 1 to 536,870,911")
}

pub fn tag_reserved(tag: u64, span: Span) -> Diagnostic {
    Diagnostic::error(
        "E0203",
        format!("tag `@{tag}` is reserved by protobuf"),
        span,
    )
    .with_primary_label("19,000–19,999 are reserved")
    .with_help("choose a tag outside 19,000–19,999")
}

pub fn alias_cycle(span: Span, cycle: &[String]) -> Diagnostic {
    Diagnostic::error("E0207", format!("alias cycle: {}", cycle.join(" → ")), span)
        .with_primary_label("this alias refers back to itself")
        .with_help("an alias must end in a concrete type")
}

pub fn infinite_record(span: Span, record: &str, field: &str, path: &[String]) -> Diagnostic {
    Diagnostic::error(
        "E0208",
        format!("record `{record}` can only be satisfied by an infinite value"),
        span,
    )
    .with_primary_label(format!(
        "required field `{field}` leads back to `{record}`: {}",
        path.join(" → ")
    ))
    .with_help("make the field optional (`?`) or a `list<…>` so a value can end")
}

pub fn bad_map_key(span: Span, found: &str) -> Diagnostic {
    Diagnostic::error("E0210", format!("`{found}` cannot be a map key"), span)
        .with_primary_label("invalid key type")
        .with_help("map keys are `string`, an integer type or an enum")
}

pub fn constraint_type(span: Span, ann: &str, ty: &str, fits: &str) -> Diagnostic {
    Diagnostic::error("E0400", format!("`@{ann}` does not apply to `{ty}`"), span)
        .with_primary_label(format!("`{ty}` is not {fits}"))
        .with_help(format!("`@{ann}` applies to {fits}"))
}

pub fn min_over_max(span: Span, ann: &str, min: &str, max: &str) -> Diagnostic {
    Diagnostic::error(
        "E0401",
        format!("`@{ann}` has a minimum ({min}) above its maximum ({max})"),
        span,
    )
    .with_primary_label("no value can satisfy this")
    .with_help("swap the bounds, or widen them")
}

pub fn bad_regex(span: Span, err: &str) -> Diagnostic {
    Diagnostic::error("E0402", "invalid regular expression in `@pattern`", span)
        .with_primary_label(err.to_string())
        .with_help("patterns use the syntax of the Rust `regex` crate (RE2-like; no lookaround, no backreferences)")
}

pub fn literal_type(span: Span, what: &str, ty: &str, found: &str) -> Diagnostic {
    Diagnostic::error(
        "E0404",
        format!("{what} does not fit the type `{ty}`"),
        span,
    )
    .with_primary_label(format!("found {found}"))
    .with_help(format!("write a value of type `{ty}`"))
}

pub fn literal_violates(span: Span, what: &str, rule: &str, constraint: Span) -> Diagnostic {
    Diagnostic::error(
        "E0405",
        format!("{what} breaks its own constraint: {rule}"),
        span,
    )
    .with_primary_label("does not satisfy the constraint")
    .with_label(constraint, "constraint declared here")
}

pub fn path_param_not_scalar(span: Span, name: &str, ty: &str, why: &str) -> Diagnostic {
    Diagnostic::error("E0407", format!("path parameter `{name}` {why}"), span)
        .with_primary_label(format!("`{name}: {ty}`"))
        .with_help("path parameters are required scalars: strings, numbers, booleans, uuids, enums")
}

pub fn duplicate_route(span: Span, route: &str, first: Span, first_method: &str) -> Diagnostic {
    Diagnostic::error("E0408", format!("route `{route}` is bound twice"), span)
        .with_primary_label("bound again here")
        .with_label(first, format!("first bound by `{first_method}` here"))
        .with_help("give each method its own HTTP method and path")
}

pub fn duplicate_jsonrpc_name(span: Span, name: &str, first: Span) -> Diagnostic {
    Diagnostic::error(
        "E0410",
        format!("JSON-RPC method name `{name}` is used twice"),
        span,
    )
    .with_primary_label("used again here")
    .with_label(first, "first used here")
    .with_help("set a distinct name with `@jsonrpc(name = \"…\")`")
}

pub fn protobuf_name_clash(
    span: Span,
    owner: &str,
    first: &str,
    second: &str,
    first_span: Span,
) -> Diagnostic {
    Diagnostic::error(
        "E0422",
        format!("`{first}` and `{second}` of `{owner}` are one name to protobuf"),
        span,
    )
    .with_primary_label("clashes in protobuf")
    .with_label(first_span, "with this one")
    .with_help(
        "proto3 compares field names without case and underscores (their JSON names); rename \
         one of them",
    )
}

pub fn protobuf_scope_clash(span: Span, name: &str, first: Span) -> Diagnostic {
    Diagnostic::error(
        "E0425",
        format!(
            "enum value `{name}` has the name of another declaration of the package in protobuf"
        ),
        span,
    )
    .with_primary_label("clashes in protobuf")
    .with_label(first, "also declared here")
    .with_help(
        "protobuf scopes enum values to the package, beside its messages, enums and services; \
         rename the value or the other declaration",
    )
}

pub fn bad_key_type(span: Span, event: &str, key: &str, ty: &str) -> Diagnostic {
    Diagnostic::error(
        "E0426",
        format!("`@key({key})` of event `{event}` names a field of type `{ty}`, which cannot be a message key"),
        span,
    )
    .with_primary_label("not a key type")
    .with_help(
        "key events by a string, uuid, integer, bool, enum, timestamp, date, duration or decimal \
         field: its text is the Kafka message key",
    )
}

pub fn protobuf_container_variant(span: Span, union: &str, variant: &str) -> Diagnostic {
    Diagnostic::error(
        "E0423",
        format!("variant `{variant}` of `{union}` is a list or map, which protobuf cannot hold in a `oneof`"),
        span,
    )
    .with_primary_label("a `oneof` member cannot be repeated in protobuf")
    .with_help("wrap the list or map in a record and make that record the variant")
}

pub fn duplicate_wire_name(span: Span, name: &str, first: Span) -> Diagnostic {
    Diagnostic::error(
        "E0415",
        format!("JSON name `{name}` is used by two fields"),
        span,
    )
    .with_primary_label("used again here")
    .with_label(first, "first used here")
    .with_help("give each field its own `@json` name")
}

pub fn bad_binding_type(
    span: Span,
    name: &str,
    place: &str,
    ty: &str,
    allowed: &str,
) -> Diagnostic {
    Diagnostic::error(
        "E0419",
        format!("{place} `{name}` has type `{ty}`, which cannot travel there"),
        span,
    )
    .with_primary_label(format!("`{ty}` is not {allowed}"))
    .with_help(format!(
        "{place}s carry {allowed}; move the value to the JSON body"
    ))
}

pub fn error_field_named_code(span: Span, error: &str) -> Diagnostic {
    Diagnostic::error(
        "E0420",
        format!("error `{error}` has a payload field named `code`"),
        span,
    )
    .with_primary_label("clashes with the error code")
    .with_help("JSON-RPC carries the error's string code in `error.data.code`; rename the field or give it another `@json` name")
}

pub fn media_type_needs_handler(span: Span, method: &str, what: &str, media: &str) -> Diagnostic {
    Diagnostic::error(
        "E0421",
        format!("`{method}` declares the {what} media type `{media}`, which generated code cannot {}", if what == "request" { "read" } else { "write" }),
        span,
    )
    .with_primary_label(format!("{what}s are JSON unless a handler is written by hand"))
    .with_help(
        "use a JSON media type (`application/json`, `application/problem+json`, `…+json`), or serve the method with `@handler(\"path::to::fn\")`",
    )
}
