//! The in-process event log: the default bus when no broker is configured.

use super::{Publish, Record, Subscription};
use crate::Error;
use futures_util::future::BoxFuture;
use std::sync::{Arc, Mutex, PoisonError};

/// How many records the log keeps; older ones are dropped (and counted).
const KEEP: usize = 10_000;
/// Attempts of an in-process handler before the record is set aside as dead.
const ATTEMPTS: u32 = 3;

/// Records published in this process, kept in memory (the last 10,000), and handed to the
/// in-process subscribers of their topic — so an example runs its consumers with no broker.
///
/// A handler that fails is retried (three attempts in all, 100 ms apart); a record that still
/// fails is set aside ([`MemoryLog::dead`]) and logged, never lost silently. Nothing survives
/// the process: for that, use Kafka (and the outbox, for "committed ⇔ published").
#[derive(Clone, Default)]
pub struct MemoryLog {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    records: Mutex<std::collections::VecDeque<Record>>,
    dead: Mutex<Vec<(Record, String)>>,
    subscriptions: Mutex<Vec<Subscription>>,
    dropped: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for MemoryLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLog")
            .field(
                "records",
                &self
                    .inner
                    .records
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len(),
            )
            .finish_non_exhaustive()
    }
}

impl MemoryLog {
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// Hands every later record of `subscription.topic` to its handler.
    pub fn subscribe(&self, subscription: Subscription) -> &MemoryLog {
        self.inner
            .subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(subscription);
        self
    }

    /// The records kept, oldest first.
    pub fn records(&self) -> Vec<Record> {
        self.inner
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Records whose in-process handler failed every attempt, with the last error.
    pub fn dead(&self) -> Vec<(Record, String)> {
        self.inner
            .dead
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records dropped because the log was full.
    pub fn dropped(&self) -> u64 {
        self.inner
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Publish for MemoryLog {
    fn publish(&self, record: Record) -> BoxFuture<'_, Result<(), Error>> {
        {
            let mut records = self
                .inner
                .records
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if records.len() >= KEEP {
                records.pop_front();
                self.inner
                    .dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            records.push_back(record.clone());
        }
        let handlers: Vec<Subscription> = self
            .inner
            .subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|s| s.topic == record.topic)
            .cloned()
            .collect();
        tracing::debug!(target: "svcc::events", topic = %record.topic, event = record.event_name().unwrap_or(""), "event published in process");
        super::count("sent", "memory", &record.topic, "", "ok");
        for s in handlers {
            let record = record.clone();
            let inner = self.inner.clone();
            tokio::spawn(async move {
                let mut last = String::new();
                for attempt in 1..=ATTEMPTS {
                    let started = std::time::Instant::now();
                    let handled = (s.handle)(record.clone()).await;
                    super::time("consumed", "memory", &record.topic, "", started.elapsed());
                    match handled {
                        Ok(()) => {
                            super::count("consumed", "memory", &record.topic, "", "ok");
                            return;
                        }
                        Err(e) => {
                            last = e.message.clone();
                            if attempt < ATTEMPTS {
                                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            }
                        }
                    }
                }
                tracing::error!(target: "svcc::events", topic = %record.topic, error = %last, "event handler failed {ATTEMPTS} times; record set aside");
                super::count("consumed", "memory", &record.topic, "", "dead_lettered");
                inner
                    .dead
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((record, last));
            });
        }
        Box::pin(async { Ok(()) })
    }
}
