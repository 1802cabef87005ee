//! The protobuf shape of a contract, read once from its descriptor set: every message with its
//! fields (number, JSON name, kind, presence), every enum with svcc's names for its values.
//! The transcoder ([`super::transcode`]) walks these tables; nothing here is generated per type.

use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use std::collections::HashMap;

/// What a field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Double,
    Float,
    Int64,
    Uint64,
    Int32,
    Uint32,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
    /// An enum, by full name (`messenger.user.v1.Role`).
    Enum(String),
    /// A message, by full name.
    Message(String),
    /// `google.protobuf.Timestamp`: an RFC 3339 string in JSON.
    Timestamp,
    /// `google.protobuf.Duration`: `"1.5s"` in JSON.
    Duration,
    /// `google.protobuf.Value`: any JSON value.
    Value,
    /// `google.protobuf.Empty`: `{}`.
    Empty,
}

impl Kind {
    /// Whether repeated values of this kind are packed (proto3's default for numbers).
    pub(crate) fn packable(&self) -> bool {
        !matches!(
            self,
            Kind::String
                | Kind::Bytes
                | Kind::Message(_)
                | Kind::Timestamp
                | Kind::Duration
                | Kind::Value
                | Kind::Empty
        )
    }

    /// Whether the value is a message on the wire.
    pub(crate) fn is_message(&self) -> bool {
        matches!(
            self,
            Kind::Message(_) | Kind::Timestamp | Kind::Duration | Kind::Value | Kind::Empty
        )
    }
}

/// How many values a field holds, and whether absence is seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// proto3's implicit presence: absent reads as the zero value.
    Single,
    /// Explicit presence: `optional`, a `oneof` member, or a message.
    Optional,
    Repeated,
    /// `map<K, V>`: the key's kind (the value's is the field's).
    Map(Kind),
}

#[derive(Clone, Debug)]
pub(crate) struct FieldDef {
    pub number: u32,
    /// The name in JSON (the descriptor's `json_name`: svcc's wire name).
    pub json: String,
    /// The name in the `.proto` file (accepted in JSON too).
    pub name: String,
    pub kind: Kind,
    pub shape: Shape,
    /// An optional list or map of the contract: left out of JSON when empty (protobuf cannot
    /// tell an absent list from an empty one).
    pub omit_empty: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct MessageDef {
    pub fields: Vec<FieldDef>,
    /// A wrapper for a list or map inside a list or map (`…Item { items }`): in JSON it is
    /// its `items` value itself.
    pub wrapper: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct EnumDef {
    /// Number → svcc's name (`2` → `Member`).
    pub names: HashMap<i32, String>,
    /// svcc's name → number; the protobuf names (`ROLE_MEMBER`) are accepted too.
    pub numbers: HashMap<String, i32>,
}

/// The contract's messages and enums.
#[derive(Debug, Default)]
pub struct Schema {
    pub(crate) messages: HashMap<String, MessageDef>,
    pub(crate) enums: HashMap<String, EnumDef>,
}

/// svcc's names for one enum's values: `("messenger.user.v1.Role", &[(1, "Admin"), …])`.
pub type EnumNames = (&'static str, &'static [(i32, &'static str)]);

impl Schema {
    /// Reads an encoded `FileDescriptorSet`. `enums` gives svcc's names of enum values;
    /// `omit_empty` names the fields (`package.Message.field`) that are optional lists or maps.
    pub fn from_descriptor(
        descriptor: &[u8],
        enums: &[EnumNames],
        omit_empty: &[&str],
    ) -> Result<Schema, String> {
        let set = FileDescriptorSet::decode(descriptor)
            .map_err(|e| format!("the descriptor set does not decode: {e}"))?;
        let mut schema = Schema::default();
        let mut entries: HashMap<String, (Kind, Kind)> = HashMap::new();
        // Map entries first: a field of an entry type is a map.
        for file in &set.file {
            let package = file.package();
            for m in &file.message_type {
                collect_entries(&join(package, m.name()), m, &mut entries);
            }
        }
        for file in &set.file {
            let package = file.package();
            for m in &file.message_type {
                add_message(
                    &mut schema,
                    &join(package, m.name()),
                    m,
                    false,
                    &entries,
                    omit_empty,
                );
            }
            for e in &file.enum_type {
                let full = join(package, e.name());
                let mut def = EnumDef::default();
                for v in &e.value {
                    def.numbers.insert(v.name().to_string(), v.number());
                    def.names.insert(v.number(), v.name().to_string());
                }
                schema.enums.insert(full, def);
            }
        }
        for (name, values) in enums {
            let def = schema.enums.entry((*name).to_string()).or_default();
            for (number, svcc) in *values {
                def.names.insert(*number, (*svcc).to_string());
                def.numbers.insert((*svcc).to_string(), *number);
            }
        }
        Ok(schema)
    }

    pub(crate) fn message(&self, name: &str) -> Result<&MessageDef, String> {
        self.messages
            .get(name)
            .ok_or_else(|| format!("the descriptor has no message `{name}`"))
    }
}

fn join(package: &str, name: &str) -> String {
    if package.is_empty() {
        name.to_string()
    } else {
        format!("{package}.{name}")
    }
}

fn collect_entries(full: &str, m: &DescriptorProto, out: &mut HashMap<String, (Kind, Kind)>) {
    for n in &m.nested_type {
        let name = format!("{full}.{}", n.name());
        if n.options.as_ref().is_some_and(|o| o.map_entry()) {
            let kind_of = |number: i32| {
                n.field
                    .iter()
                    .find(|f| f.number() == number)
                    .map_or(Kind::String, kind)
            };
            out.insert(name, (kind_of(1), kind_of(2)));
        } else {
            collect_entries(&name, n, out);
        }
    }
}

fn add_message(
    schema: &mut Schema,
    full: &str,
    m: &DescriptorProto,
    nested: bool,
    entries: &HashMap<String, (Kind, Kind)>,
    omit_empty: &[&str],
) {
    let mut def = MessageDef::default();
    for f in &m.field {
        let mut kind = kind(f);
        let shape = if let Some((key, value)) = match &kind {
            Kind::Message(name) => entries.get(name),
            _ => None,
        } {
            kind = value.clone();
            Shape::Map(key.clone())
        } else if f.label() == Label::Repeated {
            Shape::Repeated
        } else if f.proto3_optional() || f.oneof_index.is_some() || kind.is_message() {
            Shape::Optional
        } else {
            Shape::Single
        };
        let name = f.name().to_string();
        def.fields.push(FieldDef {
            number: u32::try_from(f.number()).unwrap_or(0),
            json: f
                .json_name
                .clone()
                .unwrap_or_else(|| svcc_rules::protobuf_json_name(&name)),
            omit_empty: omit_empty.contains(&format!("{full}.{name}").as_str()),
            name,
            kind,
            shape,
        });
    }
    // svcc's wrappers are the only nested messages besides map entries.
    def.wrapper = nested && def.fields.len() == 1 && def.fields[0].name == "items";
    for n in &m.nested_type {
        if !n.options.as_ref().is_some_and(|o| o.map_entry()) {
            add_message(
                schema,
                &format!("{full}.{}", n.name()),
                n,
                true,
                entries,
                omit_empty,
            );
        }
    }
    schema.messages.insert(full.to_string(), def);
}

fn kind(f: &prost_types::FieldDescriptorProto) -> Kind {
    let name = f.type_name().trim_start_matches('.');
    match f.r#type() {
        Type::Double => Kind::Double,
        Type::Float => Kind::Float,
        Type::Int64 => Kind::Int64,
        Type::Uint64 => Kind::Uint64,
        Type::Int32 => Kind::Int32,
        Type::Fixed64 => Kind::Fixed64,
        Type::Fixed32 => Kind::Fixed32,
        Type::Bool => Kind::Bool,
        Type::String => Kind::String,
        Type::Bytes => Kind::Bytes,
        Type::Uint32 => Kind::Uint32,
        Type::Sfixed32 => Kind::Sfixed32,
        Type::Sfixed64 => Kind::Sfixed64,
        Type::Sint32 => Kind::Sint32,
        Type::Sint64 => Kind::Sint64,
        Type::Enum => Kind::Enum(name.to_string()),
        Type::Message | Type::Group => match name {
            "google.protobuf.Timestamp" => Kind::Timestamp,
            "google.protobuf.Duration" => Kind::Duration,
            "google.protobuf.Value" => Kind::Value,
            "google.protobuf.Empty" => Kind::Empty,
            other => Kind::Message(other.to_string()),
        },
    }
}
