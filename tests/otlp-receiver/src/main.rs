//! The OTLP receiver as a process (for benchmarks): listens on `127.0.0.1:PORT` (the first
//! argument, default 4318), decodes every export, and prints the counts when stdin closes.
#![allow(clippy::print_stdout)]

fn main() {
    let port = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "4318".to_string());
    let receiver = match otlp_receiver::Receiver::start_on(&format!("127.0.0.1:{port}")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("otlp-receiver: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(2);
        }
    };
    eprintln!("otlp-receiver: listening on {}", receiver.endpoint());
    let mut sink = String::new();
    while std::io::stdin()
        .read_line(&mut sink)
        .map(|n| n > 0)
        .unwrap_or(false)
    {}
    println!(
        "otlp-receiver: {} spans, {} log records in {} requests",
        receiver.spans().len(),
        receiver.logs().len(),
        receiver.requests()
    );
}
