//! One rule for JSON objects on every transport: a key may appear once. An object with a key
//! twice — `{"role": "member", "role": "admin"}` — is refused (`400` on REST, `-32602` on
//! JSON-RPC), at any depth, instead of one of its values being kept silently: two parsers that
//! pick different ones (a proxy, a validator, the service) are a known way around checks, and
//! RFC 8259 leaves the meaning undefined.
//!
//! The scan reads the text once and allocates only for the keys of the object it is in. It
//! does not validate: what is not JSON is left to the parser that follows.

use std::borrow::Cow;

/// A key found twice in one object.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// The key (at most 64 characters of it).
    pub key: String,
    /// Where the object is: `members[2].labels`; empty for the top level.
    pub path: String,
}

impl Duplicate {
    /// `the key `x` appears twice (in `a.b`)`.
    pub(crate) fn message(&self) -> String {
        if self.path.is_empty() {
            format!("the key `{}` appears twice in one object", self.key)
        } else {
            format!("the key `{}` appears twice in `{}`", self.key, self.path)
        }
    }
}

enum Frame {
    /// An object: where its keys start in the key list, whether a key comes next, and
    /// its last key read (the one the value being read hangs under).
    Object {
        start: usize,
        key_next: bool,
        last: Option<usize>,
    },
    Array {
        index: usize,
    },
}

/// The first object of `text` that has a key twice.
pub(crate) fn duplicate_key(text: &[u8]) -> Option<Duplicate> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut keys: Vec<Cow<'_, [u8]>> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'{' => {
                stack.push(Frame::Object {
                    start: keys.len(),
                    key_next: true,
                    last: None,
                });
                i += 1;
            }
            b'[' => {
                stack.push(Frame::Array { index: 0 });
                i += 1;
            }
            b'"' => {
                let end = string_end(text, i)?;
                if let Some(Frame::Object { key_next, last, .. }) = stack.last_mut()
                    && *key_next
                {
                    *key_next = false;
                    *last = Some(keys.len());
                    let raw = &text[i + 1..end - 1];
                    keys.push(if raw.contains(&b'\\') {
                        // Escapes resolved: `"a"` and `"\u0061"` are the same key.
                        Cow::Owned(
                            serde_json::from_slice::<String>(&text[i..end])
                                .ok()?
                                .into_bytes(),
                        )
                    } else {
                        Cow::Borrowed(raw)
                    });
                }
                i = end;
            }
            b'}' => {
                let Some(Frame::Object { start, .. }) = stack.pop() else {
                    return None;
                };
                if let Some(key) = twice(&mut keys[start..]) {
                    let key = String::from_utf8_lossy(&key).into_owned();
                    return Some(Duplicate {
                        key: crate::error::clip(&key, 64).into_owned(),
                        path: path(&stack, &keys),
                    });
                }
                keys.truncate(start);
                i += 1;
            }
            b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Object { key_next, .. }) => *key_next = true,
                    Some(Frame::Array { index }) => *index += 1,
                    None => {}
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The index after the string starting at `start` (a quote), escapes skipped.
fn string_end(text: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        let at = text
            .get(i..)?
            .iter()
            .position(|&c| c == b'"' || c == b'\\')?;
        i += at;
        if text[i] == b'"' {
            return Some(i + 1);
        }
        i += 2;
    }
}

/// A key that appears twice among `keys` (sorted in place when there are many).
fn twice<'a>(keys: &mut [Cow<'a, [u8]>]) -> Option<Cow<'a, [u8]>> {
    if keys.len() <= 8 {
        for (n, k) in keys.iter().enumerate() {
            if keys[..n].contains(k) {
                return Some(k.clone());
            }
        }
        return None;
    }
    keys.sort_unstable();
    keys.windows(2).find(|w| w[0] == w[1]).map(|w| w[0].clone())
}

/// The path to the value being read in the innermost frame of `stack`: each object's last
/// key, each array's index.
fn path(stack: &[Frame], keys: &[Cow<'_, [u8]>]) -> String {
    let mut out = String::new();
    for frame in stack {
        match frame {
            Frame::Object { last, .. } => {
                if let Some(k) = last.and_then(|n| keys.get(n)) {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&crate::error::clip(&String::from_utf8_lossy(k), 64));
                }
            }
            Frame::Array { index } => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup(text: &str) -> Option<(String, String)> {
        duplicate_key(text.as_bytes()).map(|d| (d.key, d.path))
    }

    #[test]
    fn a_key_twice_is_found_at_any_depth_with_its_path() {
        assert_eq!(dup(r#"{"a":1,"b":2}"#), None);
        assert_eq!(dup(r#"{"a":1,"a":2}"#), Some(("a".into(), String::new())));
        assert_eq!(
            dup(r#"{"user":{"labels":{"en":"x","en":"y"}}}"#),
            Some(("en".into(), "user.labels".into()))
        );
        assert_eq!(
            dup(r#"{"members":[{"id":1},{"id":2},{"id":3,"id":4}]}"#),
            Some(("id".into(), "members[2]".into()))
        );
        // Values that look like keys, strings with quotes and braces, escapes.
        assert_eq!(dup(r#"{"a":"a","b":["a","a"],"c":"}{\"a\""}"#), None);
        assert_eq!(
            dup(r#"{"a":1,"\u0061":2}"#),
            Some(("a".into(), String::new()))
        );
        // The same key in sibling objects is fine.
        assert_eq!(dup(r#"[{"a":1},{"a":2}]"#), None);
    }

    #[test]
    fn large_objects_are_checked_without_quadratic_work() {
        let mut text = String::from("{");
        for n in 0..50_000 {
            text.push_str(&format!("\"k{n}\":{n},"));
        }
        text.push_str("\"k7\":0}");
        assert_eq!(dup(&text), Some(("k7".into(), String::new())));
    }

    #[test]
    fn broken_json_is_left_to_the_parser() {
        for text in [r#"{"a":1,"a"#, "}}}", r#"{"a\"#, "[[[", ""] {
            let _ = dup(text);
        }
    }
}
