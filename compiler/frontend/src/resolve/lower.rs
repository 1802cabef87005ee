//! Lowering one package's declarations into the model, with annotations checked and folded
//! into effective settings (method over service over package).

use super::annotations::{Checked, Place, check_all, is_lint};
use super::diagnostics as diag;
use super::{Allows, Resolver};
use crate::lint::registry::LINTS;
use crate::syntax::ast::{self, DeclKind, ValueKind};
use svcc_model::diagnostic::suggest;
use svcc_model::naming::{lower_camel, upper_snake};
use svcc_model::source::{FileId, Span};
use svcc_model::*;

pub fn lower_package(
    r: &mut Resolver<'_>,
    name: &str,
    files: &[FileId],
    allows: &mut Allows,
) -> Package {
    let loaded = r.loaded();
    let mut anns = Vec::new();
    let mut docs = Vec::new();
    let mut span = None;
    for &f in files {
        let Some(tree) = loaded.tree(f) else { continue };
        anns.extend(tree.annotations.iter().cloned());
        if !tree.inner_docs.is_empty() {
            docs.push(tree.inner_docs.text());
        }
        if !tree.package_docs.is_empty() {
            docs.push(tree.package_docs.text());
        }
        span.get_or_insert(tree.package.name.span);
    }
    let mut ds = Vec::new();
    let pkg_anns = check_all(&anns, Place::Package, &mut ds);
    r.report_all(ds);
    let allowed = lint_allows(r, &pkg_anns);
    if !allowed.is_empty() {
        allows.packages.insert(name.to_string(), allowed);
    }
    note_breaks(&pkg_anns, name, None, allows);
    let settings = PackageSettings {
        title: find(&pkg_anns, "title").and_then(|a| a.str("title")),
        version: find(&pkg_anns, "version").and_then(|a| a.str("version")),
        servers: pkg_anns
            .iter()
            .filter(|a| a.name == "server")
            .map(|a| Server {
                url: a.str("url").unwrap_or_default(),
                description: a.str("description"),
            })
            .collect(),
        npm: find(&pkg_anns, "npm").map(|a| Npm {
            name: a.str("name"),
            author: a.str("author"),
            license: a.str("license"),
            repository: a.str("repository"),
            private: a.bool("private"),
        }),
    };
    check_http_args(r, &pkg_anns, Place::Package);
    let mut pkg = Package {
        name: name.to_string(),
        docs: docs.join("\n\n"),
        settings,
        types: Vec::new(),
        errors: Vec::new(),
        services: Vec::new(),
        events: Vec::new(),
        span: span.unwrap_or_default(),
    };
    let pkg_omit = find(&pkg_anns, "omitempty").map(omit_value);
    for &f in files {
        let Some(tree) = loaded.tree(f) else { continue };
        for d in &tree.decls {
            lower_decl(r, f, d, &pkg_anns, pkg_omit, &mut pkg, allows);
        }
    }
    pkg
}

fn find<'c>(anns: &'c [Checked], name: &str) -> Option<&'c Checked> {
    anns.iter().find(|a| a.name == name)
}

fn omit_value(a: &Checked) -> bool {
    a.bool("enabled").unwrap_or(true)
}

fn deprecated(anns: &[Checked]) -> Option<String> {
    find(anns, "deprecated").map(|a| a.str("reason").unwrap_or_default())
}

/// The lint names of `@allow` annotations (unknown names are reported).
fn lint_allows(r: &mut Resolver<'_>, anns: &[Checked]) -> Vec<String> {
    let mut out = Vec::new();
    for a in anns.iter().filter(|a| a.name == "allow") {
        for v in &a.positional {
            if let ValueKind::Ident(q) = &v.kind {
                let name = q.text();
                if is_lint(&name) {
                    out.push(name);
                } else {
                    let s = suggest(&name, LINTS.iter().map(|l| l.name));
                    r.report(diag::unknown_lint(v.span, &name, s));
                }
            }
        }
    }
    out
}

fn note_allows(r: &mut Resolver<'_>, anns: &[Checked], span: Span, allows: &mut Allows) {
    let list = lint_allows(r, anns);
    if !list.is_empty() {
        allows.items.push((span, list));
    }
    note_breaks(anns, "", Some(span), allows);
}

/// `@breaking(rule, …, reason = "…")` (the rule names are checked by the annotation's spec).
fn note_breaks(anns: &[Checked], package: &str, scope: Option<Span>, allows: &mut Allows) {
    for a in anns.iter().filter(|a| a.name == "breaking") {
        let rules = a
            .positional
            .iter()
            .filter_map(|v| match &v.kind {
                ValueKind::Ident(q) => Some(q.text()),
                _ => None,
            })
            .collect();
        allows.breaks.push(super::AllowedBreak {
            package: package.to_string(),
            scope,
            rules,
            reason: a.str("reason").unwrap_or_default(),
        });
    }
}

#[allow(clippy::too_many_lines)] // one arm per kind of declaration reads best together
fn lower_decl(
    r: &mut Resolver<'_>,
    file: FileId,
    d: &ast::Decl,
    pkg_anns: &[Checked],
    pkg_omit: Option<bool>,
    pkg: &mut Package,
    allows: &mut Allows,
) {
    let docs = d.docs.text();
    let name = d.name.name.clone();
    let span = d.name.span;
    let whole = d.span;
    let mut ds = Vec::new();
    match &d.kind {
        DeclKind::Record(body) => {
            let anns = check_all(&d.annotations, Place::Record, &mut ds);
            r.report_all(ds);
            note_allows(r, &anns, whole, allows);
            let fields = lower_fields(r, file, &body.items, Place::Field, allows);
            pkg.types.push(TypeDef::Record(Record {
                name,
                docs,
                fields,
                omit_empty: find(&anns, "omitempty")
                    .map(omit_value)
                    .or(pkg_omit)
                    .unwrap_or(true),
                deprecated: deprecated(&anns),
                span,
            }));
        }
        DeclKind::Alias(t) => {
            let anns = check_all(&d.annotations, Place::Alias, &mut ds);
            r.report_all(ds);
            note_allows(r, &anns, whole, allows);
            let target = r.resolve_type(file, t);
            let mut spans = FieldSpans {
                whole: d.span,
                name: span,
                ty: t.span,
                ..FieldSpans::default()
            };
            let constraints = constraints(&anns, &mut spans);
            let example = find(&anns, "example").and_then(|a| {
                spans.example = Some(a.span_of("value"));
                a.args.get("value").map(literal)
            });
            pkg.types.push(TypeDef::Alias(Alias {
                name,
                docs,
                target,
                constraints,
                example,
                deprecated: deprecated(&anns),
                span,
                spans,
            }));
        }
        DeclKind::Enum(body) => {
            let anns = check_all(&d.annotations, Place::Enum, &mut ds);
            r.report_all(ds);
            note_allows(r, &anns, whole, allows);
            let mut values = Vec::new();
            let mut next = 1u64;
            for v in &body.items {
                let mut ds = Vec::new();
                let vanns = check_all(&v.annotations, Place::EnumValue, &mut ds);
                r.report_all(ds);
                note_allows(r, &vanns, v.span, allows);
                let number = v.tag.as_ref().map_or(next, |t| t.value);
                next = number.saturating_add(1);
                values.push(EnumValue {
                    name: v.name.name.clone(),
                    number: u32::try_from(number).unwrap_or(u32::MAX),
                    number_explicit: v.tag.is_some(),
                    docs: v.docs.text(),
                    deprecated: deprecated(&vanns),
                    span: v.name.span,
                    tag_span: v.tag.as_ref().map(|t| t.span),
                });
            }
            pkg.types.push(TypeDef::Enum(Enum {
                name,
                docs,
                values,
                deprecated: deprecated(&anns),
                span,
            }));
        }
        DeclKind::Union(body) => {
            let anns = check_all(&d.annotations, Place::Union, &mut ds);
            r.report_all(ds);
            note_allows(r, &anns, whole, allows);
            let variants = lower_fields(r, file, &body.items, Place::Field, allows);
            pkg.types.push(TypeDef::Union(Union {
                name,
                docs,
                variants,
                deprecated: deprecated(&anns),
                span,
            }));
        }
        DeclKind::Error { kind, fields } => {
            let anns = check_all(&d.annotations, Place::Error, &mut ds);
            r.report_all(ds);
            note_allows(r, &anns, whole, allows);
            let k = match ErrorKind::from_name(&kind.name) {
                Some(k) => k,
                None => {
                    let s = suggest(&kind.name, ErrorKind::ALL.iter().map(|k| k.name()));
                    r.report(diag::bad_error_kind(kind.span, &kind.name, s));
                    ErrorKind::Unknown
                }
            };
            let mut http_status = k.http_status();
            if let Some(a) = find(&anns, "http_status")
                && let Some(s) = a.int("status")
            {
                if (400..=599).contains(&s) {
                    http_status = u16::try_from(s).unwrap_or(500);
                } else {
                    r.report(diag::bad_status(
                        a.span_of("status"),
                        s,
                        "an error status between 400 and 599",
                    ));
                }
            }
            let code = find(&anns, "code")
                .and_then(|a| a.str("code"))
                .unwrap_or_else(|| upper_snake(&name));
            let fields = match fields {
                Some(b) => lower_fields(r, file, &b.items, Place::Field, allows),
                None => Vec::new(),
            };
            pkg.errors.push(ErrorDef {
                name,
                docs,
                kind: k,
                code,
                http_status,
                fields,
                deprecated: deprecated(&anns),
                span,
            });
        }
        DeclKind::Event(body) => {
            let anns = check_all(&d.annotations, Place::Event, &mut ds);
            r.report_all(ds);
            note_allows(r, &anns, whole, allows);
            let fields = lower_fields(r, file, &body.items, Place::Field, allows);
            let topic = find(&anns, "topic").and_then(|a| a.str("topic"));
            let key = find(&anns, "key").and_then(|a| a.str("field"));
            if let Some(a) = find(&anns, "key")
                && let Some(k) = &key
                && !fields.iter().any(|f| &f.name == k)
            {
                let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
                r.report(diag::bad_event_key(a.span_of("field"), k, &name, &names));
            }
            let format = match find(&anns, "topic")
                .and_then(|a| a.str("format"))
                .as_deref()
            {
                Some("json") => EventFormat::Json,
                _ => EventFormat::Protobuf,
            };
            pkg.events.push(Event {
                topic: topic.unwrap_or_else(|| default_topic(&pkg.name, &name)),
                format,
                name,
                docs,
                key,
                fields,
                deprecated: deprecated(&anns),
                span,
            });
        }
        DeclKind::Service(body) => {
            let anns = check_all(&d.annotations, Place::Service, &mut ds);
            r.report_all(ds);
            note_allows(r, &anns, whole, allows);
            check_http_args(r, &anns, Place::Service);
            let service = lower_service(r, file, d, body, pkg_anns, &anns, allows);
            pkg.services.push(service);
        }
    }
}

/// `messenger.user.v1` + `UserCreated` → `messenger.user.v1.user_created` (used when an event
/// has no `@topic`).
fn default_topic(package: &str, event: &str) -> String {
    format!("{package}.{}", upper_snake(event).to_ascii_lowercase())
}

fn lower_fields(
    r: &mut Resolver<'_>,
    file: FileId,
    items: &[ast::Field],
    place: Place,
    allows: &mut Allows,
) -> Vec<Field> {
    let mut out = Vec::with_capacity(items.len());
    let mut next = 1u64;
    for f in items {
        let field = lower_field(r, file, f, place, next, allows);
        next = u64::from(field.tag).saturating_add(1);
        out.push(field);
    }
    out
}

fn lower_field(
    r: &mut Resolver<'_>,
    file: FileId,
    f: &ast::Field,
    place: Place,
    next_tag: u64,
    allows: &mut Allows,
) -> Field {
    let mut ds = Vec::new();
    let anns = check_all(&f.annotations, place, &mut ds);
    r.report_all(ds);
    note_allows(r, &anns, f.span, allows);
    let ty = r.resolve_type(file, &f.ty);
    let mut spans = FieldSpans {
        whole: f.span,
        name: f.name.span,
        tag: f.tag.as_ref().map(|t| t.span),
        ty: f.ty.span,
        default: f.default.as_ref().map(|v| v.span),
        ..FieldSpans::default()
    };
    let constraints = constraints(&anns, &mut spans);
    let example = find(&anns, "example").and_then(|a| {
        spans.example = Some(a.span_of("value"));
        a.args.get("value").map(literal)
    });
    let tag = f.tag.as_ref().map_or(next_tag, |t| t.value);
    let location = location(&anns, f, &mut spans, r);
    Field {
        name: f.name.name.clone(),
        wire_name: find(&anns, "json")
            .and_then(|a| a.str("name"))
            .unwrap_or_else(|| f.name.name.clone()),
        tag: u32::try_from(tag).unwrap_or(u32::MAX),
        tag_explicit: f.tag.is_some(),
        optional: f.optional.is_some(),
        ty,
        default: f.default.as_ref().map(literal),
        docs: f.docs.text(),
        constraints,
        example,
        deprecated: deprecated(&anns),
        sensitive: find(&anns, "sensitive").map(|a| match a.str("mask").as_deref() {
            Some("first_half") => Mask::FirstHalf,
            Some("last_half") => Mask::LastHalf,
            Some("middle") => Mask::Middle,
            _ => Mask::Full,
        }),
        location,
        spans,
    }
}

/// Header, cookie or query binding from annotations (path and defaults are decided later).
fn location(
    anns: &[Checked],
    f: &ast::Field,
    spans: &mut FieldSpans,
    r: &mut Resolver<'_>,
) -> Location {
    let mut found: Vec<(&str, Location, Span)> = Vec::new();
    for a in anns {
        let loc = match a.name.as_str() {
            "header" => Location::Header(a.str("name").unwrap_or_default().into()),
            "cookie" => Location::Cookie(a.str("name").unwrap_or_default().into()),
            "query" => Location::Query(a.str("name").unwrap_or_else(|| f.name.name.clone()).into()),
            _ => continue,
        };
        found.push((a.name.as_str(), loc, a.span));
    }
    match found.as_slice() {
        [] => Location::Body,
        [(_, loc, span)] => {
            spans.location = Some(*span);
            loc.clone()
        }
        [(a, loc, span), (b, _, second), ..] => {
            r.report(diag::conflicting_location(
                *second,
                &f.name.name,
                &format!("a {a}"),
                &format!("a {b}"),
            ));
            spans.location = Some(*span);
            loc.clone()
        }
    }
}

fn constraints(anns: &[Checked], spans: &mut FieldSpans) -> Constraints {
    let mut c = Constraints::default();
    for a in anns {
        match a.name.as_str() {
            "length" => {
                c.min_length = a.int("min").map(|v| u64::try_from(v).unwrap_or(0));
                c.max_length = a.int("max").map(|v| u64::try_from(v).unwrap_or(0));
            }
            "range" => {
                c.minimum = a
                    .number("min")
                    .map(|value| Bound {
                        value,
                        exclusive: false,
                    })
                    .or_else(|| {
                        a.number("exclusive_min").map(|value| Bound {
                            value,
                            exclusive: true,
                        })
                    });
                c.maximum = a
                    .number("max")
                    .map(|value| Bound {
                        value,
                        exclusive: false,
                    })
                    .or_else(|| {
                        a.number("exclusive_max").map(|value| Bound {
                            value,
                            exclusive: true,
                        })
                    });
            }
            "pattern" => c.pattern = a.str("regex"),
            "format" => {
                c.format = a
                    .str("format")
                    .and_then(|f| Format::ALL.iter().find(|(n, _)| *n == f).map(|(_, v)| *v));
            }
            "unique" => c.unique = true,
            _ => continue,
        }
        spans.constraints.insert(a.name.clone(), a.span);
    }
    c
}

pub fn literal(v: &ast::Value) -> Literal {
    match &v.kind {
        ValueKind::Str(s) => Literal::String(s.value.clone()),
        ValueKind::Int(i, _) => Literal::Int(*i),
        ValueKind::Float(f, _) => Literal::Float(*f),
        ValueKind::Bool(b) => Literal::Bool(*b),
        ValueKind::Ident(q) => Literal::Ident(q.text()),
        ValueKind::List(items) => Literal::List(items.iter().map(literal).collect()),
    }
}

/// `@http` on a package or service takes only `prefix`; on a method everything but `prefix`.
fn check_http_args(r: &mut Resolver<'_>, anns: &[Checked], place: Place) {
    let Some(a) = find(anns, "http") else { return };
    let (bad, help): (&[&str], &str) = match place {
        Place::Method => (&["prefix"], "a prefix belongs on the service or package"),
        _ => (
            &["method", "path", "status"],
            "bind each method with `@http(method = …, path = …)` on the method",
        ),
    };
    for name in bad {
        if a.args.contains_key(name) {
            r.report(diag::argument_not_here(
                a.span_of(name),
                "http",
                name,
                place.describe(),
                help,
            ));
        }
    }
}

fn has(anns: &[Checked], name: &str) -> bool {
    anns.iter().any(|a| a.name == name)
}

#[allow(clippy::too_many_lines)] // the scoping rules are easiest to review in one place
fn lower_service(
    r: &mut Resolver<'_>,
    file: FileId,
    d: &ast::Decl,
    body: &ast::Body<ast::Method>,
    pkg_anns: &[Checked],
    svc_anns: &[Checked],
    allows: &mut Allows,
) -> Service {
    let mut methods = Vec::new();
    let mut method_anns = Vec::new();
    for m in &body.items {
        let mut ds = Vec::new();
        let anns = check_all(&m.annotations, Place::Method, &mut ds);
        r.report_all(ds);
        check_http_args(r, &anns, Place::Method);
        method_anns.push(anns);
    }
    let any_binding = method_anns
        .iter()
        .any(|a| find(a, "http").is_some_and(|h| h.args.contains_key("method")));
    let http = has(pkg_anns, "http") || has(svc_anns, "http") || any_binding;
    let grpc = has(pkg_anns, "grpc") || has(svc_anns, "grpc");
    let jsonrpc = has(pkg_anns, "jsonrpc") || has(svc_anns, "jsonrpc") || (!http && !grpc);
    let transports = Transports {
        jsonrpc,
        http,
        grpc,
    };
    let prefix = |anns: &[Checked]| {
        find(anns, "http")
            .and_then(|a| a.str("prefix"))
            .unwrap_or_default()
    };
    let full_prefix = format!("{}{}", prefix(pkg_anns), prefix(svc_anns));
    let svc_name = &d.name.name;
    for (m, anns) in body.items.iter().zip(method_anns) {
        note_allows(r, &anns, m.span, allows);
        // Innermost wins: method, then service, then package.
        let pick = |name: &str| {
            find(&anns, name)
                .or_else(|| find(svc_anns, name))
                .or_else(|| find(pkg_anns, name))
        };
        let mut params = lower_fields(r, file, &m.params, Place::Param, allows);
        let result = match &m.returns {
            ast::Returns::Nothing => MethodResult::Empty,
            ast::Returns::Named(fields, _) if fields.is_empty() => MethodResult::Empty,
            ast::Returns::Named(fields, _) => {
                MethodResult::Named(lower_fields(r, file, fields, Place::Result, allows))
            }
            ast::Returns::Single(t) => MethodResult::Single(r.resolve_type(file, t)),
        };
        let mut throws = Vec::new();
        let mut throws_spans = Vec::new();
        for q in &m.throws {
            if let Some(e) = r.resolve_error(file, q) {
                throws.push(e);
                throws_spans.push(q.span);
            }
        }
        let mut emits: Vec<QualifiedName> = Vec::new();
        let mut emits_spans: Vec<Span> = Vec::new();
        for q in &m.emits {
            if let Some(e) = r.resolve_event(file, q) {
                if let Some(i) = emits.iter().position(|x| *x == e) {
                    r.report(diag::emitted_twice(q.span, &q.text(), emits_spans[i]));
                    continue;
                }
                emits.push(e);
                emits_spans.push(q.span);
            }
        }
        let mut settings = MethodSettings::default();
        let jsonrpc_ann = find(&anns, "jsonrpc");
        if jsonrpc || jsonrpc_ann.is_some() {
            let name = jsonrpc_ann.and_then(|a| a.str("name")).unwrap_or_else(|| {
                format!("{}.{}", lower_camel(svc_name), lower_camel(&m.name.name))
            });
            settings.spans.jsonrpc = Some(jsonrpc_ann.map_or(m.name.span, |a| a.span_of("name")));
            if name.is_empty() || name.starts_with("rpc.") {
                r.report(diag::bad_jsonrpc_name(
                    settings.spans.jsonrpc.unwrap_or(m.name.span),
                    &name,
                ));
            }
            settings.jsonrpc = Some(name);
        }
        if let Some(h) = find(&anns, "http")
            && let (Some(method), Some(path)) = (h.str("method"), h.str("path"))
        {
            let default_status = if matches!(result, MethodResult::Empty) {
                204
            } else {
                200
            };
            let status = match h.int("status") {
                Some(s) if (200..=299).contains(&s) => u16::try_from(s).unwrap_or(200),
                Some(s) => {
                    r.report(diag::bad_status(
                        h.span_of("status"),
                        s,
                        "a success status between 200 and 299",
                    ));
                    default_status
                }
                None => default_status,
            };
            settings.spans.http = Some(h.span);
            let path_span = h.span_of("path");
            check_path(r, &path, path_span);
            settings.http = Some(HttpBinding {
                method: method.to_ascii_uppercase().into(),
                path: format!("{full_prefix}{path}").into(),
                status,
            });
        } else if let Some(h) = find(&anns, "http")
            && !h.args.contains_key("prefix")
        {
            let missing = if h.args.contains_key("method") {
                "path"
            } else {
                "method"
            };
            r.report(diag::http_binding_incomplete(h.span, missing));
        }
        if let Some(binding) = &settings.http {
            bind_params(r, &mut params, binding, m);
        }
        settings.grpc = grpc;
        let policies = &mut settings.policies;
        policies.public = has(&anns, "public");
        if !policies.public
            && let Some(a) = pick("security")
        {
            policies
                .security
                .to_mut()
                .push(match a.str("scheme").as_deref() {
                    Some("api_key") => Security::ApiKey {
                        header: a
                            .str("header")
                            .unwrap_or_else(|| "X-Api-Key".to_string())
                            .into(),
                    },
                    Some("basic") => Security::Basic,
                    _ => Security::Bearer,
                });
        }
        policies.idempotent = find(&anns, "idempotent").is_some()
            || settings
                .http
                .as_ref()
                .is_some_and(|h| svcc_rules::method::is_idempotent_http_method(&h.method));
        if let Some(a) = pick("log") {
            settings.spans.log = Some(a.span);
            let skip = a.names("skip");
            let mut known: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
            if let MethodResult::Named(res) = &result {
                known.extend(res.iter().map(|f| f.name.clone()));
            }
            // Skips inherited from a service or package may name things this method lacks.
            if find(&anns, "log").is_some() {
                for (n, s) in &skip {
                    if n != "response" && !known.contains(n) {
                        r.report(diag::bad_log_skip(*s, n, &known));
                    }
                }
            }
            policies.log = Some(LogPolicy {
                skip: skip.into_iter().map(|(n, _)| n.into()).collect(),
            });
        }
        policies.metrics = pick("metrics").is_some();
        policies.trace = pick("trace").is_some();
        policies.rate_limit = pick("rate_limit").map(|a| RateLimit {
            limit: a
                .int("limit")
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0),
            period_ms: a.duration_ms("period").unwrap_or(1000),
            key: match a.str("key").as_deref() {
                Some("ip") => RateKey::Ip,
                Some("subject") => RateKey::Subject,
                _ => RateKey::Global,
            },
        });
        if let Some(a) = pick("rate_limit") {
            if a.int("limit").is_some_and(|v| v < 1) {
                r.report(diag::invalid_value(
                    a.span_of("limit"),
                    "a rate limit must allow at least one call".to_string(),
                    "write `limit = 1` or more".to_string(),
                ));
            }
            if a.duration_ms("period") == Some(0) {
                r.report(diag::invalid_value(
                    a.span_of("period"),
                    "a rate limit's period must be longer than zero".to_string(),
                    "write a period such as `\"1s\"` or `\"1m\"`".to_string(),
                ));
            }
        }
        policies.timeout_ms = pick("timeout").and_then(|a| a.duration_ms("duration"));
        policies.circuit_breaker = pick("circuit_breaker").map(|a| CircuitBreaker {
            max_requests: a.int("max_requests").and_then(|v| u64::try_from(v).ok()),
            interval_ms: a.duration_ms("interval"),
            timeout_ms: a.duration_ms("timeout"),
            failure_rate: a.number("failure_rate"),
            min_requests: a.int("min_requests").and_then(|v| u64::try_from(v).ok()),
        });
        if let Some(a) = pick("circuit_breaker")
            && let Some(rate) = a.number("failure_rate")
            && !(0.0..=1.0).contains(&rate)
        {
            r.report(diag::invalid_value(
                a.span_of("failure_rate"),
                format!("failure rate {rate} is not between 0 and 1"),
                "write a fraction such as `0.5` for half the requests".to_string(),
            ));
        }
        // `@fallback` alone keeps good results for a day.
        policies.fallback_ttl_ms =
            pick("fallback").map(|a| a.duration_ms("ttl").unwrap_or(86_400_000));
        if let Some(a) = find(&anns, "content_type") {
            settings.request_content_type = a.str("request");
            settings.response_content_type = a.str("response");
        }
        settings.handler = find(&anns, "handler").and_then(|a| a.str("path"));
        settings.deprecated = deprecated(&anns).or_else(|| deprecated(svc_anns));
        settings.summary = find(&anns, "summary").and_then(|a| a.str("text"));
        settings.tags = tags(pick("tags"));
        settings.omit_empty = find(svc_anns, "omitempty")
            .or_else(|| find(pkg_anns, "omitempty"))
            .is_none_or(omit_value);
        methods.push(Method {
            name: m.name.name.clone(),
            docs: m.docs.text(),
            params,
            result,
            throws,
            emits,
            settings,
            span: m.span,
            name_span: m.name.span,
            throws_spans,
            emits_spans,
        });
    }
    Service {
        name: d.name.name.clone(),
        docs: d.docs.text(),
        methods,
        transports,
        tags: tags(find(svc_anns, "tags")),
        deprecated: deprecated(svc_anns),
        span: d.name.span,
    }
}

fn tags(a: Option<&Checked>) -> Vec<String> {
    a.map(|a| {
        a.positional
            .iter()
            .filter_map(|v| match &v.kind {
                ValueKind::Str(s) => Some(s.value.clone()),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

fn check_path(r: &mut Resolver<'_>, path: &str, span: Span) {
    let why = if !path.starts_with('/') {
        Some("it must start with `/`")
    } else if path.matches('{').count() != path.matches('}').count() {
        Some("`{` and `}` do not match")
    } else if path_params(path).iter().any(|(n, _, _)| {
        n.is_empty()
            || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || n.starts_with(|c: char| c.is_ascii_digit())
    }) {
        Some("a `{…}` segment must hold a parameter name")
    } else if path.contains("//") || path.contains(char::is_whitespace) || path.contains(['?', '#'])
    {
        Some("it must not contain `//`, spaces, `?` or `#`")
    } else {
        None
    };
    if let Some(why) = why {
        r.report(diag::bad_path(span, path, why));
    }
}

/// Marks path parameters and the default query binding for GET, DELETE and HEAD.
fn bind_params(r: &mut Resolver<'_>, params: &mut [Field], binding: &HttpBinding, m: &ast::Method) {
    let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
    for (name, _, _) in path_params(&binding.path) {
        match params.iter_mut().find(|p| p.name == name) {
            Some(p) => {
                if p.location != Location::Body {
                    let other = match &p.location {
                        Location::Header(_) => "a header",
                        Location::Cookie(_) => "a cookie",
                        _ => "a query parameter",
                    };
                    r.report(diag::conflicting_location(
                        p.spans.location.unwrap_or(p.spans.name),
                        &p.name,
                        "a path parameter",
                        other,
                    ));
                }
                p.location = Location::Path;
            }
            None => {
                let span = m
                    .annotations
                    .iter()
                    .find(|a| a.name.name == "http")
                    .and_then(|a| {
                        a.args
                            .iter()
                            .flatten()
                            .find(|x| x.name.as_ref().is_some_and(|n| n.name == "path"))
                    })
                    .map_or(m.name.span, |a| a.value.span);
                r.report(diag::unbound_path_param(span, &name, &names));
            }
        }
    }
    if matches!(&*binding.method, "GET" | "DELETE" | "HEAD") {
        for p in params.iter_mut() {
            if p.location == Location::Body {
                p.location = Location::Query(p.name.clone().into());
            }
        }
    }
}
