//! Literal values against types and constraints (defaults and examples).
//!
//! The rules here are the validators' rules: what the generated validators enforce at run
//! time is what the compiler enforces on the contract's own defaults and examples.

use svcc_model::*;
use svcc_rules::{is_base64, is_date, is_date_time, is_decimal, is_duration, is_uuid};

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
            && !f.check(s)
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

#[cfg(test)]
mod tests {
    use super::*;

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
