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
    /// Manage the relying services (OIDC clients).
    #[command(subcommand)]
    Clients(ClientsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a relying service; a confidential client's secret is printed once.
    Add {
        #[arg(long = "client-id")]
        client_id: String,
        /// Exact redirect URI (repeat for several); matched byte for byte.
        #[arg(long = "redirect-uri", required = true, num_args = 1..)]
        redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE proves possession).
        #[arg(long)]
        public: bool,
        #[arg(long)]
        name: Option<String>,
        /// Where RP-initiated logout may return to (repeat for several).
        #[arg(long = "post-logout-redirect-uri", num_args = 1..)]
        post_logout_redirect_uris: Vec<String>,
        /// Allowed scopes (default: "openid profile email offline_access").
        #[arg(long)]
        scopes: Option<String>,
        /// ID token signing algorithm: RS256 (default), ES256 or EdDSA.
        #[arg(long = "id-token-alg")]
        id_token_alg: Option<String>,
    },
    /// The registered clients (and those declared in oidc.clients_file).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a registered client.
    Remove { client_id: String },
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

/// Runs a `clients` command against the configured database.
pub async fn run_clients(cmd: ClientsCommand, settings: &Settings) -> anyhow::Result<()> {
    use crate::oidc::clients;
    let pool = crate::startup::connect_database(settings).await?;
    let declared = match &settings.clients_file {
        Some(path) => clients::load_file(path)?,
        None => Default::default(),
    };
    let mut conn = pool
        .get()
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    let conn = &mut *conn;
    match cmd {
        ClientsCommand::Add {
            client_id,
            redirect_uris,
            public,
            name,
            post_logout_redirect_uris,
            scopes,
            id_token_alg,
        } => {
            if declared.contains_key(&client_id) {
                anyhow::bail!(
                    "client {client_id} is declared in oidc.clients_file; change it there"
                );
            }
            let keys_dir = settings.keys_dir.clone();
            {
                let (client, secret) = clients::add(
                    conn,
                    clients::NewClient {
                        client_id: &client_id,
                        name: name.as_deref(),
                        redirect_uris,
                        post_logout_redirect_uris,
                        public,
                        scopes: scopes.as_deref(),
                        id_token_alg: id_token_alg.as_deref(),
                    },
                )?;
                rotation::ensure_active(&keys_dir, client.id_token_alg, "cli", Utc::now())?;
                println!(
                    "registered {} client {} (ID tokens {}; scopes: {})",
                    if client.public {
                        "public"
                    } else {
                        "confidential"
                    },
                    client.client_id,
                    client.id_token_alg.name(),
                    client.scopes.join(" ")
                );
                for uri in &client.redirect_uris {
                    println!("  redirect URI: {uri}");
                }
                match secret {
                    Some(secret) => {
                        println!("client secret (shown once, store it now): {secret}");
                    }
                    None => println!("public client: no secret; the client must use PKCE (S256)."),
                }
                tracing::info!(target: "audit", event = "client_added", client_id = %client.client_id, public = client.public, "client registered");
                Ok(())
            }
        }
        ClientsCommand::List { json } => {
            let all = clients::list(conn, &declared)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                println!(
                    "{:<24} {:<12} {:<8} {:<8} REDIRECT URIS",
                    "CLIENT ID", "TYPE", "ID TOKEN", "SOURCE"
                );
                for c in all {
                    println!(
                        "{:<24} {:<12} {:<8} {:<8} {}",
                        c.client_id,
                        if c.public { "public" } else { "confidential" },
                        c.id_token_alg.name(),
                        c.source,
                        c.redirect_uris.join(" ")
                    );
                }
            }
            Ok(())
        }
        ClientsCommand::Remove { client_id } => {
            if declared.contains_key(&client_id) {
                anyhow::bail!(
                    "client {client_id} is declared in oidc.clients_file; remove it there"
                );
            }
            if !crate::db::clients::remove(conn, &client_id)? {
                anyhow::bail!("there is no registered client {client_id}");
            }
            println!("removed client {client_id}: its codes and refresh tokens are refused from now on (access tokens run out within their lifetime).");
            tracing::info!(target: "audit", event = "client_removed", client_id = %client_id, "client removed");
            Ok(())
        }
    }
}
