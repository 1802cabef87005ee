//! The resolved model of `.svc` contracts: the one API every svcc target reads.
//!
//! The front end (`svcc-frontend`) builds a [`Model`] from source files; targets
//! (`svcc-codegen`) and tools (the CLI, the language server) read it. Besides the model this
//! crate holds what both sides share: source spans ([`source`]), the [`Diagnostic`] type every
//! stage and target reports with ([`diagnostic`]), and the case conversions targets and the
//! resolver agree on ([`naming`]). It depends on nothing of the compiler.

pub mod diagnostic;
mod model;
pub mod naming;
pub mod source;

pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
