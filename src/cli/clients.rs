//! `passkey-idp clients …`: relying services in the configured database, through the same
//! domain operations as the admin API ([`crate::admin::clients`]), so each change stores its
//! event with the operator as actor.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::out::{self, say, Removal};
use super::{ClientUpdate, ClientsCommand};
use crate::admin::clients::{ClientChanges, ClientView, RotatedSecret, ScopeList};
use crate::admin::{Admin, AdminError};
use crate::oidc::clients::{self, Client, Clients, NewClient};
use crate::settings::Settings;

/// What `clients add --json` prints (as `POST /clients` answers): the client, and its secret
/// (`null` for a public client, and for one that existed already: a secret is shown only once).
#[derive(Debug, Serialize)]
struct ClientAndSecret {
    #[serde(flatten)]
    client: ClientView,
    client_secret: Option<String>,
}

/// `--grace`: a duration such as 24h, or 0 for none.
pub fn parse_grace(text: &str) -> Result<Duration, String> {
    let digits = text.trim().trim_end_matches(['s', 'm', 'h', 'd']);
    if !digits.is_empty() && digits.chars().all(|c| c == '0') {
        return Ok(Duration::ZERO);
    }
    super::users::parse_ttl(text)
}

/// What a command needs: the operator, and every client (declared and registered).
struct Registry {
    admin: Admin,
    clients: Clients,
    settings: Settings,
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
    let r = Registry {
        admin: Admin::new(db.clone(), &settings.site().issuer),
        clients: Clients::new(declared, db),
        settings: settings.clone(),
    };
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
            match r.add(new).await {
                Err(AdminError::ClientExists(_) | AdminError::ClientDeclared(_)) if if_missing => {
                    r.existing(&client_id, json).await
                }
                Err(e) => Err(e.into()),
                Ok((client, secret)) => print_added(&client, secret, json),
            }
        }
        ClientsCommand::List => {
            let all: Vec<ClientView> = r
                .admin
                .clients(&r.clients)
                .await?
                .iter()
                .map(ClientView::from)
                .collect();
            out::answer(json, &all[..], list)
        }
        ClientsCommand::Show { client_id } => {
            let client = r.admin.client(&r.clients, &client_id).await?;
            out::answer(json, &ClientView::from(&client), show)
        }
        ClientsCommand::Update(update) => {
            let client_id = update.client_id.clone();
            let client = r.update(&client_id, changes(update)).await?;
            out::answer(json, &ClientView::from(&client), show)
        }
        ClientsCommand::RotateSecret { client_id, grace } => {
            r.rotate_secret(&client_id, grace, json).await
        }
        ClientsCommand::Remove {
            client_id,
            if_exists,
        } => r.remove(&client_id, if_exists, json).await,
    }
}

/// What `clients update` changes: each option given.
fn changes(u: ClientUpdate) -> ClientChanges {
    ClientChanges {
        name: u.name,
        redirect_uris: u.redirect_uris,
        post_logout_redirect_uris: u.post_logout_redirect_uris.map(non_empty),
        scopes: u.scopes.map(ScopeList::Text),
        id_token_alg: u.id_token_alg,
        audiences: u.audiences.map(non_empty),
        allowed_groups: u.allowed_groups.map(non_empty),
    }
}

/// A list option given empty (`--allowed-groups ""`) clears the list.
fn non_empty(values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .filter(|v| !v.trim().is_empty())
        .collect()
}

impl Registry {
    /// Registers a client, and makes a signing key for its ID tokens when there is none.
    async fn add(&self, new: NewClient<'_>) -> Result<(Client, Option<String>), AdminError> {
        let (client, secret) = self.admin.client_add(&self.clients, new).await?;
        self.signing_key_for(&client).await?;
        Ok((client, secret))
    }

    async fn update(&self, client_id: &str, changes: ClientChanges) -> anyhow::Result<Client> {
        let client = self
            .admin
            .client_update(&self.clients, client_id, changes)
            .await?;
        self.signing_key_for(&client).await?;
        Ok(client)
    }

    async fn signing_key_for(&self, client: &Client) -> Result<(), AdminError> {
        let store = crate::startup::key_store(&self.settings.keys, Some(&self.admin.db))
            .map_err(|e| AdminError::Fault(crate::fault::Fault::internal(format!("{e:#}"))))?;
        self.admin
            .ensure_signing_key(&Arc::new(store), client.id_token_alg)
            .await?;
        Ok(())
    }

    /// `clients add --if-missing` for a client id that is taken: the client as it is, no secret.
    async fn existing(&self, client_id: &str, json: bool) -> anyhow::Result<()> {
        let client = self.admin.client(&self.clients, client_id).await?;
        if json {
            return out::json(&ClientAndSecret {
                client: ClientView::from(&client),
                client_secret: None,
            });
        }
        eprintln!(
            "client {client_id} exists already ({} client, source: {}); its secret is not shown again",
            kind(client.public),
            client.source
        );
        Ok(())
    }

    /// The new secret alone on stdout (for scripts), or the client with it as JSON.
    async fn rotate_secret(
        &self,
        client_id: &str,
        grace: Duration,
        json: bool,
    ) -> anyhow::Result<()> {
        let (client, secret) = self
            .admin
            .client_rotate_secret(&self.clients, client_id, grace)
            .await?;
        let view = ClientView::from(&client);
        let rotated = RotatedSecret {
            previous_secret_expires: view.previous_secret_expires.clone(),
            client: view,
            client_secret: secret,
        };
        if json {
            return out::json(&rotated);
        }
        match &rotated.previous_secret_expires {
            Some(until) => eprintln!("new secret for client {client_id} (shown once, store it now) on stdout; the previous one works until {until}:"),
            None => eprintln!("new secret for client {client_id} (shown once, store it now) on stdout; the previous one no longer works:"),
        }
        say!("{}", rotated.client_secret)?;
        Ok(())
    }

    async fn remove(&self, client_id: &str, if_exists: bool, json: bool) -> anyhow::Result<()> {
        let removed = match self.admin.client_remove(&self.clients, client_id).await {
            Err(AdminError::NoSuchClient(_)) if if_exists => None,
            done => done.map(|()| Some(client_id))?,
        };
        out::answer(json, &Removal { removed }, |r| match r.removed {
            Some(id) => {
                say!("removed client {id}")?;
                say!("its codes and refresh tokens are refused from now on")?;
                say!("access tokens it was issued run out within their lifetime")
            }
            None => say!("there is no registered client {client_id}: nothing to remove"),
        })
    }
}

/// The secret alone on stdout (for scripts) and what was registered on stderr, or the client
/// with its secret as JSON.
fn print_added(client: &Client, secret: Option<String>, json: bool) -> anyhow::Result<()> {
    if json {
        return out::json(&ClientAndSecret {
            client: ClientView::from(client),
            client_secret: secret,
        });
    }
    eprintln!(
        "registered {} client {} (ID tokens {}; scopes: {})",
        kind(client.public),
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

fn kind(public: bool) -> &'static str {
    if public {
        "public"
    } else {
        "confidential"
    }
}

fn list(all: &[ClientView]) -> std::io::Result<()> {
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
            kind(c.public),
            c.id_token_alg,
            c.source,
            c.redirect_uris.join(" ")
        )?;
    }
    Ok(())
}

/// One client, a fact a line.
fn show(c: &ClientView) -> std::io::Result<()> {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    say!("client id:        {}", c.client_id)?;
    say!("name:             {}", c.name)?;
    say!("type:             {} ({})", kind(c.public), c.source)?;
    say!("redirect URIs:    {}", c.redirect_uris.join(" "))?;
    say!(
        "logout URIs:      {}",
        c.post_logout_redirect_uris.join(" ")
    )?;
    say!("scopes:           {}", c.scopes.join(" "))?;
    say!("ID tokens:        {}", c.id_token_alg)?;
    say!("audiences:        {}", c.audiences.join(" "))?;
    say!("allowed groups:   {}", c.allowed_groups.join(" "))?;
    say!("created:          {}", or_dash(&c.created))?;
    say!("updated:          {}", or_dash(&c.updated))?;
    say!("previous secret:  {}", or_dash(&c.previous_secret_expires))
}
