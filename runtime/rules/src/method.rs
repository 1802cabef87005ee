//! What the compiler and the runtime both say about a method: where its values travel, how it
//! is bound to HTTP, and its effective policies (annotation scoping applied: method over
//! service over package). The compiler's model holds these values (owned text); generated
//! code writes them into each method's `MethodInfo` (static text), where the runtime's layers
//! and users' own layers read them. One definition, so the two sides cannot drift.

use serde::Serialize;
use std::borrow::Cow;

/// Text that is static in generated code and owned in the compiler's model.
pub type Text = Cow<'static, str>;

/// Static text, for generated code: `text("limit")`.
pub const fn text(s: &'static str) -> Text {
    Cow::Borrowed(s)
}

/// Where a parameter or result travels.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "in", content = "name", rename_all = "snake_case")]
pub enum Location {
    /// In the JSON body (or JSON-RPC `params`).
    Body,
    /// A `{name}` segment of the REST path.
    Path,
    /// The query string, under this key.
    Query(Text),
    /// An HTTP header of this name.
    Header(Text),
    /// A cookie of this name.
    Cookie(Text),
}

impl Location {
    pub const fn query(name: &'static str) -> Location {
        Location::Query(Cow::Borrowed(name))
    }

    pub const fn header(name: &'static str) -> Location {
        Location::Header(Cow::Borrowed(name))
    }

    pub const fn cookie(name: &'static str) -> Location {
        Location::Cookie(Cow::Borrowed(name))
    }

    /// Whether the value travels outside the body (header or cookie).
    pub fn is_header_or_cookie(&self) -> bool {
        matches!(self, Location::Header(_) | Location::Cookie(_))
    }
}

/// A method's REST binding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HttpBinding {
    /// Upper case: `GET`, `POST`, …
    pub method: Text,
    /// The full path: package prefix + service prefix + method path.
    pub path: Text,
    /// The success status.
    pub status: u16,
}

impl HttpBinding {
    pub const fn new(method: &'static str, path: &'static str, status: u16) -> HttpBinding {
        HttpBinding {
            method: Cow::Borrowed(method),
            path: Cow::Borrowed(path),
            status,
        }
    }
}

/// An authentication scheme (`@security`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum Security {
    Bearer,
    ApiKey { header: Text },
    Basic,
}

/// How a `@sensitive` value is masked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mask {
    /// Every character.
    #[default]
    Full,
    FirstHalf,
    LastHalf,
    /// All but the first and last characters.
    Middle,
}

/// `@log`: one structured event per call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogPolicy {
    /// Parameters or results left out of the event; `response` means all results.
    pub skip: Cow<'static, [Text]>,
}

impl LogPolicy {
    pub const fn skipping(skip: &'static [Text]) -> LogPolicy {
        LogPolicy {
            skip: Cow::Borrowed(skip),
        }
    }
}

/// `@rate_limit`: a token bucket of `limit` calls per `period_ms`, one per `key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    pub limit: u64,
    pub period_ms: u64,
    pub key: RateKey,
}

/// Whose calls one bucket counts (`@rate_limit(key = …)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKey {
    /// Every caller's calls together (the default).
    #[default]
    Global,
    /// Each client address's calls.
    Ip,
    /// Each token subject's calls (the caller's address when the call has no verified token).
    Subject,
}

impl RateKey {
    pub fn as_str(self) -> &'static str {
        match self {
            RateKey::Global => "global",
            RateKey::Ip => "ip",
            RateKey::Subject => "subject",
        }
    }
}

/// `@circuit_breaker`: gobreaker's settings; unset values take the runtime's defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CircuitBreaker {
    pub max_requests: Option<u64>,
    pub interval_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
    /// A fraction between 0 and 1.
    pub failure_rate: Option<f64>,
    pub min_requests: Option<u64>,
}

/// A parameter or result marked `@sensitive` (by its JSON name), with its mask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sensitive {
    pub name: Text,
    pub mask: Mask,
}

impl Sensitive {
    pub const fn new(name: &'static str, mask: Mask) -> Sensitive {
        Sensitive {
            name: Cow::Borrowed(name),
            mask,
        }
    }
}

/// A method's effective policies, as typed values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Policies {
    /// `@log` (with its `skip` list).
    pub log: Option<LogPolicy>,
    /// Top-level parameters and results marked `@sensitive`.
    pub sensitive: Cow<'static, [Sensitive]>,
    /// `@metrics`.
    pub metrics: bool,
    /// `@trace`.
    pub trace: bool,
    /// `@security` schemes (any one suffices); empty when `@public` or none is declared.
    pub security: Cow<'static, [Security]>,
    /// `@public`: no authentication although the service declares some.
    pub public: bool,
    pub rate_limit: Option<RateLimit>,
    pub circuit_breaker: Option<CircuitBreaker>,
    /// `@fallback(ttl = …)`: how long a client may answer from its cache of good results.
    pub fallback_ttl_ms: Option<u64>,
    /// `@timeout`: the server's deadline and the client's timeout.
    pub timeout_ms: Option<u64>,
    /// Whether calling twice has the effect of calling once: REST `GET`, `HEAD`, `PUT`,
    /// `DELETE` and `OPTIONS` bindings (what a client may retry without a second thought).
    pub idempotent: bool,
}

impl Policies {
    /// No policy: what a method without annotations has.
    pub const NONE: Policies = Policies {
        log: None,
        sensitive: Cow::Borrowed(&[]),
        metrics: false,
        trace: false,
        security: Cow::Borrowed(&[]),
        public: false,
        rate_limit: None,
        circuit_breaker: None,
        fallback_ttl_ms: None,
        timeout_ms: None,
        idempotent: false,
    };
}

impl Default for Policies {
    fn default() -> Policies {
        Policies::NONE
    }
}

/// Whether an HTTP method is idempotent (RFC 9110 §9.2.2).
pub fn is_idempotent_http_method(method: &str) -> bool {
    matches!(
        method.to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A static description, as generated code writes it (lists of values with text are
    /// statics of their own: a temporary with a destructor cannot be borrowed in a static).
    static POLICIES: Policies = Policies {
        log: Some(LogPolicy::skipping({
            static SKIP: [Text; 1] = [text("password")];
            &SKIP
        })),
        sensitive: Cow::Borrowed({
            static SENSITIVE: [Sensitive; 1] = [Sensitive::new("password", Mask::Middle)];
            &SENSITIVE
        }),
        metrics: true,
        timeout_ms: Some(5000),
        ..Policies::NONE
    };

    #[test]
    fn static_and_owned_values_compare_equal() {
        let owned = Policies {
            log: Some(LogPolicy {
                skip: Cow::Owned(vec![Cow::Owned("password".to_string())]),
            }),
            sensitive: Cow::Owned(vec![Sensitive {
                name: Cow::Owned("password".into()),
                mask: Mask::Middle,
            }]),
            metrics: true,
            timeout_ms: Some(5000),
            ..Policies::default()
        };
        assert_eq!(POLICIES, owned);
        assert_eq!(
            Location::query("q"),
            Location::Query("q".to_string().into())
        );
        assert!(Location::header("x").is_header_or_cookie());
        assert!(is_idempotent_http_method("put") && !is_idempotent_http_method("POST"));
    }
}
