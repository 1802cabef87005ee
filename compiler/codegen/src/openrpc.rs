//! The OpenRPC target (`openrpc`): an OpenRPC 1.3 document per package with JSON-RPC methods —
//! each method by its JSON-RPC name, its parameters by name (position follows their order),
//! its result, its declared errors with their numeric codes, deprecation — and the schemas
//! they reach.
//!
//! Schemas are the OpenAPI target's (in its 3.1 form, which is JSON Schema), taken from the
//! same JSON-RPC operations the OpenAPI document describes, so both documents carry the same
//! constraints from one model.

use crate::File;
use crate::options::{OptionSpec, TargetOptions};
use serde_json::{Map, Value, json};
use svcc_model::{Model, Package};

/// The OpenRPC version the documents follow.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// The OpenRPC target.
#[derive(Debug)]
pub struct OpenRpcTarget;

impl crate::Target for OpenRpcTarget {
    fn name(&self) -> &'static str {
        "openrpc"
    }

    fn summary(&self) -> &'static str {
        "an OpenRPC 1.3 document per package with JSON-RPC methods (params, results, errors)"
    }

    fn options(&self) -> &'static [OptionSpec] {
        &[]
    }

    fn generate(
        &self,
        model: &Model,
        _options: &TargetOptions,
        _cx: &crate::Context,
    ) -> Result<Vec<File>, String> {
        Ok(model
            .packages
            .iter()
            .filter(|p| !jsonrpc_methods(p).is_empty())
            .map(|p| {
                let mut text =
                    serde_json::to_string_pretty(&document(model, p)).unwrap_or_default();
                text.push('\n');
                File::new(format!("{}.openrpc.json", p.name), text)
            })
            .collect())
    }
}

/// The methods of `pkg` served over JSON-RPC (not those a hand-written handler serves), with
/// their JSON-RPC names.
fn jsonrpc_methods(pkg: &Package) -> Vec<(&svcc_model::Service, &svcc_model::Method, &str)> {
    pkg.services
        .iter()
        .flat_map(|s| s.methods.iter().map(move |m| (s, m)))
        .filter(|(_, m)| m.settings.handler.is_none())
        .filter_map(|(s, m)| m.settings.jsonrpc.as_deref().map(|n| (s, m, n)))
        .collect()
}

/// The document of one package.
pub fn document(model: &Model, pkg: &Package) -> Value {
    let openapi = crate::openapi::document(model, &[pkg.name.as_str()]);
    let mut openapi = serde_json::to_value(&openapi).unwrap_or(Value::Null);
    crate::openapi::to_3_1(&mut openapi);
    let mut methods = Vec::new();
    for (svc, m, name) in jsonrpc_methods(pkg) {
        let op = openapi
            .pointer(&format!(
                "/paths/{}/post",
                pointer_escape(&format!("/rpc/{name}"))
            ))
            .cloned()
            .unwrap_or(Value::Null);
        let request = op
            .pointer("/requestBody/content/application~1json/schema/properties/params")
            .cloned()
            .unwrap_or_else(|| json!({"type": "object"}));
        let required: Vec<&str> = request
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let props = request.get("properties").and_then(Value::as_object);
        // In declaration order, which is the order of params by position.
        let params: Vec<Value> = m
            .params
            .iter()
            .filter_map(|f| {
                let schema = props?.get(&f.wire_name)?;
                let mut d = Map::new();
                d.insert("name".into(), json!(f.wire_name));
                let docs = f.docs.trim();
                if !docs.is_empty() {
                    d.insert("description".into(), json!(docs));
                }
                d.insert(
                    "required".into(),
                    json!(required.contains(&f.wire_name.as_str())),
                );
                d.insert("schema".into(), schema.clone());
                Some(Value::Object(d))
            })
            .collect();
        let mut method = Map::new();
        method.insert("name".into(), json!(name));
        if let Some(s) = op.get("summary") {
            method.insert("summary".into(), s.clone());
        }
        if let Some(d) = op.get("description") {
            method.insert("description".into(), d.clone());
        }
        method.insert(
            "tags".into(),
            json!([{ "name": svc.tags.first().cloned().unwrap_or_else(|| svc.name.clone()) }]),
        );
        // Named by default; by position in this order too.
        method.insert("paramStructure".into(), json!("either"));
        method.insert("params".into(), Value::Array(params));
        let result = op
            .pointer("/responses/200/content/application~1json/schema/properties/result")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let result = if matches!(m.result, svcc_model::MethodResult::Empty) {
            json!({"type": "null"})
        } else {
            result
        };
        method.insert("result".into(), json!({"name": "result", "schema": result}));
        let mut errors: Vec<Value> = Vec::new();
        for e in m.throws.iter().filter_map(|e| model.error(e)) {
            let summary = e.docs.lines().next().unwrap_or("").trim();
            let message = if summary.is_empty() {
                e.code.clone()
            } else {
                format!("{}: {summary}", e.code)
            };
            let error = json!({
                "code": e.kind.declared_jsonrpc(),
                "message": message,
                "data": { "code": e.code },
            });
            if !errors.contains(&error) {
                errors.push(error);
            }
        }
        if !errors.is_empty() {
            method.insert("errors".into(), Value::Array(errors));
        }
        if m.settings.deprecated.is_some() {
            method.insert("deprecated".into(), json!(true));
        }
        methods.push(Value::Object(method));
    }
    let mut servers: Vec<Value> = pkg
        .settings
        .servers
        .iter()
        .map(|s| {
            let mut v = json!({
                "name": s.description.clone().unwrap_or_else(|| s.url.clone()),
                "url": format!("{}/rpc", s.url.trim_end_matches('/')),
            });
            if let Some(d) = &s.description {
                v["summary"] = json!(d);
            }
            v
        })
        .collect();
    if servers.is_empty() {
        // The runtime's default address (the contract names none: `@server`).
        servers.push(json!({"name": "local", "url": "http://127.0.0.1:8080/rpc"}));
    }
    let mut info = json!({
        "title": openapi.pointer("/info/title").cloned().unwrap_or(json!(pkg.name)),
        "version": openapi.pointer("/info/version").cloned().unwrap_or(json!("0.0.0")),
    });
    if let Some(d) = openapi.pointer("/info/description") {
        info["description"] = d.clone();
    }
    json!({
        "openrpc": OPENRPC_VERSION,
        "info": info,
        "servers": servers,
        "methods": methods,
        "components": {
            "schemas": openapi.pointer("/components/schemas").cloned().unwrap_or(json!({})),
        },
    })
}

/// `~` and `/` escaped for a JSON pointer segment.
fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
