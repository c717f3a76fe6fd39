//! The `portal-sso` command: `serve`, `check-config`, `healthcheck`, `demo`,
//! `kustomer-secret`, `token`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use portal_sso_sidecar::tools::{healthcheck, kustomer_secret, token};
use portal_sso_sidecar::{self as sidecar, SidecarConfig};

/// Single sign-on from an app with its own login into hosted help centers, knowledge
/// bases, docs sites and feedback boards (Kustomer, Aha!, Zendesk, GitBook, Canny and more).
// Vendor names are prose in the help text, not code.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Parser)]
#[command(name = "portal-sso", version)]
struct Cli {
    /// How log lines are written (filter with `RUST_LOG`, default `info`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the reverse proxy until SIGTERM or SIGINT, then drains; SIGHUP reloads the
    /// config.
    Serve(ConfigArgs),
    /// Checks the config file and prints a summary, secrets redacted.
    CheckConfig(CheckArgs),
    /// Runs the whole flow on one machine, nothing to configure: an example app behind
    /// the sidecar, and mock Kustomer and Aha! portals.
    Demo {
        /// The sidecar's address; the mock portals take the next two ports, the sidecar's
        /// admin listener the one after them (on loopback).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Asks a running sidecar's admin `/healthz`: exit 0 on a 200, 1 otherwise.
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Fetches a Kustomer knowledge base's signing secret with an API key.
    KustomerSecret(kustomer_secret::KustomerSecretArgs),
    /// Signs or inspects portal tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// The config file (TOML).
    #[arg(long, env = "PORTAL_SSO_CONFIG")]
    config: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Also fetches each OpenID provider's discovery document and key set, and says what
    /// it found (exit code 1 when one cannot be read).
    #[arg(long)]
    online: bool,
}

/// The exit code for a config file that cannot be used.
const CONFIG_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Serve(args) => {
            let config = match load(&args) {
                Ok(config) => config,
                Err(code) => return code,
            };
            // `serve` deals connections out to one runtime per CPU, this one included.
            run(tokio::runtime::Builder::new_current_thread(), async move {
                let reload = sidecar::reload::Reload::on_sighup(args.config)?;
                sidecar::serve(config, Some(reload), shutdown_signal()).await
            })
        }
        Command::CheckConfig(args) => match load(&args.config) {
            Ok(config) => {
                print!("{}", config.summary());
                for warning in config.warnings() {
                    eprintln!("portal-sso: warning: {warning}");
                }
                println!("config OK");
                if args.online {
                    check_online(&config)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(code) => code,
        },
        Command::Healthcheck(args) => healthcheck::run(&args),
        Command::Demo { listen } => run(
            tokio::runtime::Builder::new_multi_thread(),
            sidecar::demo::run(listen, shutdown_signal()),
        ),
        Command::KustomerSecret(args) => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(kustomer_secret::run(args)),
            Err(err) => {
                eprintln!("portal-sso: cannot start the runtime: {err}");
                ExitCode::FAILURE
            }
        },
        Command::Token(command) => token::run(command),
    }
}

/// `check-config --online`: what each OpenID provider's discovery gives.
fn check_online(config: &SidecarConfig) -> ExitCode {
    let Some(settings) = config.oidc_settings() else {
        println!("online: no OpenID provider to fetch");
        return ExitCode::SUCCESS;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("portal-sso: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(sidecar::oidc::online::report(settings)) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(report) => {
            print!("{report}");
            ExitCode::FAILURE
        }
    }
}

/// Reads and checks the config, within the time limit: a secret file that blocks (a FIFO,
/// a hung mount) is a config error naming it, not a hang.
fn load(args: &ConfigArgs) -> Result<SidecarConfig, ExitCode> {
    SidecarConfig::load_within(&args.config, sidecar::config::LOAD_TIME_LIMIT).map_err(|err| {
        eprintln!("portal-sso: config error: {err}");
        ExitCode::from(CONFIG_ERROR)
    })
}

fn run(
    mut runtime: tokio::runtime::Builder,
    task: impl Future<Output = std::io::Result<()>>,
) -> ExitCode {
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("portal-sso: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("portal-sso: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Logs to standard error at `info`, or as `RUST_LOG` says in target=level directives
/// (`debug`, `portal_sso=debug,hyper=warn`); a `RUST_LOG` that does not read so is ignored.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => registry.with(layer).init(),
        LogFormat::Json => registry.with(layer.json()).init(),
    }
}
