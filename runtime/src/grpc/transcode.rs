//! Protobuf ↔ svcc's JSON, driven by the [`Schema`]: the gRPC transport decodes a request
//! message into the same JSON object a REST or JSON-RPC call would carry, and encodes the
//! method's JSON result as its response message, so the generated handler, its validation and
//! every layer are the ones the other transports use.
//!
//! JSON follows svcc's forms, which proto3's JSON mapping shares where it can: fields by their
//! `json_name`, enums by svcc's value names, 64-bit integers as numbers, timestamps in RFC 3339,
//! durations as `"1.5s"`, bytes in base64. Presence: fields with implicit presence read as
//! their zero value when absent (an enum's zero, `…_UNSPECIFIED`, as absent), lists and maps as
//! empty (optional ones of the contract as absent when empty), `optional` fields, `oneof`
//! members and messages only when present.

use super::schema::{FieldDef, Kind, MessageDef, Schema, Shape};
use serde::Deserialize as _;
use serde_json::{Map, Number, Value};

/// Messages nested deeper than this are refused (a hostile request must not exhaust the
/// stack).
const MAX_DEPTH: usize = 64;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// Decodes a message of type `message` into its JSON value.
pub fn to_json(schema: &Schema, message: &str, bytes: &[u8]) -> Result<Value, String> {
    let def = schema.message(message)?;
    Decoder { schema }.message(def, bytes, 0)
}

/// Encodes a JSON value as a message of type `message`.
pub fn from_json(schema: &Schema, message: &str, value: &Value) -> Result<Vec<u8>, String> {
    let def = schema.message(message)?;
    let mut out = Vec::new();
    Encoder { schema }.message(def, value, &mut out, 0, "")?;
    Ok(out)
}

// ---- the wire ----

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some((&b, rest)) = self.buf.split_first() else {
                return Err("the message ends inside a number".into());
            };
            self.buf = rest;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err("a number is longer than ten bytes".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err("the message ends inside a field".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn len_delimited(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint()?;
        self.take(usize::try_from(n).map_err(|_| "a field is too long".to_string())?)
    }

    /// Skips one value of `wire` type.
    fn skip(&mut self, wire: u8) -> Result<(), String> {
        match wire {
            VARINT => self.varint().map(|_| ()),
            FIXED64 => self.take(8).map(|_| ()),
            LEN => self.len_delimited().map(|_| ()),
            FIXED32 => self.take(4).map(|_| ()),
            other => Err(format!("unsupported wire type {other}")),
        }
    }
}

/// One scalar as read from the wire, before its kind gives it a meaning.
enum Raw<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Fixed32([u8; 4]),
    Bytes(&'a [u8]),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, number: u32, wire: u8) {
    put_varint(out, (u64::from(number) << 3) | u64::from(wire));
}

fn put_len(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_key(out, number, LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn wire_of(kind: &Kind) -> u8 {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => FIXED64,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => FIXED32,
        Kind::Int64
        | Kind::Uint64
        | Kind::Int32
        | Kind::Uint32
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Bool
        | Kind::Enum(_) => VARINT,
        _ => LEN,
    }
}

// ---- protobuf → JSON ----

struct Decoder<'s> {
    schema: &'s Schema,
}

impl Decoder<'_> {
    fn message(&self, def: &MessageDef, bytes: &[u8], depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("messages are nested too deeply".into());
        }
        let mut values: Vec<Option<Value>> = vec![None; def.fields.len()];
        let mut r = Reader { buf: bytes };
        while !r.buf.is_empty() {
            let key = r.varint()?;
            let number = u32::try_from(key >> 3).map_err(|_| "bad field number".to_string())?;
            let wire = (key & 7) as u8;
            let Some(i) = def.fields.iter().position(|f| f.number == number) else {
                r.skip(wire)?;
                continue;
            };
            let f = &def.fields[i];
            match &f.shape {
                Shape::Repeated => {
                    let list = values[i].get_or_insert_with(|| Value::Array(Vec::new()));
                    let Value::Array(items) = list else {
                        continue;
                    };
                    if wire == LEN && f.kind.packable() {
                        let mut packed = Reader {
                            buf: r.len_delimited()?,
                        };
                        while !packed.buf.is_empty() {
                            let raw = read_raw(&mut packed, wire_of(&f.kind))?;
                            items.push(self.scalar(f, &f.kind, raw, depth)?);
                        }
                    } else {
                        let raw = read_raw(&mut r, wire)?;
                        items.push(self.scalar(f, &f.kind, raw, depth)?);
                    }
                }
                Shape::Map(key_kind) => {
                    let entry = r.len_delimited()?;
                    let (k, v) = self.entry(f, key_kind, entry, depth)?;
                    let map = values[i].get_or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = map {
                        m.insert(k, v);
                    }
                }
                Shape::Single | Shape::Optional => {
                    let raw = read_raw(&mut r, wire)?;
                    values[i] = Some(self.scalar(f, &f.kind, raw, depth)?);
                }
            }
        }
        if def.wrapper {
            let f = &def.fields[0];
            return Ok(values[0].take().unwrap_or_else(|| empty_container(f)));
        }
        let mut out = Map::new();
        for (f, v) in def.fields.iter().zip(values) {
            let v = match v {
                // An enum's zero is `…_UNSPECIFIED`: absent, so the contract's default applies.
                Some(Value::Null) if matches!(f.kind, Kind::Enum(_)) => None,
                Some(v) => Some(v),
                None => match f.shape {
                    Shape::Single => zero(&f.kind),
                    Shape::Repeated | Shape::Map(_) if !f.omit_empty => Some(empty_container(f)),
                    _ => None,
                },
            };
            if let Some(v) = v {
                if f.omit_empty && is_empty_container(&v) {
                    continue;
                }
                out.insert(f.json.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn entry(
        &self,
        f: &FieldDef,
        key_kind: &Kind,
        bytes: &[u8],
        depth: usize,
    ) -> Result<(String, Value), String> {
        let mut r = Reader { buf: bytes };
        let (mut key, mut value) = (None, None);
        while !r.buf.is_empty() {
            let k = r.varint()?;
            let wire = (k & 7) as u8;
            match k >> 3 {
                1 => key = Some(self.scalar(f, key_kind, read_raw(&mut r, wire)?, depth)?),
                2 => value = Some(self.scalar(f, &f.kind, read_raw(&mut r, wire)?, depth)?),
                _ => r.skip(wire)?,
            }
        }
        let key = match key.or_else(|| zero(key_kind)) {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let value = match value {
            Some(v) => v,
            None => zero(&f.kind).unwrap_or_else(|| {
                if f.kind.is_message() {
                    Value::Object(Map::new())
                } else {
                    Value::Null
                }
            }),
        };
        Ok((key, value))
    }

    fn scalar(
        &self,
        f: &FieldDef,
        kind: &Kind,
        raw: Raw<'_>,
        depth: usize,
    ) -> Result<Value, String> {
        let bad = || format!("field `{}` has the wrong wire type", f.name);
        Ok(match (kind, raw) {
            (Kind::Bool, Raw::Varint(v)) => Value::Bool(v != 0),
            (Kind::Int32, Raw::Varint(v)) => Value::from(v as i64 as i32),
            (Kind::Int64, Raw::Varint(v)) => Value::from(v as i64),
            (Kind::Uint32, Raw::Varint(v)) => Value::from(v as u32),
            (Kind::Uint64, Raw::Varint(v)) => Value::from(v),
            (Kind::Sint32, Raw::Varint(v)) => {
                Value::from(((v >> 1) as i64 ^ -((v & 1) as i64)) as i32)
            }
            (Kind::Sint64, Raw::Varint(v)) => Value::from((v >> 1) as i64 ^ -((v & 1) as i64)),
            (Kind::Enum(name), Raw::Varint(v)) => {
                let n = v as i64 as i32;
                match self.schema.enums.get(name).and_then(|d| d.names.get(&n)) {
                    // `…_UNSPECIFIED`: not set.
                    Some(s) if !(n == 0 && s.ends_with("_UNSPECIFIED")) => Value::String(s.clone()),
                    _ if n == 0 => Value::Null,
                    _ => {
                        return Err(format!(
                            "field `{}`: {n} is not a value of `{name}`",
                            f.name
                        ));
                    }
                }
            }
            (Kind::Fixed64, Raw::Fixed64(b)) => Value::from(u64::from_le_bytes(b)),
            (Kind::Sfixed64, Raw::Fixed64(b)) => Value::from(i64::from_le_bytes(b)),
            (Kind::Double, Raw::Fixed64(b)) => float(f64::from_le_bytes(b)),
            (Kind::Fixed32, Raw::Fixed32(b)) => Value::from(u32::from_le_bytes(b)),
            (Kind::Sfixed32, Raw::Fixed32(b)) => Value::from(i32::from_le_bytes(b)),
            (Kind::Float, Raw::Fixed32(b)) => float(f64::from(f32::from_le_bytes(b))),
            (Kind::String, Raw::Bytes(b)) => Value::String(
                std::str::from_utf8(b)
                    .map_err(|_| format!("field `{}` is not valid UTF-8", f.name))?
                    .to_string(),
            ),
            (Kind::Bytes, Raw::Bytes(b)) => {
                Value::String(crate::wire::Bytes(b.to_vec()).to_string())
            }
            (Kind::Message(name), Raw::Bytes(b)) => {
                let def = self.schema.message(name)?;
                self.message(def, b, depth + 1)?
            }
            (Kind::Empty, Raw::Bytes(_)) => Value::Object(Map::new()),
            (Kind::Timestamp, Raw::Bytes(b)) => {
                let (secs, nanos) = seconds_nanos(b)?;
                let t = time::OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(secs) * 1_000_000_000 + i128::from(nanos),
                )
                .map_err(|_| format!("field `{}`: the timestamp is out of range", f.name))?;
                Value::String(crate::wire::Timestamp(t).to_string())
            }
            (Kind::Duration, Raw::Bytes(b)) => {
                let (secs, nanos) = seconds_nanos(b)?;
                Value::String(crate::wire::Duration(time::Duration::new(secs, nanos)).to_string())
            }
            (Kind::Value, Raw::Bytes(b)) => value_to_json(b, depth + 1)?,
            _ => return Err(bad()),
        })
    }
}

fn read_raw<'a>(r: &mut Reader<'a>, wire: u8) -> Result<Raw<'a>, String> {
    Ok(match wire {
        VARINT => Raw::Varint(r.varint()?),
        FIXED64 => Raw::Fixed64(r.fixed::<8>()?),
        FIXED32 => Raw::Fixed32(r.fixed::<4>()?),
        LEN => Raw::Bytes(r.len_delimited()?),
        other => return Err(format!("unsupported wire type {other}")),
    })
}

fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// A `google.protobuf.Value` number: integral ones as integers, as JSON wrote them.
fn json_number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        Value::from(v as i64)
    } else {
        float(v)
    }
}

fn zero(kind: &Kind) -> Option<Value> {
    Some(match kind {
        Kind::Bool => Value::Bool(false),
        Kind::String | Kind::Bytes => Value::String(String::new()),
        Kind::Double | Kind::Float => Value::from(0.0),
        Kind::Enum(_) | Kind::Message(_) | Kind::Timestamp | Kind::Duration | Kind::Value => {
            return None;
        }
        Kind::Empty => Value::Object(Map::new()),
        _ => Value::from(0),
    })
}

fn empty_container(f: &FieldDef) -> Value {
    match f.shape {
        Shape::Map(_) => Value::Object(Map::new()),
        _ => Value::Array(Vec::new()),
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// `google.protobuf.Timestamp` and `Duration`: `seconds = 1`, `nanos = 2`.
fn seconds_nanos(bytes: &[u8]) -> Result<(i64, i32), String> {
    let mut r = Reader { buf: bytes };
    let (mut secs, mut nanos) = (0i64, 0i32);
    while !r.buf.is_empty() {
        let k = r.varint()?;
        match (k >> 3, (k & 7) as u8) {
            (1, VARINT) => secs = r.varint()? as i64,
            (2, VARINT) => nanos = r.varint()? as i64 as i32,
            (_, wire) => r.skip(wire)?,
        }
    }
    if !(-999_999_999..=999_999_999).contains(&nanos) {
        return Err("nanos out of range".into());
    }
    Ok((secs, nanos))
}

/// `google.protobuf.Value` → JSON.
fn value_to_json(bytes: &[u8], depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("values are nested too deeply".into());
    }
    let mut r = Reader { buf: bytes };
    let mut out = Value::Null;
    while !r.buf.is_empty() {
        let k = r.varint()?;
        let wire = (k & 7) as u8;
        out = match (k >> 3, wire) {
            (1, VARINT) => {
                r.varint()?;
                Value::Null
            }
            (2, FIXED64) => json_number(f64::from_le_bytes(r.fixed::<8>()?)),
            (3, LEN) => Value::String(
                std::str::from_utf8(r.len_delimited()?)
                    .map_err(|_| "a string value is not valid UTF-8".to_string())?
                    .to_string(),
            ),
            (4, VARINT) => Value::Bool(r.varint()? != 0),
            (5, LEN) => {
                // Struct { map<string, Value> fields = 1; }
                let mut s = Reader {
                    buf: r.len_delimited()?,
                };
                let mut map = Map::new();
                while !s.buf.is_empty() {
                    let k = s.varint()?;
                    if k >> 3 != 1 || (k & 7) as u8 != LEN {
                        s.skip((k & 7) as u8)?;
                        continue;
                    }
                    let mut e = Reader {
                        buf: s.len_delimited()?,
                    };
                    let (mut key, mut value) = (String::new(), Value::Null);
                    while !e.buf.is_empty() {
                        let k = e.varint()?;
                        match (k >> 3, (k & 7) as u8) {
                            (1, LEN) => {
                                key = String::from_utf8(e.len_delimited()?.to_vec())
                                    .map_err(|_| "a key is not valid UTF-8".to_string())?;
                            }
                            (2, LEN) => value = value_to_json(e.len_delimited()?, depth + 1)?,
                            (_, w) => e.skip(w)?,
                        }
                    }
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            (6, LEN) => {
                // ListValue { repeated Value values = 1; }
                let mut l = Reader {
                    buf: r.len_delimited()?,
                };
                let mut items = Vec::new();
                while !l.buf.is_empty() {
                    let k = l.varint()?;
                    if k >> 3 == 1 && (k & 7) as u8 == LEN {
                        items.push(value_to_json(l.len_delimited()?, depth + 1)?);
                    } else {
                        l.skip((k & 7) as u8)?;
                    }
                }
                Value::Array(items)
            }
            (_, w) => {
                r.skip(w)?;
                continue;
            }
        };
    }
    Ok(out)
}

// ---- JSON → protobuf ----

struct Encoder<'s> {
    schema: &'s Schema,
}

impl Encoder<'_> {
    fn message(
        &self,
        def: &MessageDef,
        value: &Value,
        out: &mut Vec<u8>,
        depth: usize,
        path: &str,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("values are nested too deeply".into());
        }
        if def.wrapper {
            return self.field(&def.fields[0], value, out, depth, path);
        }
        let Value::Object(map) = value else {
            return Err(format!("`{}` must be an object", display(path)));
        };
        for f in &def.fields {
            let v = map.get(&f.json).or_else(|| map.get(&f.name));
            // `null` is absence, except for `any`, whose null is a value.
            if let Some(v) = v.filter(|v| !v.is_null() || f.kind == Kind::Value) {
                self.field(f, v, out, depth, &join(path, &f.json))?;
            }
        }
        Ok(())
    }

    fn field(
        &self,
        f: &FieldDef,
        v: &Value,
        out: &mut Vec<u8>,
        depth: usize,
        path: &str,
    ) -> Result<(), String> {
        match &f.shape {
            Shape::Repeated => {
                let Value::Array(items) = v else {
                    return Err(format!("`{}` must be a list", display(path)));
                };
                if f.kind.packable() {
                    if items.is_empty() {
                        return Ok(());
                    }
                    let mut packed = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        self.scalar(&f.kind, item, &mut packed, depth, &format!("{path}[{i}]"))?;
                    }
                    put_len(out, f.number, &packed);
                } else {
                    for (i, item) in items.iter().enumerate() {
                        self.one(f.number, &f.kind, item, out, depth, &format!("{path}[{i}]"))?;
                    }
                }
            }
            Shape::Map(key_kind) => {
                let Value::Object(entries) = v else {
                    return Err(format!("`{}` must be an object", display(path)));
                };
                for (k, item) in entries {
                    let mut entry = Vec::new();
                    let key = match key_kind {
                        Kind::String => Value::String(k.clone()),
                        Kind::Bool => Value::Bool(k == "true"),
                        _ => serde_json::from_str(k)
                            .map_err(|_| format!("`{}`: `{k}` is not a number", display(path)))?,
                    };
                    let at = format!("{path}.{k}");
                    self.one(1, key_kind, &key, &mut entry, depth, &at)?;
                    self.one(2, &f.kind, item, &mut entry, depth, &at)?;
                    put_len(out, f.number, &entry);
                }
            }
            Shape::Single => {
                if !is_zero(&f.kind, v) {
                    self.one(f.number, &f.kind, v, out, depth, path)?;
                }
            }
            Shape::Optional => self.one(f.number, &f.kind, v, out, depth, path)?,
        }
        Ok(())
    }

    /// One value with its key.
    fn one(
        &self,
        number: u32,
        kind: &Kind,
        v: &Value,
        out: &mut Vec<u8>,
        depth: usize,
        path: &str,
    ) -> Result<(), String> {
        let wire = wire_of(kind);
        if wire == LEN {
            let mut body = Vec::new();
            self.scalar(kind, v, &mut body, depth, path)?;
            put_len(out, number, &body);
        } else {
            put_key(out, number, wire);
            self.scalar(kind, v, out, depth, path)?;
        }
        Ok(())
    }

    /// A value without its key (a length-delimited one without its length).
    fn scalar(
        &self,
        kind: &Kind,
        v: &Value,
        out: &mut Vec<u8>,
        depth: usize,
        path: &str,
    ) -> Result<(), String> {
        let bad = |what: &str| format!("`{}` must be {what}", display(path));
        match kind {
            Kind::Bool => put_varint(out, u64::from(v.as_bool().ok_or_else(|| bad("a bool"))?)),
            Kind::Int32 | Kind::Int64 => {
                put_varint(out, int(v).ok_or_else(|| bad("an integer"))? as u64);
            }
            Kind::Uint32 | Kind::Uint64 => {
                put_varint(out, uint(v).ok_or_else(|| bad("an unsigned integer"))?);
            }
            Kind::Sint32 | Kind::Sint64 => {
                let n = int(v).ok_or_else(|| bad("an integer"))?;
                put_varint(out, ((n << 1) ^ (n >> 63)) as u64);
            }
            Kind::Enum(name) => {
                let n = match v {
                    Value::String(s) => self
                        .schema
                        .enums
                        .get(name)
                        .and_then(|d| d.numbers.get(s))
                        .copied()
                        .ok_or_else(|| {
                            format!("`{}`: `{s}` is not a value of `{name}`", display(path))
                        })?,
                    other => int(other)
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| bad("an enum value"))?,
                };
                put_varint(out, i64::from(n) as u64);
            }
            Kind::Fixed64 => out.extend_from_slice(
                &uint(v)
                    .ok_or_else(|| bad("an unsigned integer"))?
                    .to_le_bytes(),
            ),
            Kind::Sfixed64 => {
                out.extend_from_slice(&int(v).ok_or_else(|| bad("an integer"))?.to_le_bytes())
            }
            Kind::Fixed32 => {
                let n = uint(v)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| bad("an unsigned 32-bit integer"))?;
                out.extend_from_slice(&n.to_le_bytes());
            }
            Kind::Sfixed32 => {
                let n = int(v)
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| bad("a 32-bit integer"))?;
                out.extend_from_slice(&n.to_le_bytes());
            }
            Kind::Double => {
                out.extend_from_slice(&number(v).ok_or_else(|| bad("a number"))?.to_le_bytes())
            }
            #[allow(clippy::cast_possible_truncation)] // float fields hold f32 values
            Kind::Float => out.extend_from_slice(
                &(number(v).ok_or_else(|| bad("a number"))? as f32).to_le_bytes(),
            ),
            Kind::String => {
                out.extend_from_slice(v.as_str().ok_or_else(|| bad("a string"))?.as_bytes())
            }
            Kind::Bytes => {
                let s = v.as_str().ok_or_else(|| bad("base64 text"))?;
                let b: crate::wire::Bytes = s.parse().map_err(|_| bad("base64 text"))?;
                out.extend_from_slice(&b.0);
            }
            Kind::Message(name) => {
                let def = self.schema.message(name)?;
                self.message(def, v, out, depth + 1, path)?;
            }
            Kind::Empty => {}
            Kind::Timestamp => {
                let s = v.as_str().ok_or_else(|| bad("an RFC 3339 timestamp"))?;
                let t: crate::wire::Timestamp =
                    s.parse().map_err(|_| bad("an RFC 3339 timestamp"))?;
                let nanos = t.0.unix_timestamp_nanos();
                put_seconds_nanos(
                    out,
                    (nanos.div_euclid(1_000_000_000)) as i64,
                    (nanos.rem_euclid(1_000_000_000)) as i32,
                );
            }
            Kind::Duration => {
                let s = v
                    .as_str()
                    .ok_or_else(|| bad("a duration such as \"1.5s\""))?;
                let d: crate::wire::Duration =
                    s.parse().map_err(|_| bad("a duration such as \"1.5s\""))?;
                put_seconds_nanos(out, d.0.whole_seconds(), d.0.subsec_nanoseconds());
            }
            Kind::Value => value_from_json(v, out, depth + 1)?,
        }
        Ok(())
    }
}

fn put_seconds_nanos(out: &mut Vec<u8>, secs: i64, nanos: i32) {
    if secs != 0 {
        put_key(out, 1, VARINT);
        put_varint(out, secs as u64);
    }
    if nanos != 0 {
        put_key(out, 2, VARINT);
        put_varint(out, i64::from(nanos) as u64);
    }
}

/// JSON → `google.protobuf.Value`.
fn value_from_json(v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("values are nested too deeply".into());
    }
    match v {
        Value::Null => {
            put_key(out, 1, VARINT);
            put_varint(out, 0);
        }
        Value::Number(n) => {
            put_key(out, 2, FIXED64);
            out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
        }
        Value::String(s) => put_len(out, 3, s.as_bytes()),
        Value::Bool(b) => {
            put_key(out, 4, VARINT);
            put_varint(out, u64::from(*b));
        }
        Value::Object(m) => {
            let mut fields = Vec::new();
            for (k, item) in m {
                let mut entry = Vec::new();
                put_len(&mut entry, 1, k.as_bytes());
                let mut value = Vec::new();
                value_from_json(item, &mut value, depth + 1)?;
                put_len(&mut entry, 2, &value);
                put_len(&mut fields, 1, &entry);
            }
            put_len(out, 5, &fields);
        }
        Value::Array(items) => {
            let mut values = Vec::new();
            for item in items {
                let mut value = Vec::new();
                value_from_json(item, &mut value, depth + 1)?;
                put_len(&mut values, 1, &value);
            }
            put_len(out, 6, &values);
        }
    }
    Ok(())
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn uint(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

/// Whether `v` is the zero value proto3 leaves out for a field with implicit presence.
fn is_zero(kind: &Kind, v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0) && !matches!(kind, Kind::Enum(_)),
        Value::String(s) => s.is_empty() && matches!(kind, Kind::String | Kind::Bytes),
        _ => false,
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn display(path: &str) -> &str {
    if path.is_empty() { "the message" } else { path }
}

// ---- JSON text → protobuf, in one pass ----

/// Encodes JSON text (a method's result as the generated handler wrote it) as a message of
/// type `message`, in one pass over the text: no `serde_json::Value` in between.
pub fn from_json_text(schema: &Schema, message: &str, text: &str) -> Result<Vec<u8>, String> {
    use serde::de::DeserializeSeed as _;
    let def = schema.message(message)?;
    let mut out = Vec::with_capacity(text.len());
    let mut de = serde_json::Deserializer::from_str(text);
    MessageSeed {
        schema,
        def,
        out: &mut out,
        depth: 0,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Encodes JSON text as the field `value` of message `message` (a result that is not a record).
pub fn from_json_text_as_value(
    schema: &Schema,
    message: &str,
    text: &str,
) -> Result<Vec<u8>, String> {
    use serde::de::DeserializeSeed as _;
    let def = schema.message(message)?;
    let field = def
        .fields
        .iter()
        .find(|f| f.name == "value")
        .ok_or_else(|| format!("`{message}` has no field `value`"))?;
    let mut out = Vec::with_capacity(text.len());
    let mut de = serde_json::Deserializer::from_str(text);
    FieldSeed {
        schema,
        field,
        out: &mut out,
        depth: 0,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(out)
}

struct MessageSeed<'a> {
    schema: &'a Schema,
    def: &'a MessageDef,
    out: &'a mut Vec<u8>,
    depth: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for MessageSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(serde::de::Error::custom("values are nested too deeply"));
        }
        if self.def.wrapper {
            let field = &self.def.fields[0];
            return FieldSeed {
                schema: self.schema,
                field,
                out: self.out,
                depth: self.depth,
            }
            .deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MessageSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let field = self
                .def
                .fields
                .iter()
                .find(|f| f.json == key || f.name == key);
            match field {
                Some(field) => map.next_value_seed(FieldSeed {
                    schema: self.schema,
                    field,
                    out: &mut *self.out,
                    depth: self.depth,
                })?,
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct FieldSeed<'a> {
    schema: &'a Schema,
    field: &'a FieldDef,
    out: &'a mut Vec<u8>,
    depth: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        use serde::de::Error as _;
        let f = self.field;
        match &f.shape {
            // Containers and anything the streaming path does not cover (`any`) go through a
            // value: rare shapes, the same encoder.
            Shape::Repeated | Shape::Map(_) => {
                let v = serde_json::Value::deserialize(d)?;
                if v.is_null() {
                    return Ok(());
                }
                Encoder {
                    schema: self.schema,
                }
                .field(f, &v, self.out, self.depth, &f.json)
                .map_err(D::Error::custom)
            }
            Shape::Single | Shape::Optional => d.deserialize_any(ScalarVisitor {
                schema: self.schema,
                field: f,
                out: self.out,
                depth: self.depth,
            }),
        }
    }
}

/// One singular field's value, written with its key (implicit-presence zeros left out).
struct ScalarVisitor<'a> {
    schema: &'a Schema,
    field: &'a FieldDef,
    out: &'a mut Vec<u8>,
    depth: usize,
}

impl ScalarVisitor<'_> {
    /// Falls back to the value encoder for one decoded JSON scalar.
    fn value<E: serde::de::Error>(self, v: &Value) -> Result<(), E> {
        Encoder {
            schema: self.schema,
        }
        .field(self.field, v, self.out, self.depth, &self.field.json)
        .map_err(E::custom)
    }
}

impl<'de> serde::de::Visitor<'de> for ScalarVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the value of `{}`", self.field.json)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        if self.field.kind == Kind::Value {
            return self.value(&Value::Null);
        }
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.value(&Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.value(&Value::from(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.value(&Value::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.value(&float(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        let f = self.field;
        match &f.kind {
            // Text straight from the JSON into the message: no copy in between.
            Kind::String => {
                if !(v.is_empty() && f.shape == Shape::Single) {
                    put_len(self.out, f.number, v.as_bytes());
                }
                Ok(())
            }
            _ => self.value(&Value::String(v.to_string())),
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        use serde::de::{DeserializeSeed as _, Error as _};
        let f = self.field;
        match &f.kind {
            Kind::Message(name) => {
                let def = self.schema.message(name).map_err(A::Error::custom)?;
                let mut body = Vec::new();
                MessageSeed {
                    schema: self.schema,
                    def,
                    out: &mut body,
                    depth: self.depth + 1,
                }
                .deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                put_len(self.out, f.number, &body);
                Ok(())
            }
            _ => {
                let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                self.value(&v)
            }
        }
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        self.value(&v)
    }
}
