//! The messenger example: the generated API, an in-memory implementation of its services, and
//! the server that serves them over JSON-RPC 2.0 and REST.

/// Everything generated from `idl/` (types, validators, service traits, servers, clients).
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/svc.rs"));
}

pub mod avatar;
pub mod memory;

use api::messenger::auth::v1::{AuthServiceServer, SessionServiceServer};
use api::messenger::chat::v1::ChatServiceServer;
use api::messenger::user::v1::{UserDeletedHandler as _, UserServiceServer};
use memory::{Auth, Chats, Session, Store, Users};
use std::sync::Arc;
use svcc_runtime::Server;
use svcc_runtime::events::kafka::{KafkaConfig, KafkaConsumer, KafkaPublisher};
use svcc_runtime::events::{Bus, MemoryLog};

/// A server with every messenger service on one address, backed by `store` (whose keys sign
/// and verify the tokens). Events go to an in-process log whose consumer is the chat service
/// (a deleted user leaves every chat).
pub fn server(store: Arc<Store>) -> Server {
    let log = in_process_events(&store);
    server_with_events(store, Arc::new(log))
}

/// The in-process event log, with the chat service subscribed to `user.deleted`.
pub fn in_process_events(store: &Arc<Store>) -> MemoryLog {
    let log = MemoryLog::new();
    log.subscribe(Chats(store.clone()).into_subscription());
    log
}

/// [`server`] with the events going to `bus` (Kafka, or a log of the caller's).
pub fn server_with_events(store: Arc<Store>, bus: Bus) -> Server {
    Server::new()
        .events(bus)
        .jwt(store.jwt())
        .openapi(api::OPENAPI_JSON)
        .service(UserServiceServer::new(Users(store.clone())).into_service())
        .service(AuthServiceServer::new(Auth(store.clone())).into_service())
        .service(SessionServiceServer::new(Session(store.clone())).into_service())
        .service(ChatServiceServer::new(Chats(store.clone())).into_service())
        .route(
            "/api/v1/users/{id}/avatar",
            svcc_runtime::axum::routing::put(avatar::upload),
        )
}

/// The Kafka publisher, and the chat service's consumer of `user.deleted` (a member of
/// `config.group_id`; run it with [`KafkaConsumer::run`]).
pub fn kafka(
    store: &Arc<Store>,
    config: &KafkaConfig,
) -> Result<(KafkaPublisher, KafkaConsumer), svcc_runtime::Error> {
    let publisher = KafkaPublisher::new(config)?;
    let consumer = KafkaConsumer::new(config, [Chats(store.clone()).into_subscription()])?;
    Ok((publisher, consumer))
}
