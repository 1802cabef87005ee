//! The two clocks a call reads, as plain nanoseconds: the wall clock for timestamps (log lines,
//! span start and end) and the monotonic clock for durations. Read straight from the kernel's
//! clock (`clock_gettime`, through the vDSO) rather than through `SystemTime`/`Instant`, whose
//! conversions — `duration_since(UNIX_EPOCH)`, `elapsed()` — cost more than the readings
//! themselves (`scripts/bench-observability`: ~0.1k instructions per call for the three
//! readings a traced call takes).

/// Nanoseconds since the Unix epoch (the wall clock; 0 before 1970).
#[cfg(unix)]
pub(crate) fn unix_nanos() -> u64 {
    nanos(rustix::time::clock_gettime(rustix::time::ClockId::Realtime))
}

/// Nanoseconds on the monotonic clock (for durations: it never goes back).
#[cfg(unix)]
pub(crate) fn monotonic_nanos() -> u64 {
    nanos(rustix::time::clock_gettime(
        rustix::time::ClockId::Monotonic,
    ))
}

#[cfg(unix)]
fn nanos(t: rustix::time::Timespec) -> u64 {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs * 1_000_000_000 + nanos
}

#[cfg(not(unix))]
pub(crate) fn unix_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(not(unix))]
pub(crate) fn monotonic_nanos() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clocks_agree_with_the_standard_library() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let wall = unix_nanos();
        let after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        assert!(before <= wall && wall <= after, "{before} {wall} {after}");
        let start = monotonic_nanos();
        let std_start = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let std_elapsed = std_start.elapsed().as_nanos() as u64;
        let elapsed = monotonic_nanos() - start;
        assert!(elapsed >= 20_000_000, "{elapsed}");
        // Read around the standard library's pair: at least as long, not much longer.
        assert!(elapsed >= std_elapsed && elapsed - std_elapsed < 5_000_000);
    }
}
