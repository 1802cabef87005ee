//! Generates Rust for the test contracts and the standard contracts shipped in `idl/` (whose
//! clients read what the runtime serves); a broken generator fails this crate's build.
fn main() -> Result<(), svcc_build::BuildError> {
    svcc_build::compile(&["contracts", "../../idl"], &["contracts", "../../idl"])
}
