//! `@security(bearer)` and `@rate_limit`, enforced by the server from the contract alone, on
//! both transports: every refusal of a token is its own case, a valid token's claims reach
//! the handler, and rate limits count calls globally, per address and per caller.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use guarded::Guarded as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use svcc_codegen_tests::api::guarded::v1 as guarded;
use svcc_runtime::auth::{Claims, Jwt, TokenType, now_secs};
use svcc_runtime::serde_json::{Value, json};
use svcc_runtime::{Code, Context, Server, tokio};

const SECRET: &[u8] = b"the guarded tests' secret, 32 bytes+";

fn jwt() -> Jwt {
    Jwt::new("k1", SECRET).unwrap()
}

/// Counts the calls that reached a handler.
#[derive(Default)]
struct Impl {
    reached: AtomicUsize,
}

/// The implementation the server serves (its counter shared with the test).
struct Shared(Arc<Impl>);

impl guarded::Guarded for Shared {
    async fn me(
        &self,
        ctx: Context,
    ) -> Result<guarded::guarded::MeResponse, guarded::guarded::MeError> {
        self.0.reached.fetch_add(1, Ordering::SeqCst);
        let claims = ctx.claims().expect("a verified call carries its claims");
        Ok(guarded::guarded::MeResponse {
            sub: claims.sub.clone(),
            email: claims.email.clone(),
        })
    }
    async fn open(
        &self,
        _ctx: Context,
    ) -> Result<guarded::guarded::OpenResponse, guarded::guarded::OpenError> {
        Ok(guarded::guarded::OpenResponse { ok: true })
    }
    async fn per_address(
        &self,
        _ctx: Context,
    ) -> Result<guarded::guarded::PerAddressResponse, guarded::guarded::PerAddressError> {
        Ok(guarded::guarded::PerAddressResponse { ok: true })
    }
    async fn per_caller(
        &self,
        _ctx: Context,
    ) -> Result<guarded::guarded::PerCallerResponse, guarded::guarded::PerCallerError> {
        Ok(guarded::guarded::PerCallerResponse { ok: true })
    }
}

struct Running {
    base: String,
    state: Arc<Impl>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Running {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Impl::default());
    let server = Server::new()
        .jwt(Arc::new(jwt()))
        .service(guarded::GuardedServer::new(Shared(state.clone())).into_service());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    Running {
        base: format!("http://127.0.0.1:{port}"),
        state,
        stop,
        task,
    }
}

impl Running {
    async fn shutdown(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn claims(typ: TokenType) -> Claims {
    let now = now_secs();
    Claims {
        sub: "user-1".into(),
        email: Some("ada@example.com".into()),
        typ,
        iat: now,
        exp: now + 600,
        nbf: None,
        jti: "jti-1".into(),
    }
}

/// A token with this header and claims, signed with HMAC-SHA-256 over `secret` when given.
fn token_with(
    header: Value,
    claims: &Claims,
    key: Option<(&[u8], jsonwebtoken_alg::Alg)>,
) -> String {
    let head = b64(header.to_string().as_bytes());
    let body = b64(&svcc_runtime::serde_json::to_vec(claims).unwrap());
    let signature = match key {
        Some((secret, alg)) => b64(&jsonwebtoken_alg::sign(
            alg,
            secret,
            format!("{head}.{body}").as_bytes(),
        )),
        None => String::new(),
    };
    format!("{head}.{body}.{signature}")
}

/// Signatures made here with the standard HMACs, independently of the runtime's signer.
mod jsonwebtoken_alg {
    use hmac::{Hmac, KeyInit, Mac};

    #[derive(Clone, Copy)]
    pub enum Alg {
        Hs256,
        Hs512,
    }

    pub fn sign(alg: Alg, secret: &[u8], message: &[u8]) -> Vec<u8> {
        match alg {
            Alg::Hs256 => {
                let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
                m.update(message);
                m.finalize().into_bytes().to_vec()
            }
            Alg::Hs512 => {
                let mut m = Hmac::<sha2::Sha512>::new_from_slice(secret).unwrap();
                m.update(message);
                m.finalize().into_bytes().to_vec()
            }
        }
    }
}

use jsonwebtoken_alg::Alg;

/// Every `Authorization` value the server must refuse, with what the refusal must say.
fn refused_headers() -> Vec<(&'static str, Option<String>, &'static str)> {
    let now = now_secs();
    let hs256 = json!({"alg": "HS256", "typ": "JWT", "kid": "k1"});
    let expired = Claims {
        iat: now - 7200,
        exp: now - 3600,
        ..claims(TokenType::Access)
    };
    let early = Claims {
        nbf: Some(now + 3600),
        ..claims(TokenType::Access)
    };
    vec![
        ("no header", None, "required"),
        (
            "another scheme",
            Some("Basic dXNlcjpwYXNz".into()),
            "required",
        ),
        ("an empty bearer", Some("Bearer ".into()), "required"),
        ("not a JWT", Some("Bearer not-a-token".into()), "malformed"),
        (
            "100 KB",
            Some(format!("Bearer {}", "a".repeat(100 * 1024))),
            "too long",
        ),
        (
            "alg none",
            Some(format!(
                "Bearer {}",
                token_with(
                    json!({"alg": "none", "typ": "JWT"}),
                    &claims(TokenType::Access),
                    None
                )
            )),
            "",
        ),
        (
            "HS512 with the right secret",
            Some(format!(
                "Bearer {}",
                token_with(
                    json!({"alg": "HS512", "typ": "JWT", "kid": "k1"}),
                    &claims(TokenType::Access),
                    Some((SECRET, Alg::Hs512))
                )
            )),
            "HS256",
        ),
        (
            "RS256 in the header",
            Some(format!(
                "Bearer {}",
                token_with(
                    json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}),
                    &claims(TokenType::Access),
                    Some((SECRET, Alg::Hs256))
                )
            )),
            "HS256",
        ),
        (
            "another secret",
            Some(format!(
                "Bearer {}",
                token_with(
                    hs256.clone(),
                    &claims(TokenType::Access),
                    Some((b"not the server's secret, 32 bytes", Alg::Hs256))
                )
            )),
            "signature",
        ),
        (
            "an unknown key id",
            Some(format!(
                "Bearer {}",
                token_with(
                    json!({"alg": "HS256", "typ": "JWT", "kid": "k9"}),
                    &claims(TokenType::Access),
                    Some((SECRET, Alg::Hs256))
                )
            )),
            "unknown key",
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                token_with(hs256.clone(), &expired, Some((SECRET, Alg::Hs256)))
            )),
            "expired",
        ),
        (
            "not valid yet",
            Some(format!(
                "Bearer {}",
                token_with(hs256.clone(), &early, Some((SECRET, Alg::Hs256)))
            )),
            "not valid yet",
        ),
        (
            "a refresh token",
            Some(format!(
                "Bearer {}",
                token_with(
                    hs256,
                    &claims(TokenType::Refresh),
                    Some((SECRET, Alg::Hs256))
                )
            )),
            "expected type",
        ),
    ]
}

#[tokio::test]
async fn every_bad_token_is_refused_on_both_transports_before_the_handler() {
    let s = start().await;
    let http = svcc_runtime::reqwest::Client::new();
    for (case, header, says) in refused_headers() {
        // REST: 401, `WWW-Authenticate: Bearer`, a message that says why, never the token.
        let mut req = http.get(format!("{}/v1/me", s.base));
        if let Some(h) = &header {
            req = req.header("authorization", h);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{case}");
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.starts_with("Bearer"), "{case}: {challenge}");
        assert_eq!(
            challenge.contains("error=\"invalid_token\""),
            says != "required",
            "{case}: {challenge}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "UNAUTHENTICATED", "{case}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(says), "{case}: {message}");
        if let Some(h) = &header {
            let token = h.split(' ').nth(1).unwrap_or_default();
            if token.len() > 8 {
                assert!(
                    !body.to_string().contains(token),
                    "{case}: the token came back"
                );
                assert!(!challenge.contains(token), "{case}: the token came back");
            }
        }
        // JSON-RPC: the unauthenticated code.
        let mut req = http
            .post(format!("{}/rpc", s.base))
            .body(r#"{"jsonrpc":"2.0","method":"guarded.me","id":7}"#);
        if let Some(h) = &header {
            req = req.header("authorization", h);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{case}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["error"]["code"],
            Code::Unauthenticated.jsonrpc(),
            "{case}: {body}"
        );
        assert_eq!(body["error"]["data"]["code"], "UNAUTHENTICATED", "{case}");
        assert_eq!(body["id"], 7);
    }
    assert_eq!(
        s.state.reached.load(Ordering::SeqCst),
        0,
        "a refused call ran"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_claims_on_both_transports() {
    let s = start().await;
    let pair = jwt()
        .issue_pair("user-42", Some("ada@example.com"))
        .unwrap();
    let rpc = guarded::GuardedJsonRpcClient::new(svcc_runtime::ClientConfig::new(&s.base));
    let rest = guarded::GuardedRestClient::new(svcc_runtime::ClientConfig::new(&s.base));
    let ctx = Context::new().with_header("authorization", &format!("Bearer {}", pair.access.token));
    for me in [
        rpc.me(ctx.clone()).await.unwrap(),
        rest.me(ctx.clone()).await.unwrap(),
    ] {
        assert_eq!(me.sub, "user-42");
        assert_eq!(me.email.as_deref(), Some("ada@example.com"));
    }
    // A token signed with a rotated-out key the server still accepts.
    let older = Jwt::new("k0", b"the key before the last rotation!!").unwrap();
    let rotated = Server::new()
        .jwt(Arc::new(
            jwt()
                .accept("k0", b"the key before the last rotation!!")
                .unwrap(),
        ))
        .service(guarded::GuardedServer::new(Shared(s.state.clone())).into_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(rotated.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let old = older.issue(TokenType::Access, "user-7", None).unwrap();
    let me = guarded::GuardedRestClient::new(svcc_runtime::ClientConfig::new(&base))
        .me(Context::new().with_header("authorization", &format!("Bearer {}", old.token)))
        .await
        .unwrap();
    assert_eq!(me.sub, "user-7");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert_eq!(s.state.reached.load(Ordering::SeqCst), 3);
    s.shutdown().await;
}

#[tokio::test]
async fn a_server_with_guarded_methods_and_no_key_refuses_to_start() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // SAFETY of the environment: no other test here reads JWT_SECRET.
    let e = Server::new()
        .service(guarded::GuardedServer::new(Shared(Arc::default())).into_service())
        .serve_until(listener, async {})
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("Guarded.me needs bearer tokens"),
        "{e}"
    );
}

/// The `Retry-After` of a 429, checked.
fn retry_after(r: &svcc_runtime::reqwest::Response) -> u64 {
    let v: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&v), "{v}");
    v
}

#[tokio::test]
async fn rate_limits_count_calls_globally_per_address_and_per_caller() {
    let s = start().await;
    let http = svcc_runtime::reqwest::Client::new();
    // Global: two calls an hour, whichever transport.
    let r = http
        .get(format!("{}/v1/open", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http
        .post(format!("{}/rpc", s.base))
        .body(r#"{"jsonrpc":"2.0","method":"guarded.open","id":1}"#)
        .send()
        .await
        .unwrap();
    assert!(r.json::<Value>().await.unwrap()["result"]["ok"] == true);
    let r = http
        .get(format!("{}/v1/open", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let wait = retry_after(&r);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "RESOURCE_EXHAUSTED");
    assert_eq!(body["data"]["retry_after_seconds"], wait);
    assert!(body["message"].as_str().unwrap().contains("2 calls per 1h"));
    let body: Value = http
        .post(format!("{}/rpc", s.base))
        .body(r#"{"jsonrpc":"2.0","method":"guarded.open","id":2}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["error"]["code"],
        Code::ResourceExhausted.jsonrpc(),
        "{body}"
    );
    assert!(
        body["error"]["data"]["retry_after_seconds"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // Per address: 127.0.0.1 once, then 127.0.0.2 has its own bucket.
    let from = |ip: [u8; 4]| {
        svcc_runtime::reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let url = format!("{}/v1/per-address", s.base);
    assert_eq!(
        from([127, 0, 0, 1])
            .post(&url)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = from([127, 0, 0, 1]).post(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    retry_after(&r);
    assert_eq!(
        from([127, 0, 0, 2])
            .post(&url)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Per caller: each subject once; every call of a batch counts.
    let token = |sub: &str| {
        format!(
            "Bearer {}",
            jwt().issue(TokenType::Access, sub, None).unwrap().token
        )
    };
    let batch = r#"[{"jsonrpc":"2.0","method":"guarded.perCaller","id":1},
                   {"jsonrpc":"2.0","method":"guarded.perCaller","id":2}]"#;
    let body: Value = http
        .post(format!("{}/rpc", s.base))
        .header("authorization", token("alice"))
        .body(batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answers = body.as_array().unwrap();
    assert_eq!(answers.len(), 2, "{body}");
    let limited = answers.iter().filter(|a| a.get("error").is_some()).count();
    assert_eq!(limited, 1, "one call of the batch over the limit: {body}");
    let r = http
        .post(format!("{}/v1/per-caller", s.base))
        .header("authorization", token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let r = http
        .post(format!("{}/v1/per-caller", s.base))
        .header("authorization", token("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Counted per method.
    let scrape = http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"svcc_rate_limited_total{rpc_service="Guarded",rpc_method="open"} 2"#,
        r#"svcc_rate_limited_total{rpc_service="Guarded",rpc_method="per_address"} 1"#,
        r#"svcc_rate_limited_total{rpc_service="Guarded",rpc_method="per_caller"} 2"#,
    ] {
        assert!(scrape.contains(expected), "{expected} not in\n{scrape}");
    }
    s.shutdown().await;
}
