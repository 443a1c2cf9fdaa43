//! The `[tokens]` and `[keys]` sections: token lifetimes and algorithm, and when keys rotate.

use std::time::Duration;

use super::raw::{KeysSection, TokensSection};
use super::validate::secs;
use super::{bad, parse_duration, SettingsError};
use crate::signing::KeyAlg;

pub(super) struct Tokens {
    pub(super) access_token_lifetime: Duration,
    pub(super) access_token_alg: KeyAlg,
    pub(super) jwks_max_age: Duration,
    pub(super) clock_skew: Duration,
}

pub(super) fn tokens(raw: &TokensSection) -> Result<Tokens, SettingsError> {
    if raw.audience.trim().is_empty() {
        return Err(bad("tokens.audience", "must not be empty"));
    }
    let access_token_alg = KeyAlg::parse(&raw.access_token_alg).ok_or_else(|| {
        bad(
            "tokens.access_token_alg",
            format!(
                "'{}' is not one of: ES256, RS256, EdDSA",
                raw.access_token_alg
            ),
        )
    })?;
    Ok(Tokens {
        access_token_lifetime: secs(
            "tokens.access_token_lifetime_secs",
            raw.access_token_lifetime_secs,
            1,
            86400,
        )?,
        access_token_alg,
        jwks_max_age: secs(
            "tokens.jwks_max_age_secs",
            raw.jwks_max_age_secs,
            0,
            7 * 86400,
        )?,
        clock_skew: secs("tokens.clock_skew_secs", raw.clock_skew_secs, 0, 600)?,
    })
}

pub(super) struct Keys {
    pub(super) reload_interval: Duration,
    pub(super) rotate_every: Option<Duration>,
}

pub(super) fn keys(raw: &KeysSection, jwks_max_age: Duration) -> Result<Keys, SettingsError> {
    let reload_interval = secs(
        "keys.reload_interval_secs",
        raw.reload_interval_secs,
        1,
        300,
    )?;
    let rotate_every = match raw.rotate_every.trim() {
        "" | "off" => None,
        text => {
            let every = parse_duration(text).ok_or_else(|| {
                bad(
                    "keys.rotate_every",
                    format!("'{text}' is not a duration such as 30d, 12h, 90m or 3600s"),
                )
            })?;
            if every <= jwks_max_age + reload_interval {
                return Err(bad(
                    "keys.rotate_every",
                    "must be longer than tokens.jwks_max_age_secs plus keys.reload_interval_secs, or a new key could never be published long enough before it signs",
                ));
            }
            Some(every)
        }
    };
    Ok(Keys {
        reload_interval,
        rotate_every,
    })
}
