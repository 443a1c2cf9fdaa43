//! `[server]`: who this service is on the web (its public origin, which is the WebAuthn origin
//! and the token issuer, and its WebAuthn relying party), and how it serves HTTP.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::config::{at_least, bad, is_loopback_host, secs, List, Section, SettingsError};
use crate::proxy::Cidr;

/// Who this service is: what ceremonies, tokens, cookies and pages all name.
#[derive(Debug, Clone)]
pub struct Site {
    /// The issuer without a trailing slash, e.g. `https://id.example.com`.
    pub issuer: String,
    pub issuer_url: Url,
    pub rp_id: String,
    /// The name the passkey prompt shows.
    pub rp_name: String,
}

impl Site {
    /// Cookies are `Secure` whenever the issuer is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer_url.scheme() == "https"
    }
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub site: Site,
    pub listen: SocketAddr,
    /// HTTP worker threads; 0: one per core.
    pub workers: usize,
    pub max_body_bytes: usize,
    /// Time a client has to send its request headers, and then its body.
    pub request_timeout: Duration,
    pub max_connections_per_worker: usize,
    /// Proxies whose forwarding headers name the client (for rate limits).
    pub trusted_proxies: Vec<Cidr>,
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerRaw {
    issuer: String,
    rp_id: String,
    rp_name: String,
    listen: String,
    workers: usize,
    max_body_bytes: usize,
    shutdown_timeout_secs: u64,
    request_timeout_secs: u64,
    max_connections_per_worker: usize,
    trusted_proxies: List,
}

impl Default for ServerRaw {
    fn default() -> Self {
        ServerRaw {
            issuer: "http://localhost:8080".into(),
            rp_id: String::new(),
            rp_name: "passkey-idp".into(),
            listen: "127.0.0.1:8080".into(),
            workers: 0,
            max_body_bytes: 65536,
            shutdown_timeout_secs: 30,
            request_timeout_secs: 5,
            max_connections_per_worker: 2048,
            trusted_proxies: List::default(),
        }
    }
}

impl Section for ServerSettings {
    const NAME: &'static str = "server";
    type Raw = ServerRaw;

    fn check(raw: ServerRaw) -> Result<ServerSettings, SettingsError> {
        let listen: SocketAddr = raw.listen.parse().map_err(|_| {
            bad(
                "PASSKEY_IDP_LISTEN (server.listen)",
                format!("'{}' is not an address such as 127.0.0.1:8080", raw.listen),
            )
        })?;
        at_least("server.max_body_bytes", raw.max_body_bytes, 1024)?;
        at_least(
            "server.max_connections_per_worker",
            raw.max_connections_per_worker,
            1,
        )?;
        let trusted_proxies = raw
            .trusted_proxies
            .items()
            .iter()
            .map(|c| c.parse::<Cidr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad("server.trusted_proxies", e))?;
        Ok(ServerSettings {
            site: site(&raw.issuer, &raw.rp_id, raw.rp_name)?,
            listen,
            workers: raw.workers,
            max_body_bytes: raw.max_body_bytes,
            request_timeout: secs(
                "server.request_timeout_secs",
                raw.request_timeout_secs,
                1,
                300,
            )?,
            max_connections_per_worker: raw.max_connections_per_worker,
            trusted_proxies,
            shutdown_timeout: Duration::from_secs(raw.shutdown_timeout_secs),
        })
    }
}

/// The issuer, and the RP ID: its host, or a registrable suffix of it.
fn site(issuer: &str, rp_id: &str, rp_name: String) -> Result<Site, SettingsError> {
    let issuer_url = issuer_url(issuer)?;
    let host = issuer_url.host().map(|h| h.to_owned());
    let host_str = host.as_ref().map(|h| h.to_string()).unwrap_or_default();
    let rp_id = match rp_id.trim() {
        "" => host_str.trim_matches(|c| c == '[' || c == ']').to_string(),
        other => other.to_ascii_lowercase(),
    };
    let rp_ok = rp_id == host_str
        || (matches!(host, Some(url::Host::Domain(_)))
            && rp_id.contains('.')
            && host_str.ends_with(&format!(".{rp_id}")));
    if !rp_ok {
        return Err(bad(
            "PASSKEY_IDP_RP_ID (server.rp_id)",
            format!("'{rp_id}' is neither the issuer's host '{host_str}' nor a registrable suffix of it; leave it empty or set a parent domain of the issuer"),
        ));
    }
    Ok(Site {
        issuer: issuer_url.as_str().trim_end_matches('/').to_string(),
        issuer_url,
        rp_id,
        rp_name,
    })
}

/// The issuer: a bare https origin (http only on loopback).
fn issuer_url(raw: &str) -> Result<Url, SettingsError> {
    let setting = "PASSKEY_IDP_ISSUER (server.issuer)";
    let url = Url::parse(raw.trim()).map_err(|e| {
        bad(
            setting,
            format!("{e}; set an origin such as https://id.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad(setting, "must be an https:// origin"));
    }
    let host = url.host().ok_or_else(|| {
        bad(
            setting,
            "has no host; set an origin such as https://id.example.com",
        )
    })?;
    if url.scheme() == "http" && !is_loopback_host(&host) {
        return Err(bad(
            setting,
            "http is allowed only for localhost; use https:// for any other host",
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            setting,
            "must be a bare origin without path, query or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(setting, "must not contain credentials"));
    }
    Ok(url)
}
