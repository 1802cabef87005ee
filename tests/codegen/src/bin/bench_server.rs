//! The two servers of the JSON-RPC benchmark (`scripts/bench-jsonrpc`):
//!
//! - `generated`: the generated `Spec` server (runtime stack: request id, body limit, method
//!   table, validation, typed decode/encode);
//! - `handwritten`: a minimal axum handler doing the same JSON work by hand: parse the
//!   envelope, decode the params into a struct, add, encode the reply.
//!
//! - `observed`: the generated server of the same method under `@log @metrics` (one JSON log
//!   line per call, metrics recorded; `scripts/bench-observability`).
//!
//! - `grpc`: the generated `wire.v1.Echo` server, whose `Say` rpc `scripts/bench-grpc` calls
//!   over gRPC beside grpc-go (`tests/bench-peers/grpc-go`).
//!
//! Usage: `bench_server generated|handwritten|observed|grpc ADDR` (one worker thread, so pinning it
//! to one core measures one core's work).

use std::process::ExitCode;
use svcc_runtime::axum::{Router, routing::post};
use svcc_runtime::tokio;

#[derive(svcc_runtime::serde::Deserialize)]
#[serde(crate = "svcc_runtime::serde")]
struct Params {
    a: i32,
    b: i32,
    c: i32,
}

#[derive(svcc_runtime::serde::Deserialize)]
#[serde(crate = "svcc_runtime::serde")]
struct Request<'a> {
    #[allow(dead_code)] // checked by deserializing; the value is not needed
    jsonrpc: &'a str,
    #[allow(dead_code)]
    method: &'a str,
    params: Params,
    #[serde(borrow)]
    id: &'a svcc_runtime::serde_json::value::RawValue,
}

async fn handwritten(
    body: svcc_runtime::axum::body::Bytes,
) -> ([(&'static str, &'static str); 1], String) {
    let reply = match svcc_runtime::serde_json::from_slice::<Request<'_>>(&body) {
        Ok(r) => {
            let sum = r.params.a.wrapping_add(r.params.b).wrapping_add(r.params.c);
            format!(
                "{{\"jsonrpc\":\"2.0\",\"result\":{sum},\"id\":{}}}",
                r.id.get()
            )
        }
        Err(_) => r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error"},"id":null}"#
            .to_string(),
    };
    ([("content-type", "application/json")], reply)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(which), Some(addr)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: bench_server generated|handwritten|observed|grpc ADDR");
        return ExitCode::from(2);
    };
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    else {
        return ExitCode::from(2);
    };
    rt.block_on(async move {
        let Ok(listener) = tokio::net::TcpListener::bind(addr.as_str()).await else {
            eprintln!("cannot bind {addr}");
            return ExitCode::from(2);
        };
        let result = match which.as_str() {
            "generated" => {
                let server = svcc_runtime::Server::new().service(
                    svcc_codegen_tests::api::spec::v1::SpecServer::new(
                        svcc_codegen_tests::SpecImpl::default(),
                    )
                    .into_service(),
                );
                server.serve(listener).await
            }
            // The same method under `@log @metrics @trace`, logging JSON lines to stdout and
            // exporting spans wherever `OTEL_EXPORTER_OTLP_ENDPOINT` points.
            "observed" => {
                let logging = svcc_runtime::logging::init_with(svcc_runtime::logging::Format::Json);
                let server = svcc_runtime::Server::new().service(
                    svcc_codegen_tests::api::observed::v1::ObservedServer::new(
                        svcc_codegen_tests::ObservedImpl,
                    )
                    .into_service(),
                );
                let served = server.serve(listener).await;
                drop(logging);
                served
            }
            "grpc" => {
                let server = svcc_runtime::Server::new().service(
                    svcc_codegen_tests::api::wire::v1::EchoServer::new(
                        svcc_codegen_tests::EchoImpl,
                    )
                    .into_service(),
                );
                server.serve(listener).await
            }
            "handwritten" => {
                let app = Router::new().route("/rpc", post(handwritten));
                svcc_runtime::axum::serve(listener, app).await
            }
            _ => {
                eprintln!("unknown server `{which}`");
                return ExitCode::from(2);
            }
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
        }
    })
}
