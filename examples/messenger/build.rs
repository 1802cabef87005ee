//! Compiles the messenger contracts into Rust (`$OUT_DIR/svc.rs`).
fn main() -> Result<(), svcc_build::BuildError> {
    svcc_build::compile(&["idl"], &["idl"])
}
