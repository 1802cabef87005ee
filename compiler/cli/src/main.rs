//! The `svcc` command line: `check`, `fmt`, `build`, `watch`, `breaking`, `init`, `lsp`,
//! `explain`.
//!
//! Exit codes: 0 no errors (warnings allowed unless denied), 1 errors in the input,
//! 2 usage, I/O or internal errors. A panic never escapes: it is reported as an internal error.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use svcc_frontend::codes;
use svcc_frontend::config::Config;
use svcc_frontend::render::{self, Format};
use svcc_model::Severity;

mod breaking;
mod init;
mod lsp;
mod watch;

#[derive(Parser, Debug)]
#[command(
    name = "svcc",
    version,
    about = "Contract-first toolchain for services: check, format, build (Rust, OpenAPI, TypeScript), watch and explain .svc contracts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check contracts and report every problem (the IDL lint step for CI).
    Check(CheckArgs),
    /// Rewrite contracts in the canonical style.
    Fmt(FmtArgs),
    /// Generate code from contracts (checks first; nothing is written on errors).
    Build(BuildArgs),
    /// Re-check on every change, and rebuild when clean (with `--out`).
    Watch(WatchArgs),
    /// Report breaking changes against an older version, with the wires each one breaks.
    Breaking(BreakingArgs),
    /// Write a new service crate: contract, build.rs, implementation, main, test, CI hints.
    Init(InitArgs),
    /// Run the language server on stdin and stdout (for editors).
    Lsp,
    /// Print the long explanation of an error code, lint or breaking-change rule.
    Explain {
        /// An error code such as `E0102`, a lint such as `implicit_tag`, or a breaking-change
        /// rule such as `field_renamed`.
        code: String,
    },
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Files or directories (searched recursively for `*.svc`). Default: the current directory.
    paths: Vec<PathBuf>,
    /// An include root for imports (repeatable).
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    include: Vec<PathBuf>,
    /// Output format of diagnostics.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Treat warnings as errors (exit 1 when there are any).
    #[arg(long)]
    deny_warnings: bool,
    /// Configuration file (default: the nearest `svcc.toml` above the first path).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// What `build` and `watch` generate: targets, their options, imports, configuration.
#[derive(Args, Debug)]
struct GenerationArgs {
    /// Targets to generate, comma-separated (`--target list` lists every target and its options).
    #[arg(long, value_delimiter = ',', default_value = "rust")]
    target: Vec<String>,
    /// A target option, `TARGET.OPTION=VALUE` (repeatable; overrides `[target.TARGET]` in svcc.toml).
    #[arg(long = "opt", value_name = "TARGET.OPTION=VALUE")]
    opt: Vec<String>,
    /// An include root for imports (repeatable).
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    include: Vec<PathBuf>,
    /// Configuration file (default: the nearest `svcc.toml` above the first path).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// Files or directories (searched recursively for `*.svc`).
    paths: Vec<PathBuf>,
    /// Where to write; the root module is `DIR/svc.rs`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    generation: GenerationArgs,
    /// Do not generate server glue (`--opt rust.server=false`).
    #[arg(long)]
    no_server: bool,
    /// Do not generate clients (`--opt rust.client=false`).
    #[arg(long)]
    no_client: bool,
    /// OpenAPI version: 3.0 (3.0.3, the default) or 3.1 (`--opt openapi.version=…`).
    #[arg(long, value_name = "VERSION")]
    openapi_version: Option<String>,
    /// OpenAPI as YAML instead of JSON (also chosen by `--out FILE.yaml`).
    #[arg(long)]
    openapi_yaml: bool,
    /// One OpenAPI document for every package (also chosen by `--out FILE.json|yaml`).
    #[arg(long)]
    openapi_merged: bool,
}

#[derive(Args, Debug)]
struct WatchArgs {
    /// Files or directories (searched recursively for `*.svc`). Default: the current directory.
    paths: Vec<PathBuf>,
    /// Where to write the targets when the contracts are clean; without it, only check.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    generation: GenerationArgs,
    /// Clear the screen before each run.
    #[arg(long)]
    clear: bool,
    /// Milliseconds to wait for more changes before running.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    debounce: u64,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Args, Debug)]
struct InitArgs {
    /// The crate's name (also the folder, unless `--dir`).
    name: String,
    /// The contract's package (default: NAME.v1).
    #[arg(long, value_name = "a.b.v1")]
    package: Option<String>,
    /// A checkout of svcc: depend on it by path (svcc is not on crates.io yet); without it, the
    /// dependencies are versions.
    #[arg(long, value_name = "DIR")]
    svcc_path: Option<PathBuf>,
    /// Where to write the crate (default: ./NAME); it must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct BreakingArgs {
    /// The old version: a folder or file, or a git revision of the repository holding NEW
    /// (`main`, `HEAD~1`, a tag).
    #[arg(long, value_name = "OLD")]
    against: String,
    /// The new version: a folder or file. Default: the current directory.
    new: Option<PathBuf>,
    /// An include root for imports (repeatable; used for both versions).
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    include: Vec<PathBuf>,
    /// Output format of the findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Configuration file (default: the nearest `svcc.toml` above NEW): `[breaking]`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct FmtArgs {
    /// Files or directories (searched recursively for `*.svc`). Default: the current directory.
    paths: Vec<PathBuf>,
    /// Do not write; show what would change as a unified diff and exit 1 if anything would.
    #[arg(long)]
    check: bool,
    /// With `--check`: list the files that would change instead of showing the diff.
    #[arg(short = 'l', long = "list", requires = "check")]
    list: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutputFormat {
    /// Readable reports with the source (on stderr).
    Human,
    /// JSON Lines, one object per diagnostic.
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// One SARIF 2.1.0 log (code scanning and review hosts).
    Sarif,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal: `auto` colours terminals
    /// unless `NO_COLOR` is set.
    fn enabled(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// Where the last panic happened, for the internal-error report.
static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    std::panic::set_hook(Box::new(|info| {
        let loc = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if let Ok(mut p) = PANIC.lock() {
            *p = Some(format!("{msg} (at {loc})"));
        }
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(code) => code,
        Err(_) => {
            let what = PANIC
                .lock()
                .ok()
                .and_then(|p| p.clone())
                .unwrap_or_default();
            eprintln!("error[E0999]: internal compiler error: {what}");
            eprintln!("  = help: this is a bug in svcc; please report it with the input files");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Fmt(args) => fmt(&args),
        Command::Build(args) => build(&args),
        Command::Watch(args) => watch(&args),
        Command::Breaking(args) => breaking_changes(&args),
        Command::Init(args) => init_crate(&args),
        Command::Lsp => match lsp::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: svcc lsp: {e}");
                ExitCode::from(1)
            }
        },
        Command::Explain { code } => explain(&code),
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// The `.svc` files among `paths` (folders searched); none at all is an error.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let files = svcc_frontend::collect_inputs(paths)?;
    if files.is_empty() {
        return Err(svcc_frontend::no_inputs_error(paths));
    }
    Ok(files)
}

/// `svcc.toml`: the one named with `--config`, else the nearest above the first path, else
/// the defaults.
fn load_config(explicit: Option<&PathBuf>, paths: &[PathBuf]) -> Result<Config, String> {
    let path = explicit.cloned().or_else(|| {
        let start = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        svcc_frontend::config::discover(&start)
    });
    match path {
        Some(p) => svcc_frontend::config::load(&p),
        None => Ok(Config::default()),
    }
}

/// The targets and their options, from the registry: `svcc.toml`'s `[target.NAME]` tables
/// first, then `--opt TARGET.OPTION=VALUE` (and the older flags, applied by the caller).
/// `build`, `watch` and `build.rs` all set options through the same names.
fn generation(
    targets: &[String],
    opts: &[String],
    config: &Config,
) -> Result<svcc_build::Builder, String> {
    let names: Vec<&str> = targets.iter().map(String::as_str).collect();
    for name in &names {
        svcc_codegen::find(name)?;
    }
    let mut b = svcc_build::configure()
        .targets(&names)
        .cargo_directives(false);
    for (target, options) in &config.targets {
        svcc_codegen::find(target).map_err(|e| format!("invalid `svcc.toml`: {e}"))?;
        for (name, value) in options {
            b.try_option(target, name, value)
                .map_err(|e| format!("invalid `svcc.toml`: [target.{target}]: {e}"))?;
        }
    }
    for o in opts {
        let (key, value) = o
            .split_once('=')
            .ok_or_else(|| format!("`--opt {o}`: write TARGET.OPTION=VALUE"))?;
        let (target, name) = key
            .split_once('.')
            .ok_or_else(|| format!("`--opt {o}`: write TARGET.OPTION=VALUE"))?;
        svcc_codegen::find(target)?;
        b.try_option(target, name, value)
            .map_err(|e| format!("`--opt {o}`: {e}"))?;
    }
    Ok(b)
}

/// `--target list`: print the registry and stop.
fn lists_targets(targets: &[String]) -> bool {
    if targets.iter().any(|t| t == "list") {
        print!("{}", svcc_codegen::describe_targets());
        return true;
    }
    false
}

fn watch(args: &WatchArgs) -> ExitCode {
    if lists_targets(&args.generation.target) {
        return ExitCode::SUCCESS;
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    // An empty folder is fine here: the first contract may not be written yet.
    if let Err(e) = svcc_frontend::collect_inputs(&paths) {
        return usage_error(&e);
    }
    let config = match load_config(args.generation.config.as_ref(), &paths) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let builder = match generation(&args.generation.target, &args.generation.opt, &config) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    let mut include = args.generation.include.clone();
    include.extend(config.include.iter().cloned());
    let options = watch::WatchOptions {
        paths,
        include,
        out: args.out.clone(),
        builder,
        clear: args.clear,
        debounce: std::time::Duration::from_millis(args.debounce),
        color: args.color.enabled(std::io::stdout().is_terminal()),
        lints: config.lints,
    };
    match watch::watch(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => usage_error(&e),
    }
}

fn build(args: &BuildArgs) -> ExitCode {
    if lists_targets(&args.generation.target) {
        return ExitCode::SUCCESS;
    }
    let Some(out_path) = &args.out else {
        return usage_error(
            "`svcc build` needs `--out DIR` (or `--out FILE.json|yaml` for one OpenAPI document)",
        );
    };
    if let Err(e) = collect(&args.paths) {
        return usage_error(&e);
    }
    let config = match load_config(args.generation.config.as_ref(), &args.paths) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let mut b = match generation(&args.generation.target, &args.generation.opt, &config) {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    if let Some(v) = &args.openapi_version {
        let v = match v.as_str() {
            "3.0" | "3.0.3" => "3.0",
            "3.1" | "3.1.0" => "3.1",
            other => {
                return usage_error(&format!("unknown OpenAPI version `{other}` (3.0 or 3.1)"));
            }
        };
        b = b.option("openapi", "version", v);
    }
    // `--out api.yaml` with the OpenAPI target alone: one merged document, its format by
    // extension.
    let ext = out_path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let openapi_only = args
        .generation
        .target
        .iter()
        .all(|t| svcc_codegen::find(t).is_ok_and(|t| t.name() == "openapi"));
    let single_file = openapi_only && matches!(ext, "json" | "yaml" | "yml");
    if args.openapi_yaml || matches!(ext, "yaml" | "yml") {
        b = b.option("openapi", "yaml", "true");
    }
    if args.openapi_merged || single_file {
        b = b.option("openapi", "merged", "true");
    }
    if args.no_server {
        b = b.server(false);
    }
    if args.no_client {
        b = b.client(false);
    }
    let out_dir = if single_file {
        std::env::temp_dir().join(format!("svcc-openapi-{}", std::process::id()))
    } else {
        out_path.clone()
    };
    let mut b = b.out_dir(&out_dir);
    for i in &args.generation.include {
        b = b.include(i);
    }
    let started = std::time::Instant::now();
    match b.run(&args.paths) {
        Ok(out) if single_file => {
            let Some(doc) = out.files.first() else {
                return usage_error("no document was generated");
            };
            let moved = std::fs::read(doc).and_then(|bytes| {
                if let Some(parent) = out_path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                svcc_build::write_if_changed(out_path, &bytes)?;
                std::fs::remove_dir_all(&out_dir)
            });
            if let Err(e) = moved {
                return usage_error(&format!("cannot write `{}`: {e}", out_path.display()));
            }
            eprintln!("svcc: wrote {}", out_path.display());
            ExitCode::SUCCESS
        }
        Ok(out) => {
            for w in &out.warnings {
                eprint!("{w}");
            }
            eprintln!(
                "svcc: generated {} file{} ({} changed) from {} source{} in {:.0?}",
                out.files.len(),
                if out.files.len() == 1 { "" } else { "s" },
                out.written.len(),
                out.sources.len(),
                if out.sources.len() == 1 { "" } else { "s" },
                started.elapsed()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let files = match collect(&args.paths) {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    let config = match load_config(args.config.as_ref(), &args.paths) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let mut include = args.include.clone();
    include.extend(config.include.iter().cloned());
    let options = svcc_frontend::Options {
        include,
        lints: config.lints,
    };
    let mut comp = svcc_frontend::compile(&files, &options);
    if args.deny_warnings {
        for d in &mut comp.diagnostics {
            d.severity = Severity::Error;
        }
    }
    let color = args.color.enabled(std::io::stderr().is_terminal());
    let format = match args.format {
        OutputFormat::Human => Format::Human,
        OutputFormat::Json => Format::Json,
        OutputFormat::Github => Format::Github,
        OutputFormat::Sarif => {
            let log = render::sarif(&comp.diagnostics, &comp.sources, &|_| None, &|_| None);
            let _ = writeln!(std::io::stdout().lock(), "{log}");
            Format::Json
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr().lock();
    let listed = matches!(args.format, OutputFormat::Sarif);
    for d in comp.diagnostics.iter().filter(|_| !listed) {
        let _ = match format {
            Format::Human => write!(err, "{}", render::human(d, &comp.sources, color)),
            Format::Json => writeln!(out, "{}", render::json(d, &comp.sources)),
            Format::Github => writeln!(out, "{}", render::github(d, &comp.sources)),
        };
    }
    let _ = writeln!(
        err,
        "{}",
        render::summary(comp.error_count(), comp.warning_count(), comp.sources.len())
    );
    if comp.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn fmt(args: &FmtArgs) -> ExitCode {
    let files = match collect(&args.paths) {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    let mut changed = Vec::new();
    let mut failed = false;
    let mut diffs = String::new();
    for path in &files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return usage_error(&format!("cannot read `{}`: {e}", path.display())),
        };
        let original = String::from_utf8_lossy(&bytes).into_owned();
        match svcc_frontend::fmt::format_file(path, bytes) {
            Ok(formatted) => {
                if formatted.changed {
                    changed.push(path.clone());
                    if args.check && !args.list {
                        let name = path.display().to_string();
                        let diff = similar::TextDiff::from_lines(&original, &formatted.text);
                        diffs.push_str(
                            &diff
                                .unified_diff()
                                .context_radius(3)
                                .header(&name, &format!("{name} (formatted)"))
                                .to_string(),
                        );
                    }
                    if !args.check
                        && let Err(e) = std::fs::write(path, formatted.text)
                    {
                        return usage_error(&format!("cannot write `{}`: {e}", path.display()));
                    }
                }
            }
            Err((sources, diags)) => {
                failed = true;
                let color = std::io::stderr().is_terminal();
                for d in &diags {
                    eprint!("{}", render::human(d, &sources, color));
                }
            }
        }
    }
    if args.check && !args.list {
        print!("{diffs}");
    }
    for p in &changed {
        if args.list {
            println!("{}", p.display());
        } else if !args.check {
            eprintln!("formatted {}", p.display());
        }
    }
    if failed || (args.check && !changed.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn init_crate(args: &InitArgs) -> ExitCode {
    let request = init::Request {
        name: args.name.clone(),
        package: args.package.clone(),
        svcc_path: args.svcc_path.clone(),
        dir: args.dir.clone(),
    };
    match init::run(&request) {
        Ok((dir, files)) => {
            for f in &files {
                eprintln!("  created {}", dir.join(f).display());
            }
            eprintln!(
                "svcc: `{}` is ready: cd {} && cargo test && cargo run",
                args.name,
                dir.display()
            );
            if args.svcc_path.is_none() {
                eprintln!(
                    "  note: its dependencies are svcc {} from crates.io, where svcc is not published yet; \
                     use `--svcc-path CHECKOUT` to depend on a checkout",
                    env!("CARGO_PKG_VERSION")
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(&e),
    }
}

fn breaking_changes(args: &BreakingArgs) -> ExitCode {
    let new = args.new.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = match load_config(args.config.as_ref(), std::slice::from_ref(&new)) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let mut include = args.include.clone();
    include.extend(config.include.iter().cloned());
    let request = breaking::Request {
        against: args.against.clone(),
        new,
        include,
        format: match args.format {
            OutputFormat::Human => breaking::Format::Human,
            OutputFormat::Json => breaking::Format::Json,
            OutputFormat::Github => breaking::Format::Github,
            OutputFormat::Sarif => breaking::Format::Sarif,
        },
        color: args.color.enabled(std::io::stderr().is_terminal()),
        settings: config.breaking.clone(),
        lints: config.lints.clone(),
    };
    breaking::run(&request)
}

fn explain(code: &str) -> ExitCode {
    if let Some(c) = codes::lookup(code) {
        print!("{}", codes::explain(c));
        return ExitCode::SUCCESS;
    }
    if let Some(r) = svcc_frontend::breaking::lookup(code) {
        print!("{}", svcc_frontend::breaking::explain(r));
        return ExitCode::SUCCESS;
    }
    if let Some(l) = svcc_frontend::lint::LINTS.iter().find(|l| l.name == code) {
        print!("{}", svcc_frontend::lint::explain(l));
        return ExitCode::SUCCESS;
    }
    let all = codes::CODES
        .iter()
        .map(|c| c.code)
        .chain(svcc_frontend::lint::LINTS.iter().map(|l| l.name))
        .chain(svcc_frontend::breaking::RULE_NAMES.iter().copied());
    let hint = svcc_model::diagnostic::suggest(code, all)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    usage_error(&format!("no such error code or lint `{code}`{hint}"))
}
