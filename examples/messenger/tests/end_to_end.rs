//! The messenger served on loopback, driven by the generated clients over both transports
//! and by raw HTTP for the REST bindings and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use messenger::api::messenger::auth::v1 as auth;
use messenger::api::messenger::chat::v1 as chat;
use messenger::api::messenger::common::v1 as common;
use messenger::api::messenger::user::v1 as user;
use messenger::memory::Store;
use svcc_runtime::auth::{Jwt, TokenType};
use svcc_runtime::client::ClientConfig;
use svcc_runtime::serde_json::{Value, json};
use svcc_runtime::{Context, tokio};

use auth::{AuthService as _, SessionService as _};
use chat::ChatService as _;
use user::UserService as _;

struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Every server of these tests signs and verifies with this key.
const SECRET: &[u8] = b"end-to-end tests' secret, 32 bytes or more";

fn store() -> std::sync::Arc<Store> {
    Store::with_jwt(Jwt::new("test", SECRET).unwrap())
}

/// An access token for a user of the tests (methods under `@security(bearer)` need one).
fn token() -> String {
    let jwt = Jwt::new("test", SECRET).unwrap();
    let user = svcc_runtime::Uuid::new_v4().to_string();
    jwt.issue(TokenType::Access, &user, None).unwrap().token
}

/// A context that sends a valid access token.
fn signed_in() -> Context {
    Context::new().with_header("authorization", &format!("Bearer {}", token()))
}

async fn start() -> Running {
    start_with(messenger::server(store())).await
}

async fn start_with(server: svcc_runtime::Server) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    Running {
        base: format!("http://{addr}"),
        stop: Some(tx),
        done,
    }
}

impl Running {
    async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.done.await.unwrap().unwrap();
    }
}

fn email(s: &str) -> common::Email {
    common::Email(s.to_string())
}

fn handle(s: &str) -> common::Handle {
    common::Handle(s.to_string())
}

/// A client that sends a valid access token with every request.
fn http() -> svcc_runtime::reqwest::Client {
    let mut headers = svcc_runtime::reqwest::header::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {}", token()).parse().unwrap(),
    );
    svcc_runtime::reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn generated_clients_talk_to_the_generated_server_over_both_transports() {
    let s = start().await;
    let rpc = user::UserServiceJsonRpcClient::new(ClientConfig::new(&s.base));
    let rest = user::UserServiceRestClient::new(ClientConfig::new(&s.base));
    let ctx = signed_in();

    let created = rpc
        .create(
            ctx.clone().into(),
            "Ada".into(),
            email("ada@example.com"),
            handle("ada_l"),
            None,
        )
        .await
        .unwrap();
    let created_rest = rest
        .create(
            ctx.clone().into(),
            "Grace".into(),
            email("grace@example.com"),
            handle("grace"),
            Some("invite-1".into()),
        )
        .await
        .unwrap();
    assert_eq!(created.user.handle.0, "ada_l");
    assert_eq!(
        created_rest.user.role,
        user::Role::Member,
        "defaults survive the round trip"
    );

    // Each transport reads what the other wrote.
    assert_eq!(
        rest.get(ctx.clone(), created.user.id).await.unwrap(),
        created.user
    );
    assert_eq!(
        rpc.get(ctx.clone(), created_rest.user.id).await.unwrap(),
        created_rest.user
    );

    // Query parameters and paging over REST (GET → query string).
    let page = rest
        .list(ctx.clone(), Some("ad".into()), None, 1)
        .await
        .unwrap();
    assert_eq!(page.users.len(), 1);
    assert_eq!(page.users[0].id, created.user.id);
    let all = rpc.list(ctx.clone(), None, None, 1).await.unwrap();
    assert!(all.page.has_more);
    let next = rpc
        .list(ctx.clone(), None, all.page.next_cursor.clone(), 1)
        .await
        .unwrap();
    assert_eq!(next.users.len(), 1);
    assert_ne!(next.users[0].id, all.users[0].id);

    // Typed errors, decoded from both transports.
    let missing = svcc_runtime::Uuid::new_v4();
    match rpc.get(ctx.clone(), missing).await {
        Err(user::user_service::GetError::UserNotFound(e)) => assert_eq!(e.user_id, missing),
        other => panic!("expected UserNotFound over JSON-RPC, got {other:?}"),
    }
    match rest.get(ctx.clone(), missing).await {
        Err(user::user_service::GetError::UserNotFound(e)) => assert_eq!(e.user_id, missing),
        other => panic!("expected UserNotFound over REST, got {other:?}"),
    }
    match rest
        .create(
            ctx.clone().into(),
            "Ada again".into(),
            email("ADA@example.com"),
            handle("ada2"),
            None,
        )
        .await
    {
        Err(user::user_service::CreateError::EmailTaken(e)) => {
            assert_eq!(e.email.0, "ADA@example.com")
        }
        other => panic!("expected EmailTaken, got {other:?}"),
    }

    // Validation failures list every violation, with paths, over both transports.
    for result in [
        rpc.create(
            ctx.clone().into(),
            String::new(),
            email("nope"),
            handle("X!"),
            None,
        )
        .await,
        rest.create(
            ctx.clone().into(),
            String::new(),
            email("nope"),
            handle("X!"),
            None,
        )
        .await,
    ] {
        let Err(user::user_service::CreateError::Other(e)) = result else {
            panic!("expected a validation error, got {result:?}");
        };
        assert_eq!(e.kind, svcc_runtime::Code::InvalidArgument);
        let v = &e.data.as_ref().unwrap()["violations"];
        let paths: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["display_name", "email", "handle", "handle"], "{v}");
    }

    // Typed batches over JSON-RPC.
    let mut batch = user::UserServiceBatch::new();
    let a = batch.get(created.user.id);
    let b = batch.get(missing);
    let c = batch.list(None, None, 10);
    batch.send(&rpc, &ctx).await.unwrap();
    assert_eq!(a.take().unwrap().id, created.user.id);
    assert!(matches!(
        b.take(),
        Err(user::user_service::GetError::UserNotFound(_))
    ));
    assert_eq!(c.take().unwrap().users.len(), 2);
    s.shutdown().await;
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn headers_and_cookies_travel_on_both_transports() {
    let s = start().await;
    let ctx = Context::new();
    let users = user::UserServiceRestClient::new(ClientConfig::new(&s.base));
    users
        .create(
            ctx.clone().into(),
            "Ada".into(),
            email("ada@example.com"),
            handle("ada_l"),
            None,
        )
        .await
        .unwrap();
    for transport in ["rpc", "rest"] {
        let login = match transport {
            "rpc" => auth::AuthServiceJsonRpcClient::new(ClientConfig::new(&s.base))
                .login(ctx.clone(), email("ada@example.com"), "password123".into())
                .await
                .unwrap(),
            _ => auth::AuthServiceRestClient::new(ClientConfig::new(&s.base))
                .login(ctx.clone(), email("ada@example.com"), "password123".into())
                .await
                .unwrap(),
        };
        // `session` came back as a cookie, not in the body.
        assert_eq!(login.session, login.tokens.access_token, "{transport}");
        let authed = Context::new().with_header(
            "authorization",
            &format!("Bearer {}", login.tokens.access_token),
        );
        let who = match transport {
            "rpc" => {
                auth::SessionServiceJsonRpcClient::new(ClientConfig::new(&s.base))
                    .whoami(authed.clone(), Some("test".into()))
                    .await
            }
            _ => {
                auth::SessionServiceRestClient::new(ClientConfig::new(&s.base))
                    .whoami(authed.clone(), Some("test".into()))
                    .await
            }
        }
        .unwrap();
        assert_eq!(who.user_id, login.user_id, "{transport}");
    }
    // Raw: the cookie and the header result are really in the HTTP response, not the body.
    let resp = http()
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"email": "ada@example.com", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("session="), "{cookie}");
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("session").is_none(), "{body}");
    let token = body["tokens"]["access_token"].as_str().unwrap().to_string();
    let resp = http()
        .get(format!("{}/api/v1/auth/whoami", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("x-token-expires"));
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("expires_at").is_none(), "{body}");
    // A cookie parameter is read from the Cookie header: logout with the session cookie.
    let resp = http()
        .post(format!("{}/api/v1/auth/logout", s.base))
        .bearer_auth(&token)
        .header("cookie", format!("session={token}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(resp.text().await.unwrap(), "");
    s.shutdown().await;
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn rest_bindings_statuses_and_errors() {
    let s = start().await;
    let base = &s.base;
    // 201 with a body.
    let r = http()
        .post(format!("{base}/api/v1/users"))
        .json(&json!({"display_name": "Ada", "email": "ada@example.com", "handle": "ada_l"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    // No id sent: a fresh UUID is made (and differs per request).
    let is_uuid = |s: &str| {
        s.len() == 36
            && s.matches('-').count() == 4
            && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
    };
    let made = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(is_uuid(&made), "{made}");
    let id = r.json::<Value>().await.unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Path parameter; a request id is echoed.
    let r = http()
        .get(format!("{base}/api/v1/users/{id}"))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-request-id"], "req-42");
    // An empty id is replaced by a fresh one, not echoed.
    let r = http()
        .get(format!("{base}/api/v1/users/{id}"))
        .header("x-request-id", "")
        .send()
        .await
        .unwrap();
    let fresh = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(is_uuid(&fresh) && fresh != made, "{fresh}");
    // A path value of the wrong type: 400 with a clear body.
    let r = http()
        .get(format!("{base}/api/v1/users/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_ARGUMENT");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("parameter `id`: ") && message.contains("UUID"),
        "the parameter is named: {body}"
    );
    // The same over JSON-RPC, for a body parameter of the wrong type and one left out.
    let r: Value = http()
        .post(format!("{base}/rpc"))
        .body(r#"{"jsonrpc":"2.0","method":"userService.get","params":{"id":"nope"},"id":1}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("parameter `id`: "), "{r}");
    let r: Value = http()
        .post(format!("{base}/rpc"))
        .body(r#"{"jsonrpc":"2.0","method":"userService.get","params":{},"id":1}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["error"]["message"], "missing parameter `id`", "{r}");
    // A query value of the wrong type.
    let r = http()
        .get(format!("{base}/api/v1/users?limit=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("`limit`")
    );
    // A declared error: its status and {code, message, data}.
    let missing = svcc_runtime::Uuid::new_v4();
    let r = http()
        .get(format!("{base}/api/v1/users/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "USER_NOT_FOUND");
    assert_eq!(body["data"]["user_id"], json!(missing.to_string()));
    // 204 without a body.
    let r = http()
        .post(format!("{base}/api/v1/users/{id}/archive"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!((status, text.as_str()), (204, ""));
    // Unknown route, wrong method.
    let r = http()
        .get(format!("{base}/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = http()
        .patch(format!("{base}/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    // The hand-written @handler route.
    let r = http()
        .put(format!("{base}/api/v1/users/{id}/avatar"))
        .header("content-type", "image/png")
        .body(b"\x89PNG\r\n\x1a\nrest".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    // The server serves its own OpenAPI document, describing the routes it serves.
    let doc: Value = http()
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"]["/api/v1/users/{id}"]["get"].is_object());
    assert!(doc["paths"]["/rpc/userService.create"]["post"].is_object());
    assert_eq!(
        doc["components"]["schemas"]["Handle"]["pattern"],
        "^(?:^[a-z0-9_]+$)$"
    );
    // Health.
    assert_eq!(
        http()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        http()
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    s.shutdown().await;
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn bad_input_gets_the_right_error_and_the_server_keeps_serving() {
    let s = start().await;
    let base = &s.base;
    let rpc = format!("{base}/rpc");
    let send = |url: String, body: Vec<u8>| async move {
        let r = http()
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    };
    // Malformed JSON.
    let (st, body) = send(rpc.clone(), b"{\"jsonrpc\": \"2.0\", ".to_vec()).await;
    assert_eq!(st, 200);
    assert!(body.contains("-32700"), "{body}");
    let (st, body) = send(format!("{base}/api/v1/users"), b"{not json".to_vec()).await;
    assert_eq!(st, 400, "{body}");
    // Wrong types.
    let (_, body) = send(rpc.clone(), br#"{"jsonrpc":"2.0","method":"userService.create","params":{"display_name":5,"email":"a@b.co","handle":"abc"},"id":1}"#.to_vec()).await;
    assert!(body.contains("-32602"), "{body}");
    let (st, _) = send(
        format!("{base}/api/v1/users"),
        br#"{"display_name":[1],"email":"a@b.co","handle":"abc"}"#.to_vec(),
    )
    .await;
    assert_eq!(st, 400);
    // A media type other than the declared one (JSON): 415.
    let r = http()
        .post(format!("{base}/api/v1/users"))
        .header("content-type", "text/plain")
        .body(r#"{"display_name":"A","email":"a@b.co","handle":"abc"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    // A body that is not an object.
    let (st, _) = send(format!("{base}/api/v1/users"), b"[1,2]".to_vec()).await;
    assert_eq!(st, 400);
    // Invalid UTF-8.
    let (st, body) = send(rpc.clone(), vec![b'{', 0xff, 0xfe, b'}']).await;
    assert_eq!(st, 200);
    assert!(body.contains("-32700"), "{body}");
    // Deeply nested JSON: a parse error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // (A batch whose one element is nested too deep: a parse error, or an invalid request.)
    let (st, body) = send(rpc.clone(), deep.clone().into_bytes()).await;
    assert_eq!(st, 200);
    assert!(body.contains("-32700") || body.contains("-32600"), "{body}");
    let nested_params = format!(
        r#"{{"jsonrpc":"2.0","method":"userService.list","params":{{"query":{}}},"id":1}}"#,
        deep
    );
    let (_, body) = send(rpc.clone(), nested_params.into_bytes()).await;
    assert!(body.contains("-32700") || body.contains("-32602"), "{body}");
    let (st, _) = send(
        format!("{base}/api/v1/users"),
        format!(r#"{{"display_name":{deep}}}"#).into_bytes(),
    )
    .await;
    assert_eq!(st, 400);
    // Oversized body (over the 4 MiB default).
    let huge = format!(
        r#"{{"jsonrpc":"2.0","method":"userService.list","params":{{"q":"{}"}},"id":1}}"#,
        "a".repeat(5 * 1024 * 1024)
    );
    let (st, _) = send(rpc.clone(), huge.into_bytes()).await;
    assert_eq!(st, 413);
    // Still serving.
    let (st, body) = send(
        rpc.clone(),
        br#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":7}"#.to_vec(),
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        body.contains("\"id\":7") && body.contains("\"result\""),
        "{body}"
    );
    s.shutdown().await;
}

/// A user service whose `get` waits until told to finish (for the shutdown test) and whose
/// `list` panics (for the panic test); the rest is the in-memory implementation.
#[derive(Clone)]
struct Gated {
    inner: messenger::memory::Users,
    entered: std::sync::Arc<tokio::sync::Notify>,
    release: std::sync::Arc<tokio::sync::Notify>,
}

impl user::UserService for Gated {
    async fn create(
        &self,
        ctx: user::user_service::CreateContext,
        d: String,
        e: common::Email,
        h: common::Handle,
        i: Option<String>,
    ) -> Result<user::user_service::CreateResponse, user::user_service::CreateError> {
        self.inner.create(ctx, d, e, h, i).await
    }
    async fn get(
        &self,
        _ctx: Context,
        id: common::UserId,
    ) -> Result<user::User, user::user_service::GetError> {
        self.entered.notify_one();
        self.release.notified().await;
        Err(user::UserNotFound { user_id: id }.into())
    }
    async fn list(
        &self,
        _ctx: Context,
        _q: Option<String>,
        _c: Option<common::Cursor>,
        _l: i32,
    ) -> Result<user::user_service::ListResponse, user::user_service::ListError> {
        panic!("a bug in a handler");
    }
    async fn update(
        &self,
        ctx: Context,
        id: common::UserId,
        d: Option<String>,
        t: Option<Vec<String>>,
    ) -> Result<user::User, user::user_service::UpdateError> {
        self.inner.update(ctx, id, d, t).await
    }
    #[allow(deprecated)]
    async fn delete(
        &self,
        ctx: user::user_service::DeleteContext,
        id: common::UserId,
    ) -> Result<(), user::user_service::DeleteError> {
        self.inner.delete(ctx, id).await
    }
    async fn archive(
        &self,
        ctx: user::user_service::ArchiveContext,
        id: common::UserId,
        r: Option<String>,
    ) -> Result<(), user::user_service::ArchiveError> {
        self.inner.archive(ctx, id, r).await
    }
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
    let gated = Gated {
        inner: messenger::memory::Users(Store::new()),
        entered: Default::default(),
        release: Default::default(),
    };
    let s = start_with(
        svcc_runtime::Server::new()
            .jwt(store().jwt())
            .service(user::UserServiceServer::new(gated).into_service()),
    )
    .await;
    let r = http()
        .get(format!("{}/api/v1/users", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let r = http()
        .post(format!("{}/rpc", s.base))
        .body(r#"{"jsonrpc":"2.0","method":"userService.list","params":{},"id":1}"#)
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("-32603"));
    assert_eq!(
        http()
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    s.shutdown().await;
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn shutdown_drains_a_request_in_flight_then_runs_hooks_in_order() {
    let gated = Gated {
        inner: messenger::memory::Users(Store::new()),
        entered: Default::default(),
        release: Default::default(),
    };
    let entered = gated.entered.clone();
    let release = gated.release.clone();
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (o1, o2) = (order.clone(), order.clone());
    let server = svcc_runtime::Server::new()
        .jwt(store().jwt())
        .service(user::UserServiceServer::new(gated).into_service())
        .on_shutdown(
            "first",
            move || async move { o1.lock().unwrap().push("first") },
        )
        .on_shutdown("second", move || async move {
            o2.lock().unwrap().push("second")
        });
    let s = start_with(server).await;
    let url = format!("{}/api/v1/users/{}", s.base, svcc_runtime::Uuid::new_v4());
    let in_flight =
        tokio::spawn(async move { http().get(url).send().await.map(|r| r.status().as_u16()) });
    entered.notified().await;
    // Shut down while the request is in flight; it must still complete.
    let Running { base, stop, done } = s;
    let _ = stop.map(|tx| tx.send(()));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !done.is_finished(),
        "the server must wait for the request in flight"
    );
    // New connections are refused once shutdown has begun.
    assert!(http().get(format!("{base}/healthz")).send().await.is_err());
    release.notify_one();
    assert_eq!(in_flight.await.unwrap().unwrap(), 404);
    done.await.unwrap().unwrap();
    assert_eq!(*order.lock().unwrap(), ["first", "second"]);
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn chats_end_to_end_with_unions_and_rate_limited_paths() {
    let s = start().await;
    let ctx = Context::new();
    let users = user::UserServiceJsonRpcClient::new(ClientConfig::new(&s.base));
    let a = users
        .create(
            ctx.clone().into(),
            "Ada".into(),
            email("ada@example.com"),
            handle("ada_l"),
            None,
        )
        .await
        .unwrap()
        .user;
    let b = users
        .create(
            ctx.clone().into(),
            "Bob".into(),
            email("bob@example.com"),
            handle("bob"),
            None,
        )
        .await
        .unwrap()
        .user;
    let login = auth::AuthServiceRestClient::new(ClientConfig::new(&s.base))
        .login(ctx.clone(), email("ada@example.com"), "password123".into())
        .await
        .unwrap();
    let authed = Context::new().with_header(
        "authorization",
        &format!("Bearer {}", login.tokens.access_token),
    );
    for transport in ["rpc", "rest"] {
        let chats: Box<dyn Fn() -> ChatClient> = match transport {
            "rpc" => Box::new({
                let b = s.base.clone();
                move || ChatClient::Rpc(chat::ChatServiceJsonRpcClient::new(ClientConfig::new(&b)))
            }),
            _ => Box::new({
                let b = s.base.clone();
                move || ChatClient::Rest(chat::ChatServiceRestClient::new(ClientConfig::new(&b)))
            }),
        };
        let c = chats().create(authed.clone(), vec![b.id]).await;
        assert_eq!(c.owner_id, a.id, "{transport}");
        assert_eq!(c.kind, chat::ChatKind::Group, "default kind ({transport})");
        let content = chat::Content::Text(chat::Text {
            body: "hello".into(),
        });
        let m = chats().send(authed.clone(), c.id, content.clone()).await;
        assert_eq!(m.content, content);
        // An empty text breaks the union variant's record constraint: violation path inside the union.
        let bad = chats()
            .send_err(
                authed.clone(),
                c.id,
                chat::Content::Text(chat::Text {
                    body: String::new(),
                }),
            )
            .await;
        assert!(bad.contains("content.text.body"), "{transport}: {bad}");
    }
    s.shutdown().await;
}

enum ChatClient {
    Rpc(chat::ChatServiceJsonRpcClient),
    Rest(chat::ChatServiceRestClient),
}

impl ChatClient {
    async fn create(&self, ctx: Context, members: Vec<svcc_runtime::Uuid>) -> chat::Chat {
        match self {
            ChatClient::Rpc(c) => {
                c.create_chat(ctx, "Team".into(), chat::ChatKind::Group, members)
                    .await
            }
            ChatClient::Rest(c) => {
                c.create_chat(ctx, "Team".into(), chat::ChatKind::Group, members)
                    .await
            }
        }
        .unwrap()
    }

    async fn send(
        &self,
        ctx: Context,
        chat_id: svcc_runtime::Uuid,
        content: chat::Content,
    ) -> chat::Message {
        match self {
            ChatClient::Rpc(c) => c.send_message(ctx, chat_id, content, None).await,
            ChatClient::Rest(c) => {
                c.send_message(ctx, chat_id, content, Some("k1".into()))
                    .await
            }
        }
        .unwrap()
    }

    async fn send_err(
        &self,
        ctx: Context,
        chat_id: svcc_runtime::Uuid,
        content: chat::Content,
    ) -> String {
        let r = match self {
            ChatClient::Rpc(c) => c.send_message(ctx, chat_id, content, None).await,
            ChatClient::Rest(c) => c.send_message(ctx, chat_id, content, None).await,
        };
        match r {
            Err(chat::chat_service::SendMessageError::Other(e)) => {
                e.data.map(|d| d.to_string()).unwrap_or_default()
            }
            other => format!("unexpected: {other:?}"),
        }
    }
}

/// A client that writes its whole oversized body before reading (as Python's `urllib` and many
/// simple clients do) reads the `413`, on both transports, instead of a broken pipe.
#[tokio::test(crate = "svcc_runtime::tokio")]
async fn an_oversized_body_written_whole_still_gets_its_413() {
    let s = start().await;
    let addr = s.base.trim_start_matches("http://").to_string();
    for path in ["/rpc", "/api/v1/users"] {
        let addr = addr.clone();
        let answer = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(&addr).unwrap();
            let size = 6 * 1024 * 1024;
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).unwrap();
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..size / chunk.len() {
                stream
                    .write_all(&chunk)
                    .unwrap_or_else(|e| panic!("{path}: the server stopped reading: {e}"));
            }
            let mut answer = String::new();
            let mut buf = [0u8; 4096];
            while !answer.contains("\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                answer.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            answer
        })
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
    }
    s.shutdown().await;
}

/// A client that asks `Expect: 100-continue` for an oversized body is refused at once, before
/// it sends anything.
#[tokio::test(crate = "svcc_runtime::tokio")]
async fn an_oversized_body_behind_expect_continue_is_refused_unsent() {
    let s = start().await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /rpc HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 6291456\r\nExpect: 100-continue\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    s.shutdown().await;
}
