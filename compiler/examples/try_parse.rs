fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let (tree, errs) = svcc::syntax::parse_file(svcc::source::FileId(0), &text);
    println!("tree: {}", tree.is_some());
    for e in errs { println!("{} {} @{}..{} label={:?} help={:?}", e.code, e.message, e.primary.start, e.primary.end, e.primary_label, e.help); }
}
