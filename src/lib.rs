//! passkey-idp: a standalone identity provider where people sign up and sign in with passkeys.

pub mod account;
pub mod ceremony;
pub mod cli;
pub mod db;
pub mod error;
pub mod metadata;
pub mod metrics;
pub mod oidc;
pub mod random;
pub mod routes;
pub mod session;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tokens;
