//! The messenger's events with no broker: `user.create` publishes `UserCreated`, `delete` and
//! `archive` publish `UserDeleted` (their contract says `emits`), and the chat service's
//! consumer of `user.deleted` takes the user out of every chat — through the in-process log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use messenger::api::messenger::auth::v1 as auth;
use messenger::api::messenger::chat::v1 as chat;
use messenger::api::messenger::common::v1 as common;
use messenger::api::messenger::user::v1 as user;
use messenger::memory::{Chats, Store};
use std::sync::Arc;
use svcc_runtime::auth::Jwt;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::events::{Format, MemoryLog, Record};
use svcc_runtime::{Context, tokio};

use auth::AuthService as _;
use chat::ChatService as _;
use user::UserDeletedHandler as _;
use user::UserService as _;

const SECRET: &[u8] = b"events tests' secret, 32 bytes or more..";

async fn eventually<T>(mut f: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("not within 2 s");
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn user_events_are_published_and_the_chat_service_consumes_them() {
    let store = Store::with_jwt(Jwt::new("test", SECRET).unwrap());
    let log = MemoryLog::new();
    log.subscribe(Chats(store.clone()).into_subscription());
    let server = messenger::server_with_events(store, Arc::new(log.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let users = user::UserServiceJsonRpcClient::new(ClientConfig::new(&base));
    let sign_in = auth::AuthServiceRestClient::new(ClientConfig::new(&base));
    let chats = chat::ChatServiceRestClient::new(ClientConfig::new(&base));
    let create = async |name: &str| {
        users
            .create(
                Context::new()
                    .with_header("x-request-id", &format!("req-{name}"))
                    .into(),
                name.into(),
                common::Email(format!("{name}@example.com")),
                common::Handle(name.into()),
                None,
            )
            .await
            .unwrap()
            .user
    };

    // Creating a user publishes one `UserCreated`, keyed by the user's id, on `user.created`.
    let ada = create("ada").await;
    let records = log.records();
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r.topic, "user.created");
    assert_eq!(r.key.as_deref(), Some(ada.id.to_string().as_str()));
    assert_eq!(r.event_name(), Some("messenger.user.v1.UserCreated"));
    assert_eq!(
        r.header("content-type"),
        Some(Format::Protobuf.content_type())
    );
    assert_eq!(r.header("x-request-id"), Some("req-ada"));
    let created: user::UserCreated = r.decode().unwrap();
    assert_eq!(
        (
            created.user_id,
            created.email.0.as_str(),
            created.handle.0.as_str()
        ),
        (ada.id, "ada@example.com", "ada")
    );
    assert_eq!(created.created_at, ada.created_at);
    // The payload is protobuf, not JSON: field 1 (user_id, a string) comes first.
    assert_eq!(r.payload[0], 0x0a, "{:?}", r.payload);
    assert!(
        svcc_runtime::serde_json::from_slice::<svcc_runtime::serde_json::Value>(&r.payload)
            .is_err()
    );

    // A refused call publishes nothing.
    let again = users
        .create(
            Context::new().into(),
            "Ada".into(),
            common::Email("ada@example.com".into()),
            common::Handle("ada2".into()),
            None,
        )
        .await;
    assert!(again.is_err());
    assert_eq!(log.records().len(), 1);

    // Bob joins Ada's chat; deleting Bob publishes `UserDeleted`, and the chat service's
    // consumer takes him out of the chat.
    let bob = create("bob").await;
    let login = sign_in
        .login(
            Context::new(),
            common::Email("ada@example.com".into()),
            "password123".into(),
        )
        .await
        .unwrap();
    let bearer = || {
        Context::new().with_header(
            "authorization",
            &format!("Bearer {}", login.tokens.access_token),
        )
    };
    let c = chats
        .create_chat(bearer(), "team".into(), chat::ChatKind::Group, vec![bob.id])
        .await
        .unwrap();
    assert!(c.member_ids.contains(&bob.id));
    #[allow(deprecated)]
    users.delete(bearer().into(), bob.id).await.unwrap();
    let deleted = log
        .records()
        .into_iter()
        .find(|r| r.topic == "user.deleted")
        .expect("a user.deleted record");
    let event: user::UserDeleted = deleted.decode().unwrap();
    assert_eq!((event.user_id, event.reason), (bob.id, None));
    assert_eq!(deleted.key, Some(bob.id.to_string()));
    eventually(async || {
        let c = chats.get_chat(bearer(), c.id).await.unwrap();
        (!c.member_ids.contains(&bob.id)).then_some(())
    })
    .await;
    assert!(log.dead().is_empty());

    // /metrics counts what was sent and handled, by system, topic and outcome.
    let metrics = svcc_runtime::reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        r#"messaging_client_sent_messages_total{messaging_system="memory",messaging_destination_name="user.created",messaging_consumer_group_name="",outcome="ok"}"#,
        r#"messaging_client_consumed_messages_total{messaging_system="memory",messaging_destination_name="user.deleted",messaging_consumer_group_name="",outcome="ok"}"#,
        r#"messaging_process_duration_seconds_bucket{le="+Inf",messaging_system="memory",messaging_destination_name="user.deleted",messaging_consumer_group_name=""}"#,
    ] {
        assert!(metrics.contains(series), "{series} missing from\n{metrics}");
    }

    stop.send(()).unwrap();
    done.await.unwrap().unwrap();
}

#[tokio::test(crate = "svcc_runtime::tokio")]
async fn a_consumer_refuses_undecodable_records_and_skips_unknown_events() {
    let store = Store::with_jwt(Jwt::new("test", SECRET).unwrap());
    let sub = Chats(store).into_subscription();
    let record = |event: &str, payload: Vec<u8>| Record {
        topic: "user.deleted".into(),
        key: None,
        payload,
        headers: vec![("svcc-event".into(), event.into())],
    };
    // Garbage where a `UserDeleted` should be: an error (retried, then dead-lettered).
    let bad = (sub.handle)(record(
        "messenger.user.v1.UserDeleted",
        vec![0xff, 0xff, 0x01],
    ))
    .await;
    assert!(bad.is_err(), "{bad:?}");
    // A valid message whose `user_id` is not a UUID breaks the contract: refused too.
    let mut wrong = vec![0x0a, 0x03];
    wrong.extend_from_slice(b"abc");
    let refused = (sub.handle)(record("messenger.user.v1.UserDeleted", wrong)).await;
    assert!(refused.is_err(), "{refused:?}");
    // Another producer's event on the topic: skipped, not an error.
    let other = (sub.handle)(record("other.v1.Thing", vec![1, 2, 3])).await;
    assert!(other.is_ok(), "{other:?}");
}
