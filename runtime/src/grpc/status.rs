//! Errors as gRPC statuses and back. The status code is the kind's (`svcc-rules`' table); the
//! details (`grpc-status-details-bin`, a `google.rpc.Status`) carry:
//!
//! - `google.rpc.ErrorInfo`: `reason` = the string code (`USER_NOT_FOUND`), `domain` = `svcc`,
//!   `metadata` = the payload's top-level fields (text as is, other values as JSON);
//! - `google.rpc.BadRequest`: the violations of a request that broke the contract's
//!   constraints (`field` = path, `description` = message, `reason` = rule);
//! - the declared error's own message (`type.googleapis.com/messenger.user.v1.UserNotFound`),
//!   so a typed client decodes the payload exactly.
//!
//! An error's HTTP headers (`WWW-Authenticate`, `Retry-After`) travel as trailing metadata.

use super::{Descriptor, transcode};
use crate::error::{Code, Error, Violation};
use prost::Message as _;
use serde_json::{Map, Value};
use tonic_types::pb;

const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST: &str = "type.googleapis.com/google.rpc.BadRequest";
const DOMAIN: &str = "svcc";

fn grpc_code(kind: Code) -> tonic::Code {
    tonic::Code::from_i32(i32::from(kind.grpc()))
}

/// The status an error answers with.
pub fn to_status(e: &Error, descriptor: Option<&Descriptor>) -> tonic::Status {
    let code = grpc_code(e.kind);
    let mut details = Vec::new();
    let mut metadata = std::collections::HashMap::new();
    let mut violations: Vec<Violation> = Vec::new();
    if let Some(Value::Object(m)) = &e.data {
        for (k, v) in m {
            if k == "violations" && !e.declared {
                violations = serde_json::from_value(v.clone()).unwrap_or_default();
                continue;
            }
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            metadata.insert(k.clone(), text);
        }
    }
    details.push(prost_types::Any {
        type_url: ERROR_INFO.to_string(),
        value: pb::ErrorInfo {
            reason: e.code.clone(),
            domain: DOMAIN.to_string(),
            metadata,
        }
        .encode_to_vec(),
    });
    if !violations.is_empty() {
        details.push(prost_types::Any {
            type_url: BAD_REQUEST.to_string(),
            value: pb::BadRequest {
                field_violations: violations
                    .into_iter()
                    .map(|v| pb::bad_request::FieldViolation {
                        field: v.path,
                        description: v.message,
                        reason: v.rule,
                        localized_message: None,
                    })
                    .collect(),
            }
            .encode_to_vec(),
        });
    }
    if e.declared
        && let (Some(d), Some(data)) = (descriptor, &e.data)
        && let Some(message) = d.error_message(&e.code)
        && let Ok(schema) = d.schema()
        && let Ok(bytes) = transcode::from_json(schema, message, data)
    {
        details.push(prost_types::Any {
            type_url: format!("type.googleapis.com/{message}"),
            value: bytes,
        });
    }
    let status = pb::Status {
        code: code as i32,
        message: e.message.clone(),
        details,
    };
    let mut trailers = tonic::metadata::MetadataMap::new();
    for (name, value) in &e.headers {
        if let Ok(key) = tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes())
            && let Ok(v) = tonic::metadata::MetadataValue::try_from(value.as_bytes())
        {
            trailers.append(key, v);
        }
    }
    tonic::Status::with_details_and_metadata(
        code,
        e.message.clone(),
        status.encode_to_vec().into(),
        trailers,
    )
}

/// The error a status stands for (a client reads it).
pub fn from_status(s: &tonic::Status, descriptor: Option<&Descriptor>) -> Error {
    let kind = u16::try_from(s.code() as i32).map_or(Code::Unknown, Code::from_grpc);
    let mut e = Error::new(kind, s.message());
    let Ok(status) = pb::Status::decode(s.details()) else {
        return e;
    };
    let mut data: Option<Value> = None;
    let mut info_metadata = Map::new();
    for any in &status.details {
        match any.type_url.as_str() {
            ERROR_INFO => {
                if let Ok(info) = pb::ErrorInfo::decode(any.value.as_slice()) {
                    if !info.reason.is_empty() {
                        e.code = info.reason;
                    }
                    for (k, v) in info.metadata {
                        let value = serde_json::from_str(&v).unwrap_or(Value::String(v));
                        info_metadata.insert(k, value);
                    }
                }
            }
            BAD_REQUEST => {
                if let Ok(bad) = pb::BadRequest::decode(any.value.as_slice()) {
                    let violations: Vec<Violation> = bad
                        .field_violations
                        .into_iter()
                        .map(|v| Violation {
                            path: v.field,
                            rule: v.reason,
                            message: v.description,
                        })
                        .collect();
                    data = Some(serde_json::json!({ "violations": violations }));
                }
            }
            url => {
                let message = url.rsplit('/').next().unwrap_or(url);
                if let Some(d) = descriptor
                    && d.errors.iter().any(|(_, m)| *m == message)
                    && let Ok(schema) = d.schema()
                    && let Ok(v) = transcode::to_json(schema, message, &any.value)
                {
                    data = Some(v);
                    e.declared = true;
                }
            }
        }
    }
    if data.is_none() && !info_metadata.is_empty() {
        data = Some(Value::Object(info_metadata));
    }
    if descriptor.is_some_and(|d| d.error_message(&e.code).is_some()) {
        e.declared = true;
    }
    e.data = data;
    e
}
