//! Diagnostics of the resolve stage: imports, packages, names, annotations.

use super::annotations::{Place, Spec};
use crate::syntax::ast::{Annotation, Ident, Value};
use svcc_model::Diagnostic;
use svcc_model::diagnostic::{all_of, one_of};
use svcc_model::source::Span;

pub fn import_not_found(
    span: Span,
    path: &str,
    tried: &[String],
    near: Option<String>,
) -> Diagnostic {
    let d = Diagnostic::error("E0100", format!("cannot find imported file `{path}`"), span)
        .with_primary_label("no such file");
    match near {
        Some(near) => d.with_help(format!("did you mean `{near}`?")),
        None => d.with_help(format!(
            "looked in {}; add an include root with `-I DIR` if the file lives elsewhere",
            all_of(tried)
        )),
    }
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

pub fn not_an_event(span: Span, name: &str, kind: &str, decl: Span) -> Diagnostic {
    Diagnostic::error(
        "E0213",
        format!("`emits` lists {kind} `{name}`, which is not an event"),
        span,
    )
    .with_primary_label("not an event")
    .with_label(decl, format!("`{name}` is declared as {kind} here"))
    .with_help("declare it with `@topic(\"...\") event Name { ... }`")
}

pub fn emitted_twice(span: Span, name: &str, first: Span) -> Diagnostic {
    Diagnostic::error("E0214", format!("`emits` lists `{name}` twice"), span)
        .with_primary_label("listed again here")
        .with_label(first, "first listed here")
        .with_help("list each event once")
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

// ---- annotations and their arguments (E03xx), checked while lowering ----

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

pub fn conflicting_location(span: Span, name: &str, a: &str, b: &str) -> Diagnostic {
    Diagnostic::error(
        "E0409",
        format!("parameter `{name}` cannot be both {a} and {b}"),
        span,
    )
    .with_primary_label("conflicting bindings")
    .with_help("bind each parameter in one place")
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

pub fn bad_jsonrpc_name(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "E0416",
        format!("`{name}` is not a valid JSON-RPC method name"),
        span,
    )
    .with_primary_label("invalid name")
    .with_help("JSON-RPC method names are non-empty and must not start with `rpc.`")
}

pub fn unknown_lint(span: Span, name: &str, suggestion: Option<String>) -> Diagnostic {
    let d = Diagnostic::error("E0306", format!("unknown lint `{name}`"), span)
        .with_primary_label("no such lint");
    match suggestion {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("see `svcc explain` with a lint name, or docs/lints.md"),
    }
}
