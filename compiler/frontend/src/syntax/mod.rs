//! Parsing: text → syntax tree ([`ast::File`]) plus diagnostics. Parsing never panics; a file
//! with syntax errors yields no tree and at least one error with a location.

pub mod ast;
pub(crate) mod diagnostics;
mod errors;
pub mod scan;

use ast::*;
use diagnostics as diag;
use pest::Parser;
use pest::iterators::Pair;
use svcc_model::Diagnostic;
use svcc_model::source::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "syntax/svc.pest"]
struct SvcParser;

/// Parses one file. Returns the tree when the file is syntactically valid.
pub fn parse_file(file: FileId, text: &str) -> (Option<File>, Vec<Diagnostic>) {
    let scan = scan::prescan(file, text);
    if !scan.errors.is_empty() {
        return (None, scan.errors);
    }
    match SvcParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let Some(root) = pairs.next() else {
                return (None, vec![errors::internal_no_tree(file)]);
            };
            let mut b = Builder {
                file,
                offset: 0,
                errors: Vec::new(),
            };
            let tree = b.file(root, scan.comments);
            if b.errors.is_empty() {
                (Some(tree), b.errors)
            } else {
                (None, b.errors)
            }
        }
        Err(_) => (None, vec![errors::syntax_error(file, text)]),
    }
}

/// Parses `text`, the new text of a file whose previous text `old_text` parsed into `old`,
/// again only where the edit reached: the declarations wholly before it are kept, those wholly
/// after it are kept with their spans moved, and the stretch between is parsed on its own.
/// `None` when that cannot be done (the edit touched the header, the stretch does not parse on
/// its own, anything is reported): the caller parses the whole file, which says why.
pub fn reparse(file: FileId, text: &str, old_text: &str, old: &File) -> Option<File> {
    let scan = scan::prescan(file, text);
    if !scan.errors.is_empty() {
        return None;
    }
    let (a, b) = (old_text.as_bytes(), text.as_bytes());
    let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let limit = a.len().min(b.len()) - prefix;
    let mut suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(limit)
        .take_while(|(x, y)| x == y)
        .count();
    while !text.is_char_boundary(prefix) || !old_text.is_char_boundary(prefix) {
        prefix -= 1;
    }
    while !text.is_char_boundary(b.len() - suffix) || !old_text.is_char_boundary(a.len() - suffix) {
        suffix -= 1;
    }
    let old_end = a.len() - suffix;
    let delta = b.len() as i64 - a.len() as i64;
    let first = old.decls.first()?;
    if prefix < first.span.start as usize {
        return None;
    }
    let renumber = |s: Span| Span { file, ..s };
    let moved = |s: Span| Span {
        file,
        start: (i64::from(s.start) + delta) as u32,
        end: (i64::from(s.end) + delta) as u32,
    };
    let before: Vec<&Decl> = old
        .decls
        .iter()
        .take_while(|d| d.span.end as usize <= prefix)
        .collect();
    let after: Vec<&Decl> = old
        .decls
        .iter()
        .skip(before.len())
        .skip_while(|d| (d.span.start as usize) < old_end)
        .collect();
    let from = before
        .last()
        .map_or(first.span.start as usize, |d| d.span.end as usize);
    let to = after
        .first()
        .map_or(b.len(), |d| (i64::from(d.span.start) + delta) as usize);
    let stretch = text.get(from..to)?;
    let pairs = SvcParser::parse(Rule::decls, stretch).ok()?.next()?;
    let mut builder = Builder {
        file,
        offset: from,
        errors: Vec::new(),
    };
    let middle: Vec<Decl> = pairs
        .into_inner()
        .filter(|p| p.as_rule() == Rule::decl)
        .map(|p| builder.decl(p))
        .collect();
    if !builder.errors.is_empty() {
        return None;
    }
    let mut decls = Vec::with_capacity(old.decls.len() + 1);
    for d in before {
        let mut d = d.clone();
        d.map_spans(&renumber);
        decls.push(d);
    }
    decls.extend(middle);
    for d in after {
        let mut d = d.clone();
        d.map_spans(&moved);
        decls.push(d);
    }
    let mut inner_docs = old.inner_docs.clone();
    let mut package_docs = old.package_docs.clone();
    let mut annotations = old.annotations.clone();
    let mut package = old.package.clone();
    let mut imports = old.imports.clone();
    inner_docs.map_spans(&renumber);
    package_docs.map_spans(&renumber);
    annotations.map_spans(&renumber);
    package.name.map_spans(&renumber);
    package.span.map_spans(&renumber);
    for i in &mut imports {
        i.path.map_spans(&renumber);
        i.alias.map_spans(&renumber);
        i.span.map_spans(&renumber);
    }
    Some(File {
        file,
        inner_docs,
        package_docs,
        annotations,
        package,
        imports,
        decls,
        comments: scan.comments,
    })
}

fn is_type(r: Rule) -> bool {
    matches!(r, Rule::list_type | Rule::map_type | Rule::qual_name)
}

fn is_value(r: Rule) -> bool {
    matches!(
        r,
        Rule::string | Rule::float | Rule::int | Rule::boolean | Rule::list | Rule::qual_name
    )
}

struct Builder {
    file: FileId,
    /// Where the parsed text starts in the file (a re-parsed stretch of declarations).
    offset: usize,
    errors: Vec<Diagnostic>,
}

impl Builder {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn file(&mut self, root: Pair<Rule>, comments: Vec<Comment>) -> File {
        let mut inner_docs = Docs::default();
        let mut package_docs = Docs::default();
        let mut annotations = Vec::new();
        let mut package = None;
        let mut imports = Vec::new();
        let mut decls = Vec::new();
        for p in root.into_inner() {
            match p.as_rule() {
                Rule::inner_doc => self.doc_line(&mut inner_docs, &p),
                Rule::outer_doc => self.doc_line(&mut package_docs, &p),
                Rule::annotation => annotations.push(self.annotation(p)),
                Rule::package_decl => {
                    let span = self.span(&p);
                    let name = p.into_inner().find(|q| q.as_rule() == Rule::qual_name);
                    package = name.map(|n| PackageDecl {
                        name: self.qual_name(n),
                        span,
                    });
                }
                Rule::import => imports.push(self.import(p)),
                Rule::decl => decls.push(self.decl(p)),
                _ => {}
            }
        }
        let package = package.unwrap_or_else(|| PackageDecl {
            name: QualName {
                segments: Vec::new(),
                span: Span::new(self.file, 0, 0),
            },
            span: Span::new(self.file, 0, 0),
        });
        File {
            file: self.file,
            inner_docs,
            package_docs,
            annotations,
            package,
            imports,
            decls,
            comments,
        }
    }

    /// Adds one `///` or `//!` line to `docs`.
    fn doc_line(&self, docs: &mut Docs, d: &Pair<Rule>) {
        let span = self.span(d);
        docs.span = Some(docs.span.map_or(span, |s| s.to(span)));
        let text = d.as_str().get(3..).unwrap_or("");
        let text = text.strip_prefix(' ').unwrap_or(text);
        docs.lines.push(text.trim_end().to_string());
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            span: self.span(&p),
            name: p.as_str().to_string(),
        }
    }

    /// A dotted name (an atomic rule: segments are split here, with their spans).
    fn qual_name(&self, p: Pair<Rule>) -> QualName {
        let span = self.span(&p);
        let mut segments = Vec::with_capacity(1);
        let mut start = span.start as usize;
        for seg in p.as_str().split('.') {
            segments.push(Ident {
                name: seg.to_string(),
                span: Span::new(self.file, start, start + seg.len()),
            });
            start += seg.len() + 1;
        }
        QualName { segments, span }
    }

    fn import(&mut self, p: Pair<Rule>) -> Import {
        let span = self.span(&p);
        let mut path = None;
        let mut alias = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::string => path = Some(self.string(q)),
                Rule::ident => alias = Some(self.ident(q)),
                _ => {}
            }
        }
        Import {
            path: path.unwrap_or_else(|| StringLit {
                value: String::new(),
                raw: String::new(),
                span,
            }),
            alias,
            span,
        }
    }

    fn string(&mut self, p: Pair<Rule>) -> StringLit {
        let span = self.span(&p);
        let body = p.into_inner().next();
        let raw = body.as_ref().map_or("", |b| b.as_str()).to_string();
        let body_start = body
            .as_ref()
            .map_or(span.start as usize, |b| b.as_span().start());
        let value = self.unescape(&raw, body_start);
        StringLit { value, raw, span }
    }

    fn unescape(&mut self, raw: &str, base: usize) -> String {
        if !raw.contains('\\') {
            return raw.to_string();
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            match e {
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                'u' => {
                    let rest = &raw[i + 2..];
                    let parsed = rest
                        .strip_prefix('{')
                        .and_then(|r| r.split_once('}'))
                        .and_then(|(hex, _)| {
                            let v = u32::from_str_radix(hex, 16).ok()?;
                            Some((char::from_u32(v)?, hex.len() + 2))
                        });
                    match parsed {
                        Some((ch, len)) => {
                            out.push(ch);
                            for _ in 0..len {
                                chars.next();
                            }
                        }
                        None => {
                            let end = base + i + 2;
                            self.errors.push(diag::invalid_escape(
                                Span::new(self.file, base + i, end),
                                "\\u",
                            ));
                        }
                    }
                }
                other => {
                    let end = base + i + 1 + other.len_utf8();
                    self.errors.push(diag::invalid_escape(
                        Span::new(self.file, base + i, end),
                        &format!("\\{other}"),
                    ));
                }
            }
        }
        out
    }

    fn annotation(&mut self, p: Pair<Rule>) -> Annotation {
        let span = self.span(&p);
        let mut name = None;
        let mut args = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::at_name => {
                    let at = q.as_span();
                    name = Some(Ident {
                        name: q.as_str().get(1..).unwrap_or("").to_string(),
                        span: Span::new(
                            self.file,
                            self.offset + at.start() + 1,
                            self.offset + at.end(),
                        ),
                    });
                }
                Rule::ann_args => {
                    let mut list = Vec::new();
                    for a in q.into_inner() {
                        list.push(self.arg(a));
                    }
                    args = Some(list);
                }
                _ => {}
            }
        }
        Annotation {
            name: name.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            args,
            span,
        }
    }

    /// An argument: `p` is a `named_arg` pair or the value's own pair.
    fn arg(&mut self, p: Pair<Rule>) -> Arg {
        let span = self.span(&p);
        if p.as_rule() != Rule::named_arg {
            let value = self.value(p);
            return Arg {
                name: None,
                value,
                span,
            };
        }
        let mut name = None;
        let mut value = None;
        for r in p.into_inner() {
            match r.as_rule() {
                Rule::ident => name = Some(self.ident(r)),
                r2 if is_value(r2) => value = Some(self.value(r)),
                _ => {}
            }
        }
        Arg {
            name,
            value: value.unwrap_or(Value {
                kind: ValueKind::List(Vec::new()),
                span,
            }),
            span,
        }
    }

    /// A value: `p` is the literal's own pair (string, number, boolean, list or name).
    fn value(&mut self, p: Pair<Rule>) -> Value {
        let span = self.span(&p);
        let inner = p;
        let kind = match inner.as_rule() {
            Rule::string => ValueKind::Str(self.string(inner)),
            Rule::int => {
                let text = inner.as_str();
                match text.parse::<i128>() {
                    Ok(v) if v <= i128::from(u64::MAX) && v >= i128::from(i64::MIN) => {
                        ValueKind::Int(v, text.to_string())
                    }
                    _ => {
                        self.errors.push(diag::number_out_of_range(
                            span,
                            "integer literal",
                            "18446744073709551615",
                        ));
                        ValueKind::Int(0, text.to_string())
                    }
                }
            }
            Rule::float => {
                let text = inner.as_str();
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => ValueKind::Float(v, text.to_string()),
                    _ => {
                        self.errors.push(diag::number_out_of_range(
                            span,
                            "number literal",
                            "1.7976931348623157e308",
                        ));
                        ValueKind::Float(0.0, text.to_string())
                    }
                }
            }
            Rule::boolean => ValueKind::Bool(inner.as_str() == "true"),
            Rule::list => ValueKind::List(inner.into_inner().map(|v| self.value(v)).collect()),
            _ => ValueKind::Ident(self.qual_name(inner)),
        };
        Value { kind, span }
    }

    /// A type: `p` is a `list_type`, `map_type` or `qual_name` pair.
    fn type_expr(&mut self, p: Pair<Rule>) -> TypeExpr {
        let span = self.span(&p);
        let inner = p;
        let kind = match inner.as_rule() {
            Rule::list_type => {
                let mut args = inner
                    .into_inner()
                    .filter(|q| is_type(q.as_rule()))
                    .map(|q| self.type_expr(q));
                match args.next() {
                    Some(t) => TypeExprKind::List(Box::new(t)),
                    None => return self.broken_type(span),
                }
            }
            Rule::map_type => {
                let args: Vec<TypeExpr> = inner
                    .into_inner()
                    .filter(|q| is_type(q.as_rule()))
                    .map(|q| self.type_expr(q))
                    .collect();
                match <[TypeExpr; 2]>::try_from(args) {
                    Ok([k, v]) => TypeExprKind::Map(Box::new(k), Box::new(v)),
                    Err(_) => return self.broken_type(span),
                }
            }
            _ => TypeExprKind::Named(self.qual_name(inner)),
        };
        TypeExpr { kind, span }
    }

    fn broken_type(&mut self, span: Span) -> TypeExpr {
        self.errors
            .push(errors::internal(span, "malformed type expression"));
        TypeExpr {
            kind: TypeExprKind::Named(QualName {
                segments: Vec::new(),
                span,
            }),
            span,
        }
    }

    fn tag(&mut self, p: Pair<Rule>) -> Tag {
        let span = self.span(&p);
        let text = p.as_str().get(1..).unwrap_or("");
        let value = match text.parse::<u64>() {
            Ok(v) => v,
            Err(_) => {
                self.errors
                    .push(diag::number_out_of_range(span, "tag", "536870911"));
                0
            }
        };
        Tag { value, span }
    }

    /// Fields, parameters and results share one shape.
    fn field(&mut self, p: Pair<Rule>) -> Field {
        let span = self.span(&p);
        let mut docs = Docs::default();
        let mut annotations = Vec::new();
        let mut name = None;
        let mut optional = None;
        let mut tag = None;
        let mut ty = None;
        let mut default = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::outer_doc => self.doc_line(&mut docs, &q),
                Rule::annotation => annotations.push(self.annotation(q)),
                Rule::ident => name = Some(self.ident(q)),
                Rule::optional => optional = Some(self.span(&q)),
                Rule::tag => tag = Some(self.tag(q)),
                Rule::default => {
                    if let Some(v) = q.into_inner().next() {
                        default = Some(self.value(v));
                    }
                }
                r if is_type(r) => ty = Some(self.type_expr(q)),
                _ => {}
            }
        }
        Field {
            docs,
            annotations,
            name: name.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            optional,
            tag,
            ty: ty.unwrap_or_else(|| self.broken_type(span)),
            default,
            span,
        }
    }

    fn fields_body(&mut self, p: Pair<Rule>) -> Body<Field> {
        let mut body = Body {
            items: Vec::new(),
            open: self.span(&p),
            close: self.span(&p),
        };
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::lbrace => body.open = self.span(&q),
                Rule::rbrace => body.close = self.span(&q),
                Rule::field => body.items.push(self.field(q)),
                _ => {}
            }
        }
        body
    }

    fn decl(&mut self, p: Pair<Rule>) -> Decl {
        let span = self.span(&p);
        let mut docs = Docs::default();
        let mut annotations = Vec::new();
        let mut out = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::outer_doc => self.doc_line(&mut docs, &q),
                Rule::annotation => annotations.push(self.annotation(q)),
                _ => out = Some(self.decl_body(q)),
            }
        }
        let (name, kind, keyword_span) = out.unwrap_or_else(|| {
            (
                Ident {
                    name: String::new(),
                    span,
                },
                DeclKind::Alias(self.broken_type(span)),
                span,
            )
        });
        Decl {
            docs,
            annotations,
            name,
            kind,
            keyword_span,
            span,
        }
    }

    fn decl_body(&mut self, p: Pair<Rule>) -> (Ident, DeclKind, Span) {
        let rule = p.as_rule();
        let whole = self.span(&p);
        let mut keyword = whole;
        let mut idents = Vec::new();
        let mut kind = None;
        let mut open = whole;
        let mut close = whole;
        let mut enum_values = Vec::new();
        let mut methods = Vec::new();
        let mut union_fields = Vec::new();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::kw_type
                | Rule::kw_enum
                | Rule::kw_union
                | Rule::kw_error
                | Rule::kw_service
                | Rule::kw_event => keyword = self.span(&q),
                Rule::ident => idents.push(self.ident(q)),
                Rule::record_body => {
                    let body = self.fields_body(q);
                    kind = Some(match rule {
                        Rule::error_decl => DeclKind::Error {
                            kind: Ident {
                                name: String::new(),
                                span: whole,
                            },
                            fields: Some(body),
                        },
                        Rule::event_decl => DeclKind::Event(body),
                        _ => DeclKind::Record(body),
                    });
                }
                Rule::alias_body => {
                    let t = q
                        .into_inner()
                        .find(|t| is_type(t.as_rule()))
                        .map(|t| self.type_expr(t));
                    kind = Some(DeclKind::Alias(
                        t.unwrap_or_else(|| self.broken_type(whole)),
                    ));
                }
                Rule::lbrace => open = self.span(&q),
                Rule::rbrace => close = self.span(&q),
                Rule::enum_value => enum_values.push(self.enum_value(q)),
                Rule::method => methods.push(self.method(q)),
                Rule::field => union_fields.push(self.field(q)),
                _ => {}
            }
        }
        let mut idents = idents.into_iter();
        let name = idents.next().unwrap_or(Ident {
            name: String::new(),
            span: whole,
        });
        let kind = match rule {
            Rule::enum_decl => DeclKind::Enum(Body {
                items: enum_values,
                open,
                close,
            }),
            Rule::union_decl => {
                for f in &union_fields {
                    if let Some(s) = f.optional {
                        self.errors.push(diag::not_a_union_field(s, "`?`"));
                    }
                    if let Some(d) = &f.default {
                        self.errors
                            .push(diag::not_a_union_field(d.span, "a default"));
                    }
                }
                DeclKind::Union(Body {
                    items: union_fields,
                    open,
                    close,
                })
            }
            Rule::service_decl => DeclKind::Service(Body {
                items: methods,
                open,
                close,
            }),
            Rule::error_decl => {
                let err_kind = idents.next().unwrap_or(Ident {
                    name: String::new(),
                    span: whole,
                });
                match kind {
                    Some(DeclKind::Error { fields, .. }) => DeclKind::Error {
                        kind: err_kind,
                        fields,
                    },
                    _ => DeclKind::Error {
                        kind: err_kind,
                        fields: None,
                    },
                }
            }
            _ => kind.unwrap_or_else(|| DeclKind::Alias(self.broken_type(whole))),
        };
        (name, kind, keyword)
    }

    fn enum_value(&mut self, p: Pair<Rule>) -> EnumValue {
        let span = self.span(&p);
        let mut v = EnumValue {
            docs: Docs::default(),
            annotations: Vec::new(),
            name: Ident {
                name: String::new(),
                span,
            },
            tag: None,
            span,
        };
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::outer_doc => self.doc_line(&mut v.docs, &q),
                Rule::annotation => v.annotations.push(self.annotation(q)),
                Rule::ident => v.name = self.ident(q),
                Rule::tag => v.tag = Some(self.tag(q)),
                _ => {}
            }
        }
        v
    }

    fn params(&mut self, p: Pair<Rule>) -> Vec<Field> {
        p.into_inner()
            .filter(|q| q.as_rule() == Rule::param)
            .map(|q| self.field(q))
            .collect()
    }

    fn method(&mut self, p: Pair<Rule>) -> Method {
        let span = self.span(&p);
        let mut m = Method {
            docs: Docs::default(),
            annotations: Vec::new(),
            name: Ident {
                name: String::new(),
                span,
            },
            params: Vec::new(),
            params_span: span,
            returns: Returns::Nothing,
            throws: Vec::new(),
            emits: Vec::new(),
            span,
        };
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::outer_doc => self.doc_line(&mut m.docs, &q),
                Rule::annotation => m.annotations.push(self.annotation(q)),
                Rule::ident => m.name = self.ident(q),
                Rule::params => {
                    m.params_span = self.span(&q);
                    m.params = self.params(q);
                }
                Rule::returns => {
                    if let Some(r) = q.into_inner().next() {
                        m.returns = if r.as_rule() == Rule::params {
                            let s = self.span(&r);
                            Returns::Named(self.params(r), s)
                        } else {
                            Returns::Single(self.type_expr(r))
                        };
                    }
                }
                Rule::throws | Rule::emits => {
                    let list = if q.as_rule() == Rule::throws {
                        &mut m.throws
                    } else {
                        &mut m.emits
                    };
                    *list = q
                        .into_inner()
                        .filter(|r| r.as_rule() == Rule::qual_name)
                        .map(|r| self.qual_name(r))
                        .collect();
                }
                _ => {}
            }
        }
        m
    }
}

/// Decodes UTF-8, dropping a byte-order mark. On invalid UTF-8 returns a lossy text (for
/// rendering) and the offset of the first bad byte in that text.
pub fn decode(mut bytes: Vec<u8>) -> (String, Option<usize>) {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
        }
    }
}
