//! The transactional outbox: "committed ⇔ published".
//!
//! An event emitted with a context that is in a transaction ([`super::Db::transaction`]) is
//! not sent: it is written to the table `svcc_outbox` by that same transaction. A rolled-back
//! transaction therefore publishes nothing, and a committed one has its events in the table
//! even if the process dies right after the commit. The [`Relay`] — one per process, woken
//! after each commit that wrote to the outbox and every second otherwise — publishes the rows
//! in the order they were written and marks each sent once the bus acknowledged it (Kafka:
//! the broker). A failure stops the batch (later rows wait, so the order per key holds) and
//! is retried with backoff, across broker outages and restarts: delivery is at least once.
//! Instances sharing a database take turns (an advisory lock), so the order holds there too.

use super::{Db, Tx, error};
use crate::events::{Bus, Record};
use crate::{Context, Error};
use std::time::Duration;

/// The outbox table (created by [`Db::migrate`] and by the relay when it starts).
pub const TABLE: &str = "CREATE TABLE IF NOT EXISTS svcc_outbox (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    key text,
    payload bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX IF NOT EXISTS svcc_outbox_unsent ON svcc_outbox (id) WHERE sent_at IS NULL";

/// Writes `record` to the outbox in the transaction `tx`.
pub(crate) async fn write(tx: &Tx, record: &Record) -> Result<(), Error> {
    let headers = serde_json::to_value(&record.headers)
        .map_err(|e| Error::internal(format!("cannot encode the headers: {e}")))?;
    let topic: &str = &record.topic;
    tx.execute(
        "INSERT INTO svcc_outbox (topic, key, payload, headers) VALUES ($1, $2, $3, $4)",
        &[&topic, &record.key, &record.payload, &headers],
    )
    .await?;
    tx.mark_outbox();
    Ok(())
}

/// Publishes the outbox's rows (see the module's documentation).
#[derive(Clone)]
pub struct Relay {
    db: Db,
    bus: Bus,
    /// Rows per batch.
    pub batch: i64,
    /// The wait between polls when nothing woke the relay.
    pub poll: Duration,
    /// How long sent rows are kept (then deleted, the next time the relay publishes).
    pub keep_sent: Duration,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Relay {
    pub fn new(db: &Db, bus: Bus) -> Relay {
        Relay {
            db: db.clone(),
            bus,
            batch: 100,
            poll: Duration::from_secs(1),
            keep_sent: Duration::from_secs(3600),
        }
    }

    /// Publishes until `stop` completes (then finishes the batch in hand).
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut backoff = Duration::from_millis(100);
        if let Err(e) = ensure_table(&self.db).await {
            tracing::warn!(target: "svcc::events", error = %e.message, "outbox relay: cannot create svcc_outbox yet");
        }
        loop {
            let wait = match self.publish_batch().await {
                // A full batch: there may be more at once.
                Ok(n) if n as i64 >= self.batch => Duration::ZERO,
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    self.poll
                }
                Err(e) => {
                    tracing::warn!(target: "svcc::events", error = %e.message, retry_in_ms = backoff.as_millis() as u64, "outbox relay: publishing stopped; retrying");
                    let w = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    w
                }
            };
            tokio::select! {
                () = &mut stop => break,
                () = self.db.outbox_written.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!(target: "svcc::events", "outbox relay stopped");
    }

    /// Publishes one batch of unsent rows, in order, stopping at the first failure; returns
    /// how many were published.
    pub async fn publish_batch(&self) -> Result<usize, Error> {
        let ctx = Context::new();
        self.db
            .transaction(&ctx, async |ctx| {
                // One relay at a time per database, or the order per key could break.
                let turn = self
                    .db
                    .query(&ctx, "SELECT pg_try_advisory_xact_lock(7234002)", &[])
                    .await?;
                if !turn.first().is_some_and(|r| r.get::<_, bool>(0)) {
                    return Ok(0);
                }
                let rows = self
                    .db
                    .query(
                        &ctx,
                        "SELECT id, topic, key, payload, headers FROM svcc_outbox
                         WHERE sent_at IS NULL ORDER BY id LIMIT $1",
                        &[&self.batch],
                    )
                    .await?;
                let mut sent = 0;
                let mut failure = None;
                for row in &rows {
                    let id: i64 = row.get(0);
                    let headers: serde_json::Value = row.get(4);
                    let record = Record {
                        topic: row.get::<_, String>(1).into(),
                        key: row.get(2),
                        payload: row.get(3),
                        headers: serde_json::from_value(headers).unwrap_or_default(),
                    };
                    match self.bus.publish(record).await {
                        Ok(()) => {
                            self.db
                                .execute(
                                    &ctx,
                                    "UPDATE svcc_outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = $1",
                                    &[&id],
                                )
                                .await?;
                            sent += 1;
                        }
                        Err(e) => {
                            self.db
                                .execute(
                                    &ctx,
                                    "UPDATE svcc_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                                    &[&id, &e.message],
                                )
                                .await?;
                            failure = Some(e);
                            break;
                        }
                    }
                }
                if sent > 0 {
                    tracing::debug!(target: "svcc::events", sent, "outbox relay: published");
                    // Sent rows only pile up while rows are sent: clean up then, not every poll
                    // (the scan is of the sent rows, which the partial index leaves out).
                    let keep = self.keep_sent.as_secs_f64();
                    self.db
                        .execute(
                            &ctx,
                            "DELETE FROM svcc_outbox WHERE sent_at < now() - make_interval(secs => $1)",
                            &[&keep],
                        )
                        .await?;
                }
                match failure {
                    // The rows published so far stay marked (this transaction commits).
                    Some(e) if sent == 0 => Err::<usize, Error>(e),
                    Some(e) => {
                        tracing::warn!(target: "svcc::events", error = %e.message, "outbox relay: stopped after {sent} records");
                        Ok(sent)
                    }
                    None => Ok(sent),
                }
            })
            .await
    }

    /// Rows not yet published.
    pub async fn pending(&self) -> Result<i64, Error> {
        let row = self
            .db
            .query(
                &Context::new(),
                "SELECT count(*) FROM svcc_outbox WHERE sent_at IS NULL",
                &[],
            )
            .await?;
        Ok(row.first().map_or(0, |r| r.get(0)))
    }
}

/// Creates the outbox table when it is missing.
pub async fn ensure_table(db: &Db) -> Result<(), Error> {
    let c = db.pool.get().await.map_err(|e| super::pool_error(&e))?;
    c.batch_execute(TABLE).await.map_err(|e| error(&e))
}
