//! The OpenAPI target: an OpenAPI 3.0.3 document (the `openapiv3` model) per package, or one
//! merged document. Schemas carry the same constraints the generated validators enforce
//! (patterns are anchored because `@pattern` matches the whole string).

use svcc_model::*;

use indexmap::IndexMap;
use openapiv3 as oa;
use openapiv3::{ReferenceOr, Schema, SchemaData, SchemaKind, Type, VariantOrUnknownOrEmpty};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// OpenAPI versions svcc writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Version {
    /// 3.0.3: the version most tools read (the default).
    #[default]
    V3_0,
    /// 3.1.0: JSON Schema 2020-12 (`null` as a type, numeric exclusive bounds).
    V3_1,
}

/// Options of the OpenAPI target.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenApiOptions {
    pub version: Version,
    pub yaml: bool,
    /// One document for every package instead of one per package.
    pub merged: bool,
}

/// The OpenAPI target (`openapi`).
#[derive(Debug)]
pub struct OpenApiTarget;

impl crate::Target for OpenApiTarget {
    fn name(&self) -> &'static str {
        "openapi"
    }

    fn summary(&self) -> &'static str {
        "OpenAPI documents of the REST and JSON-RPC operations, one per package or merged"
    }

    fn options(&self) -> &'static [crate::OptionSpec] {
        &[
            crate::OptionSpec {
                name: "version",
                kind: crate::OptionKind::Choice(&["3.0", "3.1"]),
                default: "3.0",
                doc: "OpenAPI 3.0.3 or 3.1.0",
            },
            crate::OptionSpec {
                name: "yaml",
                kind: crate::OptionKind::Bool,
                default: "false",
                doc: "write YAML instead of JSON",
            },
            crate::OptionSpec {
                name: "merged",
                kind: crate::OptionKind::Bool,
                default: "false",
                doc: "one document for every package (`api.openapi.json`)",
            },
            crate::OptionSpec {
                name: "title",
                kind: crate::OptionKind::Text,
                default: "the packages' own, or their common name",
                doc: "`info.title` of a merged document",
            },
            crate::OptionSpec {
                name: "api_version",
                kind: crate::OptionKind::Text,
                default: "the packages' own, when they agree",
                doc: "`info.version` of a merged document",
            },
        ]
    }

    fn generate(
        &self,
        model: &Model,
        options: &crate::TargetOptions,
        _cx: &crate::Context,
    ) -> Result<Vec<crate::File>, String> {
        let typed = OpenApiOptions::from_target_options(options);
        // `title` and `api_version` name a merged document.
        let (title, version) = if typed.merged {
            (options.get("title"), options.get("api_version"))
        } else {
            (None, None)
        };
        let mut files = Vec::new();
        for (name, mut doc) in documents(model, typed) {
            if let Some(t) = title {
                doc.info.title = t.to_string();
            }
            if let Some(v) = version {
                doc.info.version = v.to_string();
            }
            files.push(crate::File::new(name, serialize(&doc, typed)));
        }
        Ok(files)
    }
}

impl OpenApiOptions {
    /// The typed form of the target's options.
    pub fn from_target_options(options: &crate::TargetOptions) -> OpenApiOptions {
        OpenApiOptions {
            version: match options.get("version") {
                Some("3.1") => Version::V3_1,
                _ => Version::V3_0,
            },
            yaml: options.flag("yaml", false),
            merged: options.flag("merged", false),
        }
    }

    /// The same options by name (what `Builder::openapi` sets).
    pub fn to_pairs(self) -> [(&'static str, &'static str); 3] {
        let b = |v: bool| if v { "true" } else { "false" };
        [
            (
                "version",
                match self.version {
                    Version::V3_0 => "3.0",
                    Version::V3_1 => "3.1",
                },
            ),
            ("yaml", b(self.yaml)),
            ("merged", b(self.merged)),
        ]
    }
}

/// Documents: one per package, or one merged (`api.openapi.json`).
pub fn generate(model: &Model, options: OpenApiOptions) -> Vec<crate::File> {
    documents(model, options)
        .into_iter()
        .map(|(name, doc)| crate::File::new(name, serialize(&doc, options)))
        .collect()
}

/// The documents as models, by file name.
fn documents(model: &Model, options: OpenApiOptions) -> Vec<(String, oa::OpenAPI)> {
    let ext = if options.yaml { "yaml" } else { "json" };
    let docs: Vec<(String, oa::OpenAPI)> = if options.merged {
        let names: Vec<&str> = model.packages.iter().map(|p| p.name.as_str()).collect();
        vec![(format!("api.openapi.{ext}"), document(model, &names))]
    } else {
        model
            .packages
            .iter()
            .map(|p| {
                (
                    format!("{}.openapi.{ext}", p.name),
                    document(model, &[p.name.as_str()]),
                )
            })
            .collect()
    };
    docs
}

/// Writes a document as JSON or YAML, in the requested version.
pub fn serialize(doc: &oa::OpenAPI, options: OpenApiOptions) -> String {
    // 3.0 is written from the model (keeping its field order); 3.1 is rewritten as JSON first.
    let mut s = match (options.version, options.yaml) {
        (Version::V3_0, false) => serde_json::to_string_pretty(doc).unwrap_or_default(),
        (Version::V3_0, true) => serde_saphyr::to_string(doc).unwrap_or_default(),
        (Version::V3_1, yaml) => {
            let mut value = serde_json::to_value(doc).unwrap_or(Value::Null);
            to_3_1(&mut value);
            if yaml {
                serde_saphyr::to_string(&value).unwrap_or_default()
            } else {
                serde_json::to_string_pretty(&value).unwrap_or_default()
            }
        }
    };
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Rewrites a 3.0 document as 3.1: `nullable` becomes a `null` type, boolean exclusive bounds
/// become numeric ones.
pub(crate) fn to_3_1(v: &mut Value) {
    if let Value::Object(root) = v {
        root.insert("openapi".into(), json!("3.1.0"));
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.remove("nullable") == Some(Value::Bool(true)) {
                    match m.get("type").cloned() {
                        Some(Value::String(t)) => {
                            m.insert("type".into(), json!([t, "null"]));
                        }
                        _ => {
                            let inner = Value::Object(std::mem::take(m));
                            m.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                        }
                    }
                }
                for (flag, bound) in [
                    ("exclusiveMinimum", "minimum"),
                    ("exclusiveMaximum", "maximum"),
                ] {
                    if let Some(Value::Bool(b)) = m.get(flag).cloned() {
                        m.remove(flag);
                        if b && let Some(x) = m.remove(bound) {
                            m.insert(flag.into(), x);
                        }
                    }
                }
                for x in m.values_mut() {
                    walk(x);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(v);
}

/// One package's `@title`; for several, the title they share, else the name they share
/// (`messenger API` for `messenger.user.v1` and `messenger.chat.v1`).
fn merged_title(pkgs: &[&Package], names: &[&str]) -> String {
    let titles: BTreeSet<&str> = pkgs
        .iter()
        .filter_map(|p| p.settings.title.as_deref())
        .collect();
    if titles.len() == 1
        && let Some(t) = titles.first()
    {
        return (*t).to_string();
    }
    if let [one] = names {
        return (*one).to_string();
    }
    let mut common: Vec<&str> = names
        .first()
        .map(|n| n.split('.').collect())
        .unwrap_or_default();
    for n in names.iter().skip(1) {
        let segs: Vec<&str> = n.split('.').collect();
        let keep = common.iter().zip(&segs).take_while(|(a, b)| a == b).count();
        common.truncate(keep);
    }
    if common.is_empty() {
        names.join(", ")
    } else {
        format!("{} API", common.join("."))
    }
}

/// One package's `@version`; for several, the version they share, else each package's.
fn merged_version(pkgs: &[&Package]) -> String {
    let versions: BTreeSet<&str> = pkgs
        .iter()
        .filter_map(|p| p.settings.version.as_deref())
        .collect();
    match versions.len() {
        0 => "0.0.0".to_string(),
        1 => versions
            .first()
            .map(|v| (*v).to_string())
            .unwrap_or_default(),
        _ => pkgs
            .iter()
            .filter_map(|p| Some(format!("{} {}", p.name, p.settings.version.as_deref()?)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The document describing `packages` (schemas of other packages they use are included).
pub fn document(model: &Model, packages: &[&str]) -> oa::OpenAPI {
    let mut b = Builder {
        model,
        own: packages.iter().map(|p| (*p).to_string()).collect(),
        schemas: IndexMap::new(),
        pending: Vec::new(),
        done: BTreeSet::new(),
    };
    let pkgs: Vec<&Package> = model
        .packages
        .iter()
        .filter(|p| b.own.contains(&p.name))
        .collect();
    let mut info = oa::Info {
        title: merged_title(&pkgs, packages),
        version: merged_version(&pkgs),
        ..oa::Info::default()
    };
    let docs: Vec<&str> = pkgs
        .iter()
        .map(|p| p.docs.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    if !docs.is_empty() {
        info.description = Some(docs.join("\n\n"));
    }
    let mut servers = Vec::new();
    let mut tags = Vec::new();
    let mut paths: IndexMap<String, ReferenceOr<oa::PathItem>> = IndexMap::new();
    let mut security_schemes: IndexMap<String, ReferenceOr<oa::SecurityScheme>> = IndexMap::new();
    for p in &pkgs {
        for s in &p.settings.servers {
            if !servers.iter().any(|x: &oa::Server| x.url == s.url) {
                servers.push(oa::Server {
                    url: s.url.clone(),
                    description: s.description.clone(),
                    ..oa::Server::default()
                });
            }
        }
        for t in &p.types {
            b.want(&QualifiedName {
                package: p.name.clone(),
                name: t.name().to_string(),
            });
        }
        for e in &p.errors {
            b.error_schema(p, e);
        }
        for e in &p.events {
            b.event_schema(p, e);
        }
        for svc in &p.services {
            let tag = svc
                .tags
                .first()
                .cloned()
                .unwrap_or_else(|| svc.name.clone());
            if !tags.iter().any(|t: &oa::Tag| t.name == tag) {
                tags.push(oa::Tag {
                    name: tag.clone(),
                    description: (!svc.docs.is_empty()).then(|| svc.docs.clone()),
                    ..oa::Tag::default()
                });
            }
            for m in &svc.methods {
                for s in m.settings.policies.security.iter() {
                    let (name, scheme) = security_scheme(s);
                    security_schemes
                        .entry(name)
                        .or_insert(ReferenceOr::Item(scheme));
                }
                if m.settings.handler.is_some() {
                    continue;
                }
                if let Some(h) = &m.settings.http {
                    let op = b.rest_operation(p, svc, m, &tag);
                    let item = paths
                        .entry(openapi_path(&h.path))
                        .or_insert_with(|| ReferenceOr::Item(oa::PathItem::default()));
                    if let ReferenceOr::Item(item) = item {
                        set_method(item, &h.method, op);
                    }
                }
                if let Some(name) = &m.settings.jsonrpc {
                    let op = b.jsonrpc_operation(p, svc, m, name, &tag);
                    let item = oa::PathItem {
                        post: Some(op),
                        ..oa::PathItem::default()
                    };
                    paths.insert(format!("/rpc/{name}"), ReferenceOr::Item(item));
                }
            }
        }
    }
    if pkgs.iter().any(|p| {
        p.services
            .iter()
            .any(|s| s.methods.iter().any(|m| m.settings.jsonrpc.is_some()))
    }) {
        paths.insert("/rpc".to_string(), ReferenceOr::Item(batch_path()));
    }
    if servers.is_empty() {
        servers.push(oa::Server {
            url: "/".into(),
            description: Some("the server this document is served from".into()),
            ..oa::Server::default()
        });
    }
    b.drain();
    b.common_schemas();
    let mut schemas = b.schemas;
    schemas.sort_keys();
    paths.sort_keys();
    oa::OpenAPI {
        openapi: "3.0.3".to_string(),
        info,
        servers,
        paths: oa::Paths {
            paths,
            ..oa::Paths::default()
        },
        components: Some(oa::Components {
            schemas,
            security_schemes,
            ..oa::Components::default()
        }),
        tags,
        ..oa::OpenAPI::default()
    }
}

fn security_scheme(s: &Security) -> (String, oa::SecurityScheme) {
    match s {
        Security::Bearer => (
            "bearer".into(),
            oa::SecurityScheme::HTTP {
                scheme: "bearer".into(),
                bearer_format: Some("JWT".into()),
                description: None,
                extensions: IndexMap::new(),
            },
        ),
        Security::Basic => (
            "basic".into(),
            oa::SecurityScheme::HTTP {
                scheme: "basic".into(),
                bearer_format: None,
                description: None,
                extensions: IndexMap::new(),
            },
        ),
        Security::ApiKey { header } => (
            "api_key".into(),
            oa::SecurityScheme::APIKey {
                location: oa::APIKeyLocation::Header,
                name: header.to_string(),
                description: None,
                extensions: IndexMap::new(),
            },
        ),
    }
}

fn set_method(item: &mut oa::PathItem, method: &str, op: oa::Operation) {
    let slot = match method {
        "GET" => &mut item.get,
        "PUT" => &mut item.put,
        "POST" => &mut item.post,
        "DELETE" => &mut item.delete,
        "PATCH" => &mut item.patch,
        "HEAD" => &mut item.head,
        _ => &mut item.options,
    };
    *slot = Some(op);
}

/// `/users/{id}` is already OpenAPI's path syntax.
fn openapi_path(p: &str) -> String {
    p.to_string()
}

fn schema(kind: SchemaKind) -> Schema {
    Schema {
        schema_data: SchemaData::default(),
        schema_kind: kind,
    }
}

fn reference(name: &str) -> ReferenceOr<Schema> {
    ReferenceOr::Reference {
        reference: format!("#/components/schemas/{name}"),
    }
}

fn boxed(r: ReferenceOr<Schema>) -> ReferenceOr<Box<Schema>> {
    match r {
        ReferenceOr::Item(s) => ReferenceOr::Item(Box::new(s)),
        ReferenceOr::Reference { reference } => ReferenceOr::Reference { reference },
    }
}

fn string_schema(format: Option<&str>, pattern: Option<String>) -> Schema {
    schema(SchemaKind::Type(Type::String(oa::StringType {
        format: match format {
            Some(f) => VariantOrUnknownOrEmpty::Unknown(f.to_string()),
            None => VariantOrUnknownOrEmpty::Empty,
        },
        pattern,
        ..oa::StringType::default()
    })))
}

fn object(properties: IndexMap<String, ReferenceOr<Box<Schema>>>, required: Vec<String>) -> Schema {
    schema(SchemaKind::Type(Type::Object(oa::ObjectType {
        properties,
        required,
        ..oa::ObjectType::default()
    })))
}

fn literal_json(l: &Literal) -> Value {
    serde_json::to_value(l).unwrap_or(Value::Null)
}

struct Builder<'a> {
    model: &'a Model,
    own: Vec<String>,
    schemas: IndexMap<String, ReferenceOr<Schema>>,
    pending: Vec<QualifiedName>,
    done: BTreeSet<QualifiedName>,
}

impl Builder<'_> {
    /// The component name of a declaration: simple in its own package, qualified otherwise.
    fn component(&self, n: &QualifiedName) -> String {
        if self.own.contains(&n.package) {
            n.name.clone()
        } else {
            format!("{}.{}", n.package, n.name)
        }
    }

    fn want(&mut self, n: &QualifiedName) {
        if !self.done.contains(n) {
            self.pending.push(n.clone());
        }
    }

    fn drain(&mut self) {
        while let Some(n) = self.pending.pop() {
            if !self.done.insert(n.clone()) {
                continue;
            }
            let Some(t) = self.model.type_def(&n) else {
                continue;
            };
            let s = self.type_def(t);
            let name = self.component(&n);
            self.schemas.insert(name, ReferenceOr::Item(s));
        }
    }

    /// The schema of a type reference, with `extra` constraints written in.
    fn type_ref(&mut self, t: &TypeRef, c: &Constraints) -> ReferenceOr<Schema> {
        match t {
            TypeRef::Named(n) => {
                self.want(n);
                let r = reference(&self.component(n));
                if c.is_empty() {
                    r
                } else {
                    // Constraints beside a reference: an allOf of the reference and the bounds.
                    let mut extra = self.constrained(&self.model.unalias(t).clone(), c);
                    extra.schema_data = SchemaData::default();
                    ReferenceOr::Item(schema(SchemaKind::AllOf {
                        all_of: vec![r, ReferenceOr::Item(extra)],
                    }))
                }
            }
            other => ReferenceOr::Item(self.constrained(other, c)),
        }
    }

    fn constrained(&mut self, t: &TypeRef, c: &Constraints) -> Schema {
        let mut s = self.base(t);
        apply(&mut s, c);
        s
    }

    fn base(&mut self, t: &TypeRef) -> Schema {
        match t {
            TypeRef::Primitive(p) => primitive(*p),
            TypeRef::List(i) => {
                let items = self.type_ref(i, &Constraints::default());
                schema(SchemaKind::Type(Type::Array(oa::ArrayType {
                    items: Some(boxed(items)),
                    min_items: None,
                    max_items: None,
                    unique_items: false,
                })))
            }
            TypeRef::Map(_, v) => {
                let values = self.type_ref(v, &Constraints::default());
                schema(SchemaKind::Type(Type::Object(oa::ObjectType {
                    additional_properties: Some(oa::AdditionalProperties::Schema(Box::new(values))),
                    ..oa::ObjectType::default()
                })))
            }
            TypeRef::Named(n) => {
                self.want(n);
                match self.model.type_def(n) {
                    Some(TypeDef::Alias(a)) => {
                        let a = a.clone();
                        self.constrained(&a.target, &a.constraints)
                    }
                    _ => schema(SchemaKind::AllOf {
                        all_of: vec![reference(&self.component(n))],
                    }),
                }
            }
        }
    }

    fn type_def(&mut self, t: &TypeDef) -> Schema {
        match t {
            TypeDef::Record(r) => {
                let mut s = self.fields_object(&r.fields, false);
                s.schema_data.description = nonempty(&r.docs);
                s.schema_data.deprecated = r.deprecated.is_some();
                s
            }
            TypeDef::Alias(a) => {
                let mut s = match self.type_ref(&a.target, &a.constraints) {
                    ReferenceOr::Item(s) => s,
                    r => schema(SchemaKind::AllOf { all_of: vec![r] }),
                };
                s.schema_data.description = nonempty(&a.docs);
                s.schema_data.example = a.example.as_ref().map(literal_json);
                s
            }
            TypeDef::Enum(e) => {
                let mut s = schema(SchemaKind::Type(Type::String(oa::StringType {
                    enumeration: e.values.iter().map(|v| Some(v.name.clone())).collect(),
                    ..oa::StringType::default()
                })));
                s.schema_data.description = nonempty(&e.docs);
                s
            }
            TypeDef::Union(u) => {
                let one_of = u
                    .variants
                    .iter()
                    .map(|v| {
                        let inner = self.type_ref(&v.ty, &v.constraints);
                        let mut props = IndexMap::new();
                        props.insert(v.wire_name.clone(), boxed(inner));
                        let mut o = schema(SchemaKind::Type(Type::Object(oa::ObjectType {
                            properties: props,
                            required: vec![v.wire_name.clone()],
                            additional_properties: Some(oa::AdditionalProperties::Any(false)),
                            ..oa::ObjectType::default()
                        })));
                        o.schema_data.description = nonempty(&v.docs);
                        ReferenceOr::Item(o)
                    })
                    .collect();
                let mut s = schema(SchemaKind::OneOf { one_of });
                s.schema_data.description = nonempty(&u.docs);
                s
            }
        }
    }

    /// An object of fields; `body_only` leaves out header, cookie, path and query fields.
    fn fields_object(&mut self, fields: &[Field], body_only: bool) -> Schema {
        let mut props = IndexMap::new();
        let mut required = Vec::new();
        for f in fields {
            if body_only && f.location != Location::Body {
                continue;
            }
            let p = self.field_schema(f);
            props.insert(f.wire_name.clone(), boxed(p));
            if !f.optional && f.default.is_none() {
                required.push(f.wire_name.clone());
            }
        }
        object(props, required)
    }

    fn field_schema(&mut self, f: &Field) -> ReferenceOr<Schema> {
        let mut inner = self.type_ref(&f.ty, &f.constraints);
        let needs_data = !f.docs.is_empty()
            || f.default.is_some()
            || f.example.is_some()
            || f.deprecated.is_some()
            || (f.optional && f.default.is_none());
        if !needs_data {
            return inner;
        }
        let nullable = f.optional && f.default.is_none() && self.json_type(&f.ty).is_some();
        if let ReferenceOr::Reference { .. } = inner {
            // A reference cannot carry siblings in 3.0: wrap it, with the `type` that
            // `nullable` needs beside it.
            inner = ReferenceOr::Item(schema(SchemaKind::Any(oa::AnySchema {
                typ: if nullable {
                    self.json_type(&f.ty).map(str::to_string)
                } else {
                    None
                },
                all_of: vec![inner],
                ..oa::AnySchema::default()
            })));
        }
        if let ReferenceOr::Item(s) = &mut inner {
            s.schema_data.description = nonempty(&f.docs);
            s.schema_data.default = f.default.as_ref().map(literal_json);
            s.schema_data.example = f.example.as_ref().map(literal_json);
            s.schema_data.deprecated = f.deprecated.is_some();
            s.schema_data.nullable = nullable;
            if let (SchemaKind::AllOf { all_of }, true) = (&s.schema_kind, nullable) {
                // Constraints beside a reference (allOf) also get the type when nullable.
                s.schema_kind = SchemaKind::Any(oa::AnySchema {
                    typ: self.json_type(&f.ty).map(str::to_string),
                    all_of: all_of.clone(),
                    ..oa::AnySchema::default()
                });
            }
        }
        inner
    }

    /// The JSON type of values of `t` (`None` for `any`, which admits every type).
    fn json_type(&self, t: &TypeRef) -> Option<&'static str> {
        match self.model.unalias(t) {
            TypeRef::Primitive(Primitive::Any) => None,
            TypeRef::Primitive(Primitive::Bool) => Some("boolean"),
            TypeRef::Primitive(p) if p.is_integer() => Some("integer"),
            TypeRef::Primitive(Primitive::Float32 | Primitive::Float64) => Some("number"),
            TypeRef::Primitive(_) => Some("string"),
            TypeRef::List(_) => Some("array"),
            TypeRef::Map(..) => Some("object"),
            TypeRef::Named(n) => match self.model.type_def(n) {
                Some(TypeDef::Enum(_)) => Some("string"),
                Some(_) => Some("object"),
                None => None,
            },
        }
    }

    fn error_schema(&mut self, p: &Package, e: &ErrorDef) {
        let mut s = self.fields_object(&e.fields, false);
        s.schema_data.description = Some(format!(
            "{}{}Error `{}` ({}, HTTP {}).",
            e.docs,
            if e.docs.is_empty() { "" } else { "\n\n" },
            e.code,
            e.kind.name(),
            e.http_status
        ));
        let name = self.component(&QualifiedName {
            package: p.name.clone(),
            name: e.name.clone(),
        });
        self.schemas.insert(name, ReferenceOr::Item(s));
    }

    fn event_schema(&mut self, p: &Package, e: &Event) {
        let mut s = self.fields_object(&e.fields, false);
        s.schema_data.description = Some(format!(
            "{}{}Published on the Kafka topic `{}`.",
            e.docs,
            if e.docs.is_empty() { "" } else { "\n\n" },
            e.topic
        ));
        let name = self.component(&QualifiedName {
            package: p.name.clone(),
            name: e.name.clone(),
        });
        self.schemas.insert(name, ReferenceOr::Item(s));
    }

    fn result_schema(&mut self, m: &Method) -> Option<ReferenceOr<Schema>> {
        match &m.result {
            MethodResult::Empty => None,
            MethodResult::Single(t) => Some(self.type_ref(t, &Constraints::default())),
            MethodResult::Named(r) => Some(ReferenceOr::Item(self.fields_object(r, true))),
        }
    }

    /// The `{code, message, data}` body of a REST error, `data` being the payload.
    fn rest_error(&mut self, e: &QualifiedName) -> (u16, ReferenceOr<Schema>, String) {
        let Some(def) = self.model.error(e).cloned() else {
            return (500, reference("Error"), String::new());
        };
        if !self.own.contains(&e.package) {
            let p = self.model.package(&e.package).cloned();
            if let Some(p) = p {
                self.error_schema(&p, &def);
            }
        }
        let mut props = IndexMap::new();
        props.insert(
            "code".to_string(),
            ReferenceOr::boxed_item(schema(SchemaKind::Type(Type::String(oa::StringType {
                enumeration: vec![Some(def.code.clone())],
                ..oa::StringType::default()
            })))),
        );
        props.insert(
            "message".to_string(),
            ReferenceOr::boxed_item(string_schema(None, None)),
        );
        props.insert("data".to_string(), boxed(reference(&self.component(e))));
        let desc = def.docs.lines().next().unwrap_or(&def.code).to_string();
        (
            def.http_status,
            ReferenceOr::Item(object(props, vec!["code".into(), "message".into()])),
            desc,
        )
    }

    fn rest_operation(
        &mut self,
        _p: &Package,
        svc: &Service,
        m: &Method,
        tag: &str,
    ) -> oa::Operation {
        let h = m.settings.http.clone().unwrap_or(HttpBinding {
            method: "POST".into(),
            path: "/".into(),
            status: 200,
        });
        let mut op = self.operation_base(svc, m, tag, "rest");
        for f in &m.params {
            let s = self.field_schema(f);
            let data = |name: String, required: bool| oa::ParameterData {
                name,
                description: nonempty(&f.docs),
                required,
                deprecated: f.deprecated.as_ref().map(|_| true),
                format: oa::ParameterSchemaOrContent::Schema(s.clone()),
                example: f.example.as_ref().map(literal_json),
                examples: IndexMap::new(),
                explode: None,
                extensions: IndexMap::new(),
            };
            let required = !f.optional && f.default.is_none();
            let param = match &f.location {
                Location::Path => oa::Parameter::Path {
                    parameter_data: data(f.wire_name.clone(), true),
                    style: oa::PathStyle::Simple,
                },
                Location::Query(q) => oa::Parameter::Query {
                    parameter_data: data(q.to_string(), required),
                    allow_reserved: false,
                    style: oa::QueryStyle::Form,
                    allow_empty_value: None,
                },
                Location::Header(n) => oa::Parameter::Header {
                    parameter_data: data(n.to_string(), required),
                    style: oa::HeaderStyle::Simple,
                },
                Location::Cookie(n) => oa::Parameter::Cookie {
                    parameter_data: data(n.to_string(), required),
                    style: oa::CookieStyle::Form,
                },
                Location::Body => continue,
            };
            op.parameters.push(ReferenceOr::Item(param));
        }
        let body_fields: Vec<&Field> = m
            .params
            .iter()
            .filter(|f| f.location == Location::Body)
            .collect();
        if !body_fields.is_empty() {
            let owned: Vec<Field> = body_fields.into_iter().cloned().collect();
            let s = self.fields_object(&owned, true);
            let media = m
                .settings
                .request_content_type
                .clone()
                .unwrap_or_else(|| "application/json".into());
            let content = media_content(media, ReferenceOr::Item(s));
            op.request_body = Some(ReferenceOr::Item(oa::RequestBody {
                content,
                required: true,
                ..oa::RequestBody::default()
            }));
        }
        let mut ok = oa::Response {
            description: "Success.".into(),
            ..oa::Response::default()
        };
        if h.status != 204
            && let Some(s) = self.result_schema(m)
        {
            let media = m
                .settings
                .response_content_type
                .clone()
                .unwrap_or_else(|| "application/json".into());
            ok.content = media_content(media, s);
        }
        if let MethodResult::Named(r) = &m.result {
            for f in r {
                let (name, schema_ref) = match &f.location {
                    Location::Header(n) => (n.to_string(), self.field_schema(f)),
                    Location::Cookie(_) => (
                        "Set-Cookie".to_string(),
                        ReferenceOr::Item(string_schema(None, None)),
                    ),
                    _ => continue,
                };
                ok.headers.insert(
                    name,
                    ReferenceOr::Item(oa::Header {
                        description: nonempty(&f.docs),
                        style: oa::HeaderStyle::Simple,
                        required: !f.optional,
                        deprecated: None,
                        format: oa::ParameterSchemaOrContent::Schema(schema_ref),
                        example: None,
                        examples: IndexMap::new(),
                        extensions: IndexMap::new(),
                    }),
                );
            }
        }
        op.responses
            .responses
            .insert(oa::StatusCode::Code(h.status), ReferenceOr::Item(ok));
        // Per status: the schemas of the errors answered with it (declared, or the platform's
        // own `Error`), their descriptions, and the headers the platform sends with them.
        let mut by_status: IndexMap<u16, Vec<(ReferenceOr<Schema>, String)>> = IndexMap::new();
        let mut platform: IndexMap<u16, &'static str> = IndexMap::new();
        for e in &m.throws {
            let (status, s, desc) = self.rest_error(e);
            by_status.entry(status).or_default().push((s, desc));
        }
        by_status
            .entry(400)
            .or_default()
            .push((reference("Error"), "Invalid request.".into()));
        platform.insert(400, "");
        let policies = &m.settings.policies;
        if !policies.public && policies.security.contains(&Security::Bearer) {
            by_status.entry(401).or_default().push((
                reference("Error"),
                "The bearer token is missing, malformed, expired or revoked (see \
                 `WWW-Authenticate`)."
                    .into(),
            ));
            platform.insert(401, "WWW-Authenticate");
        }
        if let Some(limit) = &policies.rate_limit {
            by_status.entry(429).or_default().push((
                reference("Error"),
                format!(
                    "Over the rate limit ({} calls per {} ms{}); retry after `Retry-After` seconds.",
                    limit.limit,
                    limit.period_ms,
                    match limit.key {
                        RateKey::Global => "",
                        RateKey::Ip => " per client address",
                        RateKey::Subject => " per caller",
                    }
                ),
            ));
            platform.insert(429, "Retry-After");
        }
        for (status, items) in by_status {
            let descs: Vec<String> = items.iter().map(|(_, d)| d.clone()).collect();
            let schemas: Vec<ReferenceOr<Schema>> = items.into_iter().map(|(s, _)| s).collect();
            let header = platform.get(&status).copied().filter(|h| !h.is_empty());
            let s = if schemas.len() == 1 {
                schemas
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| reference("Error"))
            } else if platform.contains_key(&status) {
                // The platform's `Error` also matches a declared error's shape: any of them.
                ReferenceOr::Item(schema(SchemaKind::AnyOf { any_of: schemas }))
            } else {
                ReferenceOr::Item(schema(SchemaKind::OneOf { one_of: schemas }))
            };
            let content = media_content("application/json", s);
            let mut headers = IndexMap::new();
            if let Some(h) = header {
                headers.insert(
                    h.to_string(),
                    ReferenceOr::Item(oa::Header {
                        description: Some(match status {
                            401 => {
                                "`Bearer`, with `error=\"invalid_token\"` when a token was sent \
                                    (RFC 6750); sent by the platform's own refusals."
                                    .to_string()
                            }
                            _ => {
                                "Seconds to wait before the next call; sent by the platform's own \
                                  refusals."
                                    .to_string()
                            }
                        }),
                        style: oa::HeaderStyle::Simple,
                        required: false,
                        deprecated: None,
                        format: oa::ParameterSchemaOrContent::Schema(ReferenceOr::Item(
                            if status == 429 {
                                schema(SchemaKind::Type(Type::Integer(oa::IntegerType::default())))
                            } else {
                                string_schema(None, None)
                            },
                        )),
                        example: None,
                        examples: IndexMap::new(),
                        extensions: IndexMap::new(),
                    }),
                );
            }
            op.responses.responses.insert(
                oa::StatusCode::Code(status),
                ReferenceOr::Item(oa::Response {
                    description: descs.join(" "),
                    headers,
                    content,
                    ..oa::Response::default()
                }),
            );
        }
        op.responses.default = Some(ReferenceOr::Item(error_response("Any other failure.")));
        op
    }

    fn jsonrpc_operation(
        &mut self,
        _p: &Package,
        svc: &Service,
        m: &Method,
        name: &str,
        tag: &str,
    ) -> oa::Operation {
        let mut op = self.operation_base(svc, m, tag, "jsonrpc");
        let params = self.fields_object(
            &m.params
                .iter()
                .filter(|f| !matches!(f.location, Location::Header(_) | Location::Cookie(_)))
                .cloned()
                .collect::<Vec<_>>(),
            false,
        );
        let mut props = IndexMap::new();
        props.insert(
            "jsonrpc".into(),
            ReferenceOr::boxed_item(enum_string("2.0")),
        );
        props.insert("method".into(), ReferenceOr::boxed_item(enum_string(name)));
        props.insert("params".into(), ReferenceOr::boxed_item(params));
        props.insert("id".into(), boxed(reference("JsonRpcId")));
        let request = object(props, vec!["jsonrpc".into(), "method".into()]);
        let content = media_content("application/json", ReferenceOr::Item(request));
        op.request_body = Some(ReferenceOr::Item(oa::RequestBody {
            content,
            required: true,
            ..oa::RequestBody::default()
        }));
        let result = self.result_schema(m).unwrap_or_else(|| {
            ReferenceOr::Item(schema(SchemaKind::Any(oa::AnySchema::default())))
        });
        let mut props = IndexMap::new();
        props.insert(
            "jsonrpc".into(),
            ReferenceOr::boxed_item(enum_string("2.0")),
        );
        props.insert("result".into(), boxed(result));
        props.insert("error".into(), boxed(reference("JsonRpcError")));
        props.insert("id".into(), boxed(reference("JsonRpcId")));
        let response = object(props, vec!["jsonrpc".into()]);
        let mut codes: Vec<String> = m
            .throws
            .iter()
            .filter_map(|e| self.model.error(e))
            .map(|e| format!("`{}` ({})", e.code, e.kind.declared_jsonrpc()))
            .collect();
        codes.dedup();
        let mut description = "The JSON-RPC response: `result`, or `error`.".to_string();
        if !codes.is_empty() {
            description.push_str(&format!(" Declared errors (string code in `error.data.code`, numeric code in parentheses): {}.", codes.join(", ")));
        }
        let content = media_content("application/json", ReferenceOr::Item(response));
        op.responses.responses.insert(
            oa::StatusCode::Code(200),
            ReferenceOr::Item(oa::Response {
                description,
                content,
                ..oa::Response::default()
            }),
        );
        op.responses.responses.insert(
            oa::StatusCode::Code(204),
            ReferenceOr::Item(oa::Response {
                description: "The request was a notification (no `id`).".into(),
                ..oa::Response::default()
            }),
        );
        op
    }

    fn operation_base(
        &mut self,
        svc: &Service,
        m: &Method,
        tag: &str,
        transport: &str,
    ) -> oa::Operation {
        let mut op = oa::Operation {
            // A method's own `@tags`, else its service's tag.
            tags: if m.settings.tags.is_empty() {
                vec![tag.to_string()]
            } else {
                m.settings.tags.clone()
            },
            summary: Some(
                m.settings
                    .summary
                    .clone()
                    .or_else(|| m.docs.lines().next().map(str::to_string))
                    .unwrap_or_else(|| format!("{}.{}", svc.name, m.name)),
            ),
            description: nonempty(&m.docs),
            operation_id: Some(format!("{}.{}.{transport}", svc.name, m.name)),
            deprecated: m.settings.deprecated.is_some(),
            ..oa::Operation::default()
        };
        if m.settings.policies.public || m.settings.policies.security.is_empty() {
            op.security = Some(Vec::new());
        } else if let Some(s) = m.settings.policies.security.first() {
            let (name, _) = security_scheme(s);
            let mut req = IndexMap::new();
            req.insert(name, Vec::new());
            op.security = Some(vec![req]);
        }
        op
    }

    fn common_schemas(&mut self) {
        let mut props = IndexMap::new();
        props.insert(
            "code".into(),
            ReferenceOr::boxed_item(string_schema(None, None)),
        );
        props.insert(
            "message".into(),
            ReferenceOr::boxed_item(string_schema(None, None)),
        );
        props.insert(
            "data".into(),
            ReferenceOr::boxed_item(schema(SchemaKind::Any(oa::AnySchema::default()))),
        );
        let mut e = object(props, vec!["code".into(), "message".into()]);
        e.schema_data.description = Some("An error: its string code, a message, and data (a declared error's payload, or `violations`).".into());
        self.schemas.insert("Error".into(), ReferenceOr::Item(e));
        let mut props = IndexMap::new();
        props.insert(
            "code".into(),
            ReferenceOr::boxed_item(schema(SchemaKind::Type(Type::Integer(
                oa::IntegerType::default(),
            )))),
        );
        props.insert(
            "message".into(),
            ReferenceOr::boxed_item(string_schema(None, None)),
        );
        props.insert(
            "data".into(),
            ReferenceOr::boxed_item(schema(SchemaKind::Any(oa::AnySchema::default()))),
        );
        self.schemas.insert(
            "JsonRpcError".into(),
            ReferenceOr::Item(object(props, vec!["code".into(), "message".into()])),
        );
        // A string, a number or null: OpenAPI 3.0 cannot say "null" next to two types, so
        // the schema admits any value and says which ones the server accepts.
        let mut id = schema(SchemaKind::Any(oa::AnySchema::default()));
        id.schema_data.description = Some(
            "A request id: a string, a number or null; absent for notifications (other values \
             are answered with -32600)."
                .into(),
        );
        self.schemas
            .insert("JsonRpcId".into(), ReferenceOr::Item(id));
    }
}

fn batch_path() -> oa::PathItem {
    let any = || ReferenceOr::Item(object(IndexMap::new(), Vec::new()));
    let content = media_content(
        "application/json",
        ReferenceOr::Item(schema(SchemaKind::OneOf {
            one_of: vec![
                any(),
                ReferenceOr::Item(schema(SchemaKind::Type(Type::Array(oa::ArrayType {
                    items: Some(ReferenceOr::boxed_item(schema(SchemaKind::Any(
                        oa::AnySchema::default(),
                    )))),
                    min_items: Some(1),
                    max_items: Some(100),
                    unique_items: false,
                })))),
            ],
        })),
    );
    let mut op = oa::Operation {
        summary: Some("Every JSON-RPC method, and batches of up to 100 calls".into()),
        description: Some("Send one request object, or an array of them. `X-Sync-On: true` runs a batch in order.".into()),
        operation_id: Some("jsonrpc.batch".into()),
        security: Some(Vec::new()),
        tags: vec!["jsonrpc".into()],
        request_body: Some(ReferenceOr::Item(oa::RequestBody {
            content: content.clone(),
            required: true,
            ..oa::RequestBody::default()
        })),
        ..oa::Operation::default()
    };
    op.responses.responses.insert(
        oa::StatusCode::Code(200),
        ReferenceOr::Item(oa::Response {
            description: "A response object, or an array of them in request order.".into(),
            content,
            ..oa::Response::default()
        }),
    );
    op.responses.responses.insert(
        oa::StatusCode::Code(204),
        ReferenceOr::Item(oa::Response {
            description: "Only notifications were sent.".into(),
            ..oa::Response::default()
        }),
    );
    oa::PathItem {
        post: Some(op),
        ..oa::PathItem::default()
    }
}

fn error_response(description: &str) -> oa::Response {
    let content = media_content("application/json", reference("Error"));
    oa::Response {
        description: description.into(),
        content,
        ..oa::Response::default()
    }
}

fn enum_string(v: &str) -> Schema {
    schema(SchemaKind::Type(Type::String(oa::StringType {
        enumeration: vec![Some(v.to_string())],
        ..oa::StringType::default()
    })))
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn primitive(p: Primitive) -> Schema {
    let int = |format: Option<oa::IntegerFormat>, min: Option<i64>, max: Option<i64>| {
        schema(SchemaKind::Type(Type::Integer(oa::IntegerType {
            format: format.map_or(
                VariantOrUnknownOrEmpty::Empty,
                VariantOrUnknownOrEmpty::Item,
            ),
            minimum: min,
            maximum: max,
            ..oa::IntegerType::default()
        })))
    };
    let num = |format: oa::NumberFormat| {
        schema(SchemaKind::Type(Type::Number(oa::NumberType {
            format: VariantOrUnknownOrEmpty::Item(format),
            ..oa::NumberType::default()
        })))
    };
    match p {
        Primitive::Bool => schema(SchemaKind::Type(Type::Boolean(oa::BooleanType::default()))),
        Primitive::Int32 => int(Some(oa::IntegerFormat::Int32), None, None),
        Primitive::Int64 => int(Some(oa::IntegerFormat::Int64), None, None),
        Primitive::Uint32 => int(
            Some(oa::IntegerFormat::Int64),
            Some(0),
            Some(i64::from(u32::MAX)),
        ),
        Primitive::Uint64 => int(None, Some(0), None),
        Primitive::Float32 => num(oa::NumberFormat::Float),
        Primitive::Float64 => num(oa::NumberFormat::Double),
        Primitive::String => string_schema(None, None),
        Primitive::Bytes => string_schema(Some("byte"), None),
        Primitive::Uuid => string_schema(Some("uuid"), None),
        Primitive::Timestamp => string_schema(Some("date-time"), None),
        Primitive::Date => string_schema(Some("date"), None),
        Primitive::Duration => string_schema(None, Some(r"^-?[0-9]+(\.[0-9]{1,9})?s$".into())),
        Primitive::Decimal => string_schema(None, Some(r"^-?[0-9]+(\.[0-9]+)?$".into())),
        Primitive::Any => schema(SchemaKind::Any(oa::AnySchema::default())),
    }
}

/// Writes constraints into a schema, as the validators enforce them.
fn apply(s: &mut Schema, c: &Constraints) {
    let bound = |b: Option<Bound>| b.map(|b| (b.value, b.exclusive));
    match &mut s.schema_kind {
        SchemaKind::Type(Type::String(st)) => {
            st.min_length = c.min_length.and_then(|v| usize::try_from(v).ok());
            st.max_length = c.max_length.and_then(|v| usize::try_from(v).ok());
            if let Some(p) = &c.pattern {
                st.pattern = Some(format!("^(?:{p})$"));
            }
            if let Some(f) = c.format {
                let name = match f {
                    Format::Email => "email",
                    Format::Uri => "uri",
                    Format::Uuid => "uuid",
                    Format::Ipv4 => "ipv4",
                    Format::Ipv6 => "ipv6",
                    Format::Hostname => "hostname",
                    Format::DateTime => "date-time",
                };
                st.format = VariantOrUnknownOrEmpty::Unknown(name.into());
            }
        }
        SchemaKind::Type(Type::Integer(it)) => {
            #[allow(clippy::cast_possible_truncation)] // bounds were checked against the type
            if let Some((v, ex)) = bound(c.minimum) {
                it.minimum = Some(v as i64);
                it.exclusive_minimum = ex;
            }
            #[allow(clippy::cast_possible_truncation)]
            if let Some((v, ex)) = bound(c.maximum) {
                it.maximum = Some(v as i64);
                it.exclusive_maximum = ex;
            }
        }
        SchemaKind::Type(Type::Number(nt)) => {
            if let Some((v, ex)) = bound(c.minimum) {
                nt.minimum = Some(v);
                nt.exclusive_minimum = ex;
            }
            if let Some((v, ex)) = bound(c.maximum) {
                nt.maximum = Some(v);
                nt.exclusive_maximum = ex;
            }
        }
        SchemaKind::Type(Type::Array(at)) => {
            at.min_items = c.min_length.and_then(|v| usize::try_from(v).ok());
            at.max_items = c.max_length.and_then(|v| usize::try_from(v).ok());
            at.unique_items = c.unique;
        }
        SchemaKind::Type(Type::Object(ot)) => {
            ot.min_properties = c.min_length.and_then(|v| usize::try_from(v).ok());
            ot.max_properties = c.max_length.and_then(|v| usize::try_from(v).ok());
        }
        _ => {}
    }
}

/// The merged document of every package, as pretty JSON (written beside the Rust target's
/// `svc.rs` as `openapi.json`, served at `/openapi.json`).
pub fn merged_json(model: &Model) -> String {
    let names: Vec<&str> = model.packages.iter().map(|p| p.name.as_str()).collect();
    let mut text = serde_json::to_string_pretty(&document(model, &names))
        .unwrap_or_else(|_| json!({}).to_string());
    text.push('\n');
    text
}

/// A `content` map with one media type and its schema.
fn media_content(
    media: impl Into<String>,
    schema: ReferenceOr<Schema>,
) -> IndexMap<String, oa::MediaType> {
    let mut content = IndexMap::new();
    content.insert(
        media.into(),
        oa::MediaType {
            schema: Some(schema),
            ..oa::MediaType::default()
        },
    );
    content
}
