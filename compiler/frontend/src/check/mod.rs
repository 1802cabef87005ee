//! Checks on the resolved model: uniqueness, tags, cycles, satisfiability, constraints,
//! literals, HTTP and JSON-RPC bindings. Reads the model and its spans; reports diagnostics.

pub mod values;

mod diagnostics;

use diagnostics as diag;
use std::collections::{HashMap, HashSet};
use svcc_model::Diagnostic;
use svcc_model::source::Span;
use svcc_model::*;

pub fn check(model: &Model) -> Vec<Diagnostic> {
    model
        .packages
        .iter()
        .flat_map(|pkg| check_package(model, pkg))
        .collect()
}

/// The checks of one package (they read other packages' declarations it uses, never their
/// diagnostics), so `svcc watch` can re-check only the packages an edit can affect.
pub fn check_package(model: &Model, pkg: &Package) -> Vec<Diagnostic> {
    let mut c = Checker {
        model,
        out: Vec::new(),
    };
    c.package(pkg);
    c.jsonrpc_names(pkg);
    c.out
}

struct Checker<'a> {
    model: &'a Model,
    out: Vec<Diagnostic>,
}

/// What a set of fields is, for messages.
#[derive(Clone, Copy)]
enum Members {
    Fields,
    Variants,
    Params,
    Results,
}

impl Checker<'_> {
    fn package(&mut self, pkg: &Package) {
        for t in &pkg.types {
            match t {
                TypeDef::Record(r) => self.fields(&r.fields, Members::Fields),
                TypeDef::Union(u) => self.fields(&u.variants, Members::Variants),
                TypeDef::Enum(e) => self.enum_values(e),
                TypeDef::Alias(a) => {
                    self.alias_cycle(pkg, a);
                    self.type_ref(&a.target, a.spans.ty);
                    self.constraints_fit(&a.target, &a.constraints, &a.spans);
                    self.literals(
                        &a.target,
                        &a.constraints,
                        None,
                        a.example.as_ref(),
                        &a.spans,
                    );
                }
            }
        }
        for e in &pkg.errors {
            self.fields(&e.fields, Members::Fields);
            if let Some(f) = e.fields.iter().find(|f| f.wire_name == "code") {
                self.out
                    .push(diag::error_field_named_code(f.spans.name, &e.name));
            }
        }
        for e in &pkg.events {
            self.fields(&e.fields, Members::Fields);
        }
        let mut routes: HashMap<(String, String), (Span, String)> = HashMap::new();
        for s in &pkg.services {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for m in &s.methods {
                if let Some(first) = seen.get(m.name.as_str()) {
                    self.out.push(diag::duplicate_member(
                        "method",
                        &m.name,
                        m.name_span,
                        *first,
                    ));
                } else {
                    seen.insert(&m.name, m.name_span);
                }
                self.fields(&m.params, Members::Params);
                match &m.result {
                    MethodResult::Named(r) => self.fields(r, Members::Results),
                    MethodResult::Single(t) => self.type_ref(t, m.name_span),
                    MethodResult::Empty => {}
                }
                self.bindings(m);
                if let Some(h) = &m.settings.http {
                    let key = (h.method.to_string(), normalize_route(&h.path));
                    let span = m.settings.spans.http.unwrap_or(m.name_span);
                    if let Some((first, first_name)) = routes.get(&key) {
                        let route = format!("{} {}", h.method, h.path);
                        self.out
                            .push(diag::duplicate_route(span, &route, *first, first_name));
                    } else {
                        routes.insert(key, (span, format!("{}.{}", s.name, m.name)));
                    }
                }
            }
        }
        self.infinite_records(pkg);
        // Event payloads are protobuf (unless `@topic(format = json)`), and the package's
        // descriptor describes its events either way: the same rules as gRPC.
        if pkg.services.iter().any(|s| s.transports.grpc) || !pkg.events.is_empty() {
            self.protobuf_names(pkg);
        }
        self.event_keys(pkg);
    }

    /// `@key(field)` names a field whose value is written as the message key's text: a
    /// string, uuid, integer, bool, enum, timestamp, date, duration or decimal.
    fn event_keys(&mut self, pkg: &Package) {
        for e in &pkg.events {
            let Some(key) = &e.key else { continue };
            let Some(f) = e.fields.iter().find(|f| &f.name == key) else {
                continue;
            };
            let ok = match self.model.unalias(&f.ty) {
                TypeRef::Primitive(p) => !matches!(
                    p,
                    Primitive::Any | Primitive::Bytes | Primitive::Float32 | Primitive::Float64
                ),
                TypeRef::Named(n) => matches!(self.model.type_def(n), Some(TypeDef::Enum(_))),
                TypeRef::List(_) | TypeRef::Map(..) => false,
            };
            if !ok {
                self.out.push(diag::bad_key_type(
                    f.spans.ty,
                    &e.name,
                    key,
                    &f.ty.to_string(),
                ));
            }
        }
    }

    /// Under `@grpc`, every message must compile as proto3: no two fields of one message whose
    /// JSON names are equal without case and underscores (proto3 refuses them).
    fn protobuf_names(&mut self, pkg: &Package) {
        let mut sets: Vec<(&str, &[Field])> = Vec::new();
        for t in &pkg.types {
            match t {
                TypeDef::Record(r) => sets.push((&r.name, &r.fields)),
                TypeDef::Union(u) => sets.push((&u.name, &u.variants)),
                _ => {}
            }
        }
        for e in &pkg.errors {
            sets.push((&e.name, &e.fields));
        }
        for e in &pkg.events {
            sets.push((&e.name, &e.fields));
        }
        for s in &pkg.services {
            for m in &s.methods {
                sets.push((&m.name, &m.params));
                if let MethodResult::Named(r) = &m.result {
                    sets.push((&m.name, r));
                }
            }
        }
        for t in &pkg.types {
            if let TypeDef::Union(u) = t {
                for v in &u.variants {
                    if matches!(
                        self.model.unalias(&v.ty),
                        TypeRef::List(_) | TypeRef::Map(..)
                    ) {
                        self.out.push(diag::protobuf_container_variant(
                            v.spans.ty, &u.name, &v.name,
                        ));
                    }
                }
            }
        }
        // protobuf scopes enum values to the package (as C++ does), beside the messages,
        // enums and services; the proto target names values as the contract does.
        let mut scope: HashMap<String, Span> = HashMap::new();
        let mut declare = |name: &str, span: Span, out: &mut Vec<Diagnostic>, value: bool| {
            match scope.get(name) {
                Some(first) if value => out.push(diag::protobuf_scope_clash(span, name, *first)),
                Some(_) => {}
                None => {
                    scope.insert(name.to_string(), span);
                }
            }
        };
        let mut names: Vec<(&str, Span)> = Vec::new();
        for t in &pkg.types {
            match t {
                TypeDef::Record(r) => names.push((&r.name, r.span)),
                TypeDef::Union(u) => names.push((&u.name, u.span)),
                TypeDef::Enum(e) => names.push((&e.name, e.span)),
                TypeDef::Alias(_) => {}
            }
        }
        names.extend(pkg.errors.iter().map(|e| (e.name.as_str(), e.span)));
        names.extend(pkg.events.iter().map(|e| (e.name.as_str(), e.span)));
        names.extend(pkg.services.iter().map(|s| (s.name.as_str(), s.span)));
        for (n, span) in names {
            declare(n, span, &mut self.out, false);
        }
        for t in &pkg.types {
            if let TypeDef::Enum(e) = t {
                for v in &e.values {
                    declare(&v.name, v.span, &mut self.out, true);
                }
            }
        }
        for (owner, fields) in sets {
            let mut seen: Vec<(String, &Field)> = Vec::new();
            for f in fields {
                let key = svcc_model::naming::protobuf_json_name(&f.name).to_lowercase();
                match seen.iter().find(|(k, _)| *k == key) {
                    Some((_, first)) => self.out.push(diag::protobuf_name_clash(
                        f.spans.name,
                        owner,
                        &first.name,
                        &f.name,
                        first.spans.name,
                    )),
                    None => seen.push((key, f)),
                }
            }
        }
    }

    fn fields(&mut self, fields: &[Field], what: Members) {
        let (member, tagged) = match what {
            Members::Fields => ("field", true),
            Members::Variants => ("variant", true),
            Members::Params => ("parameter", true),
            Members::Results => ("result", true),
        };
        let mut names: Seen<&str> = Seen::with_capacity(fields.len());
        let mut wire: Seen<&str> = Seen::with_capacity(fields.len());
        let mut tags: Seen<u32> = Seen::with_capacity(fields.len());
        for f in fields {
            if let Some(first) = names.get(f.name.as_str()) {
                self.out.push(diag::duplicate_member(
                    member,
                    &f.name,
                    f.spans.name,
                    *first,
                ));
                continue;
            }
            names.insert(&f.name, f.spans.name);
            if let Some(first) = wire.get(f.wire_name.as_str()) {
                let span = f.spans.name;
                self.out
                    .push(diag::duplicate_wire_name(span, &f.wire_name, *first));
            }
            if wire.get(f.wire_name.as_str()).is_none() {
                wire.insert(&f.wire_name, f.spans.name);
            }
            if tagged {
                let span = f.spans.tag.unwrap_or(f.spans.name);
                self.tag(u64::from(f.tag), span, f.tag_explicit, &mut tags);
            }
            self.type_ref(&f.ty, f.spans.ty);
            self.constraints_fit(&f.ty, &f.constraints, &f.spans);
            self.literals(
                &f.ty,
                &f.constraints,
                f.default.as_ref(),
                f.example.as_ref(),
                &f.spans,
            );
        }
    }

    fn tag(&mut self, tag: u64, span: Span, explicit: bool, seen: &mut Seen<u32>) {
        if tag == 0 || tag > 536_870_911 {
            self.out.push(diag::tag_out_of_range(tag, span));
            return;
        }
        if (19_000..=19_999).contains(&tag) {
            self.out.push(diag::tag_reserved(tag, span));
            return;
        }
        let t = u32::try_from(tag).unwrap_or(u32::MAX);
        if let Some(first) = seen.get(t) {
            self.out
                .push(diag::duplicate_tag(t, span, *first, !explicit));
        } else {
            seen.insert(t, span);
        }
    }

    fn enum_values(&mut self, e: &Enum) {
        let mut names: Seen<&str> = Seen::with_capacity(e.values.len());
        let mut nums: Seen<u32> = Seen::with_capacity(e.values.len());
        for v in &e.values {
            if let Some(first) = names.get(v.name.as_str()) {
                self.out.push(diag::duplicate_member(
                    "enum value",
                    &v.name,
                    v.span,
                    *first,
                ));
                continue;
            }
            names.insert(&v.name, v.span);
            let span = v.tag_span.unwrap_or(v.span);
            self.tag(u64::from(v.number), span, v.number_explicit, &mut nums);
        }
    }

    /// Map keys must be strings, integers or enums (everywhere a type is written).
    fn type_ref(&mut self, t: &TypeRef, span: Span) {
        match t {
            TypeRef::List(inner) => self.type_ref(inner, span),
            TypeRef::Map(k, v) => {
                let ok = match self.model.unalias(k) {
                    TypeRef::Primitive(p) => *p == Primitive::String || p.is_integer(),
                    TypeRef::Named(n) => {
                        matches!(self.model.type_def(n), Some(TypeDef::Enum(_)) | None)
                    }
                    _ => false,
                };
                if !ok {
                    self.out.push(diag::bad_map_key(span, &k.to_string()));
                }
                self.type_ref(v, span);
            }
            _ => {}
        }
    }

    fn alias_cycle(&mut self, pkg: &Package, a: &Alias) {
        let mut seen = vec![a.name.clone()];
        let mut t = &a.target;
        while let TypeRef::Named(n) = t {
            let Some(TypeDef::Alias(next)) = self.model.type_def(n) else {
                return;
            };
            seen.push(next.name.clone());
            if n.package == pkg.name && next.name == a.name {
                self.out.push(diag::alias_cycle(a.spans.ty, &seen));
                return;
            }
            if seen.len() > 64 || seen[..seen.len() - 1].contains(&next.name) {
                // A cycle that does not pass through `a`: reported from its own members.
                return;
            }
            t = &next.target;
        }
    }

    /// A record is finite when every required field's type can end.
    fn infinite_records(&mut self, pkg: &Package) {
        let mut finite: HashSet<QualifiedName> = HashSet::new();
        // Fixed point over all types of the model (records may refer across packages).
        loop {
            let mut changed = false;
            for p in &self.model.packages {
                for t in &p.types {
                    let q = QualifiedName {
                        package: p.name.clone(),
                        name: t.name().to_string(),
                    };
                    if finite.contains(&q) {
                        continue;
                    }
                    let ok = match t {
                        TypeDef::Record(r) => r
                            .fields
                            .iter()
                            .all(|f| f.optional || self.type_finite(&f.ty, &finite)),
                        TypeDef::Union(u) => {
                            u.variants.iter().any(|f| self.type_finite(&f.ty, &finite))
                        }
                        TypeDef::Alias(a) => self.type_finite(&a.target, &finite),
                        TypeDef::Enum(_) => true,
                    };
                    if ok {
                        finite.insert(q);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        for t in &pkg.types {
            let TypeDef::Record(r) = t else { continue };
            let q = QualifiedName {
                package: pkg.name.clone(),
                name: r.name.clone(),
            };
            if finite.contains(&q) {
                continue;
            }
            if let Some(f) = r
                .fields
                .iter()
                .find(|f| !f.optional && !self.type_finite(&f.ty, &finite))
            {
                let path = vec![r.name.clone(), f.ty.to_string()];
                self.out
                    .push(diag::infinite_record(f.spans.ty, &r.name, &f.name, &path));
            }
        }
    }

    fn type_finite(&self, t: &TypeRef, finite: &HashSet<QualifiedName>) -> bool {
        match t {
            TypeRef::Primitive(_) | TypeRef::List(_) | TypeRef::Map(..) => true,
            TypeRef::Named(n) => self.model.type_def(n).is_none() || finite.contains(n),
        }
    }

    fn constraints_fit(&mut self, ty: &TypeRef, c: &Constraints, spans: &FieldSpans) {
        if c.is_empty() {
            return;
        }
        let base = self.model.unalias(ty);
        let unresolved = matches!(base, TypeRef::Named(n) if self.model.type_def(n).is_none());
        if unresolved {
            return;
        }
        let shown = ty.to_string();
        let span = |name: &str| spans.constraints.get(name).copied().unwrap_or(spans.name);
        let is_string = matches!(base, TypeRef::Primitive(Primitive::String));
        let has_length = matches!(
            base,
            TypeRef::Primitive(Primitive::String | Primitive::Bytes)
                | TypeRef::List(_)
                | TypeRef::Map(..)
        );
        let is_number = matches!(base, TypeRef::Primitive(p) if p.is_number());
        if (c.min_length.is_some() || c.max_length.is_some()) && !has_length {
            self.out.push(diag::constraint_type(
                span("length"),
                "length",
                &shown,
                "a string, bytes, a list or a map",
            ));
        }
        if (c.minimum.is_some() || c.maximum.is_some()) && !is_number {
            self.out.push(diag::constraint_type(
                span("range"),
                "range",
                &shown,
                "a number",
            ));
        }
        if c.pattern.is_some() && !is_string {
            self.out.push(diag::constraint_type(
                span("pattern"),
                "pattern",
                &shown,
                "a string",
            ));
        }
        if c.format.is_some() && !is_string {
            self.out.push(diag::constraint_type(
                span("format"),
                "format",
                &shown,
                "a string",
            ));
        }
        if c.unique && !matches!(base, TypeRef::List(_)) {
            self.out.push(diag::constraint_type(
                span("unique"),
                "unique",
                &shown,
                "a list",
            ));
        }
        if let (Some(min), Some(max)) = (c.min_length, c.max_length)
            && min > max
        {
            self.out.push(diag::min_over_max(
                span("length"),
                "length",
                &min.to_string(),
                &max.to_string(),
            ));
        }
        if let (Some(min), Some(max)) = (c.minimum, c.maximum) {
            let empty = min.value > max.value
                || (min.value == max.value && (min.exclusive || max.exclusive));
            if empty {
                self.out.push(diag::min_over_max(
                    span("range"),
                    "range",
                    &min.value.to_string(),
                    &max.value.to_string(),
                ));
            }
        }
        if let TypeRef::Primitive(p) = base
            && p.is_integer()
        {
            let (lo, hi) = p.int_bounds().unwrap_or((0, 0));
            #[allow(clippy::cast_precision_loss)] // bounds compared in f64 on purpose
            let out_of_type =
                |b: Option<Bound>| b.is_some_and(|b| b.value < lo as f64 || b.value > hi as f64);
            if out_of_type(c.minimum) || out_of_type(c.maximum) {
                self.out.push(diag::invalid_value(
                    span("range"),
                    format!("`@range` bound lies outside the values of `{shown}`"),
                    format!("`{shown}` holds {lo} … {hi}"),
                ));
            }
        }
        if let Some(p) = &c.pattern
            && let Err(e) = regex::Regex::new(p)
        {
            let msg = e.to_string();
            let last = msg
                .lines()
                .last()
                .unwrap_or("invalid regex")
                .trim()
                .to_string();
            self.out.push(diag::bad_regex(span("pattern"), &last));
        }
    }

    fn literals(
        &mut self,
        ty: &TypeRef,
        c: &Constraints,
        default: Option<&Literal>,
        example: Option<&Literal>,
        spans: &FieldSpans,
    ) {
        let items = [
            ("the default value", default, spans.default),
            ("the example", example, spans.example),
        ];
        for (what, lit, span) in items {
            let (Some(lit), Some(span)) = (lit, span) else {
                continue;
            };
            match values::fits(self.model, ty, lit) {
                Err(found) => {
                    self.out
                        .push(diag::literal_type(span, what, &ty.to_string(), &found));
                }
                Ok(()) => {
                    let all = values::effective_constraints(self.model, ty, c);
                    if let Some((rule, name)) = values::violation(&all, lit) {
                        let cspan = spans.constraints.get(name).copied().unwrap_or(spans.ty);
                        self.out
                            .push(diag::literal_violates(span, what, &rule, cspan));
                    }
                }
            }
        }
    }

    fn bindings(&mut self, m: &Method) {
        // Generated code reads and writes JSON; other media types need a hand-written handler.
        if m.settings.handler.is_none() {
            for (media, what) in [
                (&m.settings.request_content_type, "request"),
                (&m.settings.response_content_type, "response"),
            ] {
                if let Some(media) = media
                    && !svcc_rules::is_json_media_type(media)
                {
                    self.out.push(diag::media_type_needs_handler(
                        m.name_span,
                        &m.name,
                        what,
                        media,
                    ));
                }
            }
        }
        let fields = m.params.iter().map(|p| (p, "parameter")).chain(
            match &m.result {
                MethodResult::Named(r) => r.as_slice(),
                _ => &[],
            }
            .iter()
            .map(|r| (r, "result")),
        );
        for (f, _) in fields {
            let base = self.model.unalias(&f.ty);
            let scalar = self.is_scalar(base);
            let ty = f.ty.to_string();
            let span = f.spans.location.unwrap_or(f.spans.name);
            match &f.location {
                Location::Path => {
                    if !scalar {
                        self.out.push(diag::path_param_not_scalar(
                            f.spans.ty,
                            &f.name,
                            &ty,
                            "must be a scalar",
                        ));
                    } else if f.optional {
                        self.out.push(diag::path_param_not_scalar(
                            f.spans.name,
                            &f.name,
                            &ty,
                            "cannot be optional",
                        ));
                    }
                }
                Location::Query(_) => {
                    let ok = scalar
                        || matches!(base, TypeRef::List(inner) if self.is_scalar(self.model.unalias(inner)));
                    if !ok {
                        self.out.push(diag::bad_binding_type(
                            span,
                            &f.name,
                            "query parameter",
                            &ty,
                            "a scalar or a list of scalars",
                        ));
                    }
                }
                Location::Header(_) | Location::Cookie(_) => {
                    if !scalar {
                        let place = if matches!(f.location, Location::Header(_)) {
                            "header"
                        } else {
                            "cookie"
                        };
                        self.out.push(diag::bad_binding_type(
                            span, &f.name, place, &ty, "a scalar",
                        ));
                    }
                }
                Location::Body => {}
            }
        }
    }

    fn is_scalar(&self, t: &TypeRef) -> bool {
        match t {
            TypeRef::Primitive(p) => !matches!(p, Primitive::Any | Primitive::Bytes),
            TypeRef::Named(n) => {
                matches!(self.model.type_def(n), Some(TypeDef::Enum(_)) | None)
            }
            _ => false,
        }
    }

    fn jsonrpc_names(&mut self, pkg: &Package) {
        {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for s in &pkg.services {
                for m in &s.methods {
                    let Some(name) = &m.settings.jsonrpc else {
                        continue;
                    };
                    let span = m.settings.spans.jsonrpc.unwrap_or(m.name_span);
                    if let Some(first) = seen.get(name.as_str()) {
                        // A duplicate method name is reported once, as E0204.
                        let dup_method = s.methods.iter().filter(|o| o.name == m.name).count() > 1;
                        if !dup_method {
                            self.out
                                .push(diag::duplicate_jsonrpc_name(span, name, *first));
                        }
                    } else {
                        seen.insert(name, span);
                    }
                }
            }
        }
    }
}

/// Keys seen so far with where; a linear list while small (records rarely have more than a
/// few dozen fields, where this beats hashing), a hash map beyond that.
struct Seen<K> {
    small: Vec<(K, Span)>,
    large: HashMap<K, Span>,
}

impl<K: Eq + std::hash::Hash + Copy> Seen<K> {
    const LINEAR: usize = 32;

    fn with_capacity(n: usize) -> Seen<K> {
        Seen {
            small: Vec::with_capacity(n.min(Self::LINEAR)),
            large: HashMap::new(),
        }
    }

    fn get(&self, k: K) -> Option<&Span> {
        if self.large.is_empty() {
            self.small.iter().find(|(x, _)| *x == k).map(|(_, s)| s)
        } else {
            self.large.get(&k)
        }
    }

    fn insert(&mut self, k: K, span: Span) {
        if self.large.is_empty() && self.small.len() < Self::LINEAR {
            self.small.push((k, span));
            return;
        }
        if self.large.is_empty() {
            self.large.extend(self.small.drain(..));
        }
        self.large.insert(k, span);
    }
}

/// `/users/{id}` and `/users/{user_id}` are the same route.
fn normalize_route(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                out.push_str("{}");
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    out.trim_end_matches('/').to_string()
}
