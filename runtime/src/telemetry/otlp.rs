//! OTLP's protobuf messages, encoded by hand: the few messages export needs
//! (`ExportTraceServiceRequest`, `ExportLogsServiceRequest` and what they hold), field numbers
//! from `opentelemetry-proto`. The tests decode what this writes with the official
//! definitions (`opentelemetry-proto`'s prost types), so a wrong number cannot pass.

#![cfg_attr(not(feature = "otlp"), allow(dead_code))]

use super::{LogData, Settings, Value};

/// The instrumentation scope every span and record names.
const SCOPE: &str = "svcc-runtime";

#[derive(Default)]
pub(super) struct Enc(pub(super) Vec<u8>);

/// `v` as a protobuf varint: the bytes and how many of them there are.
fn varint(mut v: u64) -> ([u8; 10], usize) {
    let mut bytes = [0u8; 10];
    let mut n = 0;
    while v >= 0x80 {
        bytes[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    bytes[n] = v as u8;
    (bytes, n + 1)
}

thread_local! {
    /// Buffers of spans and records this thread finished, kept for its next ones: a span is
    /// copied into the export queue when it ends, so its buffer is free again at once.
    static SPARE: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A buffer for a span or record: a spare one of this thread's, else a new one.
fn buffer(capacity: usize) -> Vec<u8> {
    SPARE
        .with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
        .unwrap_or_else(|| Vec::with_capacity(capacity))
}

/// Gives a finished message's buffer back for the thread's next one (a few are kept, none
/// over 4 KiB).
pub(super) fn recycle(mut message: Vec<u8>) {
    if message.capacity() > 4096 {
        return;
    }
    message.clear();
    SPARE.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut()
            && s.len() < 16
        {
            s.push(message);
        }
    });
}

impl Enc {
    fn varint(&mut self, v: u64) {
        Fill { out: &mut self.0 }.varint(v);
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from(field << 3 | wire));
    }

    /// A length-delimited field (`field`, then `b`'s length, then `b`).
    pub(super) fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
    }

    fn fixed64(&mut self, field: u32, v: u64) {
        self.key(field, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn fixed32(&mut self, field: u32, v: u32) {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A nested message, written in place: one byte is kept for its length, which is
    /// widened afterwards when the message is 128 bytes or longer (no buffer per message).
    fn message(&mut self, field: u32, f: impl FnOnce(&mut Enc)) {
        self.key(field, 2);
        let at = self.0.len();
        self.0.push(0);
        f(self);
        let len = self.0.len() - at - 1;
        if len < 0x80 {
            self.0[at] = len as u8;
            return;
        }
        let (prefix, n) = varint(len as u64);
        self.0.splice(at..at + 1, prefix[..n].iter().copied());
    }

    /// `KeyValue { key = 1; AnyValue value = 2 }` as field `field` (under 16): text, integers
    /// and IPv4 addresses with their lengths worked out first ([`Fill`]), the other values
    /// nested.
    fn attribute(&mut self, field: u32, key: &str, value: &Value) {
        let mut out = Fill { out: &mut self.0 };
        match value {
            Value::Str(s) => out.str_attribute(field as u8, key, s.as_bytes()),
            Value::Int(i) => out.int_attribute(field as u8, key, *i),
            Value::Ip(std::net::IpAddr::V4(ip)) => {
                let mut buf = [0u8; 21];
                let n = super::write_ipv4(&mut buf, *ip, None);
                out.str_attribute(field as u8, key, &buf[..n]);
            }
            _ => self.message(field, |kv| {
                kv.string(1, key);
                kv.message(2, |any| any.any_value(value));
            }),
        }
    }

    /// A string attribute without a `Value`.
    fn str_attribute(&mut self, field: u32, key: &str, value: &str) {
        Fill { out: &mut self.0 }.str_attribute(field as u8, key, value.as_bytes());
    }

    /// `AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4 }`.
    fn any_value(&mut self, value: &Value) {
        match value {
            Value::Str(s) => self.bytes(1, s.as_bytes()),
            Value::Bool(b) => {
                self.key(2, 0);
                self.varint(u64::from(*b));
            }
            Value::Int(i) => {
                self.key(3, 0);
                self.varint(*i as u64);
            }
            Value::F64(f) => self.fixed64(4, f.to_bits()),
            Value::Ip(std::net::IpAddr::V4(ip)) => {
                let mut buf = [0u8; 21];
                let n = super::write_ipv4(&mut buf, *ip, None);
                self.bytes(1, &buf[..n]);
            }
            Value::Ip(ip) => self.bytes(1, ip.to_string().as_bytes()),
        }
    }

    /// `Resource { attributes = 1 }`.
    fn resource(&mut self, field: u32, settings: &Settings) {
        self.message(field, |r| {
            r.attribute(
                1,
                "service.name",
                &Value::from(settings.service_name.clone()),
            );
            r.attribute(1, "telemetry.sdk.name", &Value::from("svcc-runtime"));
            r.attribute(1, "telemetry.sdk.language", &Value::from("rust"));
            r.attribute(
                1,
                "telemetry.sdk.version",
                &Value::from(env!("CARGO_PKG_VERSION")),
            );
            for (k, v) in &settings.resource {
                r.attribute(1, k, &Value::from(v.clone()));
            }
        });
    }

    /// `InstrumentationScope { name = 1; version = 2 }`.
    fn scope(&mut self, field: u32) {
        self.message(field, |s| {
            s.string(1, SCOPE);
            s.string(2, env!("CARGO_PKG_VERSION"));
        });
    }
}

/// `ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }`, with
/// `ResourceSpans { resource = 1; repeated ScopeSpans scope_spans = 2 }` and
/// `ScopeSpans { scope = 1; repeated Span spans = 2 }`; `spans`: encoded `Span` messages
/// ([`SpanWriter`]) already written as `spans` fields, back to back ([`super::queue`]); this
/// is the request up to them, for `spans` bytes of them.
pub(super) fn traces(settings: &Settings, spans: usize) -> Vec<u8> {
    export_head(settings, spans)
}

/// `Export…ServiceRequest { Resource…s 1 { resource = 1; Scope…s 2 { scope = 1; items } } }`
/// up to its items, for `items` bytes of them (traces and logs have the same shape and field
/// numbers): the items, most of the request, follow as they were queued, never copied.
fn export_head(settings: &Settings, items: usize) -> Vec<u8> {
    let mut resource = Enc::default();
    resource.resource(1, settings);
    let mut scope = Enc::default();
    scope.scope(1);
    let scoped = scope.0.len() + items;
    let mut scoped_head = Enc::default();
    scoped_head.key(2, 2);
    scoped_head.varint(scoped as u64);
    let mut out = Enc(Vec::with_capacity(resource.0.len() + scope.0.len() + 32));
    out.key(1, 2);
    out.varint((resource.0.len() + scoped_head.0.len() + scoped) as u64);
    for part in [&resource.0, &scoped_head.0, &scope.0] {
        out.0.extend_from_slice(part);
    }
    out.0
}

/// Text attributes as `Span.attributes` fields (number 9), to append to spans as they are.
pub(super) fn encode_str_attributes(list: &[(&str, &str)]) -> Vec<u8> {
    let mut e = Enc::default();
    for (k, v) in list {
        e.str_attribute(9, k, v);
    }
    e.0
}

/// One `Span`, encoded as it is built: trace_id 1, span_id 2, trace_state 3, parent_span_id
/// 4, name 5, kind 6, start 7 (fixed64) when it starts; attributes 9 as they are set; end 8
/// (fixed64), status 15 and flags 16 (fixed32) when it ends.
#[derive(Debug)]
pub(super) struct SpanWriter(Enc);

impl std::fmt::Debug for Enc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Enc({} bytes)", self.0.len())
    }
}

impl SpanWriter {
    pub(super) fn new(
        context: &super::SpanContext,
        parent: Option<super::SpanId>,
        name: &str,
        kind: super::SpanKind,
        start_unix_nanos: u64,
    ) -> SpanWriter {
        let mut s = Enc(buffer(320));
        s.bytes(1, &context.trace_id.0);
        s.bytes(2, &context.span_id.0);
        if let Some(state) = &context.trace_state {
            s.string(3, state);
        }
        if let Some(parent) = parent {
            s.bytes(4, &parent.0);
        }
        s.string(5, name);
        s.uint(6, kind as u64);
        s.fixed64(7, start_unix_nanos);
        SpanWriter(s)
    }

    pub(super) fn attribute(&mut self, key: &str, value: &Value) {
        self.0.attribute(9, key, value);
    }

    pub(super) fn str_attribute(&mut self, key: &str, value: &str) {
        self.0.str_attribute(9, key, value);
    }

    /// Attributes already encoded as `Span` fields ([`encode_str_attributes`]).
    pub(super) fn raw(&mut self, encoded: &[u8]) {
        self.0.0.extend_from_slice(encoded);
    }

    /// The end time, the status (`Status { message = 2; code = 3 }`, 2 = ERROR, left unset on
    /// success as the conventions ask of servers) and the sampled flag.
    pub(super) fn finish(
        mut self,
        end_unix_nanos: u64,
        error: Option<&str>,
        sampled: bool,
    ) -> Vec<u8> {
        let s = &mut self.0;
        s.fixed64(8, end_unix_nanos);
        if let Some(message) = error {
            s.message(15, |st| {
                st.string(2, message);
                st.uint(3, 2);
            });
        }
        s.fixed32(16, u32::from(sampled));
        self.0.0
    }
}

/// A span's name (field 5), kind (6) and the start time's key (7, fixed64), encoded once for
/// the spans of one method and transport.
#[derive(Clone, Debug)]
pub(crate) struct SpanHead(Vec<u8>);

#[cfg_attr(not(feature = "server"), allow(dead_code))]
impl SpanHead {
    pub(crate) fn new(name: &str, kind: super::SpanKind) -> SpanHead {
        let mut e = Enc::default();
        e.string(5, name);
        e.uint(6, kind as u64);
        e.key(7, 1);
        SpanHead(e.0)
    }
}

/// A call's span as it ends ([`super::CallSpan`]): every field is known, so the span is
/// encoded in one pass straight into the export queue's batch — each nested length worked
/// out before its message is written, no buffer of its own, no copy — as the same bytes
/// [`SpanWriter`] makes (a test holds the two together).
#[derive(Debug)]
pub(super) struct CallSpanFields<'a> {
    pub(super) context: &'a super::SpanContext,
    pub(super) parent: Option<super::SpanId>,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) span: &'a super::CallSpanEnd<'a>,
}

/// Appends protobuf to a buffer, each length worked out before what it measures is written
/// (nothing nested and moved afterwards): attributes wherever they go, and a call's span
/// straight into the export queue's open batch.
struct Fill<'a> {
    out: &'a mut Vec<u8>,
}

impl Fill<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The first `len` bytes of `window` ([`super::extend_prefix`]).
    #[inline(always)]
    fn put_prefix(&mut self, window: &[u8; 32], len: usize) {
        super::extend_prefix(self.out, window, len);
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    #[inline(always)]
    fn varint(&mut self, v: u64) {
        if v < 0x80 {
            self.byte(v as u8);
        } else if v < 0x4000 {
            self.put(&[v as u8 | 0x80, (v >> 7) as u8]);
        } else {
            let (bytes, n) = varint(v);
            self.put(&bytes[..n]);
        }
    }

    /// A length-delimited field whose tag is one byte.
    #[inline]
    fn delimited(&mut self, tag: u8, b: &[u8]) {
        self.byte(tag);
        self.varint(b.len() as u64);
        self.put(b);
    }

    /// An attribute's `KeyValue` as field `field` (under 16: `Span.attributes` is 9) whose
    /// `AnyValue` is `any` bytes long, up to the value.
    #[inline]
    fn attribute_head(&mut self, field: u8, key: &str, any: usize) {
        let kv = delimited_len(key.len()) + 1 + varint_len(any as u64) + any;
        self.byte(field << 3 | 2);
        self.varint(kv as u64);
        self.delimited(0x0a, key.as_bytes());
        self.byte(0x12);
        self.varint(any as u64);
    }

    /// A text attribute (`string_value = 1`); a short one (every length one byte, as most
    /// are) in four pieces.
    fn str_attribute(&mut self, field: u8, key: &str, value: &[u8]) {
        let any = 2 + value.len();
        let kv = 2 + key.len() + 2 + any;
        if kv < 0x80 {
            self.put(&[field << 3 | 2, kv as u8, 0x0a, key.len() as u8]);
            self.put(key.as_bytes());
            self.put(&[0x12, any as u8, 0x0a, value.len() as u8]);
            self.put(value);
        } else {
            self.attribute_head(field, key, delimited_len(value.len()));
            self.delimited(0x0a, value);
        }
    }

    /// A span's text attribute whose key is a [`KeyField`]: when the value is short (every
    /// length one byte), in two pieces.
    #[inline(always)]
    fn short_str_attribute(&mut self, key: &KeyField, value: &[u8]) {
        if key.len + 4 + value.len() < 0x80 {
            self.short_head(key, value.len());
            self.put(value);
        } else {
            self.str_attribute(SPAN_ATTRIBUTES, key.name, value);
        }
    }

    /// [`Fill::short_str_attribute`] for a value that is the first `n` bytes of `window` (at
    /// most 32, so every length is one byte): two copies of known size.
    #[inline(always)]
    fn short_window_attribute(&mut self, key: &KeyField, window: &[u8; 32], n: usize) {
        let n = n.min(32);
        self.short_head(key, n);
        self.put_prefix(window, n);
    }

    /// A short text attribute up to its value of `n` bytes: the attribute's head, its key and
    /// its value's head in one piece.
    #[inline(always)]
    fn short_head(&mut self, key: &KeyField, n: usize) {
        let any = 2 + n;
        let (mut head, at) = key.with_head(key.len + 2 + any);
        head[at..at + 4].copy_from_slice(&[0x12, any as u8, 0x0a, n as u8]);
        self.put_prefix(&head, at + 4);
    }

    /// An integer attribute (`int_value = 3`).
    fn int_attribute(&mut self, field: u8, key: &str, value: i64) {
        let (digits, n) = varint(value as u64);
        let any = 1 + n;
        let kv = 2 + key.len() + 2 + any;
        if kv < 0x80 {
            self.put(&[field << 3 | 2, kv as u8, 0x0a, key.len() as u8]);
            self.put(key.as_bytes());
            self.put(&[0x12, any as u8, 3 << 3]);
        } else {
            self.attribute_head(field, key, any);
            self.byte(3 << 3);
        }
        self.put(&digits[..n]);
    }
}

/// `Span.attributes`' field number.
const SPAN_ATTRIBUTES: u8 = 9;

/// An attribute's key as its `KeyValue.key` field (`0x0a`, length, name), made at compile
/// time for the attributes every call's span has, after the attribute's own head
/// (`Span.attributes`, its length to be set): a 32-byte piece the value's head and short values
/// are written into.
struct KeyField {
    name: &'static str,
    piece: [u8; 32],
    /// The key field's length (`0x0a`, length, name).
    len: usize,
}

impl KeyField {
    const fn new(name: &'static str) -> KeyField {
        let b = name.as_bytes();
        assert!(b.len() <= 22);
        let mut piece = [0u8; 32];
        piece[0] = SPAN_ATTRIBUTES << 3 | 2;
        piece[2] = 0x0a;
        piece[3] = b.len() as u8;
        let mut i = 0;
        while i < b.len() {
            piece[4 + i] = b[i];
            i += 1;
        }
        KeyField {
            name,
            piece,
            len: b.len() + 2,
        }
    }

    /// The attribute's head (length `kv`) and this key, at the start of a 32-byte piece; and
    /// where the value's head goes in it.
    #[inline(always)]
    fn with_head(&self, kv: usize) -> ([u8; 32], usize) {
        let mut piece = self.piece;
        piece[1] = kv as u8;
        (piece, 2 + self.len)
    }
}

const CLIENT_ADDRESS: KeyField = KeyField::new("client.address");
const CLIENT_PORT: KeyField = KeyField::new("client.port");
const REQUEST_ID: KeyField = KeyField::new("svcc.request_id");

/// How many bytes `v` takes as a varint.
#[inline]
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// How many bytes a length-delimited field of `n` bytes takes (a one-byte tag).
#[inline]
fn delimited_len(n: usize) -> usize {
    1 + varint_len(n as u64) + n
}

impl CallSpanFields<'_> {
    /// The span.
    fn encode(&self, out: &mut Fill<'_>) {
        let c = self.context;
        let span = self.span;
        // The ids in one piece: trace_id 1, span_id 2.
        let mut ids = [0u8; 28];
        ids[..2].copy_from_slice(&[0x0a, 16]);
        ids[2..18].copy_from_slice(&c.trace_id.0);
        ids[18..20].copy_from_slice(&[0x12, 8]);
        ids[20..].copy_from_slice(&c.span_id.0);
        out.put(&ids);
        if let Some(state) = c.trace_state.as_deref().filter(|s| !s.is_empty()) {
            out.delimited(0x1a, state.as_bytes());
        }
        if let Some(parent) = self.parent {
            let mut field = [0x22, 8, 0, 0, 0, 0, 0, 0, 0, 0];
            field[2..].copy_from_slice(&parent.0);
            out.put(&field);
        }
        // name 5, kind 6 and the start's key, made once ([`SpanHead`]); the start (fixed64).
        out.put(&span.head.0);
        out.put(&self.start.to_le_bytes());
        out.put(&span.attributes.0);
        if let Some(client) = span.client {
            match client.ip_window() {
                Some((window, n)) => out.short_window_attribute(&CLIENT_ADDRESS, window, n),
                None => out.short_str_attribute(&CLIENT_ADDRESS, client.ip()),
            }
            // `client.port`: an int of at most three varint bytes; the whole attribute in
            // one piece.
            let (port, n) = varint(u64::from(client.port()));
            let any = 1 + n;
            let (mut piece, at) = CLIENT_PORT.with_head(CLIENT_PORT.len + 2 + any);
            piece[at..at + 3].copy_from_slice(&[0x12, any as u8, 3 << 3]);
            piece[at + 3..at + 3 + n].copy_from_slice(&port[..n]);
            out.put_prefix(&piece, at + 3 + n);
        }
        if !span.request_id.is_empty() {
            out.short_str_attribute(&REQUEST_ID, span.request_id.as_bytes());
        }
        if let Some(subject) = span.subject {
            out.str_attribute(SPAN_ATTRIBUTES, "enduser.id", subject.as_bytes());
        }
        if let Some(error_type) = span.error_type {
            out.str_attribute(SPAN_ATTRIBUTES, "error.type", error_type.as_bytes());
        }
        if let Some((key, value)) = span.status {
            out.int_attribute(SPAN_ATTRIBUTES, key, value);
        }
        // end 8 (fixed64), then — on failure — the status, then flags 16 (fixed32): without a
        // status, one piece.
        let mut tail = [0u8; 15];
        tail[0] = 8 << 3 | 1;
        tail[1..9].copy_from_slice(&self.end.to_le_bytes());
        tail[9..11].copy_from_slice(&[0x85, 0x01]);
        tail[11..].copy_from_slice(&u32::from(c.sampled).to_le_bytes());
        let Some(message) = span.error else {
            out.put(&tail);
            return;
        };
        out.put(&tail[..9]);
        // `Status { message = 2; code = 3 (ERROR = 2) }`.
        let described = if message.is_empty() {
            0
        } else {
            delimited_len(message.len())
        };
        out.byte(15 << 3 | 2);
        out.varint(described as u64 + 2);
        if !message.is_empty() {
            out.delimited(0x12, message.as_bytes());
        }
        out.put(&[3 << 3, 2]);
        out.put(&tail[9..]);
    }

    /// Appends the span to `out` as a `spans` field (number 2) of `ScopeSpans`, encoded in
    /// place: its length is kept two bytes (a span is 128 bytes to 16 KiB long, nearly always)
    /// and written once the span is; a span outside that range is moved to fit its length.
    pub(super) fn append_framed(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[2 << 3 | 2, 0, 0]);
        self.encode(&mut Fill { out: &mut *out });
        let len = out.len() - at - 3;
        if (0x80..0x4000).contains(&len) {
            out[at + 1] = len as u8 | 0x80;
            out[at + 2] = (len >> 7) as u8;
        } else {
            let (prefix, n) = varint(len as u64);
            out.splice(at + 1..at + 3, prefix[..n].iter().copied());
        }
    }
}

/// `ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1 }`, with
/// `ResourceLogs { resource = 1; repeated ScopeLogs scope_logs = 2 }` and
/// `ScopeLogs { scope = 1; repeated LogRecord log_records = 2 }`.
/// `records`: encoded `LogRecord` messages ([`LogRecordWriter`]) already written as
/// `log_records` fields, back to back ([`super::queue`]); this is the request up to them.
pub(super) fn logs(settings: &Settings, records: usize) -> Vec<u8> {
    export_head(settings, records)
}

/// One `LogRecord`, encoded as it is made (on the thread that logs: one buffer, no copies of
/// its fields): time 1 (fixed64), severity_number 2, severity_text 3, body 5, attributes 6,
/// flags 8 (fixed32), trace_id 9, span_id 10, observed time 11 (fixed64).
pub struct LogRecordWriter(Enc);

impl std::fmt::Debug for LogRecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogRecordWriter")
    }
}

impl LogRecordWriter {
    pub fn new(
        unix_nanos: u64,
        level: tracing::Level,
        target: &str,
        trace: Option<(super::TraceId, super::SpanId)>,
    ) -> LogRecordWriter {
        let mut r = Enc(buffer(256));
        r.fixed64(1, unix_nanos);
        let (number, text) = match level {
            tracing::Level::TRACE => (1, "TRACE"),
            tracing::Level::DEBUG => (5, "DEBUG"),
            tracing::Level::INFO => (9, "INFO"),
            tracing::Level::WARN => (13, "WARN"),
            tracing::Level::ERROR => (17, "ERROR"),
        };
        r.uint(2, number);
        r.string(3, text);
        r.str_attribute(6, "log.target", target);
        if let Some((trace, span)) = trace {
            r.fixed32(8, 1);
            r.bytes(9, &trace.0);
            r.bytes(10, &span.0);
        }
        r.fixed64(11, unix_nanos);
        LogRecordWriter(r)
    }

    /// The body, a string.
    pub fn body(&mut self, text: &str) {
        self.0.message(5, |any| any.bytes(1, text.as_bytes()));
    }

    /// The body, formatted straight into the record.
    pub fn body_fmt(&mut self, value: &dyn std::fmt::Debug) {
        self.0.message(5, |any| {
            any.message(1, |s| {
                let _ = std::fmt::Write::write_fmt(s, format_args!("{value:?}"));
            });
        });
    }

    pub fn attribute(&mut self, key: &str, value: &Value) {
        self.0.attribute(6, key, value);
    }

    pub fn str_attribute(&mut self, key: &str, value: &str) {
        self.0.str_attribute(6, key, value);
    }

    /// A string attribute formatted straight into the record.
    pub fn fmt_attribute(&mut self, key: &str, value: &dyn std::fmt::Debug) {
        self.0.message(6, |kv| {
            kv.string(1, key);
            kv.message(2, |any| {
                any.message(1, |s| {
                    let _ = std::fmt::Write::write_fmt(s, format_args!("{value:?}"));
                });
            });
        });
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.0
    }
}

impl std::fmt::Write for Enc {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A [`LogData`] as an encoded `LogRecord`.
pub(super) fn log_record(log: &LogData) -> Vec<u8> {
    let mut w = LogRecordWriter::new(log.unix_nanos, log.level, &log.target, log.trace);
    w.body(&log.body);
    for (k, v) in &log.attributes {
        w.attribute(k, v);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::Enc;

    /// The request's head made with lengths worked out first, then its items, is the request
    /// nested writing makes.
    #[test]
    fn export_requests_match_nested_writing() {
        let settings = super::super::settings::Settings::from_lookup(|_| None);
        for n in [0usize, 1, 3, 200] {
            let mut items = Enc::default();
            for i in 0..n {
                items.bytes(2, &vec![i as u8; 10 + i]);
            }
            let mut nested = Enc::default();
            nested.message(1, |rs| {
                rs.resource(1, &settings);
                rs.message(2, |ss| {
                    ss.scope(1);
                    ss.0.extend_from_slice(&items.0);
                });
            });
            for head in [
                super::traces(&settings, items.0.len()),
                super::logs(&settings, items.0.len()),
            ] {
                assert_eq!([head, items.0.clone()].concat(), nested.0, "{n} items");
            }
        }
    }

    /// Attributes written in one go are the ones nested writing makes, short or long.
    #[test]
    fn short_attributes_match_nested_writing() {
        use super::Value;
        let long = "x".repeat(200);
        let values = [
            Value::from("v"),
            Value::from(long.clone()),
            Value::Int(0),
            Value::Int(-1),
            Value::Int(300),
            Value::Bool(true),
            Value::F64(1.5),
            Value::Ip(
                "10.20.30.40"
                    .parse()
                    .unwrap_or(std::net::Ipv4Addr::LOCALHOST)
                    .into(),
            ),
            Value::Ip(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        for key in ["k", "client.address", long.as_str()] {
            for value in &values {
                let mut short = Enc::default();
                short.attribute(9, key, value);
                let mut nested = Enc::default();
                nested.message(9, |kv| {
                    kv.string(1, key);
                    kv.message(2, |any| any.any_value(value));
                });
                assert_eq!(short.0, nested.0, "{key} = {value:?}");
            }
            for value in ["", "v", long.as_str()] {
                let mut short = Enc::default();
                short.str_attribute(6, key, value);
                let mut nested = Enc::default();
                nested.message(6, |kv| {
                    kv.string(1, key);
                    kv.message(2, |any| any.bytes(1, value.as_bytes()));
                });
                assert_eq!(short.0, nested.0, "{key} = {value}");
            }
        }
    }

    /// A call's span encoded in one pass at its end is, byte for byte, the span the general
    /// writer makes attribute by attribute, framed as the queue frames it — for every
    /// optional part present or absent, short and long texts, IPv4 and IPv6 clients.
    #[test]
    fn call_spans_match_the_span_writer() {
        use super::super::{Attributes, CallSpanEnd, SpanContext, SpanId, SpanKind, TraceId};
        use super::{CallSpanFields, SpanWriter, Value};
        let long = "é".repeat(150);
        let fixed = Attributes::new(&[("rpc.system", "jsonrpc"), ("rpc.method", "create")]);
        // Ports of one, two and three varint bytes.
        let clients: [Option<std::net::SocketAddr>; 5] = [
            None,
            "127.0.0.1:80".parse().ok(),
            "10.1.200.3:54321".parse().ok(),
            "[2001:db8::ffff:1.2.3.4]:8080".parse().ok(),
            // An IP too long for a window of the address's text.
            "[2001:db8:1234:5678:9abc:def0:1234:5678]:443".parse().ok(),
        ];
        let mut cases = 0;
        for (state, parent, sampled) in [
            (None, None, true),
            (Some("vendor=1"), Some(SpanId([7; 8])), false),
            (Some(long.as_str()), Some(SpanId([9; 8])), true),
        ] {
            for client in clients {
                for (request_id, subject) in [
                    ("", None),
                    ("req-1", Some("user-7")),
                    (long.as_str(), Some(long.as_str())),
                ] {
                    for (error_type, status, error) in [
                        (None, None, None),
                        (None, Some(("rpc.grpc.status_code", 0)), None),
                        (
                            Some("NOT_FOUND"),
                            Some(("rpc.jsonrpc.error_code", -32004)),
                            Some(""),
                        ),
                        (
                            Some("INTERNAL"),
                            Some(("http.response.status_code", 500)),
                            Some(long.as_str()),
                        ),
                    ] {
                        let context = SpanContext {
                            trace_id: TraceId([0xab; 16]),
                            span_id: SpanId([0x0c; 8]),
                            sampled,
                            trace_state: state.map(str::to_string),
                        };
                        let name = if subject.is_some() {
                            long.as_str()
                        } else {
                            "UserService/create"
                        };
                        let (start, end) = (1_796_205_845_123_456_789, 1_796_205_845_223_456_789);
                        // The general writer, as a server span used to be written.
                        let mut w =
                            SpanWriter::new(&context, parent, name, SpanKind::Server, start);
                        w.raw(&fixed.0);
                        if let Some(c) = client {
                            w.attribute("client.address", &Value::Ip(c.ip()));
                            w.attribute("client.port", &Value::Int(i64::from(c.port())));
                        }
                        if !request_id.is_empty() {
                            w.str_attribute("svcc.request_id", request_id);
                        }
                        if let Some(s) = subject {
                            w.str_attribute("enduser.id", s);
                        }
                        if let Some(t) = error_type {
                            w.str_attribute("error.type", t);
                        }
                        if let Some((k, v)) = status {
                            w.attribute(k, &Value::Int(v));
                        }
                        let mut expected = Enc::default();
                        expected.bytes(2, &w.finish(end, error, sampled));
                        // In one pass.
                        let address = client.map(super::super::Address::new);
                        let head = super::SpanHead::new(name, SpanKind::Server);
                        let span = CallSpanEnd {
                            head: &head,
                            attributes: &fixed,
                            client: address.as_ref(),
                            request_id,
                            subject,
                            error_type,
                            status,
                            error,
                        };
                        let fields = CallSpanFields {
                            context: &context,
                            parent,
                            start,
                            end,
                            span: &span,
                        };
                        // After whatever the batch holds already.
                        let mut out = vec![7u8; 5];
                        fields.append_framed(&mut out);
                        assert_eq!(out[..5], [7u8; 5]);
                        assert_eq!(out[5..], expected.0, "{span:?}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 3 * 5 * 3 * 4);
        // Shorter than 128 bytes, and 16 KiB or longer: the two-byte length moves.
        for message in [None, Some("x".repeat(20_000))] {
            let context = SpanContext {
                trace_id: TraceId([1; 16]),
                span_id: SpanId([2; 8]),
                sampled: true,
                trace_state: None,
            };
            let head = super::SpanHead::new("s", SpanKind::Server);
            let none = Attributes::default();
            let span = CallSpanEnd {
                head: &head,
                attributes: &none,
                client: None,
                request_id: "",
                subject: None,
                error_type: None,
                status: None,
                error: message.as_deref(),
            };
            let fields = CallSpanFields {
                context: &context,
                parent: None,
                start: 1,
                end: 2,
                span: &span,
            };
            let w = SpanWriter::new(&context, None, "s", SpanKind::Server, 1);
            let mut expected = Enc::default();
            expected.bytes(2, &w.finish(2, message.as_deref(), true));
            let mut out = Vec::new();
            fields.append_framed(&mut out);
            assert_eq!(out, expected.0);
            assert!(out.len() < 128 || out.len() > 16_384, "{}", out.len());
        }
    }

    #[test]
    fn varints_match_the_protobuf_examples() {
        let mut e = Enc::default();
        e.varint(1);
        e.varint(150);
        e.varint(u64::MAX);
        assert_eq!(e.0[..3], [0x01, 0x96, 0x01]);
        assert_eq!(e.0.len(), 3 + 10);
        // Every width, at both of its ends, against the general encoder.
        for bits in 1..64 {
            for v in [1u64 << (bits - 1), (1u64 << bits) - 1] {
                let mut e = Enc::default();
                e.varint(v);
                let (bytes, n) = super::varint(v);
                assert_eq!(e.0, bytes[..n], "{v}");
            }
        }
    }
}
