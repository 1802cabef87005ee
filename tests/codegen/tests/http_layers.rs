//! HTTP-level layers on the server: CORS from `ServerConfig` (a real browser preflight) and any
//! tower layer through `Server::http_layer`, seen by REST and JSON-RPC requests alike.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use svcc_codegen_tests::api::guarded::v1 as guarded;
use svcc_runtime::auth::{Jwt, TokenType};
use svcc_runtime::axum::http::{HeaderValue, Method, header};
use svcc_runtime::{Context, Server, ServerConfig, tokio};

const SECRET: &[u8] = b"the http layer tests' secret, 32+ bytes";

struct Impl;

impl guarded::Guarded for Impl {
    async fn me(
        &self,
        ctx: Context,
    ) -> Result<guarded::guarded::MeResponse, guarded::guarded::MeError> {
        Ok(guarded::guarded::MeResponse {
            sub: ctx.subject().unwrap_or_default().to_string(),
            email: None,
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

async fn serve(server: Server) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    (base, stop)
}

fn server() -> Server {
    Server::new()
        .jwt(Arc::new(Jwt::new("k", SECRET).unwrap()))
        .service(guarded::GuardedServer::new(Impl).into_service())
}

fn token() -> String {
    Jwt::new("k", SECRET)
        .unwrap()
        .issue(TokenType::Access, "ada", None)
        .unwrap()
        .token
}

#[tokio::test]
async fn cors_answers_a_real_preflight_and_marks_responses_on_both_transports() {
    let origin = "https://app.example";
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(origin))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let config = ServerConfig {
        cors: Some(cors),
        ..Default::default()
    };
    let (base, stop) = serve(server().config(config)).await;
    let http = svcc_runtime::reqwest::Client::new();
    for path in ["/v1/me", "/rpc"] {
        // What a browser sends before a cross-origin call with an `Authorization` header.
        let r = http
            .request(Method::OPTIONS, format!("{base}{path}"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], origin, "{path}");
        let allowed = h["access-control-allow-headers"].to_str().unwrap();
        assert!(allowed.contains("authorization"), "{path}: {allowed}");
        assert!(
            h["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .contains("POST")
        );
    }
    // The calls themselves carry the origin's permission.
    let r = http
        .get(format!("{base}/v1/me"))
        .header("origin", origin)
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], origin);
    let r = http
        .post(format!("{base}/rpc"))
        .header("origin", origin)
        .bearer_auth(token())
        .body(r#"{"jsonrpc":"2.0","method":"guarded.me","id":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], origin);
    let body: svcc_runtime::serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["result"]["sub"], "ada", "{body}");
    let r = http
        .get(format!("{base}/v1/open"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    // An exact origin is always the one named (the browser then refuses the other origin).
    let allowed = r.headers().get("access-control-allow-origin");
    assert!(allowed.is_none_or(|v| v == origin), "{allowed:?}");
    stop.send(()).unwrap();
}

#[tokio::test]
async fn any_tower_layer_wraps_every_route() {
    let layer = svcc_runtime::axum::middleware::from_fn(
        |req: svcc_runtime::axum::extract::Request, next: svcc_runtime::axum::middleware::Next| async move {
            let mut res = next.run(req).await;
            res.headers_mut()
                .insert("x-team-layer", HeaderValue::from_static("seen"));
            res
        },
    );
    let (base, stop) = serve(server().http_layer(layer)).await;
    let http = svcc_runtime::reqwest::Client::new();
    let rest = http.get(format!("{base}/v1/open")).send().await.unwrap();
    let rpc = http
        .post(format!("{base}/rpc"))
        .body(r#"{"jsonrpc":"2.0","method":"guarded.open","id":1}"#)
        .send()
        .await
        .unwrap();
    let missing = http.get(format!("{base}/nope")).send().await.unwrap();
    let refused = http.get(format!("{base}/v1/me")).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    for r in [&rest, &rpc, &missing, &refused] {
        assert_eq!(r.headers()["x-team-layer"], "seen", "{}", r.url());
    }
    let body: svcc_runtime::serde_json::Value = rpc.json().await.unwrap();
    assert_eq!(body["result"]["ok"], true);
    stop.send(()).unwrap();
}
