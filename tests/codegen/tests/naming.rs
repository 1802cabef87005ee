//! The naming obstacle course at run time: helpers that yield to contract names, defaults and
//! constraints on every place they may stand, `@omitempty(false)`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_codegen_tests::api::obstacle::helpers::v1 as helpers;
use svcc_runtime::Validate;
use svcc_runtime::serde_json::{self, json};

#[test]
fn omitempty_false_sends_absent_fields_as_null() {
    let n = helpers::Nullable {
        maybe: None,
        also: None,
    };
    assert_eq!(
        serde_json::to_value(&n).unwrap(),
        json!({"maybe": null, "also": null})
    );
    // The default (`@omitempty` true) leaves them out.
    let r: helpers::Record = serde_json::from_value(json!({})).unwrap();
    assert!(
        !serde_json::to_value(&r)
            .unwrap()
            .as_object()
            .unwrap()
            .contains_key("note")
    );
    // Both read `null` and absence alike.
    let back: helpers::Nullable = serde_json::from_value(json!({"maybe": null})).unwrap();
    assert_eq!(back, n);
}

#[test]
fn defaults_fill_absent_fields_parameters_and_results() {
    let r: helpers::Record = serde_json::from_value(json!({})).unwrap();
    assert_eq!(r.title, "Hello");
    assert_eq!(r.count, 3);
    assert_eq!(r.word.0, "abc");
    assert_eq!(r.tags, vec!["a".to_string()]);
    let req: helpers::helpers::NewRequest = serde_json::from_value(json!({"name": "x"})).unwrap();
    assert_eq!(req.size, 4);
    let res: helpers::helpers::NewResponse = serde_json::from_value(json!({"id": "id-1"})).unwrap();
    assert_eq!(res.n, 1);
    let e: helpers::Refused = serde_json::from_value(json!({})).unwrap();
    assert_eq!(e.reason, "refused");
    let inner: helpers::deep::Inner = serde_json::from_value(json!({"word": "w"})).unwrap();
    assert_eq!(inner.name, "deep");
}

#[test]
fn patterns_hold_on_fields_parameters_aliases_and_nested_packages() {
    let paths = |r: Result<(), Vec<svcc_runtime::Violation>>| -> Vec<String> {
        r.unwrap_err().into_iter().map(|v| v.path).collect()
    };
    let bad_param = helpers::helpers::NewRequest {
        name: "ABC".into(),
        size: 1,
    };
    assert_eq!(paths(bad_param.validate()), ["name"]);
    let bad_field: helpers::Record =
        serde_json::from_value(json!({"title": "lower", "note": "y", "word": "ABC"})).unwrap();
    assert_eq!(paths(bad_field.validate()), ["title", "note", "word"]);
    let bad_nested = helpers::deep::deep::GetRequest { id: "x1".into() };
    assert_eq!(paths(bad_nested.validate()), ["id"]);
    let ok = helpers::helpers::NewRequest {
        name: "abc".into(),
        size: 1,
    };
    assert!(ok.validate().is_ok());
}

#[test]
fn helpers_yield_to_methods_named_like_them() {
    // `new` and `send` are methods of the contract: the batch's own take a trailing `_`.
    let mut batch = helpers::HelpersBatch::new_();
    let slot = batch.new("abc".into(), 4);
    drop(slot);
    let _other = helpers::OtherBatch::new_();
    // `transport` is a method too: the client's accessor is `transport_`.
    let client = helpers::HelpersJsonRpcClient::new(svcc_runtime::client::ClientConfig::new(
        "http://127.0.0.1:9",
    ));
    let _ = client.transport_();
}

#[test]
fn method_descriptions_carry_the_effective_policies() {
    use std::borrow::Cow;
    use svcc_runtime::method::{
        CircuitBreaker, HttpBinding, LogPolicy, Mask, Policies, RateLimit, Security, Sensitive,
    };
    let info = &helpers::other::POLICED_INFO;
    let expected = Policies {
        log: Some(LogPolicy {
            skip: Cow::Owned(vec!["secret".into()]),
        }),
        sensitive: Cow::Owned(vec![Sensitive {
            name: "secret".into(),
            mask: Mask::Middle,
        }]),
        metrics: true,
        trace: true,
        security: Cow::Owned(vec![Security::ApiKey {
            header: "X-Key".into(),
        }]),
        public: false,
        rate_limit: Some(RateLimit {
            limit: 5,
            period_ms: 1000,
            key: svcc_runtime::method::RateKey::Global,
        }),
        circuit_breaker: Some(CircuitBreaker {
            max_requests: Some(3),
            failure_rate: Some(0.5),
            ..CircuitBreaker::default()
        }),
        fallback_ttl_ms: Some(60_000),
        timeout_ms: Some(2000),
        idempotent: true,
    };
    assert_eq!(info.policies, expected);
    assert_eq!(
        info.http,
        Some(HttpBinding::new("PUT", "/helpers/other/{id}", 200))
    );
    // Service-level settings reach every method; `@public` drops the security.
    let open = &helpers::other::OPEN_INFO.policies;
    assert!(open.metrics && open.public && open.security.is_empty());
    assert!(
        !open.idempotent,
        "a JSON-RPC method is not known to be idempotent"
    );
    assert_eq!(helpers::other::NEW_INFO.policies.security.len(), 1);
}
