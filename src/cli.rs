//! The command line (API.md, "Running it").

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "passkey-idp",
    version,
    about = "A passkey (WebAuthn) identity provider"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}
