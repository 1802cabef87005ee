//! JSON lines, written straight into the line buffer: one object per event with `timestamp`
//! (RFC 3339, microseconds, UTC), `level`, `target`, `message`, the event's fields, and —
//! inside a traced call — `trace_id` and `span_id`. A call event's `params` and `result` are
//! JSON values (the call log always gives them as JSON text), not strings holding JSON.

use crate::telemetry;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON event format.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        with_line(|line| {
            format_line(line, event)?;
            // Every piece written is UTF-8 (text from `&str`s, ASCII digits): checked once here.
            w.write_str(std::str::from_utf8(line).map_err(|_| fmt::Error)?)
        })
    }
}

/// Runs `f` with this thread's line buffer, emptied (a line is built there, inline, then
/// handed over in one piece); with a fresh one when it is in use (formatting inside
/// formatting: an event logged by a field's `Debug`).
pub(crate) fn with_line<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    LINE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut line) => {
            line.clear();
            line.reserve(512);
            f(&mut line)
        }
        Err(_) => f(&mut Vec::new()),
    })
}

fn format_line(out: &mut Vec<u8>, event: &tracing::Event<'_>) -> fmt::Result {
    let meta = event.metadata();
    format_with(out, Stamp::now(), meta.level(), meta.target(), |fields| {
        event.record(fields)
    })
}

/// When a line's event happened (Unix nanoseconds), and the span it belongs to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp {
    pub(crate) unix_nanos: u64,
    pub(crate) ids: Option<(telemetry::TraceId, telemetry::SpanId)>,
}

impl Stamp {
    /// Now, in the current span (if any).
    pub(crate) fn now() -> Stamp {
        Stamp {
            unix_nanos: telemetry::now_unix_nanos(),
            ids: telemetry::current_ids(),
        }
    }
}

/// The call log's target, as a line writes it.
const CALL_TARGET: &str = "svcc::call";

/// A line: the timestamp, level and target, the fields `body` writes, the trace ids. The line
/// is bytes, UTF-8 throughout: only text from `&str`s and ASCII go in. A call event (target
/// `svcc::call`) has its `params` and `result` as JSON values and its `duration_ms` with three
/// decimals.
pub(crate) fn format_with(
    out: &mut Vec<u8>,
    stamp: Stamp,
    level: &tracing::Level,
    target: &str,
    body: impl FnOnce(&mut Fields<'_>),
) -> fmt::Result {
    out.extend_from_slice(b"{\"timestamp\":\"");
    write_timestamp(out, stamp.unix_nanos);
    let call = target == CALL_TARGET;
    if call {
        // The level and the call events' target as one piece of a known length per level
        // (copied as such, rather than the level's name by its length, then the target).
        macro_rules! piece {
            ($level:literal) => {
                concat!("\",\"level\":\"", $level, "\",\"target\":\"svcc::call\"").as_bytes()
            };
        }
        match *level {
            tracing::Level::INFO => out.extend_from_slice(piece!("INFO")),
            tracing::Level::WARN => out.extend_from_slice(piece!("WARN")),
            tracing::Level::ERROR => out.extend_from_slice(piece!("ERROR")),
            tracing::Level::DEBUG => out.extend_from_slice(piece!("DEBUG")),
            tracing::Level::TRACE => out.extend_from_slice(piece!("TRACE")),
        }
    } else {
        out.extend_from_slice(b"\",\"level\":\"");
        out.extend_from_slice(level.as_str().as_bytes());
        out.extend_from_slice(b"\",\"target\":");
        write_string(out, target);
    }
    let mut fields = Fields {
        out,
        err: Ok(()),
        call,
    };
    body(&mut fields);
    fields.err?;
    if let Some((trace, span)) = stamp.ids {
        // `,"trace_id":"…","span_id":"…"`: the piece copied whole, then the ids' digits
        // written into their places in the line.
        const IDS: &[u8; 75] =
            b",\"trace_id\":\"00000000000000000000000000000000\",\"span_id\":\"0000000000000000\"";
        out.extend_from_slice(IDS);
        if let Some(piece) = out.last_chunk_mut::<75>() {
            hex16(&mut piece[13..45], trace.0);
            hex8(&mut piece[58..74], span.0);
        }
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// A field's name as it stands in a line before its value, `,"name":`, made at compile time by
/// [`key!`] (a plain name: nothing in it to escape), so it is written in one copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key(pub(crate) &'static str);

/// The [`Key`] of a field name (a literal without quotes, backslashes or control characters).
macro_rules! key {
    ($name:literal) => {
        $crate::logging::json::Key(concat!(",\"", $name, "\":"))
    };
}
#[cfg_attr(not(feature = "server"), allow(unused_imports))]
pub(crate) use key;

/// The fields of one line, written as they come (from `tracing`'s visitor, or straight from
/// the call log: `logging::write_call`).
pub(crate) struct Fields<'a> {
    out: &'a mut Vec<u8>,
    err: fmt::Result,
    /// A call event: its `params` and `result` are JSON text, embedded as JSON values, and
    /// its `duration_ms` has three decimals.
    call: bool,
}

/// Fields written once into a text of their own, to be added whole to lines later
/// ([`Fields::chunk`]): `,"service":"UserService","method":"create"`.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn chunk_of(body: impl FnOnce(&mut Fields<'_>)) -> String {
    let mut out = Vec::new();
    let mut fields = Fields {
        out: &mut out,
        err: Ok(()),
        call: true,
    };
    body(&mut fields);
    String::from_utf8(out).unwrap_or_default()
}

impl Fields<'_> {
    /// Fields made by [`chunk_of`], in one copy.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    #[inline]
    pub(crate) fn chunk(&mut self, fields: &str) {
        self.out.extend_from_slice(fields.as_bytes());
    }

    fn key(&mut self, name: &str) {
        if plain(name) {
            // Room first: the fixed bytes around the name are then plain stores.
            self.out.reserve(name.len() + 4);
            self.out.extend_from_slice(b",\"");
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(b"\":");
        } else {
            self.out.push(b',');
            write_string(self.out, name);
            self.out.push(b':');
        }
    }

    /// A text field (a call's `params` and `result`: JSON text, embedded as it is).
    pub(crate) fn str(&mut self, name: &str, value: &str) {
        self.key(name);
        if self.call && matches!(name, "params" | "result") {
            self.out.extend_from_slice(value.as_bytes());
        } else {
            write_string(self.out, value);
        }
    }

    /// A text field at a key made once ([`key!`]).
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    #[inline]
    pub(crate) fn str_at(&mut self, key: Key, value: &str) {
        self.out.extend_from_slice(key.0.as_bytes());
        write_string(self.out, value);
    }

    /// A peer's address (`ip:port`: digits, dots, colons and brackets, nothing to escape); a
    /// short one copied as a window of its text ([`telemetry::extend_prefix`]: a copy of known
    /// size), a long one by its length.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    #[inline]
    pub(crate) fn address_at(&mut self, key: Key, address: &telemetry::Address) {
        debug_assert!(
            address
                .as_bytes()
                .iter()
                .all(|&b| b.is_ascii() && b >= 0x20 && b != b'"' && b != b'\\')
        );
        self.out.reserve(key.0.len() + 66);
        self.out.extend_from_slice(key.0.as_bytes());
        self.out.push(b'"');
        match address.window() {
            Some((window, len)) => telemetry::extend_prefix(self.out, window, len),
            None => self.out.extend_from_slice(address.as_bytes()),
        }
        self.out.push(b'"');
    }

    /// A call's JSON text (`params`), embedded as it is: bytes known to be UTF-8 JSON.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    #[inline]
    pub(crate) fn json_at(&mut self, key: Key, value: &[u8]) {
        self.out.reserve(key.0.len() + value.len());
        self.out.extend_from_slice(key.0.as_bytes());
        self.out.extend_from_slice(value);
    }

    /// A call's `duration_ms` from whole microseconds, as the visitor writes the milliseconds
    /// `micros / 1000`.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    #[inline]
    pub(crate) fn duration_micros(&mut self, micros: u64) {
        const KEY: &[u8] = key!("duration_ms").0.as_bytes();
        if micros < 10_000 {
            // Most calls: the key, one digit and the decimals, in one piece.
            let mut piece = [0u8; KEY.len() + 5];
            piece[..KEY.len()].copy_from_slice(KEY);
            piece[KEY.len()..].copy_from_slice(&Self::short_millis(micros));
            self.out.extend_from_slice(&piece);
        } else {
            self.out.extend_from_slice(KEY);
            self.micros(micros);
        }
    }

    /// Under 10 ms (`micros` < 10 000): `d.ddd`, as two digit pairs and the rest.
    #[inline]
    fn short_millis(micros: u64) -> [u8; 5] {
        let m = (micros % 10_000) as usize;
        let [a, b] = DIGIT_PAIRS[m / 100];
        let [c, d] = DIGIT_PAIRS[m % 100];
        [a, b'.', b, c, d]
    }

    /// A number field (a call's `duration_ms` with microsecond precision).
    pub(crate) fn f64(&mut self, name: &str, value: f64) {
        self.key(name);
        if self.call && name == "duration_ms" {
            self.millis(value);
        } else {
            self.number(value);
        }
    }

    /// Milliseconds with microsecond precision, without the shortest-float search or `fmt`.
    fn millis(&mut self, value: f64) {
        if !(0.0..1e12).contains(&value) {
            return self.number(value);
        }
        self.micros((value * 1000.0).round() as u64);
    }

    /// Microseconds as milliseconds with three decimals.
    #[inline]
    fn micros(&mut self, micros: u64) {
        if micros < 10_000 {
            return self.out.extend_from_slice(&Self::short_millis(micros));
        }
        let frac = (micros % 1000) as usize;
        let [b, c] = DIGIT_PAIRS[frac % 100];
        push_u64(self.out, micros / 1000);
        self.out
            .extend_from_slice(&[b'.', b'0' + (frac / 100) as u8, b, c]);
    }

    fn number(&mut self, value: f64) {
        if value.is_finite() {
            let _ = write!(Text(self.out), "{value}");
        } else {
            write_string(self.out, &value.to_string());
        }
    }

    /// A field shown by its `Debug` text, as a string.
    pub(crate) fn debug(&mut self, name: &str, value: &dyn fmt::Debug) {
        self.key(name);
        self.out.push(b'"');
        if let Err(e) = write!(Escape(&mut Text(self.out)), "{value:?}") {
            self.err = Err(e);
        }
        self.out.push(b'"');
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.str(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field.name());
        if value < 0 {
            self.out.push(b'-');
        }
        push_u64(self.out, value.unsigned_abs());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field.name());
        push_u64(self.out, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field.name());
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.f64(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.debug(field.name(), value);
    }
}

/// The lowercase hex digits of 8 bytes into `out` (16 bytes), two digits per byte from a
/// table (the compiler turned the arithmetic versions into long SSE2 sequences: ~2× the
/// instructions of a load and a store per byte).
#[inline]
fn hex8(out: &mut [u8], bytes: [u8; 8]) {
    for (to, b) in out.chunks_exact_mut(2).zip(bytes) {
        to.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
}

/// `00` to `ff`. (Digits made by arithmetic on words — each byte's nibbles spread into two
/// bytes, then `+ '0'` and 39 more for letters — measured within 4 instructions of the table
/// per line; the table is the simpler code.)
static HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    table
};

/// The lowercase hex digits of a trace id into `out` (32 bytes).
fn hex16(out: &mut [u8], bytes: [u8; 16]) {
    let (hi, lo) = out.split_at_mut(16.min(out.len()));
    let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
    a.copy_from_slice(&bytes[..8]);
    b.copy_from_slice(&bytes[8..]);
    hex8(hi, a);
    hex8(lo, b);
}

/// Decimal digits of `v`.
#[inline]
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The line as a `fmt::Write` (for what is formatted: `Debug` values, other floats).
struct Text<'a>(&'a mut Vec<u8>);

impl fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A JSON string literal.
#[inline]
fn write_string(out: &mut Vec<u8>, s: &str) {
    if plain(s) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
    } else {
        out.push(b'"');
        let _ = Escape(&mut Text(out)).write_str(s);
    }
    out.push(b'"');
}

/// Whether `s` needs no escaping in a JSON string: every byte looked at, without an early
/// exit, so that the compiler checks 16 at a time (measured cheaper than 8-byte words here).
/// From 16 bytes on, the string is checked as whole 16-byte blocks, the last block overlapping
/// the others: a 36-byte request id is three block checks, with no byte-by-byte tail.
#[inline]
fn plain(s: &str) -> bool {
    /// A control character, `"` or `\`: `b ^ 2` maps `"` (0x22) to 0x20 and the controls to
    /// themselves, so two comparisons find all three.
    #[inline(always)]
    fn special(bytes: &[u8]) -> bool {
        bytes
            .iter()
            .fold(false, |bad, &b| bad | ((b ^ 2) <= 0x20) | (b == b'\\'))
    }
    let b = s.as_bytes();
    let (Some(first), Some(last)) = (b.first_chunk::<16>(), b.last_chunk::<16>()) else {
        return !special(b);
    };
    if b.len() <= 32 {
        return !(special(first) | special(last));
    }
    if let (true, Some(second)) = (b.len() <= 48, b.get(16..32)) {
        // A request id (36 bytes): three blocks, no loop.
        return !(special(first) | special(second) | special(last));
    }
    let (blocks, _) = b.as_chunks::<16>();
    let bad = blocks.iter().fold(false, |bad, block| bad | special(block));
    !(bad | special(last))
}

/// Escapes what passes through it for a JSON string (runs without special characters are
/// copied whole; 8 bytes are checked at a time).
struct Escape<'a, W: fmt::Write>(&'a mut W);

/// Whether one of the 8 bytes of `x` is a control character, `"` or `\`.
fn special(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    below_space | zero_in(x ^ (ONES * u64::from(b'"'))) | zero_in(x ^ (ONES * u64::from(b'\\')))
        != 0
}

impl<W: fmt::Write> fmt::Write for Escape<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            // Skip clean 8-byte words.
            if let Some(word) = bytes.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(word);
                if !special(u64::from_le_bytes(w)) {
                    i += 8;
                    continue;
                }
            }
            let b = bytes[i];
            let escaped = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => {
                    i += 1;
                    continue;
                }
            };
            self.0.write_str(&s[start..i])?;
            if escaped.is_empty() {
                write!(self.0, "\\u{b:04x}")?;
            } else {
                self.0.write_str(escaped)?;
            }
            i += 1;
            start = i;
        }
        self.0.write_str(&s[start..])
    }
}

/// `unix_nanos` as `2026-12-02T10:04:05.123456Z` (digits written by hand: this runs per line; the
/// date and time of day are made once a second per thread, and kept as words so that they are
/// copied as words).
#[inline]
fn write_timestamp(out: &mut Vec<u8>, unix_nanos: u64) {
    thread_local! {
        static SECOND: std::cell::Cell<(u64, [u64; 3])> = const { std::cell::Cell::new((u64::MAX, [0; 3])) };
    }
    let secs = unix_nanos / 1_000_000_000;
    let micros = (unix_nanos % 1_000_000_000 / 1000) as u32;
    let (cached, mut head) = SECOND.get();
    if cached != secs {
        head = head_words(secs);
        SECOND.set((secs, head));
    }
    out.extend_from_slice(&timestamp(head, micros));
}

/// `2026-12-02T10:04:05.` as three little-endian words (the last four bytes unused). Once a
/// second per thread, and kept out of line: inlined, the compiler took the words apart into
/// bytes on the path that runs per line too.
#[cold]
#[inline(never)]
fn head_words(secs: u64) -> [u64; 3] {
    let mut bytes = [0u8; 24];
    bytes[..19].copy_from_slice(&date_and_time(secs));
    bytes[19] = b'.';
    let mut words = [0u64; 3];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        *word = u64::from_le_bytes(w);
    }
    words
}

/// `2026-12-02T10:04:05` for seconds since the epoch (UTC).
fn date_and_time(secs: u64) -> [u8; 19] {
    let at = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, m, d) = at.to_calendar_date();
    let mut buf = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for k in (0..width).rev() {
            buf[at + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y.clamp(0, 9999) as u32);
    put(5, 2, u32::from(m as u8));
    put(8, 2, u32::from(d));
    put(11, 2, u32::from(at.hour()));
    put(14, 2, u32::from(at.minute()));
    put(17, 2, u32::from(at.second()));
    buf
}

/// The date and time of day with the `.` (three little-endian words), then the micros and `Z`.
#[inline]
fn timestamp(head: [u64; 3], micros: u32) -> [u8; 27] {
    // Six digits (two at a time) and `Z`, as one word: the last bytes of the head's third
    // word, then three bytes of their own. Four word stores, which the compiler keeps as such.
    let pair = |p: u32| u64::from(u16::from_le_bytes(DIGIT_PAIRS[p as usize % 100]));
    let tail = pair(micros / 10_000)
        | pair(micros / 100 % 100) << 16
        | pair(micros % 100) << 32
        | u64::from(b'Z') << 48;
    let words = [
        head[0],
        head[1],
        head[2] & 0xffff_ffff | tail << 32,
        tail >> 32,
    ];
    let mut buf = [0u8; 32];
    for (to, word) in buf.chunks_exact_mut(8).zip(words) {
        to.copy_from_slice(&word.to_le_bytes());
    }
    let mut text = [0u8; 27];
    text.copy_from_slice(&buf[..27]);
    text
}

/// `00` to `99`.
static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        table[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ids_are_written_by_hand() {
        for v in [0u64, 7, 10, 99, 1234567890, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        // Every byte value in every place of both ids, against `format!`.
        for round in 0u8..=255 {
            let mut span = [0u8; 8];
            let mut trace = [0u8; 16];
            for (i, b) in span.iter_mut().enumerate() {
                *b = round.wrapping_add((i as u8).wrapping_mul(37));
            }
            for (i, b) in trace.iter_mut().enumerate() {
                *b = round
                    .wrapping_mul(7)
                    .wrapping_add((i as u8).wrapping_mul(19));
            }
            let expected = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
            let mut out = [0u8; 16];
            hex8(&mut out, span);
            assert_eq!(
                std::str::from_utf8(&out).unwrap_or_default(),
                expected(&span)
            );
            let mut out = [0u8; 32];
            hex16(&mut out, trace);
            assert_eq!(
                std::str::from_utf8(&out).unwrap_or_default(),
                expected(&trace)
            );
        }
    }

    /// A line's level, target and ids as a reader parses them: every level, for call events
    /// (whose level and target are one piece) and others; the ids' digits in their places.
    #[test]
    fn lines_carry_their_level_target_and_ids() {
        use tracing::Level;
        let trace = telemetry::TraceId(std::array::from_fn(|i| i as u8 * 17));
        let span = telemetry::SpanId(std::array::from_fn(|i| 0xf0 - i as u8));
        for level in [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ] {
            for target in ["svcc::call", "svcc::calls", "app"] {
                for ids in [None, Some((trace, span))] {
                    let mut line = Vec::new();
                    let stamp = Stamp {
                        unix_nanos: 1_796_205_845_123_456_789,
                        ids,
                    };
                    format_with(&mut line, stamp, &level, target, |f| f.chunk(",\"k\":1"))
                        .unwrap_or_default();
                    assert_eq!(line.last(), Some(&b'\n'));
                    let v: serde_json::Value = serde_json::from_slice(&line).unwrap_or_default();
                    assert_eq!(v["level"], level.as_str(), "{level} {target}");
                    assert_eq!(v["target"], target);
                    assert_eq!(v["k"], 1);
                    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
                    match ids {
                        Some((t, s)) => {
                            assert_eq!(v["trace_id"], hex(&t.0));
                            assert_eq!(v["span_id"], hex(&s.0));
                        }
                        None => assert!(v.get("trace_id").is_none() && v.get("span_id").is_none()),
                    }
                }
            }
        }
    }

    /// The ids' digits are `{:02x}` of every byte, whatever the byte (each byte value at each
    /// position of a trace id and a span id).
    #[test]
    fn ids_hex_digits_match_the_formatter_for_every_byte() {
        for value in 0..=255u8 {
            for at in 0..16 {
                let mut trace = [0x5a; 16];
                trace[at] = value;
                let mut out = [0u8; 32];
                hex16(&mut out, trace);
                let expected: String = trace.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(std::str::from_utf8(&out).ok(), Some(expected.as_str()));
                let mut span = [0xa5; 8];
                span[at % 8] = value;
                let mut out = [0u8; 16];
                hex8(&mut out, span);
                let expected: String = span.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(std::str::from_utf8(&out).ok(), Some(expected.as_str()));
            }
        }
    }

    #[test]
    fn durations_have_three_decimals_whatever_the_fraction() {
        for (micros, text) in [
            (0u64, "0.000"),
            (7, "0.007"),
            (255, "0.255"),
            (256, "0.256"),
            (1_300, "1.300"),
            (1_010, "1.010"),
            (9_099, "9.099"),
            (9_999, "9.999"),
            (10_000, "10.000"),
            (12_999, "12.999"),
            (10_001, "10.001"),
            (99_090, "99.090"),
            (1_234_567, "1234.567"),
        ] {
            let mut out = Vec::new();
            let mut f = Fields {
                out: &mut out,
                err: Ok(()),
                call: true,
            };
            f.duration_micros(micros);
            f.f64("duration_ms", micros as f64 / 1000.0);
            assert_eq!(
                String::from_utf8(out).unwrap_or_default(),
                format!(",\"duration_ms\":{text},\"duration_ms\":{text}")
            );
        }
    }

    #[test]
    fn long_strings_are_escaped_wherever_the_special_byte_falls() {
        let letters = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr";
        // Every length up to 70 (the check reads 16-byte blocks, a string up to 48 bytes without
        // a loop), the special byte anywhere.
        for (len, at) in (0..=letters.len()).flat_map(|len| (0..=len).map(move |at| (len, at))) {
            for special in ['"', '\\', '\n', '\u{1f}'] {
                let mut text: String = letters[..len].into();
                assert!(plain(&text), "{text}");
                text.insert(at, special);
                assert!(!plain(&text), "{text:?}");
                let mut out = Vec::new();
                write_string(&mut out, &text);
                let out = String::from_utf8(out).unwrap_or_default();
                let back: String = serde_json::from_str(&out).unwrap_or_default();
                assert_eq!(back, text, "{out}");
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_json_asks() {
        let mut out = Vec::new();
        write_string(&mut out, "a\"b\\c\nd\u{1}é");
        let out = String::from_utf8(out).unwrap_or_default();
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let back: String = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn timestamps_match_the_calendar_across_seconds_days_and_years() {
        use time::format_description::well_known::Rfc3339;
        for secs in [
            0u64,
            59,
            60,
            86_399,
            86_400,
            951_782_400,   // 2000-02-29
            1_704_067_199, // 2023-12-31T23:59:59
            1_704_067_200, // 2024-01-01
            1_796_000_000,
        ] {
            for micros in [0u32, 1, 999_999, 123_456] {
                let text = timestamp(head_words(secs), micros);
                let text = std::str::from_utf8(&text).unwrap_or_default();
                let parsed = time::OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| {
                    panic!("{text}: {e}");
                });
                assert_eq!(parsed.unix_timestamp(), secs as i64, "{text}");
                assert_eq!(parsed.microsecond(), micros, "{text}");
            }
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let now = telemetry::now_unix_nanos();
        let mut out = Vec::new();
        write_timestamp(&mut out, now);
        let out = String::from_utf8(out).unwrap_or_default();
        let parsed =
            time::OffsetDateTime::parse(&out, &time::format_description::well_known::Rfc3339);
        assert!(parsed.is_ok(), "{out}");
        let parsed = parsed.map(|t| t.unix_timestamp_nanos()).unwrap_or_default();
        assert_eq!(parsed as u64, now / 1000 * 1000, "{out}");
    }
}
