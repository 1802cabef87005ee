//! PostgreSQL against the real server of this machine (`SVCC_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`): transactions carried by the context (commit,
//! rollback on error and on panic, savepoints, an abandoned transaction), migrations, and the
//! outbox — a committed transaction's events are published after the commit, a rolled-back
//! one's never, a failing bus holds them until it recovers, in order.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use common::Noted;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use svcc_runtime::db::Db;
use svcc_runtime::db::outbox::Relay;
use svcc_runtime::events::{Emitter, MemoryLog, Publish, Record};
use svcc_runtime::{Context, Error};

fn url() -> String {
    common::database_url()
}

/// A database handle and a table of this test's own (dropped at the end).
async fn setup(name: &str) -> (Db, String) {
    let db = Db::new(&url(), 4).unwrap();
    db.check()
        .await
        .expect("PostgreSQL at SVCC_TEST_DATABASE_URL (scripts/test starts it)");
    let table = format!("t_{name}_{}", std::process::id());
    let ctx = Context::new();
    db.execute(&ctx, &format!("DROP TABLE IF EXISTS {table}"), &[])
        .await
        .unwrap();
    db.execute(
        &ctx,
        &format!("CREATE TABLE {table} (id text PRIMARY KEY, n integer NOT NULL DEFAULT 0)"),
        &[],
    )
    .await
    .unwrap();
    (db, table)
}

async fn ids(db: &Db, table: &str) -> Vec<String> {
    db.query(
        &Context::new(),
        &format!("SELECT id FROM {table} ORDER BY id"),
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

async fn insert(db: &Db, ctx: &Context, table: &str, id: &str) -> Result<u64, Error> {
    db.execute(
        ctx,
        &format!("INSERT INTO {table} (id) VALUES ($1)"),
        &[&id],
    )
    .await
}

#[tokio::test]
async fn transactions_commit_roll_back_and_nest_as_savepoints() {
    let (db, t) = setup("tx").await;
    let ctx = Context::new();
    // Ok commits.
    db.transaction(&ctx, async |ctx| {
        assert!(ctx.in_transaction());
        insert(&db, &ctx, &t, "a").await
    })
    .await
    .unwrap();
    // Err rolls back everything the transaction did.
    let r: Result<(), Error> = db
        .transaction(&ctx, async |ctx| {
            insert(&db, &ctx, &t, "b").await?;
            Err(Error::internal("changed my mind"))
        })
        .await;
    assert!(r.is_err());
    assert_eq!(ids(&db, &t).await, ["a"]);
    // A nested transaction is a savepoint: its failure undoes only its own statements.
    db.transaction(&ctx, async |ctx| {
        insert(&db, &ctx, &t, "c").await?;
        let inner: Result<(), Error> = db
            .transaction(&ctx, async |ctx| {
                insert(&db, &ctx, &t, "d").await?;
                Err(Error::internal("inner fails"))
            })
            .await;
        assert!(inner.is_err());
        db.transaction(&ctx, async |ctx| insert(&db, &ctx, &t, "e").await)
            .await?;
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
    assert_eq!(ids(&db, &t).await, ["a", "c", "e"]);
    // A constraint violation is a typed error, and the transaction rolls back.
    let dup = db
        .transaction(&ctx, async |ctx| {
            insert(&db, &ctx, &t, "f").await?;
            insert(&db, &ctx, &t, "a").await
        })
        .await
        .unwrap_err();
    assert_eq!(dup.kind, svcc_runtime::Code::AlreadyExists, "{dup:?}");
    assert!(
        !dup.message.contains("\"a\""),
        "no parameter in the message: {dup:?}"
    );
    assert_eq!(ids(&db, &t).await, ["a", "c", "e"]);
}

#[tokio::test]
async fn a_panic_rolls_back_and_an_abandoned_transaction_never_commits() {
    let (db, t) = setup("panic").await;
    let ctx = Context::new();
    let db2 = db.clone();
    let t2 = t.clone();
    let panicked = tokio::spawn(async move {
        db2.transaction(&Context::new(), async |ctx| {
            insert(&db2, &ctx, &t2, "p").await.unwrap();
            panic!("a bug in a handler");
            #[allow(unreachable_code)]
            Ok::<(), Error>(())
        })
        .await
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    assert!(ids(&db, &t).await.is_empty());
    // A transaction whose future is dropped half-way (a deadline) is rolled back.
    let slow = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        db.transaction(&ctx, async |ctx| {
            insert(&db, &ctx, &t, "q").await?;
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            Ok::<(), Error>(())
        }),
    )
    .await;
    assert!(slow.is_err());
    // The server rolls the abandoned transaction back once its connection closes.
    let mut left = ids(&db, &t).await;
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        left = ids(&db, &t).await;
    }
    assert!(left.is_empty(), "{left:?}");
    // The pool still works.
    db.transaction(&ctx, async |ctx| insert(&db, &ctx, &t, "r").await)
        .await
        .unwrap();
    assert_eq!(ids(&db, &t).await, ["r"]);
}

#[tokio::test]
async fn migrations_apply_once_and_refuse_an_edited_file() {
    let db = Db::new(&url(), 2).unwrap();
    let name = format!("900_test_{}.sql", std::process::id());
    let table = format!("m_{}", std::process::id());
    let sql = format!("CREATE TABLE {table} (id integer PRIMARY KEY)");
    let dir = std::env::temp_dir().join(format!("svcc-migrations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&name), &sql).unwrap();
    std::fs::write(dir.join("README.txt"), "not a migration").unwrap();
    assert_eq!(
        db.migrate_dir(&dir).await.unwrap(),
        std::slice::from_ref(&name)
    );
    assert!(
        db.migrate_dir(&dir).await.unwrap().is_empty(),
        "applied twice"
    );
    std::fs::write(dir.join(&name), format!("{sql}; SELECT 1")).unwrap();
    let edited = db.migrate_dir(&dir).await.unwrap_err();
    assert!(
        edited.message.contains("changed after it was applied"),
        "{edited:?}"
    );
    let ctx = Context::new();
    db.execute(&ctx, &format!("DROP TABLE {table}"), &[])
        .await
        .unwrap();
    db.execute(
        &ctx,
        "DELETE FROM svcc_migrations WHERE name = $1",
        &[&name],
    )
    .await
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A bus that refuses while `down` is set (a broker outage), recording what it accepted.
struct Flaky {
    down: AtomicBool,
    log: MemoryLog,
}

impl Publish for Flaky {
    fn publish(&self, record: Record) -> futures_util::future::BoxFuture<'_, Result<(), Error>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(Error::unavailable("broker down")) });
        }
        self.log.publish(record)
    }
}

fn mine(log: &MemoryLog, run: &str) -> Vec<Noted> {
    log.records()
        .iter()
        .filter(|r| r.key.as_deref().is_some_and(|k| k.starts_with(run)))
        .map(|r| r.decode::<Noted>().unwrap())
        .collect()
}

#[tokio::test]
async fn the_outbox_publishes_what_commits_and_nothing_that_rolls_back() {
    let (db, t) = setup("outbox").await;
    let run = format!("run{}-", std::process::id());
    let flaky = Arc::new(Flaky {
        down: AtomicBool::new(false),
        log: MemoryLog::new(),
    });
    let emitter = Emitter::new(flaky.clone());
    let relay = Relay::new(&db, flaky.clone());
    let ctx = Context::new();
    let note = |seq: u32| Noted {
        id: format!("{run}{seq}"),
        seq,
    };
    // Committed: in the outbox, not sent before the relay runs; sent after.
    db.transaction(&ctx, async |ctx| {
        insert(&db, &ctx, &t, "x").await?;
        emitter.emit(&ctx, &note(1)).await
    })
    .await
    .unwrap();
    assert!(
        mine(&flaky.log, &run).is_empty(),
        "sent before the relay ran"
    );
    // While another relay has its turn (the advisory lock), this one publishes nothing.
    let waited = db
        .transaction(&ctx, async |ctx| {
            db.query(&ctx, "SELECT pg_advisory_xact_lock(7234002)", &[])
                .await?;
            relay.publish_batch().await
        })
        .await
        .unwrap();
    assert_eq!(waited, 0);
    assert!(
        mine(&flaky.log, &run).is_empty(),
        "two relays published at once"
    );
    while relay.publish_batch().await.unwrap() > 0 {}
    assert_eq!(mine(&flaky.log, &run), [note(1)]);
    // Rolled back: nothing, ever.
    let r: Result<(), Error> = db
        .transaction(&ctx, async |ctx| {
            emitter.emit(&ctx, &note(2)).await?;
            Err(Error::internal("rolled back"))
        })
        .await;
    assert!(r.is_err());
    while relay.publish_batch().await.unwrap() > 0 {}
    assert_eq!(mine(&flaky.log, &run), [note(1)]);
    // The bus is down while three transactions commit: nothing lost, published in order
    // once it is back.
    flaky.down.store(true, Ordering::SeqCst);
    for seq in 3..=5 {
        db.transaction(&ctx, async |ctx| emitter.emit(&ctx, &note(seq)).await)
            .await
            .unwrap();
    }
    assert!(relay.publish_batch().await.is_err());
    assert!(relay.pending().await.unwrap() >= 3);
    flaky.down.store(false, Ordering::SeqCst);
    while relay.publish_batch().await.unwrap() > 0 {}
    let seqs: Vec<u32> = mine(&flaky.log, &run).iter().map(|n| n.seq).collect();
    assert_eq!(seqs, [1, 3, 4, 5]);
    // Without a transaction the emitter publishes at once.
    emitter.emit(&ctx, &note(6)).await.unwrap();
    assert_eq!(mine(&flaky.log, &run).last(), Some(&note(6)));
}

#[tokio::test]
async fn the_pools_are_on_metrics() {
    let db = Db::new(&url(), 3).unwrap();
    db.check().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(svcc_runtime::Server::new().serve_until(listener, async {
        let _ = stopped.await;
    }));
    let text = svcc_runtime::reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "svcc_db_pool_connections",
        "svcc_db_pool_idle_connections",
        "svcc_db_pool_waiting",
        "svcc_db_pool_max_connections",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from\n{text}"));
        let v: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(v >= 0, "{line}");
    }
    // This test's pool counts: at least its limit of 3, and the connection it opened.
    let max = text
        .lines()
        .find(|l| l.starts_with("svcc_db_pool_max_connections "))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap();
    assert!(max >= 3, "{max}");
    drop(db);
    stop.send(()).unwrap();
    done.await.unwrap().unwrap();
}

/// A log writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn statements_are_logged_on_one_line_with_duration_and_the_call_ids() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let db = Db::new(&url(), 1).unwrap();
    let ctx = Context {
        request_id: "req-42".into(),
        trace: svcc_runtime::telemetry::SpanContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ..Context::new()
    };
    let secret = "s3cret-parameter";
    db.query(&ctx, "SELECT\n    $1::text   AS  value", &[&secret])
        .await
        .unwrap();
    let _ = db.query(&ctx, "SELECT * FROM no_such_table", &[]).await;
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["target"] == "svcc::sql")
        .collect();
    let ok = lines
        .iter()
        .find(|v| v["fields"]["message"] == "query")
        .unwrap_or_else(|| panic!("no query line in\n{text}"));
    assert_eq!(ok["fields"]["sql"], "SELECT $1::text AS value", "{ok}");
    assert_eq!(ok["fields"]["request_id"], "req-42");
    assert_eq!(ok["fields"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(ok["fields"]["duration_ms"].as_f64().is_some(), "{ok}");
    let failed = lines
        .iter()
        .find(|v| v["fields"]["message"] == "query failed")
        .unwrap_or_else(|| panic!("no failed-query line in\n{text}"));
    assert!(
        failed["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("42P01"),
        "{failed}"
    );
    // Parameters are never logged.
    assert!(!text.contains(secret), "{text}");
}
