//! `svcc fmt`: prints a syntax tree in the one canonical style, keeping every comment.
//!
//! The style: two-space indentation; one blank line between declarations; blank lines inside
//! bodies kept (at most one); declaration and method annotations one per line; field and enum
//! value annotations on one line above the member; parameter annotations inline; a method's
//! parameters on one line when it fits in 100 columns, else one per line with a trailing comma;
//! `error X: kind;` when an error has no fields. Plain comments stay where they were relative
//! to the declarations and members around them; a comment after code on the same line stays
//! there. The formatter never changes meaning: the model before and after is the same.

use crate::syntax::ast::*;
use crate::syntax::decode;
use crate::syntax::parse_file;
use std::path::Path;
use svcc_model::Diagnostic;
use svcc_model::source::{FileId, SourceMap, Span};

/// Lines longer than this are broken where the style allows.
pub const MAX_WIDTH: usize = 100;
const INDENT: &str = "  ";

#[derive(Debug)]
pub struct Formatted {
    pub text: String,
    pub changed: bool,
}

/// Formats one file's bytes. On failure returns the sources and diagnostics to render.
pub fn format_file(path: &Path, bytes: Vec<u8>) -> Result<Formatted, (SourceMap, Vec<Diagnostic>)> {
    let had_bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
    let (text, bad) = decode(bytes);
    let mut sources = SourceMap::new();
    let id = sources.add(path.to_path_buf(), text);
    if let Some(at) = bad {
        let text = &sources.get(id).text;
        let len = text[at..].chars().next().map_or(0, char::len_utf8);
        let d = crate::syntax::diagnostics::invalid_utf8(Span::new(id, at, at + len));
        return Err((sources, vec![d]));
    }
    let original = sources.get(id).text.clone();
    match format_source(&original) {
        Ok(text) => {
            let changed = had_bom || text != original;
            Ok(Formatted { text, changed })
        }
        Err(diags) => Err((sources, diags)),
    }
}

/// Formats source text (without a byte-order mark).
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let (tree, diags) = parse_file(FileId(0), text);
    let Some(tree) = tree else { return Err(diags) };
    let mut p = Printer {
        src: text,
        out: String::with_capacity(text.len() + text.len() / 8),
        comments: tree.comments.clone(),
        next: 0,
        indent: 0,
        last_end: 0,
    };
    p.file(&tree);
    Ok(p.out)
}

struct Printer<'a> {
    src: &'a str,
    out: String,
    comments: Vec<Comment>,
    next: usize,
    indent: usize,
    /// Where in the source the last printed element (code or comment) ended.
    last_end: u32,
}

impl Printer<'_> {
    // ---- low level ----

    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Whether the source has a blank line between `from` and `to`.
    fn blank_between(&self, from: u32, to: u32) -> bool {
        let gap = self.src.get(from as usize..to as usize).unwrap_or("");
        let mut newlines = 0;
        for c in gap.chars() {
            match c {
                '\n' => newlines += 1,
                ' ' | '\t' | '\r' => {}
                _ => newlines = 0,
            }
            if newlines >= 2 {
                return true;
            }
        }
        false
    }

    /// Prints, each on its own line, every comment that starts before `pos`.
    fn flush_before(&mut self, pos: u32) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= pos {
                break;
            }
            let c = c.clone();
            self.next += 1;
            if self.last_end > 0 && self.blank_between(self.last_end, c.span.start) {
                self.blank();
            }
            self.last_end = c.span.end;
            if c.text.starts_with("/*") && c.text.contains('\n') {
                // Multi-line block comments are kept verbatim (their own indentation inside).
                for _ in 0..self.indent {
                    self.out.push_str(INDENT);
                }
                self.out.push_str(&c.text.replace("\r\n", "\n"));
                self.out.push('\n');
            } else {
                self.line(c.text.trim_end());
            }
        }
    }

    /// After a line that ended at `end`: a comment that starts on the same source line is
    /// appended to the line just printed.
    fn trailing(&mut self, end: u32) {
        self.last_end = self.last_end.max(end);
        while let Some(c) = self.comments.get(self.next) {
            let gap = self
                .src
                .get(end as usize..c.span.start as usize)
                .unwrap_or("\n");
            let only_space = gap.chars().all(|ch| ch == ' ' || ch == '\t');
            if !only_space || c.span.start < end || c.text.contains('\n') {
                break;
            }
            let text = c.text.clone();
            self.next += 1;
            self.last_end = c.span.end;
            if self.out.ends_with('\n') {
                self.out.pop();
            }
            self.out.push(' ');
            self.out.push_str(text.trim_end());
            self.out.push('\n');
        }
    }

    fn docs(&mut self, d: &Docs, marker: &str) {
        for l in &d.lines {
            if l.is_empty() {
                self.line(marker);
            } else {
                self.line(&format!("{marker} {l}"));
            }
        }
    }

    // ---- file ----

    fn file(&mut self, f: &File) {
        if let Some(s) = f.inner_docs.span {
            self.flush_before(s.start);
        }
        self.docs(&f.inner_docs, "//!");
        if !f.inner_docs.is_empty() {
            self.blank();
        }
        if let Some(s) = f.package_docs.span {
            self.flush_before(s.start);
        }
        self.docs(&f.package_docs, "///");
        for a in &f.annotations {
            self.flush_before(a.span.start);
            self.line(&annotation(a));
            self.trailing(a.span.end);
        }
        self.flush_before(f.package.span.start);
        self.line(&format!("package {};", f.package.name.text()));
        self.trailing(f.package.span.end);
        if !f.imports.is_empty() {
            self.blank();
        }
        for i in &f.imports {
            self.flush_before(i.span.start);
            let alias = i
                .alias
                .as_ref()
                .map(|a| format!(" as {}", a.name))
                .unwrap_or_default();
            self.line(&format!("import \"{}\"{alias};", i.path.raw));
            self.trailing(i.span.end);
        }
        for d in &f.decls {
            self.blank();
            self.decl(d);
        }
        if self.next < self.comments.len() {
            let last_end = f
                .decls
                .last()
                .map(|d| d.span.end)
                .or_else(|| f.imports.last().map(|i| i.span.end))
                .unwrap_or(f.package.span.end);
            let first = &self.comments[self.next];
            if self.blank_between(last_end, first.span.start) {
                self.blank();
            }
            self.flush_before(u32::MAX);
        }
    }

    fn head(&mut self, docs: &Docs, anns: &[Annotation], one_line_annotations: bool) {
        if let Some(s) = docs.span {
            self.flush_before(s.start);
        }
        self.docs(docs, "///");
        if one_line_annotations {
            if let Some(first) = anns.first() {
                self.flush_before(first.span.start);
                let text: Vec<String> = anns.iter().map(annotation).collect();
                self.line(&text.join(" "));
            }
        } else {
            for a in anns {
                self.flush_before(a.span.start);
                self.line(&annotation(a));
                self.trailing(a.span.end);
            }
        }
    }

    fn decl(&mut self, d: &Decl) {
        self.head(&d.docs, &d.annotations, false);
        self.flush_before(d.keyword_span.start);
        let name = &d.name.name;
        match &d.kind {
            DeclKind::Record(b) => self.body(&format!("type {name}"), b, Self::field),
            DeclKind::Alias(t) => {
                self.line(&format!("type {name} = {};", type_expr(t)));
                self.trailing(d.span.end);
            }
            DeclKind::Enum(b) => self.body(&format!("enum {name}"), b, Self::enum_value),
            DeclKind::Union(b) => self.body(&format!("union {name}"), b, Self::field),
            DeclKind::Error { kind, fields } => {
                let header = format!("error {name}: {}", kind.name);
                match fields {
                    Some(b) if !b.items.is_empty() || self.has_comments_in(b.open, b.close) => {
                        self.body(&header, b, Self::field);
                    }
                    _ => {
                        self.line(&format!("{header};"));
                        self.trailing(d.span.end);
                    }
                }
            }
            DeclKind::Event(b) => self.body(&format!("event {name}"), b, Self::field),
            DeclKind::Service(b) => self.body(&format!("service {name}"), b, Self::method),
        }
    }

    fn has_comments_in(&self, open: Span, close: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.span.start > open.start && c.span.start < close.start)
    }

    fn body<T: Member>(&mut self, header: &str, b: &Body<T>, member: fn(&mut Self, &T)) {
        if b.items.is_empty() && !self.has_comments_in(b.open, b.close) {
            self.line(&format!("{header} {{}}"));
            self.trailing(b.close.end);
            return;
        }
        self.line(&format!("{header} {{"));
        self.trailing(b.open.end);
        self.indent += 1;
        let mut prev_end = b.open.end;
        for item in &b.items {
            let start = item.span().start;
            let lead = self.comments[self.next..]
                .first()
                .filter(|c| c.span.start < start)
                .map_or(start, |c| c.span.start);
            if prev_end != b.open.end && self.blank_between(prev_end, lead) {
                self.blank();
            }
            member(self, item);
            prev_end = item.span().end;
        }
        if let Some(c) = self.comments.get(self.next)
            && c.span.start < b.close.start
            && self.blank_between(prev_end, c.span.start)
            && !b.items.is_empty()
        {
            self.blank();
        }
        self.flush_before(b.close.start);
        self.indent -= 1;
        self.line("}");
        self.trailing(b.close.end);
    }

    fn field(&mut self, f: &Field) {
        self.head(&f.docs, &f.annotations, true);
        self.flush_before(f.name.span.start);
        self.line(&format!("{};", field_text(f, false)));
        self.trailing(f.span.end);
    }

    fn enum_value(&mut self, v: &EnumValue) {
        self.head(&v.docs, &v.annotations, true);
        self.flush_before(v.name.span.start);
        let tag = v
            .tag
            .as_ref()
            .map(|t| format!(" @{}", t.value))
            .unwrap_or_default();
        self.line(&format!("{}{tag};", v.name.name));
        self.trailing(v.span.end);
    }

    fn method(&mut self, m: &Method) {
        self.head(&m.docs, &m.annotations, false);
        let first = m
            .params
            .first()
            .map_or(m.params_span.start, |p| p.span.start);
        self.flush_before(first.min(m.name.span.start));
        let tail = method_tail(m);
        let single = format!(
            "rpc {}({}){tail};",
            m.name.name,
            m.params
                .iter()
                .map(|p| field_text(p, true))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let width = self.indent * INDENT.len() + single.len();
        let params_have_docs = m.params.iter().any(|p| !p.docs.is_empty());
        let comments_inside = self.comments[self.next..]
            .iter()
            .any(|c| c.span.start > m.params_span.start && c.span.start < m.params_span.end);
        if width <= MAX_WIDTH && !params_have_docs && !comments_inside {
            self.line(&single);
            self.trailing(m.span.end);
            return;
        }
        self.line(&format!("rpc {}(", m.name.name));
        self.indent += 1;
        for p in &m.params {
            if let Some(s) = p.docs.span {
                self.flush_before(s.start);
            }
            self.docs(&p.docs, "///");
            self.flush_before(p.span.start.max(p.name.span.start.min(p.span.start)));
            self.line(&format!("{},", field_text(p, true)));
            self.trailing(p.span.end);
        }
        self.flush_before(m.params_span.end.saturating_sub(1));
        self.indent -= 1;
        self.line(&format!("){tail};"));
        self.trailing(m.span.end);
    }
}

/// Anything with a span inside a body.
trait Member {
    fn span(&self) -> Span;
}

impl Member for Field {
    fn span(&self) -> Span {
        self.span
    }
}

impl Member for EnumValue {
    fn span(&self) -> Span {
        self.span
    }
}

impl Member for Method {
    fn span(&self) -> Span {
        self.span
    }
}

fn method_tail(m: &Method) -> String {
    let mut s = String::new();
    match &m.returns {
        Returns::Nothing => {}
        Returns::Named(fields, _) => {
            let inner: Vec<String> = fields.iter().map(|f| field_text(f, true)).collect();
            s.push_str(&format!(" -> ({})", inner.join(", ")));
        }
        Returns::Single(t) => s.push_str(&format!(" -> {}", type_expr(t))),
    }
    if !m.throws.is_empty() {
        let names: Vec<String> = m.throws.iter().map(QualName::text).collect();
        s.push_str(&format!(" throws {}", names.join(", ")));
    }
    if !m.emits.is_empty() {
        let names: Vec<String> = m.emits.iter().map(QualName::text).collect();
        s.push_str(&format!(" emits {}", names.join(", ")));
    }
    s
}

/// `name? @N: Type = default`, with inline annotations for parameters and results.
fn field_text(f: &Field, inline_annotations: bool) -> String {
    let mut s = String::new();
    if inline_annotations {
        for a in &f.annotations {
            s.push_str(&annotation(a));
            s.push(' ');
        }
    }
    s.push_str(&f.name.name);
    if f.optional.is_some() {
        s.push('?');
    }
    if let Some(t) = &f.tag {
        s.push_str(&format!(" @{}", t.value));
    }
    s.push_str(": ");
    s.push_str(&type_expr(&f.ty));
    if let Some(d) = &f.default {
        s.push_str(" = ");
        s.push_str(&value(d));
    }
    s
}

pub fn type_expr(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Named(q) => q.text(),
        TypeExprKind::List(i) => format!("list<{}>", type_expr(i)),
        TypeExprKind::Map(k, v) => format!("map<{}, {}>", type_expr(k), type_expr(v)),
    }
}

pub fn annotation(a: &Annotation) -> String {
    match &a.args {
        None => format!("@{}", a.name.name),
        Some(args) => {
            let parts: Vec<String> = args
                .iter()
                .map(|arg| match &arg.name {
                    Some(n) => format!("{} = {}", n.name, value(&arg.value)),
                    None => value(&arg.value),
                })
                .collect();
            format!("@{}({})", a.name.name, parts.join(", "))
        }
    }
}

pub fn value(v: &Value) -> String {
    match &v.kind {
        ValueKind::Str(s) => format!("\"{}\"", s.raw),
        ValueKind::Int(_, text) | ValueKind::Float(_, text) => text.clone(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Ident(q) => q.text(),
        ValueKind::List(items) => {
            let parts: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}
