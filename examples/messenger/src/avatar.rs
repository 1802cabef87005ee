//! The hand-written handler behind `UserService.upload_avatar` (`@handler`): a PNG body,
//! which the generated JSON transports do not carry.

use svcc_runtime::axum::body::Bytes;
use svcc_runtime::axum::extract::Path;
use svcc_runtime::axum::http::{HeaderMap, StatusCode};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// `PUT /api/v1/users/{id}/avatar` with `Content-Type: image/png`.
pub async fn upload(
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let png = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("image/png"));
    if svcc_runtime::Uuid::try_parse(&id).is_err() {
        return (
            StatusCode::BAD_REQUEST,
            "{\"code\":\"INVALID_ARGUMENT\",\"message\":\"invalid user id\"}".into(),
        );
    }
    if !png || !body.starts_with(PNG_MAGIC) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{\"code\":\"INVALID_ARGUMENT\",\"message\":\"send a PNG image\"}".into(),
        );
    }
    (StatusCode::NO_CONTENT, String::new())
}
