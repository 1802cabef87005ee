//! The `proto` target: proto3 files, one per package, at the package's path
//! (`messenger/user/v1/user.proto`), plus the `google/api` annotations they import, so the
//! folder compiles on its own (`protoc -I <out>`; the well-known types come with protoc).
//!
//! - records, errors and events are messages with the contract's tags as field numbers, the
//!   field's wire name as `json_name` when protobuf's default would differ, `optional` for
//!   optional singular fields, docs as comments;
//! - enums get a zero `<ENUM>_UNSPECIFIED` value unless the contract gives one the number 0;
//!   their values keep the contract's names (svcc's wire names), so protobuf's JSON mapping
//!   prints what svcc's JSON prints; protobuf scopes them to the package, so a value may not
//!   share its name with another value, enum, message or service of the package;
//! - unions are messages with one `oneof value`;
//! - aliases are replaced by what they stand for (their constraints are in the docs of the
//!   contract, not in protobuf);
//! - `uuid`, `date` and `decimal` are strings; `timestamp`, `duration` and `any` are
//!   `google.protobuf.Timestamp`, `Duration` and `Value`;
//! - a list or map inside a list or map value gets a nested wrapper message (`…Item`,
//!   `…Value`), as protobuf has no nested repeated fields; a map keyed by an enum is keyed by
//!   the value's name (a string), as in JSON;
//! - each service's methods take `<Method>Request` (the body, path and query parameters;
//!   header and cookie parameters travel as gRPC metadata) and return the result record,
//!   `<Method>Response`, or `google.protobuf.Empty`, with a `google.api.http` option from
//!   `@http` so that Envoy's transcoder and grpc-gateway read the same routes.

use crate::{File, Model, OptionSpec, TargetOptions};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use svcc_model::naming::{protobuf_json_name, upper_camel, upper_snake};
use svcc_model::{
    Field, Location, MethodResult, Package, Primitive, QualifiedName, TypeDef, TypeRef,
};

/// The proto target (`proto`).
#[derive(Debug)]
pub struct ProtoTarget;

impl crate::Target for ProtoTarget {
    fn name(&self) -> &'static str {
        "proto"
    }

    fn summary(&self) -> &'static str {
        "proto3 files, one per package, with google.api.http routes (compile with protoc -I <out>)"
    }

    fn options(&self) -> &'static [OptionSpec] {
        &[]
    }

    fn generate(
        &self,
        model: &Model,
        _options: &TargetOptions,
        _cx: &crate::Context,
    ) -> Result<Vec<File>, String> {
        let mut files = Vec::new();
        let mut http = false;
        for p in &model.packages {
            let mut w = Writer::new(model, p);
            w.package()?;
            http |= w.imports.contains(ANNOTATIONS);
            files.push(File::new(file_of(&p.name), w.finish().0));
        }
        if http {
            files.extend(google_api_files());
        }
        Ok(files)
    }
}

const ANNOTATIONS: &str = "google/api/annotations.proto";

/// `messenger.user.v1` → `messenger/user/v1/user.proto` (the segment before a version, else the
/// last one, names the file).
pub fn file_of(package: &str) -> String {
    let segs: Vec<&str> = package.split('.').collect();
    let is_version = |s: &str| {
        s.len() > 1
            && s.starts_with('v')
            && s[1..].chars().next().is_some_and(|c| c.is_ascii_digit())
    };
    let name = match segs.as_slice() {
        [.., name, last] if is_version(last) => name,
        [.., last] => last,
        [] => "package",
    };
    format!("{}/{name}.proto", segs.join("/"))
}

struct Writer<'a> {
    model: &'a Model,
    package: &'a Package,
    imports: BTreeSet<String>,
    out: String,
    /// What the gRPC glue needs to know of the messages written.
    plan: GrpcPlan,
    /// The names declared at package scope so far: messages, enums, enum values (protobuf
    /// scopes those to the package, as C++ does), services.
    symbols: BTreeSet<String>,
}

fn comment(out: &mut String, indent: &str, docs: &str) {
    for line in docs.lines() {
        if line.trim().is_empty() {
            let _ = writeln!(out, "{indent}//");
        } else {
            let _ = writeln!(out, "{indent}// {line}");
        }
    }
}

impl<'a> Writer<'a> {
    fn new(model: &'a Model, package: &'a Package) -> Writer<'a> {
        Writer {
            model,
            package,
            imports: BTreeSet::new(),
            out: String::new(),
            plan: GrpcPlan::default(),
            symbols: BTreeSet::new(),
        }
    }

    /// Declares a name at package scope; a second declaration is refused, as protoc would.
    fn symbol(&mut self, name: &str) -> Result<(), String> {
        if self.symbols.insert(name.to_string()) {
            Ok(())
        } else {
            Err(format!(
                "{}: `{name}` is declared twice at package scope in protobuf (enum values share \
                 the package's scope with messages, enums and services); rename one of them",
                self.package.name
            ))
        }
    }

    fn finish(self) -> (String, BTreeSet<String>, GrpcPlan) {
        let mut head = String::new();
        let _ = writeln!(
            head,
            "// Generated by svcc from the contract of `{}`. Do not edit.",
            self.package.name
        );
        comment(&mut head, "", &self.package.docs);
        let _ = writeln!(head, "syntax = \"proto3\";\n");
        let _ = writeln!(head, "package {};\n", self.package.name);
        if !self.imports.is_empty() {
            for i in &self.imports {
                let _ = writeln!(head, "import \"{i}\";");
            }
            head.push('\n');
        }
        (head + self.out.trim_end() + "\n", self.imports, self.plan)
    }

    fn package(&mut self) -> Result<(), String> {
        let p = self.package;
        for t in &p.types {
            match t {
                TypeDef::Record(r) => {
                    comment(&mut self.out, "", &r.docs);
                    self.message(&r.name, &r.fields, false)?;
                }
                TypeDef::Union(u) => {
                    comment(&mut self.out, "", &u.docs);
                    self.message(&u.name, &u.variants, true)?;
                }
                TypeDef::Enum(e) => {
                    comment(&mut self.out, "", &e.docs);
                    let prefix = upper_snake(&e.name);
                    self.plan.enums.push((
                        format!("{}.{}", p.name, e.name),
                        e.values
                            .iter()
                            .map(|v| (v.number, v.name.clone()))
                            .collect(),
                    ));
                    let _ = writeln!(self.out, "enum {} {{", e.name);
                    self.symbol(&e.name)?;
                    if !e.values.iter().any(|v| v.number == 0) {
                        let _ = writeln!(self.out, "  {prefix}_UNSPECIFIED = 0;");
                        self.symbol(&format!("{prefix}_UNSPECIFIED"))?;
                    }
                    // The values keep svcc's wire names, so protobuf's JSON (Envoy's transcoder,
                    // grpc-gateway, grpcurl) prints what svcc's JSON prints.
                    for v in &e.values {
                        comment(&mut self.out, "  ", &v.docs);
                        let _ = writeln!(self.out, "  {} = {};", v.name, v.number);
                        self.symbol(&v.name)?;
                    }
                    self.out.push_str("}\n\n");
                }
                // Replaced by what they stand for wherever they are used.
                TypeDef::Alias(_) => {}
            }
        }
        for e in &p.errors {
            let mut docs = e.docs.clone();
            if !docs.is_empty() {
                docs.push('\n');
            }
            let _ = write!(docs, "Error `{}` ({}).", e.code, e.kind.as_str());
            self.plan
                .errors
                .push((e.code.clone(), format!("{}.{}", p.name, e.name)));
            comment(&mut self.out, "", &docs);
            self.message(&e.name, &e.fields, false)?;
        }
        for ev in &p.events {
            let mut docs = ev.docs.clone();
            if !docs.is_empty() {
                docs.push('\n');
            }
            let _ = write!(docs, "Event on topic `{}`.", ev.topic);
            comment(&mut self.out, "", &docs);
            self.message(&ev.name, &ev.fields, false)?;
        }
        for s in &p.services {
            self.service(s)?;
        }
        Ok(())
    }

    /// A message (a oneof of its fields when `union`), with nested wrappers for containers in
    /// containers.
    fn message(&mut self, name: &str, fields: &[Field], union: bool) -> Result<(), String> {
        let mut body = String::new();
        let mut nested = String::new();
        let indent = if union { "    " } else { "  " };
        // proto3 refuses two fields whose JSON names differ only in case and underscores.
        let mut seen: Vec<(String, &str)> = Vec::new();
        for f in fields {
            let key = protobuf_json_name(&f.name).to_lowercase();
            if let Some((_, other)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(format!(
                    "{}.{name}: fields `{other}` and `{}` have the same JSON name for protobuf \
                     (proto3 compares them without case and underscores); rename one to \
                     generate `.proto` files",
                    self.package.name, f.name
                ));
            }
            seen.push((key, &f.name));
        }
        for f in fields {
            comment(&mut body, indent, &f.docs);
            let (label, ty) = self.field_type(&f.ty, &upper_camel(&f.name), &mut nested)?;
            let is_map = matches!(self.model.unalias(&f.ty), TypeRef::Map(..));
            // A field with a default is `optional` too: its absence must be seen for the
            // default to apply (proto3 would read an unset `limit` as 0).
            let present = f.optional || f.default.is_some();
            let label = match label {
                "" if present && !union && !is_map => "optional ",
                other => other,
            };
            if f.optional && (is_map || label == "repeated ") {
                self.plan
                    .omit_empty
                    .push(format!("{}.{name}.{}", self.package.name, f.name));
            }
            let mut options = Vec::new();
            if protobuf_json_name(&f.name) != f.wire_name {
                options.push(format!("json_name = \"{}\"", f.wire_name));
            }
            if f.deprecated.is_some() {
                options.push("deprecated = true".to_string());
            }
            let options = if options.is_empty() {
                String::new()
            } else {
                format!(" [{}]", options.join(", "))
            };
            if union && !label.is_empty() {
                return Err(format!(
                    "{}.{name}.{}: a list or map cannot be a union variant in protobuf (a `oneof` \
                     member); wrap it in a record",
                    self.package.name, f.name
                ));
            }
            let _ = writeln!(body, "{indent}{label}{ty} {} = {}{options};", f.name, f.tag);
        }
        let _ = writeln!(self.out, "message {name} {{");
        self.symbol(name)?;
        self.out.push_str(&nested);
        if union {
            self.out.push_str("  oneof value {\n");
            self.out.push_str(&body);
            self.out.push_str("  }\n");
        } else {
            self.out.push_str(&body);
        }
        self.out.push_str("}\n\n");
        Ok(())
    }

    /// The label (`repeated `, or empty) and type of a field; wrappers for containers inside
    /// containers are written into `nested`, named after `hint`.
    fn field_type(
        &mut self,
        ty: &TypeRef,
        hint: &str,
        nested: &mut String,
    ) -> Result<(&'static str, String), String> {
        Ok(match self.model.unalias(ty) {
            TypeRef::List(item) => (
                "repeated ",
                self.element(item, &format!("{hint}Item"), nested)?,
            ),
            TypeRef::Map(k, v) => {
                let key = match self.model.unalias(k) {
                    TypeRef::Primitive(
                        p @ (Primitive::String
                        | Primitive::Uuid
                        | Primitive::Int32
                        | Primitive::Int64
                        | Primitive::Uint32
                        | Primitive::Uint64
                        | Primitive::Bool),
                    ) => self.scalar(*p),
                    // An enum key travels as its name, as in JSON.
                    TypeRef::Named(n)
                        if matches!(self.model.type_def(n), Some(TypeDef::Enum(_))) =>
                    {
                        "string".to_string()
                    }
                    other => {
                        return Err(format!(
                            "{}: a map key of type `{other}` cannot be a protobuf map key \
                             (strings, integers and bools can)",
                            self.package.name
                        ));
                    }
                };
                let value = self.element(v, &format!("{hint}Value"), nested)?;
                ("", format!("map<{key}, {value}>"))
            }
            other => ("", self.single(other)),
        })
    }

    /// A list item or map value: containers become a nested wrapper message.
    fn element(&mut self, ty: &TypeRef, name: &str, nested: &mut String) -> Result<String, String> {
        match self.model.unalias(ty) {
            inner @ (TypeRef::List(_) | TypeRef::Map(..)) => {
                let mut inner_nested = String::new();
                let (label, t) = self.field_type(inner, name, &mut inner_nested)?;
                let _ = writeln!(nested, "  message {name} {{");
                for line in inner_nested.lines() {
                    let _ = writeln!(nested, "  {line}");
                }
                let _ = writeln!(nested, "    {label}{t} items = 1;");
                let _ = writeln!(nested, "  }}");
                Ok(name.to_string())
            }
            other => Ok(self.single(other)),
        }
    }

    fn single(&mut self, ty: &TypeRef) -> String {
        match ty {
            TypeRef::Primitive(p) => self.scalar(*p),
            TypeRef::Named(n) => self.named(n),
            // Containers are handled by the callers.
            TypeRef::List(_) | TypeRef::Map(..) => "google.protobuf.Value".to_string(),
        }
    }

    fn named(&mut self, n: &QualifiedName) -> String {
        if n.package == self.package.name {
            n.name.clone()
        } else {
            self.imports.insert(file_of(&n.package));
            format!(".{}.{}", n.package, n.name)
        }
    }

    fn scalar(&mut self, p: Primitive) -> String {
        let (ty, import) = match p {
            Primitive::Bool => ("bool", None),
            Primitive::Int32 => ("int32", None),
            Primitive::Int64 => ("int64", None),
            Primitive::Uint32 => ("uint32", None),
            Primitive::Uint64 => ("uint64", None),
            Primitive::Float32 => ("float", None),
            Primitive::Float64 => ("double", None),
            Primitive::String | Primitive::Uuid | Primitive::Date | Primitive::Decimal => {
                ("string", None)
            }
            Primitive::Bytes => ("bytes", None),
            Primitive::Timestamp => (
                "google.protobuf.Timestamp",
                Some("google/protobuf/timestamp.proto"),
            ),
            Primitive::Duration => (
                "google.protobuf.Duration",
                Some("google/protobuf/duration.proto"),
            ),
            Primitive::Any => (
                "google.protobuf.Value",
                Some("google/protobuf/struct.proto"),
            ),
        };
        if let Some(i) = import {
            self.imports.insert(i.to_string());
        }
        ty.to_string()
    }

    /// A name for a method's message that no type, error or event of the package has.
    fn message_name(&self, svc: &str, method: &str, suffix: &str) -> String {
        let p = self.package;
        let taken = |n: &str| {
            p.types.iter().any(|t| t.name() == n)
                || p.errors.iter().any(|e| e.name == n)
                || p.events.iter().any(|e| e.name == n)
                || p.services.iter().filter(|s| s.name != svc).any(|s| {
                    s.methods
                        .iter()
                        .any(|m| upper_camel(&m.name) == upper_camel(method))
                })
        };
        let short = format!("{}{suffix}", upper_camel(method));
        if taken(&short) {
            format!("{svc}{short}")
        } else {
            short
        }
    }

    fn service(&mut self, s: &svcc_model::Service) -> Result<(), String> {
        let mut rpcs = String::new();
        let mut rpc_plans = Vec::new();
        for m in &s.methods {
            let request = self.message_name(&s.name, &m.name, "Request");
            let params: Vec<Field> = m
                .params
                .iter()
                .filter(|f| !f.location.is_header_or_cookie())
                .cloned()
                .collect();
            let mut docs = format!("The parameters of `{}.{}`.", s.name, m.name);
            if params.len() != m.params.len() {
                docs.push_str(" Header and cookie parameters travel as gRPC metadata.");
            }
            comment(&mut self.out, "", &docs);
            self.message(&request, &params, false)?;
            let response = match &m.result {
                MethodResult::Empty => {
                    self.imports
                        .insert("google/protobuf/empty.proto".to_string());
                    "google.protobuf.Empty".to_string()
                }
                MethodResult::Single(t) => match self.model.unalias(t) {
                    TypeRef::Named(n)
                        if matches!(self.model.type_def(n), Some(TypeDef::Record(_))) =>
                    {
                        self.named(n)
                    }
                    _ => {
                        let name = self.message_name(&s.name, &m.name, "Response");
                        comment(
                            &mut self.out,
                            "",
                            &format!("The result of `{}.{}`.", s.name, m.name),
                        );
                        let mut nested = String::new();
                        let (label, ty) = self.field_type(t, "Value", &mut nested)?;
                        let _ = writeln!(self.out, "message {name} {{");
                        self.symbol(&name)?;
                        self.out.push_str(&nested);
                        let _ = writeln!(self.out, "  {label}{ty} value = 1;");
                        self.out.push_str("}\n\n");
                        name
                    }
                },
                MethodResult::Named(fields) => {
                    let name = self.message_name(&s.name, &m.name, "Response");
                    let body: Vec<Field> = fields
                        .iter()
                        .filter(|f| !f.location.is_header_or_cookie())
                        .cloned()
                        .collect();
                    let mut docs = format!("The results of `{}.{}`.", s.name, m.name);
                    if body.len() != fields.len() {
                        docs.push_str(" Header and cookie results travel as gRPC metadata.");
                    }
                    comment(&mut self.out, "", &docs);
                    self.message(&name, &body, false)?;
                    name
                }
            };
            comment(&mut rpcs, "  ", &m.docs);
            let _ = write!(
                rpcs,
                "  rpc {}({request}) returns ({response})",
                upper_camel(&m.name)
            );
            let full = |n: &str| match n.strip_prefix('.') {
                Some(qualified) => qualified.to_string(),
                None if n.starts_with("google.protobuf.") => n.to_string(),
                None => format!("{}.{n}", self.package.name),
            };
            let wraps_value = matches!(&m.result, MethodResult::Single(t)
                if !matches!(self.model.unalias(t), TypeRef::Named(n)
                    if matches!(self.model.type_def(n), Some(TypeDef::Record(_)))));
            rpc_plans.push(RpcPlan {
                method: m.name.clone(),
                name: upper_camel(&m.name),
                request: full(&request),
                response: full(&response),
                wraps_value,
            });
            let mut options = Vec::new();
            if let Some(h) = &m.settings.http {
                self.imports.insert(ANNOTATIONS.to_string());
                let verb = h.method.to_ascii_lowercase();
                let mut rule = match verb.as_str() {
                    "get" | "put" | "post" | "delete" | "patch" => {
                        format!("      {verb}: \"{}\"\n", h.path)
                    }
                    _ => format!(
                        "      custom: {{ kind: \"{}\" path: \"{}\" }}\n",
                        h.method, h.path
                    ),
                };
                let has_body = m.params.iter().any(|p| p.location == Location::Body)
                    && !matches!(verb.as_str(), "get" | "delete" | "head");
                if has_body {
                    rule.push_str("      body: \"*\"\n");
                }
                options.push(format!(
                    "    option (google.api.http) = {{\n{rule}    }};\n"
                ));
            }
            if m.settings.deprecated.is_some() {
                options.push("    option deprecated = true;\n".to_string());
            }
            if options.is_empty() {
                rpcs.push_str(";\n");
            } else {
                rpcs.push_str(" {\n");
                for o in options {
                    rpcs.push_str(&o);
                }
                rpcs.push_str("  }\n");
            }
        }
        self.plan.services.push(ServicePlan {
            package: self.package.name.clone(),
            service: s.name.clone(),
            full_name: format!("{}.{}", self.package.name, s.name),
            rpcs: rpc_plans,
        });
        comment(&mut self.out, "", &s.docs);
        let _ = writeln!(self.out, "service {} {{", s.name);
        self.symbol(&s.name)?;
        self.out.push_str(&rpcs);
        self.out.push_str("}\n\n");
        Ok(())
    }
}

/// What gRPC glue needs beside the `.proto` files: each service's rpcs with their message
/// names, svcc's names of enum values, the optional lists and maps (protobuf cannot tell an
/// absent list from an empty one), the declared errors' messages.
#[derive(Clone, Debug, Default)]
pub struct GrpcPlan {
    /// The `.proto` files (those of the packages with a service under `@grpc` and of the
    /// packages they import), with the `google/api` files they need.
    pub files: Vec<File>,
    pub services: Vec<ServicePlan>,
    /// `(package.Enum, [(number, svcc's name)])`.
    pub enums: Vec<(String, Vec<(u32, String)>)>,
    /// `package.Message.field`.
    pub omit_empty: Vec<String>,
    /// `(string code, package.Message)`.
    pub errors: Vec<(String, String)>,
}

/// One service as gRPC sees it.
#[derive(Clone, Debug)]
pub struct ServicePlan {
    pub package: String,
    pub service: String,
    /// `messenger.user.v1.UserService`.
    pub full_name: String,
    pub rpcs: Vec<RpcPlan>,
}

/// One method as an rpc.
#[derive(Clone, Debug)]
pub struct RpcPlan {
    /// The contract's name (`create`).
    pub method: String,
    /// `Create`.
    pub name: String,
    /// Full message names.
    pub request: String,
    pub response: String,
    /// The result is not a record: the response wraps it in `value`.
    pub wraps_value: bool,
}

impl GrpcPlan {
    /// The service called `service` in `package`.
    pub fn service(&self, package: &str, service: &str) -> Option<&ServicePlan> {
        self.services
            .iter()
            .find(|s| s.package == package && s.service == service)
    }
}

/// The plan for the packages with a service under `@grpc` or with events (and what they
/// import); `None` when there are none.
pub fn grpc_plan(model: &Model) -> Result<Option<GrpcPlan>, String> {
    let mut queue: Vec<&Package> = model
        .packages
        .iter()
        .filter(|p| p.services.iter().any(|s| s.transports.grpc) || !p.events.is_empty())
        .collect();
    if queue.is_empty() {
        return Ok(None);
    }
    let by_file: std::collections::HashMap<String, &Package> = model
        .packages
        .iter()
        .map(|p| (file_of(&p.name), p))
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut plan = GrpcPlan::default();
    let mut http = false;
    while let Some(p) = queue.pop() {
        if !done.insert(p.name.clone()) {
            continue;
        }
        let mut w = Writer::new(model, p);
        w.package()?;
        let (text, imports, part) = w.finish();
        http |= imports.contains(ANNOTATIONS);
        for i in &imports {
            if let Some(dep) = by_file.get(i) {
                queue.push(dep);
            }
        }
        plan.files.push(File::new(file_of(&p.name), text));
        // Services of packages imported only for their types are not served.
        plan.services.extend(part.services.into_iter().filter(|s| {
            p.services
                .iter()
                .any(|x| x.name == s.service && x.transports.grpc)
        }));
        plan.enums.extend(part.enums);
        plan.omit_empty.extend(part.omit_empty);
        plan.errors.extend(part.errors);
    }
    if http {
        plan.files.extend(google_api_files());
    }
    plan.files.sort_by(|a, b| a.path.cmp(&b.path));
    plan.enums.sort();
    plan.omit_empty.sort();
    plan.errors.sort();
    Ok(Some(plan))
}

/// Compiles `.proto` files (as written by this target) into an encoded `FileDescriptorSet`
/// with protox — pure Rust, no `protoc` — including every file they import (the well-known
/// types come with protox) and keeping options such as `google.api.http`.
pub fn descriptor_set(files: &[File]) -> Result<Vec<u8>, String> {
    struct Memory(std::collections::HashMap<String, String>);
    impl protox::file::FileResolver for Memory {
        fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
            match self.0.get(name) {
                Some(text) => protox::file::File::from_source(name, text),
                None => Err(protox::Error::file_not_found(name)),
            }
        }
    }
    let memory = Memory(
        files
            .iter()
            .map(|f| (f.path.clone(), f.text().into_owned()))
            .collect(),
    );
    let mut chain = protox::file::ChainFileResolver::new();
    chain.add(memory);
    chain.add(protox::file::GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true).include_source_info(false);
    let mut names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    names.sort_unstable();
    compiler
        .open_files(names)
        .map_err(|e| format!("the generated .proto files do not compile: {e}"))?;
    Ok(compiler.encode_file_descriptor_set())
}

/// The `google/api` files that files with `google.api.http` options import.
fn google_api_files() -> [File; 2] {
    [
        File::new(ANNOTATIONS, GOOGLE_API_ANNOTATIONS),
        File::new("google/api/http.proto", GOOGLE_API_HTTP),
    ]
}

/// `google/api/annotations.proto` (Apache 2.0, Google LLC): the `google.api.http` option.
const GOOGLE_API_ANNOTATIONS: &str = r#"// Copyright 2015 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

syntax = "proto3";

package google.api;

import "google/api/http.proto";
import "google/protobuf/descriptor.proto";

option go_package = "google.golang.org/genproto/googleapis/api/annotations;annotations";
option java_multiple_files = true;
option java_outer_classname = "AnnotationsProto";
option java_package = "com.google.api";
option objc_class_prefix = "GAPI";

extend google.protobuf.MethodOptions {
  // See `HttpRule`.
  HttpRule http = 72295728;
}
"#;

/// `google/api/http.proto` (Apache 2.0, Google LLC), without its long explanatory comments:
/// the same messages, fields and numbers.
const GOOGLE_API_HTTP: &str = r#"// Copyright 2015 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

syntax = "proto3";

package google.api;

option cc_enable_arenas = true;
option go_package = "google.golang.org/genproto/googleapis/api/annotations;annotations";
option java_multiple_files = true;
option java_outer_classname = "HttpProto";
option java_package = "com.google.api";
option objc_class_prefix = "GAPI";

// Defines the HTTP configuration for an API service.
message Http {
  // A list of HTTP configuration rules that apply to individual API methods.
  repeated HttpRule rules = 1;

  // When true, URL path parameters will be fully URI-decoded except in
  // cases of single segment matches in reserved expansion.
  bool fully_decode_reserved_expansion = 2;
}

// How a gRPC method maps to an HTTP/JSON route.
message HttpRule {
  // Selects a method to which this rule applies.
  string selector = 1;

  // The HTTP method and path template.
  oneof pattern {
    string get = 2;
    string put = 3;
    string post = 4;
    string delete = 5;
    string patch = 6;
    CustomHttpPattern custom = 8;
  }

  // The request field whose value is mapped to the HTTP request body, or `*`.
  string body = 7;

  // The response field whose value is mapped to the HTTP response body.
  string response_body = 12;

  // Additional HTTP bindings for the selector.
  repeated HttpRule additional_bindings = 11;
}

// A custom pattern is used for defining custom HTTP verb.
message CustomHttpPattern {
  // The name of this custom HTTP verb.
  string kind = 1;

  // The path matched by this custom verb.
  string path = 2;
}
"#;
