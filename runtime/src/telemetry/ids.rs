//! Trace and span ids: random, never all zero, written as lowercase hex.

use std::cell::Cell;
use std::fmt;

/// A 16-byte trace id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(pub [u8; 8]);

impl TraceId {
    /// A fresh random id.
    pub fn random() -> TraceId {
        loop {
            let [a, b] = next_n::<2>();
            if a | b != 0 {
                return TraceId::from_words(a, b);
            }
        }
    }

    fn from_words(a: u64, b: u64) -> TraceId {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
        TraceId(bytes)
    }

    /// A fresh trace id and a fresh span id, from one visit to this thread's generator (a
    /// new trace's root span).
    pub(crate) fn random_with_span() -> (TraceId, SpanId) {
        let [a, b, c] = next_n::<3>();
        if a | b == 0 || c == 0 {
            return (TraceId::random(), SpanId::random());
        }
        (TraceId::from_words(a, b), SpanId(c.to_le_bytes()))
    }

    /// From 32 hex digits; `None` when malformed or all zero.
    pub fn from_hex(s: &str) -> Option<TraceId> {
        let mut b = [0u8; 16];
        from_hex(s, &mut b)?;
        (b != [0; 16]).then_some(TraceId(b))
    }
}

impl SpanId {
    /// A fresh random id.
    pub fn random() -> SpanId {
        loop {
            let b = next().to_le_bytes();
            if b != [0; 8] {
                return SpanId(b);
            }
        }
    }

    /// From 16 hex digits; `None` when malformed or all zero.
    pub fn from_hex(s: &str) -> Option<SpanId> {
        let mut b = [0u8; 8];
        from_hex(s, &mut b)?;
        (b != [0; 8]).then_some(SpanId(b))
    }
}

fn from_hex(s: &str, out: &mut [u8]) -> Option<()> {
    if s.len() != out.len() * 2 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = hex_u8(s.get(i * 2..i * 2 + 2)?)?;
    }
    Some(())
}

/// Two lowercase hex digits (the recommendation forbids uppercase).
pub(super) fn hex_u8(s: &str) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let b = s.as_bytes();
    if b.len() != 2 {
        return None;
    }
    Some(digit(b[0])? << 4 | digit(b[1])?)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        buf[i * 2] = DIGITS[(b >> 4) as usize];
        buf[i * 2 + 1] = DIGITS[(b & 15) as usize];
    }
    f.write_str(std::str::from_utf8(&buf[..bytes.len() * 2]).map_err(|_| fmt::Error)?)
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

thread_local! {
    /// wyrand per thread, seeded from the operating system's generator (through `uuid`'s v4,
    /// which reads it once per thread): ids need to be unpredictable enough to not collide,
    /// not secret. Its state is a counter, so a thread draws 2^64 numbers before its sequence
    /// repeats, and each costs a multiplication (xoshiro256++ took 0.03k instructions more per
    /// span's three numbers).
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let (a, b) = uuid::Uuid::new_v4().as_u64_pair();
    a ^ b.rotate_left(32)
}

/// `N` numbers from this thread's generator.
fn next_n<const N: usize>() -> [u64; N] {
    STATE.with(|cell| {
        let mut s = cell.get();
        let out = std::array::from_fn(|_| step(&mut s));
        cell.set(s);
        out
    })
}

/// wyrand's step.
#[inline(always)]
fn step(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0xa076_1d64_78bd_642f);
    let t = u128::from(*s) * u128::from(*s ^ 0xe703_7ed1_a0b4_28db);
    (t >> 64) as u64 ^ t as u64
}

fn next() -> u64 {
    let [n] = next_n::<1>();
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers drawn together are the ones drawn one by one.
    #[test]
    fn drawing_several_numbers_is_drawing_them_in_turn() {
        let saved = STATE.with(Cell::get);
        let together = next_n::<3>();
        STATE.with(|c| c.set(saved));
        assert_eq!(together, [next(), next(), next()]);
        assert_ne!(together[0], together[1]);
        let (t, s) = TraceId::random_with_span();
        assert_ne!(t.0, [0; 16]);
        assert_ne!(s.0, [0; 8]);
    }

    /// A thread's ids do not repeat, nor do two threads draw the same ones.
    #[test]
    fn ids_drawn_on_one_thread_and_on_two_are_all_distinct() {
        let draw = || (0..50_000).map(|_| SpanId::random().0).collect::<Vec<_>>();
        let here = draw();
        let there = std::thread::spawn(draw).join().unwrap_or_default();
        assert_eq!(there.len(), 50_000);
        let all: std::collections::HashSet<_> = here.iter().chain(&there).collect();
        assert_eq!(all.len(), 100_000);
        let traces: std::collections::HashSet<_> = (0..50_000)
            .map(|_| TraceId::random_with_span().0.0)
            .collect();
        assert_eq!(traces.len(), 50_000);
    }

    #[test]
    fn ids_round_trip_through_hex_and_differ() {
        let t = TraceId::random();
        assert_eq!(TraceId::from_hex(&t.to_string()), Some(t));
        assert_ne!(TraceId::random(), t);
        let s = SpanId::random();
        assert_eq!(SpanId::from_hex(&s.to_string()), Some(s));
        assert_eq!(TraceId::from_hex(&"0".repeat(32)), None);
        assert_eq!(SpanId::from_hex("00f067aa0ba902bG"), None);
        assert_eq!(SpanId::from_hex("00F067AA0BA902B7"), None);
    }
}
