//! The events side of the Rust target (with the server glue): `Event` for each declared
//! event, a handler trait per topic whose subscription a consumer runs, and for each method
//! that `emits` events a context type whose `emit_…` methods publish exactly those events —
//! so publishing an event the contract does not list for the method does not compile.

use super::{PV, Package, RT, camel, field_ident, ident, lit_str, snake};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use svcc_model::{Event, EventFormat, Method};

/// `impl Event for {name}`.
pub(super) fn event_impl(pkg: &Package<'_>, e: &Event) -> String {
    let name = ident(&e.name);
    let full = format!("{}.{}", pkg.pkg.name, e.name);
    let format = match e.format {
        EventFormat::Protobuf => "Protobuf",
        EventFormat::Json => "Json",
    };
    let key = match e
        .key
        .as_ref()
        .and_then(|k| e.fields.iter().find(|f| &f.name == k))
    {
        Some(f) => format!("{RT}::events::key_text(&self.{})", pkg.fid(f)),
        None => "::core::option::Option::None".to_string(),
    };
    let root = "super::".repeat(pkg.depth);
    format!(
        "impl {RT}::events::Event for {name} {{
            const TOPIC: &'static str = {topic};
            const NAME: &'static str = {full_lit};
            const FORMAT: {RT}::events::Format = {RT}::events::Format::{format};
            fn descriptor() -> &'static {RT}::grpc::Descriptor {{ &{root}GRPC_DESCRIPTOR }}
            fn key(&self) -> ::core::option::Option<::std::string::String> {{ {key} }}
        }}\n\n",
        topic = lit_str(&e.topic),
        full_lit = lit_str(&full),
    )
}

/// A handler trait per topic of the package's events (`user.deleted` → `UserDeletedHandler`).
pub(super) fn topic_handlers(pkg: &Package<'_>) -> String {
    let mut topics: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in &pkg.pkg.events {
        topics.entry(e.topic.as_str()).or_default().push(e);
    }
    let mut s = String::new();
    for (topic, events) in topics {
        let trait_name = ident(&format!(
            "{}Handler",
            camel(&svcc_model::naming::topic_words(topic))
        ));
        let _ = writeln!(
            s,
            "/// Handles the records of the topic `{topic}`: one method per event it carries.\n///\n/// Run it with a consumer: [`{RT}::events::MemoryLog::subscribe`] in process, or a Kafka consumer group ([`{RT}::events::kafka::KafkaConsumer`]) with the `kafka` feature. A record's offset is committed after its method returns `Ok`; an `Err` is retried, then dead-lettered.\npub trait {trait_name}: ::core::marker::Send + ::core::marker::Sync + 'static {{"
        );
        let mut arms = String::new();
        for e in &events {
            let m = field_ident(&snake(&e.name));
            let ty = ident(&e.name);
            let full = format!("{}.{}", pkg.pkg.name, e.name);
            let _ = writeln!(
                s,
                "/// A [`{ty}`] arrived (the context carries the publishing call's request id and trace).\nfn {m}(&self, ctx: {RT}::Context, event: {ty}) -> impl ::core::future::Future<Output = ::core::result::Result<(), {RT}::Error>> + ::core::marker::Send;"
            );
            let unnamed = if events.len() == 1 {
                " | ::core::option::Option::None"
            } else {
                ""
            };
            let _ = write!(
                arms,
                "::core::option::Option::Some({}){unnamed} => {{ let event = record.decode::<{ty}>()?; this.{m}(ctx, event).await }}",
                lit_str(&full)
            );
        }
        let _ = writeln!(
            s,
            "/// The subscription to `{topic}` that runs this handler. Records of events this contract does not know are logged and skipped.
            fn into_subscription(self) -> {RT}::events::Subscription where Self: ::core::marker::Sized {{
                let this = {PV}::Arc::new(self);
                {RT}::events::Subscription {{
                    topic: {topic_lit},
                    handle: {PV}::Arc::new(move |record: {RT}::events::Record| -> {PV}::BoxFuture<'static, ::core::result::Result<(), {RT}::Error>> {{
                        let this = this.clone();
                        ::std::boxed::Box::pin(async move {{
                            let ctx = record.context();
                            match record.event_name() {{
                                {arms}
                                _ => {{ {RT}::events::skip_unknown(&record); ::core::result::Result::Ok(()) }}
                            }}
                        }})
                    }}),
                }}
            }}
            }}\n",
            topic_lit = lit_str(topic)
        );
    }
    s
}

/// The name of a method's context type (`CreateContext`), when the method emits events.
pub(super) fn context_type(method: &Method) -> Option<String> {
    (!method.emits.is_empty()).then(|| format!("{}Context", camel(&method.name)))
}

/// The context type of a method that emits events, in the service's module.
pub(super) fn method_context(pkg: &Package<'_>, svc_name: &str, method: &Method) -> String {
    let Some(ty) = context_type(method) else {
        return String::new();
    };
    let mut s = String::new();
    let events: Vec<String> = method
        .emits
        .iter()
        .map(|e| format!("[`{}`]", pkg.named_path(e, 1)))
        .collect();
    let _ = writeln!(
        s,
        "/// The context of `{svc_name}.{}`: the call's [`{RT}::Context`] (it dereferences to it) and an `emit_…` method for each event the method declares ({}).
        ///
        /// The server makes it with the server's event bus; `Context::into()` makes one whose events go to an in-process log of its own (for tests, and for callers of a client).
        #[derive(Debug, Clone)]
        pub struct {ty} {{ ctx: {RT}::Context, emitter: {RT}::events::Emitter }}
        impl {ty} {{
            /// The call's context with the emitter the server gives it.
            pub fn new(ctx: {RT}::Context, emitter: {RT}::events::Emitter) -> Self {{ {ty} {{ ctx, emitter }} }}
            /// The call's context.
            pub fn into_context(self) -> {RT}::Context {{ self.ctx }}
            /// The same emitters with another context: pass the context of a transaction to publish through its outbox.
            pub fn with_context(&self, ctx: {RT}::Context) -> Self {{ {ty} {{ ctx, emitter: self.emitter.clone() }} }}",
        method.name,
        events.join(", ")
    );
    for e in &method.emits {
        let path = pkg.named_path(e, 1);
        let topic = pkg
            .model
            .packages
            .iter()
            .find(|p| p.name == e.package)
            .and_then(|p| p.events.iter().find(|x| x.name == e.name))
            .map(|x| x.topic.clone())
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "/// Publishes a [`{path}`] on `{topic}`: validated, then encoded and sent; `Ok` once the bus holds it.\npub async fn emit_{}(&self, event: &{path}) -> ::core::result::Result<(), {RT}::Error> {{ self.emitter.emit(&self.ctx, event).await }}",
            snake(&e.name)
        );
    }
    let _ = writeln!(
        s,
        "}}
        impl ::core::ops::Deref for {ty} {{ type Target = {RT}::Context; fn deref(&self) -> &{RT}::Context {{ &self.ctx }} }}
        impl ::core::convert::From<{RT}::Context> for {ty} {{
            fn from(ctx: {RT}::Context) -> Self {{ {ty} {{ ctx, emitter: {RT}::events::Emitter::new({PV}::Arc::new({RT}::events::MemoryLog::new())) }} }}
        }}\n"
    );
    s
}

/// Whether any method of the package emits events (its services get an event bus slot).
pub(super) fn emits_any(methods: &[Method]) -> bool {
    methods.iter().any(|m| !m.emits.is_empty())
}
