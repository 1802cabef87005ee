//! The fallback cache of `@fallback(ttl)`: generated clients store each good result of such a
//! method under a hash of the method and its parameters, and answer with it — if it is younger
//! than the TTL — when the call fails with a failure-class error or its circuit breaker is
//! open. Two stores: [`MemoryCache`] (bounded, per process) and [`RedisCache`] (shared by every
//! replica; a real Redis over RESP).

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A good result, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When it was stored (milliseconds since the Unix epoch).
    pub stored_at_ms: u64,
    pub result: Value,
    /// Response headers that carry results (`@header`, `@cookie` results).
    pub headers: Vec<(String, String)>,
}

impl Entry {
    pub fn new(result: Value, headers: Vec<(String, String)>) -> Entry {
        Entry {
            stored_at_ms: now_ms(),
            result,
            headers,
        }
    }

    /// How old it is.
    pub fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.stored_at_ms))
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Where good results are kept. Failures of the store itself are not the caller's problem:
/// `get` answers `None` and `put` gives up (both log at `debug`).
pub trait FallbackCache: fmt::Debug + Send + Sync + 'static {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<Entry>>;
    /// Stores `entry`, kept at least `ttl`.
    fn put<'a>(&'a self, key: &'a str, entry: Entry, ttl: Duration) -> BoxFuture<'a, ()>;
}

/// The key of a call: the method and a stable hash (FNV-1a, 64 bits) of its parameters' JSON,
/// the same in every process.
pub fn key(service: &str, method: &str, params: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in params.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("svcc:fallback:{service}.{method}:{h:016x}")
}

/// In memory, at most `capacity` entries (the oldest stored goes first).
#[derive(Debug)]
pub struct MemoryCache {
    capacity: usize,
    inner: Mutex<(HashMap<String, Entry>, VecDeque<String>)>,
}

impl MemoryCache {
    pub fn new(capacity: usize) -> MemoryCache {
        MemoryCache {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, Entry>, VecDeque<String>)> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for MemoryCache {
    /// 10,000 entries.
    fn default() -> MemoryCache {
        MemoryCache::new(10_000)
    }
}

impl FallbackCache for MemoryCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<Entry>> {
        let found = self.lock().0.get(key).cloned();
        Box::pin(async move { found })
    }

    fn put<'a>(&'a self, key: &'a str, entry: Entry, _ttl: Duration) -> BoxFuture<'a, ()> {
        let mut guard = self.lock();
        let (map, order) = &mut *guard;
        if map.insert(key.to_string(), entry).is_none() {
            order.push_back(key.to_string());
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
        drop(guard);
        Box::pin(async {})
    }
}

/// In Redis (`GET`, `SET … PX`), one connection reused and re-made when it breaks; each
/// command is bounded by `timeout` (default 500 ms) so a slow Redis cannot hold a call.
pub struct RedisCache {
    addr: String,
    timeout: Duration,
    conn: tokio::sync::Mutex<Option<tokio::io::BufStream<tokio::net::TcpStream>>>,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// A RESP reply.
#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Bulk(Option<Vec<u8>>),
    Integer(i64),
    Error(String),
}

impl RedisCache {
    /// `addr` as `host:port` (or `redis://host:port`).
    pub fn new(addr: &str) -> RedisCache {
        let addr = addr
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_string();
        RedisCache {
            addr,
            timeout: Duration::from_millis(500),
            conn: tokio::sync::Mutex::new(None),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> RedisCache {
        self.timeout = timeout;
        self
    }

    async fn command(&self, args: &[&[u8]]) -> std::io::Result<Reply> {
        match tokio::time::timeout(self.timeout, self.command_unbounded(args)).await {
            Ok(r) => r,
            Err(_) => {
                // The connection is in an unknown state now.
                *self.conn.lock().await = None;
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "Redis did not answer in time",
                ))
            }
        }
    }

    async fn command_unbounded(&self, args: &[&[u8]]) -> std::io::Result<Reply> {
        use tokio::io::AsyncWriteExt as _;
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            let stream = tokio::net::TcpStream::connect(&self.addr).await?;
            stream.set_nodelay(true)?;
            *guard = Some(tokio::io::BufStream::new(stream));
        }
        let Some(conn) = guard.as_mut() else {
            return Err(std::io::Error::other("no connection"));
        };
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        let result = async {
            conn.write_all(&out).await?;
            conn.flush().await?;
            read_reply(conn).await
        }
        .await;
        if result.is_err() {
            *guard = None;
        }
        result
    }
}

async fn read_line(conn: &mut (impl tokio::io::AsyncBufRead + Unpin)) -> std::io::Result<String> {
    use tokio::io::AsyncBufReadExt as _;
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches("\r\n").to_string())
}

async fn read_reply(conn: &mut (impl tokio::io::AsyncBufRead + Unpin)) -> std::io::Result<Reply> {
    use tokio::io::AsyncReadExt as _;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let line = read_line(conn).await?;
    let (kind, rest) = line.split_at_checked(1).ok_or_else(|| bad("empty reply"))?;
    match kind {
        "+" => Ok(Reply::Simple(rest.to_string())),
        "-" => Ok(Reply::Error(rest.to_string())),
        ":" => rest
            .parse()
            .map(Reply::Integer)
            .map_err(|_| bad("bad integer")),
        "$" => {
            let n: i64 = rest.parse().map_err(|_| bad("bad length"))?;
            if n < 0 {
                return Ok(Reply::Bulk(None));
            }
            let n = usize::try_from(n).map_err(|_| bad("bad length"))?;
            if n > 64 * 1024 * 1024 {
                return Err(bad("reply too large"));
            }
            let mut buf = vec![0u8; n + 2];
            conn.read_exact(&mut buf).await?;
            buf.truncate(n);
            Ok(Reply::Bulk(Some(buf)))
        }
        _ => Err(bad("unexpected reply")),
    }
}

impl FallbackCache for RedisCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<Entry>> {
        Box::pin(async move {
            match self.command(&[b"GET", key.as_bytes()]).await {
                Ok(Reply::Bulk(Some(bytes))) => serde_json::from_slice(&bytes).ok(),
                Ok(Reply::Bulk(None)) => None,
                other => {
                    tracing::debug!(target: "svcc::fallback", ?other, "Redis GET failed");
                    None
                }
            }
        })
    }

    fn put<'a>(&'a self, key: &'a str, entry: Entry, ttl: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Ok(value) = serde_json::to_vec(&entry) else {
                return;
            };
            let ms = ttl.as_millis().max(1).to_string();
            match self
                .command(&[b"SET", key.as_bytes(), &value, b"PX", ms.as_bytes()])
                .await
            {
                Ok(Reply::Simple(_)) => {}
                other => tracing::debug!(target: "svcc::fallback", ?other, "Redis SET failed"),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_is_bounded_and_keys_are_stable() {
        let c = MemoryCache::new(2);
        for k in ["a", "b", "c"] {
            c.put(
                k,
                Entry::new(Value::from(k), Vec::new()),
                Duration::from_secs(1),
            )
            .await;
        }
        assert_eq!(c.len(), 2);
        assert!(c.get("a").await.is_none(), "the oldest went first");
        assert_eq!(c.get("c").await.map(|e| e.result), Some(Value::from("c")));
        let p = serde_json::json!({"id": 1});
        assert_eq!(key("S", "m", &p), key("S", "m", &p));
        assert_ne!(key("S", "m", &p), key("S", "n", &p));
        let k = key("S", "m", &p);
        assert!(k.starts_with("svcc:fallback:S.m:"), "{k}");
        assert_eq!(k.len(), "svcc:fallback:S.m:".len() + 16, "{k}");
    }
}
