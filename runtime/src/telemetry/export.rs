//! The exporter: a thread of its own takes finished spans and log records from a bounded
//! queue, batches them (`OTEL_BSP_*`) and posts them over OTLP/HTTP (protobuf) or OTLP/gRPC.
//! The request path only ever `try_send`s: a full queue drops the item and counts it; a
//! collector that is down or slow costs its batches (counted too), never a request's time.

use super::settings::{self, Protocol, Settings};
use super::{DROPPED_LOGS, DROPPED_SPANS, otlp};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

enum Item {
    /// An encoded `Span`.
    Span(Vec<u8>),
    /// An encoded `LogRecord`.
    Log(Vec<u8>),
    Flush(std::sync::mpsc::Sender<()>),
}

/// The running exporter.
pub(super) struct Pipeline {
    tx: SyncSender<Item>,
    logs: bool,
}

static PIPELINE: OnceLock<Option<Pipeline>> = OnceLock::new();

/// The exporter, started on first use; `None` when no endpoint is configured.
pub(super) fn pipeline() -> Option<&'static Pipeline> {
    PIPELINE.get_or_init(start).as_ref()
}

fn start() -> Option<Pipeline> {
    let settings = settings::get();
    if settings.traces_endpoint.is_none() && settings.logs_endpoint.is_none() {
        return None;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(settings.max_queue_size);
    let spawned = std::thread::Builder::new()
        .name("svcc-otlp".to_string())
        .spawn(move || worker(rx, settings));
    if let Err(e) = spawned {
        tracing::warn!(target: "svcc::otlp", error = %e, "cannot start the OTLP exporter; nothing is exported");
        return None;
    }
    Some(Pipeline {
        tx,
        logs: settings.logs_endpoint.is_some(),
    })
}

impl Pipeline {
    pub(super) fn logs(&self) -> bool {
        self.logs
    }

    pub(super) fn send_span(&self, span: Vec<u8>) {
        if settings::get().traces_endpoint.is_none() {
            return;
        }
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.tx.try_send(Item::Span(span))
        {
            DROPPED_SPANS.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn send_log(&self, log: Vec<u8>) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.tx.try_send(Item::Log(log))
        {
            DROPPED_LOGS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Asks the worker to export everything queued and waits for it, at most `timeout`.
    pub(super) fn flush(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let mut item = Item::Flush(done_tx);
        loop {
            match self.tx.try_send(item) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    item = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return,
            }
        }
        let _ = done_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
}

fn worker(rx: Receiver<Item>, settings: &'static Settings) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let mut client = Client::new(settings);
    let mut spans: Vec<Vec<u8>> = Vec::new();
    let mut logs: Vec<Vec<u8>> = Vec::new();
    let mut next = Instant::now() + settings.schedule_delay;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Item::Span(s)) => {
                spans.push(s);
                if spans.len() >= settings.max_export_batch_size {
                    rt.block_on(client.export_spans(&mut spans));
                }
            }
            Ok(Item::Log(l)) => {
                logs.push(l);
                if logs.len() >= settings.max_export_batch_size {
                    rt.block_on(client.export_logs(&mut logs));
                }
            }
            Ok(Item::Flush(done)) => {
                // Everything queued before the flush request is already taken: export it.
                rt.block_on(client.export_spans(&mut spans));
                rt.block_on(client.export_logs(&mut logs));
                let _ = done.send(());
            }
            Err(RecvTimeoutError::Timeout) => {
                rt.block_on(client.export_spans(&mut spans));
                rt.block_on(client.export_logs(&mut logs));
                next = Instant::now() + settings.schedule_delay;
            }
            Err(RecvTimeoutError::Disconnected) => {
                rt.block_on(client.export_spans(&mut spans));
                rt.block_on(client.export_logs(&mut logs));
                return;
            }
        }
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
type Sender2 = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

/// One connection per endpoint, opened on demand and again after a failure.
struct Client {
    settings: &'static Settings,
    http1: Vec<(String, Sender)>,
    http2: Vec<(String, Sender2)>,
    /// Whether the last export failed (a failure is logged once, not per batch).
    failing: bool,
}

impl Client {
    fn new(settings: &'static Settings) -> Client {
        Client {
            settings,
            http1: Vec::new(),
            http2: Vec::new(),
            failing: false,
        }
    }

    async fn export_spans(&mut self, spans: &mut Vec<Vec<u8>>) {
        let Some(endpoint) = &self.settings.traces_endpoint else {
            spans.clear();
            return;
        };
        while !spans.is_empty() {
            let n = spans.len().min(self.settings.max_export_batch_size);
            let body = otlp::traces(self.settings, &spans[..n]);
            spans.drain(..n);
            let path = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
            if !self.send(endpoint, path, body).await {
                DROPPED_SPANS.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }

    async fn export_logs(&mut self, logs: &mut Vec<Vec<u8>>) {
        let Some(endpoint) = &self.settings.logs_endpoint else {
            logs.clear();
            return;
        };
        while !logs.is_empty() {
            let n = logs.len().min(self.settings.max_export_batch_size);
            let body = otlp::logs(self.settings, &logs[..n]);
            logs.drain(..n);
            let path = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
            if !self.send(endpoint, path, body).await {
                DROPPED_LOGS.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }

    /// Posts one export request; `true` when the collector accepted it.
    async fn send(&mut self, endpoint: &str, grpc_path: &str, body: Vec<u8>) -> bool {
        let result = tokio::time::timeout(
            self.settings.timeout,
            self.try_send(endpoint, grpc_path, body),
        )
        .await
        .unwrap_or_else(|_| Err("timed out".to_string()));
        match result {
            Ok(()) => {
                if self.failing {
                    tracing::info!(target: "svcc::otlp", endpoint, "the OTLP collector accepts exports again");
                }
                self.failing = false;
                true
            }
            Err(e) => {
                // Drop the connection: the next export opens a new one.
                self.http1.retain(|(k, _)| k != endpoint);
                self.http2.retain(|(k, _)| k != endpoint);
                if !self.failing {
                    tracing::warn!(target: "svcc::otlp", endpoint, error = %e, "OTLP export failed; dropping telemetry until the collector answers");
                }
                self.failing = true;
                false
            }
        }
    }

    async fn try_send(
        &mut self,
        endpoint: &str,
        grpc_path: &str,
        body: Vec<u8>,
    ) -> Result<(), String> {
        let uri: http::Uri = endpoint.parse().map_err(|e| format!("bad endpoint: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(
                "only http:// endpoints are supported (put TLS in a collector or sidecar)"
                    .to_string(),
            );
        }
        let authority = uri.authority().ok_or("the endpoint has no host")?.clone();
        let mut req = http::Request::builder().header(http::header::HOST, authority.as_str());
        for (k, v) in &self.settings.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match self.settings.protocol {
            Protocol::HttpProtobuf => {
                let req = req
                    .method(http::Method::POST)
                    .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|e| e.to_string())?;
                let sender = self.http1_sender(endpoint, authority.as_str()).await?;
                let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
                let status = res.status();
                let _ = res.into_body().collect().await;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("the collector answered {status}"))
                }
            }
            Protocol::Grpc => {
                let mut framed = Vec::with_capacity(body.len() + 5);
                framed.push(0);
                framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
                framed.extend_from_slice(&body);
                let uri = http::Uri::builder()
                    .scheme("http")
                    .authority(authority.clone())
                    .path_and_query(grpc_path)
                    .build()
                    .map_err(|e| e.to_string())?;
                let req = req
                    .method(http::Method::POST)
                    .uri(uri)
                    .header(http::header::CONTENT_TYPE, "application/grpc")
                    .header(http::header::TE, "trailers")
                    .body(Full::new(Bytes::from(framed)))
                    .map_err(|e| e.to_string())?;
                let sender = self.http2_sender(endpoint, authority.as_str()).await?;
                let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
                let (parts, body) = res.into_parts();
                let collected = body.collect().await.map_err(|e| e.to_string())?;
                let status = collected
                    .trailers()
                    .and_then(|t| t.get("grpc-status"))
                    .or_else(|| parts.headers.get("grpc-status"))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("missing");
                if parts.status.is_success() && status == "0" {
                    Ok(())
                } else {
                    Err(format!(
                        "the collector answered HTTP {}, grpc-status {status}",
                        parts.status
                    ))
                }
            }
        }
    }

    async fn http1_sender(&mut self, endpoint: &str, addr: &str) -> Result<&mut Sender, String> {
        if let Some(i) = self
            .http1
            .iter()
            .position(|(k, s)| k == endpoint && !s.is_closed())
        {
            let sender = &mut self.http1[i].1;
            sender.ready().await.map_err(|e| e.to_string())?;
            return Ok(sender);
        }
        self.http1.retain(|(k, _)| k != endpoint);
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        self.http1.push((endpoint.to_string(), sender));
        let last = self.http1.len() - 1;
        Ok(&mut self.http1[last].1)
    }

    async fn http2_sender(&mut self, endpoint: &str, addr: &str) -> Result<&mut Sender2, String> {
        if let Some(i) = self
            .http2
            .iter()
            .position(|(k, s)| k == endpoint && !s.is_closed())
        {
            let sender = &mut self.http2[i].1;
            sender.ready().await.map_err(|e| e.to_string())?;
            return Ok(sender);
        }
        self.http2.retain(|(k, _)| k != endpoint);
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        self.http2.push((endpoint.to_string(), sender));
        let last = self.http2.len() - 1;
        Ok(&mut self.http2[last].1)
    }
}
