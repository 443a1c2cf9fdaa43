//! Everything a request handler can reach, passed in (never global) so one process can run
//! many servers. The domain services each hold only what they need.

use std::sync::Arc;

use crate::account::Accounts;
use crate::ceremony::Passkeys;
use crate::db::Db;
use crate::ephemeral::Ephemeral;
use crate::metrics::Metrics;
use crate::oidc::Provider;
use crate::rate_limit::RateLimits;
use crate::session::Sessions;
use crate::settings::Settings;
use crate::signing::KeyRing;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub store: Ephemeral,
    pub keys: KeyRing,
    pub metrics: Arc<Metrics>,
    pub sessions: Sessions,
    pub passkeys: Passkeys,
    pub accounts: Accounts,
    pub oidc: Provider,
    pub limits: RateLimits,
    /// Names this process in audit events and in the key manifest's history.
    pub instance_id: String,
}
