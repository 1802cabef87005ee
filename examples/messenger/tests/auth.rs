//! The messenger's real tokens: sign-in issues an HS256 pair, `whoami` answers from the
//! verified claims, `refresh` rotates the pair and a refresh token used twice revokes its whole
//! family, `logout` revokes the session; rate limits of the contract hold (`AuthService`,
//! 30 calls a minute).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger::api::messenger::auth::v1 as auth;
use messenger::api::messenger::common::v1 as common;
use messenger::api::messenger::user::v1 as user;
use messenger::memory::Store;
use svcc_runtime::auth::TokenType;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::serde_json::{Value, json};
use svcc_runtime::{Context, tokio};

use auth::{AuthService as _, SessionService as _};
use user::UserService as _;

struct Running {
    base: String,
    store: std::sync::Arc<Store>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let store = Store::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(
        messenger::server(store.clone()).serve_until(listener, async {
            let _ = stopped.await;
        }),
    );
    Running {
        base,
        store,
        stop,
        task,
    }
}

fn bearer(token: &str) -> Context {
    Context::new().with_header("authorization", &format!("Bearer {token}"))
}

/// Registers Ada and signs her in; returns her id and the pair.
async fn sign_in(s: &Running) -> (svcc_runtime::Uuid, auth::TokenPair) {
    let users = user::UserServiceRestClient::new(ClientConfig::new(&s.base));
    let ada = users
        .create(
            Context::new().into(),
            "Ada".into(),
            common::Email("ada@example.com".into()),
            common::Handle("ada_l".into()),
            None,
        )
        .await
        .unwrap()
        .user;
    let login = auth::AuthServiceRestClient::new(ClientConfig::new(&s.base))
        .login(
            Context::new(),
            common::Email("ada@example.com".into()),
            "password123".into(),
        )
        .await
        .unwrap();
    assert_eq!(login.user_id, ada.id);
    (ada.id, login.tokens)
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn sign_in_refresh_rotation_reuse_detection_and_sign_out() {
    let s = start().await;
    let (ada, pair) = sign_in(&s).await;
    // Real JWTs: the access token verifies with the server's keys and names Ada.
    let claims = s
        .store
        .jwt()
        .verify(&pair.access_token, TokenType::Access)
        .unwrap();
    assert_eq!(claims.sub, ada.to_string());
    assert_eq!(claims.email.as_deref(), Some("ada@example.com"));
    assert_eq!(pair.expires_in, svcc_runtime::Duration::from_secs(900));
    assert_eq!(pair.access_token.split('.').count(), 3);

    let sessions = auth::SessionServiceJsonRpcClient::new(ClientConfig::new(&s.base));
    let rest_sessions = auth::SessionServiceRestClient::new(ClientConfig::new(&s.base));
    let who = sessions
        .whoami(bearer(&pair.access_token), None)
        .await
        .unwrap();
    assert_eq!(who.user_id, ada);
    assert_eq!(
        who.expires_at,
        svcc_runtime::Timestamp::from(claims.expires_at())
    );
    // A refresh token is not an access token.
    assert!(matches!(
        rest_sessions
            .whoami(bearer(&pair.refresh_token), None)
            .await,
        Err(auth::session_service::WhoamiError::Unauthenticated(_))
    ));

    // Refresh rotates the pair, in the same session.
    let auths = auth::AuthServiceJsonRpcClient::new(ClientConfig::new(&s.base));
    let second = auths
        .refresh(Context::new(), pair.refresh_token.clone())
        .await
        .unwrap();
    assert_ne!(second.refresh_token, pair.refresh_token);
    assert_eq!(
        rest_sessions
            .whoami(bearer(&second.access_token), None)
            .await
            .unwrap()
            .user_id,
        ada
    );
    // An access token cannot refresh.
    match auths
        .refresh(Context::new(), pair.access_token.clone())
        .await
    {
        Err(auth::auth_service::RefreshError::InvalidToken(e)) => {
            assert!(e.reason.contains("type"), "{}", e.reason)
        }
        other => panic!("expected InvalidToken, got {other:?}"),
    }
    // The first refresh token, used again: a thief or a replay. The whole family is revoked:
    // the stolen one, the pair it was exchanged for, and every later one.
    match auths
        .refresh(Context::new(), pair.refresh_token.clone())
        .await
    {
        Err(auth::auth_service::RefreshError::InvalidToken(e)) => {
            assert!(e.reason.contains("already used"), "{}", e.reason)
        }
        other => panic!("expected InvalidToken, got {other:?}"),
    }
    assert!(matches!(
        auths
            .refresh(Context::new(), second.refresh_token.clone())
            .await,
        Err(auth::auth_service::RefreshError::InvalidToken(_))
    ));
    let r = svcc_runtime::reqwest::Client::new()
        .get(format!("{}/api/v1/auth/whoami", s.base))
        .bearer_auth(&second.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );

    // A new sign-in is a new family, unaffected; sign-out revokes it.
    let login = auths
        .login(
            Context::new(),
            common::Email("ada@example.com".into()),
            "password123".into(),
        )
        .await
        .unwrap();
    let fresh = login.tokens;
    sessions
        .whoami(bearer(&fresh.access_token), None)
        .await
        .unwrap();
    rest_sessions
        .logout(
            bearer(&fresh.access_token),
            None,
            Some(fresh.refresh_token.clone()),
        )
        .await
        .unwrap();
    assert!(matches!(
        sessions.whoami(bearer(&fresh.access_token), None).await,
        Err(auth::session_service::WhoamiError::Unauthenticated(_))
    ));
    assert!(matches!(
        auths.refresh(Context::new(), fresh.refresh_token).await,
        Err(auth::auth_service::RefreshError::InvalidToken(_))
    ));
    s.stop.send(()).unwrap();
    s.task.await.unwrap().unwrap();
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn the_contracts_rate_limits_hold() {
    let s = start().await;
    let http = svcc_runtime::reqwest::Client::new();
    // `UserService.create`: 10 a minute, then 429 with `Retry-After`.
    let mut statuses = Vec::new();
    for i in 0..11 {
        let r = http
            .post(format!("{}/api/v1/users", s.base))
            .json(&json!({
                "display_name": "U", "email": format!("u{i}@example.com"), "handle": format!("user_{i}")
            }))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if i == 10 {
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
    }
    assert_eq!(statuses, [[201; 10].as_slice(), &[429]].concat());
    // `AuthService`: 30 a minute for the service's methods, counted per method.
    let mut last = 0;
    for _ in 0..31 {
        last = http
            .post(format!("{}/api/v1/auth/login", s.base))
            .json(&json!({"email": "nobody@example.com", "password": "wrong password"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
    s.stop.send(()).unwrap();
    s.task.await.unwrap().unwrap();
}

#[test]
fn a_short_jwt_secret_is_refused_at_start_and_a_missing_one_is_loud() {
    use std::io::Read as _;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_messenger"))
        .env("BIND", "127.0.0.1:0")
        .env("JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("JWT_SECRET") && stderr.contains("at least 32"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("too-short"),
        "the secret reached the output"
    );
    // Unset: it starts, signing with a random key, and says so on its log.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_messenger"))
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("JWT_SECRET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("JWT_SECRET is not set") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "no warning: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
