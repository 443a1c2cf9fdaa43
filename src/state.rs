//! Everything a request needs, passed in (never global) so one process can run many servers.

use std::sync::Arc;

use webauthn_rs_core::WebauthnCore;

use crate::db::Pool;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::ChallengeStore;
use crate::tokens::KeyRing;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Pool,
    pub store: ChallengeStore,
    pub webauthn: Arc<WebauthnCore>,
    pub keys: KeyRing,
    pub metrics: Arc<Metrics>,
    /// Keys the fake credential ids answered for unknown usernames, so they are stable.
    pub enumeration_secret: Arc<Vec<u8>>,
    pub authenticators: crate::metadata::AuthenticatorNames,
    /// Clients declared in `oidc.clients_file` (registered ones are in the database).
    pub declared_clients: Arc<std::collections::HashMap<String, crate::oidc::Client>>,
    /// Names this process in audit events and in the key manifest's history.
    pub instance_id: String,
}
