//! No annotation is silently inert: every annotation of the registry either changes what svcc
//! generates (or reports) or stands in the "not yet" table, whose use warns
//! (`inert_annotation`). A new annotation without a sample here fails the test, and so does
//! one whose sample changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_frontend::resolve::annotations::{NOT_YET, SPECS};

/// A contract with slots; each sample fills some of them.
const TEMPLATE: &str = r#"{pkg}
package t.v1;

{record}
type Rec {
  {field}
  a @1: string;
  b? @2: list<string>;
}

{alias}
type Al = string;

enum En { {value} X @1; Y @2; }

{error}
error Err: not_found { {efield} id @1: string; }

{event}
event Ev { user_id @1: string; }

{service}
service Svc {
  {method}
  rpc m(p: string, {param} q?: int32, r: Rec, al: Al, en: En) -> ({result} out: string) throws Err;
}
"#;

/// The slots of [`TEMPLATE`].
const SLOTS: &[&str] = &[
    "pkg", "record", "field", "alias", "value", "error", "efield", "event", "service", "method",
    "param", "result",
];

/// (annotation, slots filled when it is written, slots filled in the contract without it).
/// Slot name → text.
type Slots = Vec<(&'static str, &'static str)>;

fn samples() -> Vec<(&'static str, Slots, Slots)> {
    let http = ("method", "@http(method = POST, path = \"/m\")");
    vec![
        ("title", vec![("pkg", "@title(\"T\")")], vec![]),
        ("version", vec![("pkg", "@version(\"9.9.9\")")], vec![]),
        (
            "server",
            vec![("pkg", "@server(url = \"https://x.example\")")],
            vec![],
        ),
        ("npm", vec![("pkg", "@npm(name = \"@x/y\")")], vec![]),
        (
            "jsonrpc",
            vec![("method", "@jsonrpc(name = \"other\")")],
            vec![],
        ),
        ("http", vec![http], vec![]),
        ("query", vec![http, ("param", "@query")], vec![http]),
        (
            "header",
            vec![http, ("param", "@header(\"X-P\")")],
            vec![http],
        ),
        (
            "cookie",
            vec![http, ("param", "@cookie(\"p\")")],
            vec![http],
        ),
        (
            "content_type",
            vec![(
                "method",
                "@http(method = POST, path = \"/m\") @content_type(response = \"application/problem+json\")",
            )],
            vec![http],
        ),
        (
            "handler",
            vec![("method", "@handler(\"custom::m\")")],
            vec![],
        ),
        ("summary", vec![("method", "@summary(\"S\")")], vec![]),
        ("tags", vec![("method", "@tags(\"t\")")], vec![]),
        (
            "deprecated",
            vec![("field", "@deprecated(\"old\")")],
            vec![],
        ),
        ("example", vec![("field", "@example(\"e\")")], vec![]),
        ("json", vec![("field", "@json(\"alpha\")")], vec![]),
        ("omitempty", vec![("record", "@omitempty(false)")], vec![]),
        ("timeout", vec![("method", "@timeout(\"5s\")")], vec![]),
        ("log", vec![("method", "@log(skip = [p])")], vec![]),
        ("metrics", vec![("method", "@metrics")], vec![]),
        ("trace", vec![("method", "@trace")], vec![]),
        ("grpc", vec![("pkg", "@grpc")], vec![]),
        ("security", vec![("pkg", "@security(bearer)")], vec![]),
        (
            "public",
            vec![("pkg", "@security(bearer)"), ("method", "@public")],
            vec![("pkg", "@security(bearer)")],
        ),
        (
            "circuit_breaker",
            vec![("method", "@circuit_breaker(max_requests = 2)")],
            vec![],
        ),
        (
            "fallback",
            vec![("method", "@fallback(ttl = \"1h\")")],
            vec![],
        ),
        ("idempotent", vec![("method", "@idempotent")], vec![]),
        (
            "rate_limit",
            vec![(
                "method",
                "@rate_limit(limit = 5, period = \"1s\", key = ip)",
            )],
            vec![],
        ),
        (
            "sensitive",
            vec![("field", "@sensitive(mask = middle) s @6: string;")],
            vec![("field", "s @6: string;")],
        ),
        ("length", vec![("field", "@length(max = 5)")], vec![]),
        ("range", vec![("param", "@range(min = 1)")], vec![]),
        ("pattern", vec![("alias", "@pattern(\"[a-z]+\")")], vec![]),
        ("format", vec![("field", "@format(email)")], vec![]),
        (
            "unique",
            vec![("field", "@unique c @8: list<string>;")],
            vec![("field", "c @8: list<string>;")],
        ),
        ("topic", vec![("event", "@topic(\"ev.made\")")], vec![]),
        ("key", vec![("event", "@key(user_id)")], vec![]),
        ("code", vec![("error", "@code(\"GONE\")")], vec![]),
        ("http_status", vec![("error", "@http_status(410)")], vec![]),
        // Changes the diagnostics: the lint it names is silenced.
        (
            "allow",
            vec![
                ("record", "@allow(naming_convention)"),
                ("field", "badName @7: string;"),
            ],
            vec![("field", "badName @7: string;")],
        ),
        // Changes what `svcc breaking` accepts (tested with real pairs in the CLI's tests).
        (
            "breaking",
            vec![("record", "@breaking(field_renamed, reason = \"r\")")],
            vec![],
        ),
    ]
}

fn fill(slots: &[(&str, &str)]) -> String {
    let mut text = TEMPLATE.to_string();
    for (slot, value) in slots {
        text = text.replace(&format!("{{{slot}}}"), value);
    }
    // Empty the slots nobody filled.
    for slot in SLOTS {
        text = text.replace(&format!("{{{slot}}}"), "");
    }
    text
}

/// Everything svcc produces for a contract: every target's files and every diagnostic.
fn outputs(text: &str) -> Vec<String> {
    let c = svcc_frontend::compile_memory(&[("t.svc", text)], &Default::default());
    assert!(!c.has_errors(), "{text}\n{:#?}", c.diagnostics);
    let mut out: Vec<String> = c
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    for b in &c.allows.breaks {
        out.push(format!("svcc breaking accepts {:?}: {}", b.rules, b.reason));
    }
    for target in svcc_codegen::TARGETS {
        // A target that refuses the contract (Envoy without `@grpc`) says why: that is output.
        match target.generate(&c.model, &Default::default(), &Default::default()) {
            Ok(files) => {
                for f in files {
                    out.push(format!("{}/{}\n{}", target.name(), f.path, f.text()));
                }
            }
            Err(message) => out.push(format!("{} refused: {message}", target.name())),
        }
    }
    out
}

#[test]
fn every_annotation_is_consumed_or_listed_as_not_yet() {
    let samples = samples();
    let mut problems = Vec::new();
    for spec in SPECS {
        // Inert everywhere; entries for some places only still need a sample elsewhere.
        let listed = NOT_YET
            .iter()
            .any(|n| n.name == spec.name && n.places.is_empty() && n.schemes.is_empty());
        let sample = samples.iter().find(|(name, _, _)| *name == spec.name);
        match (listed, sample) {
            (true, Some(_)) => problems.push(format!(
                "@{} is in NOT_YET and has a sample: if it works now, take it out of NOT_YET",
                spec.name
            )),
            (true, None) => {}
            (false, None) => problems.push(format!(
                "@{} has no sample here and is not in NOT_YET: add a sample showing what it changes, or list it as not yet",
                spec.name
            )),
            (false, Some((_, with, without))) => {
                let (a, b) = (fill(with), fill(without));
                assert_ne!(a, b, "@{}: the sample does not use it", spec.name);
                assert!(a.contains(&format!("@{}", spec.name)), "@{}: {a}", spec.name);
                if outputs(&a) == outputs(&b) {
                    problems.push(format!(
                        "@{} changes nothing svcc generates or reports: act on it, or list it in NOT_YET",
                        spec.name
                    ));
                }
            }
        }
    }
    for n in NOT_YET {
        assert!(
            SPECS.iter().any(|s| s.name == n.name),
            "NOT_YET names @{}, which is no annotation",
            n.name
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn not_yet_annotations_warn() {
    // The lint fires on each of them.
    let text = "@trace @security(basic)\npackage t.v1;\n\n@topic(\"e\") @key(id)\nevent E { @summary(\"s\") @tags(\"t\") id @1: string; }\n\n@summary(\"s\")\nservice S {\n  rpc m(s: string);\n}\n";
    let c = svcc_frontend::compile_memory(&[("t.svc", text)], &Default::default());
    let warned: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == "inert_annotation")
        .map(|d| d.message.clone())
        .collect();
    for n in NOT_YET {
        assert!(
            warned
                .iter()
                .any(|m| m.starts_with(&format!("`@{}` has no effect yet", n.name))),
            "@{} does not warn: {warned:#?}",
            n.name
        );
    }
}
