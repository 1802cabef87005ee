//! Diagnostics of the check stage: annotations, declarations, constraints, bindings.

use super::{Diagnostic, one_of};
use crate::resolve::annotations::{Place, Spec};
use crate::source::Span;
use crate::syntax::ast::{Annotation, Ident, Value};

// ---- annotations (E03xx) ----

pub fn unknown_annotation(a: &Annotation, suggestion: Option<String>) -> Diagnostic {
    let d = Diagnostic::error(
        "E0300",
        format!("unknown annotation `@{}`", a.name.name),
        a.name.span,
    )
    .with_primary_label("unknown annotation");
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `@{s}`?")),
        None => d.with_help("see `svcc explain E0300` for the list of annotations"),
    }
}

pub fn misplaced_annotation(a: &Annotation, place: &str, allowed: &[Place]) -> Diagnostic {
    let places: Vec<String> = allowed.iter().map(|p| p.describe().to_string()).collect();
    Diagnostic::error(
        "E0301",
        format!("`@{}` cannot be used on a {place}", a.name.name),
        a.span,
    )
    .with_primary_label("not allowed here")
    .with_help(format!(
        "`@{}` may stand on: {}",
        a.name.name,
        places.join(", ")
    ))
}

pub fn unknown_argument(
    a: &Annotation,
    name: &Ident,
    spec: &Spec,
    suggestion: Option<String>,
) -> Diagnostic {
    let args: Vec<String> = spec.named.iter().map(|n| format!("`{}`", n.name)).collect();
    let d = Diagnostic::error(
        "E0302",
        format!("`@{}` has no argument `{}`", a.name.name, name.name),
        name.span,
    )
    .with_primary_label("unknown argument");
    match (suggestion, args.is_empty()) {
        (Some(s), _) => d.with_help(format!("did you mean `{s}`?")),
        (None, true) => d.with_help(format!("`@{}` takes no named arguments", a.name.name)),
        (None, false) => d.with_help(format!("the arguments are {}", one_of(&args))),
    }
}

pub fn unexpected_positional(a: &Annotation, span: Span, spec: &Spec) -> Diagnostic {
    let args: Vec<String> = spec
        .named
        .iter()
        .map(|n| format!("`{} = …`", n.name))
        .collect();
    let d = Diagnostic::error(
        "E0302",
        format!("`@{}` takes no positional argument", a.name.name),
        span,
    )
    .with_primary_label("unexpected argument");
    if args.is_empty() {
        d.with_help(format!("write `@{}` without arguments", a.name.name))
    } else {
        d.with_help(format!("name the argument: {}", one_of(&args)))
    }
}

pub fn too_many_arguments(a: &Annotation, span: Span) -> Diagnostic {
    Diagnostic::error(
        "E0302",
        format!("`@{}` takes one positional argument", a.name.name),
        span,
    )
    .with_primary_label("extra argument")
}

pub fn duplicate_argument(a: &Annotation, name: &Ident) -> Diagnostic {
    Diagnostic::error(
        "E0302",
        format!(
            "argument `{}` of `@{}` is given twice",
            name.name, a.name.name
        ),
        name.span,
    )
    .with_primary_label("given again here")
}

pub fn missing_argument(a: &Annotation, arg: &str, spec: &Spec) -> Diagnostic {
    let positional = spec.positional.is_some_and(|p| p.name == arg);
    let example = if positional {
        format!("`@{}(…)`", a.name.name)
    } else {
        format!("`@{}({arg} = …)`", a.name.name)
    };
    Diagnostic::error(
        "E0303",
        format!("`@{}` needs the argument `{arg}`", a.name.name),
        a.span,
    )
    .with_primary_label(format!("`{arg}` is missing"))
    .with_help(format!("write {example}"))
}

pub fn wrong_argument_type(a: &Annotation, arg: &str, v: &Value, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "E0304",
        format!(
            "argument `{arg}` of `@{}` expects {expected}, found {}",
            a.name.name,
            v.kind.describe()
        ),
        v.span,
    )
    .with_primary_label(format!("expected {expected}"))
}

pub fn duplicate_annotation(a: &Annotation, first: Span) -> Diagnostic {
    Diagnostic::error(
        "E0305",
        format!("`@{}` is given more than once here", a.name.name),
        a.span,
    )
    .with_primary_label("given again here")
    .with_label(first, "first given here")
    .with_help("keep one of them")
}

pub fn invalid_choice(
    a: &Annotation,
    arg: &str,
    span: Span,
    found: &str,
    options: &[&str],
    suggestion: Option<String>,
) -> Diagnostic {
    let opts: Vec<String> = options.iter().map(|o| format!("`{o}`")).collect();
    let d = Diagnostic::error(
        "E0306",
        format!("`{found}` is not a valid `{arg}` for `@{}`", a.name.name),
        span,
    )
    .with_primary_label("invalid value");
    match suggestion {
        Some(s) => d.with_help(format!(
            "did you mean `{s}`? the values are {}",
            one_of(&opts)
        )),
        None => d.with_help(format!("the values are {}", one_of(&opts))),
    }
}

pub fn invalid_duration(a: &Annotation, arg: &str, span: Span, found: &str) -> Diagnostic {
    Diagnostic::error(
        "E0306",
        format!(
            "`{found}` is not a valid duration for `{arg}` of `@{}`",
            a.name.name
        ),
        span,
    )
    .with_primary_label("invalid duration")
    .with_help("write a number with a unit: \"250ms\", \"5s\", \"1.5s\", \"2m\", \"24h\", \"1d\"")
}

pub fn invalid_value(span: Span, message: String, help: String) -> Diagnostic {
    Diagnostic::error("E0306", message, span)
        .with_primary_label("invalid value")
        .with_help(help)
}

pub fn http_binding_incomplete(span: Span, missing: &str) -> Diagnostic {
    Diagnostic::error(
        "E0303",
        format!("`@http` on a method needs the argument `{missing}`"),
        span,
    )
    .with_primary_label(format!("`{missing}` is missing"))
    .with_help("write `@http(method = GET, path = \"/things/{id}\")`")
}

pub fn argument_not_here(span: Span, ann: &str, arg: &str, place: &str, help: &str) -> Diagnostic {
    Diagnostic::error(
        "E0307",
        format!("`{arg}` of `@{ann}` cannot be used on a {place}"),
        span,
    )
    .with_primary_label("not allowed here")
    .with_help(help.to_string())
}

// ---- declarations (E02xx) ----

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

pub fn bad_error_kind(span: Span, found: &str, suggestion: Option<String>) -> Diagnostic {
    let d = Diagnostic::error("E0212", format!("unknown error kind `{found}`"), span)
        .with_primary_label("not a canonical error code");
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(
            "the kinds are the canonical codes: not_found, invalid_argument, \
             already_exists, permission_denied, unauthenticated, ... (see `svcc explain E0212`)",
        ),
    }
}

// ---- semantics (E04xx) ----

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

pub fn unbound_path_param(span: Span, name: &str, params: &[String]) -> Diagnostic {
    let d = Diagnostic::error(
        "E0406",
        format!("path parameter `{{{name}}}` does not match a parameter of the method"),
        span,
    )
    .with_primary_label("no such parameter");
    match super::suggest(name, params.iter().map(String::as_str)) {
        Some(s) => d.with_help(format!("did you mean `{{{s}}}`?")),
        None => d.with_help("add the parameter to the method or remove it from the path"),
    }
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

pub fn conflicting_location(span: Span, name: &str, a: &str, b: &str) -> Diagnostic {
    Diagnostic::error(
        "E0409",
        format!("parameter `{name}` cannot be both {a} and {b}"),
        span,
    )
    .with_primary_label("conflicting bindings")
    .with_help("bind each parameter in one place")
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

pub fn bad_event_key(span: Span, key: &str, event: &str, fields: &[String]) -> Diagnostic {
    let d = Diagnostic::error(
        "E0411",
        format!("`@key({key})` does not name a field of event `{event}`"),
        span,
    )
    .with_primary_label("no such field");
    match super::suggest(key, fields.iter().map(String::as_str)) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("name one of the event's fields"),
    }
}

pub fn bad_status(span: Span, status: i128, expected: &str) -> Diagnostic {
    Diagnostic::error(
        "E0412",
        format!("HTTP status {status} is not valid here"),
        span,
    )
    .with_primary_label(format!("expected {expected}"))
}

pub fn bad_path(span: Span, path: &str, why: &str) -> Diagnostic {
    Diagnostic::error("E0413", format!("invalid HTTP path `{path}`: {why}"), span)
        .with_primary_label("invalid path")
        .with_help("paths start with `/` and bind parameters as `{name}`")
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

pub fn bad_log_skip(span: Span, name: &str, names: &[String]) -> Diagnostic {
    let d = Diagnostic::error(
        "E0418",
        format!("`@log(skip)` names `{name}`, which is neither a parameter nor a result"),
        span,
    )
    .with_primary_label("unknown name");
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("response");
    match super::suggest(name, all) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("name a parameter, a result, or `response` for all results"),
    }
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

pub fn bad_jsonrpc_name(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "E0416",
        format!("`{name}` is not a valid JSON-RPC method name"),
        span,
    )
    .with_primary_label("invalid name")
    .with_help("JSON-RPC method names are non-empty and must not start with `rpc.`")
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

pub fn unknown_lint(span: Span, name: &str, suggestion: Option<String>) -> Diagnostic {
    let d = Diagnostic::error("E0306", format!("unknown lint `{name}`"), span)
        .with_primary_label("no such lint");
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("see `svcc explain` with a lint name, or docs/lints.md"),
    }
}
