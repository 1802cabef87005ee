//! Policies as the contract's annotations set them, with their defaults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use svcc_model::RateKey;

fn method_policies(text: &str, method: &str) -> svcc_model::Policies {
    let c = svcc_frontend::compile_memory(&[("a.svc", text)], &svcc_frontend::Options::default());
    assert!(!c.has_errors(), "{:#?}", c.diagnostics);
    c.model.packages[0].services[0]
        .methods
        .iter()
        .find(|m| m.name == method)
        .unwrap()
        .settings
        .policies
        .clone()
}

#[test]
fn defaults_and_explicit_values() {
    let text = r#"package p.v1;

service S {
  @fallback
  rpc a();

  @fallback(ttl = "90s")
  @rate_limit(limit = 3, period = "1s", key = subject)
  rpc b();

  @idempotent
  rpc c();

  @rate_limit(limit = 3, period = "2m")
  rpc d();
}
"#;
    let a = method_policies(text, "a");
    assert_eq!(
        a.fallback_ttl_ms,
        Some(86_400_000),
        "`@fallback` alone: a day"
    );
    assert!(!a.idempotent);
    let b = method_policies(text, "b");
    assert_eq!(b.fallback_ttl_ms, Some(90_000));
    let limit = b.rate_limit.unwrap();
    assert_eq!(
        (limit.limit, limit.period_ms, limit.key),
        (3, 1000, RateKey::Subject)
    );
    assert!(method_policies(text, "c").idempotent);
    assert_eq!(
        method_policies(text, "d").rate_limit.unwrap().key,
        RateKey::Global
    );
}
