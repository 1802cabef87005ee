//! The syntax tree of one `.svc` file: what was written, with spans, nothing resolved.
//!
//! Only the resolver and the formatter read this tree; emitters work from [`svcc_model`].

use svcc_model::source::{FileId, Span};

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A possibly dotted name: `User`, `page.Cursor`, `messenger.common.v1.Money`.
#[derive(Clone, Debug, PartialEq)]
pub struct QualName {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl QualName {
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        parts.join(".")
    }
}

/// Doc comment lines (`///` or `//!`), without the marker; one leading space is removed.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Docs {
    pub lines: Vec<String>,
    pub span: Option<Span>,
}

impl Docs {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The doc text as one Markdown string.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// One comment that is not a doc comment; kept by the formatter.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub file: FileId,
    /// `//!` docs: the package's documentation.
    pub inner_docs: Docs,
    /// `///` docs written before the package annotations (treated as package docs too).
    pub package_docs: Docs,
    pub annotations: Vec<Annotation>,
    pub package: PackageDecl,
    pub imports: Vec<Import>,
    pub decls: Vec<Decl>,
    /// Plain comments, in source order, for the formatter.
    pub comments: Vec<Comment>,
}

impl File {
    /// Every annotation in the file, in source order, with where it stands (`package`,
    /// a declaration's kind as [`DeclKind::describe`] words it, `field`, `enum value`,
    /// `method`, `parameter`, `result`).
    pub fn each_annotation(&self, mut f: impl FnMut(&Annotation, &'static str)) {
        let each = |anns: &[Annotation],
                    site: &'static str,
                    f: &mut dyn FnMut(&Annotation, &'static str)| {
            for a in anns {
                f(a, site);
            }
        };
        let fields =
            |fs: &[Field], site: &'static str, f: &mut dyn FnMut(&Annotation, &'static str)| {
                for field in fs {
                    each(&field.annotations, site, f);
                }
            };
        each(&self.annotations, "package", &mut f);
        for d in &self.decls {
            each(&d.annotations, d.kind.describe(), &mut f);
            match &d.kind {
                DeclKind::Record(b) | DeclKind::Union(b) | DeclKind::Event(b) => {
                    fields(&b.items, "field", &mut f);
                }
                DeclKind::Error {
                    fields: Some(b), ..
                } => fields(&b.items, "field", &mut f),
                DeclKind::Enum(b) => {
                    for v in &b.items {
                        each(&v.annotations, "enum value", &mut f);
                    }
                }
                DeclKind::Service(b) => {
                    for m in &b.items {
                        each(&m.annotations, "method", &mut f);
                        fields(&m.params, "parameter", &mut f);
                        if let Returns::Named(results, _) = &m.returns {
                            fields(results, "result", &mut f);
                        }
                    }
                }
                DeclKind::Alias(_) | DeclKind::Error { fields: None, .. } => {}
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PackageDecl {
    pub name: QualName,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: StringLit,
    pub alias: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StringLit {
    /// The decoded value.
    pub value: String,
    /// The text between the quotes exactly as written (the formatter keeps it).
    pub raw: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub name: Ident,
    /// `None` when written without parentheses.
    pub args: Option<Vec<Arg>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Str(StringLit),
    /// An integer, with its text as written.
    Int(i128, String),
    /// A float, with its text as written.
    Float(f64, String),
    Bool(bool),
    /// A bare or dotted identifier: `GET`, `email`, `Member`.
    Ident(QualName),
    List(Vec<Value>),
}

impl ValueKind {
    /// What kind of value this is, in the user's words.
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Str(_) => "a string",
            ValueKind::Int(..) => "an integer",
            ValueKind::Float(..) => "a number",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::Ident(_) => "an identifier",
            ValueKind::List(_) => "a list",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    Named(QualName),
    List(Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub value: u64,
    pub span: Span,
}

/// A record field, a union variant, a method parameter or a named result.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub docs: Docs,
    pub annotations: Vec<Annotation>,
    pub name: Ident,
    pub optional: Option<Span>,
    pub tag: Option<Tag>,
    pub ty: TypeExpr,
    pub default: Option<Value>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub docs: Docs,
    pub annotations: Vec<Annotation>,
    pub name: Ident,
    pub kind: DeclKind,
    /// The keyword that starts the declaration.
    pub keyword_span: Span,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeclKind {
    Record(Body<Field>),
    Alias(TypeExpr),
    Enum(Body<EnumValue>),
    Union(Body<Field>),
    Error {
        kind: Ident,
        fields: Option<Body<Field>>,
    },
    Service(Body<Method>),
    Event(Body<Field>),
}

impl DeclKind {
    /// The keyword, as the user wrote it, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            DeclKind::Record(_) | DeclKind::Alias(_) => "type",
            DeclKind::Enum(_) => "enum",
            DeclKind::Union(_) => "union",
            DeclKind::Error { .. } => "error",
            DeclKind::Service(_) => "service",
            DeclKind::Event(_) => "event",
        }
    }

    /// What the declaration is, in the user's words.
    pub fn describe(&self) -> &'static str {
        match self {
            DeclKind::Record(_) => "record",
            DeclKind::Alias(_) => "alias",
            DeclKind::Enum(_) => "enum",
            DeclKind::Union(_) => "union",
            DeclKind::Error { .. } => "error",
            DeclKind::Service(_) => "service",
            DeclKind::Event(_) => "event",
        }
    }
}

/// The members between `{` and `}`, with the brace spans (the formatter and folding use them).
#[derive(Clone, Debug, PartialEq)]
pub struct Body<T> {
    pub items: Vec<T>,
    pub open: Span,
    pub close: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumValue {
    pub docs: Docs,
    pub annotations: Vec<Annotation>,
    pub name: Ident,
    pub tag: Option<Tag>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    pub docs: Docs,
    pub annotations: Vec<Annotation>,
    pub name: Ident,
    pub params: Vec<Field>,
    pub params_span: Span,
    pub returns: Returns,
    pub throws: Vec<QualName>,
    /// `emits A, B`: the events the method publishes.
    pub emits: Vec<QualName>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Returns {
    /// No arrow.
    Nothing,
    /// `-> (a: A, b: B)` (possibly `-> ()`).
    Named(Vec<Field>, Span),
    /// `-> Type`: the value itself is the result.
    Single(TypeExpr),
}

/// Moves every span of a tree: `f` maps each one (used to reuse a declaration's tree after
/// an edit elsewhere in its file moved it, or after its file was renumbered).
pub trait MapSpans {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span);
}

impl MapSpans for Span {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        *self = f(*self);
    }
}

impl<T: MapSpans> MapSpans for Option<T> {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        if let Some(x) = self {
            x.map_spans(f);
        }
    }
}

impl<T: MapSpans> MapSpans for Vec<T> {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        for x in self {
            x.map_spans(f);
        }
    }
}

impl<T: MapSpans> MapSpans for Box<T> {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        (**self).map_spans(f);
    }
}

impl MapSpans for Ident {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span.map_spans(f);
    }
}

impl MapSpans for QualName {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.segments.map_spans(f);
        self.span.map_spans(f);
    }
}

impl MapSpans for Docs {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span.map_spans(f);
    }
}

impl MapSpans for StringLit {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span.map_spans(f);
    }
}

impl MapSpans for Annotation {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.name.map_spans(f);
        self.args.map_spans(f);
        self.span.map_spans(f);
    }
}

impl MapSpans for Arg {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.name.map_spans(f);
        self.value.map_spans(f);
        self.span.map_spans(f);
    }
}

impl MapSpans for Value {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        match &mut self.kind {
            ValueKind::Str(s) => s.map_spans(f),
            ValueKind::Ident(q) => q.map_spans(f),
            ValueKind::List(items) => items.map_spans(f),
            ValueKind::Int(..) | ValueKind::Float(..) | ValueKind::Bool(_) => {}
        }
        self.span.map_spans(f);
    }
}

impl MapSpans for TypeExpr {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        match &mut self.kind {
            TypeExprKind::Named(q) => q.map_spans(f),
            TypeExprKind::List(t) => t.map_spans(f),
            TypeExprKind::Map(k, v) => {
                k.map_spans(f);
                v.map_spans(f);
            }
        }
        self.span.map_spans(f);
    }
}

impl MapSpans for Tag {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span.map_spans(f);
    }
}

impl MapSpans for Field {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.docs.map_spans(f);
        self.annotations.map_spans(f);
        self.name.map_spans(f);
        self.optional.map_spans(f);
        self.tag.map_spans(f);
        self.ty.map_spans(f);
        self.default.map_spans(f);
        self.span.map_spans(f);
    }
}

impl<T: MapSpans> MapSpans for Body<T> {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.items.map_spans(f);
        self.open.map_spans(f);
        self.close.map_spans(f);
    }
}

impl MapSpans for EnumValue {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.docs.map_spans(f);
        self.annotations.map_spans(f);
        self.name.map_spans(f);
        self.tag.map_spans(f);
        self.span.map_spans(f);
    }
}

impl MapSpans for Returns {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        match self {
            Returns::Nothing => {}
            Returns::Named(fields, span) => {
                fields.map_spans(f);
                span.map_spans(f);
            }
            Returns::Single(t) => t.map_spans(f),
        }
    }
}

impl MapSpans for Method {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.docs.map_spans(f);
        self.annotations.map_spans(f);
        self.name.map_spans(f);
        self.params.map_spans(f);
        self.params_span.map_spans(f);
        self.returns.map_spans(f);
        self.throws.map_spans(f);
        self.emits.map_spans(f);
        self.span.map_spans(f);
    }
}

impl MapSpans for Decl {
    fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.docs.map_spans(f);
        self.annotations.map_spans(f);
        self.name.map_spans(f);
        match &mut self.kind {
            DeclKind::Record(b) | DeclKind::Union(b) | DeclKind::Event(b) => b.map_spans(f),
            DeclKind::Alias(t) => t.map_spans(f),
            DeclKind::Enum(b) => b.map_spans(f),
            DeclKind::Error { kind, fields } => {
                kind.map_spans(f);
                fields.map_spans(f);
            }
            DeclKind::Service(b) => b.map_spans(f),
        }
        self.keyword_span.map_spans(f);
        self.span.map_spans(f);
    }
}
