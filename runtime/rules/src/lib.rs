//! The rules a contract's values follow, in one copy shared by the compiler (which checks a
//! contract's defaults and examples when it builds) and the runtime (which checks requests and
//! maps errors onto transports): a value the compiler accepts is one the server accepts.
//!
//! - [`Code`]: the canonical error codes with their gRPC codes, HTTP statuses and JSON-RPC codes;
//! - [`Format`]: the `@format` checks;
//! - the wire forms of the scalar types that travel as strings ([`is_uuid`], [`is_date`],
//!   [`is_date_time`], [`is_duration`], [`is_decimal`], [`is_base64`]);
//! - [`method`]: where a method's values travel, its HTTP binding and its effective
//!   [`Policies`] — held by the compiler's model and by the runtime's `MethodInfo`.
//!
//! Only serde is imported; both the compiler and the runtime import this crate.

pub mod method;

pub use method::{
    CircuitBreaker, HttpBinding, Location, LogPolicy, Mask, Policies, RateKey, RateLimit, Security,
    Sensitive, Text, text,
};

use serde::{Deserialize, Serialize};

/// The canonical error codes (gRPC's), which fix every transport's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    Cancelled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    Internal,
    Unavailable,
    DataLoss,
    Unauthenticated,
}

/// `(code, contract name, string code, gRPC code, HTTP status)`: the one table.
const TABLE: [(Code, &str, &str, u16, u16); 16] = [
    (Code::Cancelled, "cancelled", "CANCELLED", 1, 499),
    (Code::Unknown, "unknown", "UNKNOWN", 2, 500),
    (
        Code::InvalidArgument,
        "invalid_argument",
        "INVALID_ARGUMENT",
        3,
        400,
    ),
    (
        Code::DeadlineExceeded,
        "deadline_exceeded",
        "DEADLINE_EXCEEDED",
        4,
        504,
    ),
    (Code::NotFound, "not_found", "NOT_FOUND", 5, 404),
    (
        Code::AlreadyExists,
        "already_exists",
        "ALREADY_EXISTS",
        6,
        409,
    ),
    (
        Code::PermissionDenied,
        "permission_denied",
        "PERMISSION_DENIED",
        7,
        403,
    ),
    (
        Code::ResourceExhausted,
        "resource_exhausted",
        "RESOURCE_EXHAUSTED",
        8,
        429,
    ),
    (
        Code::FailedPrecondition,
        "failed_precondition",
        "FAILED_PRECONDITION",
        9,
        400,
    ),
    (Code::Aborted, "aborted", "ABORTED", 10, 409),
    (Code::OutOfRange, "out_of_range", "OUT_OF_RANGE", 11, 400),
    (
        Code::Unimplemented,
        "unimplemented",
        "UNIMPLEMENTED",
        12,
        501,
    ),
    (Code::Internal, "internal", "INTERNAL", 13, 500),
    (Code::Unavailable, "unavailable", "UNAVAILABLE", 14, 503),
    (Code::DataLoss, "data_loss", "DATA_LOSS", 15, 500),
    (
        Code::Unauthenticated,
        "unauthenticated",
        "UNAUTHENTICATED",
        16,
        401,
    ),
];

/// The standard JSON-RPC 2.0 codes.
pub mod jsonrpc_codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Application errors: `APPLICATION_BASE + gRPC code` (1005 for `not_found`, …).
    pub const APPLICATION_BASE: i64 = 1000;
}

impl Code {
    /// Every code, in gRPC order.
    pub const ALL: [Code; 16] = {
        let mut all = [Code::Unknown; 16];
        let mut i = 0;
        while i < 16 {
            all[i] = TABLE[i].0;
            i += 1;
        }
        all
    };

    fn row(self) -> (Code, &'static str, &'static str, u16, u16) {
        TABLE
            .iter()
            .copied()
            .find(|r| r.0 == self)
            .unwrap_or(TABLE[1])
    }

    /// The name a contract uses (`not_found` in `error X: not_found { … }`).
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// The string code of errors of this kind that no contract declared (`NOT_FOUND`).
    pub fn as_str(self) -> &'static str {
        self.row().2
    }

    pub fn grpc(self) -> u16 {
        self.row().3
    }

    pub fn http_status(self) -> u16 {
        self.row().4
    }

    /// The JSON-RPC `error.code` of the platform's own errors of this kind: -32602 for invalid
    /// arguments (bad params, validation), -32603 for internal ones, else `1000 + gRPC code`.
    pub fn jsonrpc(self) -> i64 {
        match self {
            Code::InvalidArgument => jsonrpc_codes::INVALID_PARAMS,
            Code::Internal | Code::Unknown | Code::DataLoss => jsonrpc_codes::INTERNAL_ERROR,
            other => other.declared_jsonrpc(),
        }
    }

    /// The JSON-RPC `error.code` of a contract's declared errors of this kind:
    /// `1000 + gRPC code`, whatever the kind.
    pub fn declared_jsonrpc(self) -> i64 {
        jsonrpc_codes::APPLICATION_BASE + i64::from(self.grpc())
    }

    /// From the contract's name (`not_found`).
    pub fn from_name(name: &str) -> Option<Code> {
        TABLE.iter().find(|r| r.1 == name).map(|r| r.0)
    }

    /// From the string code (`NOT_FOUND`).
    pub fn from_str_code(s: &str) -> Option<Code> {
        TABLE.iter().find(|r| r.2 == s).map(|r| r.0)
    }

    /// From a gRPC status code (`5` → `NotFound`); `OK` and codes outside the table are
    /// `Unknown`.
    pub fn from_grpc(code: u16) -> Code {
        TABLE
            .iter()
            .find(|r| r.3 == code)
            .map_or(Code::Unknown, |r| r.0)
    }

    /// From an application JSON-RPC code (`1005` → `NotFound`).
    pub fn from_declared_jsonrpc(n: i64) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.declared_jsonrpc() == n)
    }

    /// The kind an HTTP error status stands for (clients reading responses).
    pub fn from_http_status(status: u16) -> Code {
        match status {
            400 => Code::InvalidArgument,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::NotFound,
            409 => Code::AlreadyExists,
            413 | 429 => Code::ResourceExhausted,
            499 => Code::Cancelled,
            501 => Code::Unimplemented,
            503 => Code::Unavailable,
            504 => Code::DeadlineExceeded,
            _ => Code::Internal,
        }
    }
}

/// `@format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Email,
    Uri,
    Uuid,
    Ipv4,
    Ipv6,
    Hostname,
    DateTime,
}

impl Format {
    /// Every format with the name a contract uses (`@format("date_time")`).
    pub const ALL: [(&'static str, Format); 7] = [
        ("email", Format::Email),
        ("uri", Format::Uri),
        ("uuid", Format::Uuid),
        ("ipv4", Format::Ipv4),
        ("ipv6", Format::Ipv6),
        ("hostname", Format::Hostname),
        ("date_time", Format::DateTime),
    ];

    /// From the contract's name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// What the format is, for messages ("email address").
    pub fn describe(self) -> &'static str {
        match self {
            Format::Email => "email address",
            Format::Uri => "URI",
            Format::Uuid => "UUID",
            Format::Ipv4 => "IPv4 address",
            Format::Ipv6 => "IPv6 address",
            Format::Hostname => "hostname",
            Format::DateTime => "RFC 3339 date-time",
        }
    }

    /// Whether `s` is in this format.
    pub fn check(self, s: &str) -> bool {
        match self {
            Format::Email => is_email(s),
            Format::Uri => is_uri(s),
            Format::Uuid => is_uuid(s),
            Format::Ipv4 => s.parse::<std::net::Ipv4Addr>().is_ok(),
            Format::Ipv6 => s.parse::<std::net::Ipv6Addr>().is_ok(),
            Format::Hostname => is_hostname(s),
            Format::DateTime => is_date_time(s),
        }
    }
}

/// Whether a media type's body is JSON (`application/json`, `application/problem+json`,
/// `application/vnd.acme+json; charset=utf-8`): what generated code reads and writes, and what
/// `@content_type` may name without a hand-written handler.
pub fn is_json_media_type(media: &str) -> bool {
    if !media.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return false;
    }
    let essence = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    kind == "application" && (sub == "json" || (sub.ends_with("+json") && sub.len() > 5))
}

pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && is_hostname(domain)
}

pub fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.contains(char::is_whitespace)
}

pub fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 || !digits(y) || !digits(m) || !digits(d) {
        return false;
    }
    let (y, m, d): (u32, u32, u32) = (
        y.parse().unwrap_or(0),
        m.parse().unwrap_or(0),
        d.parse().unwrap_or(0),
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// RFC 3339: `2024-05-01T12:30:00Z`, fractional seconds and offsets allowed.
pub fn is_date_time(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't']) else {
        return false;
    };
    if !is_date(date) || time.len() < 9 {
        return false;
    }
    let (hms, zone) = time.split_at(8);
    let hms_parts: Vec<&str> = hms.split(':').collect();
    let [h, m, sec] = hms_parts.as_slice() else {
        return false;
    };
    let ok_num =
        |x: &str, max: u32| x.len() == 2 && digits(x) && x.parse::<u32>().is_ok_and(|v| v <= max);
    if !(ok_num(h, 23) && ok_num(m, 59) && ok_num(sec, 59)) {
        return false;
    }
    let zone = match zone.strip_prefix('.') {
        Some(rest) => {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if end == 0 {
                return false;
            }
            &rest[end..]
        }
        None => zone,
    };
    match zone {
        "Z" | "z" => true,
        z if (z.starts_with('+') || z.starts_with('-')) && z.len() == 6 => {
            let hm: Vec<&str> = z[1..].split(':').collect();
            matches!(hm.as_slice(), [h, m] if ok_num(h, 23) && ok_num(m, 59))
        }
        _ => false,
    }
}

/// The JSON form of a duration: seconds with an `s` suffix (`"1.5s"`, `"-3s"`).
pub fn is_duration(s: &str) -> bool {
    let Some(num) = s.strip_suffix('s') else {
        return false;
    };
    let num = num.strip_prefix('-').unwrap_or(num);
    let (whole, frac) = num.split_once('.').unwrap_or((num, "0"));
    // Whole seconds fit in an i64; at most nanosecond precision.
    digits(whole) && whole.parse::<i64>().is_ok() && digits(frac) && frac.len() <= 9
}

pub fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    match s.split_once('.') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(s),
    }
}

/// The JSON form of `bytes`: base64, standard (`+/`) or URL-safe (`-_`) alphabet, with
/// canonical padding or none, and no stray bits in the last character.
pub fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    let body = b
        .strip_suffix(b"==")
        .or_else(|| b.strip_suffix(b"="))
        .unwrap_or(b);
    let pad = b.len() - body.len();
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let standard = body.iter().any(|c| matches!(c, b'+' | b'/'));
    let url_safe = body.iter().any(|c| matches!(c, b'-' | b'_'));
    if (standard && url_safe) || !body.iter().all(|&c| value(c).is_some()) {
        return false;
    }
    let rem = body.len() % 4;
    if rem == 1 || (pad > 0 && pad != 4 - rem) {
        return false;
    }
    // The last character's unused low bits must be zero.
    let unused = match rem {
        2 => 0x0f,
        3 => 0x03,
        _ => 0,
    };
    body.last()
        .and_then(|&c| value(c))
        .is_none_or(|v| v & unused == 0)
}

/// protoc's default JSON name of a field: underscores dropped, the letter after each one
/// upper-cased (`user_id` → `userId`, `Self` → `Self`). proto3 refuses two fields of a message
/// whose JSON names are equal without case; the gRPC transcoder reads a field by it when a
/// descriptor gives no `json_name`.
pub fn protobuf_json_name(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for yes in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
            "application/vnd.acme.v1+json",
        ] {
            assert!(is_json_media_type(yes), "{yes}");
        }
        for no in [
            "text/plain",
            "image/png",
            "application/+json",
            "json",
            "application/jsonx",
            "",
            "application/json\n",
        ] {
            assert!(!is_json_media_type(no), "{no}");
        }
    }

    #[test]
    fn the_code_table_is_complete_and_consistent() {
        for (i, c) in Code::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(c.grpc()), i + 1, "{c:?}");
            assert_eq!(Code::from_grpc(c.grpc()), c);
            assert_eq!(Code::from_name(c.name()), Some(c));
            assert_eq!(Code::from_str_code(c.as_str()), Some(c));
            assert_eq!(c.as_str(), c.name().to_ascii_uppercase());
            assert_eq!(Code::from_declared_jsonrpc(c.declared_jsonrpc()), Some(c));
        }
        assert_eq!(Code::NotFound.http_status(), 404);
        assert_eq!(Code::NotFound.jsonrpc(), 1005);
        assert_eq!(Code::InvalidArgument.jsonrpc(), -32602);
        assert_eq!(Code::InvalidArgument.declared_jsonrpc(), 1003);
        assert_eq!(Code::from_http_status(404), Code::NotFound);
    }

    #[test]
    fn wire_forms() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
        assert!(is_date("2024-02-29") && !is_date("2023-02-29") && !is_date("2024-13-01"));
        assert!(is_date_time("2024-05-01T12:30:00Z"));
        assert!(is_date_time("2024-05-01T12:30:00.123+02:00"));
        assert!(!is_date_time("2024-05-01 12:30:00"));
        assert!(is_duration("1.5s") && is_duration("-3s") && !is_duration("3m"));
        assert!(is_decimal("-12.50") && !is_decimal("1e5"));
        assert!(is_base64("aGVsbG8=") && !is_base64("not base64!"));
    }

    #[test]
    fn formats() {
        assert!(Format::Email.check("ada@example.com"));
        assert!(!Format::Email.check("ada@localhost"));
        assert!(Format::Uri.check("https://example.com/x"));
        assert!(!Format::Uri.check("no scheme"));
        assert!(Format::Ipv6.check("::1") && !Format::Ipv4.check("256.0.0.1"));
        assert!(Format::Hostname.check("api.example.com") && !Format::Hostname.check("-bad.com"));
        assert_eq!(Format::from_name("date_time"), Some(Format::DateTime));
        assert_eq!(Format::from_name("datetime"), None);
    }
}
