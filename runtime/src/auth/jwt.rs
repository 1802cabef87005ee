//! HS256 signing and verification with `jsonwebtoken` (RustCrypto backend): see the module
//! above for the rules.

use super::{Claims, MAX_TOKEN_LEN, MIN_SECRET_LEN, Refusal, Revocations, TokenType, now_secs};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A signed token with its claims.
#[derive(Clone, Debug)]
pub struct Token {
    pub token: String,
    pub claims: Claims,
}

/// An access token and a refresh token issued together.
#[derive(Clone, Debug)]
pub struct TokenPair {
    pub access: Token,
    pub refresh: Token,
}

/// A signing key with its id.
struct Key {
    id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// Issues and verifies HS256 tokens. Cheap to share (`Arc<Jwt>`); its `Debug` shows key ids,
/// never secrets.
pub struct Jwt {
    /// The first key signs; every key verifies the tokens that name it.
    keys: Vec<Key>,
    access_ttl: Duration,
    refresh_ttl: Duration,
    leeway: Duration,
    revocations: Option<Arc<dyn Revocations>>,
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("keys", &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>())
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// A secret or key that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

fn key(id: &str, secret: &[u8]) -> Result<Key, KeyError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(KeyError(format!(
            "the JWT secret of key `{id}` has {} bytes; HS256 needs at least {MIN_SECRET_LEN}",
            secret.len()
        )));
    }
    if id.is_empty() || id.len() > 64 {
        return Err(KeyError(format!(
            "a JWT key id must have 1 to 64 characters, not {}",
            id.len()
        )));
    }
    let unusable = |e: jsonwebtoken::errors::Error| KeyError(format!("JWT key `{id}`: {e}"));
    Ok(Key {
        id: id.to_string(),
        encoding: EncodingKey::from_secret(secret).map_err(unusable)?,
        decoding: DecodingKey::from_secret(secret).map_err(unusable)?,
    })
}

impl Jwt {
    /// One key (`kid` = `key_id`), signing and verifying; default lifetimes.
    pub fn new(key_id: &str, secret: &[u8]) -> Result<Jwt, KeyError> {
        Ok(Jwt {
            keys: vec![key(key_id, secret)?],
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            leeway: Duration::from_secs(30),
            revocations: None,
        })
    }

    /// Also verifies tokens signed with an older key (rotation).
    pub fn accept(mut self, key_id: &str, secret: &[u8]) -> Result<Jwt, KeyError> {
        if self.keys.iter().any(|k| k.id == key_id) {
            return Err(KeyError(format!("two JWT keys have the id `{key_id}`")));
        }
        self.keys.push(key(key_id, secret)?);
        Ok(self)
    }

    pub fn access_ttl(mut self, ttl: Duration) -> Jwt {
        self.access_ttl = ttl;
        self
    }

    pub fn refresh_ttl(mut self, ttl: Duration) -> Jwt {
        self.refresh_ttl = ttl;
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Jwt {
        self.leeway = leeway;
        self
    }

    /// A deny list every verification consults.
    pub fn revocations(mut self, r: Arc<dyn Revocations>) -> Jwt {
        self.revocations = Some(r);
        self
    }

    /// How long access tokens live.
    pub fn access_lifetime(&self) -> Duration {
        self.access_ttl
    }

    /// The keys from the environment: `JWT_SECRET` (at least 32 bytes) signs, with key id
    /// `JWT_KEY_ID` (default `default`); `JWT_PREVIOUS_KEYS` (`id:secret,id:secret`) only
    /// verifies. `Ok(None)` when `JWT_SECRET` is unset or empty.
    pub fn from_env() -> Result<Option<Jwt>, KeyError> {
        let secret = match std::env::var("JWT_SECRET") {
            Ok(s) if !s.is_empty() => s,
            _ => return Ok(None),
        };
        let id = std::env::var("JWT_KEY_ID")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "default".to_string());
        let mut jwt = Jwt::new(id.trim(), secret.as_bytes())
            .map_err(|e| KeyError(format!("JWT_SECRET: {e}")))?;
        if let Ok(previous) = std::env::var("JWT_PREVIOUS_KEYS") {
            for entry in previous.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (id, secret) = entry.split_once(':').ok_or_else(|| {
                    KeyError("JWT_PREVIOUS_KEYS: each entry is `id:secret`".to_string())
                })?;
                jwt = jwt
                    .accept(id.trim(), secret.as_bytes())
                    .map_err(|e| KeyError(format!("JWT_PREVIOUS_KEYS: {e}")))?;
            }
        }
        Ok(Some(jwt))
    }

    /// [`Jwt::from_env`], or — when `JWT_SECRET` is unset — a random secret, with a loud
    /// warning: tokens then stop working at the next restart and on every other replica.
    pub fn from_env_or_random() -> Result<Jwt, KeyError> {
        if let Some(jwt) = Jwt::from_env()? {
            return Ok(jwt);
        }
        tracing::warn!(
            "JWT_SECRET is not set: signing tokens with a random secret; they become invalid \
             when this process stops and are not accepted by any other replica. Set JWT_SECRET \
             (at least {MIN_SECRET_LEN} bytes) in production."
        );
        Jwt::random()
    }

    /// Keys made of 64 random bytes (id `random`): tokens valid only for this value's life —
    /// tests, demos, and `from_env_or_random` without `JWT_SECRET`.
    pub fn random() -> Result<Jwt, KeyError> {
        let mut secret = Vec::with_capacity(64);
        for _ in 0..4 {
            secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        Jwt::new("random", &secret)
    }

    /// Issues one token for `sub`.
    pub fn issue(&self, typ: TokenType, sub: &str, email: Option<&str>) -> Result<Token, KeyError> {
        let now = now_secs();
        let ttl = match typ {
            TokenType::Access => self.access_ttl,
            TokenType::Refresh => self.refresh_ttl,
        };
        let claims = Claims {
            sub: sub.to_string(),
            email: email.map(str::to_string),
            typ,
            iat: now,
            exp: now + ttl.as_secs(),
            nbf: None,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        let token = self.sign(&claims)?;
        Ok(Token { token, claims })
    }

    /// Issues an access token and a refresh token for `sub`.
    pub fn issue_pair(&self, sub: &str, email: Option<&str>) -> Result<TokenPair, KeyError> {
        Ok(TokenPair {
            access: self.issue(TokenType::Access, sub, email)?,
            refresh: self.issue(TokenType::Refresh, sub, email)?,
        })
    }

    /// Signs arbitrary claims with the current key (tests make expired or future tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let Some(current) = self.keys.first() else {
            return Err(KeyError("no JWT key".to_string()));
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(current.id.clone());
        jsonwebtoken::encode(&header, claims, &current.encoding)
            .map_err(|e| KeyError(format!("cannot sign a token: {e}")))
    }

    /// Verifies a token of type `typ`: its algorithm (HS256 only), key, signature, `exp`,
    /// `nbf`, `typ`, and the revocation list.
    pub fn verify(&self, token: &str, typ: TokenType) -> Result<Claims, Refusal> {
        use jsonwebtoken::errors::ErrorKind;
        if token.len() > MAX_TOKEN_LEN {
            return Err(Refusal::TooLong);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => Refusal::Algorithm,
            _ => Refusal::Malformed,
        })?;
        if header.alg != Algorithm::HS256 {
            return Err(Refusal::Algorithm);
        }
        let key = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| &k.id == kid)
                .ok_or(Refusal::UnknownKey)?,
            None => self.keys.first().ok_or(Refusal::UnknownKey)?,
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).map_err(
            |e| match e.kind() {
                ErrorKind::InvalidSignature => Refusal::Signature,
                ErrorKind::ExpiredSignature => Refusal::Expired,
                ErrorKind::ImmatureSignature => Refusal::NotYetValid,
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::UnsupportedAlgorithm => Refusal::Algorithm,
                _ => Refusal::Malformed,
            },
        )?;
        let claims = data.claims;
        if claims.typ != typ {
            return Err(Refusal::WrongType);
        }
        if let Some(r) = &self.revocations
            && r.is_revoked(&claims)
        {
            return Err(Refusal::Revoked);
        }
        Ok(claims)
    }

    /// The token of an `Authorization` header value (`Bearer <token>`, scheme in any case).
    pub fn bearer(header: Option<&[u8]>) -> Result<&str, Refusal> {
        let value = header.ok_or(Refusal::Missing)?;
        if value.len() > MAX_TOKEN_LEN + 7 {
            return Err(Refusal::TooLong);
        }
        let value = std::str::from_utf8(value).map_err(|_| Refusal::Malformed)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(Refusal::Missing)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Refusal::Missing);
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(Refusal::Missing);
        }
        Ok(token)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn jwt() -> Jwt {
        Jwt::new("k1", SECRET).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token with a given header, claims and signature key (HMAC-SHA-256 or none).
    fn forged(header: &str, claims: &Claims) -> String {
        let body = serde_json::to_vec(claims).unwrap();
        format!("{}.{}.", b64(header.as_bytes()), b64(&body))
    }

    #[test]
    fn a_pair_verifies_as_its_own_types_only() {
        let j = jwt();
        let pair = j.issue_pair("u1", Some("a@example.com")).unwrap();
        let c = j.verify(&pair.access.token, TokenType::Access).unwrap();
        assert_eq!(c.sub, "u1");
        assert_eq!(c.email.as_deref(), Some("a@example.com"));
        assert_eq!(c.exp - c.iat, 15 * 60);
        assert_eq!(
            j.verify(&pair.refresh.token, TokenType::Access),
            Err(Refusal::WrongType)
        );
        assert_eq!(
            j.verify(&pair.access.token, TokenType::Refresh),
            Err(Refusal::WrongType)
        );
        let r = j.verify(&pair.refresh.token, TokenType::Refresh).unwrap();
        assert_eq!(r.exp - r.iat, 30 * 24 * 3600);
        assert_ne!(c.jti, r.jti);
    }

    #[test]
    fn short_secrets_and_duplicate_ids_are_refused() {
        assert!(Jwt::new("k", b"short").is_err());
        assert!(jwt().accept("k1", SECRET).is_err());
    }

    #[test]
    fn refusals() {
        let j = jwt();
        let good = j.issue(TokenType::Access, "u1", None).unwrap();
        // alg none, unsigned.
        let none = forged(r#"{"alg":"none","typ":"JWT"}"#, &good.claims);
        assert!(matches!(
            j.verify(&none, TokenType::Access),
            Err(Refusal::Algorithm | Refusal::Malformed)
        ));
        // HS512 with the same secret.
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &good.claims,
            &EncodingKey::from_secret(SECRET).unwrap(),
        )
        .unwrap();
        assert_eq!(j.verify(&hs512, TokenType::Access), Err(Refusal::Algorithm));
        // An asymmetric algorithm named in the header.
        let rs = forged(r#"{"alg":"RS256","typ":"JWT"}"#, &good.claims);
        assert_eq!(j.verify(&rs, TokenType::Access), Err(Refusal::Algorithm));
        // Another secret.
        let other = Jwt::new("k1", b"another secret, 32 bytes or more!").unwrap();
        let t = other.issue(TokenType::Access, "u1", None).unwrap();
        assert_eq!(
            j.verify(&t.token, TokenType::Access),
            Err(Refusal::Signature)
        );
        // An unknown key id.
        let other = Jwt::new("k9", SECRET).unwrap();
        let t = other.issue(TokenType::Access, "u1", None).unwrap();
        assert_eq!(
            j.verify(&t.token, TokenType::Access),
            Err(Refusal::UnknownKey)
        );
        // Expired beyond the leeway, and not valid yet.
        let now = now_secs();
        let expired = Claims {
            iat: now - 3600,
            exp: now - 120,
            ..good.claims.clone()
        };
        let t = j.sign(&expired).unwrap();
        assert_eq!(j.verify(&t, TokenType::Access), Err(Refusal::Expired));
        let early = Claims {
            nbf: Some(now + 600),
            ..good.claims.clone()
        };
        let t = j.sign(&early).unwrap();
        assert_eq!(j.verify(&t, TokenType::Access), Err(Refusal::NotYetValid));
        // Within the leeway: accepted.
        let just = Claims {
            exp: now - 5,
            ..good.claims.clone()
        };
        assert!(j.verify(&j.sign(&just).unwrap(), TokenType::Access).is_ok());
        // Garbage and oversized.
        assert_eq!(j.verify("abc", TokenType::Access), Err(Refusal::Malformed));
        let huge = "a".repeat(100 * 1024);
        assert_eq!(j.verify(&huge, TokenType::Access), Err(Refusal::TooLong));
        // A tampered payload.
        let mut parts: Vec<String> = good.token.split('.').map(str::to_string).collect();
        let evil = Claims {
            sub: "admin".into(),
            ..good.claims.clone()
        };
        parts[1] = b64(&serde_json::to_vec(&evil).unwrap());
        assert_eq!(
            j.verify(&parts.join("."), TokenType::Access),
            Err(Refusal::Signature)
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_valid() {
        let old = jwt();
        let t = old.issue(TokenType::Access, "u1", None).unwrap();
        let rotated = Jwt::new("k2", b"the new secret, also 32 bytes long")
            .unwrap()
            .accept("k1", SECRET)
            .unwrap();
        assert!(rotated.verify(&t.token, TokenType::Access).is_ok());
        let fresh = rotated.issue(TokenType::Access, "u1", None).unwrap();
        assert_eq!(
            old.verify(&fresh.token, TokenType::Access),
            Err(Refusal::UnknownKey)
        );
    }

    #[test]
    fn revocations_are_consulted() {
        struct All;
        impl Revocations for All {
            fn is_revoked(&self, _: &Claims) -> bool {
                true
            }
        }
        let j = jwt().revocations(Arc::new(All));
        let t = j.issue(TokenType::Access, "u1", None).unwrap();
        assert_eq!(j.verify(&t.token, TokenType::Access), Err(Refusal::Revoked));
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(Jwt::bearer(None), Err(Refusal::Missing));
        assert_eq!(Jwt::bearer(Some(b"Basic abc")), Err(Refusal::Missing));
        assert_eq!(Jwt::bearer(Some(b"Bearer")), Err(Refusal::Missing));
        assert_eq!(Jwt::bearer(Some(b"Bearer   ")), Err(Refusal::Missing));
        assert_eq!(Jwt::bearer(Some(b"bearer t.o.k")), Ok("t.o.k"));
        assert_eq!(Jwt::bearer(Some(b"\xff\xfe")), Err(Refusal::Malformed));
        let huge = format!("Bearer {}", "a".repeat(100 * 1024));
        assert_eq!(Jwt::bearer(Some(huge.as_bytes())), Err(Refusal::TooLong));
        // The refusal's text never carries the token.
        assert!(!Refusal::Signature.to_string().contains("t.o.k"));
    }
}
