//! Literal values against types and constraints (defaults and examples).
//!
//! The rules here are the validators' rules: what the generated validators enforce at run
//! time is what the compiler enforces on the contract's own defaults and examples.

use crate::model::*;

/// Whether `lit` is a value of `ty`; on failure, what was found (in the user's words).
pub fn fits(model: &Model, ty: &TypeRef, lit: &Literal) -> Result<(), String> {
    match (ty, lit) {
        (TypeRef::Primitive(p), _) => fits_primitive(*p, lit),
        (TypeRef::List(inner), Literal::List(items)) => {
            for i in items {
                fits(model, inner, i)?;
            }
            Ok(())
        }
        (TypeRef::Named(n), _) => match model.type_def(n) {
            None => Ok(()), // unresolved: reported already
            Some(TypeDef::Alias(a)) => fits(model, &a.target, lit),
            Some(TypeDef::Enum(e)) => match lit {
                Literal::Ident(v) if e.values.iter().any(|x| &x.name == v) => Ok(()),
                Literal::Ident(v) => Err(format!("`{v}`, which is not a value of `{}`", e.name)),
                other => Err(describe(other)),
            },
            Some(TypeDef::Record(_) | TypeDef::Union(_)) => Err(format!(
                "{}; records and unions have no literal form",
                describe(lit)
            )),
        },
        (TypeRef::Map(..), _) => Err(format!("{}; maps have no literal form", describe(lit))),
        (_, other) => Err(describe(other)),
    }
}

fn fits_primitive(p: Primitive, lit: &Literal) -> Result<(), String> {
    let ok = match (p, lit) {
        (Primitive::Any, _) => true,
        (Primitive::Bool, Literal::Bool(_)) => true,
        (p, Literal::Int(v)) if p.is_integer() => {
            let (lo, hi) = p.int_bounds().unwrap_or((0, 0));
            if *v < lo || *v > hi {
                return Err(format!("{v}, outside the range of `{}`", p.name()));
            }
            true
        }
        (Primitive::Float32 | Primitive::Float64, Literal::Int(_) | Literal::Float(_)) => true,
        (Primitive::String, Literal::String(_)) => true,
        (Primitive::Bytes, Literal::String(s)) => {
            if !is_base64(s) {
                return Err("a string that is not base64".to_string());
            }
            true
        }
        (Primitive::Uuid, Literal::String(s)) => {
            if !is_uuid(s) {
                return Err(format!("\"{s}\", which is not a UUID"));
            }
            true
        }
        (Primitive::Timestamp, Literal::String(s)) => {
            if !is_date_time(s) {
                return Err(format!("\"{s}\", which is not an RFC 3339 timestamp"));
            }
            true
        }
        (Primitive::Date, Literal::String(s)) => {
            if !is_date(s) {
                return Err(format!("\"{s}\", which is not a date (YYYY-MM-DD)"));
            }
            true
        }
        (Primitive::Duration, Literal::String(s)) => {
            if !is_duration(s) {
                return Err(format!("\"{s}\", which is not a duration such as \"1.5s\""));
            }
            true
        }
        (Primitive::Decimal, Literal::String(s)) => {
            if !is_decimal(s) {
                return Err(format!("\"{s}\", which is not a decimal number"));
            }
            true
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(describe(lit)) }
}

fn describe(lit: &Literal) -> String {
    match lit {
        Literal::Bool(b) => format!("`{b}`"),
        Literal::Int(i) => format!("the integer {i}"),
        Literal::Float(f) => format!("the number {f}"),
        Literal::String(_) => "a string".to_string(),
        Literal::Ident(i) => format!("`{i}`"),
        Literal::List(_) => "a list".to_string(),
    }
}

/// The field's own constraints over those of the aliases its type goes through.
pub fn effective_constraints(model: &Model, ty: &TypeRef, own: &Constraints) -> Constraints {
    let mut c = own.clone();
    let mut t = ty;
    for _ in 0..64 {
        let TypeRef::Named(n) = t else { break };
        let Some(TypeDef::Alias(a)) = model.type_def(n) else {
            break;
        };
        c = c.merged_over(&a.constraints);
        t = &a.target;
    }
    c
}

/// The first constraint `lit` breaks: the rule in words and the annotation's name.
pub fn violation(c: &Constraints, lit: &Literal) -> Option<(String, &'static str)> {
    let len = match lit {
        Literal::String(s) => Some(s.chars().count() as u64),
        Literal::List(items) => Some(items.len() as u64),
        _ => None,
    };
    if let Some(len) = len {
        if let Some(min) = c.min_length
            && len < min
        {
            return Some((format!("length {len} is below the minimum {min}"), "length"));
        }
        if let Some(max) = c.max_length
            && len > max
        {
            return Some((format!("length {len} is above the maximum {max}"), "length"));
        }
    }
    #[allow(clippy::cast_precision_loss)] // compared as f64, like JSON numbers
    let num = match lit {
        Literal::Int(i) => Some(*i as f64),
        Literal::Float(f) => Some(*f),
        _ => None,
    };
    if let Some(v) = num {
        if let Some(b) = c.minimum {
            let bad = if b.exclusive {
                v <= b.value
            } else {
                v < b.value
            };
            if bad {
                return Some((format!("{v} is below the minimum {}", b.value), "range"));
            }
        }
        if let Some(b) = c.maximum {
            let bad = if b.exclusive {
                v >= b.value
            } else {
                v > b.value
            };
            if bad {
                return Some((format!("{v} is above the maximum {}", b.value), "range"));
            }
        }
    }
    if let Literal::String(s) = lit {
        if let Some(p) = &c.pattern
            && let Ok(re) = regex::Regex::new(&format!("^(?:{p})$"))
            && !re.is_match(s)
        {
            return Some((format!("\"{s}\" does not match `{p}`"), "pattern"));
        }
        if let Some(f) = c.format
            && !format_ok(f, s)
        {
            let name = Format::ALL
                .iter()
                .find(|(_, v)| *v == f)
                .map_or("?", |(n, _)| n);
            return Some((format!("\"{s}\" is not a valid {name}"), "format"));
        }
    }
    if c.unique
        && let Literal::List(items) = lit
    {
        for (i, a) in items.iter().enumerate() {
            if items[..i].contains(a) {
                return Some(("the list has duplicate items".to_string(), "unique"));
            }
        }
    }
    None
}

pub fn format_ok(f: Format, s: &str) -> bool {
    match f {
        Format::Email => is_email(s),
        Format::Uri => is_uri(s),
        Format::Uuid => is_uuid(s),
        Format::Ipv4 => s.parse::<std::net::Ipv4Addr>().is_ok(),
        Format::Ipv6 => s.parse::<std::net::Ipv6Addr>().is_ok(),
        Format::Hostname => is_hostname(s),
        Format::DateTime => is_date_time(s),
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && is_hostname(domain)
}

fn is_uri(s: &str) -> bool {
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

fn is_hostname(s: &str) -> bool {
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
    if !(ok_num(h, 23) && ok_num(m, 59) && ok_num(sec, 60)) {
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
    match num.split_once('.') {
        Some((a, b)) => digits(a) && digits(b) && b.len() <= 9,
        None => digits(num),
    }
}

pub fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    match s.split_once('.') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(s),
    }
}

pub fn is_base64(s: &str) -> bool {
    let trimmed = s.trim_end_matches('=');
    s.len() - trimmed.len() <= 2
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(format_ok(Format::Email, "ada@example.com"));
        assert!(!format_ok(Format::Email, "ada@localhost"));
        assert!(format_ok(Format::Uri, "https://example.com/x"));
        assert!(!format_ok(Format::Uri, "no scheme"));
        assert!(format_ok(Format::Ipv6, "::1") && !format_ok(Format::Ipv4, "256.0.0.1"));
        assert!(
            format_ok(Format::Hostname, "api.example.com")
                && !format_ok(Format::Hostname, "-bad.com")
        );
    }

    #[test]
    fn violations_name_the_rule() {
        let c = Constraints {
            min_length: Some(2),
            max_length: Some(3),
            ..Constraints::default()
        };
        assert_eq!(violation(&c, &Literal::String("ab".into())), None);
        let (rule, ann) = violation(&c, &Literal::String("abcd".into())).unwrap();
        assert_eq!(
            (rule.as_str(), ann),
            ("length 4 is above the maximum 3", "length")
        );
        let c = Constraints {
            minimum: Some(Bound {
                value: 0.0,
                exclusive: true,
            }),
            ..Constraints::default()
        };
        assert!(violation(&c, &Literal::Int(0)).is_some());
        assert!(violation(&c, &Literal::Float(0.5)).is_none());
        // Characters, not bytes.
        let c = Constraints {
            max_length: Some(5),
            ..Constraints::default()
        };
        assert!(violation(&c, &Literal::String("héllo".into())).is_none());
    }
}
