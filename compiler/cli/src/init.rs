//! `svcc init NAME`: a new service crate that builds, serves and passes its test as written —
//! a contract with one service, `build.rs`, the trait's implementation, `main.rs` with graceful
//! shutdown, a test through the generated clients, a README, and the CI and editor hints.
//!
//! The files are the templates in `compiler/cli/templates/init/` with a few names filled in
//! (plain replacement: nothing there needs a template engine). The contract is compiled before
//! anything is written, so a name that makes an invalid contract is refused, not written.

use std::path::{Path, PathBuf};

/// What `svcc init` was asked.
pub struct Request {
    pub name: String,
    pub package: Option<String>,
    /// A checkout of svcc: path dependencies on it instead of version dependencies.
    pub svcc_path: Option<PathBuf>,
    /// The folder to create (default: `./NAME`).
    pub dir: Option<PathBuf>,
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/init/Cargo.toml.tmpl"),
    ),
    ("build.rs", include_str!("../templates/init/build.rs.tmpl")),
    ("src/lib.rs", include_str!("../templates/init/lib.rs.tmpl")),
    (
        "src/main.rs",
        include_str!("../templates/init/main.rs.tmpl"),
    ),
    (
        "README.md",
        include_str!("../templates/init/README.md.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../templates/init/gitignore.tmpl"),
    ),
    (
        ".github/workflows/ci.yml",
        include_str!("../templates/init/ci.yml.tmpl"),
    ),
    (
        ".vscode/extensions.json",
        include_str!("../templates/init/extensions.json.tmpl"),
    ),
];
const CONTRACT: &str = include_str!("../templates/init/contract.svc.tmpl");
const TEST: &str = include_str!("../templates/init/test.rs.tmpl");

/// Writes the crate; returns the files written (relative to the crate's folder).
pub fn run(req: &Request) -> Result<(PathBuf, Vec<String>), String> {
    let name = req.name.as_str();
    if !valid_crate_name(name) {
        return Err(format!(
            "`{name}` is not a crate name: start with a lower-case letter, then lower-case letters, digits, `-` or `_`"
        ));
    }
    let ident = name.replace('-', "_");
    let package = req.package.clone().unwrap_or_else(|| format!("{ident}.v1"));
    let words: Vec<&str> = ident.split('_').filter(|w| !w.is_empty()).collect();
    let pascal: String = words.iter().map(|w| capitalize(w)).collect();
    let service = format!("{pascal}Service");
    let service_module = format!("{}_service", words.join("_"));
    let jsonrpc_service = format!(
        "{}{}Service",
        words.first().copied().unwrap_or_default(),
        words
            .iter()
            .skip(1)
            .map(|w| capitalize(w))
            .collect::<String>()
    );
    let contract_file = format!(
        "{}.svc",
        package.rsplit('.').nth(1).unwrap_or(ident.as_str())
    );
    let (runtime_dep, build_dep) = match &req.svcc_path {
        Some(p) => {
            let root = std::path::absolute(p).map_err(|e| e.to_string())?;
            if !root.join("runtime/Cargo.toml").is_file()
                || !root.join("compiler/build/Cargo.toml").is_file()
            {
                return Err(format!(
                    "`{}` is not a checkout of svcc (no runtime/Cargo.toml and compiler/build/Cargo.toml)",
                    p.display()
                ));
            }
            (
                format!(
                    "svcc-runtime = {{ path = {} }}",
                    toml_string(&root.join("runtime"))
                ),
                format!(
                    "svcc-build = {{ path = {} }}",
                    toml_string(&root.join("compiler/build"))
                ),
            )
        }
        None => (
            format!("svcc-runtime = \"{}\"", env!("CARGO_PKG_VERSION")),
            format!("svcc-build = \"{}\"", env!("CARGO_PKG_VERSION")),
        ),
    };
    let title = pascal.clone();
    let package_path = package.replace('.', "::");
    let fill = |template: &str| -> String {
        let mut text = template.to_string();
        for (key, value) in [
            ("crate", name),
            ("crate_ident", ident.as_str()),
            ("package", package.as_str()),
            ("package_path", package_path.as_str()),
            ("Service", service.as_str()),
            ("service_module", service_module.as_str()),
            ("jsonrpc_service", jsonrpc_service.as_str()),
            ("contract_file", contract_file.as_str()),
            ("Title", title.as_str()),
            ("runtime_dep", runtime_dep.as_str()),
            ("build_dep", build_dep.as_str()),
        ] {
            text = text.replace(&format!("{{{{{key}}}}}"), value);
        }
        text
    };
    let contract = fill(CONTRACT);
    // The contract must be valid as written: a package name or crate name that makes it
    // invalid is refused with the compiler's message.
    let compiled = svcc_frontend::compile_memory(
        &[(contract_file.as_str(), contract.as_str())],
        &svcc_frontend::Options::default(),
    );
    if let Some(d) = compiled.diagnostics.first() {
        return Err(format!(
            "the contract for `{name}` (package `{package}`) would not be clean: {}",
            svcc_frontend::render::plain(d, &compiled.sources).trim_end()
        ));
    }
    let dir = req.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(format!(
            "`{}` already exists and is not empty; nothing was written",
            dir.display()
        ));
    }
    let mut files: Vec<(String, String)> = TEMPLATES
        .iter()
        .map(|(path, t)| ((*path).to_string(), fill(t)))
        .collect();
    files.push((format!("idl/{contract_file}"), contract));
    files.push((format!("tests/{ident}.rs"), fill(TEST)));
    for (path, text) in &files {
        if let Some(left) = leftover_placeholder(text) {
            return Err(format!("internal error: `{left}` left unfilled in {path}"));
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        write(&dir.join(&path), &text)?;
        written.push(path);
    }
    // Line lengths and import order depend on the names: rustfmt settles them, as `cargo fmt`
    // would. Without rustfmt the files are still valid, only not in its layout.
    let rust: Vec<PathBuf> = written
        .iter()
        .filter(|p| p.ends_with(".rs"))
        .map(|p| dir.join(p))
        .collect();
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(&rust)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    Ok((dir, written))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// Cargo's rules, kept to what every platform and crates.io accept.
fn valid_crate_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64
        && !name.ends_with(['-', '_'])
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A TOML basic string holding a path.
fn toml_string(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `{{name}}` still in the text (GitHub's `${{ … }}` expressions are not ours).
fn leftover_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        if after.starts_with(|c: char| c.is_ascii_alphabetic())
            && let Some(end) = after.find("}}")
        {
            return Some(format!("{{{{{}}}}}", &after[..end]));
        }
        rest = after;
    }
    None
}
