//! Kafka for the events (feature `kafka`, librdkafka): an idempotent publisher and a
//! consumer group that commits a record's offset only after its handler succeeded.
//!
//! The consumer handles the records of a partition in order. A handler that fails is retried
//! with exponential backoff; after the last attempt the record goes to the dead-letter topic
//! (`<topic>.dlq` by default, with headers saying where it came from and why) and its offset
//! is committed, so one poisonous record does not stop the partition. Stopping (the future
//! passed to [`KafkaConsumer::run`]) lets the record in hand finish, commits, and leaves the
//! group.
//!
//! Each record published and each record handled is a span (`publish {topic}` /
//! `process {topic}`, the OpenTelemetry messaging conventions) continuing the trace of the
//! call that published it, and a log line under `svcc::events`.

use super::{Publish, Record, Subscription};
use crate::Error;
use crate::telemetry::{Span, SpanKind};
use futures_util::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::{Header, Headers as _, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use std::collections::HashMap;
use std::time::Duration;

/// Where the brokers are and how the publisher and consumers behave.
#[derive(Clone, Debug)]
pub struct KafkaConfig {
    /// `host:port,host:port` (`KAFKA_BROKERS`).
    pub brokers: String,
    /// The consumer group (`KAFKA_GROUP_ID`; default: the service's name).
    pub group_id: String,
    /// How long a publish may wait for the broker's acknowledgement (librdkafka retries
    /// within it).
    pub publish_timeout: Duration,
    /// Handler attempts per record before it goes to the dead-letter topic.
    pub attempts: u32,
    /// The wait before the second attempt; doubled for each later one (at most 30 s).
    pub backoff: Duration,
    /// The dead-letter topic of a topic (`None`: failed records are logged and skipped).
    pub dead_letter: Option<fn(&str) -> String>,
    /// `session.timeout.ms` of the consumer group.
    pub session_timeout: Duration,
    /// Further librdkafka settings, applied last.
    pub extra: Vec<(String, String)>,
}

fn default_dead_letter(topic: &str) -> String {
    format!("{topic}.dlq")
}

impl KafkaConfig {
    pub fn new(brokers: impl Into<String>, group_id: impl Into<String>) -> KafkaConfig {
        KafkaConfig {
            brokers: brokers.into(),
            group_id: group_id.into(),
            publish_timeout: Duration::from_secs(30),
            attempts: 5,
            backoff: Duration::from_millis(200),
            dead_letter: Some(default_dead_letter),
            session_timeout: Duration::from_secs(10),
            extra: Vec::new(),
        }
    }

    /// From `KAFKA_BROKERS` (and `KAFKA_GROUP_ID`, default `group`): `None` when no brokers
    /// are set.
    pub fn from_env(group: &str) -> Option<KafkaConfig> {
        let brokers = std::env::var("KAFKA_BROKERS").ok()?;
        if brokers.trim().is_empty() {
            return None;
        }
        let group = std::env::var("KAFKA_GROUP_ID").unwrap_or_else(|_| group.to_string());
        Some(KafkaConfig::new(brokers.trim(), group))
    }

    /// Sets a librdkafka property.
    pub fn set(mut self, key: &str, value: &str) -> KafkaConfig {
        self.extra.push((key.to_string(), value.to_string()));
        self
    }

    fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        c
    }

    fn apply_extra(&self, c: &mut ClientConfig) {
        for (k, v) in &self.extra {
            c.set(k, v);
        }
    }
}

/// Publishes records to Kafka: idempotent (no duplicates from the producer's own retries),
/// acknowledged by all in-sync replicas, ordered per key.
///
/// A record the broker did not take in `publish_timeout` is an error; the producer is then
/// replaced by a new one (what it still held is purged, so nothing it sends later can
/// overtake a retry), because an idempotent producer whose records timed out may stay stuck
/// on sequence numbers a restarted broker no longer knows.
#[derive(Clone)]
pub struct KafkaPublisher {
    producer: std::sync::Arc<std::sync::RwLock<FutureProducer>>,
    client: ClientConfig,
    timeout: Duration,
}

impl std::fmt::Debug for KafkaPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaPublisher").finish_non_exhaustive()
    }
}

impl KafkaPublisher {
    pub fn new(config: &KafkaConfig) -> Result<KafkaPublisher, Error> {
        let mut c = config.client();
        c.set("enable.idempotence", "true")
            .set("acks", "all")
            .set(
                "message.timeout.ms",
                config.publish_timeout.as_millis().to_string(),
            )
            .set("retry.backoff.ms", "100");
        config.apply_extra(&mut c);
        let producer: FutureProducer = c
            .create()
            .map_err(|e| Error::unavailable(format!("cannot create the Kafka producer: {e}")))?;
        Ok(KafkaPublisher {
            producer: std::sync::Arc::new(std::sync::RwLock::new(producer)),
            client: c,
            timeout: config.publish_timeout,
        })
    }

    fn producer(&self) -> FutureProducer {
        self.producer
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the producer after a failure (see the type's documentation).
    fn renew(&self, failed: &FutureProducer) {
        let mut p = self
            .producer
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another caller may have renewed it already.
        if !std::ptr::eq(p.client().native_ptr(), failed.client().native_ptr()) {
            return;
        }
        match self.client.create::<FutureProducer>() {
            Ok(new) => {
                *p = new;
                tracing::info!(target: "svcc::events", "Kafka producer renewed after a failure");
            }
            Err(e) => {
                tracing::warn!(target: "svcc::events", error = %e, "cannot renew the Kafka producer");
            }
        }
    }

    /// Publishes a record to `topic` as it is (the dead-letter path uses it too).
    async fn send(&self, topic: &str, record: &Record) -> Result<(i32, i64), Error> {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (k, v) in &record.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_bytes()),
            });
        }
        let mut r: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic)
            .payload(record.payload.as_slice())
            .headers(headers);
        if let Some(k) = &record.key {
            r = r.key(k.as_str());
        }
        let producer = self.producer();
        let sent = producer.send(r, self.timeout).await;
        match sent {
            Ok(d) => Ok((d.partition, d.offset)),
            Err((e, _)) => {
                self.renew(&producer);
                drop(producer);
                Err(Error::unavailable(format!(
                    "Kafka did not take the record for `{topic}`: {e}"
                )))
            }
        }
    }
}

impl Publish for KafkaPublisher {
    fn publish(&self, record: Record) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let parent = record
                .header("traceparent")
                .and_then(crate::telemetry::SpanContext::from_traceparent);
            let mut span = Span::start(
                &format!("publish {}", record.topic),
                SpanKind::Producer,
                parent.as_ref(),
            );
            let mut record = record;
            // The consumer continues the publish span, not the call that made it.
            if let Some(h) = record.headers.iter_mut().find(|(k, _)| k == "traceparent") {
                h.1 = span.context().traceparent();
            } else if span.context().sampled {
                record
                    .headers
                    .push(("traceparent".to_string(), span.context().traceparent()));
            }
            messaging_attributes(&mut span, &record, "publish");
            let topic = record.topic.clone();
            let started = std::time::Instant::now();
            let sent = self.send(&topic, &record).await;
            super::time("sent", "kafka", &topic, "", started.elapsed());
            match sent {
                Ok((partition, offset)) => {
                    span.set_attribute("messaging.destination.partition.id", partition.to_string());
                    span.set_attribute("messaging.kafka.offset", offset);
                    tracing::debug!(target: "svcc::events", topic = %topic, partition, offset, event = record.event_name().unwrap_or(""), "event published");
                    super::count("sent", "kafka", &topic, "", "ok");
                    Ok(())
                }
                Err(e) => {
                    span.set_error(e.message.clone());
                    tracing::warn!(target: "svcc::events", topic = %topic, error = %e.message, "event not published");
                    super::count("sent", "kafka", &topic, "", "error");
                    Err(e)
                }
            }
        })
    }
}

fn messaging_attributes(span: &mut Span, record: &Record, operation: &str) {
    if !span.is_recording() {
        return;
    }
    span.set_str("messaging.system", "kafka");
    span.set_str("messaging.operation.type", operation);
    span.set_str("messaging.destination.name", &record.topic);
    if let Some(k) = &record.key {
        span.set_str("messaging.kafka.message.key", k);
    }
    if let Some(e) = record.event_name() {
        span.set_str("messaging.message.type", e);
    }
    span.set_attribute(
        "messaging.message.body.size",
        i64::try_from(record.payload.len()).unwrap_or(i64::MAX),
    );
}

/// A consumer group member running the handlers of its subscriptions.
pub struct KafkaConsumer {
    config: KafkaConfig,
    consumer: StreamConsumer,
    handlers: HashMap<&'static str, Subscription>,
    dead_letters: Option<KafkaPublisher>,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer")
            .field("group", &self.config.group_id)
            .field("topics", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KafkaConsumer {
    /// A member of `config.group_id` for the topics of `subscriptions` (one per topic).
    pub fn new(
        config: &KafkaConfig,
        subscriptions: impl IntoIterator<Item = Subscription>,
    ) -> Result<KafkaConsumer, Error> {
        let mut c = config.client();
        let session = config.session_timeout.as_millis().max(1000);
        c.set("group.id", &config.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", session.to_string())
            .set("heartbeat.interval.ms", (session / 4).max(100).to_string());
        config.apply_extra(&mut c);
        let consumer: StreamConsumer = c
            .create()
            .map_err(|e| Error::unavailable(format!("cannot create the Kafka consumer: {e}")))?;
        let handlers: HashMap<&'static str, Subscription> =
            subscriptions.into_iter().map(|s| (s.topic, s)).collect();
        let topics: Vec<&str> = handlers.keys().copied().collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| Error::unavailable(format!("cannot subscribe to {topics:?}: {e}")))?;
        let dead_letters = match config.dead_letter {
            Some(_) => Some(KafkaPublisher::new(config)?),
            None => None,
        };
        Ok(KafkaConsumer {
            config: config.clone(),
            consumer,
            handlers,
            dead_letters,
        })
    }

    /// Handles records until `stop` completes; then finishes the record in hand, commits,
    /// and leaves the group.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) -> Result<(), Error> {
        let mut stop = std::pin::pin!(stop);
        tracing::info!(target: "svcc::events", group = %self.config.group_id, topics = ?self.handlers.keys().collect::<Vec<_>>(), "consumer started");
        loop {
            let message = tokio::select! {
                () = &mut stop => break,
                m = self.consumer.recv() => m,
            };
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(target: "svcc::events", error = %e, "Kafka consumer error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            let record = record_of(&message);
            let (partition, offset) = (message.partition(), message.offset());
            self.handle(record, partition, offset).await;
            if let Err(e) = self.consumer.commit_message(&message, CommitMode::Sync) {
                tracing::warn!(target: "svcc::events", topic = message.topic(), partition, offset, error = %e, "offset not committed; the record may be handled again");
            }
        }
        self.consumer.unsubscribe();
        tracing::info!(target: "svcc::events", group = %self.config.group_id, "consumer stopped");
        Ok(())
    }

    /// Runs the topic's handler with retries; a record that fails every attempt goes to the
    /// dead-letter topic. Returns when the record's offset may be committed.
    async fn handle(&self, record: Record, partition: i32, offset: i64) {
        let Some(sub) = self.handlers.get(record.topic.as_ref()) else {
            return;
        };
        let mut delay = self.config.backoff;
        let mut last = String::new();
        for attempt in 1..=self.config.attempts.max(1) {
            let parent = record
                .header("traceparent")
                .and_then(crate::telemetry::SpanContext::from_traceparent);
            let mut span = Span::start(
                &format!("process {}", record.topic),
                SpanKind::Consumer,
                parent.as_ref(),
            );
            messaging_attributes(&mut span, &record, "process");
            if span.is_recording() {
                span.set_str("messaging.consumer.group.name", &self.config.group_id);
                span.set_attribute("messaging.kafka.offset", offset);
                span.set_attribute("messaging.destination.partition.id", partition.to_string());
                span.set_attribute("messaging.kafka.attempt", i64::from(attempt));
            }
            let mut with_span = record.clone();
            set_header(&mut with_span, "traceparent", span.context().traceparent());
            let started = std::time::Instant::now();
            let handled = (sub.handle)(with_span).await;
            super::time(
                "consumed",
                "kafka",
                &record.topic,
                &self.config.group_id,
                started.elapsed(),
            );
            match handled {
                Ok(()) => {
                    tracing::info!(target: "svcc::events", topic = %record.topic, partition, offset, event = record.event_name().unwrap_or(""), attempt, "event handled");
                    super::count(
                        "consumed",
                        "kafka",
                        &record.topic,
                        &self.config.group_id,
                        "ok",
                    );
                    return;
                }
                Err(e) => {
                    span.set_error(e.message.clone());
                    tracing::warn!(target: "svcc::events", topic = %record.topic, partition, offset, attempt, error = %e.message, "event handler failed");
                    last = e.message;
                }
            }
            drop(span);
            if attempt < self.config.attempts {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
        let Some((dlq, to)) = self
            .dead_letters
            .as_ref()
            .zip(self.config.dead_letter.map(|f| f(&record.topic)))
        else {
            tracing::error!(target: "svcc::events", topic = %record.topic, partition, offset, error = %last, "event handler failed every attempt; record skipped");
            super::count(
                "consumed",
                "kafka",
                &record.topic,
                &self.config.group_id,
                "skipped",
            );
            return;
        };
        let mut dead = record.clone();
        dead.headers
            .push(("svcc-dlq-topic".into(), record.topic.to_string()));
        dead.headers
            .push(("svcc-dlq-partition".into(), partition.to_string()));
        dead.headers
            .push(("svcc-dlq-offset".into(), offset.to_string()));
        dead.headers.push(("svcc-dlq-error".into(), last.clone()));
        // Until the dead-letter topic has it, the record is not committed: keep trying.
        let mut wait = self.config.backoff;
        loop {
            match dlq.send(&to, &dead).await {
                Ok(_) => {
                    tracing::error!(target: "svcc::events", topic = %record.topic, partition, offset, dead_letter = %to, error = %last, "event handler failed every attempt; record sent to the dead-letter topic");
                    super::count(
                        "consumed",
                        "kafka",
                        &record.topic,
                        &self.config.group_id,
                        "dead_lettered",
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(target: "svcc::events", dead_letter = %to, error = %e.message, "dead-letter topic unavailable; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
        }
    }
}

fn set_header(record: &mut Record, name: &str, value: String) {
    if let Some(h) = record.headers.iter_mut().find(|(k, _)| k == name) {
        h.1 = value;
    } else {
        record.headers.push((name.to_string(), value));
    }
}

fn record_of(m: &rdkafka::message::BorrowedMessage<'_>) -> Record {
    let mut headers = Vec::new();
    if let Some(hs) = m.headers() {
        for h in hs.iter() {
            if let Some(v) = h.value {
                headers.push((h.key.to_string(), String::from_utf8_lossy(v).into_owned()));
            }
        }
    }
    Record {
        topic: m.topic().to_string().into(),
        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        headers,
    }
}
