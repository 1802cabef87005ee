//! Developer aid: times each stage of a compilation (`cargo run --release --example stage_times -- FILE`).
#![allow(clippy::unwrap_used, clippy::print_stdout)]
use std::time::Instant;
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    let t = Instant::now();
    let scan = svcc_frontend::syntax::scan::prescan(svcc_model::source::FileId(0), &text);
    println!(
        "prescan   {:?} ({} comments)",
        t.elapsed(),
        scan.comments.len()
    );
    let t = Instant::now();
    let (tree, _) = svcc_frontend::syntax::parse_file(svcc_model::source::FileId(0), &text);
    println!("parse     {:?} (tree: {})", t.elapsed(), tree.is_some());
    let t = Instant::now();
    let loaded = svcc_frontend::resolve::load::load(
        &svcc_frontend::resolve::load::DiskFs,
        std::slice::from_ref(&path),
        &[],
    );
    println!("load      {:?}", t.elapsed());
    let t = Instant::now();
    let (resolved, _) = svcc_frontend::resolve::resolve(&loaded);
    println!("resolve   {:?}", t.elapsed());
    let t = Instant::now();
    let d = svcc_frontend::check::check(&resolved.model);
    println!("check     {:?} ({} diags)", t.elapsed(), d.len());
    let t = Instant::now();
    let d = svcc_frontend::lint::run(
        &resolved.model,
        &resolved,
        &svcc_frontend::lint::LintConfig::default(),
    );
    println!("lint      {:?} ({} diags)", t.elapsed(), d.len());
    let t = Instant::now();
    let c = svcc_frontend::compile(&[path], &svcc_frontend::Options::default());
    println!(
        "total     {:?} ({} diags)",
        t.elapsed(),
        c.diagnostics.len()
    );
}
