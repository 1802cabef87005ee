//! The annotation registry: every annotation's places and typed arguments, and the checker
//! that turns a written annotation into checked arguments (or diagnostics).

use super::diagnostics as diag;
use crate::lint::registry::LINTS;
use crate::syntax::ast::{Annotation, Value, ValueKind};
use std::collections::BTreeMap;
use svcc_model::Diagnostic;
use svcc_model::source::Span;

/// Where an annotation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Package,
    Service,
    Method,
    Record,
    Alias,
    Enum,
    EnumValue,
    Union,
    Error,
    Event,
    /// A field of a record, event or error, or a union variant.
    Field,
    Param,
    Result,
}

impl Place {
    pub fn describe(self) -> &'static str {
        match self {
            Place::Package => "package",
            Place::Service => "service",
            Place::Method => "method",
            Place::Record => "record",
            Place::Alias => "alias",
            Place::Enum => "enum",
            Place::EnumValue => "enum value",
            Place::Union => "union",
            Place::Error => "error",
            Place::Event => "event",
            Place::Field => "field",
            Place::Param => "parameter",
            Place::Result => "result",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum ArgType {
    Str,
    Int,
    Number,
    Bool,
    /// One identifier out of a fixed set.
    OneOf(&'static [&'static str]),
    /// A string such as `"1.5s"` or `"24h"`.
    Duration,
    /// Any identifier.
    Ident,
    /// A list of identifiers (or strings).
    NameList,
    /// Any literal (checked against a type later).
    Literal,
}

impl ArgType {
    fn describe(self) -> String {
        match self {
            ArgType::Str => "a string".into(),
            ArgType::Int => "an integer".into(),
            ArgType::Number => "a number".into(),
            ArgType::Bool => "`true` or `false`".into(),
            ArgType::OneOf(v) => {
                let items: Vec<String> = v.iter().map(|s| format!("`{s}`")).collect();
                format!("one of {}", items.join(", "))
            }
            ArgType::Duration => "a duration string such as \"5s\"".into(),
            ArgType::Ident => "a name".into(),
            ArgType::NameList => "a list of names such as `[password, response]`".into(),
            ArgType::Literal => "a value".into(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ArgSpec {
    pub name: &'static str,
    pub ty: ArgType,
    pub required: bool,
}

const fn arg(name: &'static str, ty: ArgType) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        required: false,
    }
}

const fn req(name: &'static str, ty: ArgType) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        required: true,
    }
}

#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub places: &'static [Place],
    /// The one argument that may be written without a name (`@timeout("5s")`).
    pub positional: Option<ArgSpec>,
    /// Whether the positional argument may repeat (`@tags("a", "b")`).
    pub variadic: bool,
    pub named: &'static [ArgSpec],
    pub repeatable: bool,
    pub summary: &'static str,
}

use Place::*;

const CONSTRAINT_PLACES: &[Place] = &[Field, Param, Result, Alias];
const ALL_PLACES: &[Place] = &[
    Package, Service, Method, Record, Alias, Enum, EnumValue, Union, Error, Event, Field, Param,
    Result,
];
pub const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
pub const FORMATS: &[&str] = &[
    "email",
    "uri",
    "uuid",
    "ipv4",
    "ipv6",
    "hostname",
    "date_time",
];

const fn spec(name: &'static str, places: &'static [Place], summary: &'static str) -> Spec {
    Spec {
        name,
        places,
        positional: None,
        variadic: false,
        named: &[],
        repeatable: false,
        summary,
    }
}

pub static SPECS: &[Spec] = &[
    Spec {
        positional: Some(req("title", ArgType::Str)),
        ..spec("title", &[Package], "OpenAPI `info.title`")
    },
    Spec {
        positional: Some(req("version", ArgType::Str)),
        ..spec("version", &[Package], "OpenAPI `info.version`, npm version")
    },
    Spec {
        named: &[req("url", ArgType::Str), arg("description", ArgType::Str)],
        repeatable: true,
        ..spec("server", &[Package], "an OpenAPI server")
    },
    Spec {
        positional: Some(req(
            "scheme",
            ArgType::OneOf(&["bearer", "api_key", "basic"]),
        )),
        named: &[arg("header", ArgType::Str)],
        ..spec("security", &[Package, Service], "authentication scheme")
    },
    spec("public", &[Method], "no authentication for this method"),
    Spec {
        named: &[
            arg("name", ArgType::Str),
            arg("author", ArgType::Str),
            arg("license", ArgType::Str),
            arg("repository", ArgType::Str),
            arg("private", ArgType::Bool),
        ],
        ..spec("npm", &[Package], "package.json of the TypeScript client")
    },
    Spec {
        named: &[arg("name", ArgType::Str)],
        ..spec(
            "jsonrpc",
            &[Package, Service, Method],
            "serve over JSON-RPC 2.0 / a method's wire name",
        )
    },
    Spec {
        named: &[
            arg("prefix", ArgType::Str),
            arg("method", ArgType::OneOf(HTTP_METHODS)),
            arg("path", ArgType::Str),
            arg("status", ArgType::Int),
        ],
        ..spec(
            "http",
            &[Package, Service, Method],
            "serve over REST / a method's REST binding",
        )
    },
    spec("grpc", &[Package, Service], "serve over gRPC"),
    Spec {
        positional: Some(arg("name", ArgType::Str)),
        ..spec("query", &[Param], "read from the query string")
    },
    Spec {
        positional: Some(req("name", ArgType::Str)),
        ..spec("header", &[Param, Result], "carried in an HTTP header")
    },
    Spec {
        positional: Some(req("name", ArgType::Str)),
        ..spec("cookie", &[Param, Result], "carried in a cookie")
    },
    Spec {
        named: &[arg("request", ArgType::Str), arg("response", ArgType::Str)],
        ..spec("content_type", &[Method], "media types other than JSON")
    },
    Spec {
        positional: Some(req("path", ArgType::Str)),
        ..spec("handler", &[Method], "custom handler function")
    },
    Spec {
        positional: Some(req("text", ArgType::Str)),
        ..spec("summary", &[Method, Service, Field], "OpenAPI summary")
    },
    Spec {
        positional: Some(req("tag", ArgType::Str)),
        variadic: true,
        ..spec("tags", &[Method, Service, Field], "OpenAPI tags")
    },
    Spec {
        positional: Some(arg("reason", ArgType::Str)),
        ..spec(
            "deprecated",
            ALL_PLACES,
            "deprecated; reaches generated code",
        )
    },
    Spec {
        positional: Some(req("value", ArgType::Literal)),
        ..spec("example", &[Field, Param, Result, Alias], "OpenAPI example")
    },
    Spec {
        positional: Some(req("name", ArgType::Str)),
        ..spec("json", &[Field], "JSON wire name")
    },
    Spec {
        positional: Some(arg("enabled", ArgType::Bool)),
        ..spec(
            "omitempty",
            &[Package, Service, Record],
            "leave absent optional fields out of JSON",
        )
    },
    Spec {
        named: &[arg("skip", ArgType::NameList)],
        ..spec(
            "log",
            &[Package, Service, Method],
            "per-call structured log",
        )
    },
    Spec {
        named: &[arg(
            "mask",
            ArgType::OneOf(&["full", "first_half", "last_half", "middle"]),
        )],
        ..spec("sensitive", &[Field, Param, Result], "masked in logs")
    },
    spec(
        "idempotent",
        &[Method],
        "calling twice has the effect of calling once: clients may retry it",
    ),
    spec("metrics", &[Package, Service, Method], "Prometheus metrics"),
    spec("trace", &[Package, Service, Method], "OpenTelemetry spans"),
    Spec {
        named: &[
            req("limit", ArgType::Int),
            req("period", ArgType::Duration),
            arg("key", ArgType::OneOf(&["global", "ip", "subject"])),
        ],
        ..spec("rate_limit", &[Service, Method], "server-side token bucket")
    },
    Spec {
        positional: Some(req("duration", ArgType::Duration)),
        ..spec(
            "timeout",
            &[Service, Method],
            "server deadline, client timeout",
        )
    },
    Spec {
        named: &[
            arg("max_requests", ArgType::Int),
            arg("interval", ArgType::Duration),
            arg("timeout", ArgType::Duration),
            arg("failure_rate", ArgType::Number),
            arg("min_requests", ArgType::Int),
        ],
        ..spec(
            "circuit_breaker",
            &[Service, Method],
            "client circuit breaker",
        )
    },
    Spec {
        named: &[arg("ttl", ArgType::Duration)],
        ..spec(
            "fallback",
            &[Service, Method],
            "client fallback cache (ttl default 24h)",
        )
    },
    Spec {
        named: &[arg("min", ArgType::Int), arg("max", ArgType::Int)],
        ..spec("length", CONSTRAINT_PLACES, "length bounds")
    },
    Spec {
        named: &[
            arg("min", ArgType::Number),
            arg("max", ArgType::Number),
            arg("exclusive_min", ArgType::Number),
            arg("exclusive_max", ArgType::Number),
        ],
        ..spec("range", CONSTRAINT_PLACES, "numeric bounds")
    },
    Spec {
        positional: Some(req("regex", ArgType::Str)),
        ..spec(
            "pattern",
            CONSTRAINT_PLACES,
            "whole-string regular expression",
        )
    },
    Spec {
        positional: Some(req("format", ArgType::OneOf(FORMATS))),
        ..spec("format", CONSTRAINT_PLACES, "string format")
    },
    spec("unique", CONSTRAINT_PLACES, "no duplicate list items"),
    Spec {
        positional: Some(req("topic", ArgType::Str)),
        named: &[arg("format", ArgType::OneOf(&["protobuf", "json"]))],
        ..spec("topic", &[Event], "Kafka topic and payload format")
    },
    Spec {
        positional: Some(req("field", ArgType::Ident)),
        ..spec("key", &[Event], "the field used as the Kafka key")
    },
    Spec {
        positional: Some(req("code", ArgType::Str)),
        ..spec("code", &[Error], "string error code")
    },
    Spec {
        positional: Some(req("status", ArgType::Int)),
        ..spec("http_status", &[Error], "HTTP status override")
    },
    Spec {
        positional: Some(req("lint", ArgType::Ident)),
        variadic: true,
        repeatable: true,
        ..spec("allow", ALL_PLACES, "silence lints here and below")
    },
    Spec {
        positional: Some(req("rule", ArgType::OneOf(crate::breaking::RULE_NAMES))),
        named: &[req("reason", ArgType::Str)],
        variadic: true,
        repeatable: true,
        ..spec(
            "breaking",
            ALL_PLACES,
            "accept a deliberate breaking change (`svcc breaking`) here and below",
        )
    },
];

/// Annotations the compiler accepts and checks but nothing acts on yet: using one warns
/// (lint `inert_annotation`) with the reason, so nobody believes they work. The issues that
/// build these features empty this table; a test (`svcc-codegen`'s `annotations` test) fails
/// when an annotation outside it changes no generated output.
pub static NOT_YET: &[NotYet] = &[
    NotYet {
        name: "security",
        places: &[],
        schemes: &["api_key", "basic"],
        missing: "it is documented in OpenAPI, but generated servers check only `bearer` tokens \
                  yet",
    },
    NotYet {
        name: "summary",
        places: &["service", "field"],
        schemes: &[],
        missing: "only a method's summary is written (OpenAPI has none for a tag or a property); \
                  use `///` docs",
    },
    NotYet {
        name: "tags",
        places: &["field"],
        schemes: &[],
        missing: "OpenAPI has no tags for a property; use `///` docs",
    },
];

/// An entry of [`NOT_YET`].
#[derive(Debug)]
pub struct NotYet {
    pub name: &'static str,
    /// Where it has no effect (as [`crate::resolve::AnnotationUse::site`] words it); empty:
    /// everywhere.
    pub places: &'static [&'static str],
    /// The first arguments (schemes) it has no effect with; empty: any.
    pub schemes: &'static [&'static str],
    /// What does not happen yet, as the rest of a sentence.
    pub missing: &'static str,
}

/// The [`NOT_YET`] entry of an annotation standing at `site` with first identifier argument
/// `first` (`bearer` of `@security(bearer)`).
pub fn not_yet(name: &str, site: &str, first: Option<&str>) -> Option<&'static NotYet> {
    NOT_YET.iter().find(|n| {
        n.name == name
            && (n.places.is_empty() || n.places.contains(&site))
            && (n.schemes.is_empty() || first.is_some_and(|f| n.schemes.contains(&f)))
    })
}

pub fn spec_of(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// A checked annotation: arguments by name (positional ones under the positional name).
#[derive(Clone, Debug)]
pub struct Checked {
    pub name: String,
    pub span: Span,
    pub args: BTreeMap<&'static str, Value>,
    /// Every positional value (for variadic annotations).
    pub positional: Vec<Value>,
}

impl Checked {
    pub fn str(&self, name: &str) -> Option<String> {
        match &self.args.get(name)?.kind {
            ValueKind::Str(s) => Some(s.value.clone()),
            ValueKind::Ident(q) => Some(q.text()),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i128> {
        match &self.args.get(name)?.kind {
            ValueKind::Int(v, _) => Some(*v),
            _ => None,
        }
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        match &self.args.get(name)?.kind {
            #[allow(clippy::cast_precision_loss)] // bounds are compared as f64 by design
            ValueKind::Int(v, _) => Some(*v as f64),
            ValueKind::Float(v, _) => Some(*v),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match &self.args.get(name)?.kind {
            ValueKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn span_of(&self, name: &str) -> Span {
        self.args.get(name).map_or(self.span, |v| v.span)
    }

    /// Milliseconds of a duration argument (already validated).
    pub fn duration_ms(&self, name: &str) -> Option<u64> {
        parse_duration_ms(&self.str(name)?)
    }

    pub fn names(&self, name: &str) -> Vec<(String, Span)> {
        match self.args.get(name).map(|v| &v.kind) {
            Some(ValueKind::List(items)) => items
                .iter()
                .filter_map(|v| match &v.kind {
                    ValueKind::Ident(q) => Some((q.text(), v.span)),
                    ValueKind::Str(s) => Some((s.value.clone(), v.span)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Parses `"250ms"`, `"5s"`, `"1.5s"`, `"2m"`, `"24h"`, `"1d"`, `"1h30m"` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * factor;
    }
    if !total.is_finite() || total > 1e15 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked above
    Some(total.round() as u64)
}

/// Checks annotations standing at one place. Returns the good ones by name, in order.
pub fn check_all(anns: &[Annotation], place: Place, diags: &mut Vec<Diagnostic>) -> Vec<Checked> {
    let mut out: Vec<Checked> = Vec::new();
    for a in anns {
        let Some(spec) = spec_of(&a.name.name) else {
            let names = SPECS.iter().map(|s| s.name);
            diags.push(diag::unknown_annotation(
                a,
                svcc_model::diagnostic::suggest(&a.name.name, names),
            ));
            continue;
        };
        if !spec.places.contains(&place) {
            diags.push(diag::misplaced_annotation(a, place.describe(), spec.places));
            continue;
        }
        if !spec.repeatable
            && let Some(first) = out.iter().find(|c| c.name == spec.name)
        {
            diags.push(diag::duplicate_annotation(a, first.span));
            continue;
        }
        if let Some(c) = check_one(a, spec, diags) {
            out.push(c);
        }
    }
    out
}

fn check_one(a: &Annotation, spec: &Spec, diags: &mut Vec<Diagnostic>) -> Option<Checked> {
    let mut checked = Checked {
        name: spec.name.to_string(),
        span: a.span,
        args: BTreeMap::new(),
        positional: Vec::new(),
    };
    let before = diags.len();
    for arg in a.args.iter().flatten() {
        match &arg.name {
            None => {
                let Some(pos) = spec.positional else {
                    diags.push(diag::unexpected_positional(a, arg.span, spec));
                    continue;
                };
                if !checked.positional.is_empty() && !spec.variadic {
                    diags.push(diag::too_many_arguments(a, arg.span));
                    continue;
                }
                if check_value(a, pos, &arg.value, diags) {
                    checked.positional.push(arg.value.clone());
                    checked
                        .args
                        .entry(pos.name)
                        .or_insert_with(|| arg.value.clone());
                }
            }
            Some(name) => {
                let Some(named) = spec.named.iter().find(|n| n.name == name.name) else {
                    let names = spec.named.iter().map(|n| n.name);
                    let suggestion = svcc_model::diagnostic::suggest(&name.name, names);
                    diags.push(diag::unknown_argument(a, name, spec, suggestion));
                    continue;
                };
                if checked.args.contains_key(named.name) {
                    diags.push(diag::duplicate_argument(a, name));
                    continue;
                }
                if check_value(a, *named, &arg.value, diags) {
                    checked.args.insert(named.name, arg.value.clone());
                }
            }
        }
    }
    let required = spec.positional.iter().chain(spec.named.iter());
    for r in required.filter(|r| r.required) {
        if !checked.args.contains_key(r.name) && diags.len() == before {
            diags.push(diag::missing_argument(a, r.name, spec));
        }
    }
    (diags.len() == before).then_some(checked)
}

fn check_value(a: &Annotation, spec: ArgSpec, v: &Value, diags: &mut Vec<Diagnostic>) -> bool {
    let ok = match (&spec.ty, &v.kind) {
        (ArgType::Str, ValueKind::Str(_)) => true,
        (ArgType::Int, ValueKind::Int(..)) => true,
        (ArgType::Number, ValueKind::Int(..) | ValueKind::Float(..)) => true,
        (ArgType::Bool, ValueKind::Bool(_)) => true,
        (ArgType::Ident, ValueKind::Ident(q)) => q.segments.len() == 1,
        (ArgType::OneOf(options), ValueKind::Ident(q)) => {
            let text = q.text();
            if options.contains(&text.as_str()) {
                true
            } else {
                let suggestion = svcc_model::diagnostic::suggest(&text, options.iter().copied());
                diags.push(diag::invalid_choice(
                    a, spec.name, v.span, &text, options, suggestion,
                ));
                return false;
            }
        }
        (ArgType::Duration, ValueKind::Str(s)) => {
            if parse_duration_ms(&s.value).is_some() {
                true
            } else {
                diags.push(diag::invalid_duration(a, spec.name, v.span, &s.value));
                return false;
            }
        }
        (ArgType::NameList, ValueKind::List(items)) => items
            .iter()
            .all(|i| matches!(&i.kind, ValueKind::Ident(_) | ValueKind::Str(_))),
        (ArgType::Literal, _) => true,
        _ => false,
    };
    if !ok {
        diags.push(diag::wrong_argument_type(
            a,
            spec.name,
            v,
            &spec.ty.describe(),
        ));
    }
    ok
}

/// Lint names accepted by `@allow`.
pub fn is_lint(name: &str) -> bool {
    LINTS.iter().any(|l| l.name == name)
}
