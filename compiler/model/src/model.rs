//! The resolved model: what every emitter reads. Never the syntax tree.
//!
//! Packages are merged across files; every type reference is resolved to a primitive, a
//! container or a fully qualified declaration; services and methods carry their *effective*
//! settings (annotation scoping applied: method over service over package). Spans are kept
//! for diagnostics only and are not part of the model's identity (`serde` skips them, so two
//! models compare equal through their JSON form when only layout differs).

use crate::source::Span;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default, Serialize)]
pub struct Model {
    /// Sorted by name.
    pub packages: Vec<Package>,
    /// Lookup tables, rebuilt by [`Model::reindex`] (not part of the model's content).
    #[serde(skip)]
    index: Index,
}

/// Per package: its position, and its types and errors by name.
#[derive(Clone, Debug, Default)]
struct Index {
    packages: HashMap<String, PackageIndex>,
}

#[derive(Clone, Debug, Default)]
struct PackageIndex {
    position: usize,
    types: HashMap<String, usize>,
    errors: HashMap<String, usize>,
}

impl Model {
    pub fn new(packages: Vec<Package>) -> Model {
        let mut m = Model {
            packages,
            index: Index::default(),
        };
        m.reindex();
        m
    }

    /// Rebuilds the lookup tables; call after changing `packages` by hand.
    pub fn reindex(&mut self) {
        let mut index = Index::default();
        for (position, p) in self.packages.iter().enumerate() {
            let mut pi = PackageIndex {
                position,
                ..PackageIndex::default()
            };
            for (ti, t) in p.types.iter().enumerate() {
                pi.types.entry(t.name().to_string()).or_insert(ti);
            }
            for (ei, e) in p.errors.iter().enumerate() {
                pi.errors.entry(e.name.clone()).or_insert(ei);
            }
            index.packages.insert(p.name.clone(), pi);
        }
        self.index = index;
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.get(self.index.packages.get(name)?.position)
    }

    /// A declared type (record, alias, enum or union) by its qualified name.
    pub fn type_def(&self, name: &QualifiedName) -> Option<&TypeDef> {
        let pi = self.index.packages.get(&name.package)?;
        self.packages
            .get(pi.position)?
            .types
            .get(*pi.types.get(&name.name)?)
    }

    pub fn error(&self, name: &QualifiedName) -> Option<&ErrorDef> {
        let pi = self.index.packages.get(&name.package)?;
        self.packages
            .get(pi.position)?
            .errors
            .get(*pi.errors.get(&name.name)?)
    }

    /// Where `@sensitive` values stand among `fields` (a method's parameters or results), as
    /// JSON paths of wire names: `password`, `credentials.password`, `items[].secret`,
    /// `settings{}.token` (a map's values), each with its mask. Records are followed through
    /// fields, unions, aliases, lists and maps; a record met again on the same path stops there.
    pub fn sensitive_paths<'a>(
        &self,
        fields: impl IntoIterator<Item = &'a Field>,
    ) -> Vec<Sensitive> {
        let mut out = Vec::new();
        let mut visiting = Vec::new();
        self.sensitive_in(fields, "", &mut visiting, &mut out);
        out
    }

    fn sensitive_in<'a>(
        &self,
        fields: impl IntoIterator<Item = &'a Field>,
        prefix: &str,
        visiting: &mut Vec<QualifiedName>,
        out: &mut Vec<Sensitive>,
    ) {
        for f in fields {
            let path = format!("{prefix}{}", f.wire_name);
            match f.sensitive {
                Some(mask) => out.push(Sensitive {
                    name: path.into(),
                    mask,
                }),
                None => self.sensitive_type(&f.ty, &path, visiting, out),
            }
        }
    }

    fn sensitive_type(
        &self,
        ty: &TypeRef,
        path: &str,
        visiting: &mut Vec<QualifiedName>,
        out: &mut Vec<Sensitive>,
    ) {
        match self.unalias(ty) {
            TypeRef::List(inner) => self.sensitive_type(inner, &format!("{path}[]"), visiting, out),
            TypeRef::Map(_, value) => {
                self.sensitive_type(value, &format!("{path}{{}}"), visiting, out);
            }
            TypeRef::Named(n) if !visiting.contains(n) => {
                let fields = match self.type_def(n) {
                    Some(TypeDef::Record(r)) => &r.fields,
                    Some(TypeDef::Union(u)) => &u.variants,
                    _ => return,
                };
                visiting.push(n.clone());
                self.sensitive_in(fields, &format!("{path}."), visiting, out);
                visiting.pop();
            }
            _ => {}
        }
    }

    /// Follows aliases to the type they stand for.
    pub fn unalias<'a>(&'a self, ty: &'a TypeRef) -> &'a TypeRef {
        let mut t = ty;
        for _ in 0..64 {
            match t {
                TypeRef::Named(n) => match self.type_def(n) {
                    Some(TypeDef::Alias(a)) => t = &a.target,
                    _ => return t,
                },
                _ => return t,
            }
        }
        t
    }
}

/// `package.Name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct QualifiedName {
    pub package: String,
    pub name: String,
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.package, self.name)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Package {
    /// Dotted, e.g. `messenger.user.v1`.
    pub name: String,
    pub docs: String,
    pub settings: PackageSettings,
    /// Records, aliases, enums and unions, in file then source order.
    pub types: Vec<TypeDef>,
    pub errors: Vec<ErrorDef>,
    pub services: Vec<Service>,
    pub events: Vec<Event>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PackageSettings {
    pub title: Option<String>,
    pub version: Option<String>,
    pub servers: Vec<Server>,
    pub npm: Option<Npm>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Server {
    pub url: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Npm {
    pub name: Option<String>,
    pub author: Option<String>,
    pub license: Option<String>,
    pub repository: Option<String>,
    pub private: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Primitive {
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Float32,
    Float64,
    String,
    Bytes,
    Uuid,
    Timestamp,
    Date,
    Duration,
    Decimal,
    Any,
}

impl Primitive {
    pub const ALL: [(&'static str, Primitive); 15] = [
        ("bool", Primitive::Bool),
        ("int32", Primitive::Int32),
        ("int64", Primitive::Int64),
        ("uint32", Primitive::Uint32),
        ("uint64", Primitive::Uint64),
        ("float32", Primitive::Float32),
        ("float64", Primitive::Float64),
        ("string", Primitive::String),
        ("bytes", Primitive::Bytes),
        ("uuid", Primitive::Uuid),
        ("timestamp", Primitive::Timestamp),
        ("date", Primitive::Date),
        ("duration", Primitive::Duration),
        ("decimal", Primitive::Decimal),
        ("any", Primitive::Any),
    ];

    pub fn from_name(name: &str) -> Option<Primitive> {
        Primitive::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
    }

    pub fn name(self) -> &'static str {
        Primitive::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("?", |(n, _)| n)
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Primitive::Int32 | Primitive::Int64 | Primitive::Uint32 | Primitive::Uint64
        )
    }

    pub fn is_number(self) -> bool {
        self.is_integer() || matches!(self, Primitive::Float32 | Primitive::Float64)
    }

    /// Inclusive integer bounds of an integer type.
    pub fn int_bounds(self) -> Option<(i128, i128)> {
        Some(match self {
            Primitive::Int32 => (i128::from(i32::MIN), i128::from(i32::MAX)),
            Primitive::Int64 => (i128::from(i64::MIN), i128::from(i64::MAX)),
            Primitive::Uint32 => (0, i128::from(u32::MAX)),
            Primitive::Uint64 => (0, i128::from(u64::MAX)),
            _ => return None,
        })
    }

    /// Carried as a JSON string (so a string literal is its natural default).
    pub fn is_string_like(self) -> bool {
        matches!(
            self,
            Primitive::String
                | Primitive::Bytes
                | Primitive::Uuid
                | Primitive::Timestamp
                | Primitive::Date
                | Primitive::Duration
                | Primitive::Decimal
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeRef {
    Primitive(Primitive),
    List(Box<TypeRef>),
    Map(Box<TypeRef>, Box<TypeRef>),
    Named(QualifiedName),
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Primitive(p) => f.write_str(p.name()),
            TypeRef::List(t) => write!(f, "list<{t}>"),
            TypeRef::Map(k, v) => write!(f, "map<{k}, {v}>"),
            TypeRef::Named(n) => f.write_str(&n.name),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // built once per compilation; boxing would only add noise for emitters
pub enum TypeDef {
    Record(Record),
    Alias(Alias),
    Enum(Enum),
    Union(Union),
}

impl TypeDef {
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Record(r) => &r.name,
            TypeDef::Alias(a) => &a.name,
            TypeDef::Enum(e) => &e.name,
            TypeDef::Union(u) => &u.name,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            TypeDef::Record(r) => r.span,
            TypeDef::Alias(a) => a.span,
            TypeDef::Enum(e) => e.span,
            TypeDef::Union(u) => u.span,
        }
    }
}

/// A literal value from the contract (a default or an example).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Literal {
    Bool(bool),
    Int(i128),
    Float(f64),
    String(String),
    /// An enum value or other identifier.
    Ident(String),
    List(Vec<Literal>),
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Constraints {
    /// `@length(min, max)`: characters for strings, bytes for bytes, items for lists and maps.
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// `@range`; bounds are kept as written (integer or float).
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub pattern: Option<String>,
    pub format: Option<Format>,
    pub unique: bool,
}

impl Constraints {
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }

    /// Inner constraints override outer ones field by field (a field over its alias).
    pub fn merged_over(&self, outer: &Constraints) -> Constraints {
        Constraints {
            min_length: self.min_length.or(outer.min_length),
            max_length: self.max_length.or(outer.max_length),
            minimum: self.minimum.or(outer.minimum),
            maximum: self.maximum.or(outer.maximum),
            pattern: self.pattern.clone().or_else(|| outer.pattern.clone()),
            format: self.format.or(outer.format),
            unique: self.unique || outer.unique,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bound {
    pub value: f64,
    pub exclusive: bool,
}

/// `@format` values (their checks are shared with the runtime).
pub use svcc_rules::Format;
pub use svcc_rules::{
    CircuitBreaker, HttpBinding, Location, LogPolicy, Mask, Policies, RateKey, RateLimit, Security,
    Sensitive,
};

/// A record field, union variant, event field, error payload field, parameter or result.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub name: String,
    /// The JSON key (`@json` or the name as written).
    pub wire_name: String,
    pub tag: u32,
    pub tag_explicit: bool,
    pub optional: bool,
    pub ty: TypeRef,
    pub default: Option<Literal>,
    pub docs: String,
    /// Constraints written on the field itself (an alias's own constraints stay on the alias).
    pub constraints: Constraints,
    pub example: Option<Literal>,
    pub deprecated: Option<String>,
    pub sensitive: Option<Mask>,
    pub location: Location,
    #[serde(skip)]
    pub spans: FieldSpans,
}

#[derive(Clone, Debug, Default)]
pub struct FieldSpans {
    pub whole: Span,
    pub name: Span,
    pub tag: Option<Span>,
    pub ty: Span,
    pub default: Option<Span>,
    pub example: Option<Span>,
    /// The span of each constraint annotation, by annotation name.
    pub constraints: BTreeMap<String, Span>,
    /// The `@header`/`@cookie`/`@query` annotation, when present.
    pub location: Option<Span>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub name: String,
    pub docs: String,
    pub fields: Vec<Field>,
    /// `true` (the default): absent optional fields are left out of JSON; `@omitempty(false)`
    /// sends them as `null`.
    pub omit_empty: bool,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug, Serialize)]
pub struct Alias {
    pub name: String,
    pub docs: String,
    pub target: TypeRef,
    pub constraints: Constraints,
    pub example: Option<Literal>,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
    #[serde(skip)]
    pub spans: FieldSpans,
}

#[derive(Clone, Debug, Serialize)]
pub struct Enum {
    pub name: String,
    pub docs: String,
    pub values: Vec<EnumValue>,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug, Serialize)]
pub struct EnumValue {
    pub name: String,
    pub number: u32,
    pub number_explicit: bool,
    pub docs: String,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
    #[serde(skip)]
    pub tag_span: Option<Span>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Union {
    pub name: String,
    pub docs: String,
    pub variants: Vec<Field>,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

/// The canonical error codes (gRPC's), which fix the transport statuses: the runtime's
/// table, shared through `svcc-rules`.
pub use svcc_rules::Code as ErrorKind;

#[derive(Clone, Debug, Serialize)]
pub struct ErrorDef {
    pub name: String,
    pub docs: String,
    pub kind: ErrorKind,
    /// The stable string code (`@code`, default the name in UPPER_SNAKE).
    pub code: String,
    /// `@http_status` or the kind's status.
    pub http_status: u16,
    pub fields: Vec<Field>,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub name: String,
    pub docs: String,
    pub topic: String,
    /// The payload's encoding (`@topic(format = …)`).
    pub format: EventFormat,
    /// The field whose value is the Kafka message key.
    pub key: Option<String>,
    pub fields: Vec<Field>,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

/// How an event's payload is written on the topic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventFormat {
    /// The event's message from the `.proto` target (the default).
    #[default]
    Protobuf,
    /// svcc's JSON, as the other transports write it.
    Json,
}

#[derive(Clone, Debug, Serialize)]
pub struct Service {
    pub name: String,
    pub docs: String,
    pub methods: Vec<Method>,
    /// Transports and metadata after scoping (package → service).
    pub transports: Transports,
    pub tags: Vec<String>,
    pub deprecated: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Transports {
    pub jsonrpc: bool,
    pub http: bool,
    pub grpc: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Method {
    pub name: String,
    pub docs: String,
    pub params: Vec<Field>,
    pub result: MethodResult,
    pub throws: Vec<QualifiedName>,
    /// `emits`: the events the method publishes (the handler gets an emitter for each).
    pub emits: Vec<QualifiedName>,
    /// Effective settings: method over service over package.
    pub settings: MethodSettings,
    #[serde(skip)]
    pub span: Span,
    #[serde(skip)]
    pub name_span: Span,
    #[serde(skip)]
    pub throws_spans: Vec<Span>,
    #[serde(skip)]
    pub emits_spans: Vec<Span>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum MethodResult {
    Empty,
    /// `-> Type`: the value itself is the result.
    Single(TypeRef),
    /// `-> (a: A, b: B)`.
    Named(Vec<Field>),
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MethodSettings {
    /// The JSON-RPC method name when served over JSON-RPC.
    pub jsonrpc: Option<String>,
    /// The REST binding when served over REST.
    pub http: Option<HttpBinding>,
    pub grpc: bool,
    /// Logging, metrics, tracing, security, limits, breakers, fallbacks, timeout: the types
    /// the runtime's `MethodInfo` carries too.
    pub policies: Policies,
    pub request_content_type: Option<String>,
    pub response_content_type: Option<String>,
    pub handler: Option<String>,
    pub deprecated: Option<String>,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    /// Absent optional parameters and results are left out of JSON (`@omitempty`).
    pub omit_empty: bool,
    #[serde(skip)]
    pub spans: MethodSettingSpans,
}

#[derive(Clone, Debug, Default)]
pub struct MethodSettingSpans {
    pub http: Option<Span>,
    pub jsonrpc: Option<Span>,
    pub log: Option<Span>,
}

/// Path segments `{name}` in `path`, with their byte ranges inside the path.
pub fn path_params(path: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut rest = path;
    let mut base = 0;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push((
            rest[open + 1..open + close].to_string(),
            base + open,
            base + open + close + 1,
        ));
        base += open + close + 1;
        rest = &rest[open + close + 1..];
    }
    out
}
