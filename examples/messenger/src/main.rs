//! Serves the messenger example over JSON-RPC 2.0 and REST on `127.0.0.1:8080`
//! (override with `--bind ADDR` or `BIND=ADDR`). No external service is needed.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Call logs (`@log`) and the runtime's own events, on stdout: JSON lines unless stdout is
    // a terminal, filtered by RUST_LOG (default `info`). Kept until the end: it flushes on drop.
    let _logging = svcc_runtime::logging::init();
    let args: Vec<String> = std::env::args().collect();
    let bind = args
        .iter()
        .position(|a| a == "--bind")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("BIND").ok())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let served = svcc_runtime::run(async move {
        let listener = match svcc_runtime::tokio::net::TcpListener::bind(&bind).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {bind}: {e}");
                return ExitCode::from(2);
            }
        };
        let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or(bind);
        eprintln!("messenger: serving on http://{addr}");
        eprintln!("  JSON-RPC 2.0: POST http://{addr}/rpc   (e.g. method \"userService.create\")");
        eprintln!(
            "  REST:         http://{addr}/api/v1/users, /api/v1/auth/login, /api/v1/chats …"
        );
        eprintln!(
            "  gRPC:         {addr} (reflection and health; SVCC_GRPC_BIND=ADDR adds an address of its own)"
        );
        eprintln!(
            "  health:       http://{addr}/healthz, /readyz   (Ctrl-C stops gracefully; twice, at once)"
        );
        // Server settings from the environment: `/metrics` on `SVCC_METRICS_BIND` (and the
        // Go platform library's names with `SVCC_METRICS_GO_NAMES=true`), gRPC on an address
        // of its own with `SVCC_GRPC_BIND`, `SVCC_LOG_LEVEL_HEADER=x-log-level` to let one
        // request raise its log level, and the stop: `SVCC_SHUTDOWN_DELAY` (readiness 503
        // while still serving), `SVCC_SHUTDOWN_TIMEOUT` (the drain's deadline), plus
        // `SVCC_MAX_CONNECTIONS` and `SVCC_VALIDATE_RESULTS`.
        let config = match svcc_runtime::ServerConfig::from_env() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        // Tokens are signed with `JWT_SECRET` (at least 32 bytes); without it, with a random
        // key and a loud warning.
        let jwt = match svcc_runtime::auth::Jwt::from_env_or_random() {
            Ok(j) => j,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        // Data: in PostgreSQL with `DATABASE_URL` (migrations applied at start), in memory
        // otherwise.
        let db = match svcc_runtime::db::Db::from_env() {
            None => None,
            Some(Ok(db)) => Some(db),
            Some(Err(e)) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let store = match &db {
            None => messenger::memory::Store::with_jwt(jwt),
            Some(db) => match messenger::memory::Store::open(jwt, db.clone()).await {
                Ok(s) => {
                    eprintln!("  data:         PostgreSQL (DATABASE_URL)");
                    s
                }
                Err(e) => {
                    eprintln!("error: cannot open the database: {}", e.message);
                    return ExitCode::from(2);
                }
            },
        };
        // Events: to Kafka with `KAFKA_BROKERS` (the chat service consumes `user.deleted` in
        // the group `KAFKA_GROUP_ID`, default `messenger`); in process otherwise.
        let (bus, consumer): (svcc_runtime::events::Bus, _) =
            match svcc_runtime::events::kafka::KafkaConfig::from_env("messenger") {
                None => (
                    std::sync::Arc::new(messenger::in_process_events(&store)),
                    None,
                ),
                Some(kafka) => match messenger::kafka(&store, &kafka) {
                    Ok((publisher, consumer)) => {
                        eprintln!("  events:       Kafka at {}", kafka.brokers);
                        (std::sync::Arc::new(publisher), Some(consumer))
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                },
            };
        let (stop_workers, workers_stopped) = svcc_runtime::tokio::sync::watch::channel(false);
        let stopped = |mut rx: svcc_runtime::tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let consumer =
            consumer.map(|c| svcc_runtime::tokio::spawn(c.run(stopped(workers_stopped.clone()))));
        // With a database, events emitted in a transaction wait in its outbox; the relay
        // publishes them after the commit (`SVCC_OUTBOX_RELAY=off` leaves that to another
        // instance).
        let relay = db
            .as_ref()
            .filter(|_| std::env::var("SVCC_OUTBOX_RELAY").as_deref() != Ok("off"))
            .map(|db| {
                let relay = svcc_runtime::db::outbox::Relay::new(db, bus.clone());
                svcc_runtime::tokio::spawn(relay.run(stopped(workers_stopped.clone())))
            });
        let server = messenger::server_with_events(store, bus).config(config);
        let served = server.serve(listener).await;
        // The server has drained: the consumer finishes its record, commits and leaves; the
        // relay finishes its batch.
        let _ = stop_workers.send(true);
        if let Some(c) = consumer {
            let _ = c.await;
        }
        if let Some(r) = relay {
            let _ = r.await;
        }
        match served {
            Ok(()) => {
                eprintln!("messenger: stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    });
    served.unwrap_or_else(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::from(2)
    })
}
