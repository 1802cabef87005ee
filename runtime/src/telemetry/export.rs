//! The exporter: a thread of its own takes finished spans and log records from a bounded
//! queue in batches (`OTEL_BSP_*`, [`super::queue`]) and posts them over OTLP/HTTP (protobuf)
//! or OTLP/gRPC. The request path only ever adds to the queue without waiting: a full queue
//! drops the item and counts it; a collector that is down or slow costs its batches (counted
//! too), never a request's time.

use super::queue::{Batch, Kind, Queue};
use super::settings::{self, Protocol, Settings};
use super::{DROPPED_LOGS, DROPPED_SPANS, otlp};
use bytes::{Buf as _, Bytes};
use http_body_util::{BodyExt as _, Full};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The running exporter.
pub(super) struct Pipeline {
    queue: Arc<Queue>,
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
    let queue = Arc::new(Queue::new(
        settings.max_queue_size,
        settings.max_export_batch_size,
    ));
    let worker_queue = queue.clone();
    let spawned = std::thread::Builder::new()
        .name("svcc-otlp".to_string())
        .spawn(move || worker(&worker_queue, settings));
    if let Err(e) = spawned {
        tracing::warn!(target: "svcc::otlp", error = %e, "cannot start the OTLP exporter; nothing is exported");
        return None;
    }
    Some(Pipeline {
        queue,
        logs: settings.logs_endpoint.is_some(),
    })
}

impl Pipeline {
    pub(super) fn logs(&self) -> bool {
        self.logs
    }

    /// Queues an encoded `Span` (copied; dropped and counted when the queue is full).
    pub(super) fn send_span(&self, span: &[u8]) {
        if settings::get().traces_endpoint.is_none() {
            return;
        }
        if !self.queue.push(Kind::Spans, span) {
            DROPPED_SPANS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues a call's span, encoded straight into the open batch (dropped and counted when
    /// the queue is full).
    pub(super) fn send_call_span(&self, span: &super::otlp::CallSpanFields<'_>) {
        if settings::get().traces_endpoint.is_none() {
            return;
        }
        if !self
            .queue
            .push_with(Kind::Spans, |batch| span.append_framed(batch))
        {
            DROPPED_SPANS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues an encoded `LogRecord` (copied; dropped and counted when the queue is full).
    pub(super) fn send_log(&self, log: &[u8]) {
        if !self.queue.push(Kind::Logs, log) {
            DROPPED_LOGS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Asks the worker to export everything queued and waits for it, at most `timeout`.
    pub(super) fn flush(&self, timeout: Duration) {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        self.queue.flush(done_tx);
        let _ = done_rx.recv_timeout(timeout);
    }
}

fn worker(queue: &Queue, settings: &'static Settings) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let mut client = Client::new(settings);
    let mut next = Instant::now() + settings.schedule_delay;
    loop {
        let (work, due) = queue.wait(next);
        rt.block_on(async {
            for batch in work.spans {
                client.export_spans(batch).await;
            }
            for batch in work.logs {
                client.export_logs(batch).await;
            }
        });
        for done in work.flushes {
            let _ = done.send(());
        }
        if due {
            next = Instant::now() + settings.schedule_delay;
        }
    }
}

/// A request body: the envelope, then the batch's items as they were queued (sent as two
/// pieces, so the batch is not copied into one buffer first).
type Body = Full<bytes::buf::Chain<Bytes, Bytes>>;
type Sender = hyper::client::conn::http1::SendRequest<Body>;
type Sender2 = hyper::client::conn::http2::SendRequest<Body>;

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

    async fn export_spans(&mut self, batch: Batch) {
        let Some(endpoint) = &self.settings.traces_endpoint else {
            return;
        };
        let head = otlp::traces(self.settings, batch.bytes.len());
        let path = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
        if !self.send(endpoint, path, head, batch.bytes).await {
            DROPPED_SPANS.fetch_add(batch.count as u64, Ordering::Relaxed);
        }
    }

    async fn export_logs(&mut self, batch: Batch) {
        let Some(endpoint) = &self.settings.logs_endpoint else {
            return;
        };
        let head = otlp::logs(self.settings, batch.bytes.len());
        let path = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
        if !self.send(endpoint, path, head, batch.bytes).await {
            DROPPED_LOGS.fetch_add(batch.count as u64, Ordering::Relaxed);
        }
    }

    /// Posts one export request; `true` when the collector accepted it.
    /// Posts one export request (`head`, then `items`); `true` when the collector accepted it.
    async fn send(
        &mut self,
        endpoint: &str,
        grpc_path: &str,
        head: Vec<u8>,
        items: Vec<u8>,
    ) -> bool {
        let result = tokio::time::timeout(
            self.settings.timeout,
            self.try_send(endpoint, grpc_path, head, items),
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
        mut head: Vec<u8>,
        items: Vec<u8>,
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
                    .body(Full::new(Bytes::from(head).chain(Bytes::from(items))))
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
                // The gRPC frame's prefix: uncompressed, then the message's length.
                let len = (head.len() + items.len()) as u32;
                let mut prefix = vec![0u8];
                prefix.extend_from_slice(&len.to_be_bytes());
                head.splice(0..0, prefix);
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
                    .body(Full::new(Bytes::from(head).chain(Bytes::from(items))))
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
