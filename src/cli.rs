//! The command line (API.md, "Running it"). Key commands work on the key folder directly, with
//! or without a running server: running instances pick changes up within the reload interval.

use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::tokens::rotation::{self, Policy};
use crate::tokens::KeyAlg;

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
    /// Manage the signing key set.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// The key set: kid, alg, state, created, next transition.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a key in state `next` (published, not yet signing).
    Generate {
        #[arg(long, default_value = "ES256", value_parser = parse_alg)]
        alg: KeyAlg,
    },
    /// For one algorithm: `next` → `active`, `active` → `retiring`.
    Rotate {
        #[arg(long, default_value = "ES256", value_parser = parse_alg)]
        alg: KeyAlg,
        /// Rotate even though caches may not have the new key yet.
        #[arg(long)]
        force: bool,
    },
    /// Stop publishing a `retiring` key once no token it signed can still be valid.
    Retire {
        kid: String,
        /// Retire even though tokens it signed may still be valid.
        #[arg(long)]
        force: bool,
    },
    /// Emergency: stop publishing and trusting a key now.
    Revoke { kid: String },
}

fn parse_alg(s: &str) -> Result<KeyAlg, String> {
    KeyAlg::parse(s).ok_or_else(|| format!("'{s}' is not one of: ES256, RS256, EdDSA"))
}

fn when(at: chrono::DateTime<Utc>) -> String {
    let now = Utc::now();
    if at <= now {
        "now".to_string()
    } else {
        format!(
            "{} (in {})",
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            rotation::human(at - now)
        )
    }
}

/// Runs a `keys` command, printing what it did and what happens next.
pub fn run_keys(cmd: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    let dir = settings.keys_dir.as_path();
    let policy = Policy::from_settings(settings);
    let reload = settings.keys_reload_interval.as_secs();
    let now = Utc::now();
    match cmd {
        KeysCommand::List { json } => {
            let keys = rotation::list(dir, &policy)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                println!(
                    "{:<44}  {:<6} {:<9} {:<20} NEXT",
                    "KID", "ALG", "STATE", "CREATED"
                );
                for k in keys {
                    let next = match (&k.next_transition, k.next_transition_at) {
                        (Some(what), Some(at)) => format!("{what}: {}", when(at)),
                        _ => "-".to_string(),
                    };
                    println!(
                        "{:<44}  {:<6} {:<9} {:<20} {next}",
                        k.kid,
                        k.alg,
                        k.state,
                        k.created.format("%Y-%m-%d %H:%M:%S")
                    );
                }
            }
        }
        KeysCommand::Generate { alg } => {
            let e = rotation::generate(dir, alg, "cli", now)?;
            let signs_from = e.since() + chrono::Duration::from_std(policy.publish_before_signing)?;
            println!(
                "generated {} key {} in state next: published within {reload}s, not signing.",
                alg.name(),
                e.kid
            );
            println!(
                "next: `passkey-idp keys rotate --alg {}` is allowed {}.",
                alg.name(),
                when(signs_from)
            );
        }
        KeysCommand::Rotate { alg, force } => {
            let r = rotation::rotate(dir, alg, force, &policy, "cli", now)?;
            println!(
                "{} now signs {} tokens (running instances switch within {reload}s).",
                r.activated.kid,
                alg.name()
            );
            if let Some(old) = r.retiring {
                let retire_at =
                    old.since() + chrono::Duration::from_std(policy.keep_after_signing)?;
                println!(
                    "{} is retiring: still published so its tokens verify. next: `passkey-idp keys retire {}` is allowed {}.",
                    old.kid,
                    old.kid,
                    when(retire_at)
                );
            }
        }
        KeysCommand::Retire { kid, force } => {
            let e = rotation::retire(dir, &kid, force, &policy, "cli", now)?;
            println!(
                "{} retired: gone from the JWKS within {reload}s, private key deleted.",
                e.kid
            );
        }
        KeysCommand::Revoke { kid } => {
            let r = rotation::revoke(dir, &kid, "cli", now)?;
            println!(
                "{} revoked: gone from the JWKS and no longer trusted within {reload}s, private key deleted.",
                r.revoked.kid
            );
            if let Some(new) = r.replacement {
                println!(
                    "{} now signs {} tokens in its place (relying services fetch the JWKS again when they meet its kid).",
                    new.kid,
                    new.alg.name()
                );
            }
        }
    }
    Ok(())
}
