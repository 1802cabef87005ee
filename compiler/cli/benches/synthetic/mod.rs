//! The synthetic package shared by the benchmarks: N services × 10 methods, with their request
//! and response records and an enum per service.

use std::fmt::Write as _;

/// The `.svc` source of a synthetic package with `services` services.
pub fn svc_package(services: usize) -> String {
    let mut s = String::from("//! A synthetic package for benchmarks.\npackage bench.v1;\n\n");
    for k in 0..services {
        s.push_str(&service_block(k));
    }
    s
}

/// The same package split into one file per service: `(file name, source)`.
#[allow(dead_code)] // used by the watch benchmark only
pub fn svc_files(services: usize) -> Vec<(String, String)> {
    (0..services)
        .map(|k| {
            (
                format!("service{k}.svc"),
                format!("package bench.v1;\n\n{}", service_block(k)),
            )
        })
        .collect()
}

/// One service with its enum and its request and response records.
fn service_block(k: usize) -> String {
    let mut s = String::new();
    {
        let _ = writeln!(s, "/// Service {k}.\nservice Service{k} {{");
        for j in 0..10 {
            let _ = writeln!(
                s,
                "  /// Method {j} of service {k}.\n  rpc method{j}(req: Req{k}x{j}) -> Resp{k}x{j};"
            );
        }
        s.push_str("}\n\n");
        let _ = writeln!(
            s,
            "/// Kinds of service {k}.\nenum Kind{k} {{\n  A @1;\n  B @2;\n  C @3;\n  D @4;\n  E @5;\n}}\n"
        );
        for j in 0..10 {
            let _ = writeln!(
                s,
                "/// Request {j}.\ntype Req{k}x{j} {{\n  id @1: string;\n  count @2: int32;\n  tags @3: list<string>;\n  kind @4: Kind{k};\n  note? @5: string;\n}}\n"
            );
            let _ = writeln!(
                s,
                "/// Response {j}.\ntype Resp{k}x{j} {{\n  id @1: string;\n  total @2: int64;\n  items @3: list<Req{k}x{j}>;\n  labels @4: map<string, string>;\n  done @5: bool;\n}}\n"
            );
        }
    }
    s
}
