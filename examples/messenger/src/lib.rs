//! The messenger example: the generated API and an in-memory implementation of its services.

/// Everything generated from `idl/` (types, validators, service traits, servers, clients).
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/svc.rs"));
}
