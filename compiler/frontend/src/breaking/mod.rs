//! Breaking changes between two versions of a contract (`svcc breaking`), with the impact on
//! each wire the contract serves.
//!
//! Both versions are compiled models. Every type is first given its *reach*: the transports it
//! travels on (REST, JSON-RPC, gRPC, Kafka in JSON or protobuf) and in which direction — in
//! requests (old *writers* matter: clients, producers) or in responses and events (old
//! *readers* matter: clients, consumers; events are both, since producers and consumers are
//! upgraded at different times). Each rule then names the wires its change breaks from that
//! reach: a renamed field keeps its tag, so it breaks the JSON wires and the generated source
//! but not protobuf; a renumbered field breaks only protobuf; a new enum value breaks old
//! readers only; a changed path breaks only REST. Wires the contract does not serve never
//! appear.
//!
//! Fields, enum values and union variants are matched by name, then by tag or number (a tag
//! kept under a new name is a rename); everything else by name.

mod rules;

pub use rules::{Category, RULE_NAMES, RULES, Rule, explain, lookup};

use crate::Compilation;
use crate::lint::Level;
use std::collections::{BTreeMap, HashMap};
use svcc_model::source::Span;
use svcc_model::{
    Constraints, EnumValue, Field, Literal, Method, MethodResult, Model, Package, QualifiedName,
    TypeDef, TypeRef,
};
use svcc_model::{Diagnostic, Severity};

/// A wire a finding breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Wire {
    Rest,
    Jsonrpc,
    Grpc,
    Kafka,
    /// The generated Rust source.
    Rust,
    /// The generated TypeScript source.
    Typescript,
}

impl Wire {
    pub const ALL: [Wire; 6] = [
        Wire::Rest,
        Wire::Jsonrpc,
        Wire::Grpc,
        Wire::Kafka,
        Wire::Rust,
        Wire::Typescript,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Wire::Rest => "rest",
            Wire::Jsonrpc => "jsonrpc",
            Wire::Grpc => "grpc",
            Wire::Kafka => "kafka",
            Wire::Rust => "rust",
            Wire::Typescript => "typescript",
        }
    }

    pub fn parse(name: &str) -> Option<Wire> {
        Wire::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// Which version of the contract a finding's span points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Old,
    New,
}

/// One breaking change.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    /// Sorted, without duplicates; never empty.
    pub wires: Vec<Wire>,
    pub message: String,
    /// The changed item in the new version, or — when it is gone — its parent there (or the
    /// item in the old version when the parent is gone too).
    pub span: Span,
    pub side: Side,
    pub package: String,
    /// Accepted by `@breaking(…)`: the reason given.
    pub accepted: Option<String>,
}

impl Finding {
    /// As a diagnostic (the code is the rule's name); its span is on [`Finding::side`].
    pub fn diagnostic(&self, span: Span) -> Diagnostic {
        let wires: Vec<&str> = self.wires.iter().map(|w| w.name()).collect();
        let d = Diagnostic {
            severity: self.severity,
            code: self.rule.name.to_string(),
            message: self.message.clone(),
            primary: span,
            primary_label: Some(format!("breaks {}", wires.join(", "))),
            labels: Vec::new(),
            help: None,
        };
        d.with_help(format!(
            "if it is deliberate, accept it here with `@breaking({}, reason = \"…\")`; `svcc explain {}` says what breaks",
            self.rule.name, self.rule.name
        ))
    }
}

/// What the comparison is told besides the two versions: `[breaking]` of `svcc.toml`.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Rule levels: `allow` drops a rule's findings, `warn` and `deny` set their severity.
    pub levels: BTreeMap<String, Level>,
    /// Only these wires are reported (empty: all).
    pub wires: Vec<Wire>,
}

/// Every breaking change from `old` to `new` (both error-free compilations), in the order of
/// the old contract. Accepted ones (`@breaking`) are kept with [`Finding::accepted`] set;
/// rules set to `allow` and findings left with no wire after [`Settings::wires`] are dropped.
pub fn compare(old: &Compilation, new: &Compilation, settings: &Settings) -> Vec<Finding> {
    let mut reach = reach_of(&old.model);
    for (name, r) in reach_of(&new.model) {
        let e = reach.entry(name).or_default();
        e.input |= r.input;
        e.output |= r.output;
    }
    let throwers = throwers_of(&old.model);
    let mut cx = Cx {
        reach,
        throwers,
        out: Vec::new(),
        package: String::new(),
    };
    for op in &old.model.packages {
        cx.package.clone_from(&op.name);
        match new.model.package(&op.name) {
            None => cx.package_removed(op),
            Some(np) => cx.package(op, np),
        }
    }
    let mut out = Vec::new();
    for mut f in cx.out {
        if !settings.wires.is_empty() {
            f.wires.retain(|w| settings.wires.contains(w));
            if f.wires.is_empty() {
                continue;
            }
        }
        match settings.levels.get(f.rule.name) {
            Some(Level::Allow) => continue,
            Some(Level::Warn) => f.severity = Severity::Warning,
            Some(Level::Deny) => f.severity = Severity::Error,
            None => {}
        }
        if f.side == Side::New {
            f.accepted = new
                .allows
                .breaks
                .iter()
                .find(|b| {
                    b.rules.iter().any(|r| r == f.rule.name)
                        && match b.scope {
                            None => b.package == f.package,
                            Some(s) => {
                                s.file == f.span.file
                                    && s.start <= f.span.start
                                    && f.span.end <= s.end
                            }
                        }
                })
                .map(|b| b.reason.clone());
        }
        out.push(f);
    }
    out
}

// Transports as bits: what a type or method travels on.
const REST: u8 = 1;
const JSONRPC: u8 = 2;
const GRPC: u8 = 4;
const KAFKA_JSON: u8 = 8;
const KAFKA_PROTO: u8 = 16;
const JSON: u8 = REST | JSONRPC | KAFKA_JSON;
const PROTO: u8 = GRPC | KAFKA_PROTO;

/// Where a type travels: in requests (`input`) and in responses and events (`output`).
#[derive(Clone, Copy, Debug, Default)]
struct Reach {
    input: u8,
    output: u8,
}

impl Reach {
    fn any(self) -> u8 {
        self.input | self.output
    }
}

fn method_bits(m: &Method) -> u8 {
    let mut b = 0;
    if m.settings.http.is_some() {
        b |= REST;
    }
    if m.settings.jsonrpc.is_some() {
        b |= JSONRPC;
    }
    if m.settings.grpc {
        b |= GRPC;
    }
    b
}

fn event_bits(e: &svcc_model::Event) -> u8 {
    match e.format {
        svcc_model::EventFormat::Json => KAFKA_JSON,
        svcc_model::EventFormat::Protobuf => KAFKA_PROTO,
    }
}

/// The reach of every named type of `model`.
fn reach_of(model: &Model) -> HashMap<QualifiedName, Reach> {
    let mut reach: HashMap<QualifiedName, Reach> = HashMap::new();
    let mut mark = |ty: &TypeRef, input: u8, output: u8| {
        let mut stack = vec![ty.clone()];
        while let Some(t) = stack.pop() {
            match t {
                TypeRef::Primitive(_) => {}
                TypeRef::List(t) => stack.push(*t),
                TypeRef::Map(k, v) => {
                    stack.push(*k);
                    stack.push(*v);
                }
                TypeRef::Named(q) => {
                    let r = reach.entry(q.clone()).or_default();
                    if r.input & input == input && r.output & output == output {
                        continue;
                    }
                    r.input |= input;
                    r.output |= output;
                    match model.type_def(&q) {
                        Some(TypeDef::Record(rec)) => {
                            stack.extend(rec.fields.iter().map(|f| f.ty.clone()));
                        }
                        Some(TypeDef::Union(u)) => {
                            stack.extend(u.variants.iter().map(|f| f.ty.clone()));
                        }
                        Some(TypeDef::Alias(a)) => stack.push(a.target.clone()),
                        Some(TypeDef::Enum(_)) | None => {}
                    }
                }
            }
        }
    };
    for p in &model.packages {
        for s in &p.services {
            for m in &s.methods {
                let bits = method_bits(m);
                for f in &m.params {
                    mark(&f.ty, bits, 0);
                }
                match &m.result {
                    MethodResult::Empty => {}
                    MethodResult::Single(t) => mark(t, 0, bits),
                    MethodResult::Named(fs) => fs.iter().for_each(|f| mark(&f.ty, 0, bits)),
                }
                for e in &m.throws {
                    if let Some(err) = model.error(e) {
                        err.fields.iter().for_each(|f| mark(&f.ty, 0, bits));
                    }
                }
            }
        }
        for e in &p.events {
            let bits = event_bits(e);
            e.fields.iter().for_each(|f| mark(&f.ty, bits, bits));
        }
    }
    reach
}

/// The transports of the methods that throw each error.
fn throwers_of(model: &Model) -> HashMap<QualifiedName, u8> {
    let mut out: HashMap<QualifiedName, u8> = HashMap::new();
    for p in &model.packages {
        for s in &p.services {
            for m in &s.methods {
                for e in &m.throws {
                    *out.entry(e.clone()).or_default() |= method_bits(m);
                }
            }
        }
    }
    out
}

/// The wires of transport bits, plus the generated source when `source` (TypeScript only
/// where REST or JSON-RPC is served: the TypeScript client speaks those).
fn wires(bits: u8, source: bool) -> Vec<Wire> {
    let mut w = Vec::new();
    if bits & REST != 0 {
        w.push(Wire::Rest);
    }
    if bits & JSONRPC != 0 {
        w.push(Wire::Jsonrpc);
    }
    if bits & GRPC != 0 {
        w.push(Wire::Grpc);
    }
    if bits & (KAFKA_JSON | KAFKA_PROTO) != 0 {
        w.push(Wire::Kafka);
    }
    if source {
        w.push(Wire::Rust);
        if bits & (REST | JSONRPC) != 0 {
            w.push(Wire::Typescript);
        }
    }
    w
}

/// The generated source only: Rust, and TypeScript where `bits` reach REST or JSON-RPC.
fn source(bits: u8) -> Vec<Wire> {
    let mut w = wires(bits, true);
    w.retain(|w| matches!(w, Wire::Rust | Wire::Typescript));
    w
}

/// The fields being compared: whose they are and where they travel.
#[derive(Clone, Copy)]
struct Holder<'a> {
    /// `field `x` of `User``, `parameter `x` of `UserService.get``…
    kind: &'a str,
    owner: &'a str,
    reach: Reach,
    /// The holder in the new version (where a removed field is reported).
    span: Span,
}

struct Cx {
    reach: HashMap<QualifiedName, Reach>,
    throwers: HashMap<QualifiedName, u8>,
    out: Vec<Finding>,
    package: String,
}

impl Cx {
    fn push(&mut self, rule: &str, wires: Vec<Wire>, span: Span, side: Side, message: String) {
        let Some(rule) = rules::lookup(rule) else {
            return;
        };
        let mut wires = wires;
        wires.sort_unstable();
        wires.dedup();
        if wires.is_empty() {
            return;
        }
        self.out.push(Finding {
            rule,
            severity: rule.severity,
            wires,
            message,
            span,
            side,
            package: self.package.clone(),
            accepted: None,
        });
    }

    fn type_reach(&self, package: &str, name: &str) -> Reach {
        self.reach
            .get(&QualifiedName {
                package: package.to_string(),
                name: name.to_string(),
            })
            .copied()
            .unwrap_or_default()
    }

    fn package_removed(&mut self, p: &Package) {
        let mut bits = 0;
        for s in &p.services {
            bits |= s.methods.iter().map(method_bits).fold(0, |a, b| a | b);
        }
        for e in &p.events {
            bits |= event_bits(e);
        }
        self.push(
            "package_removed",
            wires(bits, true),
            p.span,
            Side::Old,
            format!("package `{}` was removed", p.name),
        );
    }

    fn package(&mut self, op: &Package, np: &Package) {
        for os in &op.services {
            let Some(ns) = np.services.iter().find(|s| s.name == os.name) else {
                let bits = os.methods.iter().map(method_bits).fold(0, |a, b| a | b);
                self.push(
                    "service_removed",
                    wires(bits, true),
                    np.span,
                    Side::New,
                    format!("service `{}` was removed", os.name),
                );
                continue;
            };
            for om in &os.methods {
                let Some(nm) = ns.methods.iter().find(|m| m.name == om.name) else {
                    self.push(
                        "method_removed",
                        wires(method_bits(om), true),
                        ns.span,
                        Side::New,
                        format!("method `{}.{}` was removed", os.name, om.name),
                    );
                    continue;
                };
                self.method(&os.name, om, nm);
            }
        }
        for ot in &op.types {
            let reach = self.type_reach(&op.name, ot.name());
            let Some(nt) = np.types.iter().find(|t| t.name() == ot.name()) else {
                self.push(
                    "type_removed",
                    source(reach.any()),
                    np.span,
                    Side::New,
                    format!("type `{}` was removed", ot.name()),
                );
                continue;
            };
            self.type_def(ot, nt, reach);
        }
        for oe in &op.errors {
            let q = QualifiedName {
                package: op.name.clone(),
                name: oe.name.clone(),
            };
            let bits = self.throwers.get(&q).copied().unwrap_or(0);
            let Some(ne) = np.errors.iter().find(|e| e.name == oe.name) else {
                self.push(
                    "error_removed",
                    source(bits),
                    np.span,
                    Side::New,
                    format!("error `{}` was removed", oe.name),
                );
                continue;
            };
            if oe.code != ne.code {
                self.push(
                    "error_code_changed",
                    wires(bits, true),
                    ne.span,
                    Side::New,
                    format!(
                        "error `{}` changed its code from `{}` to `{}`",
                        oe.name, oe.code, ne.code
                    ),
                );
            }
            if oe.kind != ne.kind {
                self.push(
                    "error_kind_changed",
                    wires(bits, false),
                    ne.span,
                    Side::New,
                    format!(
                        "error `{}` changed its kind from `{}` to `{}`",
                        oe.name,
                        oe.kind.as_str(),
                        ne.kind.as_str()
                    ),
                );
            } else if oe.http_status != ne.http_status {
                self.push(
                    "error_status_changed",
                    wires(bits & REST, false),
                    ne.span,
                    Side::New,
                    format!(
                        "error `{}` changed its HTTP status from {} to {}",
                        oe.name, oe.http_status, ne.http_status
                    ),
                );
            }
            let holder = Holder {
                kind: "field",
                owner: &oe.name,
                reach: Reach {
                    input: 0,
                    output: bits,
                },
                span: ne.span,
            };
            self.fields(holder, &oe.fields, &ne.fields);
        }
        for oe in &op.events {
            let bits = event_bits(oe);
            let Some(ne) = np.events.iter().find(|e| e.name == oe.name) else {
                self.push(
                    "event_removed",
                    wires(bits, true),
                    np.span,
                    Side::New,
                    format!("event `{}` was removed", oe.name),
                );
                continue;
            };
            if oe.topic != ne.topic {
                self.push(
                    "event_topic_changed",
                    wires(bits, false),
                    ne.span,
                    Side::New,
                    format!(
                        "event `{}` moved from topic `{}` to `{}`",
                        oe.name, oe.topic, ne.topic
                    ),
                );
            }
            if oe.key != ne.key {
                let show = |k: &Option<String>| {
                    k.as_deref()
                        .map_or("no key".to_string(), |k| format!("`{k}`"))
                };
                self.push(
                    "event_key_changed",
                    wires(bits, false),
                    ne.span,
                    Side::New,
                    format!(
                        "event `{}` changed its key from {} to {}",
                        oe.name,
                        show(&oe.key),
                        show(&ne.key)
                    ),
                );
            }
            if oe.format != ne.format {
                self.push(
                    "event_format_changed",
                    wires(bits, false),
                    ne.span,
                    Side::New,
                    format!(
                        "event `{}` changed its payload format from {:?} to {:?}",
                        oe.name, oe.format, ne.format
                    ),
                );
                continue;
            }
            let holder = Holder {
                kind: "field",
                owner: &oe.name,
                reach: Reach {
                    input: bits,
                    output: bits,
                },
                span: ne.span,
            };
            self.fields(holder, &oe.fields, &ne.fields);
        }
    }

    fn method(&mut self, service: &str, om: &Method, nm: &Method) {
        let name = format!("{service}.{}", om.name);
        let (ob, nb) = (method_bits(om), method_bits(nm));
        let at = nm.name_span;
        for (bit, what) in [(REST, "REST"), (JSONRPC, "JSON-RPC"), (GRPC, "gRPC")] {
            if ob & bit != 0 && nb & bit == 0 {
                self.push(
                    "transport_removed",
                    wires(bit, false),
                    at,
                    Side::New,
                    format!("method `{name}` is no longer served over {what}"),
                );
            }
        }
        let kept = ob & nb;
        if let (Some(o), Some(n)) = (&om.settings.jsonrpc, &nm.settings.jsonrpc)
            && o != n
        {
            self.push(
                "jsonrpc_name_changed",
                wires(JSONRPC, false),
                nm.settings.spans.jsonrpc.unwrap_or(at),
                Side::New,
                format!("method `{name}` changed its JSON-RPC name from `{o}` to `{n}`"),
            );
        }
        if let (Some(o), Some(n)) = (&om.settings.http, &nm.settings.http) {
            let http_at = nm.settings.spans.http.unwrap_or(at);
            if o.method != n.method {
                self.push(
                    "http_method_changed",
                    wires(REST, false),
                    http_at,
                    Side::New,
                    format!(
                        "method `{name}` changed its HTTP verb from {} to {}",
                        o.method, n.method
                    ),
                );
            }
            if path_shape(&o.path) != path_shape(&n.path) {
                self.push(
                    "http_path_changed",
                    wires(REST, false),
                    http_at,
                    Side::New,
                    format!(
                        "method `{name}` changed its path from `{}` to `{}`",
                        o.path, n.path
                    ),
                );
            }
            if o.status != n.status {
                self.push(
                    "http_status_changed",
                    wires(REST, false),
                    http_at,
                    Side::New,
                    format!(
                        "method `{name}` changed its success status from {} to {}",
                        o.status, n.status
                    ),
                );
            }
            for op in &om.params {
                if let Some(np) = nm.params.iter().find(|p| p.name == op.name)
                    && op.location != np.location
                {
                    self.push(
                        "param_location_changed",
                        wires(REST, false),
                        np.spans.location.unwrap_or(np.spans.whole),
                        Side::New,
                        format!(
                            "parameter `{}` of `{name}` moved from {} to {}",
                            op.name,
                            location_name(&op.location),
                            location_name(&np.location)
                        ),
                    );
                }
            }
        }
        let params = Holder {
            kind: "parameter",
            owner: &name,
            reach: Reach {
                input: kept,
                output: 0,
            },
            span: nm.span,
        };
        self.fields(params, &om.params, &nm.params);
        match (&om.result, &nm.result) {
            (MethodResult::Empty, MethodResult::Empty) => {}
            (MethodResult::Single(o), MethodResult::Single(n)) if o == n => {}
            (MethodResult::Named(o), MethodResult::Named(n)) => {
                let results = Holder {
                    kind: "result",
                    owner: &name,
                    reach: Reach {
                        input: 0,
                        output: kept,
                    },
                    span: nm.span,
                };
                self.fields(results, o, n);
            }
            (o, n) => self.push(
                "result_type_changed",
                wires(kept, true),
                at,
                Side::New,
                format!(
                    "method `{name}` changed its result from {} to {}",
                    result_name(o),
                    result_name(n)
                ),
            ),
        }
    }

    fn type_def(&mut self, ot: &TypeDef, nt: &TypeDef, reach: Reach) {
        let name = ot.name();
        match (ot, nt) {
            (TypeDef::Record(o), TypeDef::Record(n)) => {
                let holder = Holder {
                    kind: "field",
                    owner: name,
                    reach,
                    span: n.span,
                };
                self.fields(holder, &o.fields, &n.fields);
            }
            (TypeDef::Union(o), TypeDef::Union(n)) => {
                let holder = Holder {
                    kind: "variant",
                    owner: name,
                    reach,
                    span: n.span,
                };
                self.fields(holder, &o.variants, &n.variants);
            }
            (TypeDef::Enum(o), TypeDef::Enum(n)) => {
                self.enum_values(name, &o.values, &n.values, reach, n.span)
            }
            (TypeDef::Alias(o), TypeDef::Alias(n)) => {
                if o.target != n.target {
                    self.push(
                        "field_type_changed",
                        wires(reach.any(), true),
                        n.span,
                        Side::New,
                        format!(
                            "alias `{name}` changed from `{}` to `{}`",
                            o.target, n.target
                        ),
                    );
                } else if reach.input != 0
                    && let Some(what) = tightened(&o.constraints, &n.constraints)
                {
                    self.push(
                        "constraint_tightened",
                        wires(reach.input, false),
                        n.span,
                        Side::New,
                        format!("alias `{name}` {what}"),
                    );
                }
            }
            (o, n) => self.push(
                "type_kind_changed",
                wires(reach.any(), true),
                n.span(),
                Side::New,
                format!(
                    "type `{name}` changed from {} to {}",
                    kind_name(o),
                    kind_name(n)
                ),
            ),
        }
    }

    fn enum_values(
        &mut self,
        name: &str,
        old: &[EnumValue],
        new: &[EnumValue],
        reach: Reach,
        span: Span,
    ) {
        let mut matched = vec![false; new.len()];
        for o in old {
            if let Some(i) = new.iter().position(|n| n.name == o.name) {
                matched[i] = true;
                let n = &new[i];
                if n.number != o.number {
                    self.push(
                        "enum_value_number_changed",
                        wires(reach.any() & PROTO, false),
                        n.tag_span.unwrap_or(n.span),
                        Side::New,
                        format!(
                            "enum value `{name}.{}` changed its number from {} to {}",
                            o.name, o.number, n.number
                        ),
                    );
                }
            } else if let Some(i) = new
                .iter()
                .position(|n| n.number == o.number && !old.iter().any(|x| x.name == n.name))
            {
                matched[i] = true;
                self.push(
                    "enum_value_renamed",
                    wires(reach.any() & JSON, true),
                    new[i].span,
                    Side::New,
                    format!(
                        "enum value `{name}.{}` was renamed to `{}` (number {} kept)",
                        o.name, new[i].name, o.number
                    ),
                );
            } else {
                self.push(
                    "enum_value_removed",
                    wires(reach.any(), true),
                    span,
                    Side::New,
                    format!("enum value `{name}.{}` was removed", o.name),
                );
            }
        }
        for (n, _) in new.iter().zip(&matched).filter(|(_, m)| !**m) {
            self.push(
                "enum_value_added",
                wires(reach.output, false),
                n.span,
                Side::New,
                format!(
                    "enum value `{name}.{}` was added; old readers of `{name}` do not know it",
                    n.name
                ),
            );
        }
    }

    fn fields(&mut self, h: Holder<'_>, old: &[Field], new: &[Field]) {
        let mut matched = vec![false; new.len()];
        let both = h.reach.any();
        for o in old {
            let by_name = new.iter().position(|n| n.name == o.name);
            let by_tag = || {
                new.iter()
                    .position(|n| n.tag == o.tag && !old.iter().any(|x| x.name == n.name))
            };
            if let Some(i) = by_name {
                matched[i] = true;
                let n = &new[i];
                if n.tag != o.tag {
                    self.push(
                        "field_tag_changed",
                        wires(both & PROTO, false),
                        n.spans.tag.unwrap_or(n.spans.whole),
                        Side::New,
                        format!(
                            "{} `{}` of `{}` changed its tag from @{} to @{}",
                            h.kind, o.name, h.owner, o.tag, n.tag
                        ),
                    );
                }
                if n.wire_name != o.wire_name {
                    self.push(
                        "field_json_name_changed",
                        wires(both & JSON, false),
                        n.spans.whole,
                        Side::New,
                        format!(
                            "{} `{}` of `{}` changed its JSON name from `{}` to `{}`",
                            h.kind, o.name, h.owner, o.wire_name, n.wire_name
                        ),
                    );
                }
                self.same_field(h, o, n);
            } else if let Some(i) = by_tag() {
                matched[i] = true;
                let n = &new[i];
                let json = if n.wire_name == o.wire_name {
                    0
                } else {
                    both & JSON
                };
                self.push(
                    "field_renamed",
                    // TypeScript names fields by their JSON names: only Rust changes when the
                    // JSON name is kept (`@json`).
                    wires(json, true),
                    n.spans.name,
                    Side::New,
                    format!(
                        "{} `{}` of `{}` was renamed to `{}` (tag @{} kept)",
                        h.kind, o.name, h.owner, n.name, o.tag
                    ),
                );
                self.same_field(h, o, n);
            } else {
                self.push(
                    "field_removed",
                    wires(both, true),
                    h.span,
                    Side::New,
                    format!("{} `{}` of `{}` was removed", h.kind, o.name, h.owner),
                );
            }
        }
        for (n, _) in new.iter().zip(&matched).filter(|(_, m)| !**m) {
            if h.reach.input != 0 && !n.optional && n.default.is_none() && h.kind != "variant" {
                self.push(
                    "field_added_required",
                    wires(h.reach.input & JSON, true),
                    n.spans.whole,
                    Side::New,
                    format!(
                        "required {} `{}` was added to `{}`; old writers do not send it",
                        h.kind, n.name, h.owner
                    ),
                );
            }
        }
    }

    /// The changes of a field present in both versions.
    fn same_field(&mut self, h: Holder<'_>, o: &Field, n: &Field) {
        let both = h.reach.any();
        let what = format!("{} `{}` of `{}`", h.kind, n.name, h.owner);
        if o.ty != n.ty {
            self.push(
                "field_type_changed",
                wires(both, true),
                n.spans.ty,
                Side::New,
                format!("{what} changed its type from `{}` to `{}`", o.ty, n.ty),
            );
            return;
        }
        if o.optional && !n.optional && n.default.is_none() && h.reach.input != 0 {
            self.push(
                "field_now_required",
                wires(h.reach.input & JSON, true),
                n.spans.whole,
                Side::New,
                format!("{what} is now required; old writers may leave it out"),
            );
        }
        if !o.optional && n.optional {
            self.push(
                "field_now_optional",
                wires(h.reach.output & JSON, true),
                n.spans.whole,
                Side::New,
                format!("{what} is now optional; old readers count on it"),
            );
        }
        if h.reach.input != 0 && o.default != n.default {
            self.push(
                "default_changed",
                wires(h.reach.input, false),
                n.spans.default.unwrap_or(n.spans.whole),
                Side::New,
                format!(
                    "{what} changed its default from {} to {}",
                    literal(o.default.as_ref()),
                    literal(n.default.as_ref())
                ),
            );
        }
        if h.reach.input != 0
            && let Some(change) = tightened(&o.constraints, &n.constraints)
        {
            self.push(
                "constraint_tightened",
                wires(h.reach.input, false),
                n.spans.whole,
                Side::New,
                format!("{what} {change}"),
            );
        }
    }
}

/// `/users/{id}` and `/users/{user_id}` are the same route.
fn path_shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('{');
            }
            '}' => {
                inside = false;
                out.push('}');
            }
            _ if inside => {}
            c => out.push(c),
        }
    }
    out
}

fn location_name(l: &svcc_model::Location) -> String {
    use svcc_model::Location;
    match l {
        Location::Body => "the body".into(),
        Location::Path => "the path".into(),
        Location::Query(k) => format!("the query (`{k}`)"),
        Location::Header(h) => format!("the header `{h}`"),
        Location::Cookie(c) => format!("the cookie `{c}`"),
    }
}

fn result_name(r: &MethodResult) -> String {
    match r {
        MethodResult::Empty => "nothing".into(),
        MethodResult::Single(t) => format!("`{t}`"),
        MethodResult::Named(fs) => {
            let names: Vec<String> = fs.iter().map(|f| format!("{}: {}", f.name, f.ty)).collect();
            format!("`({})`", names.join(", "))
        }
    }
}

fn kind_name(t: &TypeDef) -> &'static str {
    match t {
        TypeDef::Record(_) => "a record",
        TypeDef::Alias(_) => "an alias",
        TypeDef::Enum(_) => "an enum",
        TypeDef::Union(_) => "a union",
    }
}

fn literal(l: Option<&Literal>) -> String {
    match l {
        None => "none".into(),
        Some(Literal::String(s)) => format!("{s:?}"),
        Some(Literal::Bool(b)) => b.to_string(),
        Some(Literal::Int(i)) => i.to_string(),
        Some(Literal::Float(f)) => f.to_string(),
        Some(Literal::Ident(i)) => i.clone(),
        Some(Literal::List(items)) => {
            let items: Vec<String> = items.iter().map(|i| literal(Some(i))).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

/// How `new` refuses values `old` accepted, if it does.
fn tightened(old: &Constraints, new: &Constraints) -> Option<String> {
    let mut what = Vec::new();
    if new.min_length.unwrap_or(0) > old.min_length.unwrap_or(0) {
        what.push(format!(
            "a minimum length of {}",
            new.min_length.unwrap_or(0)
        ));
    }
    if new.max_length.unwrap_or(u64::MAX) < old.max_length.unwrap_or(u64::MAX) {
        what.push(format!(
            "a maximum length of {}",
            new.max_length.unwrap_or(0)
        ));
    }
    let above = |n: Option<svcc_model::Bound>, o: Option<svcc_model::Bound>| match (n, o) {
        (Some(_), None) => true,
        (Some(n), Some(o)) => {
            n.value > o.value || (n.value == o.value && n.exclusive && !o.exclusive)
        }
        _ => false,
    };
    if above(new.minimum, old.minimum) {
        what.push("a higher minimum".to_string());
    }
    let below = |n: Option<svcc_model::Bound>, o: Option<svcc_model::Bound>| match (n, o) {
        (Some(_), None) => true,
        (Some(n), Some(o)) => {
            n.value < o.value || (n.value == o.value && n.exclusive && !o.exclusive)
        }
        _ => false,
    };
    if below(new.maximum, old.maximum) {
        what.push("a lower maximum".to_string());
    }
    if new.pattern.is_some() && new.pattern != old.pattern {
        what.push(format!(
            "the pattern `{}`",
            new.pattern.as_deref().unwrap_or_default()
        ));
    }
    if new.format.is_some() && new.format != old.format {
        what.push("a new format".to_string());
    }
    if new.unique && !old.unique {
        what.push("unique items".to_string());
    }
    if what.is_empty() {
        None
    } else {
        Some(format!("now requires {}", what.join(", ")))
    }
}
