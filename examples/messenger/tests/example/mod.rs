//! The example binary as an operator runs it: started with its environment, its address read
//! from the banner on stderr, stopped with SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

/// The `JWT_SECRET` the example runs with here.
pub const SECRET: &str = "the example tests' JWT secret, 32+ bytes";

/// `Bearer <token>`: an access token the example accepts (signed with [`SECRET`]).
pub fn bearer() -> String {
    bearer_for(&svcc_runtime::Uuid::new_v4().to_string())
}

/// `Bearer <token>` for the user `sub`.
pub fn bearer_for(sub: &str) -> String {
    let jwt = svcc_runtime::auth::Jwt::new("default", SECRET.as_bytes()).unwrap();
    let t = jwt
        .issue(svcc_runtime::auth::TokenType::Access, sub, None)
        .unwrap();
    format!("Bearer {}", t.token)
}

/// Starts the example on `127.0.0.1:0` with `RUST_LOG=info`, `JWT_SECRET=`[`SECRET`] and
/// `env`; returns it and its address (`127.0.0.1:PORT`). Stdout stays piped (read by
/// [`stop`], or never).
pub fn start(env: &[(&str, &str)]) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_messenger"));
    command
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("JWT_SECRET", SECRET);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    for _ in 0..50 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split("serving on http://").nth(1) {
            // The rest of stderr is read and dropped, so its last lines find a reader.
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (child, rest.trim().to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the example did not start");
}

/// Stops it gracefully (SIGTERM); returns everything it wrote on stdout.
pub fn stop(mut child: Child) -> String {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success(), "no clean exit");
    out
}
