//! passkey-idp: a standalone identity provider where people sign up and sign in with passkeys.
//!
//! `routes` is the HTTP layer and the only module that knows the web framework; `startup` wires the
//! services together. Everything else is the domain and its storage.

pub mod account;
pub mod admin;
pub mod blocking;
pub mod brand;
pub mod ceremony;
pub mod cli;
pub mod config;
pub mod db;
pub mod ephemeral;
pub mod events;
pub mod fault;
pub mod i18n;
pub mod ids;
pub mod maintenance;
pub mod metadata;
pub mod metrics;
pub mod oidc;
pub mod outage;
pub mod proxy;
pub mod random;
pub mod rate_limit;
pub mod routes;
pub mod server;
pub mod session;
pub mod settings;
pub mod signed;
pub mod signing;
pub mod startup;
pub mod state;
pub mod telemetry;
