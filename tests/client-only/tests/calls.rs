//! A client generated without servers calls the example's server over JSON-RPC and REST.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_client_only_tests::api::messenger::common::v1 as common;
use svcc_client_only_tests::api::messenger::user::v1 as user;
use svcc_runtime::client::ClientConfig;
use svcc_runtime::{Context, tokio};
use user::UserService as _;

#[tokio::test]
async fn client_only_code_calls_a_real_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let store = messenger::memory::Store::new();
    // `get` needs a bearer token; one signed with the server's keys.
    let token = store
        .jwt()
        .issue(svcc_runtime::auth::TokenType::Access, "reader", None)
        .unwrap()
        .token;
    let signed_in = Context::new().with_header("authorization", &format!("Bearer {token}"));
    let server = messenger::server(store);
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = rx.await;
    }));
    let rest = user::UserServiceRestClient::new(ClientConfig::new(&base));
    let created = rest
        .create(
            Context::default(),
            "Ada".to_string(),
            common::Email("ada@example.com".to_string()),
            common::Handle("ada_l".to_string()),
            None,
        )
        .await
        .unwrap()
        .user;
    let rpc = user::UserServiceJsonRpcClient::new(ClientConfig::new(&base));
    let got = rpc.get(signed_in, created.id).await.unwrap();
    assert_eq!(got, created);
    // Without one: the typed unauthenticated error.
    assert!(matches!(
        rpc.get(Context::default(), created.id).await,
        Err(user::user_service::GetError::Unauthenticated(_))
    ));
    tx.send(()).unwrap();
    task.await.unwrap().unwrap();
}
