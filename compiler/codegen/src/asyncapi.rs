//! The AsyncAPI target (`asyncapi`): an AsyncAPI 3.0 document per package that declares
//! events — a channel per topic (its address), a `send` operation per channel (the service
//! publishes; the methods that `emits` each event are named), a message per event with its
//! payload schema, its headers and its Kafka binding (the key).
//!
//! Payload schemas are the OpenAPI target's (in its 3.1 form, which is JSON Schema), so they
//! carry the same constraints; each document holds the schemas its messages reach.

use crate::File;
use crate::options::{OptionKind, OptionSpec, TargetOptions};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use svcc_model::naming::{lower_camel, topic_words, upper_camel};
use svcc_model::{EventFormat, Model, Package};

/// The AsyncAPI target.
#[derive(Debug)]
pub struct AsyncApiTarget;

impl crate::Target for AsyncApiTarget {
    fn name(&self) -> &'static str {
        "asyncapi"
    }

    fn summary(&self) -> &'static str {
        "an AsyncAPI 3.0 document per package with events (topics, messages, Kafka keys)"
    }

    fn options(&self) -> &'static [OptionSpec] {
        &[OptionSpec {
            name: "brokers",
            kind: OptionKind::Text,
            default: "localhost:9092",
            doc: "the Kafka bootstrap servers the document names (`host:port`)",
        }]
    }

    fn generate(
        &self,
        model: &Model,
        options: &TargetOptions,
        _cx: &crate::Context,
    ) -> Result<Vec<File>, String> {
        let brokers = options.get("brokers").unwrap_or("localhost:9092");
        Ok(model
            .packages
            .iter()
            .filter(|p| !p.events.is_empty())
            .map(|p| {
                let doc = document(model, p, brokers);
                let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                text.push('\n');
                File::new(format!("{}.asyncapi.json", p.name), text)
            })
            .collect())
    }
}

/// The document of one package.
pub fn document(model: &Model, pkg: &Package, brokers: &str) -> Value {
    // The OpenAPI target's schemas for this package, as JSON Schema (its 3.1 form).
    let openapi = crate::openapi::document(model, &[pkg.name.as_str()]);
    let mut openapi = serde_json::to_value(&openapi).unwrap_or(Value::Null);
    crate::openapi::to_3_1(&mut openapi);
    let all: Map<String, Value> = openapi
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut wanted: Vec<String> = Vec::new();
    let mut by_topic: Vec<(&str, Vec<&svcc_model::Event>)> = Vec::new();
    for e in &pkg.events {
        match by_topic.iter_mut().find(|(t, _)| *t == e.topic) {
            Some((_, list)) => list.push(e),
            None => by_topic.push((e.topic.as_str(), vec![e])),
        }
    }
    for (topic, events) in by_topic {
        // `user.created` → channel `userCreated`, operation `publishUserCreated`.
        let words = topic_words(topic);
        let channel = lower_camel(&words);
        let mut channel_messages = Map::new();
        let mut refs = Vec::new();
        for e in &events {
            channel_messages.insert(
                e.name.clone(),
                json!({ "$ref": format!("#/components/messages/{}", e.name) }),
            );
            refs.push(json!({ "$ref": format!("#/channels/{channel}/messages/{}", e.name) }));
            wanted.push(e.name.clone());
            messages.insert(e.name.clone(), message(pkg, e));
        }
        let emits_here = |m: &svcc_model::Method| {
            m.emits
                .iter()
                .any(|q| q.package == pkg.name && events.iter().any(|e| q.name == e.name))
        };
        let mut emitters: Vec<String> = Vec::new();
        for s in &pkg.services {
            for m in s.methods.iter().filter(|m| emits_here(m)) {
                emitters.push(format!("`{}.{}`", s.name, m.name));
            }
        }
        channels.insert(
            channel.clone(),
            json!({
                "address": topic,
                "title": topic,
                "messages": channel_messages,
                "bindings": { "kafka": { "topic": topic, "bindingVersion": "0.5.0" } },
            }),
        );
        let mut description = format!("The service publishes on `{topic}`.");
        if !emitters.is_empty() {
            description.push_str(&format!(" Emitted by {}.", emitters.join(", ")));
        }
        operations.insert(
            format!("publish{}", upper_camel(&words)),
            json!({
                "action": "send",
                "channel": { "$ref": format!("#/channels/{channel}") },
                "summary": format!("Publishes on `{topic}`."),
                "description": description,
                "messages": refs,
            }),
        );
    }
    let schemas = reachable(&all, &wanted);
    let mut info = json!({
        "title": openapi.pointer("/info/title").cloned().unwrap_or_else(|| json!(pkg.name)),
        "version": openapi.pointer("/info/version").cloned().unwrap_or_else(|| json!("0.0.0")),
    });
    if !pkg.docs.is_empty() {
        info["description"] = json!(pkg.docs);
    }
    json!({
        "asyncapi": "3.0.0",
        "info": info,
        "defaultContentType": "application/x-protobuf",
        "servers": {
            "kafka": {
                "host": brokers,
                "protocol": "kafka",
                "description": "The Kafka bootstrap servers (the `asyncapi.brokers` option).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
        },
    })
}

/// The message of an event: payload, headers, content type, the Kafka key.
fn message(pkg: &Package, e: &svcc_model::Event) -> Value {
    let content_type = match e.format {
        EventFormat::Protobuf => "application/x-protobuf",
        EventFormat::Json => "application/json",
    };
    let mut m = json!({
        "name": e.name,
        "title": e.name,
        "contentType": content_type,
        "payload": { "$ref": format!("#/components/schemas/{}", e.name) },
        "headers": {
            "type": "object",
            "properties": {
                "svcc-event": { "type": "string", "const": format!("{}.{}", pkg.name, e.name), "description": "The event's full name (its protobuf message)." },
                "content-type": { "type": "string", "const": content_type },
                "x-request-id": { "type": "string", "description": "The request id of the call that published it." },
                "traceparent": { "type": "string", "description": "W3C trace context; a consumer continues the trace." },
            },
            "required": ["svcc-event", "content-type"],
        },
    });
    let summary = e.docs.lines().next().unwrap_or("").trim();
    if !summary.is_empty() {
        m["summary"] = json!(summary);
    }
    if e.format == EventFormat::Protobuf {
        m["description"] = json!(format!(
            "The payload is the protobuf message `{}.{}` of the `.proto` target; the schema describes its content.",
            pkg.name, e.name
        ));
    }
    let key = match &e.key {
        Some(k) => json!({ "type": "string", "description": format!("The `{k}` field's text.") }),
        None => json!({ "type": "null", "description": "Published without a key." }),
    };
    m["bindings"] = json!({ "kafka": { "key": key, "bindingVersion": "0.5.0" } });
    if let Some(d) = &e.deprecated {
        m["description"] = json!(format!(
            "{}Deprecated{}",
            m.get("description")
                .and_then(Value::as_str)
                .map(|s| format!("{s} "))
                .unwrap_or_default(),
            if d.is_empty() {
                ".".to_string()
            } else {
                format!(": {d}")
            }
        ));
    }
    m
}

/// The schemas `roots` reach through `$ref`s, in the order of `all`.
fn reachable(all: &Map<String, Value>, roots: &[String]) -> Map<String, Value> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = roots.to_vec();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(s) = all.get(&n) {
            refs(s, &mut stack);
        }
    }
    all.iter()
        .filter(|(k, _)| seen.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.push(name.to_string());
            }
            for x in o.values() {
                refs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target as _;

    #[test]
    fn brokers_name_the_server_and_packages_without_events_get_no_document() {
        let c = svcc_frontend::compile_memory(
            &[
                (
                    "a.svc",
                    "package a.v1;\n\n/// Made.\n@topic(\"made\")\nevent Made {\n  id @1: string;\n}\n",
                ),
                (
                    "b.svc",
                    "package b.v1;\n\n/// T.\ntype T {\n  x @1: string;\n}\n",
                ),
            ],
            &Default::default(),
        );
        assert!(!c.has_errors(), "{:#?}", c.diagnostics);
        let mut o = TargetOptions::default();
        o.set(AsyncApiTarget.options(), "brokers", "kafka-1:9092")
            .unwrap();
        let files = AsyncApiTarget
            .generate(&c.model, &o, &Default::default())
            .unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.v1.asyncapi.json"]);
        let doc: Value = serde_json::from_str(&files[0].text()).unwrap();
        assert_eq!(doc["servers"]["kafka"]["host"], "kafka-1:9092");
        // No `@key`: the binding says the records have none.
        assert_eq!(
            doc["components"]["messages"]["Made"]["bindings"]["kafka"]["key"]["type"],
            "null"
        );
    }
}
