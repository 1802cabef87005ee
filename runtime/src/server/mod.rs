//! The server: several services on one address over JSON-RPC and REST; a body limit, a
//! request timeout, request ids, panic safety, liveness and readiness, and a graceful
//! shutdown that stops accepting, drains in-flight requests, runs shutdown hooks in order, then
//! flushes queued telemetry.

pub(crate) mod dispatch;
pub mod health;
mod layers;
pub(crate) mod service;
pub(crate) mod transport;
mod watchdog;

#[cfg(feature = "jsonrpc")]
pub use transport::jsonrpc::RpcConfig;

use crate::error::{Code, Error};
use crate::method::{MethodEntry, MethodLayer, ServiceDef};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dispatch::{Conn, Dispatch, Shared};
use futures_util::future::BoxFuture;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use watchdog::Limits;

/// Server settings; every field has a sensible default.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest request body (default 4 MiB); larger bodies get 413.
    pub body_limit: usize,
    /// Longest time to read a request's body and produce its response (default 30 s); then 408.
    pub request_timeout: Duration,
    /// Longest time a connection may sit with no request in progress — waiting for the next
    /// request, receiving headers, or sending a response its client does not read (default
    /// 60 s); then it is closed.
    pub idle_timeout: Duration,
    /// Header carrying the request id (default `X-Request-Id`); echoed in every response.
    pub request_id_header: HeaderName,
    /// Where JSON-RPC is served (default `/rpc`): `/rpc`, `/rpc/<service>`, `/rpc/<method>`.
    #[cfg(feature = "jsonrpc")]
    pub rpc_prefix: String,
    /// JSON-RPC batch limits.
    #[cfg(feature = "jsonrpc")]
    pub rpc: RpcConfig,
    /// How long each shutdown hook may take (default 10 s).
    pub hook_timeout: Duration,
    /// Where and what `/metrics` serves.
    pub metrics: MetricsConfig,
    /// A header that raises one request's log level (`X-Log-Level: debug`), for debugging one
    /// call in production. Off (`None`) by default: whoever can send it can make the service
    /// log more, so turn it on where only operators reach the server.
    pub log_level_header: Option<HeaderName>,
    /// Cross-origin requests from browsers (tower-http's `CorsLayer`: allowed origins,
    /// methods, headers; it answers preflight `OPTIONS` requests itself). Off (`None`) by
    /// default. Like every HTTP layer, it makes JSON-RPC requests go through the router.
    pub cors: Option<tower_http::cors::CorsLayer>,
    /// gRPC on an address of its own too (default `None`: gRPC shares the server's port with
    /// JSON-RPC and REST). That listener answers only gRPC; the server's port keeps serving it.
    /// `SVCC_GRPC_BIND=ADDR` sets it ([`ServerConfig::grpc_bind_from_env`]).
    #[cfg(feature = "grpc")]
    pub grpc_bind: Option<std::net::SocketAddr>,
}

#[cfg(feature = "grpc")]
impl ServerConfig {
    /// Sets [`ServerConfig::grpc_bind`] from `SVCC_GRPC_BIND` when it is set; an address that
    /// does not parse is an error naming the variable.
    pub fn grpc_bind_from_env(mut self) -> Result<ServerConfig, String> {
        if let Ok(v) = std::env::var("SVCC_GRPC_BIND")
            && !v.trim().is_empty()
        {
            self.grpc_bind = Some(
                v.trim()
                    .parse()
                    .map_err(|e| format!("SVCC_GRPC_BIND=`{v}` is not an address: {e}"))?,
            );
        }
        Ok(self)
    }
}

/// The Prometheus endpoint's settings.
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    /// `None` (the default): `/metrics` on the server's own port. An address: `/metrics` on a
    /// listener of its own there (and not on the server's port), so it can stay private.
    pub bind: Option<std::net::SocketAddr>,
    /// Also export the Go platform library's names (`service_requests_count`,
    /// `service_requests_all_count`, `service_requests_latency_microseconds`) for dashboards
    /// made for it (default off).
    pub go_names: bool,
    /// The `process_*` metrics (default on).
    pub process: bool,
}

impl Default for MetricsConfig {
    fn default() -> MetricsConfig {
        MetricsConfig {
            bind: None,
            go_names: false,
            process: true,
        }
    }
}

impl MetricsConfig {
    /// The defaults, changed by `SVCC_METRICS_BIND=ADDR` and `SVCC_METRICS_GO_NAMES=true`;
    /// an address that does not parse is an error naming the variable.
    pub fn from_env() -> Result<MetricsConfig, String> {
        let mut c = MetricsConfig::default();
        if let Ok(v) = std::env::var("SVCC_METRICS_BIND")
            && !v.trim().is_empty()
        {
            c.bind = Some(
                v.trim()
                    .parse()
                    .map_err(|e| format!("SVCC_METRICS_BIND=`{v}` is not an address: {e}"))?,
            );
        }
        if let Ok(v) = std::env::var("SVCC_METRICS_GO_NAMES") {
            c.go_names = matches!(v.trim(), "1" | "true" | "yes");
        }
        Ok(c)
    }
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            body_limit: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            request_id_header: HeaderName::from_static("x-request-id"),
            #[cfg(feature = "jsonrpc")]
            rpc_prefix: "/rpc".to_string(),
            #[cfg(feature = "jsonrpc")]
            rpc: RpcConfig::default(),
            hook_timeout: Duration::from_secs(10),
            metrics: MetricsConfig::default(),
            log_level_header: None,
            cors: None,
            #[cfg(feature = "grpc")]
            grpc_bind: None,
        }
    }
}

type Hook = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// Builds and runs a server.
pub struct Server {
    config: ServerConfig,
    services: Vec<ServiceDef>,
    layers: Vec<Arc<dyn MethodLayer>>,
    hooks: Vec<(String, Hook)>,
    routes: Vec<(String, axum::routing::MethodRouter)>,
    ready: Arc<AtomicBool>,
    jwt: Option<Arc<crate::auth::Jwt>>,
    http_layers: Vec<HttpLayer>,
    #[cfg(feature = "events")]
    events: Option<crate::events::Bus>,
}

/// An HTTP-level layer, applied to the router.
type HttpLayer = Box<dyn Fn(axum::Router) -> axum::Router + Send + Sync>;

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field(
                "services",
                &self.services.iter().map(|s| s.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for Server {
    fn default() -> Server {
        Server::new()
    }
}

impl Server {
    pub fn new() -> Server {
        Server {
            config: ServerConfig::default(),
            services: Vec::new(),
            layers: Vec::new(),
            hooks: Vec::new(),
            routes: Vec::new(),
            ready: Arc::new(AtomicBool::new(true)),
            jwt: None,
            http_layers: Vec::new(),
            #[cfg(feature = "events")]
            events: None,
        }
    }

    pub fn config(mut self, config: ServerConfig) -> Server {
        self.config = config;
        self
    }

    /// Verifies the bearer tokens of methods under `@security(bearer)` with `jwt` (the same
    /// keys that issue them). Without it, the keys come from `JWT_SECRET`
    /// ([`Jwt::from_env`](crate::auth::Jwt::from_env)); a server with such methods and no key
    /// refuses to start.
    pub fn jwt(mut self, jwt: Arc<crate::auth::Jwt>) -> Server {
        self.jwt = Some(jwt);
        self
    }

    /// Adds a service (from generated code: `UserServiceServer::new(impl).into_service()`).
    pub fn service(mut self, def: ServiceDef) -> Server {
        self.services.push(def);
        self
    }

    /// Adds a hand-written route (for methods with `@handler`, whose transport is not
    /// generated). It gets the same body limit, request id and timeout as generated routes.
    pub fn route(mut self, path: &str, route: axum::routing::MethodRouter) -> Server {
        self.routes.push((path.to_string(), route));
        self
    }

    /// Serves an OpenAPI document at `GET /openapi.json` (the generated `OPENAPI_JSON`).
    pub fn openapi(self, document: &'static str) -> Server {
        self.route(
            "/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            }),
        )
    }

    /// Adds an HTTP-level tower layer around every route (REST, JSON-RPC, health, metrics and
    /// hand-written routes, and the 404/405 answers), as axum's `Router::layer` does: any
    /// middleware of the tower ecosystem (compression, CORS, auth of your own …). Layers added
    /// later wrap earlier ones. With any HTTP layer, JSON-RPC requests take the router instead
    /// of the connection's fast path, so that the layer sees them too.
    pub fn http_layer<L>(mut self, layer: L) -> Server
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response: IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.http_layers
            .push(Box::new(move |router| router.layer(layer.clone())));
        self
    }

    /// Adds a layer around every method's stack (outermost last).
    pub fn layer(mut self, layer: impl MethodLayer) -> Server {
        self.layers.push(Arc::new(layer));
        self
    }

    /// Where the events that handlers emit go: Kafka
    /// ([`crate::events::kafka::KafkaPublisher`]), or an in-process
    /// [`crate::events::MemoryLog`] whose subscribers you set. Without it, a `MemoryLog` of
    /// the server's own.
    #[cfg(feature = "events")]
    pub fn events(mut self, bus: crate::events::Bus) -> Server {
        self.events = Some(bus);
        self
    }

    /// Runs `hook` after the server has drained (hooks run in the order they were added).
    pub fn on_shutdown<F, Fut>(mut self, name: &str, hook: F) -> Server
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks
            .push((name.to_string(), Box::new(move || Box::pin(hook()))));
        self
    }

    /// The readiness flag (`/readyz` answers 503 once it is false).
    pub fn readiness(&self) -> Arc<AtomicBool> {
        self.ready.clone()
    }

    /// Everything the connections share, with every method's stack built once: the JSON-RPC
    /// endpoints by path and the router for the rest.
    fn shared(&self) -> std::io::Result<(Shared, Arc<layers::metrics::Metrics>)> {
        install_panic_logger();
        let cfg = &self.config;
        if cfg.log_level_header.is_some() {
            crate::log_level::enable();
        }
        let jwt = self.verifier()?;
        let metrics = layers::metrics::Metrics::new(&cfg.metrics);
        let layer_shared = layers::Shared {
            metrics: &metrics,
            jwt: jwt.as_ref(),
        };
        #[cfg(feature = "events")]
        {
            let bus: crate::events::Bus = self
                .events
                .clone()
                .unwrap_or_else(|| Arc::new(crate::events::MemoryLog::new()));
            for slot in self.services.iter().filter_map(|s| s.events.as_ref()) {
                slot.set(bus.clone());
            }
        }
        let mut methods: Vec<MethodEntry> = Vec::new();
        for svc in &self.services {
            for m in &svc.methods {
                // The contract's own layers first (`@log` …), then the user's around them.
                let (mut service, built_in) =
                    layers::for_method(m.info, m.service.clone(), &layer_shared);
                for l in &self.layers {
                    service = l.layer(m.info, service);
                }
                methods.push(MethodEntry {
                    info: m.info,
                    service,
                    // Layered methods go through their stack; bare ones straight to the handler.
                    direct: if self.layers.is_empty() && !built_in {
                        m.direct.clone()
                    } else {
                        None
                    },
                    decode: m.decode,
                    keep_text: layers::shows_params(m.info),
                });
            }
        }
        let setup = transport::Setup {
            config: cfg,
            services: &self.services,
            methods: &methods,
        };
        let mut routes = transport::Routes::default();
        for t in transport::all() {
            t.install(&setup, &mut routes);
        }
        let mut router = routes.router;
        for (path, route) in &self.routes {
            router = router.route(path, route.clone());
        }
        // Prometheus scrapes here, unless it has an address of its own.
        let router = if cfg.metrics.bind.is_none() {
            router.route("/metrics", scrape(metrics.clone()))
        } else {
            router
        };
        let router = health::routes(router, self.ready.clone())
            .fallback(|| async { error_response(&Error::new(Code::NotFound, "no such route")) })
            // A known path, another HTTP method: JSON like every other error (axum adds `Allow`).
            .method_not_allowed_fallback(|| async {
                error_response(&Error {
                    http_status: Some(405),
                    ..Error::new(
                        Code::Unimplemented,
                        "this path does not answer this HTTP method (see `Allow`)",
                    )
                })
            })
            .layer(DefaultBodyLimit::max(cfg.body_limit));
        let mut router = router;
        let mut fast = routes.fast;
        if let Some(cors) = &cfg.cors {
            router = router.layer(cors.clone());
        }
        for layer in &self.http_layers {
            router = layer(router);
        }
        if cfg.cors.is_some() || !self.http_layers.is_empty() {
            // The layers run on the router only: every request goes there.
            fast.clear();
        }
        let shared = Shared {
            router,
            fast,
            body_limit: cfg.body_limit,
            request_id_header: cfg.request_id_header.clone(),
            log_level_header: cfg.log_level_header.clone(),
            request_timeout: cfg.request_timeout,
            limits: Limits::new(cfg.request_timeout, cfg.idle_timeout),
        };
        Ok((shared, metrics))
    }

    /// The token verifier: the configured one, or the keys from the environment; an error
    /// naming the first method that needs one when there is none.
    fn verifier(&self) -> std::io::Result<Option<Arc<crate::auth::Jwt>>> {
        let needs = self
            .services
            .iter()
            .flat_map(|s| &s.methods)
            .find(|m| layers::auth::needs_bearer(m.info));
        let Some(m) = needs else {
            return Ok(self.jwt.clone());
        };
        if let Some(jwt) = &self.jwt {
            return Ok(Some(jwt.clone()));
        }
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        match crate::auth::Jwt::from_env() {
            Ok(Some(jwt)) => Ok(Some(Arc::new(jwt))),
            Ok(None) => Err(invalid(format!(
                "{}.{} needs bearer tokens (@security(bearer)) but no JWT key is configured: \
                 set JWT_SECRET (at least {} bytes) or call Server::jwt",
                m.info.service,
                m.info.name,
                crate::auth::MIN_SECRET_LEN
            ))),
            Err(e) => Err(invalid(e.to_string())),
        }
    }

    /// Serves on `listener` until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.serve_until(listener, shutdown_signal()).await
    }

    /// Serves until `signal` completes: stops accepting, drains in-flight requests, then runs
    /// the shutdown hooks in order, each bounded by `hook_timeout`.
    pub async fn serve_until(
        mut self,
        listener: tokio::net::TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (shared, metrics) = self.shared()?;
        let shared = Arc::new(shared);
        // `/metrics` on its own address: bound before serving, so a taken port fails the start.
        let metrics_server = match self.config.metrics.bind {
            Some(addr) => {
                let l = tokio::net::TcpListener::bind(addr).await?;
                let app = axum::Router::new().route("/metrics", scrape(metrics));
                Some(tokio::spawn(async move {
                    let _ = axum::serve(l, app).await;
                }))
            }
            None => None,
        };
        // gRPC on its own address: bound before serving, so a taken port fails the start.
        #[cfg(feature = "grpc")]
        let grpc_listener = match self.config.grpc_bind {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        #[cfg(not(feature = "grpc"))]
        let grpc_listener: Option<tokio::net::TcpListener> = None;
        // Connections watch `stop` to begin a graceful shutdown; each holds a `done` receiver,
        // so `done_tx.closed()` completes when the last one has finished.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
        let (done_tx, done_rx) = tokio::sync::watch::channel(());
        let mut signal = std::pin::pin!(signal);
        loop {
            let grpc_accept = async {
                match &grpc_listener {
                    Some(l) => l.accept().await,
                    None => std::future::pending().await,
                }
            };
            let (accepted, grpc_only) = tokio::select! {
                biased;
                () = &mut signal => break,
                accepted = listener.accept() => (accepted, false),
                accepted = grpc_accept => (accepted, true),
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let conn = Arc::new(Conn {
                shared: shared.clone(),
                peer: Some(peer),
                clock: Arc::default(),
                grpc_only,
            });
            tokio::spawn(serve_connection(
                stream,
                conn,
                stop_rx.clone(),
                done_rx.clone(),
            ));
        }
        self.ready.store(false, Ordering::SeqCst);
        tracing::info!("shutting down: draining in-flight requests");
        drop(listener);
        drop(grpc_listener);
        drop(stop_tx);
        drop(done_rx);
        done_tx.closed().await;
        for (name, hook) in self.hooks.drain(..) {
            if tokio::time::timeout(self.config.hook_timeout, hook())
                .await
                .is_err()
            {
                tracing::warn!(hook = %name, "shutdown hook timed out");
            }
        }
        if let Some(m) = metrics_server {
            m.abort();
        }
        // Spans and log records still queued go to the collector (bounded like a hook).
        let timeout = self.config.hook_timeout;
        let _ = tokio::task::spawn_blocking(move || crate::telemetry::flush(timeout)).await;
        Ok(())
    }
}

/// One connection, HTTP/1 or HTTP/2: served until it ends, is idle too long, or — once
/// `stop` closes — has drained.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    conn: Arc<Conn>,
    mut stop: tokio::sync::watch::Receiver<()>,
    done: tokio::sync::watch::Receiver<()>,
) {
    let limits = conn.shared.limits;
    let clock = conn.clock.clone();
    let builder = auto::Builder::new(TokioExecutor::new());
    let io = hyper_util::rt::TokioIo::new(stream);
    let mut connection =
        std::pin::pin!(builder.serve_connection_with_upgrades(io, Dispatch::new(conn)));
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + limits.tick, limits.tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(error = %e, "connection ended with an error");
                }
                break;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = ticks.tick() => {
                if clock.tick(limits.idle) {
                    tracing::debug!("closing a connection idle for longer than the idle timeout");
                    break;
                }
            }
        }
    }
    drop(done);
}

/// The scrape handler: OpenMetrics text, or the Prometheus text format 0.0.4 when the
/// scraper asks for `text/plain` and not for OpenMetrics (as Prometheus' client libraries
/// negotiate).
fn scrape(metrics: Arc<layers::metrics::Metrics>) -> axum::routing::MethodRouter {
    get(move |headers: HeaderMap| {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let plain =
            accept.contains("text/plain") && !accept.contains("application/openmetrics-text");
        let (content_type, text) = if plain {
            (
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.encode_text(),
            )
        } else {
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                metrics.encode(),
            )
        };
        async move { ([(header::CONTENT_TYPE, content_type)], text) }
    })
}

/// An accept error: per-connection ones are skipped; others (out of file descriptors) are
/// logged and retried after a pause, as axum and hyper do.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Logs every panic with its backtrace (the server answers the request and keeps serving).
fn install_panic_logger() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!(panic = %info, %backtrace, "handler panicked");
            previous(info);
        }));
    });
}

/// An error as an HTTP response: its status and the REST error body `{code, message, data}`
/// (also what the connection service answers with for 408, 413 and panics).
pub fn error_response(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in &e.headers {
        headers.append(name.clone(), value.clone());
    }
    (status, headers, e.to_rest_body().to_string()).into_response()
}
