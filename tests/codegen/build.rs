//! Generates Rust for the test contracts; a broken template fails this crate's build.
fn main() -> Result<(), svcc::build::BuildError> {
    svcc::build::compile(&["contracts"], &["contracts"])
}
