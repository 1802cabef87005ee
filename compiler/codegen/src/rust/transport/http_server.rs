//! Server glue for JSON-RPC 2.0, REST and gRPC: `{Service}Server`, which turns an implementation of
//! the service trait into the runtime's `ServiceDef` (one entry per method, each with its
//! request type and description), and one `invoke_…` function per method that decodes,
//! validates and calls the implementation. The runtime routes every transport to the same
//! entries (gRPC through the service's `GRPC` binding), so one generator serves them all.

use super::{ServiceGenerator, ServiceNames};
use crate::rust::{
    PV, Package, RT, camel, events, field_ident, lit_str, lower_camel, mname_of, snake, upper_snake,
};
use std::fmt::Write as _;
use svcc_model::{Location, Method, MethodResult, Service};

/// Generates `{Service}Server` and its invoke functions.
#[derive(Debug)]
pub(super) struct HttpServer;

impl ServiceGenerator for HttpServer {
    fn generate(&self, pkg: &Package<'_>, svc: &Service, names: &ServiceNames, s: &mut String) {
        let (sname, modname) = (names.service.as_str(), names.module.as_str());
        // Methods that emit events read the server's bus from one slot per service.
        let emits = events::emits_any(&svc.methods);
        let slot = if emits {
            format!("\nlet events = {RT}::events::BusSlot::default();")
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "/// Serves a [`{sname}`] implementation over the transports the contract names.\n#[derive(Debug)]\npub struct {sname}Server<T>({PV}::Arc<T>);\n"
        );
        let _ = writeln!(s, "impl<T: {sname}> {sname}Server<T> {{
            pub fn new(implementation: T) -> Self {{ {sname}Server({PV}::Arc::new(implementation)) }}
            pub fn from_arc(implementation: {PV}::Arc<T>) -> Self {{ {sname}Server(implementation) }}
            /// The service's methods, ready for [`{RT}::Server::service`].
            pub fn into_service(self) -> {PV}::ServiceDef {{
                let imp = self.0;{slot}
                {PV}::ServiceDef::new({}, {})", lit_str(&svc.name), lit_str(&lower_camel(&svc.name)));
        for method in &svc.methods {
            if method.settings.handler.is_some() {
                continue;
            }
            let info = format!("{modname}::{}_INFO", upper_snake(&camel(&method.name)));
            let (capture, pass) = if method.emits.is_empty() {
                ("", "")
            } else {
                (" let events = events.clone();", ", events.emitter()")
            };
            let _ = writeln!(
                s,
                ".method_fn::<{modname}::{}Request, _, _>(&{info}, {{ let imp = imp.clone();{capture} move |call: {PV}::Call| {{ let imp = imp.clone();{capture} async move {{ invoke_{}_{}(&*imp, call{pass}).await }} }} }})",
                camel(&method.name),
                mname_of(svc),
                snake(&method.name)
            );
        }
        if pkg.grpc_service(svc).is_some() {
            let _ = writeln!(s, ".grpc(&{modname}::GRPC)");
        }
        if emits {
            let _ = writeln!(s, ".events(events)");
        }
        s.push_str("}\n}\n\n");
        for method in &svc.methods {
            if method.settings.handler.is_some() {
                continue;
            }
            s.push_str(&invoke_fn(pkg, svc, method, sname, modname));
        }
    }
}

/// The function that decodes, validates and hands one call to the implementation.
fn invoke_fn(
    pkg: &Package<'_>,
    svc: &Service,
    method: &Method,
    sname: &str,
    modname: &str,
) -> String {
    let base = camel(&method.name);
    let names: Vec<String> = method.params.iter().map(|p| pkg.fid(p)).collect();
    let destructure = format!("{modname}::{base}Request {{ {} }}", names.join(", "));
    let args = if names.is_empty() {
        String::new()
    } else {
        format!(", {}", names.join(", "))
    };
    let ok_body = match &method.result {
        MethodResult::Empty => {
            format!("Ok(_) => ::core::result::Result::Ok({PV}::Output::empty()),")
        }
        MethodResult::Single(t) if pkg.validates(t) => format!(
            "Ok(r) => {{ if call.validate_result {{ {RT}::validate::check_result(&r, call.info)?; }} {PV}::Output::json(&r) }}"
        ),
        MethodResult::Single(_) => format!("Ok(r) => {PV}::Output::json(&r),"),
        MethodResult::Named(results) => {
            let mut h = String::new();
            for r in results {
                let f = pkg.fid(r);
                let set = match &r.location {
                    Location::Header(name) => format!(
                        "out.header({}, &v.to_string());",
                        lit_str(&name.to_ascii_lowercase())
                    ),
                    Location::Cookie(name) => {
                        format!("out.cookie({}, &v.to_string());", lit_str(name))
                    }
                    _ => continue,
                };
                if r.optional {
                    let _ = write!(
                        h,
                        "if let ::core::option::Option::Some(v) = &r.{f} {{ {set} }}"
                    );
                } else {
                    let _ = write!(h, "{{ let v = &r.{f}; {set} }}");
                }
            }
            let binding = if h.is_empty() { "out" } else { "mut out" };
            format!(
                "Ok(r) => {{ if call.validate_result {{ {RT}::validate::check_result(&r, call.info)?; }} let {binding} = {PV}::Output::json(&r)?; {h} ::core::result::Result::Ok(out) }}"
            )
        }
    };
    let (emitter, ctx) = match events::context_type(method) {
        Some(t) => (
            format!(", emitter: &{RT}::events::Emitter"),
            format!("{modname}::{t}::new(call.ctx, emitter.clone())"),
        ),
        None => (String::new(), "call.ctx".to_string()),
    };
    format!(
            "async fn invoke_{}_{}<T: {sname}>(imp: &T, call: {PV}::Call{emitter}) -> ::core::result::Result<{PV}::Output, {RT}::Error> {{
                let req: {modname}::{base}Request = call.params.decode()?;
                {RT}::Validate::validate(&req).map_err({RT}::Error::validation)?;
                let {destructure} = req;
                match imp.{}({ctx}{args}).await {{
                    {ok_body}
                    Err(e) => ::core::result::Result::Err(e.into_error()),
                }}
            }}\n\n",
            mname_of(svc),
            snake(&method.name),
            field_ident(&method.name)
        )
}
