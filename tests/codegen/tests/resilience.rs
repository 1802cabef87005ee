//! `@circuit_breaker`, `@fallback` and retries, from the contract alone: the server's breaker
//! answers unavailable at once while open; a generated client's breaker fails fast without a
//! network call (requests are counted by an HTTP layer on the server); the fallback cache
//! answers with the last good result, in memory and in a real Redis shared by two clients;
//! idempotent methods are retried, others are not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use svcc_codegen_tests::api::resilient::v1 as resilient;
use svcc_runtime::client::{ClientConfig, RetryPolicy};
use svcc_runtime::fallback::{FallbackCache, MemoryCache, RedisCache};
use svcc_runtime::{Code, Context, Error, Server, tokio};

use resilient::Flaky as _;

#[derive(Default)]
struct State {
    down: AtomicBool,
    handled: AtomicUsize,
    attempts: Mutex<HashMap<String, i32>>,
}

struct Impl(Arc<State>);

impl resilient::Flaky for Impl {
    async fn item(
        &self,
        _ctx: Context,
        id: String,
    ) -> Result<resilient::flaky::ItemResponse, resilient::flaky::ItemError> {
        self.0.handled.fetch_add(1, Ordering::SeqCst);
        if self.0.down.load(Ordering::SeqCst) {
            return Err(Error::unavailable("the item store is down").into());
        }
        Ok(resilient::flaky::ItemResponse {
            name: format!("item {id}"),
        })
    }

    async fn flaky(
        &self,
        _ctx: Context,
        key: String,
    ) -> Result<resilient::flaky::FlakyResponse, resilient::flaky::FlakyError> {
        let n = {
            let mut a = self.0.attempts.lock().unwrap();
            let n = a.entry(key).or_default();
            *n += 1;
            *n
        };
        if n < 3 {
            return Err(Error::unavailable("not yet").into());
        }
        Ok(resilient::flaky::FlakyResponse { attempts: n })
    }

    async fn marked(
        &self,
        ctx: Context,
        key: String,
    ) -> Result<resilient::flaky::MarkedResponse, resilient::flaky::MarkedError> {
        let r = self.flaky(ctx, key).await.map_err(|e| match e {
            resilient::flaky::FlakyError::Other(e) => resilient::flaky::MarkedError::Other(e),
        })?;
        Ok(resilient::flaky::MarkedResponse {
            attempts: r.attempts,
        })
    }

    async fn once(
        &self,
        _ctx: Context,
        key: String,
    ) -> Result<resilient::flaky::OnceResponse, resilient::flaky::OnceError> {
        *self.0.attempts.lock().unwrap().entry(key).or_default() += 1;
        Err(Error::unavailable("always down").into())
    }
}

struct Running {
    base: String,
    state: Arc<State>,
    /// HTTP requests that reached the server.
    requests: Arc<AtomicUsize>,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Running {
    let state = Arc::new(State::default());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let counter = svcc_runtime::axum::middleware::from_fn(
        move |req: svcc_runtime::axum::extract::Request,
              next: svcc_runtime::axum::middleware::Next| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                next.run(req).await
            }
        },
    );
    let server = Server::new()
        .http_layer(counter)
        .service(resilient::FlakyServer::new(Impl(state.clone())).into_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    Running {
        base,
        state,
        requests,
        stop,
    }
}

/// A unique id, so that runs sharing a Redis do not see each other's entries.
fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", svcc_runtime::Uuid::new_v4().simple())
}

/// Both transports' clients, each with its own breaker, sharing `cache`.
fn clients(
    base: &str,
    cache: Arc<dyn FallbackCache>,
) -> (resilient::FlakyJsonRpcClient, resilient::FlakyRestClient) {
    let config = || ClientConfig::new(base).with_fallback_cache(Some(cache.clone()));
    (
        resilient::FlakyJsonRpcClient::new(config()),
        resilient::FlakyRestClient::new(config()),
    )
}

/// Good result stored; the service goes down; the breaker opens after one failure out of two
/// calls; from then on the answer is the cached one, with no request sent; an id never cached
/// fails fast with unavailable. One server per transport (the server's own breaker for the
/// method opens too).
async fn breaker_and_fallback(cache: Arc<dyn FallbackCache>) {
    for (name, rpc) in [("rpc", true), ("rest", false)] {
        let s = start().await;
        let (rpc_client, rest_client) = clients(&s.base, cache.clone());
        let get = |id: String| {
            let (r, h) = (rpc_client.clone(), rest_client.clone());
            async move {
                if rpc {
                    r.item(Context::new(), id).await
                } else {
                    h.item(Context::new(), id).await
                }
            }
        };
        let id = fresh("a");
        let good = get(id.clone()).await.unwrap();
        assert_eq!(good.name, format!("item {id}"), "{name}");
        s.state.down.store(true, Ordering::SeqCst);
        // One failure in two calls (0.5 of at least 2): the breaker opens; the answer is the
        // cached one.
        let before = s.requests.load(Ordering::SeqCst);
        let cached = get(id.clone()).await.unwrap();
        assert_eq!(cached, good, "{name}");
        assert_eq!(s.requests.load(Ordering::SeqCst), before + 1, "{name}");
        // Open: no request at all, still the cached answer.
        let cached = get(id.clone()).await.unwrap();
        assert_eq!(cached, good, "{name}");
        match get(fresh("never-cached")).await {
            Err(resilient::flaky::ItemError::Other(e)) => {
                assert_eq!(e.kind, Code::Unavailable, "{name}");
                assert!(e.message.contains("circuit breaker"), "{name}: {e}");
            }
            other => panic!("{name}: expected unavailable, got {other:?}"),
        }
        assert_eq!(
            s.requests.load(Ordering::SeqCst),
            before + 1,
            "{name}: an open breaker sends nothing"
        );
        s.stop.send(()).unwrap();
    }
}

#[tokio::test]
async fn an_open_client_breaker_fails_fast_and_the_memory_cache_answers() {
    breaker_and_fallback(Arc::new(MemoryCache::default())).await;
    let answered: u64 = svcc_runtime::client::fallback_answers()
        .iter()
        .filter(|((svc, m), _)| *svc == "Flaky" && *m == "item")
        .map(|(_, n)| n)
        .sum();
    assert!(answered >= 4, "{answered}");
    // On the `/metrics` of a server in the same process.
    let s = start().await;
    let scrape = svcc_runtime::reqwest::get(format!("{}/metrics", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scrape.contains(
            r#"svcc_client_fallback_answers_total{rpc_service="Flaky",rpc_method="item"} "#
        ),
        "{scrape}"
    );
    s.stop.send(()).unwrap();
}

#[tokio::test]
async fn the_redis_cache_answers_for_every_client_that_shares_it() {
    let redis: Arc<dyn FallbackCache> = Arc::new(RedisCache::new("127.0.0.1:6379"));
    breaker_and_fallback(redis.clone()).await;
    // A result stored by one client is the answer of another (a replica, a restart).
    let s = start().await;
    let id = fresh("shared");
    let (_, writer) = clients(&s.base, redis.clone());
    let good = writer.item(Context::new(), id.clone()).await.unwrap();
    s.state.down.store(true, Ordering::SeqCst);
    let (_, reader) = clients(&s.base, Arc::new(RedisCache::new("redis://127.0.0.1:6379")));
    assert_eq!(reader.item(Context::new(), id.clone()).await.unwrap(), good);
    // Really in Redis, with its TTL.
    let key = svcc_runtime::fallback::key(
        "Flaky",
        "item",
        &svcc_runtime::serde_json::json!({ "id": id }),
    );
    let ttl = std::process::Command::new("redis-cli")
        .args(["PTTL", &key])
        .output()
        .unwrap();
    let ttl: i64 = String::from_utf8_lossy(&ttl.stdout).trim().parse().unwrap();
    assert!(ttl > 3_500_000 && ttl <= 3_600_000, "{ttl}");
    // A Redis that is not there: no answer from the cache, the error itself.
    let (_, nowhere) = clients(&s.base, Arc::new(RedisCache::new("127.0.0.1:1")));
    assert!(nowhere.item(Context::new(), fresh("x")).await.is_err());
    s.stop.send(()).unwrap();
}

#[tokio::test]
async fn the_servers_breaker_answers_unavailable_at_once_while_open() {
    let s = start().await;
    s.state.down.store(true, Ordering::SeqCst);
    let http = svcc_runtime::reqwest::Client::new();
    for _ in 0..2 {
        let r = http
            .get(format!("{}/r/items/x", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503);
    }
    let handled = s.state.handled.load(Ordering::SeqCst);
    let r = http
        .get(format!("{}/r/items/x", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let body: svcc_runtime::serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("circuit breaker `server:Flaky.item` is open"),
        "{body}"
    );
    let body: svcc_runtime::serde_json::Value = http
        .post(format!("{}/rpc", s.base))
        .body(r#"{"jsonrpc":"2.0","method":"flaky.item","params":{"id":"y"},"id":1}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["code"], Code::Unavailable.jsonrpc(), "{body}");
    assert_eq!(
        s.state.handled.load(Ordering::SeqCst),
        handled,
        "an open breaker does not reach the handler"
    );
    let scrape = http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scrape.contains(r#"svcc_circuit_breaker_state{breaker="server:Flaky.item"} 2"#),
        "{scrape}"
    );
    // Breakers of one name (servers of other tests in this process) are reported together.
    let opened = scrape
        .lines()
        .find(|l| {
            l.starts_with(
                r#"svcc_circuit_breaker_transitions_total{breaker="server:Flaky.item",to="open"}"#,
            )
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    assert!(opened.is_some_and(|n| n >= 1), "{scrape}");
    s.stop.send(()).unwrap();
}

#[tokio::test]
async fn idempotent_methods_are_retried_and_others_are_not() {
    let s = start().await;
    for (transport, rpc) in [("rpc", true), ("rest", false)] {
        let config = || ClientConfig::new(&s.base);
        let key = fresh(transport);
        // GET: unavailable twice, then answered — on the third try.
        let got = if rpc {
            resilient::FlakyJsonRpcClient::new(config())
                .flaky(Context::new(), key.clone())
                .await
        } else {
            resilient::FlakyRestClient::new(config())
                .flaky(Context::new(), key.clone())
                .await
        };
        assert_eq!(got.unwrap().attempts, 3, "{transport}");
        // With retries off, the first unavailable is the answer.
        let key2 = fresh(transport);
        let once = resilient::FlakyRestClient::new(config().with_retry(RetryPolicy::none()))
            .flaky(Context::new(), key2.clone())
            .await;
        assert!(once.is_err(), "{transport}");
        assert_eq!(s.state.attempts.lock().unwrap()[&key2], 1);
        // A POST marked `@idempotent`: retried like a GET.
        let key4 = fresh(transport);
        let marked = if rpc {
            resilient::FlakyJsonRpcClient::new(config())
                .marked(Context::new(), key4)
                .await
        } else {
            resilient::FlakyRestClient::new(config())
                .marked(Context::new(), key4)
                .await
        };
        assert_eq!(marked.unwrap().attempts, 3, "{transport}");
        // POST: sent once, whatever the answer.
        let key3 = fresh(transport);
        let r = resilient::FlakyRestClient::new(config())
            .once(Context::new(), key3.clone())
            .await;
        assert!(r.is_err());
        assert_eq!(s.state.attempts.lock().unwrap()[&key3], 1, "{transport}");
    }
    // Retries stop at the call's deadline: this one needs a hundred tries.
    let key = fresh("deadline");
    s.state.attempts.lock().unwrap().insert(key.clone(), -100);
    let slow = ClientConfig::new(&s.base).with_retry(RetryPolicy {
        max_attempts: 10,
        initial_backoff: std::time::Duration::from_secs(5),
        max_backoff: std::time::Duration::from_secs(5),
    });
    let r = resilient::FlakyRestClient::new(slow)
        .flaky(
            Context::new().with_timeout(std::time::Duration::from_millis(300)),
            key.clone(),
        )
        .await;
    assert!(r.is_err());
    let tries = s.state.attempts.lock().unwrap()[&key] + 100;
    assert!(
        (1..10).contains(&tries),
        "{tries} tries within a 300 ms deadline"
    );
    s.stop.send(()).unwrap();
}
