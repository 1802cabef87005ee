//! Typed JSON-RPC batches: `{Service}Batch` collects calls of the service's methods and sends
//! them as one JSON-RPC 2.0 batch through a `{Service}JsonRpcClient`.

use super::{ServiceGenerator, ServiceNames, helper_name};
use crate::rust::{Package, RT, camel, field_ident, upper_snake};
use std::fmt::Write as _;
use svcc_model::Service;

/// Generates `{Service}Batch`.
#[derive(Debug)]
pub(super) struct JsonRpcBatch;

impl ServiceGenerator for JsonRpcBatch {
    fn generate(&self, pkg: &Package<'_>, svc: &Service, names: &ServiceNames, s: &mut String) {
        let (sname, modname) = (names.service.as_str(), names.module.as_str());
        let new = helper_name(svc, "new");
        let send = helper_name(svc, "send");
        if !svc.methods.iter().any(|m| m.settings.jsonrpc.is_some()) {
            return;
        }
        let _ = writeln!(
            s,
            "/// Calls of [`{sname}`] collected into one JSON-RPC batch.\n#[derive(Debug, Default)]\npub struct {sname}Batch {{ inner: {RT}::client::Batch }}\n"
        );
        let _ = writeln!(
            s,
            "impl {sname}Batch {{\npub fn {new}() -> Self {{ <Self as ::core::default::Default>::default() }}\n/// Sends every collected call in one request.\npub async fn {send}(&mut self, client: &{sname}JsonRpcClient, ctx: &{RT}::Context) -> ::core::result::Result<(), {RT}::Error> {{ self.inner.send(&client.inner, ctx).await }}"
        );
        for method in &svc.methods {
            if method.settings.jsonrpc.is_none() || method.settings.handler.is_some() {
                continue;
            }
            let base = camel(&method.name);
            let info = format!("{modname}::{}_INFO", upper_snake(&base));
            let fields: Vec<String> = method.params.iter().map(|p| pkg.fid(p)).collect();
            let mut sig = vec!["&mut self".to_string()];
            for p in &method.params {
                sig.push(format!("{}: {}", pkg.fid(p), pkg.param_type(p, 0)));
            }
            let _ = writeln!(
                s,
                "/// Adds a call of `{}`; its result is read from the returned slot after [`Self::{send}`].\npub fn {}({}) -> {RT}::client::Slot<{}, {modname}::{base}Error> {{ let req = {modname}::{base}Request {{ {} }}; self.inner.push(&{info}, &req, {modname}::{base}Error::from_error) }}",
                method.name,
                field_ident(&method.name),
                sig.join(", "),
                pkg.result_type(method, modname),
                fields.join(", ")
            );
        }
        s.push_str("}\n\n");
    }
}
