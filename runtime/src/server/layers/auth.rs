//! `@security(bearer)`: every call of a method under it that is not `@public` must carry a
//! valid access token (`Authorization: Bearer …`, verified by [`Jwt::verify`]: HS256 only,
//! signature, `exp`, `nbf`, `typ`, revocations). A refused call never reaches the handler: it
//! is answered unauthenticated — REST `401` with `WWW-Authenticate: Bearer` (and
//! `error="invalid_token"` when a token was sent, RFC 6750), JSON-RPC the unauthenticated
//! code — with a message that says why and never echoes the token. An accepted call carries
//! the claims in its context (`ctx.claims()`).
//!
//! When a method's schemes include `bearer` together with others (`api_key`, `basic`, not
//! checked yet), a bearer token is still required: the server fails closed.

use crate::auth::{Jwt, Refusal, TokenType};
use crate::error::Error;
use crate::method::{Call, MethodInfo, Security};
use prometheus_client::metrics::counter::Counter;
use std::sync::Arc;

/// Whether `info`'s calls need a bearer token.
pub(crate) fn needs_bearer(info: &MethodInfo) -> bool {
    !info.policies.public && info.policies.security.contains(&Security::Bearer)
}

/// One method's token check.
pub(super) struct Gate {
    jwt: Arc<Jwt>,
    refused: Counter,
}

pub(super) fn gate(jwt: Arc<Jwt>, refused: Counter) -> Gate {
    Gate { jwt, refused }
}

impl Gate {
    /// Verifies the call's access token and puts its claims in the call's context.
    pub(super) fn check(&self, call: &mut Call) -> Result<(), Error> {
        let header = call
            .ctx
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        match Jwt::bearer(header).and_then(|t| self.jwt.verify(t, TokenType::Access)) {
            Ok(claims) => {
                call.ctx.claims = Some(Arc::new(claims));
                Ok(())
            }
            Err(refusal) => {
                self.refused.inc();
                Err(unauthenticated(&refusal))
            }
        }
    }
}

/// The answer to a refused token.
pub(crate) fn unauthenticated(refusal: &Refusal) -> Error {
    let challenge = match refusal.rfc6750_error() {
        None => "Bearer".to_string(),
        Some(error) => format!("Bearer error=\"{error}\", error_description=\"{refusal}\""),
    };
    Error::unauthenticated(refusal.to_string())
        .with_header(http::header::WWW_AUTHENTICATE, &challenge)
}
