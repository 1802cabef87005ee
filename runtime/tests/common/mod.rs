//! What the PostgreSQL and Kafka tests share: the database they use and a JSON test event.
#![allow(dead_code)] // each test file uses its part

use svcc_runtime::events::{Event, Format};
use svcc_runtime::{Validate, Validator};

/// The machine's PostgreSQL (`SVCC_TEST_DATABASE_URL`, default the `test` database).
pub fn database_url() -> String {
    std::env::var("SVCC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A JSON event on the topic `noted`, keyed by its `id`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Noted {
    pub id: String,
    pub seq: u32,
}

impl Validate for Noted {
    fn validate_into(&self, _: &mut Validator) {}
}

/// JSON events need no descriptor; the trait asks for one.
static NO_DESCRIPTOR: svcc_runtime::grpc::Descriptor =
    svcc_runtime::grpc::Descriptor::new("", &[], &[], &[]);

impl Event for Noted {
    const TOPIC: &'static str = "noted";
    const NAME: &'static str = "test.v1.Noted";
    const FORMAT: Format = Format::Json;
    fn descriptor() -> &'static svcc_runtime::grpc::Descriptor {
        &NO_DESCRIPTOR
    }
    fn key(&self) -> Option<String> {
        Some(self.id.clone())
    }
}
