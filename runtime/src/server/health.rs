//! The standard health contract (`idl/svc/health/v1/health.svc`), served by every server:
//! `GET /healthz` (liveness) and `GET /readyz` (readiness). The bodies are the contract's
//! results as a generated client reads them: `{"status": "Serving"}` and
//! `{"status": "Serving", "checks": {}}`; a server that is not ready answers `503` with
//! `"NotServing"`.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The liveness answer.
pub const LIVE: &str = r#"{"status":"Serving"}"#;
/// The readiness answer while ready.
pub const READY: &str = r#"{"status":"Serving","checks":{}}"#;
/// The readiness answer while not ready (starting or draining), with `503`.
pub const NOT_READY: &str = r#"{"status":"NotServing","checks":{}}"#;

fn json(status: StatusCode, body: &'static str) -> impl IntoResponse {
    (status, [(header::CONTENT_TYPE, "application/json")], body)
}

/// Adds `/healthz` and `/readyz` to `router`; `/readyz` follows `ready`.
pub(crate) fn routes(router: Router, ready: Arc<AtomicBool>) -> Router {
    router
        .route("/healthz", get(|| async { json(StatusCode::OK, LIVE) }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.load(Ordering::SeqCst);
                async move {
                    if ready {
                        json(StatusCode::OK, READY)
                    } else {
                        json(StatusCode::SERVICE_UNAVAILABLE, NOT_READY)
                    }
                }
            }),
        )
}
