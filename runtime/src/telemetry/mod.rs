//! Tracing (`@trace`): W3C trace context, spans, and their export over OTLP.
//!
//! - [`SpanContext`] is what travels: the `traceparent` (and `tracestate`) of the W3C Trace
//!   Context recommendation. Servers read it from every transport's headers, clients write it.
//! - [`Span`] is one timed operation (a server call, a client call, a JSON-RPC batch) with
//!   attributes named by the OpenTelemetry semantic conventions, encoded as OTLP protobuf as it
//!   is built. Ending a sampled span hands it to the exporter's bounded queue; a full queue
//!   drops it (counted by [`dropped_spans`]) — the request path never waits for a collector.
//! - The exporter (feature `otlp`) reads the standard `OTEL_*` variables; see
//!   [`Settings::from_env`]. Nothing is exported unless an endpoint is set.
//! - [`current`] is the span of the call the calling task serves, so a client called from a
//!   handler continues its trace, and log lines carry its ids.

pub(crate) mod clock;
#[cfg(feature = "otlp")]
mod export;
mod ids;
mod otlp;
#[cfg(feature = "otlp")]
mod queue;
mod sampler;
mod settings;

pub use ids::{SpanId, TraceId};
pub use otlp::LogRecordWriter;
pub(crate) use otlp::SpanHead;
pub use sampler::Sampler;
pub use settings::{Protocol, Settings};

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The identity of a span as it travels between services (W3C `traceparent`/`tracestate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanContext {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// The `sampled` flag: whether the trace is recorded.
    pub sampled: bool,
    /// The vendor `tracestate`, passed on unchanged.
    pub trace_state: Option<String>,
}

impl SpanContext {
    /// Parses a `traceparent` header (version `00`, or a later version read as `00` as the
    /// recommendation asks); `None` when it is malformed or its ids are all zero.
    pub fn from_traceparent(value: &str) -> Option<SpanContext> {
        let value = value.trim();
        let b = value.as_bytes();
        if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let version = ids::hex_u8(&value[0..2])?;
        if version == 0xff || (version == 0 && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
            return None;
        }
        let trace_id = TraceId::from_hex(&value[3..35])?;
        let span_id = SpanId::from_hex(&value[36..52])?;
        let flags = ids::hex_u8(&value[53..55])?;
        Some(SpanContext {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
            trace_state: None,
        })
    }

    /// Reads `traceparent` and `tracestate` from request headers.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<SpanContext> {
        // Names made once, not parsed from text on every call.
        static TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");
        static TRACESTATE: http::HeaderName = http::HeaderName::from_static("tracestate");
        // Most requests carry a few headers and no `traceparent`: comparing their names
        // (lengths first) then answers without hashing one or reading any value.
        if headers.keys_len() <= 8
            && !headers
                .keys()
                .any(|k| k.as_str().len() == 11 && k == TRACEPARENT)
        {
            return None;
        }
        let parent = headers.get(&TRACEPARENT)?.to_str().ok()?;
        let mut ctx = SpanContext::from_traceparent(parent)?;
        let state: Vec<&str> = headers
            .get_all(&TRACESTATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .collect();
        if !state.is_empty() {
            ctx.trace_state = Some(state.join(","));
        }
        Some(ctx)
    }

    /// The `traceparent` header value.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{}",
            self.trace_id,
            self.span_id,
            if self.sampled { "01" } else { "00" }
        )
    }

    /// Writes `traceparent` (and `tracestate`) into outgoing headers.
    pub fn inject(&self, headers: &mut http::HeaderMap) {
        if let Ok(v) = http::HeaderValue::from_str(&self.traceparent()) {
            headers.insert("traceparent", v);
        }
        if let Some(state) = &self.trace_state
            && let Ok(v) = http::HeaderValue::from_str(state)
        {
            headers.insert("tracestate", v);
        }
    }
}

/// What a span stands for, as OTLP encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    Internal = 1,
    Server = 2,
    Client = 3,
    /// A message published (`publish {topic}`).
    Producer = 4,
    /// A message processed (`process {topic}`).
    Consumer = 5,
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Cow<'static, str>),
    Int(i64),
    Bool(bool),
    F64(f64),
    /// An address, written as text by the exporter (off the request path).
    Ip(std::net::IpAddr),
}

impl From<&'static str> for Value {
    fn from(s: &'static str) -> Value {
        Value::Str(Cow::Borrowed(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Cow::Owned(s))
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

/// Span attributes encoded once, for the ones every span of a kind carries (a method's
/// `rpc.service`, `rpc.method`, …): [`Span::add_attributes`] appends them in one copy.
#[derive(Clone, Debug, Default)]
pub struct Attributes(Vec<u8>);

impl Attributes {
    pub fn new(list: &[(&str, &str)]) -> Attributes {
        Attributes(otlp::encode_str_attributes(list))
    }
}

/// A span in progress, encoded as it goes (one buffer: its fields, then each attribute as it
/// is set). Ending it (or dropping it) queues it for export when its trace is sampled.
#[derive(Debug)]
pub struct Span {
    writer: Option<otlp::SpanWriter>,
    context: SpanContext,
    started: Instant,
    start_unix_nanos: u64,
    error: Option<String>,
}

impl Span {
    /// Starts a span: a child of `parent` (same trace, the parent's sampling decision unless
    /// the sampler says otherwise), or the root of a new trace.
    pub fn start(name: &str, kind: SpanKind, parent: Option<&SpanContext>) -> Span {
        let context = identity(parent);
        // Both clocks read together: the end is the start plus the monotonic time since, so
        // the time the writer takes to set up (the first span's lazy set-up among it) must not
        // fall between them, or the span would end before it really did.
        let start_unix_nanos = clock::unix_nanos();
        let started = Instant::now();
        let sampled = context.sampled;
        let writer = (sampled && exporting()).then(|| {
            otlp::SpanWriter::new(
                &context,
                parent.map(|p| p.span_id),
                name,
                kind,
                start_unix_nanos,
            )
        });
        Span {
            writer,
            context,
            started,
            start_unix_nanos,
            error: None,
        }
    }

    /// The span's identity (for the `Context`, child spans and outgoing headers).
    pub fn context(&self) -> &SpanContext {
        &self.context
    }

    /// Whether the span is recorded (sampled, and spans are exported): attributes are kept
    /// only then, so callers skip making them otherwise.
    pub fn is_recording(&self) -> bool {
        self.writer.is_some()
    }

    pub fn set_attribute(&mut self, key: &str, value: impl Into<Value>) {
        if let Some(w) = &mut self.writer {
            w.attribute(key, &value.into());
        }
    }

    /// Attributes encoded once ([`Attributes`]), appended in one copy.
    pub fn add_attributes(&mut self, attributes: &Attributes) {
        if let Some(w) = &mut self.writer {
            w.raw(&attributes.0);
        }
    }

    /// A text attribute, without making a [`Value`].
    pub fn set_str(&mut self, key: &str, value: &str) {
        if let Some(w) = &mut self.writer {
            w.str_attribute(key, value);
        }
    }

    /// Marks the span failed with a description.
    pub fn set_error(&mut self, message: impl Into<String>) {
        if self.writer.is_some() {
            self.error = Some(message.into());
        }
    }

    /// When the span started (the monotonic clock).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Ends the span now and hands it to the exporter.
    pub fn end(mut self) {
        self.finish(None);
    }

    /// Ends the span `elapsed` after it started (a time the caller has just read from
    /// [`Span::started`]), and hands it to the exporter.
    pub fn end_after(mut self, elapsed: std::time::Duration) {
        self.finish(Some(elapsed));
    }

    fn finish(&mut self, elapsed: Option<std::time::Duration>) {
        if let Some(w) = self.writer.take() {
            let elapsed = elapsed.unwrap_or_else(|| self.started.elapsed());
            let end = self.start_unix_nanos + elapsed.as_nanos() as u64;
            record(w.finish(end, self.error.as_deref(), self.context.sampled));
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.finish(None);
    }
}

/// A span's identity: a child of `parent`, or a new trace's root; sampled as the sampler says.
fn identity(parent: Option<&SpanContext>) -> SpanContext {
    let (trace_id, span_id) = match parent {
        Some(p) => (p.trace_id, SpanId::random()),
        None => TraceId::random_with_span(),
    };
    let sampled = settings::sampler().should_sample(parent, trace_id);
    SpanContext {
        trace_id,
        span_id,
        sampled,
        trace_state: parent.and_then(|p| p.trace_state.clone()),
    }
}

/// A server call's span. Nothing is encoded while the call runs: every attribute is known
/// when it ends, so [`CallSpan::end`] encodes it in one pass, straight into the export queue
/// (a [`Span`] is encoded as it goes, for attributes set one by one). Dropped without
/// [`CallSpan::end`], it is not exported: its owner ends it.
#[derive(Debug)]
pub(crate) struct CallSpan {
    context: SpanContext,
    parent: Option<SpanId>,
    /// The start on the monotonic clock ([`clock::monotonic_nanos`]).
    started: u64,
    start_unix_nanos: u64,
    recording: bool,
}

/// What a call's span says, given when it ends ([`CallSpan::end`]).
#[derive(Debug)]
pub(crate) struct CallSpanEnd<'a> {
    /// The span's name and kind.
    pub(crate) head: &'a SpanHead,
    /// The attributes every span of the method carries.
    pub(crate) attributes: &'a Attributes,
    /// `client.address` and `client.port`.
    pub(crate) client: Option<&'a Address>,
    /// `svcc.request_id` (left out when empty).
    pub(crate) request_id: &'a str,
    /// `enduser.id`.
    pub(crate) subject: Option<&'a str>,
    /// `error.type`.
    pub(crate) error_type: Option<&'a str>,
    /// The status code attribute of the transport's conventions, and its value.
    pub(crate) status: Option<(&'a str, i64)>,
    /// The span's status is ERROR with this description.
    pub(crate) error: Option<&'a str>,
}

#[cfg_attr(not(feature = "server"), allow(dead_code))]
impl CallSpan {
    /// Starts a call's span: a child of `parent`, or the root of a new trace.
    pub(crate) fn start(parent: Option<&SpanContext>) -> CallSpan {
        let context = identity(parent);
        // Both clocks together, after everything else (see [`Span::start`]).
        let start_unix_nanos = clock::unix_nanos();
        let started = clock::monotonic_nanos();
        CallSpan {
            recording: context.sampled && exporting(),
            parent: parent.map(|p| p.span_id),
            context,
            started,
            start_unix_nanos,
        }
    }

    pub(crate) fn context(&self) -> &SpanContext {
        &self.context
    }

    /// Makes the span the current one until the guard is dropped ([`enter`]).
    #[inline]
    pub(crate) fn enter(&mut self) -> Current<'_> {
        enter(&mut self.context)
    }

    /// Whether the span is exported when it ends (sampled, and spans are exported).
    pub(crate) fn is_recording(&self) -> bool {
        self.recording
    }

    /// When the span started ([`clock::monotonic_nanos`]).
    pub(crate) fn started(&self) -> u64 {
        self.started
    }

    /// When the span started, as Unix nanoseconds (the wall clock, read with the monotonic
    /// start: the start plus a time since [`CallSpan::started`] is a wall-clock time).
    pub(crate) fn start_unix_nanos(&self) -> u64 {
        self.start_unix_nanos
    }

    /// Ends the span `elapsed` after it started, and queues it for export.
    pub(crate) fn end(&self, elapsed: std::time::Duration, span: &CallSpanEnd<'_>) {
        if !self.recording {
            return;
        }
        let fields = otlp::CallSpanFields {
            context: &self.context,
            parent: self.parent,
            start: self.start_unix_nanos,
            end: self.start_unix_nanos + elapsed.as_nanos() as u64,
            span,
        };
        #[cfg(feature = "otlp")]
        if let Some(p) = export::pipeline() {
            p.send_call_span(&fields);
        }
        #[cfg(not(feature = "otlp"))]
        let _ = fields;
    }
}

static DROPPED_SPANS: AtomicU64 = AtomicU64::new(0);
static DROPPED_LOGS: AtomicU64 = AtomicU64::new(0);

/// Spans dropped because the export queue was full or the collector refused them.
pub fn dropped_spans() -> u64 {
    DROPPED_SPANS.load(Ordering::Relaxed)
}

/// Log records dropped on their way to OTLP (queue full, collector down).
pub fn dropped_logs() -> u64 {
    DROPPED_LOGS.load(Ordering::Relaxed)
}

/// Whether finished spans go anywhere (a traces endpoint is configured).
fn exporting() -> bool {
    #[cfg(feature = "otlp")]
    return export::pipeline().is_some() && settings::get().traces_endpoint.is_some();
    #[cfg(not(feature = "otlp"))]
    false
}

fn record(span: Vec<u8>) {
    #[cfg(feature = "otlp")]
    if let Some(p) = export::pipeline() {
        p.send_span(&span);
    }
    otlp::recycle(span);
}

/// A log record for OTLP (the logging layer makes them).
#[derive(Clone, Debug)]
pub struct LogData {
    pub unix_nanos: u64,
    pub level: tracing::Level,
    pub target: Cow<'static, str>,
    pub body: String,
    pub attributes: Vec<(Cow<'static, str>, Value)>,
    pub trace: Option<(TraceId, SpanId)>,
}

/// Whether log records go to OTLP: an endpoint is set and `OTEL_LOGS_EXPORTER` is not `none`.
pub fn logs_enabled() -> bool {
    #[cfg(feature = "otlp")]
    return export::pipeline().is_some_and(export::Pipeline::logs);
    #[cfg(not(feature = "otlp"))]
    false
}

/// Queues a log record for export (dropped and counted when the queue is full).
pub fn record_log(log: LogData) {
    #[cfg(feature = "otlp")]
    if let Some(p) = export::pipeline() {
        let record = otlp::log_record(&log);
        p.send_log(&record);
        otlp::recycle(record);
        return;
    }
    drop(log);
}

/// Queues a log record already encoded by a [`LogRecordWriter`].
pub fn record_encoded_log(record: LogRecordWriter) {
    #[cfg(feature = "otlp")]
    if let Some(p) = export::pipeline() {
        let record = record.finish();
        p.send_log(&record);
        otlp::recycle(record);
        return;
    }
    drop(record);
}

/// Exports everything queued so far; waits at most `timeout`. Servers call it after draining.
pub fn flush(timeout: std::time::Duration) {
    #[cfg(feature = "otlp")]
    if let Some(p) = export::pipeline() {
        p.flush(timeout);
    }
    let _ = timeout;
}

/// Fixes the process's telemetry settings before the first span (otherwise they are read
/// from the environment then); `false` when they were already fixed.
pub fn init(settings: Settings) -> bool {
    settings::set(settings)
}

/// A peer's address as text, made once per call for its log line (`ip:port`, as `SocketAddr`
/// shows it) and its span (`client.address`: the IP alone; `client.port`).
#[derive(Clone, Copy)]
pub(crate) struct Address {
    /// `a.b.c.d:port` or `[v6]:port`.
    text: [u8; 64],
    len: u8,
    /// Where the IP's text is within it.
    ip: (u8, u8),
    port: u16,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg_attr(not(feature = "server"), allow(dead_code))]
impl Address {
    /// `addr`'s text, from this thread's last few peers when it is one of them: a worker
    /// thread serves the same keep-alive connections over and over (a proxy's or a peer
    /// service's pool), so most calls find their peer here.
    pub(crate) fn of(addr: std::net::SocketAddr) -> Address {
        /// The last peers, and which place the next one takes.
        type Recent = ([Option<(std::net::SocketAddr, Address)>; 4], usize);
        thread_local! {
            static RECENT: std::cell::RefCell<Recent> = const { std::cell::RefCell::new(([None; 4], 0)) };
        }
        RECENT.with(|recent| {
            let Ok(mut recent) = recent.try_borrow_mut() else {
                return Address::new(addr);
            };
            let (peers, next) = &mut *recent;
            if let Some((_, text)) = peers.iter().flatten().find(|(seen, _)| *seen == addr) {
                return *text;
            }
            let text = Address::new(addr);
            peers[*next % 4] = Some((addr, text));
            *next = next.wrapping_add(1);
            text
        })
    }

    pub(crate) fn new(addr: std::net::SocketAddr) -> Address {
        let mut text = [0u8; 64];
        let (len, ip) = match addr {
            std::net::SocketAddr::V4(a) => {
                let mut buf = [0u8; 21];
                let (ip_len, n) = ipv4_text(&mut buf, *a.ip(), Some(a.port()));
                text[..21].copy_from_slice(&buf);
                (n, (0, ip_len))
            }
            std::net::SocketAddr::V6(a) => {
                let mut out = std::io::Cursor::new(&mut text[..]);
                let _ = std::io::Write::write_fmt(&mut out, format_args!("{a}"));
                let n = out.position() as usize;
                // `[ip]:port` or `[ip%scope]:port`: the IP as `IpAddr` shows it.
                let close = text[..n]
                    .iter()
                    .position(|&b| b == b'%' || b == b']')
                    .unwrap_or(1);
                (n, (1, close))
            }
        };
        Address {
            text,
            len: len as u8,
            ip: (ip.0 as u8, ip.1 as u8),
            port: addr.port(),
        }
    }

    /// `ip:port` as `SocketAddr` shows it.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.text.get(..usize::from(self.len)).unwrap_or_default()
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// `ip:port` as the first bytes of a 32-byte window of the text, and their length, for
    /// [`extend_prefix`]; `None` when it is longer (a long IPv6 address).
    #[cfg_attr(not(feature = "logging"), allow(dead_code))]
    pub(crate) fn window(&self) -> Option<(&[u8; 32], usize)> {
        Some((self.text.first_chunk::<32>()?, usize::from(self.len))).filter(|(_, n)| *n <= 32)
    }

    /// The IP as the first bytes of a 32-byte window of the text, and its length, for
    /// [`extend_prefix`]; `None` when it is longer.
    pub(crate) fn ip_window(&self) -> Option<(&[u8; 32], usize)> {
        let (start, end) = (usize::from(self.ip.0), usize::from(self.ip.1));
        let window = self.text.get(start..)?.first_chunk::<32>()?;
        Some((window, end.checked_sub(start)?)).filter(|(_, n)| *n <= 32)
    }

    /// The IP alone.
    pub(crate) fn ip(&self) -> &[u8] {
        self.text
            .get(usize::from(self.ip.0)..usize::from(self.ip.1))
            .unwrap_or_default()
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

/// Appends the first `len` bytes of `window` (at most 32): the whole window is copied — a
/// copy of known size, made with a few stores rather than a call to `memcpy` — and the rest cut
/// off again. For the short pieces of a call's line and span: an address, an attribute's head.
#[inline(always)]
pub(crate) fn extend_prefix(out: &mut Vec<u8>, window: &[u8; 32], len: usize) {
    let end = out.len() + len.min(32);
    out.extend_from_slice(window);
    out.truncate(end);
}

/// Writes `a.b.c.d` (and `:port`) into `buf` (21 bytes suffice); returns the length.
pub fn write_ipv4(buf: &mut [u8; 21], ip: std::net::Ipv4Addr, port: Option<u16>) -> usize {
    ipv4_text(buf, ip, port).1
}

/// [`write_ipv4`], giving the IP's length too.
fn ipv4_text(buf: &mut [u8; 21], ip: std::net::Ipv4Addr, port: Option<u16>) -> (usize, usize) {
    let mut at = 0;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[at] = b'.';
            at += 1;
        }
        // The octet's digits from a table, four bytes at once (the fourth is the count).
        let digits = OCTETS[usize::from(octet)];
        if let Some(to) = buf.get_mut(at..at + 3) {
            to.copy_from_slice(&digits[..3]);
        }
        at += usize::from(digits[3]);
    }
    let ip_len = at;
    if let Some(p) = port {
        buf[at] = b':';
        at += 1;
        let n = match p {
            0..=9 => 1,
            10..=99 => 2,
            100..=999 => 3,
            1000..=9999 => 4,
            _ => 5,
        };
        let mut v = p;
        for k in (0..n).rev() {
            buf[at + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        at += n;
    }
    (ip_len, at)
}

/// Each octet's decimal digits, then how many there are.
static OCTETS: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        table[i] = if v >= 100 {
            [b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10, 3]
        } else if v >= 10 {
            [b'0' + v / 10, b'0' + v % 10, 0, 2]
        } else {
            [b'0' + v, 0, 0, 1]
        };
        i += 1;
    }
    table
};

/// The current time as Unix nanoseconds (for log records).
pub fn now_unix_nanos() -> u64 {
    clock::unix_nanos()
}

/// The current span's ids, kept apart from its `tracestate` so that the common case (no
/// `tracestate`) copies a few words and touches nothing that needs dropping.
#[derive(Clone, Copy, Debug)]
struct Ids {
    trace_id: TraceId,
    span_id: SpanId,
    sampled: bool,
    /// [`STATE`] holds this span's `tracestate`.
    has_state: bool,
}

thread_local! {
    /// The span of the call this thread is polling (or writing a line for): set by [`enter`]
    /// around each poll ([`Scoped`], the server's call future) and by [`sync_scope`], the one
    /// it replaced put back after.
    /// A thread-local rather than tokio's task-local (which is one too, swapped the same way,
    /// but through a `RefCell` and nested `Result`s): ≈0.15k instructions less per call.
    static CURRENT: std::cell::Cell<Option<Ids>> = const { std::cell::Cell::new(None) };
    /// The current span's `tracestate`, when it has one.
    static STATE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The span of the call this task is serving, if any.
pub fn current() -> Option<SpanContext> {
    let ids = CURRENT.try_with(std::cell::Cell::get).ok().flatten()?;
    Some(SpanContext {
        trace_id: ids.trace_id,
        span_id: ids.span_id,
        sampled: ids.sampled,
        trace_state: if ids.has_state {
            STATE
                .try_with(|s| s.try_borrow().ok().and_then(|s| s.clone()))
                .ok()
                .flatten()
        } else {
            None
        },
    })
}

/// The current span's trace and span ids (what log lines carry), without cloning its state.
pub fn current_ids() -> Option<(TraceId, SpanId)> {
    let ids = CURRENT.try_with(std::cell::Cell::get).ok().flatten()?;
    Some((ids.trace_id, ids.span_id))
}

/// While it lives, its span is the current one (its ids copied in, its `tracestate` lent);
/// dropped — also when what runs inside panics — the span it replaced is current again and
/// the `tracestate` is back.
pub(crate) struct Current<'a> {
    ctx: &'a mut SpanContext,
    /// The span it replaced (`None`: none was current).
    previous: Option<Ids>,
    /// Whether `ctx.trace_state` and [`STATE`] were exchanged (and must be again).
    lent: bool,
    /// Whether it was made current at all (not when the thread is ending).
    entered: bool,
}

impl std::fmt::Debug for Current<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Current")
            .field("ctx", &self.ctx)
            .finish_non_exhaustive()
    }
}

/// Makes `ctx` the current span until the returned guard is dropped.
#[inline]
pub(crate) fn enter(ctx: &mut SpanContext) -> Current<'_> {
    let ids = Ids {
        trace_id: ctx.trace_id,
        span_id: ctx.span_id,
        sampled: ctx.sampled,
        has_state: ctx.trace_state.is_some(),
    };
    let Ok(previous) = CURRENT.try_with(|c| c.replace(Some(ids))) else {
        return Current {
            ctx,
            previous: None,
            lent: false,
            entered: false,
        };
    };
    let lent = ids.has_state || previous.is_some_and(|p| p.has_state);
    if lent {
        swap_state(&mut ctx.trace_state);
    }
    Current {
        ctx,
        previous,
        lent,
        entered: true,
    }
}

/// Exchanges `state` with the current span's `tracestate`.
fn swap_state(state: &mut Option<String>) {
    let _ = STATE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            std::mem::swap(&mut *s, state);
        }
    });
}

impl Drop for Current<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.entered {
            return;
        }
        let _ = CURRENT.try_with(|c| c.set(self.previous));
        if self.lent {
            swap_state(&mut self.ctx.trace_state);
        }
    }
}

/// Runs `f` with `ctx` as the current span.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn sync_scope<R>(mut ctx: SpanContext, f: impl FnOnce() -> R) -> R {
    let _current = enter(&mut ctx);
    f()
}

pin_project_lite::pin_project! {
    /// `fut` with a span as the current one while it is polled ([`scoped`]).
    #[derive(Debug)]
    pub struct Scoped<F> {
        ctx: SpanContext,
        #[pin]
        fut: F,
    }
}

impl<F: std::future::Future> std::future::Future for Scoped<F> {
    type Output = F::Output;

    #[inline]
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let _current = enter(this.ctx);
        this.fut.poll(cx)
    }
}

/// `fut` with `ctx` as the current span while it is polled.
pub fn scoped<F: std::future::Future>(ctx: SpanContext, fut: F) -> Scoped<F> {
    Scoped { ctx, fut }
}

/// Runs `fut` with `ctx` as the current span.
pub async fn scope<F: std::future::Future>(ctx: SpanContext, fut: F) -> F::Output {
    scoped(ctx, fut).await
}

#[cfg(test)]
mod tests {
    fn span(n: u8, state: Option<&str>) -> super::SpanContext {
        super::SpanContext {
            trace_id: super::TraceId([n; 16]),
            span_id: super::SpanId([n; 8]),
            sampled: n.is_multiple_of(2),
            trace_state: state.map(str::to_string),
        }
    }

    /// Scopes nest: an inner one (with or without `tracestate`) hides the outer one while it
    /// runs, and the outer one — its `tracestate` too — is current again after, also when the
    /// inner code panics.
    #[test]
    fn scopes_nest_and_are_restored_even_after_a_panic() {
        assert_eq!(super::current(), None);
        let outer = span(1, Some("a=1"));
        super::sync_scope(outer.clone(), || {
            assert_eq!(super::current(), Some(outer.clone()));
            for inner in [span(2, None), span(3, Some("b=2"))] {
                super::sync_scope(inner.clone(), || {
                    assert_eq!(super::current(), Some(inner.clone()));
                    assert_eq!(super::current_ids(), Some((inner.trace_id, inner.span_id)));
                });
                assert_eq!(super::current(), Some(outer.clone()));
            }
            let caught = std::panic::catch_unwind(|| {
                super::sync_scope(span(4, None), || panic!("inside"));
            });
            assert!(caught.is_err());
            assert_eq!(super::current(), Some(outer.clone()));
        });
        assert_eq!(super::current(), None);
        assert_eq!(super::current_ids(), None);
    }

    /// Futures polled in turn on one thread each see their own span while polled, and none
    /// is left current between polls.
    #[test]
    fn interleaved_futures_each_see_their_own_span() {
        use std::future::Future;
        use std::task::{Context, Poll};
        /// Records the current span at each poll; ready at the third.
        struct Probe(Vec<Option<super::SpanContext>>);
        impl Future for Probe {
            type Output = Vec<Option<super::SpanContext>>;
            fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
                self.0.push(super::current());
                if self.0.len() == 3 {
                    Poll::Ready(std::mem::take(&mut self.0))
                } else {
                    Poll::Pending
                }
            }
        }
        let (a, b) = (span(5, Some("x=1")), span(6, None));
        let mut fa = std::pin::pin!(super::scoped(a.clone(), Probe(Vec::new())));
        let mut fb = std::pin::pin!(super::scoped(b.clone(), Probe(Vec::new())));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut done = (None, None);
        for _ in 0..3 {
            if let Poll::Ready(seen) = fa.as_mut().poll(&mut cx) {
                done.0 = Some(seen);
            }
            assert_eq!(super::current(), None);
            if let Poll::Ready(seen) = fb.as_mut().poll(&mut cx) {
                done.1 = Some(seen);
            }
            assert_eq!(super::current(), None);
        }
        assert_eq!(done.0, Some(vec![Some(a); 3]));
        assert_eq!(done.1, Some(vec![Some(b); 3]));
    }

    /// `traceparent` and `tracestate` are found among few headers (names compared) and many
    /// (names hashed), wherever they stand.
    #[test]
    fn trace_context_is_read_among_few_or_many_headers() {
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        for others in [0usize, 3, 7, 8, 20] {
            for at in [0, others / 2, others] {
                let mut headers = http::HeaderMap::new();
                for i in 0..others {
                    if i == at {
                        headers.insert("traceparent", http::HeaderValue::from_static(parent));
                    }
                    headers.insert(
                        http::HeaderName::from_bytes(format!("x-other-{i}").as_bytes())
                            .unwrap_or(http::header::ACCEPT),
                        http::HeaderValue::from_static("v"),
                    );
                }
                if at >= others {
                    headers.insert("traceparent", http::HeaderValue::from_static(parent));
                }
                headers.append("tracestate", http::HeaderValue::from_static("a=1"));
                headers.append("tracestate", http::HeaderValue::from_static("b=2"));
                let ctx = super::SpanContext::from_headers(&headers);
                let ctx = ctx.unwrap_or_else(|| panic!("{others} headers, at {at}"));
                assert_eq!(ctx.traceparent(), parent);
                assert_eq!(ctx.trace_state.as_deref(), Some("a=1,b=2"));
                headers.remove("traceparent");
                assert_eq!(super::SpanContext::from_headers(&headers), None);
            }
        }
    }

    /// Peers that share a place in the thread's cache, or differ only in their IP, never get
    /// one another's text.
    #[test]
    fn remembered_addresses_are_never_mixed_up() {
        for round in 0..3 {
            for port in [8080u16, 8084, 8088, 9000] {
                for ip in ["10.0.0.1", "10.0.0.2", "::1"] {
                    let a = std::net::SocketAddr::new(
                        ip.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
                        port,
                    );
                    assert_eq!(
                        super::Address::of(a).as_str(),
                        a.to_string(),
                        "round {round}"
                    );
                }
            }
        }
    }

    #[test]
    fn addresses_read_as_the_standard_library_writes_them() {
        for addr in [
            "127.0.0.1:8080",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "[::1]:9",
            "[2001:db8::ffff:1.2.3.4]:443",
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
            "[fe80::1%4294967295]:65535",
            "[::ffff:255.255.255.255%4294967295]:65535",
        ] {
            let a: std::net::SocketAddr = addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}"));
            let text = super::Address::new(a);
            assert_eq!(text.as_str(), a.to_string());
            // Remembered, and found again: the same text.
            assert_eq!(super::Address::of(a).as_str(), a.to_string());
            assert_eq!(super::Address::of(a).as_str(), a.to_string());
            assert_eq!(
                std::str::from_utf8(text.ip()).unwrap_or_default(),
                a.ip().to_string()
            );
            assert_eq!(text.port(), a.port());
            // As windows of its text, when short enough: the same bytes once cut back.
            let cut = |w: Option<(&[u8; 32], usize)>| {
                w.map(|(window, n)| {
                    let mut out = b"before".to_vec();
                    super::extend_prefix(&mut out, window, n);
                    String::from_utf8(out).unwrap_or_default()
                })
            };
            let whole = a.to_string();
            assert_eq!(
                cut(text.window()),
                (whole.len() <= 32).then(|| format!("before{whole}")),
                "{addr}"
            );
            let ip = a.ip().to_string();
            assert_eq!(
                cut(text.ip_window()),
                (ip.len() <= 32).then(|| format!("before{ip}")),
                "{addr}"
            );
        }
    }

    #[test]
    fn ipv4_addresses_are_written_as_the_standard_library_writes_them() {
        for octet in 0..=255u8 {
            let ip = std::net::Ipv4Addr::new(octet, 255 - octet, octet / 2, 7);
            let mut buf = [0u8; 21];
            let n = super::write_ipv4(&mut buf, ip, Some(u16::from(octet) * 257));
            assert_eq!(
                &buf[..n],
                format!("{ip}:{}", u16::from(octet) * 257).as_bytes()
            );
        }
        for (ip, port) in [
            ([127, 0, 0, 1], 8080),
            ([0, 0, 0, 0], 0),
            ([255, 255, 255, 255], 65535),
            ([10, 1, 20, 200], 443),
            ([100, 99, 9, 109], 10),
            ([1, 10, 255, 0], 9),
            ([99, 100, 199, 200], 9999),
            ([9, 10, 11, 12], 10000),
        ] {
            let ip = std::net::Ipv4Addr::from(ip);
            let mut buf = [0u8; 21];
            let n = super::write_ipv4(&mut buf, ip, Some(port));
            assert_eq!(&buf[..n], format!("{ip}:{port}").as_bytes());
            let n = super::write_ipv4(&mut buf, ip, None);
            assert_eq!(&buf[..n], ip.to_string().as_bytes());
        }
    }
}
