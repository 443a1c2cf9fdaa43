//! Logging: human-readable by default, JSON lines in production (`log.format = "json"`).
//! `RUST_LOG` overrides `log.level`.

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, Settings};

pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_level))
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
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
