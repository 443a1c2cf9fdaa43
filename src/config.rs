//! What every section of the settings is made of. Each section lives with the code that uses
//! it (`db::DatabaseSettings` beside the pool, `ceremony::WebauthnSettings` beside the
//! ceremonies, …): its values as read, with their defaults (`Raw`), and its
//! [`Section::check`], which turns them into the typed section or refuses with one line naming
//! the setting and the fix. `settings` only layers the sources and assembles the sections.

use std::path::PathBuf;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A setting that cannot be used, and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct SettingsError {
    pub setting: String,
    pub message: String,
}

pub fn bad(setting: &str, message: impl Into<String>) -> SettingsError {
    SettingsError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

/// One section of the settings (`[database]`, `[webauthn]`, …).
pub trait Section: Sized {
    /// Its name in the settings file and in `PASSKEY_IDP__NAME__KEY`.
    const NAME: &'static str;
    /// Its values as read: every field with its default, unknown keys refused.
    type Raw: DeserializeOwned + Default;
    /// The typed section, or the first value that cannot be used.
    fn check(raw: Self::Raw) -> Result<Self, SettingsError>;
}

/// Whole seconds between `min` and `max`.
pub fn secs(setting: &str, v: u64, min: u64, max: u64) -> Result<Duration, SettingsError> {
    if v < min || v > max {
        return Err(bad(
            setting,
            format!("must be between {min} and {max} seconds, got {v}"),
        ));
    }
    Ok(Duration::from_secs(v))
}

pub fn at_least<T: PartialOrd + std::fmt::Display + Copy>(
    setting: &str,
    v: T,
    min: T,
) -> Result<T, SettingsError> {
    if v < min {
        return Err(bad(setting, format!("must be at least {min}, got {v}")));
    }
    Ok(v)
}

/// One of `choices` by name, or an error that lists them.
pub fn one_of<T: Copy>(
    setting: &str,
    value: &str,
    choices: &[(&str, T)],
) -> Result<T, SettingsError> {
    choices
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            bad(
                setting,
                format!("'{value}' is not one of: {}", names.join(", ")),
            )
        })
}

/// A path setting where empty means none.
pub fn optional_path(raw: &str) -> Option<PathBuf> {
    Some(raw.trim())
        .filter(|f| !f.is_empty())
        .map(PathBuf::from)
}

pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => *d == "localhost" || d.ends_with(".localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// "30d", "12h", "90m", "45s" or plain seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(factor)?)).filter(|d| !d.is_zero())
}

/// A list setting: a TOML array, or (from the environment) one comma-separated string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum List {
    Items(Vec<String>),
    Joined(String),
}

impl Default for List {
    fn default() -> Self {
        List::Items(Vec::new())
    }
}

impl List {
    /// The items, trimmed, empty ones left out.
    pub fn items(&self) -> Vec<String> {
        let items: Vec<String> = match self {
            List::Items(items) => items.clone(),
            List::Joined(joined) => joined.split(',').map(str::to_string).collect(),
        };
        items
            .into_iter()
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Some(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        for bad in ["", "0s", "3w", "d", "-1h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
