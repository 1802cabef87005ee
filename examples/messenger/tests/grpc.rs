//! The messenger over gRPC through its generated clients: the same flows the JSON-RPC and REST
//! tests drive — sign-up, sign-in with the cookie and header results, guarded calls, typed
//! errors, validation, the contract's rate limit — on the server's one port.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use messenger::api::messenger::auth::v1 as auth;
use messenger::api::messenger::common::v1 as common;
use messenger::api::messenger::user::v1 as user;
use messenger::memory::Store;
use svcc_runtime::auth::Jwt;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::{Code, Context, tokio};

use auth::{AuthService as _, SessionService as _};
use user::UserService as _;

const SECRET: &[u8] = b"gRPC tests' secret, 32 bytes or more....";

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn the_messenger_over_grpc() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = messenger::server(Store::with_jwt(Jwt::new("test", SECRET).unwrap()));
    let done = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));

    let users = user::UserServiceGrpcClient::new(ClientConfig::new(&base));
    let sign_in = auth::AuthServiceGrpcClient::new(ClientConfig::new(&base));
    let sessions = auth::SessionServiceGrpcClient::new(ClientConfig::new(&base));
    let email = |s: &str| common::Email(s.to_string());

    // A public method, with a header parameter (`X-Invite`) sent as metadata.
    let ada = users
        .create(
            Context::new().into(),
            "Ada".into(),
            email("ada@example.com"),
            common::Handle("ada_l".into()),
            Some("invite-1".into()),
        )
        .await
        .unwrap()
        .user;
    assert_eq!(
        (ada.handle.0.as_str(), ada.role),
        ("ada_l", user::Role::Member)
    );

    // Sign-in: the `session` cookie result comes back in the response metadata.
    let login = sign_in
        .login(
            Context::new(),
            email("ada@example.com"),
            "password123".into(),
        )
        .await
        .unwrap();
    assert_eq!(login.user_id, ada.id);
    assert_eq!(login.session, login.tokens.access_token);
    let bearer = Context::new().with_header(
        "authorization",
        &format!("Bearer {}", login.tokens.access_token),
    );

    // A guarded method: refused without the token, answered with it; a header result back.
    match users.list(Context::new(), None, None, 10).await {
        Err(user::user_service::ListError::Unauthenticated(_)) => {}
        Err(user::user_service::ListError::Other(e)) if e.kind == Code::Unauthenticated => {}
        other => panic!("expected unauthenticated, got {other:?}"),
    }
    let page = users.list(bearer.clone(), None, None, 10).await.unwrap();
    assert_eq!(page.users, std::slice::from_ref(&ada));
    let who = sessions
        .whoami(bearer.clone(), Some("grpc-test".into()))
        .await
        .unwrap();
    assert_eq!(who.user_id, ada.id);
    assert!(who.expires_at.0 > time_now().0, "{:?}", who.expires_at);

    // Typed errors with their payloads.
    let missing = svcc_runtime::Uuid::new_v4();
    match users.get(bearer.clone(), missing).await {
        Err(user::user_service::GetError::UserNotFound(e)) => assert_eq!(e.user_id, missing),
        other => panic!("expected UserNotFound, got {other:?}"),
    }
    match users
        .create(
            Context::new().into(),
            "Ada again".into(),
            email("ada@example.com"),
            common::Handle("ada2".into()),
            None,
        )
        .await
    {
        Err(user::user_service::CreateError::EmailTaken(e)) => {
            assert_eq!(e.email.0, "ada@example.com")
        }
        other => panic!("expected EmailTaken, got {other:?}"),
    }

    // Validation: every violation, with its path.
    match users
        .create(
            Context::new().into(),
            String::new(),
            email("nope"),
            common::Handle("X!".into()),
            None,
        )
        .await
    {
        Err(user::user_service::CreateError::Other(e)) => {
            assert_eq!(e.kind, Code::InvalidArgument);
            let paths: Vec<String> = e.data.unwrap()["violations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["path"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(paths, ["display_name", "email", "handle", "handle"]);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }

    // The contract's rate limit (10 creations a minute) holds over gRPC, with its retry hint.
    let mut limited = None;
    for i in 0..12 {
        let r = users
            .create(
                Context::new().into(),
                format!("U{i}"),
                email(&format!("u{i}@example.com")),
                common::Handle(format!("user_{i}")),
                None,
            )
            .await;
        if let Err(e) = r {
            limited = Some(e);
            break;
        }
    }
    match limited {
        Some(user::user_service::CreateError::Other(e)) if e.kind == Code::ResourceExhausted => {
            let wait = e.data.as_ref().unwrap()["retry_after_seconds"]
                .as_u64()
                .unwrap();
            assert!((1..=60).contains(&wait), "{e:?}");
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }

    let _ = stop.send(());
    done.await.unwrap().unwrap();
}

fn time_now() -> svcc_runtime::Timestamp {
    svcc_runtime::Timestamp::now()
}
