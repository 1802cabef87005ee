//! Events: the contract's `event` declarations on a topic.
//!
//! Generated code implements [`Event`] for each declared event, gives each method that
//! `emits` events an emitter with one method per event (publishing an event the method does
//! not declare does not compile), and a handler trait per topic whose
//! [`Subscription`] a consumer runs.
//!
//! Where records go is a [`Bus`]: the in-process [`MemoryLog`] by default (no external
//! service; in-process subscribers see every record), or Kafka with the `kafka` feature
//! ([`kafka::KafkaPublisher`], consumer groups in [`kafka::KafkaConsumer`]).
//!
//! On the wire a record carries its payload (the event's protobuf message by default,
//! svcc's JSON with `@topic(format = json)`), the `@key` field's text as the message key,
//! and headers: `svcc-event` (the event's full name), `content-type`, `x-request-id` and the
//! W3C `traceparent` of the call that published it, so a consumer continues its trace.

#[cfg(feature = "kafka")]
pub mod kafka;
mod memory;

pub use memory::MemoryLog;

use crate::{Context, Error, Validate};
use futures_util::future::BoxFuture;
use std::borrow::Cow;
use std::sync::Arc;

/// How an event's payload is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The event's message of the `.proto` target.
    Protobuf,
    /// svcc's JSON.
    Json,
}

impl Format {
    /// The `content-type` header of a record in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => "application/x-protobuf",
            Format::Json => "application/json",
        }
    }
}

/// A declared event (implemented by generated code).
pub trait Event:
    serde::Serialize + serde::de::DeserializeOwned + Validate + Send + Sync + 'static
{
    /// The topic (`@topic`).
    const TOPIC: &'static str;
    /// The full name (`package.Event`): the protobuf message and the `svcc-event` header.
    const NAME: &'static str;
    /// The payload's encoding.
    const FORMAT: Format;
    /// The contract's descriptor, which encodes protobuf payloads.
    fn descriptor() -> &'static crate::grpc::Descriptor;
    /// The message key: the `@key` field's text (`None`: no `@key`, or the field is absent).
    fn key(&self) -> Option<String>;
}

/// The header naming the event a record carries.
pub const EVENT_HEADER: &str = "svcc-event";

/// One message on a topic, as the bus carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub topic: Cow<'static, str>,
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Record {
    /// Encodes `event` for publishing from the call `ctx` (its request id and trace travel
    /// in the headers). The event is validated first: a record that breaks its contract is
    /// never published.
    pub fn encode<E: Event>(ctx: &Context, event: &E) -> Result<Record, Error> {
        event.validate().map_err(|v| {
            Error::internal(format!(
                "event `{}` breaks its contract: {}",
                E::NAME,
                v.iter()
                    .map(|x| format!("{}: {}", x.path, x.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let payload = match E::FORMAT {
            Format::Json => serde_json::to_vec(event)
                .map_err(|e| Error::internal(format!("cannot encode `{}`: {e}", E::NAME)))?,
            Format::Protobuf => {
                let value = serde_json::to_value(event)
                    .map_err(|e| Error::internal(format!("cannot encode `{}`: {e}", E::NAME)))?;
                let schema = E::descriptor().schema()?;
                crate::grpc::transcode::from_json(schema, E::NAME, &value)
                    .map_err(|e| Error::internal(format!("cannot encode `{}`: {e}", E::NAME)))?
            }
        };
        let mut headers = vec![
            (EVENT_HEADER.to_string(), E::NAME.to_string()),
            (
                "content-type".to_string(),
                E::FORMAT.content_type().to_string(),
            ),
        ];
        if !ctx.request_id.is_empty() {
            headers.push(("x-request-id".to_string(), ctx.request_id.to_string()));
        }
        if let Some(t) = &ctx.trace {
            headers.push(("traceparent".to_string(), t.traceparent()));
        }
        Ok(Record {
            topic: Cow::Borrowed(E::TOPIC),
            key: event.key(),
            payload,
            headers,
        })
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The event this record carries (`svcc-event`).
    pub fn event_name(&self) -> Option<&str> {
        self.header(EVENT_HEADER)
    }

    /// Decodes the payload as `E` (in the record's `content-type`, protobuf when absent) and
    /// validates it. An error says why; it never panics on hostile bytes.
    pub fn decode<E: Event>(&self) -> Result<E, Error> {
        let json = self.header("content-type") == Some(Format::Json.content_type());
        let event: E = if json {
            serde_json::from_slice(&self.payload).map_err(|e| {
                Error::invalid_argument(format!("undecodable `{}` payload: {e}", E::NAME))
            })?
        } else {
            let schema = E::descriptor().schema()?;
            let value =
                crate::grpc::transcode::to_json(schema, E::NAME, &self.payload).map_err(|e| {
                    Error::invalid_argument(format!("undecodable `{}` payload: {e}", E::NAME))
                })?;
            serde_json::from_value(value).map_err(|e| {
                Error::invalid_argument(format!("undecodable `{}` payload: {e}", E::NAME))
            })?
        };
        event.validate().map_err(Error::validation)?;
        Ok(event)
    }

    /// The context a consumer's handler receives: the publishing call's request id and trace
    /// (the handler continues it).
    pub fn context(&self) -> Context {
        let mut ctx = Context::new();
        if let Some(id) = self.header("x-request-id") {
            ctx.request_id = id.into();
        }
        ctx.trace = self
            .header("traceparent")
            .and_then(crate::telemetry::SpanContext::from_traceparent);
        ctx
    }
}

/// Where published records go.
pub trait Publish: Send + Sync + 'static {
    /// Publishes one record; `Ok` once the destination holds it (for Kafka: acknowledged by
    /// the broker).
    fn publish(&self, record: Record) -> BoxFuture<'_, Result<(), Error>>;
}

/// A shared publisher.
pub type Bus = Arc<dyn Publish>;

/// What a generated emitter holds: the bus its events go to.
#[derive(Clone)]
pub struct Emitter {
    bus: Bus,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter").finish_non_exhaustive()
    }
}

impl Emitter {
    pub fn new(bus: Bus) -> Emitter {
        Emitter { bus }
    }

    /// Encodes `event` and publishes it — or, when `ctx` is in a database transaction,
    /// writes it to the transaction's outbox, published after the commit
    /// ([`crate::db::outbox`]).
    pub async fn emit<E: Event>(&self, ctx: &Context, event: &E) -> Result<(), Error> {
        let record = Record::encode(ctx, event)?;
        #[cfg(feature = "postgres")]
        if let Some(tx) = &ctx.tx {
            return crate::db::outbox::write(tx, &record).await;
        }
        self.bus.publish(record).await
    }
}

/// The slot a generated service's emitters read the bus from; the server fills it when it
/// starts (with [`crate::Server::events`], or a [`MemoryLog`] by default).
#[derive(Clone, Debug, Default)]
pub struct BusSlot(Arc<std::sync::OnceLock<Emitter>>);

impl BusSlot {
    /// The emitter (a [`MemoryLog`] of its own when nothing was set).
    pub fn emitter(&self) -> &Emitter {
        self.0
            .get_or_init(|| Emitter::new(Arc::new(MemoryLog::default())))
    }

    /// Sets the bus unless one is set already; `false` when it was.
    pub fn set(&self, bus: Bus) -> bool {
        self.0.set(Emitter::new(bus)).is_ok()
    }
}

/// A handler of one topic's records (generated per topic from its handler trait).
pub type Handle = Arc<dyn Fn(Record) -> BoxFuture<'static, Result<(), Error>> + Send + Sync>;

/// A topic and the handler of its records, for a consumer to run.
#[derive(Clone)]
pub struct Subscription {
    pub topic: &'static str,
    pub handle: Handle,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// A counted outcome of records: sent by a publisher or handled by a consumer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count {
    /// `sent` or `consumed`.
    pub direction: &'static str,
    /// `kafka` or `memory`.
    pub system: &'static str,
    pub topic: String,
    /// The consumer group (empty for `sent`).
    pub group: String,
    /// `ok`, `error` (not sent), `dead_lettered`, `skipped` (failed, no dead-letter topic).
    pub outcome: &'static str,
}

static COUNTS: std::sync::Mutex<std::collections::BTreeMap<Count, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

pub(crate) fn count(
    direction: &'static str,
    system: &'static str,
    topic: &str,
    group: &str,
    outcome: &'static str,
) {
    let key = Count {
        direction,
        system,
        topic: topic.to_string(),
        group: group.to_string(),
        outcome,
    };
    *COUNTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key)
        .or_insert(0) += 1;
}

/// The upper bounds of the duration histograms (seconds; OpenTelemetry's defaults for
/// messaging), then +Inf.
pub const DURATION_BUCKETS: [f64; 15] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    f64::INFINITY,
];

/// A duration histogram: the sum, the count, and per-bucket counts.
#[derive(Clone, Debug, Default)]
pub struct Durations {
    pub sum: f64,
    pub count: u64,
    pub buckets: [u64; 15],
}

/// Publish (`sent`) and handling (`consumed`) durations by direction, system, topic and group.
type DurationKey = (&'static str, &'static str, String, String);

static DURATIONS: std::sync::Mutex<std::collections::BTreeMap<DurationKey, Durations>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

pub(crate) fn time(
    direction: &'static str,
    system: &'static str,
    topic: &str,
    group: &str,
    took: std::time::Duration,
) {
    let secs = took.as_secs_f64();
    let mut all = DURATIONS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let d = all
        .entry((direction, system, topic.to_string(), group.to_string()))
        .or_default();
    d.sum += secs;
    d.count += 1;
    let i = DURATION_BUCKETS
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(DURATION_BUCKETS.len() - 1);
    d.buckets[i] += 1;
}

/// The duration histograms so far (exported as `messaging_client_operation_duration_seconds`
/// for publishing and `messaging_process_duration_seconds` for handling).
pub fn durations() -> Vec<(DurationKey, Durations)> {
    DURATIONS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The counts so far (the server's `/metrics` exports them as
/// `messaging_client_sent_messages_total` and `messaging_client_consumed_messages_total`).
pub fn counts() -> Vec<(Count, u64)> {
    COUNTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// What a generated topic handler does with a record of an event it does not know (another
/// producer's, or a newer contract's): logs it and counts it as handled, so it is not retried
/// or dead-lettered.
pub fn skip_unknown(record: &Record) {
    tracing::warn!(
        target: "svcc::events",
        topic = %record.topic,
        event = record.event_name().unwrap_or("(none)"),
        "record of an event this consumer does not know; skipped"
    );
}

/// The message key of an event: the `@key` field's text — a string as it is, other values as
/// their JSON (numbers in digits, enum values by name); `None` for an absent optional field.
pub fn key_text<T: serde::Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}
