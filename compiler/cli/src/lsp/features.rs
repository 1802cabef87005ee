//! What the server answers: diagnostics, hover, definition, references, completion, rename,
//! formatting, symbols, folding, semantic tokens and code actions — each from the front end's
//! compilation (the same model, spans and diagnostics as `svcc check`).

use super::text::{self, offset, path_of, range, uri_of};
use super::workspace::{Analysis, Workspace};
use lsp_types as lsp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use svcc_frontend::resolve::annotations::{ArgType, Place, SPECS, Spec};
use svcc_frontend::source::{FileId, Span};
use svcc_frontend::{Diagnostic, Severity};
use svcc_model::{Primitive, TypeDef};

/// The diagnostics of every file, by path: open documents always (with their version), other
/// files when they have some or had some before (so the client clears them).
pub fn diagnostics(ws: &mut Workspace) -> Vec<lsp::PublishDiagnosticsParams> {
    let Some(a) = ws.current() else {
        return Vec::new();
    };
    let mut by_file: std::collections::BTreeMap<PathBuf, Vec<lsp::Diagnostic>> = Default::default();
    for (_, f) in a.comp.sources.files() {
        by_file.insert(f.path.clone(), Vec::new());
    }
    for d in &a.comp.diagnostics {
        if d.primary.file.0 as usize >= a.comp.sources.len() {
            continue;
        }
        let path = a.path(d.primary.file).to_path_buf();
        by_file.entry(path).or_default().push(to_lsp(a, d));
    }
    let mut out = Vec::new();
    let before = std::mem::take(&mut ws.published);
    for (path, diags) in by_file {
        // Open documents always get their list (with the version it answers); other files
        // only when they have diagnostics or had some before.
        if diags.is_empty() && !before.contains_key(&path) && !ws.versions.contains_key(&path) {
            continue;
        }
        if !diags.is_empty() {
            ws.published.insert(path.clone(), diags.len());
        }
        if let Some(uri) = uri_of(&path) {
            out.push(lsp::PublishDiagnosticsParams {
                uri,
                version: ws.versions.get(&path).copied(),
                diagnostics: diags,
            });
        }
    }
    // Files that vanished from the compilation.
    for path in before.keys() {
        if !out
            .iter()
            .any(|p| path_of(&p.uri).as_deref() == Some(path.as_path()))
            && let Some(uri) = uri_of(path)
        {
            out.push(lsp::PublishDiagnosticsParams {
                uri,
                version: None,
                diagnostics: Vec::new(),
            });
        }
    }
    out
}

fn span_range(a: &Analysis, s: Span) -> lsp::Range {
    range(a.text(s.file), s.start as usize, s.end as usize)
}

fn location(a: &Analysis, s: Span) -> Option<lsp::Location> {
    Some(lsp::Location {
        uri: uri_of(a.path(s.file))?,
        range: span_range(a, s),
    })
}

fn to_lsp(a: &Analysis, d: &Diagnostic) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(label) = &d.primary_label {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    message.push_str(&format!("\n`svcc explain {}` explains it", d.code));
    lsp::Diagnostic {
        range: span_range(a, d.primary),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.clone())),
        code_description: explanation(&d.code).map(|href| lsp::CodeDescription { href }),
        source: Some("svcc".into()),
        message,
        related_information: Some(
            d.labels
                .iter()
                .filter(|l| (l.span.file.0 as usize) < a.comp.sources.len())
                .filter_map(|l| {
                    Some(lsp::DiagnosticRelatedInformation {
                        location: location(a, l.span)?,
                        message: l.message.clone(),
                    })
                })
                .collect(),
        ),
        tags: (d.code == "deprecated").then(|| vec![lsp::DiagnosticTag::DEPRECATED]),
        // The fix, for code actions: the help text.
        data: d.help.as_ref().map(|h| serde_json::json!({ "help": h })),
    }
}

/// A link for a diagnostic's code: the text `svcc explain CODE` prints, written once per code
/// and version into a folder of the temporary directory (an editor opens it on a click of the
/// code; svcc's documentation has no web address to point at).
fn explanation(code: &str) -> Option<lsp::Uri> {
    // Written once per code and process: publishing runs on every keystroke.
    static WRITTEN: std::sync::Mutex<Vec<(String, lsp::Uri)>> = std::sync::Mutex::new(Vec::new());
    let mut written = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, uri)) = written.iter().find(|(c, _)| c == code) {
        return Some(uri.clone());
    }
    let text = if let Some(c) = svcc_frontend::codes::lookup(code) {
        svcc_frontend::codes::explain(c)
    } else if let Some(l) = svcc_frontend::lint::LINTS.iter().find(|l| l.name == code) {
        svcc_frontend::lint::explain(l)
    } else {
        return None;
    };
    let dir = std::env::temp_dir().join(format!("svcc-explain-{}", env!("CARGO_PKG_VERSION")));
    let file = dir.join(format!("{code}.md"));
    if !file.is_file() {
        std::fs::create_dir_all(&dir).ok()?;
        // Written whole then renamed: two servers never show a half-written page.
        let partial = dir.join(format!("{code}.md.{}", std::process::id()));
        std::fs::write(&partial, format!("```text\n{text}```\n")).ok()?;
        std::fs::rename(&partial, &file).ok()?;
    }
    let uri = uri_of(&file)?;
    written.push((code.to_string(), uri.clone()));
    Some(uri)
}

/// The word at a byte offset: identifier characters, dots and a leading `@`.
fn word_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@';
    let at = at.min(text.len());
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| ok(*c))
        .last()
        .map_or(at, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| !ok(*c))
        .map_or(text.len(), |(i, _)| at + i);
    (start < end).then_some((start, end))
}

fn annotation_doc(spec: &Spec) -> String {
    let mut args: Vec<String> = Vec::new();
    if let Some(p) = &spec.positional {
        args.push(format!(
            "{}{}: {}",
            p.name,
            if p.required { "" } else { "?" },
            arg_type(p.ty)
        ));
    }
    for n in spec.named {
        args.push(format!(
            "{} = {}{}",
            n.name,
            arg_type(n.ty),
            if n.required { "" } else { " (optional)" }
        ));
    }
    let places: Vec<&str> = spec.places.iter().map(|p| p.describe()).collect();
    format!(
        "```svc\n@{}({})\n```\n{}\n\nOn: {}",
        spec.name,
        args.join(", "),
        spec.summary,
        places.join(", ")
    )
}

/// What completing an annotation inserts: its name and, as snippet placeholders, the
/// arguments it requires (`rate_limit(limit = ${1:limit}, period = ${2:period})`).
fn annotation_snippet(spec: &Spec) -> String {
    let mut args = Vec::new();
    if let Some(p) = spec.positional.as_ref().filter(|p| p.required) {
        args.push(format!("${{1:{}}}", p.name));
    }
    for n in spec.named.iter().filter(|n| n.required) {
        args.push(format!("{} = ${{{}:{}}}", n.name, args.len() + 1, n.name));
    }
    if args.is_empty() {
        spec.name.to_string()
    } else {
        format!("{}({})", spec.name, args.join(", "))
    }
}

fn arg_type(t: ArgType) -> String {
    match t {
        ArgType::Str => "string".into(),
        ArgType::Int => "integer".into(),
        ArgType::Number => "number".into(),
        ArgType::Bool => "bool".into(),
        ArgType::OneOf(v) => v.join(" | "),
        ArgType::Duration => "duration (\"5s\")".into(),
        ArgType::Ident => "name".into(),
        ArgType::NameList => "[names]".into(),
        ArgType::Literal => "value".into(),
    }
}

/// Docs and shape of a top-level declaration.
fn declaration_doc(a: &Analysis, sym: usize) -> String {
    let s = &a.comp.symbols[sym];
    let q = s.qualified();
    let mut head = format!("{} `{}`", s.kind, q);
    let mut docs = String::new();
    if let Some(t) = a.comp.model.type_def(&q) {
        match t {
            TypeDef::Record(r) => {
                docs.clone_from(&r.docs);
                let fields: Vec<String> = r
                    .fields
                    .iter()
                    .map(|f| {
                        format!(
                            "  {}{} @{}: {};",
                            f.name,
                            if f.optional { "?" } else { "" },
                            f.tag,
                            f.ty
                        )
                    })
                    .collect();
                head = format!("```svc\ntype {} {{\n{}\n}}\n```", r.name, fields.join("\n"));
            }
            TypeDef::Enum(e) => {
                docs.clone_from(&e.docs);
                let values: Vec<String> = e
                    .values
                    .iter()
                    .map(|v| format!("  {} @{};", v.name, v.number))
                    .collect();
                head = format!("```svc\nenum {} {{\n{}\n}}\n```", e.name, values.join("\n"));
            }
            TypeDef::Alias(al) => {
                docs.clone_from(&al.docs);
                head = format!("```svc\ntype {} = {};\n```", al.name, al.target);
            }
            TypeDef::Union(u) => {
                docs.clone_from(&u.docs);
                let vs: Vec<String> = u
                    .variants
                    .iter()
                    .map(|f| format!("  {} @{}: {};", f.name, f.tag, f.ty))
                    .collect();
                head = format!("```svc\nunion {} {{\n{}\n}}\n```", u.name, vs.join("\n"));
            }
        }
    } else if let Some(e) = a.comp.model.error(&q) {
        docs.clone_from(&e.docs);
        head = format!(
            "```svc\nerror {}: {}\n```\ncode `{}`, HTTP {}",
            e.name,
            e.kind.as_str().to_ascii_lowercase(),
            e.code,
            e.http_status
        );
    } else if let Some(p) = a.comp.model.package(&q.package) {
        if let Some(sv) = p.services.iter().find(|x| x.name == q.name) {
            docs.clone_from(&sv.docs);
        }
        if let Some(ev) = p.events.iter().find(|x| x.name == q.name) {
            docs.clone_from(&ev.docs);
            head.push_str(&format!(" on topic `{}`", ev.topic));
        }
    }
    if docs.is_empty() {
        head
    } else {
        format!("{head}\n\n{docs}")
    }
}

pub fn hover(ws: &Workspace, path: &Path, pos: lsp::Position) -> Option<lsp::Hover> {
    let (a, file) = ws.for_file(path)?;
    let t = a.text(file);
    let at = offset(t, pos);
    let markdown = |value: String, s: usize, e: usize| lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value,
        }),
        range: Some(range(t, s, e)),
    };
    if let Some((sym, span)) = a.symbol_at(file, at) {
        return Some(markdown(
            declaration_doc(a, sym),
            span.start as usize,
            span.end as usize,
        ));
    }
    let (s, e) = word_at(t, at)?;
    let word = &t[s..e];
    if let Some(name) = word.strip_prefix('@') {
        let spec = SPECS.iter().find(|x| x.name == name)?;
        return Some(markdown(annotation_doc(spec), s, e));
    }
    if let Some(p) = Primitive::from_name(word) {
        return Some(markdown(format!("built-in type `{}`", p.name()), s, e));
    }
    // A member: field, parameter, method, enum value — by its name's span.
    member_doc(a, file, at).map(|v| markdown(v, s, e))
}

/// Docs of the field, method or enum value whose name is at `at`.
fn member_doc(a: &Analysis, file: FileId, at: usize) -> Option<String> {
    let inside = |s: Span| s.file == file && s.start as usize <= at && at <= s.end as usize;
    for p in &a.comp.model.packages {
        for t in &p.types {
            let fields = match t {
                TypeDef::Record(r) => &r.fields[..],
                TypeDef::Union(u) => &u.variants[..],
                TypeDef::Enum(e) => {
                    if let Some(v) = e.values.iter().find(|v| inside(v.span)) {
                        return Some(format!(
                            "enum value `{}.{}` = {}\n\n{}",
                            e.name, v.name, v.number, v.docs
                        ));
                    }
                    continue;
                }
                TypeDef::Alias(_) => continue,
            };
            if let Some(f) = fields.iter().find(|f| inside(f.spans.name)) {
                return Some(field_doc(t.name(), f));
            }
        }
        for s in &p.services {
            for m in &s.methods {
                if inside(m.name_span) {
                    let params: Vec<String> = m
                        .params
                        .iter()
                        .map(|f| format!("{}: {}", f.name, f.ty))
                        .collect();
                    let mut head = format!("```svc\nrpc {}({})\n```", m.name, params.join(", "));
                    if let Some(j) = &m.settings.jsonrpc {
                        head.push_str(&format!("\nJSON-RPC `{j}`"));
                    }
                    if let Some(h) = &m.settings.http {
                        head.push_str(&format!("\nREST `{} {}`", h.method, h.path));
                    }
                    return Some(format!("{head}\n\n{}", m.docs));
                }
                if let Some(f) = m.params.iter().find(|f| inside(f.spans.name)) {
                    return Some(field_doc(&format!("{}.{}", s.name, m.name), f));
                }
            }
        }
        for e in &p.errors {
            if let Some(f) = e.fields.iter().find(|f| inside(f.spans.name)) {
                return Some(field_doc(&e.name, f));
            }
        }
        for e in &p.events {
            if let Some(f) = e.fields.iter().find(|f| inside(f.spans.name)) {
                return Some(field_doc(&e.name, f));
            }
        }
    }
    None
}

fn field_doc(owner: &str, f: &svcc_model::Field) -> String {
    format!(
        "```svc\n{}{} @{}: {}\n```\nin `{owner}`; JSON `{}`\n\n{}",
        f.name,
        if f.optional { "?" } else { "" },
        f.tag,
        f.ty,
        f.wire_name,
        f.docs
    )
}

pub fn definition(ws: &Workspace, path: &Path, pos: lsp::Position) -> Option<lsp::Location> {
    let (a, file) = ws.for_file(path)?;
    let at = offset(a.text(file), pos);
    if let Some((sym, _)) = a.symbol_at(file, at) {
        return location(a, a.comp.symbols[sym].span);
    }
    // An import's path: the imported file.
    let t = a.text(file);
    let line_start = t[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = t[at..].find('\n').map_or(t.len(), |i| at + i);
    let line = &t[line_start..line_end];
    if line.trim_start().starts_with("import") {
        let q1 = line.find('"')?;
        let q2 = line[q1 + 1..].find('"')? + q1 + 1;
        let target = a.path(file).parent()?.join(&line[q1 + 1..q2]);
        let target = svcc_frontend::resolve::load::normalize(&target);
        if a.file(&target).is_some() || target.is_file() {
            return Some(lsp::Location {
                uri: uri_of(&target)?,
                range: lsp::Range::default(),
            });
        }
    }
    None
}

pub fn references(
    ws: &Workspace,
    path: &Path,
    pos: lsp::Position,
    declaration: bool,
) -> Vec<lsp::Location> {
    let Some((a, file)) = ws.for_file(path) else {
        return Vec::new();
    };
    let at = offset(a.text(file), pos);
    let Some((sym, _)) = a.symbol_at(file, at) else {
        return Vec::new();
    };
    let mut spans: Vec<Span> = Vec::new();
    if declaration {
        spans.push(a.comp.symbols[sym].span);
    }
    spans.extend(a.comp.references[sym].iter().copied());
    spans.into_iter().filter_map(|s| location(a, s)).collect()
}

/// The span of a name's last segment (`pkg.User` → `User`).
fn last_segment(a: &Analysis, s: Span) -> Span {
    let text = &a.text(s.file)[s.start as usize..s.end as usize];
    match text.rfind('.') {
        Some(i) => Span {
            start: s.start + i as u32 + 1,
            ..s
        },
        None => s,
    }
}

pub fn prepare_rename(
    ws: &Workspace,
    path: &Path,
    pos: lsp::Position,
) -> Option<lsp::PrepareRenameResponse> {
    let (a, file) = ws.for_file(path)?;
    let at = offset(a.text(file), pos);
    let (_, span) = a.symbol_at(file, at)?;
    Some(lsp::PrepareRenameResponse::Range(span_range(
        a,
        last_segment(a, span),
    )))
}

#[allow(clippy::mutable_key_type)] // lsp-types keys `WorkspaceEdit::changes` by `Uri`
pub fn rename(
    ws: &Workspace,
    path: &Path,
    pos: lsp::Position,
    new_name: &str,
) -> Result<Option<lsp::WorkspaceEdit>, String> {
    let Some((a, file)) = ws.for_file(path) else {
        return Ok(None);
    };
    let at = offset(a.text(file), pos);
    let Some((sym, _)) = a.symbol_at(file, at) else {
        return Ok(None);
    };
    let valid = new_name.starts_with(|c: char| c.is_ascii_alphabetic())
        && new_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid || Primitive::from_name(new_name).is_some() {
        return Err(format!(
            "`{new_name}` is not a valid name for a declaration"
        ));
    }
    let s = &a.comp.symbols[sym];
    if let Some(other) = a
        .comp
        .symbols
        .iter()
        .find(|o| o.package == s.package && o.name == new_name)
    {
        return Err(format!(
            "`{}.{new_name}` already exists ({}); renaming would make two declarations clash",
            other.package, other.kind
        ));
    }
    let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
    for span in std::iter::once(s.span).chain(a.comp.references[sym].iter().copied()) {
        let span = last_segment(a, span);
        if let Some(uri) = uri_of(a.path(span.file)) {
            changes.entry(uri).or_default().push(lsp::TextEdit {
                range: span_range(a, span),
                new_text: new_name.to_string(),
            });
        }
    }
    Ok(Some(lsp::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

pub fn formatting(ws: &Workspace, path: &Path) -> Option<Vec<lsp::TextEdit>> {
    let original = ws.text(path)?;
    let formatted = svcc_frontend::fmt::format_source(&original).ok()?;
    if formatted == original {
        return Some(Vec::new());
    }
    Some(vec![lsp::TextEdit {
        range: range(&original, 0, original.len()),
        new_text: formatted,
    }])
}

fn symbol_kind(kind: &str) -> lsp::SymbolKind {
    match kind {
        "enum" => lsp::SymbolKind::ENUM,
        "service" => lsp::SymbolKind::INTERFACE,
        "error" => lsp::SymbolKind::CLASS,
        "event" => lsp::SymbolKind::EVENT,
        "alias" => lsp::SymbolKind::TYPE_PARAMETER,
        _ => lsp::SymbolKind::STRUCT,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written; `tags` is what is read
fn document_symbol(
    a: &Analysis,
    name: &str,
    detail: Option<String>,
    kind: lsp::SymbolKind,
    whole: Span,
    selection: Span,
    children: Vec<lsp::DocumentSymbol>,
) -> lsp::DocumentSymbol {
    let whole = whole.to(selection);
    lsp::DocumentSymbol {
        name: name.to_string(),
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: span_range(a, whole),
        selection_range: span_range(a, selection),
        children: (!children.is_empty()).then_some(children),
    }
}

pub fn document_symbols(ws: &Workspace, path: &Path) -> Vec<lsp::DocumentSymbol> {
    let Some((a, file)) = ws.for_file(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let field = |f: &svcc_model::Field, kind| {
        document_symbol(
            a,
            &f.name,
            Some(f.ty.to_string()),
            kind,
            f.spans.whole,
            f.spans.name,
            Vec::new(),
        )
    };
    for sym in a.comp.symbols.iter().filter(|s| s.file == file) {
        let q = sym.qualified();
        let mut children = Vec::new();
        let mut whole = sym.span;
        let package = a.comp.model.package(&q.package);
        if let Some(t) = a.comp.model.type_def(&q) {
            whole = t.span();
            match t {
                TypeDef::Record(r) => {
                    children.extend(r.fields.iter().map(|f| field(f, lsp::SymbolKind::FIELD)))
                }
                TypeDef::Union(u) => {
                    children.extend(u.variants.iter().map(|f| field(f, lsp::SymbolKind::FIELD)))
                }
                TypeDef::Enum(e) => children.extend(e.values.iter().map(|v| {
                    document_symbol(
                        a,
                        &v.name,
                        Some(v.number.to_string()),
                        lsp::SymbolKind::ENUM_MEMBER,
                        v.span,
                        v.span,
                        Vec::new(),
                    )
                })),
                TypeDef::Alias(_) => {}
            }
        } else if let Some(e) = a.comp.model.error(&q) {
            whole = e.span;
            children.extend(e.fields.iter().map(|f| field(f, lsp::SymbolKind::FIELD)));
        } else if let Some(sv) = package.and_then(|p| p.services.iter().find(|s| s.name == q.name))
        {
            whole = sv.span;
            children.extend(sv.methods.iter().map(|m| {
                document_symbol(
                    a,
                    &m.name,
                    None,
                    lsp::SymbolKind::METHOD,
                    m.span,
                    m.name_span,
                    Vec::new(),
                )
            }));
        } else if let Some(ev) = package.and_then(|p| p.events.iter().find(|e| e.name == q.name)) {
            whole = ev.span;
            children.extend(ev.fields.iter().map(|f| field(f, lsp::SymbolKind::FIELD)));
        }
        if whole.file != file {
            whole = sym.span;
        }
        out.push(document_symbol(
            a,
            &sym.name,
            Some(sym.kind.to_string()),
            symbol_kind(sym.kind),
            whole,
            sym.span,
            children,
        ));
    }
    out
}

#[allow(deprecated)] // `SymbolInformation::deprecated` must be written
pub fn workspace_symbols(ws: &Workspace, query: &str) -> Vec<lsp::SymbolInformation> {
    let Some(a) = ws.current() else {
        return Vec::new();
    };
    let query = query.to_ascii_lowercase();
    a.comp
        .symbols
        .iter()
        .filter(|s| {
            s.name.to_ascii_lowercase().contains(&query)
                || s.qualified()
                    .to_string()
                    .to_ascii_lowercase()
                    .contains(&query)
        })
        .filter_map(|s| {
            Some(lsp::SymbolInformation {
                name: s.name.clone(),
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                location: location(a, s.span)?,
                container_name: Some(s.package.clone()),
            })
        })
        .collect()
}

/// Blocks (`{ … }` over several lines) and runs of comment lines.
pub fn folding(text: &str) -> Vec<lsp::FoldingRange> {
    let mut out = Vec::new();
    let mut open: Vec<u32> = Vec::new();
    let mut in_string = false;
    let mut comment_start: Option<u32> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n as u32;
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            comment_start.get_or_insert(n);
        } else {
            if let Some(s) = comment_start.take()
                && n > s + 1
            {
                out.push(lsp::FoldingRange {
                    start_line: s,
                    end_line: n - 1,
                    kind: Some(lsp::FoldingRangeKind::Comment),
                    ..Default::default()
                });
            }
            let code = line.split("//").next().unwrap_or("");
            for c in code.chars() {
                match c {
                    '"' => in_string = !in_string,
                    '{' if !in_string => open.push(n),
                    '}' if !in_string => {
                        if let Some(s) = open.pop()
                            && n > s
                        {
                            out.push(lsp::FoldingRange {
                                start_line: s,
                                end_line: n,
                                kind: Some(lsp::FoldingRangeKind::Region),
                                ..Default::default()
                            });
                        }
                    }
                    _ => {}
                }
            }
            in_string = false;
        }
    }
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out
}

pub fn completion(ws: &Workspace, path: &Path, pos: lsp::Position) -> Vec<lsp::CompletionItem> {
    let Some(text) = ws.text(path) else {
        return Vec::new();
    };
    let at = offset(&text, pos);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..at];
    // An import path: the `.svc` files beside and below the file's folder.
    if before.trim_start().starts_with("import") && before.matches('"').count() == 1 {
        return import_paths(path);
    }
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '@'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[word_start..];
    if word.starts_with('@') {
        // Inside a method's parentheses on this line: a parameter's annotation.
        let place = if before.matches('(').count() > before.matches(')').count() {
            Some(Place::Param)
        } else {
            place_at(&text, line_start)
        };
        return SPECS
            .iter()
            .filter(|s| place.is_none_or(|p| s.places.contains(&p)))
            .map(|s| lsp::CompletionItem {
                label: format!("@{}", s.name),
                kind: Some(lsp::CompletionItemKind::PROPERTY),
                detail: Some(s.summary.to_string()),
                documentation: Some(lsp::Documentation::MarkupContent(lsp::MarkupContent {
                    kind: lsp::MarkupKind::Markdown,
                    value: annotation_doc(s),
                })),
                insert_text: Some(annotation_snippet(s)),
                insert_text_format: Some(lsp::InsertTextFormat::SNIPPET),
                filter_text: Some(format!("@{}", s.name)),
                ..Default::default()
            })
            .collect();
    }
    let Some((a, file)) = ws.for_file(path) else {
        return Vec::new();
    };
    // A default: `field @N: Enum = |` offers the enum's values.
    let head = before[..word_start].trim_end();
    if let Some(eq) = head.strip_suffix('=') {
        let ty = eq
            .rsplit(':')
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches('?');
        return enum_values(a, file, ty);
    }
    let package = a.package_of(file);
    let mut items: Vec<lsp::CompletionItem> = Primitive::ALL
        .iter()
        .map(|(name, _)| *name)
        .chain(["list", "map"])
        .map(|n| lsp::CompletionItem {
            label: n.to_string(),
            kind: Some(lsp::CompletionItemKind::KEYWORD),
            detail: Some("built-in type".into()),
            ..Default::default()
        })
        .collect();
    for s in &a.comp.symbols {
        let own = package.as_deref() == Some(s.package.as_str());
        let label = if own {
            s.name.clone()
        } else {
            s.qualified().to_string()
        };
        items.push(lsp::CompletionItem {
            label,
            kind: Some(match s.kind {
                "enum" => lsp::CompletionItemKind::ENUM,
                "service" => lsp::CompletionItemKind::INTERFACE,
                "event" => lsp::CompletionItemKind::EVENT,
                _ => lsp::CompletionItemKind::STRUCT,
            }),
            detail: Some(format!("{} in {}", s.kind, s.package)),
            ..Default::default()
        });
    }
    items
}

/// What an annotation written on the line starting at `at` stands on: the next declaration or
/// member after it (annotations and comments skipped), in the block that encloses it. `None`
/// when it cannot be told (every annotation is offered then).
fn place_at(text: &str, at: usize) -> Option<Place> {
    // The next line that is not an annotation, a comment or blank.
    let mut next = None;
    for line in text[at..].lines().skip(1) {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with("//") || t.starts_with('@') {
            continue;
        }
        next = Some(t);
        break;
    }
    let next = next?;
    let first = next
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    let place = match first {
        "package" => Place::Package,
        "service" => Place::Service,
        "rpc" => Place::Method,
        "enum" => Place::Enum,
        "union" => Place::Union,
        "error" => Place::Error,
        "event" => Place::Event,
        "type" if next.contains('=') && !next.contains('{') => Place::Alias,
        "type" => Place::Record,
        _ => {
            // A member: what the innermost open block or parenthesis belongs to.
            let before = &text[..at];
            let (mut depth, mut paren) = (0i32, 0i32);
            let mut opener = None;
            for (i, c) in before.char_indices().rev() {
                match c {
                    '}' => depth += 1,
                    ')' => paren += 1,
                    '(' if paren == 0 && depth == 0 => return Some(Place::Param),
                    '(' => paren -= 1,
                    '{' if depth == 0 => {
                        opener = Some(i);
                        break;
                    }
                    '{' => depth -= 1,
                    _ => {}
                }
            }
            let head = before[..opener?].trim_end();
            let line = head.rsplit('\n').next().unwrap_or(head).trim_start();
            if line.starts_with("enum") {
                Place::EnumValue
            } else if line.starts_with("service") {
                Place::Method
            } else {
                Place::Field
            }
        }
    };
    Some(place)
}

fn enum_values(a: &Analysis, file: FileId, ty: &str) -> Vec<lsp::CompletionItem> {
    let package = a.package_of(file);
    let name = ty.rsplit('.').next().unwrap_or(ty);
    for p in &a.comp.model.packages {
        if !(ty.contains('.') || package.as_deref() == Some(p.name.as_str())) {
            continue;
        }
        for t in &p.types {
            if let TypeDef::Enum(e) = t
                && e.name == name
            {
                return e
                    .values
                    .iter()
                    .map(|v| lsp::CompletionItem {
                        label: v.name.clone(),
                        kind: Some(lsp::CompletionItemKind::ENUM_MEMBER),
                        detail: Some(format!("{}.{} = {}", e.name, v.name, v.number)),
                        ..Default::default()
                    })
                    .collect();
            }
        }
    }
    Vec::new()
}

fn import_paths(path: &Path) -> Vec<lsp::CompletionItem> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let Ok(files) = svcc_frontend::collect_inputs(&[dir.to_path_buf()]) else {
        return Vec::new();
    };
    files
        .into_iter()
        .filter(|f| f != path)
        .filter_map(|f| {
            let rel = f.strip_prefix(dir).ok()?.display().to_string();
            Some(lsp::CompletionItem {
                label: rel,
                kind: Some(lsp::CompletionItemKind::FILE),
                ..Default::default()
            })
        })
        .collect()
}

/// Quick fixes from the diagnostics' help: did-you-mean, a missing tag, a missing import.
#[allow(clippy::mutable_key_type)] // lsp-types keys `WorkspaceEdit::changes` by `Uri`
pub fn code_actions(
    ws: &Workspace,
    path: &Path,
    wanted: lsp::Range,
) -> Vec<lsp::CodeActionOrCommand> {
    let Some(a) = ws.current() else {
        return Vec::new();
    };
    let Some(file) = a.file(path) else {
        return Vec::new();
    };
    let Some(uri) = uri_of(path) else {
        return Vec::new();
    };
    let t = a.text(file);
    let (ws_start, ws_end) = (offset(t, wanted.start), offset(t, wanted.end));
    let mut out = Vec::new();
    for d in a.comp.diagnostics.iter().filter(|d| {
        d.primary.file == file
            && (d.primary.start as usize) <= ws_end
            && ws_start <= d.primary.end as usize
    }) {
        let help = d.help.as_deref().unwrap_or("");
        let mut fix = |title: String, edit: lsp::TextEdit| {
            let mut changes = HashMap::new();
            changes.insert(uri.clone(), vec![edit]);
            out.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title,
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![to_lsp(a, d)]),
                edit: Some(lsp::WorkspaceEdit {
                    changes: Some(changes),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }));
        };
        let quoted = |prefix: &str| -> Option<String> {
            let rest = help.strip_prefix(prefix)?;
            let rest = rest.strip_prefix('`')?;
            Some(rest[..rest.find('`')?].to_string())
        };
        if let Some(name) = quoted("did you mean ").or_else(|| quoted("rename it to ")) {
            fix(
                format!("Replace with `{name}`"),
                lsp::TextEdit {
                    range: span_range(a, d.primary),
                    new_text: name,
                },
            );
        } else if d.code == "implicit_tag"
            && let Some(tag) = d
                .primary_label
                .as_deref()
                .and_then(|l| l.strip_prefix("implicitly `"))
                .and_then(|l| l.strip_suffix('`'))
        {
            fix(
                format!("Write the tag `{tag}`"),
                lsp::TextEdit {
                    range: range(t, d.primary.end as usize, d.primary.end as usize),
                    new_text: format!(" {tag}"),
                },
            );
        } else if d.code == "E0102" {
            // A name declared in another package of the workspace: import its file.
            let name = &t[d.primary.start as usize..d.primary.end as usize];
            for s in a
                .comp
                .symbols
                .iter()
                .filter(|s| s.name == name && s.file != file)
            {
                let (Some(from), Some(target)) = (path.parent(), Some(a.path(s.file))) else {
                    continue;
                };
                let rel = relative(from, target);
                let insert_at = t
                    .find("package ")
                    .and_then(|i| t[i..].find('\n').map(|j| i + j + 1))
                    .unwrap_or(0);
                fix(
                    format!("Import `{rel}` (declares `{}`)", s.qualified()),
                    lsp::TextEdit {
                        range: range(t, insert_at, insert_at),
                        new_text: format!("\nimport \"{rel}\";\n"),
                    },
                );
            }
        }
    }
    out
}

/// `target` relative to the folder `from` (with `..` where needed).
fn relative(from: &Path, target: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// The token types of [`semantic_tokens`], in the legend's order.
pub const TOKEN_TYPES: &[lsp::SemanticTokenType] = &[
    lsp::SemanticTokenType::KEYWORD,
    lsp::SemanticTokenType::TYPE,
    lsp::SemanticTokenType::DECORATOR,
    lsp::SemanticTokenType::COMMENT,
    lsp::SemanticTokenType::STRING,
    lsp::SemanticTokenType::NUMBER,
    lsp::SemanticTokenType::ENUM_MEMBER,
];

const KEYWORDS: &[&str] = &[
    "package", "import", "as", "type", "enum", "union", "error", "event", "service", "rpc",
    "throws", "emits",
];

/// Semantic tokens: keywords, types (built-in and declared), annotations, comments, strings,
/// numbers and enum values, from a scan of the text checked against the symbol table.
pub fn semantic_tokens(ws: &Workspace, path: &Path) -> Vec<lsp::SemanticToken> {
    let Some(text) = ws.text(path) else {
        return Vec::new();
    };
    let mut enum_values: std::collections::HashSet<String> = Default::default();
    let mut declared: std::collections::HashSet<String> = Default::default();
    if let Some(a) = ws.current() {
        for s in &a.comp.symbols {
            declared.insert(s.name.clone());
        }
        for p in &a.comp.model.packages {
            for t in &p.types {
                if let TypeDef::Enum(e) = t {
                    enum_values.extend(e.values.iter().map(|v| v.name.clone()));
                }
            }
        }
    }
    let mut raw: Vec<(usize, usize, u32)> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(b.len(), |j| i + j);
            raw.push((i, end, 3));
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' && b[j] != b'\n' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            raw.push((i, end, 4));
            i = end;
        } else if c == b'@' {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let digits = b[i + 1..j].iter().all(u8::is_ascii_digit);
            raw.push((i, j, if digits { 5 } else { 2 }));
            i = j.max(i + 1);
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'.') {
                j += 1;
            }
            raw.push((i, j, 5));
            i = j;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let w = &text[i..j];
            let kind = if KEYWORDS.contains(&w) {
                Some(0)
            } else if Primitive::from_name(w).is_some()
                || w == "list"
                || w == "map"
                || declared.contains(w)
            {
                Some(1)
            } else if enum_values.contains(w) {
                Some(6)
            } else {
                None
            };
            if let Some(k) = kind {
                raw.push((i, j, k));
            }
            i = j;
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    // Relative encoding; tokens never span lines (comments and strings stop at the line end).
    let mut out = Vec::new();
    let (mut prev_line, mut prev_start) = (0u32, 0u32);
    for (s, e, kind) in raw {
        let start = text::position(&text, s);
        let end = text::position(&text, e);
        if end.line != start.line {
            continue;
        }
        let delta_line = start.line - prev_line;
        let delta_start = if delta_line == 0 {
            start.character - prev_start
        } else {
            start.character
        };
        out.push(lsp::SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: kind,
            token_modifiers_bitset: 0,
        });
        prev_line = start.line;
        prev_start = start.character;
    }
    out
}
