//! Syntax errors in the user's words.
//!
//! pest reports the furthest position it reached, the literal tokens it tried there and the
//! rules it was inside. We re-parse a failed file with that detail switched on, translate the
//! rules into phrases (`a type`, `` `;` ``), find what construct the error is in from the tokens
//! before it (`after field `name``), and point at the smallest span: just after the previous
//! token when a terminator is missing, at the unexpected token otherwise.

use super::diagnostics as diag;
use super::scan::{Tok, TokKind, tokens};
use super::{Rule, SvcParser};
use pest::Parser;
use pest::error::InputLocation;
use std::collections::BTreeSet;
use std::sync::Mutex;
use svcc_model::Diagnostic;
use svcc_model::diagnostic::one_of;
use svcc_model::source::{FileId, Span};

/// Serialises the detailed re-parse: pest's switch for detail is process-wide.
static DETAIL: Mutex<()> = Mutex::new(());

pub fn internal_no_tree(file: FileId) -> Diagnostic {
    internal(Span::new(file, 0, 0), "the grammar produced no tree")
}

pub fn internal(span: Span, what: &str) -> Diagnostic {
    diag::internal(span, what)
}

pub fn syntax_error(file: FileId, text: &str) -> Diagnostic {
    // Doc comments are optional before every member, so a parse attempt may run through them
    // and report its error past them (`expected a field after field `x`, found `y``) where the
    // same text without the docs gets the right message (`add `;`…`). Docs must not change the
    // message: explain the text with its doc comments blanked (same length, same positions)
    // when that text fails too.
    let blanked = blank_doc_comments(text);
    if blanked != text {
        let d = explain(file, &blanked);
        if d.code != "E0999" {
            return d;
        }
    }
    explain(file, text)
}

/// `///` and `//!` comments replaced by spaces, outside string literals.
fn blank_doc_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
        } else if bytes[i..].starts_with(b"//") {
            let doc = bytes[i..].starts_with(b"///") && !bytes[i..].starts_with(b"////")
                || bytes[i..].starts_with(b"//!");
            let end = bytes[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(bytes.len(), |n| i + n);
            if doc {
                for c in &mut out[i..end] {
                    *c = b' ';
                }
            }
            i = end;
            continue;
        }
        i += 1;
    }
    // Only ASCII bytes were replaced (by ASCII), so the text stays valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// The worded error for a text pest rejects (`E0999` when it does not reject it).
fn explain(file: FileId, text: &str) -> Diagnostic {
    let (pos, phrases) = {
        let _guard = DETAIL.lock().unwrap_or_else(|e| e.into_inner());
        pest::set_error_detail(true);
        let result = SvcParser::parse(Rule::file, text);
        pest::set_error_detail(false);
        match result {
            Ok(_) => return internal(Span::new(file, 0, 0), "parse failed only once"),
            Err(e) => {
                let mut pos = match e.location {
                    InputLocation::Pos(p) => p,
                    InputLocation::Span((s, _)) => s,
                };
                let mut phrases = BTreeSet::new();
                if let Some(att) = e.parse_attempts() {
                    pos = pos.max(att.max_position);
                    for t in att.expected_tokens() {
                        if let Some(p) = token_phrase(&t.to_string()) {
                            phrases.insert(p);
                        }
                    }
                    for cs in att.call_stacks() {
                        if let Some(r) = cs.deepest.get_rule()
                            && let Some(p) = rule_phrase(*r)
                        {
                            phrases.insert(p.to_string());
                        }
                    }
                }
                if phrases.is_empty()
                    && let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant
                {
                    for r in positives {
                        if let Some(p) = rule_phrase(*r) {
                            phrases.insert(p.to_string());
                        }
                    }
                }
                (pos, phrases)
            }
        }
    };
    describe(file, text, pos, phrases)
}

fn describe(file: FileId, text: &str, pos: usize, phrases: BTreeSet<String>) -> Diagnostic {
    let toks = tokens(text);
    let before: Vec<Tok> = toks.iter().copied().filter(|t| t.end <= pos).collect();
    let at = toks.iter().copied().find(|t| t.start >= pos);
    let found = match at {
        Some(t) => describe_token(text, t),
        None => "end of file".to_string(),
    };
    let expected = order_phrases(phrases);
    let ctx = context(text, &before);
    let missing_terminator = expected
        .iter()
        .any(|p| p == "`;`" || p == "`,`" || p == "`)`" || p == "`>`");
    let span = match (before.last(), at) {
        (Some(prev), _) if missing_terminator && expected.len() <= 4 => {
            Span::new(file, prev.end, prev.end)
        }
        (_, Some(t)) => Span::new(file, t.start, t.end),
        (Some(prev), None) => Span::new(file, prev.end, prev.end),
        (None, None) => Span::new(file, 0, 0),
    };
    let mut expected = expected;
    // Past `package`, the package declaration is not what is missing (pest names the rule
    // whose `;` it was trying).
    if before
        .iter()
        .any(|t| text.get(t.start..t.end) == Some("package"))
        && expected.len() > 1
    {
        expected.retain(|p| p != "`package`");
    }
    if ctx.is_some() && expected.len() > 1 {
        let generic = ["a field", "a parameter", "an enum value", "a declaration"];
        expected.retain(|p| !generic.contains(&p.as_str()));
    }
    let exp = if expected.is_empty() {
        "something else".to_string()
    } else {
        one_of(&expected)
    };
    let ctx_text = match &ctx {
        Some(c) => format!(" after {c}"),
        None => String::new(),
    };
    let message = format!("expected {exp}{ctx_text}, found {found}");
    let label = if span.is_empty() {
        format!("expected {exp} here")
    } else {
        "unexpected here".to_string()
    };
    let help = help_for(text, at, &expected);
    diag::syntax(span, message, label, help)
}

/// Puts the most useful phrases first and drops noise (optional docs and annotations).
fn order_phrases(phrases: BTreeSet<String>) -> Vec<String> {
    let mut v: Vec<String> = phrases.into_iter().collect();
    let decl_kw = [
        "`type`",
        "`enum`",
        "`union`",
        "`error`",
        "`service`",
        "`event`",
    ];
    if v.iter().filter(|p| decl_kw.contains(&p.as_str())).count() > 1 {
        v.retain(|p| !decl_kw.contains(&p.as_str()));
        v.push("a declaration".to_string());
    }
    if v.len() > 1 {
        v.retain(|p| p != "an annotation" && p != "a doc comment");
    }
    if v.iter().any(|p| p == "a type") {
        v.retain(|p| p != "a name");
    }
    v.sort_by_key(|p| (!p.starts_with('`'), p.clone()));
    v.dedup();
    v
}

fn token_phrase(tok: &str) -> Option<String> {
    match tok {
        "///" | "//!" | "\u{FEFF}" | " " | "\t" | "\r" | "\n" | "//" | "/*" | "/" | "*" | "*/"
        | "!" => None,
        "e" | "E" | "+" | "." | "_" => None,
        "-" => Some("a value".to_string()),
        "\"" => Some("a string".to_string()),
        "true" | "false" => Some("a value".to_string()),
        "@" => Some("an annotation".to_string()),
        "list" | "map" => Some("a type".to_string()),
        t if t.contains("..") => None,
        t => Some(format!("`{t}`")),
    }
}

fn rule_phrase(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::ident | Rule::qual_name => "a name",
        Rule::list_type | Rule::map_type | Rule::kw_list | Rule::kw_map => "a type",
        Rule::string | Rule::int | Rule::float | Rule::boolean | Rule::list | Rule::str_body => {
            "a value"
        }
        Rule::tag => "a tag like `@1`",
        Rule::annotation | Rule::at_name => "an annotation",
        Rule::kw_package | Rule::package_decl => "`package`",
        Rule::kw_import | Rule::import => "`import`",
        Rule::kw_as => "`as`",
        Rule::kw_type | Rule::type_decl => "`type`",
        Rule::kw_enum | Rule::enum_decl => "`enum`",
        Rule::kw_union | Rule::union_decl => "`union`",
        Rule::kw_error | Rule::error_decl => "`error`",
        Rule::kw_service | Rule::service_decl => "`service`",
        Rule::kw_event | Rule::event_decl => "`event`",
        Rule::decl => "a declaration",
        Rule::kw_rpc | Rule::method => "`rpc`",
        Rule::field | Rule::record_body => "a field",
        Rule::param => "a parameter",
        Rule::enum_value => "an enum value",
        Rule::optional => "`?`",
        Rule::default => "`=`",
        Rule::returns => "`->`",
        Rule::kw_throws | Rule::throws => "`throws`",
        Rule::kw_emits | Rule::emits => "`emits`",
        Rule::params | Rule::ann_args => "`(`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::EOI => "end of file",
        Rule::named_arg => "an argument",
        Rule::alias_body => "`=`",
        _ => return None,
    })
}

fn describe_token(text: &str, t: Tok) -> String {
    let s = text.get(t.start..t.end).unwrap_or("?");
    match t.kind {
        TokKind::Str => "a string".to_string(),
        TokKind::Doc => "a doc comment".to_string(),
        TokKind::Number => format!("`{s}`"),
        TokKind::Ident if is_keyword(s) => format!("keyword `{s}`"),
        _ => format!("`{s}`"),
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "package"
            | "import"
            | "type"
            | "enum"
            | "union"
            | "error"
            | "service"
            | "rpc"
            | "event"
            | "throws"
            | "emits"
    )
}

/// What construct the tokens before the error belong to: `field `name``, `method `get``,
/// `type `User``, `the package name`, ...
fn context(text: &str, before: &[Tok]) -> Option<String> {
    let s = |t: &Tok| text.get(t.start..t.end).unwrap_or("");
    // The start of the current statement at this bracket depth.
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in before.iter().enumerate().rev() {
        match s(t) {
            ")" | "]" => depth += 1,
            "(" | "[" | "{" if depth > 0 => depth -= 1,
            "(" | "[" | "{" | "}" => {
                start = i + 1;
                break;
            }
            ";" | "," if depth == 0 => {
                start = i + 1;
                break;
            }
            _ => {}
        }
    }
    // The bracket that encloses the statement, if any.
    let mut depth = 0usize;
    let mut enclosing = None;
    for (i, t) in before[..start].iter().enumerate().rev() {
        match s(t) {
            ")" | "]" | "}" => depth += 1,
            "(" | "[" | "{" if depth > 0 => depth -= 1,
            "(" | "[" | "{" => {
                enclosing = Some(i);
                break;
            }
            _ => {}
        }
    }
    let stmt = &before[start..];
    // Skip docs and annotations (with their argument lists).
    let mut i = 0;
    while i < stmt.len() {
        let t = &stmt[i];
        if t.kind == TokKind::Doc {
            i += 1;
        } else if s(t) == "@" && stmt.get(i + 1).is_some_and(|n| n.kind == TokKind::Ident) {
            i += 2;
            if stmt.get(i).is_some_and(|n| s(n) == "(") {
                let mut d = 0usize;
                while i < stmt.len() {
                    match s(&stmt[i]) {
                        "(" => d += 1,
                        ")" => {
                            d = d.saturating_sub(1);
                            if d == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
        } else {
            break;
        }
    }
    let rest = &stmt[i.min(stmt.len())..];
    let first = rest.first()?;
    if first.kind != TokKind::Ident {
        return None;
    }
    let word = s(first);
    let name = rest.get(1).filter(|t| t.kind == TokKind::Ident).map(s);
    let named = |what: &str| match name {
        Some(n) => format!("{what} `{n}`"),
        None => format!("`{word}`"),
    };
    let Some(e) = enclosing else {
        return match word {
            "package" => Some("the package name".to_string()),
            "import" => Some("`import`".to_string()),
            w if is_keyword(w) => Some(named(w)),
            _ => None,
        };
    };
    let open = s(&before[e]);
    if open == "(" && e >= 2 && s(&before[e - 2]) == "@" && before[e - 1].kind == TokKind::Ident {
        return Some(format!("annotation `@{}`", s(&before[e - 1])));
    }
    if word == "rpc" {
        return Some(named("method"));
    }
    let owner = owner_keyword(text, &before[..e]);
    let what = match (owner.as_deref(), open) {
        (_, "(") => "parameter",
        (Some("enum"), _) => "enum value",
        (Some("union"), _) => "variant",
        _ => "field",
    };
    Some(format!("{what} `{word}`"))
}

/// The keyword of the declaration whose `{` ends `before`.
fn owner_keyword(text: &str, before: &[Tok]) -> Option<String> {
    let n = before.len();
    for t in before[n.saturating_sub(4)..].iter().rev() {
        let v = text.get(t.start..t.end).unwrap_or("");
        if is_keyword(v) {
            return Some(v.to_string());
        }
    }
    None
}

fn help_for(text: &str, at: Option<Tok>, expected: &[String]) -> Option<String> {
    let found = at.map(|t| text.get(t.start..t.end).unwrap_or(""));
    if expected.iter().any(|e| e == "`;`") {
        return Some("add `;` at the end of the previous line".to_string());
    }
    if let Some(f) = found
        && is_keyword(f)
        && expected.iter().any(|e| e == "a name")
    {
        return Some(format!(
            "`{f}` is a keyword where a declaration starts; choose another name"
        ));
    }
    None
}
