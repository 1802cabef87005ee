//! Bearer tokens (`@security(bearer)`): HS256 JSON Web Tokens, issued and verified here, and
//! enforced by the server on every method that asks for them (`server/layers/auth.rs`).
//!
//! A token's claims are `sub` (the user id), `email`, `typ` (`access` or `refresh`), `iat`,
//! `exp`, `jti` (and `nbf` when a token is not valid yet). Access tokens live 15 minutes and
//! refresh tokens 30 days by default. Verifying pins the algorithm to HS256 (a token signed
//! with `none`, another HMAC size or an asymmetric algorithm is refused), checks the
//! signature, `exp` and `nbf` (with a small leeway) and `typ`, and asks the
//! [`Revocations`], when one is set, whether the token was revoked.
//!
//! Several keys, each with an id (`kid` in the token's header): tokens are signed with the
//! current key and verified with whichever key their `kid` names, so a secret can be rotated
//! without signing everybody out: make the new key current and keep the old one for as long as
//! its refresh tokens live.

#[cfg(feature = "server")]
mod jwt;
#[cfg(feature = "server")]
pub use jwt::{Jwt, KeyError, Token, TokenPair};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The shortest secret accepted: 32 bytes, HS256's own output size (RFC 7518 §3.2).
pub const MIN_SECRET_LEN: usize = 32;

/// The longest token looked at; a longer `Authorization` header is refused unread.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// What a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    /// Sent with each call (`Authorization: Bearer …`).
    Access,
    /// Exchanged for a new pair; never accepted as an access token.
    Refresh,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        }
    }
}

/// A token's claims. Handlers read the verified access token's claims with `ctx.claims()`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The subject: the user id.
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub typ: TokenType,
    /// Issued at (seconds since the Unix epoch).
    pub iat: u64,
    /// Expires at (seconds since the Unix epoch).
    pub exp: u64,
    /// Not valid before (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The token's unique id (revocation lists and refresh rotation key on it).
    pub jti: String,
}

impl Claims {
    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.exp)
    }
}

/// Why a token was refused. Its text never contains the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header, or not the `Bearer` scheme.
    Missing,
    /// Longer than [`MAX_TOKEN_LEN`].
    TooLong,
    /// Not a JWT, or its header or claims do not parse.
    Malformed,
    /// Another algorithm than HS256 (`none`, HS384, RS256, …).
    Algorithm,
    /// A `kid` no configured key has.
    UnknownKey,
    /// The signature does not match.
    Signature,
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// A refresh token where an access token is expected, or the other way round.
    WrongType,
    /// The [`Revocations`] said so.
    Revoked,
}

impl Refusal {
    /// The `error` of RFC 6750 §3.1 for `WWW-Authenticate`: absent when no token was sent.
    pub fn rfc6750_error(&self) -> Option<&'static str> {
        match self {
            Refusal::Missing => None,
            _ => Some("invalid_token"),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Missing => "a bearer token is required",
            Refusal::TooLong => "the bearer token is too long",
            Refusal::Malformed => "the bearer token is malformed",
            Refusal::Algorithm => "the bearer token is not signed with HS256",
            Refusal::UnknownKey => "the bearer token names an unknown key",
            Refusal::Signature => "the bearer token's signature is invalid",
            Refusal::Expired => "the bearer token has expired",
            Refusal::NotYetValid => "the bearer token is not valid yet",
            Refusal::WrongType => "the bearer token is not of the expected type",
            Refusal::Revoked => "the bearer token has been revoked",
        })
    }
}

impl std::error::Error for Refusal {}

/// A deny list consulted after a token verifies (sign-out, a refresh family revoked).
pub trait Revocations: Send + Sync + 'static {
    fn is_revoked(&self, claims: &Claims) -> bool;
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
