//! `passkey-idp clients …`: registering relying services in the configured database.

use chrono::Utc;
use serde::Serialize;

use super::out::{self, say, Removal};
use super::ClientsCommand;
use crate::db::Db;
use crate::events::Event;
use crate::oidc::clients::{self, Client, ClientRefused, Clients, NewClient};
use crate::settings::Settings;
use crate::signing::rotation;

/// What `clients add --json` prints: the client as `clients list --json` shows it, and its
/// secret (`null` for a public client, and for one that existed already: a secret is shown
/// only once).
#[derive(Debug, Serialize)]
struct AddedClient<'a> {
    #[serde(flatten)]
    client: &'a Client,
    client_secret: Option<&'a str>,
}

/// Runs a `clients` command against the configured database.
pub async fn run_clients(
    cmd: ClientsCommand,
    json: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    let db =
        crate::startup::connect_database(&settings.database, crate::db::PoolUse::Command).await?;
    let declared = match &settings.oidc.clients_file {
        Some(path) => clients::load_file(path)?,
        None => Default::default(),
    };
    let registry = Clients::new(declared, db.clone());
    match cmd {
        ClientsCommand::Add {
            client_id,
            redirect_uris,
            public,
            name,
            post_logout_redirect_uris,
            scopes,
            id_token_alg,
            audiences,
            allowed_groups,
            if_missing,
        } => {
            let new = NewClient {
                client_id: &client_id,
                name: name.as_deref(),
                redirect_uris,
                post_logout_redirect_uris,
                public,
                scopes: scopes.as_deref(),
                id_token_alg: id_token_alg.as_deref(),
                audiences,
                allowed_groups,
            };
            match add(&registry, new, settings, &db).await {
                Err(e) if if_missing && exists(&e) => existing(&registry, &client_id, json).await,
                Err(e) => Err(e),
                Ok((client, secret)) => print_added(&client, secret.as_deref(), json),
            }
        }
        ClientsCommand::List => out::answer(json, &registry.list().await?[..], list),
        ClientsCommand::Remove {
            client_id,
            if_exists,
        } => remove(&registry, &client_id, if_exists, json).await,
    }
}

fn exists(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<ClientRefused>(),
        Some(ClientRefused::Exists(_) | ClientRefused::Declared(_))
    )
}

async fn add(
    registry: &Clients,
    new: NewClient<'_>,
    settings: &Settings,
    db: &Db,
) -> anyhow::Result<(Client, Option<String>)> {
    let (client, secret) = registry.add(new).await?;
    let store = crate::startup::key_store(&settings.keys, Some(db))?;
    if rotation::ensure_active(&store, client.id_token_alg, "cli", Utc::now())?.is_some() {
        super::record_key_change(settings).await;
    }
    Event::ClientAdded
        .now()
        .client(&client.client_id)
        .detail(kind(&client))
        .report();
    Ok((client, secret))
}

/// The secret alone on stdout (for scripts) and what was registered on stderr, or the client
/// with its secret as JSON.
fn print_added(client: &Client, secret: Option<&str>, json: bool) -> anyhow::Result<()> {
    let added = AddedClient {
        client,
        client_secret: secret,
    };
    if json {
        return out::json(&added);
    }
    eprintln!(
        "registered {} client {} (ID tokens {}; scopes: {})",
        kind(client),
        client.client_id,
        client.id_token_alg.name(),
        client.scopes.join(" ")
    );
    for uri in &client.redirect_uris {
        eprintln!("redirect URI: {uri}");
    }
    match secret {
        Some(secret) => {
            eprintln!("client secret (shown once, store it now) on stdout:");
            say!("{secret}")?;
        }
        None => eprintln!("public client: no secret; the client must use PKCE (S256)."),
    }
    Ok(())
}

/// `clients add --if-missing` for a client id that is taken: the client as it is, no secret.
async fn existing(registry: &Clients, client_id: &str, json: bool) -> anyhow::Result<()> {
    let client = registry
        .find(client_id)
        .await?
        .ok_or_else(|| ClientRefused::NoSuchClient(client_id.to_string()))?;
    if json {
        return out::json(&AddedClient {
            client: &client,
            client_secret: None,
        });
    }
    eprintln!(
        "client {client_id} exists already ({} client, source: {}); its secret is not shown again",
        kind(&client),
        client.source
    );
    Ok(())
}

async fn remove(
    registry: &Clients,
    client_id: &str,
    if_exists: bool,
    json: bool,
) -> anyhow::Result<()> {
    let removed = match registry.remove(client_id).await {
        Err(e) if if_exists && is_missing(&e) => None,
        done => done.map(|()| Some(client_id))?,
    };
    if removed.is_some() {
        Event::ClientRemoved.now().client(client_id).report();
    }
    out::answer(json, &Removal { removed }, |r| match r.removed {
        Some(id) => {
            say!("removed client {id}")?;
            say!("its codes and refresh tokens are refused from now on")?;
            say!("access tokens it was issued run out within their lifetime")
        }
        None => say!("there is no registered client {client_id}: nothing to remove"),
    })
}

fn is_missing(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<ClientRefused>(),
        Some(ClientRefused::NoSuchClient(_))
    )
}

fn kind(client: &Client) -> &'static str {
    if client.public {
        "public"
    } else {
        "confidential"
    }
}

fn list(all: &[Client]) -> std::io::Result<()> {
    say!(
        "{:<24} {:<12} {:<8} {:<8} REDIRECT URIS",
        "CLIENT ID",
        "TYPE",
        "ID TOKEN",
        "SOURCE"
    )?;
    for c in all {
        say!(
            "{:<24} {:<12} {:<8} {:<8} {}",
            c.client_id,
            kind(c),
            c.id_token_alg.name(),
            c.source,
            c.redirect_uris.join(" ")
        )?;
    }
    Ok(())
}
