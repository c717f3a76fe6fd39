//! The `portal-sso` command: `serve`, `check-config`, `demo`.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Single sign-on into hosted knowledge-base portals.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole flow on one machine: an app, a mock Kustomer portal, a mock Aha! knowledge base.
    Demo {
        /// Where the app listens; the mock portals take the next two ports.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { listen } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .with_writer(std::io::stderr)
                .init();
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            match portal_sso::sidecar::demo::run(listen, shutdown).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("portal-sso: {err}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
