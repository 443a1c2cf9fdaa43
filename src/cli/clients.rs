//! `passkey-idp clients …`: registering relying services in the configured database.

use std::sync::Arc;

use super::ClientsCommand;
use crate::admin::Admin;
use crate::db::Db;
use crate::oidc::clients::{self, Client, Clients, NewClient};
use crate::settings::Settings;

fn admin(db: &Db, settings: &Settings) -> Admin {
    Admin::new(db.clone(), &settings.site().issuer)
}

/// Runs a `clients` command against the configured database.
pub async fn run_clients(cmd: ClientsCommand, settings: &Settings) -> anyhow::Result<()> {
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
            add(&registry, new, settings, &db).await
        }
        ClientsCommand::List { json } => list(&registry.list().await?, json),
        ClientsCommand::Remove { client_id } => {
            admin(&db, settings)
                .client_remove(&registry, &client_id)
                .await?;
            println!("removed client {client_id}: its codes and refresh tokens are refused from now on (access tokens run out within their lifetime).");
            Ok(())
        }
    }
}

async fn add(
    registry: &Clients,
    new: NewClient<'_>,
    settings: &Settings,
    db: &Db,
) -> anyhow::Result<()> {
    let admin = admin(db, settings);
    let (client, secret) = admin.client_add(registry, new).await?;
    let store = Arc::new(crate::startup::key_store(&settings.keys, Some(db))?);
    admin
        .ensure_signing_key(&store, client.id_token_alg)
        .await?;
    println!(
        "registered {} client {} (ID tokens {}; scopes: {})",
        kind(&client),
        client.client_id,
        client.id_token_alg.name(),
        client.scopes.join(" ")
    );
    for uri in &client.redirect_uris {
        println!("  redirect URI: {uri}");
    }
    match secret {
        Some(secret) => println!("client secret (shown once, store it now): {secret}"),
        None => println!("public client: no secret; the client must use PKCE (S256)."),
    }
    Ok(())
}

fn kind(client: &Client) -> &'static str {
    if client.public {
        "public"
    } else {
        "confidential"
    }
}

fn list(all: &[Client], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(all)?);
        return Ok(());
    }
    println!(
        "{:<24} {:<12} {:<8} {:<8} REDIRECT URIS",
        "CLIENT ID", "TYPE", "ID TOKEN", "SOURCE"
    );
    for c in all {
        println!(
            "{:<24} {:<12} {:<8} {:<8} {}",
            c.client_id,
            kind(c),
            c.id_token_alg.name(),
            c.source,
            c.redirect_uris.join(" ")
        );
    }
    Ok(())
}
