//! `@log`: one structured event per call (target `svcc::call`): service, method, transport,
//! request id, client address, outcome (ok, or the error's code and kind), duration, and the
//! parameters and results (always JSON text, so JSON lines embed them as JSON values) —
//! without what `@log(skip = [...])` leaves out, and with every `@sensitive` value masked
//! wherever it stands (nested fields included). Successes log at `info`; internal, unknown and
//! data-loss errors and panics at `error`; every other error (declared ones, invalid
//! arguments, not found, …) at `warn`. A panicking handler is logged with the call's fields
//! (`observe.rs` catches it) and answered as an internal error.

use crate::error::{Code, Error};
#[cfg(feature = "logging")]
use crate::logging::json::key;
use crate::mask::mask_all;
use crate::method::{Call, MethodInfo, Output, Params};
use serde_json::Value;
use std::borrow::Cow;
use std::time::Duration;

/// One method's call log.
pub(super) fn logger(info: &'static MethodInfo) -> Logger {
    let ok: std::sync::Arc<str> = format!("{}.{} ok", info.service, info.name).into();
    Logger {
        info,
        #[cfg(feature = "logging")]
        chunks: Chunks::new(info, &ok),
        ok,
    }
}

pub(super) struct Logger {
    info: &'static MethodInfo,
    /// The message of a success, made once.
    ok: std::sync::Arc<str>,
    #[cfg(feature = "logging")]
    chunks: Chunks,
}

/// The fields of a method's JSON lines that never change, written once.
#[cfg(feature = "logging")]
struct Chunks {
    /// `message` (a success's), `service`, `method`, then `transport`, for each transport.
    ok_heads: [(&'static str, String); 3],
    /// `message` (a success's), `service`, `method`.
    ok_head: String,
    /// `service`, `method`, then `transport`, for each transport.
    heads: [(&'static str, String); 3],
    /// `service`, `method`.
    head: String,
}

#[cfg(feature = "logging")]
impl Chunks {
    fn new(info: &MethodInfo, ok: &str) -> Chunks {
        use crate::logging::json::chunk_of;
        let head = |f: &mut crate::logging::json::Fields<'_>| {
            f.str("service", info.service);
            f.str("method", info.name);
        };
        let ok_head = |f: &mut crate::logging::json::Fields<'_>| {
            f.str("message", ok);
            head(f);
        };
        let with_transport = |first: &dyn Fn(&mut crate::logging::json::Fields<'_>)| {
            // In the order `write` finds them by.
            ["jsonrpc", "rest", "grpc"].map(|t| {
                (
                    t,
                    chunk_of(|f| {
                        first(f);
                        f.str("transport", t);
                    }),
                )
            })
        };
        Chunks {
            ok_heads: with_transport(&ok_head),
            ok_head: chunk_of(ok_head),
            heads: with_transport(&head),
            head: chunk_of(head),
        }
    }

    /// `heads` (or `ok_heads`)' chunk for `transport`, or `head` and the transport written.
    #[inline]
    fn write(
        f: &mut crate::logging::json::Fields<'_>,
        heads: &[(&'static str, String); 3],
        head: &str,
        transport: &str,
    ) {
        // The transport's place among `heads` (as `new` orders them), from its name's bytes
        // rather than a comparison with each (a test holds every transport's line to
        // `tracing`'s).
        let at = match transport.as_bytes() {
            b"jsonrpc" => Some(0),
            b"rest" => Some(1),
            b"grpc" => Some(2),
            _ => None,
        };
        match at.and_then(|at| heads.get(at)) {
            Some((_, chunk)) => f.chunk(chunk),
            None => {
                f.chunk(head);
                f.str("transport", transport);
            }
        }
    }
}

/// When a call's event happened (Unix nanoseconds), and its span.
pub(super) type At<'a> = (u64, &'a crate::telemetry::SpanContext);

/// Who called, and over what: the event's fields besides the call's outcome.
pub(super) struct Caller<'a> {
    pub(super) transport: &'static str,
    pub(super) request_id: &'a str,
    pub(super) client: Option<&'a crate::telemetry::Address>,
}

/// What the event needs from the call's start.
pub(super) struct Pending {
    params: Logged,
    /// The verified token's subject.
    subject: Option<String>,
}

impl Logger {
    /// A call starts: its parameters (before the handler takes them) and identity.
    pub(super) fn before(&self, call: &Call) -> Pending {
        let info = self.info;
        tracing::debug!(
            target: "svcc::call",
            service = info.service,
            method = info.name,
            transport = call.transport,
            request_id = &*call.ctx.request_id,
            "{}.{} started",
            info.service,
            info.name
        );
        Pending {
            params: loggable_params(info, &call.params),
            subject: call.ctx.subject().map(str::to_string),
        }
    }

    /// The call's event, once it has an outcome; `at`: when (Unix nanoseconds) and in which
    /// span, when the call has a span (otherwise now, in the current span).
    pub(super) fn after(
        &self,
        p: &Pending,
        caller: Caller<'_>,
        outcome: &Result<Output, Error>,
        elapsed: Duration,
        at: Option<At<'_>>,
    ) {
        let event = Event {
            info: self.info,
            transport: caller.transport,
            request_id: caller.request_id,
            client: caller.client,
            ok: &self.ok,
            #[cfg(feature = "logging")]
            chunks: &self.chunks,
            micros: micros(elapsed),
            params: &p.params,
            subject: p.subject.as_deref(),
            at,
        };
        match outcome {
            Ok(out) => event.ok(out),
            Err(e) => event.failed(e),
        }
    }
}

/// The fields every event of one call carries.
struct Event<'a> {
    info: &'static MethodInfo,
    transport: &'static str,
    request_id: &'a str,
    client: Option<&'a crate::telemetry::Address>,
    ok: &'a str,
    #[cfg(feature = "logging")]
    chunks: &'a Chunks,
    /// The call's duration in whole microseconds (rounded).
    micros: u64,
    params: &'a Logged,
    subject: Option<&'a str>,
    /// When the event happened and its span, when the call has a span.
    at: Option<At<'a>>,
}

impl Event<'_> {
    fn ok(&self, out: &Output) {
        let result = loggable_result(self.info, out.body.as_deref());
        #[cfg(feature = "logging")]
        if crate::logging::call_enabled(&tracing::Level::INFO)
            && crate::logging::write_call(self.stamp(), &tracing::Level::INFO, |f| {
                self.ok_fields(f, &result);
            })
        {
            return;
        }
        let client = self.client.map_or("", |c| c.as_str());
        // `message` as a plain string field: recorded as it is, not through `fmt`. The subject
        // is a field only when there is one (an absent field still costs a visit). The fields
        // and their order are `ok_fields`' (a test holds the two together).
        macro_rules! event {
            ($($subject:tt)*) => {
                tracing::info!(
                    target: "svcc::call",
                    message = self.ok,
                    service = self.info.service,
                    method = self.info.name,
                    transport = self.transport,
                    request_id = self.request_id,
                    client = client,
                    $($subject)*
                    outcome = "ok",
                    duration_ms = self.micros as f64 / 1000.0,
                    params = self.params.as_str(),
                    result = &*result,
                )
            };
        }
        self.in_span(|| match self.subject {
            Some(subject) => event!(subject = subject,),
            None => event!(),
        });
    }

    /// Emits the `tracing` event in the call's span, so that outputs read its ids.
    fn in_span(&self, emit: impl FnOnce()) {
        match self.at {
            Some((_, span)) => crate::telemetry::sync_scope(span.clone(), emit),
            None => emit(),
        }
    }

    fn failed(&self, e: &Error) {
        let warn = logs_as_warning(e);
        #[cfg(feature = "logging")]
        {
            let fields = |f: &mut crate::logging::json::Fields<'_>| self.failed_fields(f, e);
            let written = if warn {
                crate::logging::call_enabled(&tracing::Level::WARN)
                    && crate::logging::write_call(self.stamp(), &tracing::Level::WARN, fields)
            } else {
                crate::logging::call_enabled(&tracing::Level::ERROR)
                    && crate::logging::write_call(self.stamp(), &tracing::Level::ERROR, fields)
            };
            if written {
                return;
            }
        }
        let client = self.client.map_or("", |c| c.as_str());
        macro_rules! event {
            ($level:expr) => {
                tracing::event!(
                    target: "svcc::call",
                    $level,
                    service = self.info.service,
                    method = self.info.name,
                    transport = self.transport,
                    request_id = self.request_id,
                    client = client,
                    subject = self.subject,
                    outcome = "error",
                    code = e.code.as_str(),
                    kind = e.kind.as_str(),
                    duration_ms = self.micros as f64 / 1000.0,
                    params = self.params.as_str(),
                    error = e.message.as_str(),
                    "{}.{} failed: {}",
                    self.info.service,
                    self.info.name,
                    e.code
                )
            };
        }
        self.in_span(|| {
            if warn {
                event!(tracing::Level::WARN);
            } else {
                event!(tracing::Level::ERROR);
            }
        });
    }

    /// The line's time and span: the call's, or now in the current span.
    #[cfg(feature = "logging")]
    fn stamp(&self) -> crate::logging::json::Stamp {
        match self.at {
            Some((unix_nanos, span)) => crate::logging::json::Stamp {
                unix_nanos,
                ids: Some((span.trace_id, span.span_id)),
            },
            None => crate::logging::json::Stamp::now(),
        }
    }

    /// A success's fields, as `ok`'s `tracing` event has them.
    #[cfg(feature = "logging")]
    #[inline]
    fn ok_fields(&self, f: &mut crate::logging::json::Fields<'_>, result: &str) {
        let c = self.chunks;
        Chunks::write(f, &c.ok_heads, &c.ok_head, self.transport);
        self.common_fields(f);
        f.chunk(",\"outcome\":\"ok\"");
        f.duration_micros(self.micros);
        f.json_at(key!("params"), self.params.as_bytes());
        f.json_at(key!("result"), result.as_bytes());
    }

    /// A failure's fields, as `failed`'s `tracing` event has them (its message first).
    #[cfg(feature = "logging")]
    fn failed_fields(&self, f: &mut crate::logging::json::Fields<'_>, e: &Error) {
        f.debug(
            "message",
            &format_args!(
                "{}.{} failed: {}",
                self.info.service, self.info.name, e.code
            ),
        );
        let c = self.chunks;
        Chunks::write(f, &c.heads, &c.head, self.transport);
        self.common_fields(f);
        f.chunk(",\"outcome\":\"error\"");
        f.str_at(key!("code"), e.code.as_str());
        f.str_at(key!("kind"), e.kind.as_str());
        f.duration_micros(self.micros);
        f.json_at(key!("params"), self.params.as_bytes());
        f.str_at(key!("error"), e.message.as_str());
    }

    #[cfg(feature = "logging")]
    /// The fields after `transport`, up to `outcome`.
    #[inline]
    fn common_fields(&self, f: &mut crate::logging::json::Fields<'_>) {
        f.str_at(key!("request_id"), self.request_id);
        match self.client {
            Some(c) => f.address_at(key!("client"), c),
            None => f.str_at(key!("client"), ""),
        }
        if let Some(subject) = self.subject {
            f.str_at(key!("subject"), subject);
        }
    }
}

/// `d` in whole microseconds, rounded to the nearest.
fn micros(d: Duration) -> u64 {
    d.as_secs() * 1_000_000 + (u64::from(d.subsec_nanos()) + 500) / 1000
}

/// Whether a failure logs at `warn` (declared errors and the caller's) rather than `error`
/// (internal, unknown, data loss).
fn logs_as_warning(e: &Error) -> bool {
    e.declared || !matches!(e.kind, Code::Internal | Code::Unknown | Code::DataLoss)
}

/// Parameters as the call event shows them: the request's own bytes when nothing is left out
/// or masked (shared, not copied), else the JSON text made after skipping and masking. Always
/// UTF-8: the request's bytes are checked, or were decoded from a `&str`
/// ([`Params::DecodedText`]), so the JSON line takes them without checking again.
struct Logged(bytes::Bytes);

impl Logged {
    const NULL: Logged = Logged(bytes::Bytes::from_static(b"null"));

    fn owned(text: String) -> Logged {
        Logged(bytes::Bytes::from(text))
    }

    #[cfg(feature = "logging")]
    fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("null")
    }
}

/// The parameters as JSON text, without skipped ones, sensitive values masked.
fn loggable_params(info: &MethodInfo, params: &Params) -> Logged {
    loggable_params_text(info, params).unwrap_or_else(|| match params {
        Params::Slice(b, r) | Params::DecodedText(_, b, r) if b.get(r.clone()).is_some() => {
            Logged(b.slice(r.clone()))
        }
        _ => Logged::NULL,
    })
}

/// `None`: the request's bytes can be shown as they are.
fn loggable_params_text(info: &MethodInfo, params: &Params) -> Option<Logged> {
    // Nothing to leave out or mask: the text as received, without parsing it.
    let untouched = info.policies.sensitive.is_empty()
        && info.policies.log.as_ref().is_none_or(|l| l.skip.is_empty());
    if untouched {
        match params {
            Params::Raw(r) => return Some(Logged::owned(r.get().to_string())),
            // Decoded from a `&str`: UTF-8 already.
            Params::DecodedText(..) => return None,
            Params::Slice(b, r)
                if b.get(r.clone())
                    .is_some_and(|t| std::str::from_utf8(t).is_ok()) =>
            {
                return None;
            }
            _ => {}
        }
    }
    let mut value = match params {
        Params::None => Value::Object(serde_json::Map::new()),
        Params::Raw(r) => serde_json::from_str(r.get()).unwrap_or(Value::Null),
        Params::Slice(b, r) | Params::DecodedText(_, b, r) => b
            .get(r.clone())
            .and_then(|t| serde_json::from_slice(t).ok())
            .unwrap_or(Value::Null),
        Params::Value(v) => v.clone(),
        // Decoded early without its text (a method without `@log`).
        Params::Decoded(_) => return Some(Logged::NULL),
    };
    if let (Some(log), Value::Object(map)) = (&info.policies.log, &mut value) {
        for skip in log.skip.iter() {
            map.remove(skip.as_ref());
        }
    }
    mask_all(&mut value, &info.policies.sensitive);
    Some(Logged::owned(value.to_string()))
}

/// The result as JSON text, masked; the JSON string `"<skipped>"` when
/// `@log(skip = [response])`.
fn loggable_result<'a>(info: &MethodInfo, body: Option<&'a str>) -> Cow<'a, str> {
    let skip = info.policies.log.as_ref().map(|l| &l.skip);
    if skip.is_some_and(|s| s.iter().any(|n| n == "response")) {
        return Cow::Borrowed("\"<skipped>\"");
    }
    if info.policies.sensitive.is_empty() && skip.is_none_or(|s| s.is_empty()) {
        // Nothing to leave out or mask: the response's own text.
        return Cow::Borrowed(body.unwrap_or("null"));
    }
    let Some(mut value) = body.and_then(|b| serde_json::from_str::<Value>(b).ok()) else {
        return Cow::Borrowed("null");
    };
    if let (Some(skip), Value::Object(map)) = (skip, &mut value) {
        for s in skip.iter() {
            map.remove(s.as_ref());
        }
    }
    mask_all(&mut value, &info.policies.sensitive);
    Cow::Owned(value.to_string())
}

/// The call event written straight (`logging::write_call`) is the line `tracing` writes.
#[cfg(all(test, feature = "logging"))]
mod direct_tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;
    use std::sync::{Arc, Mutex};

    static INFO: MethodInfo = MethodInfo::bare("UserService", "create", "user.create");

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The line without its timestamp.
    fn untimed(line: &str) -> String {
        let mut v: Value = serde_json::from_str(line).unwrap();
        v.as_object_mut().unwrap().remove("timestamp");
        // Keys in the order written, not sorted.
        let at = line.find("\"level\"").unwrap();
        format!("{}|{v}", &line[at..])
    }

    /// The event through `tracing` (a JSON-lines subscriber of this test's own, so the direct
    /// path stands aside), and the same event written straight.
    fn both(event: &Event<'_>, outcome: &Result<Output, Error>) -> (String, String) {
        use tracing_subscriber::layer::SubscriberExt as _;
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(crate::logging::json::JsonLines)
                .with_writer(move || sink.clone()),
        );
        tracing::subscriber::with_default(subscriber, || match outcome {
            Ok(out) => event.ok(out),
            Err(e) => event.failed(e),
        });
        let traced = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let mut direct = Vec::new();
        let level = match outcome {
            Ok(_) => tracing::Level::INFO,
            Err(e) if logs_as_warning(e) => tracing::Level::WARN,
            Err(_) => tracing::Level::ERROR,
        };
        let result = outcome
            .as_ref()
            .ok()
            .map(|out| loggable_result(event.info, out.body.as_deref()));
        crate::logging::json::format_with(&mut direct, event.stamp(), &level, "svcc::call", |f| {
            match outcome {
                Ok(_) => event.ok_fields(f, result.as_deref().unwrap_or_default()),
                Err(e) => event.failed_fields(f, e),
            }
        })
        .unwrap();
        (traced, String::from_utf8(direct).unwrap())
    }

    #[test]
    fn the_direct_line_is_the_traced_line() {
        // The direct path switched on for this process, so that the events below — under a
        // subscriber of the test's own — prove it stands aside for another subscriber.
        let _logging = crate::logging::init_with(crate::logging::Format::Json);
        assert!(crate::logging::writes_calls_directly());
        let cases: Vec<(Option<&str>, &str, Result<Output, Error>)> = vec![
            (
                None,
                "req-1",
                Ok(Output {
                    body: Some(r#"{"id":7}"#.into()),
                    headers: vec![],
                }),
            ),
            (
                Some("user-42"),
                "req \"2\"",
                Ok(Output {
                    body: None,
                    headers: vec![],
                }),
            ),
            (
                None,
                "r3",
                Err(Error::invalid_argument("bad \"name\"\nsecond line")),
            ),
            (
                Some("s"),
                "r4",
                Err(Error::internal("the database went away")),
            ),
        ];
        let chunks = Chunks::new(&INFO, "UserService.create ok");
        let params = Logged::owned(r#"{"name":"ada"}"#.to_string());
        // 2026-12-02T10:04:05.123456789Z, in a span.
        let span = crate::telemetry::SpanContext {
            trace_id: crate::telemetry::TraceId([0xab; 16]),
            span_id: crate::telemetry::SpanId([0x0c; 8]),
            sampled: true,
            trace_state: None,
        };
        let in_span: At<'_> = (1_796_205_845_123_456_789, &span);
        // Addresses short enough to be copied as a window of their text and one that is not.
        let peers = [
            "10.1.2.3:4567",
            "[2001:db8:1234:5678:9abc:def0:1234:5678]:443",
            "[::1]:80",
            "255.255.255.255:65535",
        ]
        .map(|a| crate::telemetry::Address::new(a.parse().unwrap()));
        assert!(peers[0].window().is_some() && peers[1].window().is_none());
        for ((((subject, request_id, outcome), transport), peer), at) in cases
            .iter()
            .zip(["jsonrpc", "rest", "grpc", "other"])
            .zip(&peers)
            .flat_map(|case| [(case, None), (case, Some(in_span))])
        {
            let event = Event {
                info: &INFO,
                transport,
                request_id,
                client: Some(peer),
                ok: "UserService.create ok",
                chunks: &chunks,
                micros: 1235,
                params: &params,
                subject: *subject,
                at,
            };
            let (traced, direct) = both(&event, outcome);
            assert_eq!(traced.lines().count(), 1, "{traced}");
            assert!(direct.ends_with('\n'));
            if at.is_some() {
                // The call's time and span, not the writing's; `tracing`'s line has the span
                // too (its time is when it was written).
                assert!(
                    traced.contains(r#""span_id":"0c0c0c0c0c0c0c0c""#),
                    "{traced}"
                );
                assert!(
                    direct.starts_with(r#"{"timestamp":"2026-12-02T10:04:05.123456Z","#),
                    "{direct}"
                );
                assert!(direct.contains(&format!(r#""trace_id":"{}""#, "ab".repeat(16))));
                assert!(
                    direct.contains(r#""span_id":"0c0c0c0c0c0c0c0c""#),
                    "{direct}"
                );
            }
            assert_eq!(untimed(&traced), untimed(&direct), "\n{traced}\n{direct}");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::mask::{mask_all, mask_text, masked};
    use crate::method::{Mask, Sensitive};
    use serde_json::json;
    use std::borrow::Cow;

    #[test]
    fn masks_nested_paths_lists_and_maps() {
        let sensitive = [
            Sensitive::new("password", Mask::Full),
            Sensitive::new("card.number", Mask::Middle),
            Sensitive::new("logins[].token", Mask::Full),
            Sensitive::new("keys{}.secret", Mask::LastHalf),
        ];
        let mut v = json!({
            "user": "ada",
            "password": "hunter22",
            "card": {"number": "4111111111111111", "holder": "Ada"},
            "logins": [{"token": "t1"}, {"token": "t2"}],
            "keys": {"a": {"secret": "abcdefgh"}},
            "count": 3
        });
        mask_all(&mut v, &sensitive);
        assert_eq!(
            v,
            json!({
                "user": "ada",
                "password": "***",
                "card": {"number": "4***1", "holder": "Ada"},
                "logins": [{"token": "***"}, {"token": "***"}],
                "keys": {"a": {"secret": "abcd***"}},
                "count": 3
            })
        );
        let _ = Cow::<str>::Borrowed("");
    }

    #[test]
    fn short_and_non_text_values_are_fully_masked() {
        assert_eq!(mask_text("abc", Mask::Middle), "***");
        assert_eq!(mask_text("secret-token", Mask::FirstHalf), "***-token");
        assert_eq!(masked(&json!(1234), Mask::Middle), json!("***"));
    }
}
