//! Developer aid: times each stage of a compilation (`cargo run --release --example stage_times -- FILE`).
#![allow(clippy::unwrap_used, clippy::print_stdout)]
use std::time::Instant;
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    let t = Instant::now();
    let scan = svcc::syntax::scan::prescan(svcc::source::FileId(0), &text);
    println!(
        "prescan   {:?} ({} comments)",
        t.elapsed(),
        scan.comments.len()
    );
    let t = Instant::now();
    let (tree, _) = svcc::syntax::parse_file(svcc::source::FileId(0), &text);
    println!("parse     {:?} (tree: {})", t.elapsed(), tree.is_some());
    let t = Instant::now();
    let loaded = svcc::resolve::load::load(
        &svcc::resolve::load::DiskFs,
        std::slice::from_ref(&path),
        &[],
    );
    println!("load      {:?}", t.elapsed());
    let t = Instant::now();
    let (resolved, _) = svcc::resolve::resolve(&loaded);
    println!("resolve   {:?}", t.elapsed());
    let t = Instant::now();
    let d = svcc::check::check(&resolved.model);
    println!("check     {:?} ({} diags)", t.elapsed(), d.len());
    let t = Instant::now();
    let d = svcc::lint::run(
        &resolved.model,
        &resolved,
        &svcc::lint::LintConfig::default(),
    );
    println!("lint      {:?} ({} diags)", t.elapsed(), d.len());
    let t = Instant::now();
    let c = svcc::compile(&[path], &svcc::Options::default());
    println!(
        "total     {:?} ({} diags)",
        t.elapsed(),
        c.diagnostics.len()
    );
}
