//! Logging: human-readable by default, JSON lines in production (`log.format = "json"`).
//! `RUST_LOG` overrides `log.level`.

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

use crate::config::{one_of, Section, SettingsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter (`info`, `warn,passkey_idp=debug`).
    pub level: String,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogRaw {
    format: String,
    level: String,
}

impl Default for LogRaw {
    fn default() -> Self {
        LogRaw {
            format: "pretty".into(),
            level: "info".into(),
        }
    }
}

impl Section for LogSettings {
    const NAME: &'static str = "log";
    type Raw = LogRaw;

    fn check(raw: LogRaw) -> Result<LogSettings, SettingsError> {
        Ok(LogSettings {
            format: one_of(
                "log.format",
                &raw.format,
                &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)],
            )?,
            level: raw.level,
        })
    }
}

pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // webauthn-rs logs ceremony state (challenges included) at debug and trace level; keep it
    // at warn whatever the rest of the filter says, so no challenge ever reaches a log.
    let filter = ["webauthn_rs_core=warn", "webauthn_rs_proto=warn"]
        .iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, |f, d| f.add_directive(d));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // try_init: a second call (several servers in one test process) keeps the first subscriber.
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
