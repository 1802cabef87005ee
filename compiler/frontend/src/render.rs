//! Rendering diagnostics: `human` (miette's graphical report), `json` (JSON Lines) and
//! `github` (GitHub Actions workflow commands).

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;
use std::fmt;
use svcc_model::source::{SourceMap, Span};
use svcc_model::{Diagnostic, Severity};

/// Output format of diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
}

/// Fixed width so output is stable in tests and logs.
pub const WIDTH: usize = 100;

/// Renders one diagnostic in the human format: a rustc-style first line
/// (`error[E0102]: cannot find type …`, `warning[naming_convention]: …`), so a CI log can be
/// searched for "error", then miette's source snippet with labels and help.
pub fn human(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false);
    // miette writes the code on a line of its own and the message after `×`: the header is
    // ours, and miette's first line (the severity icon with an empty message) is dropped.
    let mut report = Report::new(d, sources);
    report.code = String::new();
    report.message = String::new();
    let mut snippet = String::new();
    if handler.render_report(&mut snippet, &report).is_err() {
        // Rendering only fails on a formatter error; fall back to one plain line.
        return plain(d, sources);
    }
    let word = severity_word(d.severity);
    let mut out = if color {
        let hue = match d.severity {
            Severity::Error => "\x1b[1;31m",
            Severity::Warning => "\x1b[1;33m",
        };
        format!(
            "{hue}{word}\x1b[0m\x1b[1m[{}]: {}\x1b[0m\n",
            d.code, d.message
        )
    } else {
        format!("{word}[{}]: {}\n", d.code, d.message)
    };
    out.push_str(snippet.split_once('\n').map_or("", |(_, rest)| rest));
    // A blank line between diagnostics, as rustc leaves.
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out
}

/// `file:line:col: severity[code]: message` — the fallback and the summary form.
pub fn plain(d: &Diagnostic, sources: &SourceMap) -> String {
    let loc = Location::of(d.primary, sources);
    format!(
        "{}:{}:{}: {}[{}]: {}\n",
        loc.file,
        loc.line,
        loc.column,
        severity_word(d.severity),
        d.code,
        d.message
    )
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A 1-based location; the end is exclusive (the position just after the span).
#[derive(Debug, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Location {
    pub fn of(span: Span, sources: &SourceMap) -> Location {
        if sources.is_empty() || span.file.0 as usize >= sources.len() {
            return Location {
                file: String::new(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            };
        }
        let f = sources.get(span.file);
        let (line, column) = f.line_col(span.start as usize);
        let (end_line, end_column) = f.line_col(span.end as usize);
        Location {
            file: f.path.display().to_string(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

#[derive(Serialize)]
struct JsonLabel {
    #[serde(flatten)]
    location: Location,
    message: String,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    #[serde(flatten)]
    location: Location,
    label: Option<&'a str>,
    help: Option<&'a str>,
    labels: Vec<JsonLabel>,
}

/// One JSON object (one line, no trailing newline).
pub fn json(d: &Diagnostic, sources: &SourceMap) -> String {
    let j = JsonDiagnostic {
        severity: d.severity,
        code: &d.code,
        message: &d.message,
        location: Location::of(d.primary, sources),
        label: d.primary_label.as_deref(),
        help: d.help.as_deref(),
        labels: d
            .labels
            .iter()
            .map(|l| JsonLabel {
                location: Location::of(l.span, sources),
                message: l.message.clone(),
            })
            .collect(),
    };
    serde_json::to_string(&j).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// One GitHub Actions workflow command.
pub fn github(d: &Diagnostic, sources: &SourceMap) -> String {
    let loc = Location::of(d.primary, sources);
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    format!(
        "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(&loc.file),
        loc.line,
        loc.column,
        loc.end_line,
        loc.end_column,
        escape_property(&format!("svcc {}", d.code)),
        escape_data(&message)
    )
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Adapter from our diagnostic to miette's. Labels in other files become related reports.
struct Report {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &SourceMap) -> Report {
        let file = d.primary.file;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            d.primary_label.clone(),
            to_source_span(d.primary),
        )];
        let mut related = Vec::new();
        for l in &d.labels {
            if l.span.file == file {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    to_source_span(l.span),
                ));
            } else {
                related.push(Report {
                    message: l.message.clone(),
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    help: None,
                    source: named_source(l.span, sources),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        Some(l.message.clone()),
                        to_source_span(l.span),
                    )],
                    related: Vec::new(),
                });
            }
        }
        Report {
            message: d.message.clone(),
            code: d.code.clone(),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help: d.help.clone(),
            source: named_source(d.primary, sources),
            labels,
            related,
        }
    }
}

fn named_source(span: Span, sources: &SourceMap) -> Option<NamedSource<String>> {
    if span.file.0 as usize >= sources.len() {
        return None;
    }
    let f = sources.get(span.file);
    Some(NamedSource::new(
        f.path.display().to_string(),
        f.text.clone(),
    ))
}

fn to_source_span(s: Span) -> SourceSpan {
    SourceSpan::new((s.start as usize).into(), s.len())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// The closing line: `svcc: 2 errors, 1 warning (3 files)`.
pub fn summary(errors: usize, warnings: usize, files: usize) -> String {
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    if errors == 0 && warnings == 0 {
        format!("svcc: {} checked, no problems", plural(files, "file"))
    } else {
        format!(
            "svcc: {}, {} ({} checked)",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(files, "file")
        )
    }
}

/// What SARIF says about one rule (an error code, a lint or a breaking-change rule).
#[derive(Clone, Debug)]
pub struct RuleText {
    /// One line: the title.
    pub short: String,
    /// The long explanation (what `svcc explain` prints first).
    pub full: String,
}

/// The SARIF description of a code or lint the front end knows.
pub fn rule_text(code: &str) -> Option<RuleText> {
    if let Some(c) = crate::codes::lookup(code) {
        return Some(RuleText {
            short: c.title.to_string(),
            full: c.explanation.to_string(),
        });
    }
    crate::lint::LINTS
        .iter()
        .find(|l| l.name == code)
        .map(|l| RuleText {
            short: l.summary.to_string(),
            full: format!("{} (`svcc explain {}`)", l.summary, l.name),
        })
}

/// One SARIF 2.1.0 log (a JSON document) for a run of svcc: every diagnostic a `result` with
/// its rule (`ruleId` is the code or lint name, described in `tool.driver.rules` with the
/// text of `svcc explain`), its level, its location (relative paths against `%SRCROOT%`, the
/// current directory; columns in Unicode code points) and its labels as related locations.
/// `properties(i)` adds a property bag to the i-th result (`svcc breaking` puts the wires
/// there); `describe` is asked about codes [`rule_text`] does not know.
pub fn sarif(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    describe: &dyn Fn(&str) -> Option<RuleText>,
    properties: &dyn Fn(usize) -> Option<serde_json::Value>,
) -> String {
    sarif_with(diagnostics, sources, describe, properties, &|_| None)
}

/// [`sarif`], with results the source accepts: `suppressed(i)` is the justification of an
/// in-source suppression of the i-th result (SARIF `suppressions`, kind `inSource`).
pub fn sarif_with(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    describe: &dyn Fn(&str) -> Option<RuleText>,
    properties: &dyn Fn(usize) -> Option<serde_json::Value>,
    suppressed: &dyn Fn(usize) -> Option<String>,
) -> String {
    use serde_json::{Value, json};
    let mut rules: Vec<Value> = Vec::new();
    let mut index: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut ordered: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
    ordered.sort_unstable();
    ordered.dedup();
    for code in ordered {
        let text = rule_text(code).or_else(|| describe(code));
        let mut rule = json!({ "id": code });
        if let Some(t) = text {
            rule["shortDescription"] = json!({ "text": sentence(&t.short) });
            rule["fullDescription"] = json!({ "text": sentence(&t.full) });
        }
        rule["help"] = json!({ "text": format!("Run `svcc explain {code}` for the explanation, an example and the fix.") });
        index.insert(code, rules.len());
        rules.push(rule);
    }
    let location = |span: Span, message: Option<&str>, id: Option<usize>| -> Value {
        let loc = Location::of(span, sources);
        let mut physical = json!({
            "artifactLocation": artifact(&loc.file),
            "region": {
                "startLine": loc.line,
                "startColumn": loc.column,
                "endLine": loc.end_line,
                "endColumn": loc.end_column,
            }
        });
        if loc.file.is_empty() {
            physical = json!({ "artifactLocation": { "uri": "svcc" } });
        }
        let mut v = json!({ "physicalLocation": physical });
        if let Some(id) = id {
            v["id"] = json!(id);
        }
        if let Some(m) = message {
            v["message"] = json!({ "text": sentence(m) });
        }
        v
    };
    let results: Vec<Value> = diagnostics
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut text = sentence(&d.message);
            if let Some(h) = &d.help {
                text.push_str(" Help: ");
                text.push_str(&sentence(h));
            }
            let mut r = json!({
                "ruleId": d.code,
                "ruleIndex": index.get(d.code.as_str()).copied().unwrap_or(0),
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": text },
                "locations": [location(d.primary, d.primary_label.as_deref(), None)],
            });
            if !d.labels.is_empty() {
                r["relatedLocations"] = Value::Array(
                    d.labels
                        .iter()
                        .enumerate()
                        .map(|(k, l)| location(l.span, Some(&l.message), Some(k + 1)))
                        .collect(),
                );
            }
            if let Some(p) = properties(i) {
                r["properties"] = p;
            }
            if let Some(why) = suppressed(i) {
                r["suppressions"] = json!([{ "kind": "inSource", "justification": why }]);
            }
            r
        })
        .collect();
    let root = std::env::current_dir()
        .ok()
        .map(|d| file_uri(&d.display().to_string(), true));
    let mut run = json!({
        "tool": { "driver": {
            "name": "svcc",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://example.invalid/svcc",
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(root) = root {
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": root } });
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

/// A SARIF message: a sentence that ends with a full stop.
fn sentence(text: &str) -> String {
    let t = text.trim_end();
    if t.ends_with(['.', '?', '!']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// Where a file is: relative paths against `%SRCROOT%`, absolute ones as `file:` URIs.
fn artifact(path: &str) -> serde_json::Value {
    if std::path::Path::new(path).is_absolute() {
        serde_json::json!({ "uri": file_uri(path, false) })
    } else {
        let rel = path.strip_prefix("./").unwrap_or(path);
        serde_json::json!({ "uri": encode_uri_path(rel), "uriBaseId": "%SRCROOT%" })
    }
}

/// The `file:` URI of an absolute path (percent-encoded; `folder` adds the trailing `/`).
pub fn file_uri(path: &str, folder: bool) -> String {
    let mut uri = format!("file://{}", encode_uri_path(path));
    if folder && !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Percent-encodes what a URI path may not hold as it is (RFC 3986 `pchar` and `/`).
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
