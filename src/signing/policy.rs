//! How long keys wait before each step of their life, and the time arithmetic of the rules.

use std::time::Duration;

use super::manifest::KeyAlg;

#[derive(Debug, Clone)]
pub struct Policy {
    /// How long a key is published before it may sign.
    pub publish_before_signing: Duration,
    /// How long a key stays published after it stopped signing.
    pub keep_after_signing: Duration,
    /// Scheduled rotation period, if any.
    pub rotate_every: Option<Duration>,
    /// The algorithm access tokens are signed with (always has an active key).
    pub access_token_alg: KeyAlg,
}

pub fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// "3h 5m", "42s": how long until a step is allowed.
pub fn human(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}
