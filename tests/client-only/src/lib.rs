//! The messenger's clients as a client-only crate builds them: types, validators, service
//! traits and clients, without server glue, on `svcc-runtime` without its `server` feature.

/// Everything generated from the messenger's contracts, except servers.
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/svc.rs"));
}
