//! Relying services ("clients"): registered with `passkey-idp clients add` (in the database) or
//! declared in a file (`oidc.clients_file`) for deployments configured as code.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::{models::ClientRow, Db};
use crate::fault::Fault;
use crate::signing::KeyAlg;

pub const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access", "groups"];
/// The scopes a client gets unless it names its own.
const DEFAULT_SCOPES: &str = "openid profile email offline_access groups";

#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// SHA-256 (hex) of the secret; `None` for a public client.
    #[serde(skip)]
    pub secret_sha256: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub id_token_alg: KeyAlg,
    /// The `aud` of its access tokens: what it configured, or its client_id.
    pub audiences: Vec<String>,
    /// Only members of one of these groups may sign in at it; empty admits everyone.
    pub allowed_groups: Vec<String>,
    pub public: bool,
    /// "database" or "config".
    pub source: &'static str,
    /// When a registered client was added (UTC): codes and tokens issued before it belong to
    /// an earlier client of the same id. `None` for a declared client.
    #[serde(skip)]
    pub created_at: Option<NaiveDateTime>,
    /// A registered client's last change (UTC), if it was changed since it was added.
    #[serde(skip)]
    pub updated_at: Option<NaiveDateTime>,
    /// The secret before the last rotation (SHA-256, hex) and until when (UTC) it is still
    /// accepted.
    #[serde(skip)]
    pub previous_secret: Option<(String, NaiveDateTime)>,
}

impl Client {
    /// Constant-time comparison of a presented secret with the stored hash, and with the
    /// previous secret's while its grace period lasts. Both comparisons always run.
    pub fn secret_matches(&self, presented: &str) -> bool {
        let Some(stored) = &self.secret_sha256 else {
            return false;
        };
        let presented = crate::random::sha256_hex(presented.as_bytes());
        let current = openssl::memcmp::eq(presented.as_bytes(), stored.as_bytes());
        let previous = match &self.previous_secret {
            Some((hash, until)) if hash.len() == presented.len() => {
                openssl::memcmp::eq(presented.as_bytes(), hash.as_bytes())
                    && Utc::now().naive_utc() < *until
            }
            _ => false,
        };
        current | previous
    }

    /// Whether a code or token issued at `issued` (UTC) was issued to this client rather than
    /// to an earlier, removed client of the same id.
    pub fn issued_since_added(&self, issued: NaiveDateTime) -> bool {
        self.created_at.is_none_or(|added| added <= issued)
    }

    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether a member of `groups` may sign in at this client.
    pub fn admits(&self, groups: &[String]) -> bool {
        self.allowed_groups.is_empty() || groups.iter().any(|g| self.allowed_groups.contains(g))
    }
}

pub(crate) fn from_row(row: ClientRow) -> anyhow::Result<Client> {
    let audiences = audiences_or_default(serde_json::from_str(&row.audiences)?, &row.client_id);
    Ok(Client {
        public: row.secret_sha256.is_none(),
        client_id: row.client_id,
        name: row.name,
        secret_sha256: row.secret_sha256,
        redirect_uris: serde_json::from_str(&row.redirect_uris)?,
        post_logout_redirect_uris: serde_json::from_str(&row.post_logout_redirect_uris)?,
        scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
        id_token_alg: KeyAlg::parse(&row.id_token_alg).unwrap_or(KeyAlg::RS256),
        audiences,
        allowed_groups: serde_json::from_str(&row.allowed_groups)?,
        source: "database",
        created_at: Some(row.created_at),
        updated_at: row.updated_at,
        previous_secret: row
            .previous_secret_sha256
            .zip(row.previous_secret_expires_at),
    })
}

fn audiences_or_default(configured: Vec<String>, client_id: &str) -> Vec<String> {
    if configured.is_empty() {
        vec![client_id.to_string()]
    } else {
        configured
    }
}

/// A redirect URI a client may register: absolute, no fragment; https, or http only on a
/// loopback host (development, native apps), or a private-use scheme (`com.example.app:/cb`)
/// for native apps. It is later matched byte for byte.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(uri).map_err(|e| format!("'{uri}' is not an absolute URI ({e})"))?;
    if parsed.fragment().is_some() {
        return Err(format!("'{uri}' has a fragment; redirect URIs must not"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("'{uri}' contains credentials"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(format!("'{uri}' uses http; only https (or http on localhost) is allowed"))
            }
        }
        "javascript" | "data" | "file" | "vbscript" => Err(format!("'{uri}' uses a forbidden scheme")),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(format!(
            "'{uri}': use https, http on localhost, or a private-use scheme such as com.example.app:/callback"
        )),
    }
}

/// Clients declared in a TOML file: `[[client]]` tables with `client_id`, `name`,
/// `redirect_uris`, optional `secret_sha256` (absent: a public client),
/// `post_logout_redirect_uris`, `scopes` and `id_token_alg`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    #[serde(default)]
    client: Vec<FileClient>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileClient {
    client_id: String,
    name: Option<String>,
    secret_sha256: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    scopes: Option<String>,
    id_token_alg: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    allowed_groups: Vec<String>,
}

pub fn load_file(path: &Path) -> anyhow::Result<HashMap<String, Client>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: ClientsFile = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid clients file", path.display()))?;
    let mut clients = HashMap::new();
    for c in file.client {
        let client = build(
            NewClient {
                client_id: &c.client_id,
                name: c.name.as_deref(),
                redirect_uris: c.redirect_uris,
                post_logout_redirect_uris: c.post_logout_redirect_uris,
                public: c.secret_sha256.is_none(),
                scopes: c.scopes.as_deref(),
                id_token_alg: c.id_token_alg.as_deref(),
                audiences: c.audiences,
                allowed_groups: c.allowed_groups,
            },
            c.secret_sha256,
            "config",
        )
        .with_context(|| format!("{}: client {}", path.display(), c.client_id))?;
        if let Some(h) = &client.secret_sha256 {
            if h.len() != 64 || !h.chars().all(|ch| ch.is_ascii_hexdigit()) {
                bail!(
                    "{}: client {}: secret_sha256 must be 64 hex digits",
                    path.display(),
                    client.client_id
                );
            }
        }
        if clients.insert(client.client_id.clone(), client).is_some() {
            bail!(
                "{}: client {} is declared twice",
                path.display(),
                c.client_id
            );
        }
    }
    Ok(clients)
}

/// Checks a client's description; `secret_sha256` is `None` for a public client.
pub(crate) fn build(
    new: NewClient<'_>,
    secret_sha256: Option<String>,
    source: &'static str,
) -> anyhow::Result<Client> {
    let NewClient {
        client_id,
        name,
        redirect_uris,
        post_logout_redirect_uris,
        scopes,
        id_token_alg,
        audiences,
        allowed_groups,
        ..
    } = new;
    if let Some(bad) = allowed_groups
        .iter()
        .find(|g| !crate::ids::is_group_name(g))
    {
        bail!("'{bad}' is not a group name: 1 to 64 letters, digits and . _ - : @ /");
    }
    if let Some(bad) = audiences.iter().find(|a| {
        a.is_empty() || a.len() > 256 || a.chars().any(|c| c.is_whitespace() || c.is_control())
    }) {
        bail!("'{bad}' is not an audience: 1 to 256 characters, no spaces");
    }
    if name.is_some_and(|n| {
        n.trim().is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control)
    }) {
        bail!("a client's name is 1 to 200 characters, not all spaces, without control characters");
    }
    if client_id.is_empty()
        || client_id.len() > 128
        || !client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
    {
        bail!("a client id is 1 to 128 characters of letters, digits and - . _ ~");
    }
    if redirect_uris.is_empty() {
        bail!("at least one redirect URI is required");
    }
    for uri in redirect_uris.iter().chain(&post_logout_redirect_uris) {
        check_redirect_uri(uri).map_err(anyhow::Error::msg)?;
    }
    let scopes: Vec<String> = scopes
        .unwrap_or(DEFAULT_SCOPES)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        bail!("unknown scope '{bad}'; scopes are: {}", SCOPES.join(" "));
    }
    if !scopes.iter().any(|s| s == "openid") {
        bail!("the scopes must include openid");
    }
    let id_token_alg = match id_token_alg {
        None => KeyAlg::RS256,
        Some(a) => KeyAlg::parse(a)
            .ok_or_else(|| anyhow::anyhow!("'{a}' is not one of: RS256, ES256, EdDSA"))?,
    };
    Ok(Client {
        client_id: client_id.to_string(),
        name: name.unwrap_or(client_id).to_string(),
        public: secret_sha256.is_none(),
        secret_sha256,
        redirect_uris,
        post_logout_redirect_uris,
        scopes,
        id_token_alg,
        audiences: audiences_or_default(audiences, client_id),
        allowed_groups,
        source,
        created_at: None,
        updated_at: None,
        previous_secret: None,
    })
}

/// A registered client's row; `audiences` is stored empty when it is just the client id.
pub(crate) fn row_of(client: &Client, created_at: NaiveDateTime) -> anyhow::Result<ClientRow> {
    let audiences: &[String] = if client.audiences == [client.client_id.clone()] {
        &[]
    } else {
        &client.audiences
    };
    Ok(ClientRow {
        client_id: client.client_id.clone(),
        name: client.name.clone(),
        secret_sha256: client.secret_sha256.clone(),
        redirect_uris: serde_json::to_string(&client.redirect_uris)?,
        post_logout_redirect_uris: serde_json::to_string(&client.post_logout_redirect_uris)?,
        scopes: client.scopes.join(" "),
        id_token_alg: client.id_token_alg.name().to_string(),
        created_at,
        audiences: serde_json::to_string(audiences)?,
        allowed_groups: serde_json::to_string(&client.allowed_groups)?,
        updated_at: client.updated_at,
        previous_secret_sha256: client.previous_secret.as_ref().map(|(h, _)| h.clone()),
        previous_secret_expires_at: client.previous_secret.as_ref().map(|(_, t)| *t),
    })
}

pub struct NewClient<'a> {
    pub client_id: &'a str,
    pub name: Option<&'a str>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub scopes: Option<&'a str>,
    pub id_token_alg: Option<&'a str>,
    /// `aud` of its access tokens; empty means its client_id.
    pub audiences: Vec<String>,
    /// Groups whose members may sign in at it; empty admits everyone.
    pub allowed_groups: Vec<String>,
}

/// Every client: those declared in `oidc.clients_file`, then those registered in the database.
#[derive(Clone)]
pub struct Clients {
    declared: Arc<HashMap<String, Client>>,
    db: Db,
}

impl Clients {
    pub fn new(declared: HashMap<String, Client>, db: Db) -> Clients {
        Clients {
            declared: Arc::new(declared),
            db,
        }
    }

    pub fn declared(&self) -> impl Iterator<Item = &Client> {
        self.declared.values()
    }

    pub fn is_declared(&self, client_id: &str) -> bool {
        self.declared.contains_key(client_id)
    }

    pub async fn find(&self, client_id: &str) -> Result<Option<Client>, Fault> {
        if let Some(c) = self.declared.get(client_id) {
            return Ok(Some(c.clone()));
        }
        match self.db.clients().find(client_id).await? {
            Some(row) => from_row(row).map(Some).map_err(|e| {
                Fault::Internal(format!(
                    "client {client_id} is stored in an unreadable form: {e}"
                ))
            }),
            None => Ok(None),
        }
    }

    pub async fn list(&self) -> anyhow::Result<Vec<Client>> {
        let mut all: Vec<Client> = self.declared.values().cloned().collect();
        for row in self.db.clients().all().await? {
            all.push(from_row(row)?);
        }
        all.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_checked() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?x=1",
            "http://localhost:3000/cb",
            "http://127.0.0.1:8000/cb",
            "com.example.app:/callback",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/relative",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "javascript:alert(1)",
            "ftp://x/y",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_compare_by_hash() {
        let client = build(
            NewClient {
                client_id: "app",
                name: None,
                redirect_uris: vec!["https://a.example/cb".into()],
                post_logout_redirect_uris: vec![],
                public: false,
                scopes: None,
                id_token_alg: None,
                audiences: vec![],
                allowed_groups: vec![],
            },
            Some(crate::random::sha256_hex(b"s3cret")),
            "config",
        )
        .expect("client");
        assert!(client.secret_matches("s3cret"));
        assert!(!client.secret_matches("s3cret "));
        assert!(!client.public);
        assert_eq!(client.id_token_alg, KeyAlg::RS256);
    }
}
