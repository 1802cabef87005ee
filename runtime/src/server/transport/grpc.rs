//! gRPC: each rpc of a service under `@grpc` is a route, `POST /{package.Service}/{Rpc}`, on
//! the same port as HTTP (gRPC is HTTP/2; the connections already speak both). tonic frames the
//! messages, negotiates compression and writes the status; the request message is transcoded
//! into the same JSON parameters REST and JSON-RPC carry (header and cookie parameters from
//! metadata), so the same generated handler, validation and layers run; the result is
//! transcoded back. `grpc-timeout` becomes the context's deadline; the request's metadata is
//! the context's headers; `@header` results are response metadata. Beside the services: the
//! standard health service (`grpc.health.v1.Health`, each service `SERVING`) and server
//! reflection (v1 and v1alpha), so `grpcurl` needs no `.proto` files.

use super::{Routes, Setup, Transport};
use crate::context::Context;
use crate::error::Error;
use crate::grpc::{Descriptor, GrpcService, RawCodec, Rpc, status, transcode};
use crate::method::{Call, Location, MethodEntry, Params, invoke, text_to_json};
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
                router = router.route(
                    &format!("/{}/{}", grpc.name, rpc.name),
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
        let is_grpc = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc"));
        if !is_grpc {
            return crate::server::error_response(&Error {
                http_status: Some(415),
                ..Error::invalid_argument(
                    "this path serves gRPC: send `content-type: application/grpc`",
                )
            });
        }
        let (parts, body) = req.into_parts();
        let mut ctx = super::context(parts.clone());
        if let Some(left) = ctx
            .header("grpc-timeout")
            .and_then(crate::grpc::parse_timeout)
        {
            ctx.deadline = Some(std::time::Instant::now() + left);
        }
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

    /// Runs one call: the message in, the message out.
    async fn call(&self, ctx: Context, message: &[u8]) -> Result<(Bytes, http::HeaderMap), Error> {
        let schema = self.descriptor.schema()?;
        let mut params = transcode::to_json(schema, self.rpc.request, message)
            .map_err(|m| Error::invalid_argument(format!("the request message: {m}")))?;
        if let Value::Object(map) = &mut params {
            transport_params(self.entry.info.params, &ctx, map)?;
        }
        let call = Call {
            ctx,
            info: self.entry.info,
            params: Params::Value(params),
            transport: "grpc",
        };
        let out = invoke(&self.entry, call).await?;
        let result = match &out.body {
            Some(text) => serde_json::from_str::<Value>(text)
                .map_err(|e| Error::internal(format!("the result is not JSON: {e}")))?,
            None => Value::Object(serde_json::Map::new()),
        };
        let result = if self.rpc.wraps_value {
            serde_json::json!({ "value": result })
        } else {
            result
        };
        let bytes = transcode::from_json(schema, self.rpc.response, &result)
            .map_err(|m| Error::internal(format!("cannot encode the result: {m}")))?;
        let mut headers = http::HeaderMap::new();
        for (k, v) in out.headers {
            headers.append(k, v);
        }
        Ok((Bytes::from(bytes), headers))
    }
}

/// Header and cookie parameters, which protobuf messages leave to metadata.
fn transport_params(
    params: &[crate::method::ParamInfo],
    ctx: &Context,
    map: &mut serde_json::Map<String, Value>,
) -> Result<(), Error> {
    for p in params {
        let (what, text) = match &p.location {
            Location::Header(h) => ("metadata", ctx.header(h)),
            Location::Cookie(c) => ("cookie", ctx.cookie(c)),
            _ => continue,
        };
        if let Some(t) = text {
            let v = text_to_json(p.kind, t)
                .map_err(|m| Error::invalid_argument(format!("{what} `{}`: {m}", p.name)))?;
            map.insert(p.name.to_string(), v);
        }
    }
    Ok(())
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
