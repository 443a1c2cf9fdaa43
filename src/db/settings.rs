//! `[database]`: where users and credentials live, and how long a request may wait for them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{at_least, bad, secs, Section, SettingsError};

/// Where users and credentials live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseBackend {
    Postgres { url: String },
    Sqlite { path: PathBuf },
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub backend: DatabaseBackend,
    pub pool_size: u32,
    pub connect_timeout: Duration,
    /// Bound of everything one request asks of the database, checkout included.
    pub query_timeout: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseRaw {
    url: String,
    embedded_path: String,
    pool_size: u32,
    connect_timeout_secs: u64,
    query_timeout_secs: u64,
}

impl Default for DatabaseRaw {
    fn default() -> Self {
        DatabaseRaw {
            url: String::new(),
            embedded_path: "data/passkey-idp.db".into(),
            pool_size: 10,
            connect_timeout_secs: 3,
            query_timeout_secs: 4,
        }
    }
}

impl Section for DatabaseSettings {
    const NAME: &'static str = "database";
    type Raw = DatabaseRaw;

    fn check(raw: DatabaseRaw) -> Result<DatabaseSettings, SettingsError> {
        Ok(DatabaseSettings {
            backend: backend(&raw)?,
            pool_size: at_least("database.pool_size", raw.pool_size, 1)?,
            connect_timeout: secs(
                "database.connect_timeout_secs",
                raw.connect_timeout_secs,
                1,
                300,
            )?,
            query_timeout: secs(
                "database.query_timeout_secs",
                raw.query_timeout_secs,
                1,
                300,
            )?,
        })
    }
}

fn backend(raw: &DatabaseRaw) -> Result<DatabaseBackend, SettingsError> {
    match raw.url.trim() {
        "" => Ok(DatabaseBackend::Sqlite {
            path: PathBuf::from(&raw.embedded_path),
        }),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(DatabaseBackend::Postgres {
                url: url.to_string(),
            })
        }
        url if url.starts_with("sqlite://") || url.starts_with("sqlite:") => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            if path.is_empty() {
                return Err(bad(
                    "DATABASE_URL",
                    "sqlite:// needs a file path, e.g. sqlite://data/idp.db",
                ));
            }
            Ok(DatabaseBackend::Sqlite {
                path: PathBuf::from(path),
            })
        }
        _ => Err(bad(
            "DATABASE_URL",
            "must start with postgres:// or sqlite:// (or be unset for the embedded database)",
        )),
    }
}
