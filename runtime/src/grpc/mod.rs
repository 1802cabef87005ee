//! gRPC (feature `grpc`), shared by the server transport (`server/transport/grpc.rs`) and the
//! client (`client/grpc.rs`):
//!
//! - [`Descriptor`]: a contract's protobuf description as generated code hands it over — the
//!   descriptor set (built by svcc with protox from the `.proto` files `--target proto`
//!   writes), svcc's names of enum values, the optional lists and maps, the declared errors;
//!   read once into a [`Schema`];
//! - [`transcode`]: protobuf ↔ svcc's JSON, so a gRPC call runs the same generated handler,
//!   validation and layers as JSON-RPC and REST, and a gRPC client decodes into the same types;
//! - [`status`]: errors ↔ `grpc-status` with `google.rpc.Status` details (`ErrorInfo` with the
//!   string code, `BadRequest` with the violations, the declared error's own message);
//! - [`RawCodec`]: tonic's framing, compression and status handling around our bytes.

mod schema;
pub mod status;
pub mod transcode;

pub use schema::{EnumNames, Schema};

use bytes::{Buf as _, BufMut as _, Bytes};
use std::sync::OnceLock;

/// A contract's protobuf description (one per generated crate, in `svc.rs`).
pub struct Descriptor {
    /// The encoded `FileDescriptorSet` (the contract's files and those they import), in
    /// base64: compact text in generated code.
    pub encoded: &'static str,
    /// svcc's names of each enum's values.
    pub enums: &'static [EnumNames],
    /// Fields (`package.Message.field`) that are optional lists or maps of the contract.
    pub omit_empty: &'static [&'static str],
    /// Declared errors: string code → their message's full name.
    pub errors: &'static [(&'static str, &'static str)],
    loaded: OnceLock<Result<Loaded, String>>,
}

#[derive(Debug)]
struct Loaded {
    bytes: Vec<u8>,
    schema: Schema,
}

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Descriptor")
            .field("bytes", &self.encoded.len())
            .finish_non_exhaustive()
    }
}

impl Descriptor {
    pub const fn new(
        encoded: &'static str,
        enums: &'static [EnumNames],
        omit_empty: &'static [&'static str],
        errors: &'static [(&'static str, &'static str)],
    ) -> Descriptor {
        Descriptor {
            encoded,
            enums,
            omit_empty,
            errors,
            loaded: OnceLock::new(),
        }
    }

    fn loaded(&self) -> Result<&Loaded, crate::Error> {
        self.loaded
            .get_or_init(|| {
                use base64::Engine as _;
                let text: String = self.encoded.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| format!("the descriptor set is not base64: {e}"))?;
                let schema = Schema::from_descriptor(&bytes, self.enums, self.omit_empty)?;
                Ok(Loaded { bytes, schema })
            })
            .as_ref()
            .map_err(|e| crate::Error::internal(e.clone()))
    }

    /// The encoded `FileDescriptorSet` (what server reflection serves).
    pub fn file_descriptor_set(&self) -> Result<&[u8], crate::Error> {
        self.loaded().map(|l| l.bytes.as_slice())
    }

    /// The tables the transcoder reads.
    pub fn schema(&self) -> Result<&Schema, crate::Error> {
        self.loaded().map(|l| &l.schema)
    }

    /// The message of a declared error, by its string code.
    pub fn error_message(&self, code: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, m)| *m)
    }
}

/// One service's gRPC binding, generated beside its other glue.
#[derive(Debug)]
pub struct GrpcService {
    /// `messenger.user.v1.UserService`.
    pub name: &'static str,
    pub descriptor: &'static Descriptor,
    pub methods: &'static [Rpc],
}

impl GrpcService {
    /// The rpc of the contract's method `method`.
    pub fn rpc(&self, method: &str) -> Option<&'static Rpc> {
        self.methods.iter().find(|r| r.method == method)
    }
}

/// One method as an rpc.
#[derive(Debug)]
pub struct Rpc {
    /// The contract's name (`create`).
    pub method: &'static str,
    /// The rpc's name (`Create`): the path is `/{service}/{name}`.
    pub name: &'static str,
    /// The request message's full name.
    pub request: &'static str,
    /// The response message's full name (`google.protobuf.Empty` for no result).
    pub response: &'static str,
    /// The response wraps a result that is not a record in a `value` field.
    pub wraps_value: bool,
}

/// Message bytes through tonic untouched: tonic frames, compresses and reports status; the
/// transcoder reads and writes the message.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// `grpc-timeout` (`100m`, `5S`, `1H`) as a duration.
pub fn parse_timeout(text: &str) -> Option<std::time::Duration> {
    use std::time::Duration;
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// A duration as `grpc-timeout` (at most eight digits, so the unit grows with it).
pub fn format_timeout(d: std::time::Duration) -> String {
    let nanos = d.as_nanos();
    for (unit, per) in [
        ("n", 1u128),
        ("u", 1_000),
        ("m", 1_000_000),
        ("S", 1_000_000_000),
        ("M", 60_000_000_000),
    ] {
        let n = nanos.div_ceil(per);
        if n < 100_000_000 {
            return format!("{n}{unit}");
        }
    }
    format!("{}H", nanos.div_ceil(3_600_000_000_000).min(99_999_999))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_and_write() {
        use std::time::Duration;
        assert_eq!(parse_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_timeout("123456789m"), None);
        assert_eq!(parse_timeout("m"), None);
        assert_eq!(parse_timeout(""), None);
        assert_eq!(parse_timeout("5x"), None);
        assert_eq!(format_timeout(Duration::from_millis(250)), "250000u");
        assert_eq!(format_timeout(Duration::from_secs(30)), "30000000u");
        assert_eq!(format_timeout(Duration::from_secs(3600)), "3600000m");
        for d in [1u64, 999, 1_000_000, 86_400_000] {
            let d = Duration::from_millis(d);
            assert!(parse_timeout(&format_timeout(d)).is_some_and(|p| p >= d));
        }
    }
}
