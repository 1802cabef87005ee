//! Compiles the messenger contracts into Rust (`$OUT_DIR/svc.rs`).
fn main() -> Result<(), svcc::build::BuildError> {
    svcc::build::compile(&["idl"], &["idl"])
}
