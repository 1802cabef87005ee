//! Clients over one transport: `{Service}JsonRpcClient`, `{Service}RestClient` and
//! `{Service}GrpcClient`. Each
//! implements the service trait, so a client can stand in for the service; a method the
//! transport does not carry answers `Unimplemented`.

use super::{ServiceGenerator, ServiceNames, helper_name};
use crate::rust::{Package, RT, camel, field_ident, lit_str, upper_snake};
use std::fmt::Write as _;
use svcc_model::{Method, MethodResult, Service};

/// A client generator for one transport of the runtime.
#[derive(Debug)]
pub(super) struct Client {
    /// The client's name after the service's (`JsonRpc` → `UserServiceJsonRpcClient`).
    kind: &'static str,
    /// The runtime's transport type (`{RT}::client::{transport}Client`).
    transport: &'static str,
    /// The transport's name in docs and errors.
    describe: &'static str,
    /// Whether the transport carries a method.
    serves: fn(&Method) -> bool,
    /// Whether calls name the service's gRPC binding (`{module}::GRPC`).
    binding: bool,
}

/// The JSON-RPC 2.0 client.
pub(super) const JSONRPC: Client = Client {
    kind: "JsonRpc",
    transport: "JsonRpc",
    describe: "JSON-RPC 2.0",
    serves: |m| m.settings.jsonrpc.is_some(),
    binding: false,
};

/// The REST client.
pub(super) const REST: Client = Client {
    kind: "Rest",
    transport: "Rest",
    describe: "REST",
    serves: |m| m.settings.http.is_some(),
    binding: false,
};

/// The gRPC client.
pub(super) const GRPC: Client = Client {
    kind: "Grpc",
    transport: "Grpc",
    describe: "gRPC",
    serves: |m| m.settings.grpc,
    binding: true,
};

impl ServiceGenerator for Client {
    fn generate(&self, pkg: &Package<'_>, svc: &Service, names: &ServiceNames, s: &mut String) {
        let (sname, modname) = (names.service.as_str(), names.module.as_str());
        let (kind, transport, doc_text) = (self.kind, self.transport, self.describe);
        if !svc.methods.iter().any(|m| (self.serves)(m))
            || (self.binding && pkg.grpc_service(svc).is_none())
        {
            return;
        }
        let binding = if self.binding {
            format!("&{modname}::GRPC, ")
        } else {
            String::new()
        };
        let cname = format!("{sname}{kind}Client");
        let accessor = helper_name(svc, "transport");
        let _ = writeln!(
            s,
            "/// A client of [`{sname}`] over {doc_text}. It implements the service trait, so it can stand in for the service; its methods are the trait's, so bring the trait into scope to call them (`use …::{sname} as _;`).\n#[derive(Debug, Clone)]\npub struct {cname} {{ inner: {RT}::client::{transport}Client }}\n"
        );
        let _ = writeln!(s, "impl {cname} {{
            pub fn new(config: {RT}::client::ClientConfig) -> Self {{ {cname} {{ inner: {RT}::client::{transport}Client::new(config) }} }}
            /// The underlying transport (configuration, batches).
            pub fn {accessor}(&self) -> &{RT}::client::{transport}Client {{ &self.inner }}
        }}\n");
        let _ = writeln!(s, "impl {sname} for {cname} {{");
        for method in svc.methods.iter().filter(|m| m.settings.handler.is_none()) {
            let base = camel(&method.name);
            let info = format!("{modname}::{}_INFO", upper_snake(&base));
            let fields: Vec<String> = method.params.iter().map(|p| pkg.fid(p)).collect();
            let available = (self.serves)(method);
            let decode = match &method.result {
                MethodResult::Empty => "let _ = out; ::core::result::Result::Ok(())".to_string(),
                _ => format!("out.decode().map_err({modname}::{base}Error::Other)"),
            };
            let body = if available {
                format!(
                    "let req = {modname}::{base}Request {{ {} }};
                    let out = self.inner.call(&{info}, {binding}&req, &ctx).await.map_err({modname}::{base}Error::from_error)?;
                    {decode}",
                    fields.join(", ")
                )
            } else {
                format!(
                    "let _ = (ctx, {}); ::core::result::Result::Err({modname}::{base}Error::Other({RT}::Error::new({RT}::Code::Unimplemented, {})))",
                    if fields.is_empty() {
                        "()".to_string()
                    } else {
                        format!("({},)", fields.join(", "))
                    },
                    lit_str(&format!(
                        "`{}.{}` is not served over {doc_text}",
                        svc.name, method.name
                    ))
                )
            };
            let _ = writeln!(
                s,
                "async fn {}({}) -> ::core::result::Result<{}, {modname}::{base}Error> {{ {body} }}",
                field_ident(&method.name),
                pkg.params_sig(modname, method),
                pkg.result_type(method, modname)
            );
        }
        s.push_str("}\n\n");
    }
}
