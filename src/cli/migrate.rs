//! `passkey-idp migrate`: applies the database migrations and says where.

use serde::Serialize;

use super::out::{self, say};
use crate::settings::{DatabaseBackend, Settings};

/// What `migrate --json` prints: the database migrated (a URL without its password, or a path).
#[derive(Debug, Serialize)]
struct Migrated {
    database: String,
}

pub async fn run_migrate(json: bool, settings: &Settings) -> anyhow::Result<()> {
    let pool =
        crate::startup::connect_database(&settings.database, crate::db::PoolUse::Command).await?;
    drop(pool);
    let database = match &settings.database.backend {
        DatabaseBackend::Postgres { url } => crate::db::redact(url),
        DatabaseBackend::Sqlite { path } => path.display().to_string(),
    };
    out::answer(json, &Migrated { database }, |m| {
        say!("migrations applied to {}", m.database)
    })
}
