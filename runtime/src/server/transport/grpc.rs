//! gRPC: each rpc of a service under `@grpc` is a route, `POST /{package.Service}/{Rpc}`, on
//! the same port as HTTP (gRPC is HTTP/2; the connections already speak both). An uncompressed
//! unary request is framed here on the connection's fast path; a compressed one (or any, when
//! the server has HTTP layers) goes through tonic's server, which decompresses, negotiates
//! compression and writes the status. Either way the request message is transcoded
//! into the same JSON parameters REST and JSON-RPC carry (header and cookie parameters from
//! metadata), so the same generated handler, validation and layers run; the result is
//! transcoded back. `grpc-timeout` becomes the context's deadline; the request's metadata is
//! the context's headers; `@header` results are response metadata. Beside the services: the
//! standard health service (`grpc.health.v1.Health`, each service `SERVING`) and server
//! reflection (v1 and v1alpha), so `grpcurl` needs no `.proto` files.

use super::{FastPath, Routes, Setup, Transport};
use crate::context::Context;
use crate::error::Error;
use crate::grpc::{Descriptor, GrpcService, RawCodec, Rpc, status, transcode};
use crate::method::{Call, MethodEntry, Params, invoke};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::sync::Arc;

/// The gRPC transport.
pub(crate) struct Grpc;

impl Transport for Grpc {
    fn install(&self, setup: &Setup<'_>, routes: &mut Routes) {
        let mut methods = setup.methods.iter();
        let mut served: Vec<&'static GrpcService> = Vec::new();
        let mut router = std::mem::take(&mut routes.router);
        for svc in setup.services {
            // `setup.methods` holds each service's methods, layered, in the same order.
            let layered: Vec<&MethodEntry> = methods.by_ref().take(svc.methods.len()).collect();
            let Some(grpc) = svc.grpc else { continue };
            served.push(grpc);
            for entry in layered {
                let Some(rpc) = grpc.rpc(entry.info.name) else {
                    continue;
                };
                let state = Arc::new(Method {
                    entry: entry.clone(),
                    rpc,
                    descriptor: grpc.descriptor,
                    limit: setup.config.body_limit,
                });
                let path = format!("/{}/{}", grpc.name, rpc.name);
                routes
                    .fast
                    .insert(path.clone(), FastPath::Grpc(FastRpc(state.clone())));
                router = router.route(
                    &path,
                    axum::routing::post(move |req: axum::extract::Request| {
                        let state = state.clone();
                        async move { state.handle(req).await }
                    }),
                );
            }
        }
        if !served.is_empty() {
            router = standard_services(router, &served);
        }
        routes.router = router;
    }
}

/// One rpc with what it needs to run.
struct Method {
    entry: MethodEntry,
    rpc: &'static Rpc,
    descriptor: &'static Descriptor,
    limit: usize,
}

impl Method {
    async fn handle(self: Arc<Self>, req: axum::extract::Request) -> Response {
        if !is_grpc(req.headers()) {
            return crate::server::error_response(&Error {
                http_status: Some(415),
                ..Error::invalid_argument(
                    "this path serves gRPC: send `content-type: application/grpc`",
                )
            });
        }
        let (parts, body) = req.into_parts();
        let ctx = super::context(parts.clone());
        let request = http::Request::from_parts(parts, body);
        let mut grpc = tonic::server::Grpc::new(RawCodec)
            .max_decoding_message_size(self.limit)
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .send_compressed(tonic::codec::CompressionEncoding::Gzip);
        let unary = Unary {
            method: self.clone(),
            ctx: Some(ctx),
        };
        grpc.unary(unary, request).await.into_response()
    }

    /// Runs one call: the message in, the message out. `grpc-timeout` sets the deadline.
    async fn call(
        &self,
        mut ctx: Context,
        message: &[u8],
    ) -> Result<(Bytes, http::HeaderMap), Error> {
        if let Some(left) = ctx
            .header("grpc-timeout")
            .and_then(crate::grpc::parse_timeout)
        {
            ctx.deadline = Some(std::time::Instant::now() + left);
        }
        let schema = self.descriptor.schema()?;
        let mut params = transcode::to_json(schema, self.rpc.request, message)
            .map_err(|m| Error::invalid_argument(format!("the request message: {m}")))?;
        if let Value::Object(map) = &mut params {
            super::header_and_cookie_params(self.entry.info.params, &ctx, map)?;
        }
        let call = Call {
            ctx,
            info: self.entry.info,
            params: Params::Value(params),
            transport: "grpc",
            validate_result: self.entry.validate_result,
        };
        let out = invoke(&self.entry, call).await?;
        // The result's JSON text straight into the response message.
        let bytes = match (&out.body, self.rpc.wraps_value) {
            (None, _) => Ok(Vec::new()),
            (Some(text), false) => transcode::from_json_text(schema, self.rpc.response, text),
            (Some(text), true) => {
                transcode::from_json_text_as_value(schema, self.rpc.response, text)
            }
        }
        .map_err(|m| Error::internal(format!("cannot encode the result: {m}")))?;
        let mut headers = http::HeaderMap::new();
        for (k, v) in out.headers {
            headers.append(k, v);
        }
        Ok((Bytes::from(bytes), headers))
    }
}

/// The connection's fast path for one rpc: an uncompressed unary request, read whole by the
/// connection service, framed here without the router or tonic's streams (compressed requests,
/// and every request when the server has HTTP layers, take the routed path through tonic).
pub(crate) struct FastRpc(Arc<Method>);

impl FastRpc {
    /// gRPC without message compression.
    pub(crate) fn accepts(headers: &http::HeaderMap) -> bool {
        let plain = headers
            .get("grpc-encoding")
            .is_none_or(|v| v.as_bytes() == b"identity");
        is_grpc(headers) && plain
    }

    pub(crate) async fn handle(&self, ctx: Context, body: Bytes) -> Response {
        let method = &self.0;
        // One message: a flag byte (0: not compressed), a big-endian length, the bytes.
        let message = match body.as_ref() {
            // As tonic answers a message announced larger than the limit.
            [_, a, b, c, d, ..] if u32::from_be_bytes([*a, *b, *c, *d]) as usize > method.limit => {
                return grpc_error(
                    &Error::new(
                        crate::error::Code::OutOfRange,
                        format!(
                            "the message is larger than the limit of {} bytes",
                            method.limit
                        ),
                    ),
                    None,
                );
            }
            [0, a, b, c, d, rest @ ..]
                if u32::from_be_bytes([*a, *b, *c, *d]) as usize == rest.len() =>
            {
                body.slice(5..)
            }
            [1, ..] => {
                return grpc_error(
                    &Error::new(
                        crate::error::Code::Unimplemented,
                        "a compressed message without `grpc-encoding`",
                    ),
                    None,
                );
            }
            _ => {
                return grpc_error(
                    &Error::invalid_argument("the request is not one length-prefixed gRPC message"),
                    None,
                );
            }
        };
        match method.call(ctx, &message).await {
            Ok((bytes, headers)) => grpc_ok(&bytes, headers),
            Err(e) => grpc_error(&e, Some(method.descriptor)),
        }
    }
}

/// Whether a request is gRPC (`application/grpc`, `application/grpc+proto` …).
pub(crate) fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// A unary answer: the headers, one framed message, `grpc-status: 0` in the trailers.
fn grpc_ok(message: &[u8], headers: http::HeaderMap) -> Response {
    use http_body_util::StreamBody;
    let mut framed = Vec::with_capacity(message.len() + 5);
    framed.push(0);
    framed.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    framed.extend_from_slice(message);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let frames = futures_util::stream::iter([
        Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(Bytes::from(framed))),
        Ok(hyper::body::Frame::trailers(trailers)),
    ]);
    let mut response = Response::new(axum::body::Body::new(StreamBody::new(frames)));
    *response.headers_mut() = headers;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A trailers-only answer (tonic writes the status, message and details; with the descriptor,
/// a declared error's own message among them).
pub(crate) fn grpc_error(e: &Error, descriptor: Option<&'static Descriptor>) -> Response {
    status::to_status(e, descriptor)
        .into_http::<axum::body::Body>()
        .into_response()
}

/// tonic's view of one call.
struct Unary {
    method: Arc<Method>,
    ctx: Option<Context>,
}

impl tonic::server::UnaryService<Bytes> for Unary {
    type Response = Bytes;
    type Future = BoxFuture<'static, Result<tonic::Response<Bytes>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let method = self.method.clone();
        let ctx = self.ctx.take().unwrap_or_default();
        Box::pin(async move {
            let message = request.into_inner();
            match method.call(ctx, &message).await {
                Ok((bytes, headers)) => {
                    let mut response = tonic::Response::new(bytes);
                    *response.metadata_mut() = tonic::metadata::MetadataMap::from_headers(headers);
                    Ok(response)
                }
                Err(e) => Err(status::to_status(&e, Some(method.descriptor))),
            }
        })
    }
}

/// The health service and server reflection, for every descriptor served.
fn standard_services(router: axum::Router, served: &[&'static GrpcService]) -> axum::Router {
    use futures_util::FutureExt as _;
    let (reporter, health) = tonic_health::server::health_reporter();
    for svc in served {
        // Uncontended at start-up: completes at once.
        let _ = reporter
            .set_service_status(svc.name, tonic_health::ServingStatus::Serving)
            .now_or_never();
    }
    let _ = reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .now_or_never();
    // The health service's own description and `google.rpc`'s error details, so `grpcurl`
    // can call the one and show the other with no files.
    let standard = |b: tonic_reflection::server::Builder<'static>| {
        b.register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let mut v1 = standard(tonic_reflection::server::Builder::configure());
    let mut v1alpha = standard(tonic_reflection::server::Builder::configure());
    let mut seen: Vec<*const Descriptor> = Vec::new();
    for svc in served {
        if seen.contains(&std::ptr::from_ref(svc.descriptor)) {
            continue;
        }
        seen.push(std::ptr::from_ref(svc.descriptor));
        match svc.descriptor.file_descriptor_set() {
            Ok(bytes) => {
                v1 = v1.register_encoded_file_descriptor_set(bytes);
                v1alpha = v1alpha.register_encoded_file_descriptor_set(bytes);
            }
            Err(e) => tracing::error!(target: "svcc::server", "gRPC reflection: {e}"),
        }
    }
    let mut router = router.route_service("/grpc.health.v1.Health/{*rpc}", health);
    match (v1.build_v1(), v1alpha.build_v1alpha()) {
        (Ok(v1), Ok(v1alpha)) => {
            router = router
                .route_service("/grpc.reflection.v1.ServerReflection/{*rpc}", v1)
                .route_service("/grpc.reflection.v1alpha.ServerReflection/{*rpc}", v1alpha);
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(target: "svcc::server", "gRPC reflection is off: {e}");
        }
    }
    router
}
