//! Generates the messenger's types and clients only (`server(false)`).
fn main() -> Result<(), svcc_build::BuildError> {
    svcc_build::configure()
        .include("../../examples/messenger/idl")
        .server(false)
        .compile(&["../../examples/messenger/idl"])
}
