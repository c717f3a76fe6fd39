//! The `portal-sso` command: `serve`, `check-config`, `demo`, `kustomer-secret`, `token`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use portal_sso::sidecar::{kustomer_secret, token_cli};

/// Single sign-on into hosted knowledge-base portals (Kustomer, Aha!).
#[derive(Debug, Parser)]
#[command(name = "portal-sso", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch a Kustomer knowledge base's signing secret with an API key.
    KustomerSecret(kustomer_secret::KustomerSecretArgs),
    /// Sign or inspect portal tokens.
    #[command(subcommand)]
    Token(token_cli::TokenCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::KustomerSecret(args) => kustomer_secret::run(args).await,
        Command::Token(command) => token_cli::run(command),
    }
}
