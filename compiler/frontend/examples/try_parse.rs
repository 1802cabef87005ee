//! Developer aid: formats a file twice and shows both results.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    match svcc_frontend::fmt::format_source(&text) {
        Ok(once) => {
            println!("----- once\n{once}");
            match svcc_frontend::fmt::format_source(&once) {
                Ok(twice) => println!("----- twice\n{twice}\n----- idempotent: {}", once == twice),
                Err(e) => println!("second parse failed: {e:?}"),
            }
        }
        Err(e) => println!(
            "parse failed: {:?}",
            e.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    }
}
