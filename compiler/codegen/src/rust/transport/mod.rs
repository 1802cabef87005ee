//! The per-transport seam of the Rust target, in the spirit of prost-build's
//! `ServiceGenerator`: types, validators, errors and the service trait are written once by the
//! package writer; everything that binds a service to a transport is one [`ServiceGenerator`]
//! in its own file. A new transport (gRPC, Kafka) is a new file and one line in
//! [`generators`].

mod client;
mod http_server;
mod jsonrpc_batch;

use super::{Package, RustOptions, field_ident};
use svcc_model::Service;

/// The Rust names every generator of a service builds on.
#[derive(Debug)]
pub(super) struct ServiceNames {
    /// The service trait (`UserService`).
    pub service: String,
    /// The module of its per-method types (`user_service`).
    pub module: String,
}

/// Writes the code that binds one service to a transport.
pub(super) trait ServiceGenerator {
    /// Appends the code for `svc` (declared in `package`) to `out`.
    fn generate(
        &self,
        package: &Package<'_>,
        svc: &Service,
        names: &ServiceNames,
        out: &mut String,
    );
}

/// The name of a generated helper method (`new`, `send`, `transport`) on a type that also
/// carries the service's methods: the helper yields to the contract, taking a trailing `_` for
/// each method already called so (`new_`), so a contract may name its methods anything.
pub(super) fn helper_name(svc: &Service, helper: &str) -> String {
    let taken: Vec<String> = svc.methods.iter().map(|m| field_ident(&m.name)).collect();
    let mut name = helper.to_string();
    while taken.contains(&name) {
        name.push('_');
    }
    name
}

/// The generators the options ask for, in the order their code is written.
pub(super) fn generators(options: &RustOptions) -> Vec<&'static dyn ServiceGenerator> {
    let mut out: Vec<&'static dyn ServiceGenerator> = Vec::new();
    if options.server {
        out.push(&http_server::HttpServer);
    }
    if options.client {
        out.extend([
            &client::JSONRPC as &dyn ServiceGenerator,
            &client::REST,
            &client::GRPC,
            &jsonrpc_batch::JsonRpcBatch,
        ]);
    }
    out
}
