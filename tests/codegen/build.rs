//! Generates Rust for the test contracts; a broken template fails this crate's build.
fn main() -> Result<(), svcc_build::BuildError> {
    svcc_build::compile(&["contracts"], &["contracts"])
}
