//! Generated code for the test contracts. That this crate compiles is the test of the
//! naming obstacle course; `tests/` exercises the generated servers.

/// Everything generated from `contracts/`.
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/svc.rs"));
}

/// A method publishes exactly the events its `emits` lists. `cancel` declares
/// `OrderCancelled` and `Noted`, so its handler can emit a `Noted`:
///
/// ```
/// use svcc_codegen_tests::api::test::events::v1 as ev;
/// async fn handler(ctx: ev::orders::CancelContext) -> Result<(), svcc_runtime::Error> {
///     ctx.emit_noted(&ev::Noted { author: None, text: "hi".into() }).await
/// }
/// ```
///
/// `place` declares only `OrderPlaced`: the same call does not compile there.
///
/// ```compile_fail,E0599
/// use svcc_codegen_tests::api::test::events::v1 as ev;
/// async fn handler(ctx: ev::orders::PlaceContext) -> Result<(), svcc_runtime::Error> {
///     ctx.emit_noted(&ev::Noted { author: None, text: "hi".into() }).await
/// }
/// ```
pub mod emits {}

use api::spec::v1 as spec;
use svcc_runtime::Context;
use svcc_runtime::serde_json::{Value, json};

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

use api::behaviour::v1 as behaviour;

/// Sleeps and records, for the runtime's timing and ordering guarantees.
#[derive(Debug, Clone, Default)]
pub struct TimingImpl {
    pub log: std::sync::Arc<std::sync::Mutex<Vec<i32>>>,
}

impl behaviour::Timing for TimingImpl {
    async fn slow(&self, _ctx: Context, millis: i32) -> Result<(), behaviour::timing::SlowError> {
        let ms = u64::try_from(millis).unwrap_or(0);
        svcc_runtime::tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        Ok(())
    }

    async fn record(
        &self,
        _ctx: Context,
        n: i32,
    ) -> Result<Vec<i32>, behaviour::timing::RecordError> {
        // Yield between reading and writing so concurrent calls would interleave.
        svcc_runtime::tokio::task::yield_now().await;
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.push(n);
        Ok(log.clone())
    }

    async fn problem(&self, _ctx: Context) -> Result<String, behaviour::timing::ProblemError> {
        Ok("see the type".to_string())
    }

    /// Breaks the contract when asked for more than three.
    async fn names(
        &self,
        _ctx: Context,
        n: i32,
    ) -> Result<behaviour::timing::NamesResponse, behaviour::timing::NamesError> {
        Ok(behaviour::timing::NamesResponse {
            names: (0..n).map(|i| format!("name {i}")).collect(),
        })
    }
}

use api::observed::v1 as observed;

/// The benchmark's sum with `@log @metrics` on.
#[derive(Debug, Clone, Default)]
pub struct ObservedImpl;

impl observed::Observed for ObservedImpl {
    async fn sum(
        &self,
        _ctx: Context,
        a: i32,
        b: i32,
        c: i32,
    ) -> Result<i32, observed::observed::SumError> {
        Ok(a.wrapping_add(b).wrapping_add(c))
    }
}

use api::wire::v1 as wire;

/// The wire test's service: returns what it is given.
#[derive(Debug, Clone, Default)]
pub struct EchoImpl;

impl EchoImpl {
    /// A value with every field at its zero, empty or absent.
    #[allow(clippy::unwrap_used)] // constant texts that parse
    #[must_use]
    pub fn empty() -> wire::Everything {
        wire::Everything {
            flag: false,
            small: 0,
            big: 0,
            count: 0,
            huge: 0,
            ratio: 0.0,
            precise: 0.0,
            text: String::new(),
            raw: svcc_runtime::Bytes(Vec::new()),
            id: svcc_runtime::Uuid::nil(),
            day: "2000-01-01".parse().unwrap(),
            price: "0".parse().unwrap(),
            at: "1970-01-01T00:00:00Z".parse().unwrap(),
            after: "0s".parse().unwrap(),
            extra: svcc_runtime::serde_json::Value::Null,
            colour: wire::Colour::Blue,
            shape: wire::Shape::Label(String::new()),
            point: wire::Point { x: 0, y: 0 },
            maybe_text: None,
            maybe_number: None,
            maybe_point: None,
            maybe_colour: None,
            names: vec![],
            numbers: vec![],
            colours: vec![],
            points: vec![],
            grid: vec![],
            labels: Default::default(),
            by_number: Default::default(),
            by_colour: Default::default(),
            groups: Default::default(),
            maybe_list: None,
            renamed: String::new(),
            shapes: vec![],
            stamps: vec![],
        }
    }
}

impl wire::Echo for EchoImpl {
    async fn echo(
        &self,
        _ctx: Context,
        value: wire::Everything,
    ) -> Result<wire::Everything, wire::echo::EchoError> {
        Ok(value)
    }

    async fn numbers(
        &self,
        _ctx: Context,
        count: i32,
        tag: Option<String>,
        scale: Option<i32>,
    ) -> Result<Vec<i64>, wire::echo::NumbersError> {
        let scale = i64::from(scale.unwrap_or(1));
        let offset = tag.map_or(0, |t| t.len() as i64);
        Ok((0..i64::from(count)).map(|n| n * scale + offset).collect())
    }

    async fn refuse(&self, _ctx: Context, reason: String) -> Result<(), wire::echo::RefuseError> {
        Err(wire::echo::RefuseError::Refused(wire::Refused {
            reason,
            colour: wire::Colour::Green,
        }))
    }

    async fn slow(&self, _ctx: Context, millis: i32) -> Result<(), wire::echo::SlowError> {
        let millis = u64::try_from(millis).unwrap_or(0);
        svcc_runtime::tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
        Ok(())
    }

    async fn checked(
        &self,
        _ctx: Context,
        name: String,
        count: i32,
    ) -> Result<wire::echo::CheckedResponse, wire::echo::CheckedError> {
        Ok(wire::echo::CheckedResponse { name, count })
    }

    async fn say(
        &self,
        _ctx: Context,
        text: String,
        n: i32,
    ) -> Result<wire::echo::SayResponse, wire::echo::SayError> {
        Ok(wire::echo::SayResponse { text, n })
    }

    async fn nothing(&self, _ctx: Context) -> Result<(), wire::echo::NothingError> {
        Ok(())
    }
}

/// The wire test's observed service.
#[derive(Debug, Clone, Default)]
pub struct ObservedEchoImpl;

impl wire::Observed for ObservedEchoImpl {
    async fn greet(
        &self,
        _ctx: Context,
        name: String,
        secret: String,
    ) -> Result<wire::observed::GreetResponse, wire::observed::GreetError> {
        if secret.is_empty() {
            return Err(wire::observed::GreetError::Other(
                svcc_runtime::Error::unauthenticated("no secret"),
            ));
        }
        Ok(wire::observed::GreetResponse {
            greeting: format!("hello, {name}"),
        })
    }
}

/// Everything a `tracing` subscriber writes (`fmt().with_writer(move || captured.clone())`),
/// for tests that read the log.
#[derive(Clone, Default, Debug)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// What was written so far.
    #[must_use]
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
