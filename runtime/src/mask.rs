//! Masking `@sensitive` values (and secret headers) before anything is logged: the server's
//! call log and the clients' curl log both go through here.

use crate::method::{Mask, Sensitive};
use serde_json::Value;

/// Headers whose values are secrets whatever the contract says.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// Masks every sensitive path of `value` (parameters and results share one object space:
/// a path names a parameter or a result).
pub fn mask_all(value: &mut Value, sensitive: &[Sensitive]) {
    for s in sensitive {
        let segments: Vec<&str> = s.name.split('.').collect();
        mask_path(value, &segments, s.mask);
    }
}

fn mask_path(value: &mut Value, path: &[&str], mask: Mask) {
    let Some((first, rest)) = path.split_first() else {
        *value = masked(value, mask);
        return;
    };
    let (key, each) = if let Some(k) = first.strip_suffix("[]") {
        (k, Some('['))
    } else if let Some(k) = first.strip_suffix("{}") {
        (k, Some('{'))
    } else {
        (*first, None)
    };
    let Some(child) = value.as_object_mut().and_then(|m| m.get_mut(key)) else {
        return;
    };
    match (each, child) {
        (None, child) => mask_path(child, rest, mask),
        (Some('['), Value::Array(items)) => {
            for item in items {
                mask_path(item, rest, mask);
            }
        }
        (Some(_), Value::Object(entries)) => {
            for item in entries.values_mut() {
                mask_path(item, rest, mask);
            }
        }
        _ => {}
    }
}

/// A value as it may be logged: `***` for everything but the kept part of a string.
pub fn masked(value: &Value, mask: Mask) -> Value {
    let Value::String(s) = value else {
        return Value::String("***".to_string());
    };
    Value::String(mask_text(s, mask))
}

/// Masks text: `Full` → `***`; `Middle` keeps the first and last characters; `FirstHalf` hides
/// the first half, `LastHalf` the second.
pub fn mask_text(s: &str, mask: Mask) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    match mask {
        _ if n < 4 => "***".to_string(),
        Mask::Full => "***".to_string(),
        Mask::Middle => format!("{}***{}", chars[0], chars[n - 1]),
        Mask::FirstHalf => format!("***{}", chars[n / 2..].iter().collect::<String>()),
        Mask::LastHalf => format!("{}***", chars[..n / 2].iter().collect::<String>()),
    }
}
