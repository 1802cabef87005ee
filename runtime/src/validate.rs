//! Validation: generated `Validate` impls walk a value and report *every* violation, each with
//! its path (`user.tags[2]`), the rule and a message.
//!
//! The rules match the compiler's (`compiler/src/check/values.rs`), which applies them to the
//! contract's own defaults and examples: what the compiler accepts, the validators accept.

use crate::error::Violation;
use regex::Regex;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::OnceLock;

/// Checks a method's result against the contract (generated servers call it when the server
/// validates results, [`ServerConfig::validate_results`](crate::ServerConfig)): a result that
/// breaks the contract is logged with its violations and answered as an internal error, so the
/// caller never receives it.
#[cfg(feature = "server")]
pub fn check_result<T: Validate + ?Sized>(
    value: &T,
    info: &crate::method::MethodInfo,
) -> Result<(), crate::error::Error> {
    let Err(violations) = value.validate() else {
        return Ok(());
    };
    let listed: Vec<String> = violations
        .iter()
        .take(20)
        .map(|v| format!("{} ({}): {}", v.path, v.rule, v.message))
        .collect();
    tracing::error!(
        target: "svcc::contract",
        service = info.service,
        method = info.name,
        violations = violations.len(),
        first = %listed.join("; "),
        "the handler's result breaks the contract; answered as an internal error"
    );
    Err(crate::error::Error::internal(
        "the service's result breaks its contract",
    ))
}

/// Implemented by every generated type and request that has constraints somewhere inside.
pub trait Validate {
    /// Adds this value's violations to `v`, at `v`'s current path.
    fn validate_into(&self, v: &mut Validator);

    /// All violations of this value, or `Ok`.
    fn validate(&self) -> Result<(), Vec<Violation>> {
        let mut v = Validator::default();
        self.validate_into(&mut v);
        v.finish()
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, v: &mut Validator) {
        if let Some(x) = self {
            x.validate_into(v);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, v: &mut Validator) {
        for (i, x) in self.iter().enumerate() {
            v.enter_index(i);
            x.validate_into(v);
            v.leave();
        }
    }
}

impl<K: std::fmt::Display, T: Validate, S> Validate for std::collections::HashMap<K, T, S> {
    fn validate_into(&self, v: &mut Validator) {
        let mut keys: Vec<(String, &T)> = self.iter().map(|(k, x)| (k.to_string(), x)).collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, x) in keys {
            v.enter_key(&k);
            x.validate_into(v);
            v.leave();
        }
    }
}

impl<K: std::fmt::Display, T: Validate> Validate for std::collections::BTreeMap<K, T> {
    fn validate_into(&self, v: &mut Validator) {
        for (k, x) in self {
            v.enter_key(&k.to_string());
            x.validate_into(v);
            v.leave();
        }
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate_into(&self, v: &mut Validator) {
        (**self).validate_into(v);
    }
}

#[derive(Clone, Debug)]
enum Segment {
    Field(&'static str),
    Index(usize),
    Key(String),
}

/// Collects violations while a value is walked.
#[derive(Debug, Default)]
pub struct Validator {
    path: Vec<Segment>,
    violations: Vec<Violation>,
}

impl Validator {
    pub fn enter_field(&mut self, name: &'static str) {
        self.path.push(Segment::Field(name));
    }

    pub fn enter_index(&mut self, i: usize) {
        self.path.push(Segment::Index(i));
    }

    pub fn enter_key(&mut self, k: &str) {
        self.path.push(Segment::Key(k.to_string()));
    }

    pub fn leave(&mut self) {
        self.path.pop();
    }

    /// The current path: `user.tags[2]`, `settings["theme"]`.
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Segment::Field(f) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(f);
                }
                Segment::Index(i) => {
                    let _ = write!(s, "[{i}]");
                }
                Segment::Key(k) => {
                    let _ = write!(s, "[{k:?}]");
                }
            }
        }
        s
    }

    pub fn report(&mut self, rule: &str, message: impl Into<String>) {
        let path = self.path();
        self.violations.push(Violation {
            path,
            rule: rule.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn finish(self) -> Result<(), Vec<Violation>> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(self.violations)
        }
    }

    /// `@length` on a string (counted in characters).
    pub fn str_length(&mut self, s: &str, min: Option<u64>, max: Option<u64>) {
        self.length(s.chars().count(), min, max, "character");
    }

    /// `@length` on bytes, lists and maps; `unit` is singular (`byte`, `item`, `entry`).
    pub fn length(&mut self, len: usize, min: Option<u64>, max: Option<u64>, unit: &str) {
        let len = len as u64;
        if let Some(min) = min
            && len < min
        {
            self.report(
                "length",
                format!("must have at least {}, has {len}", count(min, unit)),
            );
        }
        if let Some(max) = max
            && len > max
        {
            self.report(
                "length",
                format!("must have at most {}, has {len}", count(max, unit)),
            );
        }
    }

    /// `@range` (bounds as written in the contract; `exclusive` per bound).
    pub fn range(&mut self, value: f64, min: Option<(f64, bool)>, max: Option<(f64, bool)>) {
        if let Some((m, exclusive)) = min {
            if exclusive && value <= m {
                self.report("range", format!("must be greater than {m}"));
            } else if !exclusive && value < m {
                self.report("range", format!("must be at least {m}"));
            }
        }
        if let Some((m, exclusive)) = max {
            if exclusive && value >= m {
                self.report("range", format!("must be less than {m}"));
            } else if !exclusive && value > m {
                self.report("range", format!("must be at most {m}"));
            }
        }
    }

    /// `@pattern` (the whole string must match).
    pub fn pattern(&mut self, s: &str, p: &Pattern) {
        match p.regex() {
            Some(re) if re.is_match(s) => {}
            Some(_) => self.report("pattern", format!("must match `{}`", p.source)),
            None => self.report(
                "pattern",
                format!("pattern `{}` does not compile", p.source),
            ),
        }
    }

    /// `@format`.
    pub fn format(&mut self, s: &str, f: Format) {
        if !f.check(s) {
            self.report("format", format!("must be a valid {}", f.describe()));
        }
    }

    /// `@unique` for any serializable item type (compares the JSON forms).
    pub fn unique_json<T: serde::Serialize>(&mut self, items: &[T]) {
        let mut seen = HashSet::with_capacity(items.len());
        for (i, x) in items.iter().enumerate() {
            let key = serde_json::to_string(x).unwrap_or_default();
            if !seen.insert(key) {
                self.report(
                    "unique",
                    format!("must not repeat items (item {i} repeats an earlier one)"),
                );
                return;
            }
        }
    }

    /// `@unique`.
    pub fn unique<T: Eq + Hash>(&mut self, items: &[T]) {
        let mut seen = HashSet::with_capacity(items.len());
        if let Some(i) = items.iter().position(|x| !seen.insert(x)) {
            self.report(
                "unique",
                format!("must not repeat items (item {i} repeats an earlier one)"),
            );
        }
    }
}

/// A `@pattern`, compiled once on first use and anchored to the whole string.
#[derive(Debug)]
pub struct Pattern {
    pub source: &'static str,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    pub const fn new(source: &'static str) -> Pattern {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    pub fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&format!("^(?:{})$", self.source)).ok())
            .as_ref()
    }
}

/// `@format` values and their checks, shared with the compiler through `svcc-rules`.
pub use svcc_rules::Format;

/// `1 character`, `3 characters`, `2 entries`.
fn count(n: u64, unit: &str) -> String {
    match (n, unit) {
        (1, _) => format!("1 {unit}"),
        (_, "entry") => format!("{n} entries"),
        _ => format!("{n} {unit}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_messages_are_plain_english() {
        let mut v = Validator::default();
        v.str_length("ab", Some(3), None);
        v.str_length("abcd", None, Some(1));
        v.length(5, None, Some(2), "entry");
        let messages: Vec<String> = v
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|x| x.message)
            .collect();
        assert_eq!(
            messages,
            [
                "must have at least 3 characters, has 2",
                "must have at most 1 character, has 4",
                "must have at most 2 entries, has 5",
            ]
        );
    }

    #[test]
    fn paths_and_every_violation() {
        let mut v = Validator::default();
        v.enter_field("user");
        v.enter_field("tags");
        v.enter_index(2);
        v.str_length("", Some(1), None);
        v.leave();
        v.leave();
        v.enter_field("email");
        v.format("nope", Format::Email);
        v.leave();
        v.leave();
        let all = v.finish().unwrap_err();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].path, "user.tags[2]");
        assert_eq!(all[0].rule, "length");
        assert_eq!(all[1].path, "user.email");
    }

    #[test]
    fn rules() {
        let mut v = Validator::default();
        v.range(0.0, Some((0.0, true)), None);
        v.range(5.0, Some((0.0, false)), Some((5.0, false)));
        v.pattern("abc", &Pattern::new("[a-z]+"));
        v.pattern("abc1", &Pattern::new("[a-z]+"));
        v.unique(&[1, 2, 1]);
        v.str_length("héllo", None, Some(5));
        let all = v.finish().unwrap_err();
        let rules: Vec<&str> = all.iter().map(|x| x.rule.as_str()).collect();
        assert_eq!(rules, ["range", "pattern", "unique"]);
    }
}
