//! Relying services as operators change them (`clients …` and `/api/admin/v1/clients`): add,
//! show, list, update every field, rotate the secret with a grace period, remove. Each change
//! stores its event (actor, client id, what changed, never a secret or its hash) in the
//! transaction that makes it. Clients declared in `oidc.clients_file` are read-only here.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{Admin, AdminError};
use crate::events::{rfc3339, Event};
use crate::oidc::clients::{self, Client, Clients, NewClient};

/// How long the previous secret stays accepted after a rotation, unless the caller says.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);
/// The longest grace period a rotation may give.
const LONGEST_GRACE: Duration = Duration::from_secs(30 * 86_400);

/// A client as `clients show --json` and the admin API show it: its description, never its
/// secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    /// No secret: PKCE proves possession.
    pub public: bool,
    /// Declared in `oidc.clients_file`: read-only through the command line and the API.
    pub declared: bool,
    /// `database` (registered) or `config` (declared).
    #[schema(pattern = "^(database|config)$")]
    pub source: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    #[schema(pattern = "^(RS256|ES256|EdDSA)$")]
    pub id_token_alg: String,
    /// The `aud` of its access tokens (its client id unless configured).
    pub audiences: Vec<String>,
    /// Only members of these groups may sign in at it; empty admits everyone.
    pub allowed_groups: Vec<String>,
    /// When it was registered (null for a declared client).
    pub created: Option<String>,
    /// Its last change, if any.
    pub updated: Option<String>,
    /// Until when the secret before the last rotation is still accepted (null: it is not).
    pub previous_secret_expires: Option<String>,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> ClientView {
        let now = Utc::now().naive_utc();
        ClientView {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            public: c.public,
            declared: c.source != "database",
            source: c.source.to_string(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            scopes: c.scopes.clone(),
            id_token_alg: c.id_token_alg.name().to_string(),
            audiences: c.audiences.clone(),
            allowed_groups: c.allowed_groups.clone(),
            created: c.created_at.map(rfc3339),
            updated: c.updated_at.map(rfc3339),
            previous_secret_expires: c
                .previous_secret
                .as_ref()
                .map(|(_, until)| *until)
                .filter(|until| *until > now)
                .map(rfc3339),
        }
    }
}

/// Scopes as one string (`"openid profile"`, `"users:read,recovery:write"`) or as a list.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ScopeList {
    Text(String),
    List(Vec<String>),
}

impl ScopeList {
    pub fn text(&self) -> String {
        match self {
            ScopeList::Text(t) => t.clone(),
            ScopeList::List(l) => l.join(" "),
        }
    }
}

/// What to change of a client: each field given replaces the one it has (lists whole).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<ScopeList>,
    /// RS256, ES256 or EdDSA.
    pub id_token_alg: Option<String>,
    /// Empty: its client id.
    pub audiences: Option<Vec<String>>,
    /// Empty: everyone may sign in at it.
    pub allowed_groups: Option<Vec<String>>,
}

/// A rotated secret: the client, its new secret (shown once) and until when the previous one
/// is still accepted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    pub client: ClientView,
    pub client_secret: String,
    pub previous_secret_expires: Option<String>,
}

/// The fields an operator sets, as they are stored events' `from` and `to`.
fn fields(c: &Client) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name));
    m.insert("redirect_uris".into(), json!(c.redirect_uris));
    m.insert(
        "post_logout_redirect_uris".into(),
        json!(c.post_logout_redirect_uris),
    );
    m.insert("scopes".into(), json!(c.scopes));
    m.insert("id_token_alg".into(), json!(c.id_token_alg.name()));
    m.insert("audiences".into(), json!(c.audiences));
    m.insert("allowed_groups".into(), json!(c.allowed_groups));
    m
}

/// `{"field": {"from": …, "to": …}}` for each field that differs.
fn difference(before: &Client, after: &Client) -> Map<String, Value> {
    let (old, new) = (fields(before), fields(after));
    new.into_iter()
        .filter(|(k, v)| old.get(k) != Some(v))
        .map(|(k, v)| {
            let from = old.get(&k).cloned().unwrap_or(Value::Null);
            (k, json!({"from": from, "to": v}))
        })
        .collect()
}

fn invalid(e: anyhow::Error) -> AdminError {
    AdminError::BadClient(format!("{e:#}"))
}

fn unreadable(e: anyhow::Error) -> AdminError {
    AdminError::Fault(crate::fault::Fault::Internal(format!("{e:#}")))
}

impl Admin {
    /// Every client, declared and registered, by client id.
    pub async fn clients(&self, registry: &Clients) -> Result<Vec<Client>, AdminError> {
        registry.list().await.map_err(unreadable)
    }

    pub async fn client(&self, registry: &Clients, client_id: &str) -> Result<Client, AdminError> {
        registry
            .find(client_id)
            .await?
            .ok_or_else(|| AdminError::NoSuchClient(client_id.to_string()))
    }

    /// A registered client that may be changed here.
    async fn registered(&self, registry: &Clients, client_id: &str) -> Result<Client, AdminError> {
        if registry.is_declared(client_id) {
            return Err(AdminError::ClientDeclared(client_id.to_string()));
        }
        self.client(registry, client_id).await
    }

    /// Registers a client; returns it and, for a confidential client, its secret (shown once).
    pub async fn client_add(
        &self,
        registry: &Clients,
        new: NewClient<'_>,
    ) -> Result<(Client, Option<String>), AdminError> {
        if registry.is_declared(new.client_id) {
            return Err(AdminError::ClientDeclared(new.client_id.to_string()));
        }
        let secret = (!new.public).then(crate::random::token);
        let hash = secret
            .as_deref()
            .map(|s| crate::random::sha256_hex(s.as_bytes()));
        let mut client = clients::build(new, hash, "database").map_err(invalid)?;
        let now = Utc::now().naive_utc();
        client.created_at = Some(now);
        let mut description = fields(&client);
        description.insert("public".into(), json!(client.public));
        let event = self.client_event(Event::ClientAdded, &client.client_id, description);
        let row = clients::row_of(&client, now).map_err(unreadable)?;
        if !self.db.clients().insert_new(row, event.row()).await? {
            return Err(AdminError::ClientExists(client.client_id));
        }
        event.report();
        Ok((client, secret))
    }

    /// Changes the fields given, checked as `client_add` checks them. Nothing changes (and no
    /// event is stored) when every field given is what the client has.
    pub async fn client_update(
        &self,
        registry: &Clients,
        client_id: &str,
        changes: ClientChanges,
    ) -> Result<Client, AdminError> {
        let before = self.registered(registry, client_id).await?;
        let mut after = rebuilt(&before, changes)?;
        let change = difference(&before, &after);
        if change.is_empty() {
            return Ok(before);
        }
        let now = Utc::now().naive_utc();
        after.updated_at = Some(now);
        self.write(&after, Event::ClientUpdated, change).await?;
        Ok(after)
    }

    /// A new secret (shown once); the previous one stays accepted for `grace` (zero: not at
    /// all).
    pub async fn client_rotate_secret(
        &self,
        registry: &Clients,
        client_id: &str,
        grace: Duration,
    ) -> Result<(Client, String), AdminError> {
        if grace > LONGEST_GRACE {
            return Err(AdminError::BadGrace);
        }
        let mut client = self.registered(registry, client_id).await?;
        let Some(current) = client.secret_sha256.clone() else {
            return Err(AdminError::PublicClient(client_id.to_string()));
        };
        let now = Utc::now().naive_utc();
        let until: Option<NaiveDateTime> = (!grace.is_zero())
            .then(|| chrono::Duration::from_std(grace).ok().map(|g| now + g))
            .flatten();
        let secret = crate::random::token();
        client.secret_sha256 = Some(crate::random::sha256_hex(secret.as_bytes()));
        client.previous_secret = until.map(|t| (current, t));
        client.updated_at = Some(now);
        let mut change = Map::new();
        change.insert("previous_secret_expires".into(), json!(until.map(rfc3339)));
        self.write(&client, Event::ClientSecretRotated, change)
            .await?;
        Ok((client, secret))
    }

    /// Removes a registered client; its refresh tokens are revoked in the same transaction,
    /// and codes and access tokens issued to it are refused from then on.
    pub async fn client_remove(
        &self,
        registry: &Clients,
        client_id: &str,
    ) -> Result<(), AdminError> {
        if registry.is_declared(client_id) {
            return Err(AdminError::ClientDeclared(client_id.to_string()));
        }
        let event = self.client_event(Event::ClientRemoved, client_id, Map::new());
        let now = Utc::now().naive_utc();
        if !self
            .db
            .clients()
            .remove(client_id, now, event.row())
            .await?
        {
            return Err(AdminError::NoSuchClient(client_id.to_string()));
        }
        event.report();
        Ok(())
    }

    /// Stores a changed registered client with its event.
    async fn write(
        &self,
        client: &Client,
        kind: Event,
        change: Map<String, Value>,
    ) -> Result<(), AdminError> {
        let created = client.created_at.unwrap_or_else(|| Utc::now().naive_utc());
        let row = clients::row_of(client, created).map_err(unreadable)?;
        let event = self.client_event(kind, &client.client_id, change);
        if !self.db.clients().update(row, event.row()).await? {
            return Err(AdminError::NoSuchClient(client.client_id.clone()));
        }
        event.report();
        Ok(())
    }

    fn client_event(
        &self,
        kind: Event,
        client_id: &str,
        change: Map<String, Value>,
    ) -> crate::events::Happened {
        let event = self
            .caller
            .event(kind, None, None)
            .client(client_id)
            .object(client_id);
        if change.is_empty() {
            event
        } else {
            event.change(Value::Object(change))
        }
    }
}

/// `before` with `changes` applied, checked as a new client is.
fn rebuilt(before: &Client, changes: ClientChanges) -> Result<Client, AdminError> {
    let scopes = changes
        .scopes
        .map(|s| s.text())
        .unwrap_or_else(|| before.scopes.join(" "));
    let alg = changes
        .id_token_alg
        .unwrap_or_else(|| before.id_token_alg.name().to_string());
    let name = changes.name.unwrap_or_else(|| before.name.clone());
    let audiences = changes.audiences.unwrap_or_else(|| {
        if before.audiences == [before.client_id.clone()] {
            vec![]
        } else {
            before.audiences.clone()
        }
    });
    let new = NewClient {
        client_id: &before.client_id,
        name: Some(&name),
        redirect_uris: changes
            .redirect_uris
            .unwrap_or_else(|| before.redirect_uris.clone()),
        post_logout_redirect_uris: changes
            .post_logout_redirect_uris
            .unwrap_or_else(|| before.post_logout_redirect_uris.clone()),
        public: before.public,
        scopes: Some(&scopes),
        id_token_alg: Some(&alg),
        audiences,
        allowed_groups: changes
            .allowed_groups
            .unwrap_or_else(|| before.allowed_groups.clone()),
    };
    let mut after =
        clients::build(new, before.secret_sha256.clone(), before.source).map_err(invalid)?;
    after.created_at = before.created_at;
    after.updated_at = before.updated_at;
    after.previous_secret = before.previous_secret.clone();
    Ok(after)
}
