//! The gRPC client transport: the request is transcoded from the same JSON the other clients
//! send into the rpc's message (header and cookie parameters become metadata), sent over
//! tonic's HTTP/2 channel with the deadline as `grpc-timeout`, and the answer transcoded back
//! into the result's JSON; a status becomes the same [`Error`] the other clients give
//! (string code from `ErrorInfo`, the declared error's payload from its message in the
//! details, violations from `BadRequest`).

use super::{ClientConfig, ClientOutput, Core, is_request_specific, text_of};
use crate::context::Context;
use crate::error::{Code, Error};
use crate::grpc::{GrpcService, RawCodec, status, transcode};
use crate::method::{Location, MethodInfo};
use crate::telemetry::{Span, SpanKind};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// The gRPC transport (one HTTP/2 connection, opened on first use and shared by clones).
#[derive(Clone, Debug)]
pub struct GrpcClient {
    core: Core,
    channel: Result<tonic::transport::Channel, String>,
}

impl GrpcClient {
    /// A client of the server at `config.base_url` (`http://127.0.0.1:8080`).
    pub fn new(config: ClientConfig) -> GrpcClient {
        let channel = tonic::transport::Endpoint::from_shared(config.base_url.clone())
            .map(|e| e.connect_lazy())
            .map_err(|e| format!("`{}` is not a gRPC address: {e}", config.base_url));
        GrpcClient {
            core: Core::new(config),
            channel,
        }
    }

    /// Calls one method as `service`'s rpc, under its breaker, retries and fallback cache.
    pub async fn call(
        &self,
        info: &'static MethodInfo,
        service: &'static GrpcService,
        req: &impl serde::Serialize,
        ctx: &Context,
    ) -> Result<ClientOutput, Error> {
        self.core
            .resilient(info, req, ctx, |ctx| async move {
                self.call_once(info, service, req, &ctx).await
            })
            .await
    }

    async fn call_once(
        &self,
        info: &'static MethodInfo,
        service: &'static GrpcService,
        req: &impl serde::Serialize,
        ctx: &Context,
    ) -> Result<ClientOutput, Error> {
        let rpc = service.rpc(info.name).ok_or_else(|| {
            Error::new(
                Code::Unimplemented,
                format!("`{}.{}` is not served over gRPC", info.service, info.name),
            )
        })?;
        let channel = self
            .channel
            .clone()
            .map_err(|m| Error::new(Code::InvalidArgument, m))?;
        let schema = service.descriptor.schema()?;
        let Value::Object(mut body) = serde_json::to_value(req)
            .map_err(|e| Error::internal(format!("cannot encode the request: {e}")))?
        else {
            return Err(Error::internal("the request is not an object"));
        };
        let mut metadata = self.core.config.headers.clone();
        for (k, v) in &ctx.headers {
            if !is_request_specific(k) && !is_reserved(k) {
                metadata.insert(k.clone(), v.clone());
            }
        }
        let mut cookies = Vec::new();
        for p in info.params {
            let place = match &p.location {
                Location::Header(h) => Some(h),
                Location::Cookie(c) => {
                    if let Some(v) = body.remove(p.name).filter(|v| !v.is_null()) {
                        cookies.push(format!("{c}={}", text_of(&v)));
                    }
                    None
                }
                _ => None,
            };
            if let Some(h) = place
                && let Some(v) = body.remove(p.name).filter(|v| !v.is_null())
                && let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()),
                    HeaderValue::from_str(&text_of(&v)),
                )
            {
                metadata.insert(name, value);
            }
        }
        if !cookies.is_empty()
            && let Ok(v) = HeaderValue::from_str(&cookies.join("; "))
        {
            metadata.insert(http::header::COOKIE, v);
        }
        let message = transcode::from_json(schema, rpc.request, &Value::Object(body))
            .map_err(|m| Error::internal(format!("cannot encode the request: {m}")))?;
        let timeout = self.core.timeout(Some(info), ctx);
        if let Ok(v) = HeaderValue::from_str(&crate::grpc::format_timeout(timeout)) {
            metadata.insert("grpc-timeout", v);
        }
        // The trace continues through a client span when the method is under `@trace`.
        let parent = ctx.trace.clone().or_else(crate::telemetry::current);
        let mut span = info
            .policies
            .trace
            .then(|| client_span(service, rpc.name, parent.as_ref()));
        match (&span, &parent) {
            (Some(s), _) => s.context().inject(&mut metadata),
            (None, Some(p)) => p.inject(&mut metadata),
            (None, None) => {
                metadata.remove("traceparent");
                metadata.remove("tracestate");
            }
        }
        let mut request = tonic::Request::new(bytes::Bytes::from(message));
        *request.metadata_mut() = tonic::metadata::MetadataMap::from_headers(metadata);
        let path = http::uri::PathAndQuery::try_from(format!("/{}/{}", service.name, rpc.name))
            .map_err(|e| Error::internal(format!("bad rpc path: {e}")))?;
        let mut grpc = tonic::client::Grpc::new(channel)
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        let answer = async {
            grpc.ready()
                .await
                .map_err(|e| Error::unavailable(format!("cannot reach the server: {e}")))?;
            match tokio::time::timeout(timeout, grpc.unary(request, path, RawCodec)).await {
                Err(_) => Err(Error::new(Code::DeadlineExceeded, "the call timed out")),
                // tonic's channel enforces `grpc-timeout` itself and reports it as cancelled.
                Ok(Err(s))
                    if s.code() == tonic::Code::Cancelled && s.message() == "Timeout expired" =>
                {
                    Err(Error::new(Code::DeadlineExceeded, "the call timed out"))
                }
                Ok(Err(s)) => Err(status::from_status(&s, Some(service.descriptor))),
                Ok(Ok(r)) => Ok(r),
            }
        }
        .await;
        if let Some(span) = &mut span {
            let code = match &answer {
                Ok(_) => 0,
                Err(e) => i64::from(e.kind.grpc()),
            };
            span.set_attribute("rpc.grpc.status_code", code);
            if let Err(e) = &answer {
                span.set_str("error.type", &e.code);
                span.set_error(e.message.clone());
            }
        }
        let response = answer?;
        let headers: HeaderMap = response.metadata().clone().into_headers();
        let bytes = response.into_inner();
        let mut result = transcode::to_json(schema, rpc.response, &bytes)
            .map_err(|m| Error::internal(format!("the response message: {m}")))?;
        if rpc.wraps_value {
            result = match result {
                Value::Object(mut m) => m.remove("value").unwrap_or(Value::Null),
                _ => Value::Null,
            };
        }
        Ok(ClientOutput {
            result,
            headers,
            results: info.results,
        })
    }
}

/// Headers gRPC itself sets (or HTTP/2 forbids), which a context passed on must not carry.
fn is_reserved(name: &HeaderName) -> bool {
    let n = name.as_str();
    n.starts_with("grpc-") || n == "te" || n == "user-agent" || n == "content-type"
}

fn client_span(
    service: &GrpcService,
    rpc: &str,
    parent: Option<&crate::telemetry::SpanContext>,
) -> Span {
    let mut span = Span::start(&format!("{}/{rpc}", service.name), SpanKind::Client, parent);
    if span.is_recording() {
        span.set_str("rpc.system", "grpc");
        span.set_str("rpc.service", service.name);
        span.set_str("rpc.method", rpc);
    }
    span
}
