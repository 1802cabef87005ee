//! Lints: named warnings with levels (`allow`, `warn`, `deny`), silenced per declaration or
//! per package with `@allow(name)`, or project-wide in `svcc.toml`.

mod diagnostics;
pub mod registry;

pub use registry::{LINTS, Level, Lint, LintConfig, explain};

use crate::resolve::Resolved;
use diagnostics as diag;
use std::collections::HashSet;
use svcc_model::source::Span;
use svcc_model::*;
use svcc_model::{Diagnostic, Severity};

struct Linter<'a> {
    model: &'a Model,
    resolved: &'a Resolved,
    config: &'a LintConfig,
    out: Vec<Diagnostic>,
}

pub fn run(model: &Model, resolved: &Resolved, config: &LintConfig) -> Vec<Diagnostic> {
    let mut l = Linter {
        model,
        resolved,
        config,
        out: Vec::new(),
    };
    for pkg in &model.packages {
        l.naming(pkg);
        l.empty_services(pkg);
        l.missing_docs(pkg);
    }
    l.implicit_tags();
    l.unused();
    l.deprecated();
    l.inert_annotations();
    l.out
}

impl Linter<'_> {
    fn emit(&mut self, package: &str, d: Diagnostic) {
        let Some(lint) = LINTS.iter().find(|l| l.name == d.code) else {
            return;
        };
        let level = self.config.level(lint);
        if level == Level::Allow || self.resolved.allows.allowed(lint.name, package, d.primary) {
            return;
        }
        let mut d = d;
        if level == Level::Deny {
            d.severity = Severity::Error;
        }
        self.out.push(d);
    }

    fn naming(&mut self, pkg: &Package) {
        let mut found = Vec::new();
        let mut upper = |name: &str, span: Span, what: &str| {
            if !is_upper_camel(name) {
                found.push(diag::naming(
                    span,
                    what,
                    name,
                    &svcc_model::naming::upper_camel(name),
                    "UpperCamelCase",
                ));
            }
        };
        for t in &pkg.types {
            upper(t.name(), t.span(), "type");
            if let TypeDef::Enum(e) = t {
                for v in &e.values {
                    upper(&v.name, v.span, "enum value");
                }
            }
        }
        for e in &pkg.errors {
            upper(&e.name, e.span, "error");
        }
        for e in &pkg.events {
            upper(&e.name, e.span, "event");
        }
        for s in &pkg.services {
            upper(&s.name, s.span, "service");
        }
        let mut snake = |f: &Field, what: &str| {
            if !is_snake(&f.name) {
                found.push(diag::naming(
                    f.spans.name,
                    what,
                    &f.name,
                    &svcc_model::naming::snake(&f.name),
                    "snake_case",
                ));
            }
        };
        for t in &pkg.types {
            match t {
                TypeDef::Record(r) => r.fields.iter().for_each(|f| snake(f, "field")),
                TypeDef::Union(u) => u.variants.iter().for_each(|f| snake(f, "variant")),
                _ => {}
            }
        }
        for e in &pkg.errors {
            e.fields.iter().for_each(|f| snake(f, "field"));
        }
        for e in &pkg.events {
            e.fields.iter().for_each(|f| snake(f, "field"));
        }
        let mut methods = Vec::new();
        for s in &pkg.services {
            for m in &s.methods {
                if !is_snake(&m.name) {
                    methods.push(diag::naming(
                        m.name_span,
                        "method",
                        &m.name,
                        &svcc_model::naming::snake(&m.name),
                        "snake_case",
                    ));
                }
                m.params.iter().for_each(|f| snake(f, "parameter"));
                if let MethodResult::Named(r) = &m.result {
                    r.iter().for_each(|f| snake(f, "result"));
                }
            }
        }
        found.extend(methods);
        for d in found {
            self.emit(&pkg.name, d);
        }
    }

    fn empty_services(&mut self, pkg: &Package) {
        for s in &pkg.services {
            if s.methods.is_empty() {
                self.emit(&pkg.name, diag::empty_service(s.span, &s.name));
            }
        }
    }

    fn missing_docs(&mut self, pkg: &Package) {
        let mut found = Vec::new();
        for t in &pkg.types {
            let docs = match t {
                TypeDef::Record(r) => &r.docs,
                TypeDef::Alias(a) => &a.docs,
                TypeDef::Enum(e) => &e.docs,
                TypeDef::Union(u) => &u.docs,
            };
            if docs.is_empty() {
                found.push(diag::missing_docs(t.span(), "type", t.name()));
            }
        }
        for s in &pkg.services {
            if s.docs.is_empty() {
                found.push(diag::missing_docs(s.span, "service", &s.name));
            }
            for m in s.methods.iter().filter(|m| m.docs.is_empty()) {
                found.push(diag::missing_docs(m.name_span, "method", &m.name));
            }
        }
        for e in pkg.errors.iter().filter(|e| e.docs.is_empty()) {
            found.push(diag::missing_docs(e.span, "error", &e.name));
        }
        for e in pkg.events.iter().filter(|e| e.docs.is_empty()) {
            found.push(diag::missing_docs(e.span, "event", &e.name));
        }
        for d in found {
            self.emit(&pkg.name, d);
        }
    }

    /// Types reachable from events and from methods of gRPC services travel as protobuf.
    fn implicit_tags(&mut self) {
        let mut wire: Vec<(String, &Field)> = Vec::new();
        let mut seen: HashSet<QualifiedName> = HashSet::new();
        let mut queue: Vec<TypeRef> = Vec::new();
        for pkg in &self.model.packages {
            for e in &pkg.events {
                for f in &e.fields {
                    wire.push((pkg.name.clone(), f));
                    queue.push(f.ty.clone());
                }
            }
            for s in pkg.services.iter().filter(|s| s.transports.grpc) {
                // Parameter and result lists are numbered by position, as the request and
                // response messages generated from them; the declared types they carry are
                // what a reorder could silently break.
                for m in &s.methods {
                    for f in &m.params {
                        queue.push(f.ty.clone());
                    }
                    match &m.result {
                        MethodResult::Named(r) => {
                            for f in r {
                                queue.push(f.ty.clone());
                            }
                        }
                        MethodResult::Single(t) => queue.push(t.clone()),
                        MethodResult::Empty => {}
                    }
                }
            }
        }
        let mut enums: Vec<(String, &EnumValue, &str)> = Vec::new();
        while let Some(t) = queue.pop() {
            match t {
                TypeRef::List(i) => queue.push(*i),
                TypeRef::Map(k, v) => {
                    queue.push(*k);
                    queue.push(*v);
                }
                TypeRef::Named(n) => {
                    if !seen.insert(n.clone()) {
                        continue;
                    }
                    match self.model.type_def(&n) {
                        Some(TypeDef::Record(r)) => {
                            for f in &r.fields {
                                wire.push((n.package.clone(), f));
                                queue.push(f.ty.clone());
                            }
                        }
                        Some(TypeDef::Union(u)) => {
                            for f in &u.variants {
                                wire.push((n.package.clone(), f));
                                queue.push(f.ty.clone());
                            }
                        }
                        Some(TypeDef::Alias(a)) => queue.push(a.target.clone()),
                        Some(TypeDef::Enum(e)) => {
                            for v in &e.values {
                                enums.push((n.package.clone(), v, &e.name));
                            }
                        }
                        None => {}
                    }
                }
                TypeRef::Primitive(_) => {}
            }
        }
        let mut found = Vec::new();
        let mut spans = HashSet::new();
        for (pkg, f) in wire {
            if !f.tag_explicit && spans.insert(f.spans.name) {
                found.push((
                    pkg,
                    diag::implicit_tag(f.spans.name, "field", &f.name, f.tag),
                ));
            }
        }
        for (pkg, v, _) in enums {
            if !v.number_explicit && spans.insert(v.span) {
                found.push((
                    pkg,
                    diag::implicit_tag(v.span, "enum value", &v.name, v.number),
                ));
            }
        }
        for (pkg, d) in found {
            self.emit(&pkg, d);
        }
    }

    fn unused(&mut self) {
        let mut found = Vec::new();
        for span in &self.resolved.unused_imports {
            let pkg = self.package_of(*span);
            found.push((pkg, diag::unused_import(*span)));
        }
        for (i, sym) in self.resolved.symbols.iter().enumerate() {
            let is_type_or_error =
                matches!(sym.kind, "record" | "alias" | "enum" | "union" | "error");
            if is_type_or_error && self.resolved.references[i].is_empty() {
                found.push((
                    sym.package.clone(),
                    diag::unused_declaration(sym.span, sym.kind, &sym.name),
                ));
            }
        }
        for (pkg, d) in found {
            self.emit(&pkg, d);
        }
    }

    fn deprecated(&mut self) {
        let mut found = Vec::new();
        for (i, sym) in self.resolved.symbols.iter().enumerate() {
            let q = sym.qualified();
            let reason = match self.model.type_def(&q) {
                Some(TypeDef::Record(r)) => r.deprecated.clone(),
                Some(TypeDef::Alias(a)) => a.deprecated.clone(),
                Some(TypeDef::Enum(e)) => e.deprecated.clone(),
                Some(TypeDef::Union(u)) => u.deprecated.clone(),
                None => self.model.error(&q).and_then(|e| e.deprecated.clone()),
            };
            let Some(reason) = reason else { continue };
            for r in &self.resolved.references[i] {
                let pkg = self.package_of(*r);
                found.push((pkg, diag::deprecated_use(*r, &sym.name, &reason, sym.span)));
            }
        }
        for (pkg, d) in found {
            self.emit(&pkg, d);
        }
    }

    fn inert_annotations(&mut self) {
        for u in &self.resolved.annotation_uses {
            if let Some(n) =
                crate::resolve::annotations::not_yet(&u.name, u.site, u.first_ident.as_deref())
            {
                let missing = if n.places.is_empty() {
                    n.missing.to_string()
                } else {
                    format!("on a {}, {}", u.site, n.missing)
                };
                self.emit(
                    &u.package,
                    diag::inert_annotation(u.span, &u.name, &missing),
                );
            }
        }
    }

    /// The package a location belongs to (for package-level `@allow`).
    fn package_of(&self, span: Span) -> String {
        self.resolved
            .file_packages
            .get(&span.file)
            .cloned()
            .unwrap_or_default()
    }
}

pub fn is_upper_camel(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && !s.contains('_')
}

pub fn is_snake(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}
