//! One integration-test binary: the real server on a random port, real Postgres, real Redis,
//! and a software authenticator that produces genuine WebAuthn responses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly, with the expectation's message, where a service would answer an error"
)]

mod account;
mod account_page;
mod admin;
mod admin_api_clients;
mod admin_api_keys;
mod admin_api_people;
mod admin_api_scopes;
mod admin_commands;
mod audit_trail;
mod authenticator;
mod authenticator_check;
mod binding;
mod browser;
mod ceremonies;
mod cluster;
mod edges;
mod example;
mod faults;
mod framework_habits;
mod from_a_service;
mod helpers;
mod keys;
mod languages;
mod limits;
mod negative;
mod oidc;
mod oidc_flow;
mod ops;
mod page_basics;
mod pages;
mod process;
mod schema_driven;
mod self_service;
mod topologies;
