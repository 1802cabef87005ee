//! The breaking-change rules: each with a name (what `@breaking(…)`, `svcc.toml` and
//! `svcc explain` use), its categories (as buf groups them), a default severity and the
//! explanation `svcc explain` prints.

use svcc_model::Severity;

/// What a rule is about, as buf groups its rules: the binary protobuf wire, the JSON wire, the
/// generated source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Protobuf bytes (gRPC, Kafka events in protobuf).
    Wire,
    /// JSON (REST, JSON-RPC, Kafka events in JSON).
    WireJson,
    /// Generated Rust and TypeScript.
    Source,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Wire => "wire",
            Category::WireJson => "wire_json",
            Category::Source => "source",
        }
    }
}

#[derive(Debug)]
pub struct Rule {
    pub name: &'static str,
    pub categories: &'static [Category],
    pub severity: Severity,
    /// One line.
    pub summary: &'static str,
    /// What breaks, for whom, and what to do instead.
    pub explanation: &'static str,
}

use Category::{Source, Wire, WireJson};
use Severity::{Error, Warning};

const ALL: &[Category] = &[Wire, WireJson, Source];

const fn rule(
    name: &'static str,
    categories: &'static [Category],
    severity: Severity,
    summary: &'static str,
    explanation: &'static str,
) -> Rule {
    Rule {
        name,
        categories,
        severity,
        summary,
        explanation,
    }
}

pub static RULES: &[Rule] = &[
    rule(
        "package_removed",
        ALL,
        Error,
        "a package was removed",
        "Every service, type and event of the package is gone: every client and consumer of it \
         breaks, and so does code that imports its generated types.",
    ),
    rule(
        "service_removed",
        ALL,
        Error,
        "a service was removed",
        "Clients of every transport the service was served on get `method not found` (JSON-RPC), \
         404 (REST) or UNIMPLEMENTED (gRPC); the generated trait and clients disappear. Deprecate \
         the service first (`@deprecated`) and remove it once nobody calls it.",
    ),
    rule(
        "method_removed",
        ALL,
        Error,
        "a method was removed",
        "Old clients calling it fail on every transport it was served on; the generated trait \
         and client lose the method. Deprecate it first and remove it once nobody calls it.",
    ),
    rule(
        "transport_removed",
        &[Wire, WireJson],
        Error,
        "a method is no longer served on a transport it was served on",
        "The method lost `@http`, JSON-RPC or `@grpc` serving: clients of that transport break, \
         the others are unaffected.",
    ),
    rule(
        "jsonrpc_name_changed",
        &[WireJson],
        Error,
        "a method's JSON-RPC name changed",
        "JSON-RPC clients call methods by name (`service.method`, or `@jsonrpc(name)`); the old \
         name now answers `method not found`. Keep the old name with `@jsonrpc(\"old.name\")`.",
    ),
    rule(
        "http_method_changed",
        &[WireJson],
        Error,
        "a method's HTTP verb changed",
        "REST clients (and the Envoy routes generated for transcoding) send the old verb and get \
         405 or 404. Only REST is affected.",
    ),
    rule(
        "http_path_changed",
        &[WireJson],
        Error,
        "a method's REST path changed",
        "REST clients and the Envoy routes use the old path and get 404. JSON-RPC and gRPC are \
         unaffected. Keep the old path, or serve both during a migration.",
    ),
    rule(
        "http_status_changed",
        &[WireJson],
        Error,
        "a method's success status changed",
        "REST clients that check the status (201 vs 200, 204) see a different one. Only REST is \
         affected.",
    ),
    rule(
        "param_location_changed",
        &[WireJson],
        Error,
        "a parameter moved between the body, the path, the query, a header or a cookie",
        "REST clients send the parameter where it used to be; the server no longer reads it \
         there. JSON-RPC and gRPC carry every parameter in the body and are unaffected.",
    ),
    rule(
        "result_type_changed",
        ALL,
        Error,
        "a method's result type changed",
        "Old clients decode the result as the old type: every transport the method is served \
         on breaks, and the generated signature changes.",
    ),
    rule(
        "field_removed",
        ALL,
        Error,
        "a field, parameter or union variant was removed",
        "Old readers expect it and old writers send it (JSON is refused with an unknown field); \
         on protobuf its number may later be reused with another meaning; the generated struct \
         loses it. Deprecate the field first.",
    ),
    rule(
        "field_renamed",
        &[WireJson, Source],
        Error,
        "a field kept its tag but changed its name",
        "Protobuf (gRPC, protobuf events) identifies fields by tag and is unaffected; every JSON \
         wire uses the name (or `@json`) and breaks; the generated code changes name. Keep the \
         JSON name with `@json(\"old_name\")` to spare the JSON wires.",
    ),
    rule(
        "field_json_name_changed",
        &[WireJson],
        Error,
        "a field's JSON name (`@json`) changed",
        "Every JSON wire (REST, JSON-RPC, JSON events) uses the JSON name and breaks; protobuf \
         and the generated code are unaffected.",
    ),
    rule(
        "field_tag_changed",
        &[Wire],
        Error,
        "a field kept its name but changed its tag",
        "Protobuf identifies fields by number: gRPC and protobuf events break (old peers read \
         the value as another field, or drop it). The JSON wires and the generated code are \
         unaffected.",
    ),
    rule(
        "field_type_changed",
        ALL,
        Error,
        "a field's type changed",
        "Old peers encode or decode the old type on every wire the field travels, and the \
         generated field changes type.",
    ),
    rule(
        "field_now_required",
        &[WireJson, Source],
        Error,
        "an optional field of a request became required",
        "Old writers (clients; producers of events) may leave it out and are now refused. \
         Responses are unaffected in that direction. Give the field a default instead.",
    ),
    rule(
        "field_now_optional",
        &[WireJson, Source],
        Error,
        "a required field of a response became optional",
        "Old readers (clients; consumers of events) count on the value and may now get nothing; \
         the generated type becomes an option. Requests are unaffected in that direction (except \
         the generated source).",
    ),
    rule(
        "field_added_required",
        &[WireJson, Source],
        Error,
        "a required field without a default was added to a request",
        "Old writers do not send it and are refused. Make it optional or give it a default.",
    ),
    rule(
        "default_changed",
        &[Wire, WireJson],
        Warning,
        "a field's default changed",
        "Old writers that leave the field out now get a different value on every wire the field \
         is read from.",
    ),
    rule(
        "constraint_tightened",
        &[Wire, WireJson],
        Error,
        "a constraint on a request field was tightened",
        "Values old writers send (shorter, longer, outside the new range, not matching the new \
         pattern or format, with duplicates) are now refused on every transport, since every \
         transport validates requests.",
    ),
    rule(
        "enum_value_removed",
        ALL,
        Error,
        "an enum value was removed",
        "Old peers still send and expect it on every wire the enum travels; the generated enum \
         loses the variant. Deprecate it first.",
    ),
    rule(
        "enum_value_renamed",
        &[WireJson, Source],
        Error,
        "an enum value kept its number but changed its name",
        "Protobuf sends enum numbers and is unaffected; JSON sends the name and breaks; the \
         generated variant changes name.",
    ),
    rule(
        "enum_value_number_changed",
        &[Wire],
        Error,
        "an enum value kept its name but changed its number",
        "Protobuf sends numbers: gRPC and protobuf events break. JSON and the generated code \
         are unaffected.",
    ),
    rule(
        "enum_value_added",
        &[Wire, WireJson],
        Warning,
        "an enum value was added to an enum that responses or events carry",
        "Old readers of responses and events may receive a value they do not know. Old writers \
         are unaffected (they never send it), so an enum only in requests is not reported.",
    ),
    rule(
        "type_removed",
        &[Source],
        Error,
        "a type was removed",
        "The generated type disappears from the Rust and TypeScript code. Where it was used, \
         the changed fields are reported on their own.",
    ),
    rule(
        "type_kind_changed",
        ALL,
        Error,
        "a type changed kind (record, enum, union, alias)",
        "Its encoding changes on every wire it travels, and so does the generated type.",
    ),
    rule(
        "error_removed",
        &[Source],
        Error,
        "an error was removed",
        "The generated error type disappears; clients matching on it no longer compile.",
    ),
    rule(
        "error_code_changed",
        &[Wire, WireJson, Source],
        Error,
        "an error's string code changed",
        "Clients recognise declared errors by their code (in the JSON-RPC error's data, the REST \
         body and gRPC's ErrorInfo): on every transport of the methods that throw it, old \
         clients no longer recognise it.",
    ),
    rule(
        "error_kind_changed",
        &[Wire, WireJson],
        Error,
        "an error's kind changed",
        "The kind fixes the JSON-RPC code, the HTTP status and the gRPC status: on every \
         transport of the methods that throw it, clients see different ones.",
    ),
    rule(
        "error_status_changed",
        &[WireJson],
        Error,
        "an error's HTTP status changed",
        "REST clients see a different status. JSON-RPC and gRPC are unaffected.",
    ),
    rule(
        "event_removed",
        &[Wire, WireJson, Source],
        Error,
        "an event was removed",
        "Consumers of its topic stop receiving it, and the generated producer and consumer \
         types disappear.",
    ),
    rule(
        "event_topic_changed",
        &[Wire, WireJson],
        Error,
        "an event's topic changed",
        "Old consumers read the old topic and no longer receive it; old producers write where \
         new consumers do not read.",
    ),
    rule(
        "event_key_changed",
        &[Wire, WireJson],
        Error,
        "an event's Kafka key changed",
        "The key fixes the partition and so the order of events per key: consumers that rely on \
         per-key order (or compaction) break.",
    ),
    rule(
        "event_format_changed",
        &[Wire, WireJson],
        Error,
        "an event's payload format changed (protobuf or JSON)",
        "Old consumers cannot decode the new payloads, and new consumers cannot decode what is \
         already on the topic.",
    ),
];

/// Every rule's name (what `@breaking(…)` accepts).
pub static RULE_NAMES: &[&str] = &[
    "package_removed",
    "service_removed",
    "method_removed",
    "transport_removed",
    "jsonrpc_name_changed",
    "http_method_changed",
    "http_path_changed",
    "http_status_changed",
    "param_location_changed",
    "result_type_changed",
    "field_removed",
    "field_renamed",
    "field_json_name_changed",
    "field_tag_changed",
    "field_type_changed",
    "field_now_required",
    "field_now_optional",
    "field_added_required",
    "default_changed",
    "constraint_tightened",
    "enum_value_removed",
    "enum_value_renamed",
    "enum_value_number_changed",
    "enum_value_added",
    "type_removed",
    "type_kind_changed",
    "error_removed",
    "error_code_changed",
    "error_kind_changed",
    "error_status_changed",
    "event_removed",
    "event_topic_changed",
    "event_key_changed",
    "event_format_changed",
];

pub fn lookup(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// The text `svcc explain RULE` prints.
pub fn explain(rule: &Rule) -> String {
    let categories: Vec<&str> = rule.categories.iter().map(|c| c.name()).collect();
    format!(
        "{}: {} (breaking-change rule; categories: {}; default: {})\n\n{}\n\nA deliberate break \
         is accepted with `@breaking({}, reason = \"…\")` on the changed item (or a parent, or \
         the package), or for a whole project in `svcc.toml`:\n\n    [breaking]\n    {} = \
         \"allow\"    # allow | warn | deny\n",
        rule.name,
        rule.summary,
        categories.join(", "),
        match rule.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        crate::codes::wrap(rule.explanation, 90),
        rule.name,
        rule.name
    )
}
