//! Generated code for the test contracts. That this crate compiles is the test of the
//! naming obstacle course; `tests/` exercises the generated servers.

/// Everything generated from `contracts/`.
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/svc.rs"));
}

use api::spec::v1 as spec;
use svcc_runtime::__private::serde_json::{Value, json};
use svcc_runtime::Context;

/// The specification's example service.
#[derive(Debug, Clone, Default)]
pub struct SpecImpl {
    /// Calls of the notifications, for the tests to observe.
    pub notified: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl spec::Spec for SpecImpl {
    async fn subtract(
        &self,
        _ctx: Context,
        minuend: i32,
        subtrahend: i32,
    ) -> Result<i32, spec::spec::SubtractError> {
        Ok(minuend.wrapping_sub(subtrahend))
    }

    async fn update(
        &self,
        _ctx: Context,
        _a: i32,
        _b: i32,
        _c: i32,
        _d: i32,
        _e: i32,
    ) -> Result<(), spec::spec::UpdateError> {
        self.notified
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn notify_hello(
        &self,
        _ctx: Context,
        _value: i32,
    ) -> Result<(), spec::spec::NotifyHelloError> {
        self.notified
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn sum(
        &self,
        _ctx: Context,
        a: i32,
        b: i32,
        c: i32,
    ) -> Result<i32, spec::spec::SumError> {
        Ok(a.wrapping_add(b).wrapping_add(c))
    }

    async fn get_data(&self, _ctx: Context) -> Result<Vec<Value>, spec::spec::GetDataError> {
        Ok(vec![json!("hello"), json!(5)])
    }
}
