//! PostgreSQL (feature `postgres`): a pool, transactions that travel in the [`Context`],
//! prepared statements, query logs, migrations, and the transactional outbox of the events.
//!
//! ```no_run
//! # async fn f(db: svcc_runtime::db::Db, ctx: svcc_runtime::Context) -> Result<(), svcc_runtime::Error> {
//! db.transaction(&ctx, async |ctx| {
//!     db.execute(&ctx, "INSERT INTO users (id) VALUES ($1)", &[&"u1"]).await?;
//!     // Statements with `ctx` run in the transaction; so do events emitted with it (outbox).
//!     Ok::<_, svcc_runtime::Error>(())
//! })
//! .await
//! # }
//! ```
//!
//! A transaction commits when the closure returns `Ok` and rolls back when it returns `Err` or
//! panics (the panic then continues). A transaction started while `ctx` is already in one is
//! a savepoint of it: its `Err` undoes only its own statements. A transaction whose future is
//! dropped before it ends (a deadline, a client gone) never commits: its connection is taken
//! out of the pool and closed, and PostgreSQL rolls it back.
//!
//! Every statement is prepared once per connection and logged at `debug` under `svcc::sql`
//! with the statement on one line, its duration and the call's request and trace ids.

pub mod outbox;

use crate::{Context, Error};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Instant;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Db {
    pool: Arc<Pool>,
    /// Wakes the outbox relay after a commit that wrote to the outbox.
    pub(crate) outbox_written: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.pool.status();
        f.debug_struct("Db")
            .field("size", &s.size)
            .field("available", &s.available)
            .finish_non_exhaustive()
    }
}

static POOLS: std::sync::Mutex<Vec<std::sync::Weak<Pool>>> = std::sync::Mutex::new(Vec::new());

/// The live pools' status, summed: (connections open, idle, callers waiting, maximum) — the
/// server's `/metrics` exports them as `svcc_db_pool_*`.
pub fn pool_totals() -> Option<(u64, u64, u64, u64)> {
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pools.retain(|w| w.strong_count() > 0);
    if pools.is_empty() {
        return None;
    }
    let mut t = (0, 0, 0, 0);
    for p in pools.iter().filter_map(std::sync::Weak::upgrade) {
        let s = p.status();
        t.0 += s.size as u64;
        t.1 += s.available as u64;
        t.2 += s.waiting as u64;
        t.3 += s.max_size as u64;
    }
    Some(t)
}

/// A transaction in progress (in a [`Context`]; see [`Db::transaction`]).
#[derive(Clone)]
pub struct Tx(Arc<TxState>);

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

struct TxState {
    client: tokio::sync::Mutex<Option<Object>>,
    savepoints: AtomicU32,
    /// Set once COMMIT or ROLLBACK ran.
    done: AtomicBool,
    /// Whether the transaction wrote to the outbox (the relay is woken after the commit).
    pub(crate) wrote_outbox: AtomicBool,
}

impl Drop for TxState {
    fn drop(&mut self) {
        if !self.done.load(Ordering::Acquire)
            && let Some(client) = self.client.get_mut().take()
        {
            // Ended without COMMIT or ROLLBACK (the future was dropped): the connection is
            // closed instead of going back to the pool, so the server rolls it back.
            drop(Object::take(client));
            tracing::warn!(target: "svcc::sql", "transaction abandoned; its connection is closed and PostgreSQL rolls it back");
        }
    }
}

/// Postgres errors as the platform's: a connection problem is unavailable; unique and
/// foreign-key violations are failed preconditions with the constraint's name; the rest
/// internal. The statement's parameters never reach the message.
pub fn error(e: &tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let constraint = db.constraint().unwrap_or("");
        return match code {
            "23505" => Error::new(
                crate::Code::AlreadyExists,
                format!("unique constraint `{constraint}` violated"),
            ),
            "23503" | "23514" | "23502" => Error::new(
                crate::Code::FailedPrecondition,
                format!("constraint `{constraint}` violated ({code})"),
            ),
            "40001" | "40P01" => Error::new(
                crate::Code::Aborted,
                "the transaction conflicted with another; try again",
            ),
            _ => Error::internal(format!("database error {code}: {}", db.message())),
        };
    }
    if e.is_closed() {
        return Error::unavailable("the database connection is closed");
    }
    Error::unavailable(format!("database unavailable: {e}"))
}

fn pool_error(e: &deadpool_postgres::PoolError) -> Error {
    Error::unavailable(format!("no database connection: {e}"))
}

/// The statement on one line (whitespace runs collapsed), for the query log.
pub fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Db {
    /// A pool for `url` (`postgres://user@host:port/db`, or `host=… dbname=…`) of at most
    /// `max` connections. Connections are made on first use; [`Db::check`] makes one now.
    pub fn new(url: &str, max: usize) -> Result<Db, Error> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::invalid_argument(format!("DATABASE_URL is not valid: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the pool: {e}")))?;
        let pool = Arc::new(pool);
        POOLS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::downgrade(&pool));
        Ok(Db {
            pool,
            outbox_written: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// From `DATABASE_URL` (and `DATABASE_POOL_SIZE`, default 16); `None` when it is unset.
    pub fn from_env() -> Option<Result<Db, Error>> {
        let url = std::env::var("DATABASE_URL").ok()?;
        if url.trim().is_empty() {
            return None;
        }
        let size = match std::env::var("DATABASE_POOL_SIZE") {
            Ok(s) => match s.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Some(Err(Error::invalid_argument(format!(
                        "DATABASE_POOL_SIZE=`{s}` is not a positive number"
                    ))));
                }
            },
            Err(_) => 16,
        };
        Some(Db::new(url.trim(), size))
    }

    /// Makes (or reuses) a connection and runs `SELECT 1`.
    pub async fn check(&self) -> Result<(), Error> {
        let c = self.pool.get().await.map_err(|e| pool_error(&e))?;
        c.simple_query("SELECT 1").await.map_err(|e| error(&e))?;
        Ok(())
    }

    /// The pool's size, idle connections and waiting callers.
    pub fn status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    /// Runs `f` in a transaction carried by the context it receives: commit on `Ok`, rollback
    /// on `Err` or panic; a savepoint when `ctx` is already in a transaction.
    pub async fn transaction<T, E, F>(&self, ctx: &Context, f: F) -> Result<T, E>
    where
        F: AsyncFnOnce(Context) -> Result<T, E>,
        E: From<Error>,
    {
        use futures_util::FutureExt as _;
        if let Some(tx) = &ctx.tx {
            let n = tx.0.savepoints.fetch_add(1, Ordering::Relaxed) + 1;
            let name = format!("svcc_sp_{n}");
            tx.simple(&format!("SAVEPOINT {name}")).await?;
            let run = std::panic::AssertUnwindSafe(f(ctx.clone()))
                .catch_unwind()
                .await;
            return match run {
                Ok(Ok(v)) => {
                    tx.simple(&format!("RELEASE SAVEPOINT {name}")).await?;
                    Ok(v)
                }
                Ok(Err(e)) => {
                    tx.simple(&format!("ROLLBACK TO SAVEPOINT {name}")).await?;
                    Err(e)
                }
                Err(panic) => {
                    let _ = tx.simple(&format!("ROLLBACK TO SAVEPOINT {name}")).await;
                    std::panic::resume_unwind(panic)
                }
            };
        }
        let client = self.pool.get().await.map_err(|e| pool_error(&e))?;
        let tx = Tx(Arc::new(TxState {
            client: tokio::sync::Mutex::new(Some(client)),
            savepoints: AtomicU32::new(0),
            done: AtomicBool::new(false),
            wrote_outbox: AtomicBool::new(false),
        }));
        tx.simple("BEGIN").await?;
        let mut inner = ctx.clone();
        inner.tx = Some(tx.clone());
        let run = std::panic::AssertUnwindSafe(f(inner)).catch_unwind().await;
        let end = match &run {
            Ok(Ok(_)) => "COMMIT",
            _ => "ROLLBACK",
        };
        let ended = tx.simple(end).await;
        tx.0.done.store(true, Ordering::Release);
        match run {
            Ok(Ok(v)) => {
                ended?;
                if tx.0.wrote_outbox.load(Ordering::Relaxed) {
                    self.outbox_written.notify_one();
                }
                Ok(v)
            }
            Ok(Err(e)) => Err(e),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Runs a statement (prepared once per connection) in `ctx`'s transaction, or on a
    /// connection of its own; returns the rows.
    pub async fn query(
        &self,
        ctx: &Context,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        match self.run(ctx, sql, params, true).await? {
            Out::Rows(rows) => Ok(rows),
            Out::Count(_) => Ok(Vec::new()),
        }
    }

    /// [`Db::query`] for statements that return no rows; the number of rows changed.
    pub async fn execute(
        &self,
        ctx: &Context,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        match self.run(ctx, sql, params, false).await? {
            Out::Count(n) => Ok(n),
            Out::Rows(rows) => Ok(rows.len() as u64),
        }
    }

    /// One statement on the transaction's connection or a pooled one, logged.
    async fn run(
        &self,
        ctx: &Context,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        rows: bool,
    ) -> Result<Out, Error> {
        let started = Instant::now();
        let result = match &ctx.tx {
            Some(tx) => {
                let guard = tx.0.client.lock().await;
                let c = guard
                    .as_ref()
                    .ok_or_else(|| Error::internal("the transaction has ended"))?;
                statement(c, sql, params, rows).await
            }
            None => {
                let c = self.pool.get().await.map_err(|e| pool_error(&e))?;
                statement(&c, sql, params, rows).await
            }
        };
        log_query(ctx, sql, started, &result);
        result.map_err(|e| error(&e))
    }

    /// [`Db::query`] expecting at most one row.
    pub async fn query_opt(
        &self,
        ctx: &Context,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let mut rows = self.query(ctx, sql, params).await?;
        match rows.len() {
            0 => Ok(None),
            1 => Ok(rows.pop()),
            n => Err(Error::internal(format!("expected one row, got {n}"))),
        }
    }

    /// Applies the migrations of a folder (`*.sql`, in file-name order: `001_users.sql`, …)
    /// that the database has not seen, each in a transaction of its own, under an advisory
    /// lock so that instances starting together apply each once; returns the names applied.
    /// A file applied before whose text changed is an error (migrations are append-only).
    pub async fn migrate_dir(
        &self,
        dir: impl AsRef<std::path::Path>,
    ) -> Result<Vec<String>, Error> {
        let dir = dir.as_ref();
        let mut files: Vec<(String, String)> = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::internal(format!("cannot read migrations in {}: {e}", dir.display()))
        })?;
        for entry in entries {
            let path = entry
                .map_err(|e| Error::internal(format!("cannot read {}: {e}", dir.display())))?
                .path();
            if path.extension().is_some_and(|x| x == "sql") {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::internal(format!("cannot read {}: {e}", path.display())))?;
                files.push((name, text));
            }
        }
        files.sort();
        let list: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        self.migrate(&list).await
    }

    /// [`Db::migrate_dir`] for migrations compiled in (`include_str!`), as `(name, sql)` in
    /// order.
    pub async fn migrate(&self, migrations: &[(&str, &str)]) -> Result<Vec<String>, Error> {
        let mut c = self.pool.get().await.map_err(|e| pool_error(&e))?;
        // One instance at a time (a session-level advisory lock, released below).
        c.simple_query(
            "SELECT pg_advisory_lock(7234001); CREATE TABLE IF NOT EXISTS svcc_migrations (
                name text PRIMARY KEY, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(|e| error(&e))?;
        let result = apply(&mut c, migrations).await;
        let unlocked = c
            .simple_query("SELECT pg_advisory_unlock(7234001)")
            .await
            .map_err(|e| error(&e));
        let applied = result?;
        unlocked?;
        outbox::ensure_table(self).await?;
        Ok(applied)
    }
}

async fn apply(c: &mut Object, migrations: &[(&str, &str)]) -> Result<Vec<String>, Error> {
    let mut applied = Vec::new();
    for (name, sql) in migrations {
        let sum = checksum(sql);
        let row = c
            .query_opt(
                "SELECT checksum FROM svcc_migrations WHERE name = $1",
                &[name],
            )
            .await
            .map_err(|e| error(&e))?;
        if let Some(row) = row {
            let seen: String = row.get(0);
            if seen != sum {
                return Err(Error::new(
                    crate::Code::FailedPrecondition,
                    format!(
                        "migration `{name}` changed after it was applied (migrations are append-only: add a new file)"
                    ),
                ));
            }
            continue;
        }
        let t = c.transaction().await.map_err(|e| error(&e))?;
        t.batch_execute(sql).await.map_err(|e| {
            Error::internal(format!("migration `{name}` failed: {}", error(&e).message))
        })?;
        t.execute(
            "INSERT INTO svcc_migrations (name, checksum) VALUES ($1, $2)",
            &[name, &sum],
        )
        .await
        .map_err(|e| error(&e))?;
        t.commit().await.map_err(|e| error(&e))?;
        tracing::info!(target: "svcc::sql", migration = %name, "migration applied");
        applied.push((*name).to_string());
    }
    Ok(applied)
}

/// FNV-1a of the text, in hex: enough to notice an edited migration.
fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Tx {
    async fn simple(&self, sql: &str) -> Result<(), Error> {
        let guard = self.0.client.lock().await;
        let c = guard
            .as_ref()
            .ok_or_else(|| Error::internal("the transaction has ended"))?;
        c.batch_execute(sql).await.map_err(|e| error(&e))
    }

    /// Runs a statement in the transaction (the outbox writes through it).
    pub(crate) async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let guard = self.0.client.lock().await;
        let c = guard
            .as_ref()
            .ok_or_else(|| Error::internal("the transaction has ended"))?;
        match statement(c, sql, params, false)
            .await
            .map_err(|e| error(&e))?
        {
            Out::Count(n) => Ok(n),
            Out::Rows(r) => Ok(r.len() as u64),
        }
    }

    pub(crate) fn mark_outbox(&self) {
        self.0.wrote_outbox.store(true, Ordering::Relaxed);
    }
}

/// What a statement gave back.
enum Out {
    Rows(Vec<Row>),
    Count(u64),
}

/// Prepares `sql` once per connection (the connection's statement cache) and runs it.
async fn statement(
    c: &Object,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    rows: bool,
) -> Result<Out, tokio_postgres::Error> {
    let stmt = c.prepare_cached(sql).await?;
    if rows {
        c.query(&stmt, params).await.map(Out::Rows)
    } else {
        c.execute(&stmt, params).await.map(Out::Count)
    }
}

fn log_query<T>(
    ctx: &Context,
    sql: &str,
    started: Instant,
    result: &Result<T, tokio_postgres::Error>,
) {
    if !tracing::enabled!(target: "svcc::sql", tracing::Level::DEBUG) {
        return;
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let sql = one_line(sql);
    let trace_id = ctx.trace_id().unwrap_or_default();
    match result {
        Ok(_) => {
            tracing::debug!(target: "svcc::sql", sql = %sql, duration_ms = ms, request_id = %ctx.request_id, trace_id = %trace_id, in_transaction = ctx.tx.is_some(), "query")
        }
        Err(e) => {
            tracing::debug!(target: "svcc::sql", sql = %sql, duration_ms = ms, request_id = %ctx.request_id, trace_id = %trace_id, error = %error(e).message, "query failed")
        }
    }
}
