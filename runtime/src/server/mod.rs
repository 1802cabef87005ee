//! The server: several services on one address over JSON-RPC, REST and gRPC; a body limit, a
//! request timeout, request ids, panic safety, a connection cap, liveness and readiness, and a
//! graceful stop: readiness 503 and a pre-stop delay while clients are told to move
//! (`Connection: close`, GOAWAY), then stop accepting, drain in-flight requests until the
//! shutdown timeout (then close what is left), run shutdown hooks in order, flush queued
//! telemetry. A second signal stops at once.

mod coalesce;
pub(crate) mod connections;
pub(crate) mod dispatch;
pub mod health;
mod layers;
pub(crate) mod refusal;
pub(crate) mod service;
mod shutdown;
mod streams;
pub(crate) mod transport;
mod watchdog;

#[cfg(feature = "jsonrpc")]
pub use transport::jsonrpc::RpcConfig;

use crate::error::{Code, Error};
use crate::method::{MethodEntry, MethodLayer, ServiceDef};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use connections::{Connections, Phase};
use dispatch::{Conn, Dispatch, Shared};
use futures_util::future::BoxFuture;
use hyper_util::server::conn::auto;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use watchdog::Limits;

pub use shutdown::shutdown_signal;

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
    /// After the stop signal, how long to keep serving — and accepting — with `/readyz`
    /// answering 503, `Connection: close` on every HTTP/1.1 response and GOAWAY on HTTP/2
    /// connections, so that load balancers see the instance leave and clients move to new
    /// connections before the listener closes (default 0 s; behind a load balancer that
    /// polls readiness, set it to a little more than its polling interval, e.g. 5 s).
    /// `SVCC_SHUTDOWN_DELAY`.
    pub shutdown_delay: Duration,
    /// How long the drain may take once the listener is closed (default 15 s, well inside
    /// Kubernetes' 30 s grace period): requests still running then, and connections that
    /// trickle a request or do not read their response, are closed, and the log says how
    /// many. `SVCC_SHUTDOWN_TIMEOUT`.
    pub shutdown_timeout: Duration,
    /// Most client connections open at once (default: the open-file limit less a tenth of
    /// it, at least 64, kept for everything else; at most 10,000). One more is closed as
    /// soon as it is accepted and counted (`svcc_server_connections_rejected_total`); near
    /// the cap, connections with no request in progress are closed early. The gRPC-only
    /// address shares it; `/metrics` on an address of its own does not count.
    /// `SVCC_MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// Check every result against the contract's constraints before sending it (default: on
    /// in debug builds, so in tests; off in release builds). A result that breaks them is
    /// logged with its violations and answered as an internal error: a contract is a promise
    /// in both directions. `SVCC_VALIDATE_RESULTS=true|false`.
    pub validate_results: bool,
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

impl ServerConfig {
    /// The defaults, changed by the environment: `SVCC_SHUTDOWN_DELAY`,
    /// `SVCC_SHUTDOWN_TIMEOUT` (`5s`, `500ms`, `2m`, or seconds), `SVCC_MAX_CONNECTIONS`,
    /// `SVCC_VALIDATE_RESULTS` (`true`/`false`), `SVCC_LOG_LEVEL_HEADER` (a header name),
    /// the metrics' variables ([`MetricsConfig::from_env`]) and `SVCC_GRPC_BIND`. A value
    /// that does not parse is an error naming its variable.
    pub fn from_env() -> Result<ServerConfig, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut c = ServerConfig {
            metrics: MetricsConfig::from_env()?,
            ..ServerConfig::default()
        };
        if let Some(v) = var("SVCC_SHUTDOWN_DELAY") {
            c.shutdown_delay = parse_duration(&v)
                .ok_or_else(|| format!("SVCC_SHUTDOWN_DELAY=`{v}` is not a duration (`5s`)"))?;
        }
        if let Some(v) = var("SVCC_SHUTDOWN_TIMEOUT") {
            c.shutdown_timeout = parse_duration(&v)
                .ok_or_else(|| format!("SVCC_SHUTDOWN_TIMEOUT=`{v}` is not a duration (`15s`)"))?;
        }
        if let Some(v) = var("SVCC_MAX_CONNECTIONS") {
            c.max_connections =
                v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("SVCC_MAX_CONNECTIONS=`{v}` is not a positive number")
                })?;
        }
        if let Some(v) = var("SVCC_VALIDATE_RESULTS") {
            c.validate_results = match v.as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(format!("SVCC_VALIDATE_RESULTS=`{v}` is not true or false")),
            };
        }
        if let Some(v) = var("SVCC_LOG_LEVEL_HEADER") {
            c.log_level_header = Some(
                HeaderName::try_from(v.as_str())
                    .map_err(|_| format!("SVCC_LOG_LEVEL_HEADER=`{v}` is not a header name"))?,
            );
        }
        #[cfg(feature = "grpc")]
        let c = c.grpc_bind_from_env()?;
        Ok(c)
    }
}

/// `5s`, `500ms`, `2m`, `1.5s` or a number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
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
            shutdown_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(15),
            max_connections: connections::default_max(),
            validate_results: cfg!(debug_assertions),
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
        let connections = Arc::new(Connections::new(cfg.max_connections));
        let metrics = layers::metrics::Metrics::new(&cfg.metrics, connections.clone());
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
                let layered = layers::for_method(
                    m.info,
                    m.service.clone(),
                    m.direct.as_ref(),
                    m.typed.as_ref(),
                    &layer_shared,
                );
                let mut service = layered.service;
                for l in &self.layers {
                    service = l.layer(m.info, service);
                }
                methods.push(MethodEntry {
                    info: m.info,
                    service,
                    // A method the user's layers wrap goes through its tower stack; the others
                    // are called as a handler (the bare one, or the built-in layers around it).
                    direct: if self.layers.is_empty() {
                        layered.direct
                    } else {
                        None
                    },
                    // Used up: `direct` holds the layers around it.
                    typed: None,
                    decode: m.decode,
                    keep_text: layers::shows_params(m.info),
                    validate_result: cfg.validate_results,
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
        let rpc_prefix = routes
            .fast
            .values()
            .any(transport::FastPath::is_jsonrpc)
            .then(|| {
                #[cfg(feature = "jsonrpc")]
                let p = cfg.rpc_prefix.trim_end_matches('/').to_string();
                #[cfg(not(feature = "jsonrpc"))]
                let p = String::new();
                p
            });
        let (p404, p405) = (rpc_prefix.clone(), rpc_prefix.clone());
        let router = health::routes(router, self.ready.clone())
            // No such route, in the shape of the transport the request was meant for.
            .fallback(move |req: axum::extract::Request| async move {
                refusal::Shape::of(p404.as_deref(), req.headers(), req.uri().path()).not_found()
            })
            // A known path, another HTTP method: the transport's error shape (axum adds `Allow`).
            .method_not_allowed_fallback(move |req: axum::extract::Request| async move {
                refusal::Shape::of(p405.as_deref(), req.headers(), req.uri().path()).answer(
                    &Error {
                        http_status: Some(405),
                        ..Error::new(
                            Code::Unimplemented,
                            "this path does not answer this HTTP method (see `Allow`)",
                        )
                    },
                )
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
            connections,
            rpc_prefix,
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

    /// Serves on `listener` until SIGTERM or SIGINT, then stops gracefully; a second signal
    /// during the stop makes it immediate.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.run(listener, shutdown::Stops::os()).await
    }

    /// Serves until `signal` completes, then stops gracefully: readiness 503 for the
    /// pre-stop delay, stop accepting, drain in-flight requests (closing what is left after
    /// the shutdown timeout), then run the shutdown hooks in order, each bounded by
    /// `hook_timeout`.
    /// `signal` is the only stop request: SIGTERM and SIGINT are left to the caller, and
    /// there is no second signal to cut the stop short ([`Server::serve`] has both).
    pub async fn serve_until(
        self,
        listener: tokio::net::TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.run(listener, shutdown::Stops::once(signal)).await
    }

    async fn run(
        mut self,
        listener: tokio::net::TcpListener,
        mut stops: shutdown::Stops,
    ) -> std::io::Result<()> {
        let (shared, metrics) = self.shared()?;
        let shared = Arc::new(shared);
        let conns = shared.connections.clone();
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
        let listeners = Listeners {
            main: listener,
            grpc: grpc_listener,
            shared: shared.clone(),
        };
        let signal = tokio::select! {
            biased;
            name = stops.next() => name,
            never = listeners.serve() => match never {},
        };
        // Leaving: not ready, clients told to move, still serving and accepting.
        self.ready.store(false, Ordering::SeqCst);
        conns.enter(Phase::Leaving);
        let delay = self.config.shutdown_delay;
        tracing::info!(
            signal,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            timeout_ms =
                u64::try_from(self.config.shutdown_timeout.as_millis()).unwrap_or(u64::MAX),
            "shutting down: readiness is 503; draining after the pre-stop delay"
        );
        let mut at_once = None;
        if !delay.is_zero() {
            tokio::select! {
                biased;
                name = stops.next() => at_once = Some(name),
                () = tokio::time::sleep(delay) => {}
                never = listeners.serve() => match never {},
            }
        }
        // Draining: the listeners close; connections finish what they started.
        drop(listeners);
        if at_once.is_none() {
            conns.enter(Phase::Draining);
            tracing::info!(
                connections = conns.open(),
                "draining: the listener is closed"
            );
            tokio::select! {
                biased;
                name = stops.next() => at_once = Some(name),
                () = conns.all_closed() => {}
                () = tokio::time::sleep(self.config.shutdown_timeout) => {
                    tracing::warn!(
                        timeout_ms = u64::try_from(self.config.shutdown_timeout.as_millis())
                            .unwrap_or(u64::MAX),
                        "the drain ran out of time"
                    );
                }
            }
        }
        if let Some(name) = at_once {
            tracing::warn!(
                signal = name,
                "a second stop signal: stopping at once, without the drain or the shutdown hooks"
            );
        }
        if conns.open() > 0 {
            conns.enter(Phase::Cut);
            // Each connection's task closes it on the phase change.
            let _ = tokio::time::timeout(Duration::from_secs(1), conns.all_closed()).await;
            let (connections, requests) = conns.cut();
            tracing::warn!(
                connections,
                requests,
                "closed connections still open at the end of the stop; requests in progress on them were cut"
            );
        }
        if at_once.is_none() {
            for (name, hook) in self.hooks.drain(..) {
                tokio::select! {
                    biased;
                    name = stops.next() => {
                        tracing::warn!(signal = name, "a second stop signal: the remaining shutdown hooks are skipped");
                        break;
                    }
                    r = tokio::time::timeout(self.config.hook_timeout, hook()) => {
                        if r.is_err() {
                            tracing::warn!(hook = %name, "shutdown hook timed out");
                        }
                    }
                }
            }
        }
        if let Some(m) = metrics_server {
            m.abort();
        }
        if at_once.is_none() {
            // Spans and log records still queued go to the collector (bounded like a hook).
            let timeout = self.config.hook_timeout;
            let _ = tokio::task::spawn_blocking(move || crate::telemetry::flush(timeout)).await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The listeners: the server's own address, and gRPC's when it has one.
struct Listeners {
    main: tokio::net::TcpListener,
    grpc: Option<tokio::net::TcpListener>,
    shared: Arc<Shared>,
}

impl Listeners {
    /// Accepts connections and spawns their tasks; never completes (accept errors are
    /// retried after a pause that grows while they last).
    async fn serve(&self) -> std::convert::Infallible {
        let mut failing = AcceptBackoff::default();
        loop {
            let grpc_accept = async {
                match &self.grpc {
                    Some(l) => l.accept().await,
                    None => std::future::pending().await,
                }
            };
            let (accepted, grpc_only) = tokio::select! {
                accepted = self.main.accept() => (accepted, false),
                accepted = grpc_accept => (accepted, true),
            };
            let (stream, peer) = match accepted {
                Ok(a) => {
                    failing.succeeded();
                    a
                }
                Err(e) => {
                    failing.failed(&e).await;
                    continue;
                }
            };
            // Over the cap: closed before a byte is read, and counted.
            let Some(slot) = self.shared.connections.admit() else {
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let conn = Arc::new(Conn {
                shared: self.shared.clone(),
                peer: Some(peer),
                clock: Arc::default(),
                grpc_only,
                h2: AtomicBool::new(false),
            });
            tokio::spawn(serve_connection(stream, conn, slot));
        }
    }
}

/// One connection, HTTP/1 or HTTP/2: served until it ends, is idle too long, or the server
/// stops — told to move on when the server is leaving, drained, then cut.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    conn: Arc<Conn>,
    _slot: connections::Slot,
) {
    let limits = conn.shared.limits;
    let conns = conn.shared.connections.clone();
    let clock = conn.clock.clone();
    let streams = streams::Streams::default();
    let builder = auto::Builder::new(streams.clone());
    let (socket, flusher) = coalesce::coalesced(stream);
    let mut driver = streams::Driver::new(streams, flusher);
    let io = hyper_util::rt::TokioIo::new(socket);
    let mut connection =
        std::pin::pin!(builder.serve_connection_with_upgrades(io, Dispatch::new(conn.clone())));
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + limits.tick, limits.tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut phase = conns.watch();
    // A connection accepted while the server is leaving acts on that at once.
    phase.mark_changed();
    let mut watching = true;
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            result = std::future::poll_fn(|cx| driver.poll(connection.as_mut(), cx)) => {
                if let Err(e) = result {
                    tracing::trace!(error = %e, "connection ended with an error");
                }
                break;
            }
            changed = phase.changed(), if watching => {
                if changed.is_err() {
                    watching = false;
                    continue;
                }
                let now = *phase.borrow_and_update();
                match now {
                    Phase::Serving => {}
                    // HTTP/1.1 connections hear it in their next response (`Connection:
                    // close`); HTTP/2 ones get GOAWAY and end after their streams.
                    Phase::Leaving => {
                        if !stopping && conn.h2.load(Ordering::Relaxed) {
                            stopping = true;
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                    Phase::Draining => {
                        if !stopping {
                            stopping = true;
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                    Phase::Cut => {
                        conns.record_cut(clock.busy() as usize);
                        break;
                    }
                }
            }
            _ = ticks.tick() => {
                // Near the cap, a connection with nothing in progress goes after one tick.
                let idle = if conns.crowded() { 1 } else { limits.idle };
                if clock.tick(idle) {
                    tracing::debug!("closing a connection idle for longer than the idle timeout");
                    break;
                }
                // An HTTP/2 connection whose first request came while leaving.
                if !stopping && conns.phase() == Phase::Leaving && conn.h2.load(Ordering::Relaxed) {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
    // The connection closes here; then its slot (a parameter) is freed.
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

/// Accept errors: per-connection ones are skipped; others (out of file descriptors) pause
/// accepting — 5 ms, doubling to 1 s while they last, as Go's `net/http` does — and are logged
/// once per run of failures, not once per retry.
#[derive(Debug, Default)]
struct AcceptBackoff {
    pause: Option<Duration>,
    failures: u64,
}

impl AcceptBackoff {
    async fn failed(&mut self, e: &std::io::Error) {
        use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
        if matches!(
            e.kind(),
            ConnectionAborted | ConnectionRefused | ConnectionReset
        ) {
            return;
        }
        self.failures += 1;
        let pause = match self.pause {
            None => {
                tracing::error!(error = %e, "accept failed; pausing accepts until it succeeds again");
                Duration::from_millis(5)
            }
            Some(p) => (p * 2).min(Duration::from_secs(1)),
        };
        self.pause = Some(pause);
        tokio::time::sleep(pause).await;
    }

    fn succeeded(&mut self) {
        if self.pause.take().is_some() {
            tracing::warn!(
                failures = self.failures,
                "accepting again after failed accepts"
            );
        }
        self.failures = 0;
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

/// An error as an HTTP response: its status and the REST error body `{code, message, data}`.
pub fn error_response(e: &Error) -> Response {
    refusal::rest(e)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_operators_write_them() {
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in ["", "s", "5h", "-1s", "five"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
