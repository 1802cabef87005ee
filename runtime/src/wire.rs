//! The JSON wire forms of the contract's special scalar types: `timestamp` (RFC 3339),
//! `date` (`YYYY-MM-DD`), `duration` (`"1.5s"`), `decimal` (a string), `bytes` (base64).
//! `uuid` is [`uuid::Uuid`] and `any` is [`serde_json::Value`].

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use std::fmt;
use std::str::FromStr;

/// A point in time; RFC 3339 on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub time::OffsetDateTime);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(time::OffsetDateTime::now_utc())
    }
}

impl From<std::time::SystemTime> for Timestamp {
    fn from(t: std::time::SystemTime) -> Timestamp {
        Timestamp(time::OffsetDateTime::from(t))
    }
}

/// RFC 3339 in UTC (`Z`) with 0, 3, 6 or 9 fractional digits: protobuf's JSON form of a
/// timestamp, so svcc's JSON and a transcoder's (Envoy, grpc-gateway) print the same text.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        let (year, month, day) = (t.year(), u8::from(t.month()), t.day());
        if !(0..=9999).contains(&year) {
            return Err(fmt::Error);
        }
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let nanos = t.nanosecond();
        if nanos == 0 {
        } else if nanos.is_multiple_of(1_000_000) {
            write!(f, ".{:03}", nanos / 1_000_000)?;
        } else if nanos.is_multiple_of(1_000) {
            write!(f, ".{:06}", nanos / 1_000)?;
        } else {
            write!(f, ".{nanos:09}")?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Timestamp, String> {
        // The shared rule first: the time crate also takes any separator in place of `T` and
        // leap seconds, which the contract's wire form (and the compiler) do not.
        if !svcc_rules::is_date_time(s) {
            return Err(format!("`{s}` is not an RFC 3339 timestamp"));
        }
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(Timestamp)
            .map_err(|_| format!("`{s}` is not an RFC 3339 timestamp"))
    }
}

/// A calendar date; `YYYY-MM-DD` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub time::Date);

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(DATE_FORMAT) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        time::Date::parse(s, DATE_FORMAT)
            .map(Date)
            .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
    }
}

/// A signed span of time; seconds with an `s` suffix on the wire (`"1.5s"`, `"-3s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub time::Duration);

impl Duration {
    pub fn from_secs(s: i64) -> Duration {
        Duration(time::Duration::seconds(s))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.whole_seconds();
        let nanos = self.0.subsec_nanoseconds().unsigned_abs();
        let sign = if self.0.is_negative() && secs == 0 {
            "-"
        } else {
            ""
        };
        if nanos == 0 {
            write!(f, "{sign}{secs}s")
        } else {
            let frac = format!("{nanos:09}");
            write!(f, "{sign}{secs}.{}s", frac.trim_end_matches('0'))
        }
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Duration, String> {
        let bad = || format!("`{s}` is not a duration such as \"1.5s\"");
        let num = s.strip_suffix('s').ok_or_else(bad)?;
        let (neg, num) = match num.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, num),
        };
        let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
            return Err(bad());
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || (num.contains('.') && frac.is_empty()) {
            return Err(bad());
        }
        let secs: i64 = whole.parse().map_err(|_| bad())?;
        let nanos: i32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}").parse().map_err(|_| bad())?
        };
        let d = time::Duration::new(secs, nanos);
        Ok(Duration(if neg { -d } else { d }))
    }
}

/// An exact decimal number, carried as a string (`"-12.50"`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(String);

impl Decimal {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Decimal {
    type Err = String;
    fn from_str(s: &str) -> Result<Decimal, String> {
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        let body = s.strip_prefix('-').unwrap_or(s);
        let ok = match body.split_once('.') {
            Some((a, b)) => digits(a) && digits(b),
            None => digits(body),
        };
        if ok {
            Ok(Decimal(s.to_string()))
        } else {
            Err(format!("`{s}` is not a decimal number"))
        }
    }
}

/// Raw bytes; standard base64 on the wire (URL-safe and unpadded input accepted).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl FromStr for Bytes {
    type Err = String;
    fn from_str(s: &str) -> Result<Bytes, String> {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        STANDARD
            .decode(s)
            .or_else(|_| STANDARD_NO_PAD.decode(s))
            .or_else(|_| URL_SAFE.decode(s))
            .or_else(|_| URL_SAFE_NO_PAD.decode(s))
            .map(Bytes)
            .map_err(|_| "not valid base64".to_string())
    }
}

macro_rules! string_serde {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(D::Error::custom)
            }
        }
    )*};
}

string_serde!(Timestamp, Date, Duration, Decimal, Bytes);

/// Values with a fixed fallback, for constants the compiler has already validated.
pub trait Constant: FromStr {
    fn fallback() -> Self;
}

impl Constant for Timestamp {
    fn fallback() -> Self {
        Timestamp(time::OffsetDateTime::UNIX_EPOCH)
    }
}
impl Constant for Date {
    fn fallback() -> Self {
        Date(time::OffsetDateTime::UNIX_EPOCH.date())
    }
}
impl Constant for Duration {
    fn fallback() -> Self {
        Duration::default()
    }
}
impl Constant for Decimal {
    fn fallback() -> Self {
        Decimal("0".to_string())
    }
}
impl Constant for Bytes {
    fn fallback() -> Self {
        Bytes::default()
    }
}

/// Parses a default value written in the contract (checked by the compiler, so the fallback
/// is never used; it exists so generated code needs no `unwrap`).
pub fn parse_constant<T: Constant>(s: &str) -> T {
    s.parse().unwrap_or_else(|_| T::fallback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_protobuf_does() {
        for (input, shown) in [
            ("2026-12-02T06:11:50Z", "2026-12-02T06:11:50Z"),
            ("2026-12-02T06:11:50.5Z", "2026-12-02T06:11:50.500Z"),
            ("2026-12-02T06:11:50.8125Z", "2026-12-02T06:11:50.812500Z"),
            (
                "2026-12-02T06:11:50.812563516Z",
                "2026-12-02T06:11:50.812563516Z",
            ),
            ("2026-12-02T08:11:50.1+02:00", "2026-12-02T06:11:50.100Z"),
            ("1969-12-31T23:59:59.000001Z", "1969-12-31T23:59:59.000001Z"),
        ] {
            let t: Timestamp = input.parse().unwrap();
            assert_eq!(t.to_string(), shown);
            assert_eq!(shown.parse::<Timestamp>().unwrap(), t);
        }
    }

    #[test]
    fn durations_round_trip() {
        for s in ["1.5s", "0s", "-3s", "900s", "0.000000001s", "-0.5s"] {
            let d: Duration = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        for bad in ["1.5", "s", "1.s", "1.5m", "1.0000000001s", "x1s"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_dates_decimals_bytes() {
        let t: Timestamp = "2024-05-01T12:30:00.5+02:00".parse().unwrap();
        // Written in UTC with protobuf's fraction digits: the same instant.
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2024-05-01T10:30:00.500Z\""
        );
        assert!("2024-05-01 12:30".parse::<Timestamp>().is_err());
        let d: Date = "2024-02-29".parse().unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("-12.50".parse::<Decimal>().is_ok() && "1e5".parse::<Decimal>().is_err());
        let b: Bytes = serde_json::from_str("\"aGVsbG8=\"").unwrap();
        assert_eq!(b.0, b"hello");
        assert!(serde_json::from_str::<Bytes>("\"!!\"").is_err());
    }

    /// The compiler checks a contract's defaults and examples with `svcc-rules`; the server
    /// decodes requests with these types. They must agree on every string, or an example the
    /// compiler accepted would be refused at run time (or the other way round).
    #[test]
    fn the_compilers_wire_checks_agree_with_the_decoders() {
        let mut corpus: Vec<String> = [
            "2024-05-01T12:30:00Z",
            "2024-05-01t12:30:00z",
            "2024-05-01T12:30:00.123456789+02:00",
            "2024-05-01T12:30:00.1234567891Z",
            "2024-05-01T12:30:00+24:00",
            "2024-05-01T12:30:00-00:00",
            "2024-05-01T23:59:60Z",
            "2024-06-30T23:59:60Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:30:00",
            "2024-05-01T12:30Z",
            "2024-05-01 12:30:00Z",
            "2024-02-30T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "2024-05-01T12:30:00.Z",
            "+2024-05-01T12:30:00Z",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "0000-01-01",
            "1.5s",
            "0s",
            "-3s",
            "-0s",
            "1.s",
            ".5s",
            "1.0000000001s",
            "1.000000001s",
            "99999999999999999999s",
            "+1s",
            "1e3s",
            "-12.50",
            "12.",
            ".5",
            "-",
            "1e5",
            "007",
            "1_000",
            "aGVsbG8=",
            "aGVsbG8",
            "aGVsbG8==",
            "aGVsbA=",
            "a",
            "ab==",
            "a===",
            "-_-_",
            "+/+/",
            "",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        // Every seed with one character changed, so the edges are probed too.
        let seeds = corpus.clone();
        for seed in &seeds {
            for i in 0..seed.len() {
                for c in ['0', '9', '-', ':', '.', 'Z', '=', 's', '+'] {
                    let mut v = seed.clone().into_bytes();
                    v[i] = c as u8;
                    corpus.push(String::from_utf8_lossy(&v).into_owned());
                }
            }
        }
        for s in &corpus {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(
                svcc_rules::is_date_time(s),
                s.parse::<Timestamp>().is_ok(),
                "date-time {s:?}"
            );
            assert_eq!(
                svcc_rules::is_date(s),
                s.parse::<Date>().is_ok(),
                "date {s:?}"
            );
            assert_eq!(
                svcc_rules::is_duration(s),
                s.parse::<Duration>().is_ok(),
                "duration {s:?}"
            );
            assert_eq!(
                svcc_rules::is_decimal(s),
                s.parse::<Decimal>().is_ok(),
                "decimal {s:?}"
            );
            assert_eq!(
                svcc_rules::is_base64(s),
                serde_json::from_str::<Bytes>(&json).is_ok(),
                "bytes {s:?}"
            );
            assert_eq!(
                svcc_rules::is_uuid(s),
                serde_json::from_str::<uuid::Uuid>(&json).is_ok() && s.len() == 36,
                "uuid {s:?}"
            );
        }
    }
}
