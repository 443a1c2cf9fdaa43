//! `[webauthn]` and `[registration]`: the ceremonies' policy, the origins they may come from,
//! and who may create an account.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::config::{bad, is_loopback_host, one_of, secs, List, Section, SettingsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVerification {
    Required,
    Preferred,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidentKey {
    Required,
    Preferred,
    Discouraged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    Platform,
    CrossPlatform,
}

/// What a credential flagged as possibly cloned may still do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClonedCredentials {
    /// Flagged and shown, still signs in.
    Flag,
    /// Refused with `counter_regression` until the flag is cleared.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attestation {
    None,
    Indirect,
    Direct,
}

#[derive(Debug, Clone)]
pub struct WebauthnSettings {
    pub challenge_ttl: Duration,
    /// Whether a ceremony inside a cross-origin frame is accepted, and from which top origins.
    pub allow_cross_origin: bool,
    pub allowed_top_origins: Vec<String>,
    pub cloned_credentials: ClonedCredentials,
    /// `platform` or `cross-platform` in creation options; `None`: any authenticator.
    pub authenticator_attachment: Option<Attachment>,
    /// Extra origins accepted in clientDataJSON, normalised (`https://app.example.com`,
    /// `android:apk-key-hash:…`).
    pub allowed_origins: Vec<String>,
    pub user_verification: UserVerification,
    pub resident_key: ResidentKey,
    pub attestation: Attestation,
}

impl WebauthnSettings {
    /// The allowed origins that are web origins (CORS, related origins).
    pub fn allowed_web_origins(&self) -> impl Iterator<Item = &str> {
        self.allowed_origins
            .iter()
            .map(String::as_str)
            .filter(|o| o.starts_with("https://") || o.starts_with("http://"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebauthnRaw {
    challenge_ttl_secs: u64,
    allow_cross_origin: bool,
    cloned_credentials: String,
    authenticator_attachment: String,
    allowed_origins: List,
    allowed_top_origins: List,
    user_verification: String,
    resident_key: String,
    attestation: String,
}

impl Default for WebauthnRaw {
    fn default() -> Self {
        WebauthnRaw {
            challenge_ttl_secs: 300,
            allow_cross_origin: false,
            cloned_credentials: "block".into(),
            authenticator_attachment: String::new(),
            allowed_origins: List::default(),
            allowed_top_origins: List::default(),
            user_verification: "required".into(),
            resident_key: "required".into(),
            attestation: "none".into(),
        }
    }
}

impl Section for WebauthnSettings {
    const NAME: &'static str = "webauthn";
    type Raw = WebauthnRaw;

    fn check(raw: WebauthnRaw) -> Result<WebauthnSettings, SettingsError> {
        Ok(WebauthnSettings {
            challenge_ttl: secs(
                "webauthn.challenge_ttl_secs",
                raw.challenge_ttl_secs,
                1,
                3600,
            )?,
            allow_cross_origin: raw.allow_cross_origin,
            allowed_top_origins: raw
                .allowed_top_origins
                .items()
                .iter()
                .map(|o| top_origin(o))
                .collect::<Result<Vec<_>, _>>()?,
            cloned_credentials: one_of(
                "webauthn.cloned_credentials",
                &raw.cloned_credentials,
                &[
                    ("block", ClonedCredentials::Block),
                    ("flag", ClonedCredentials::Flag),
                ],
            )?,
            authenticator_attachment: one_of(
                "webauthn.authenticator_attachment",
                &raw.authenticator_attachment,
                &[
                    ("", None),
                    ("platform", Some(Attachment::Platform)),
                    ("cross-platform", Some(Attachment::CrossPlatform)),
                ],
            )?,
            allowed_origins: raw
                .allowed_origins
                .items()
                .iter()
                .map(|o| allowed_origin(o))
                .collect::<Result<Vec<_>, _>>()?,
            user_verification: one_of(
                "webauthn.user_verification",
                &raw.user_verification,
                &[
                    ("required", UserVerification::Required),
                    ("preferred", UserVerification::Preferred),
                ],
            )?,
            resident_key: one_of(
                "webauthn.resident_key",
                &raw.resident_key,
                &[
                    ("required", ResidentKey::Required),
                    ("preferred", ResidentKey::Preferred),
                    ("discouraged", ResidentKey::Discouraged),
                ],
            )?,
            attestation: one_of(
                "webauthn.attestation",
                &raw.attestation,
                &[
                    ("none", Attestation::None),
                    ("indirect", Attestation::Indirect),
                    ("direct", Attestation::Direct),
                ],
            )?,
        })
    }
}

/// One entry of `webauthn.allowed_top_origins`: an origin such as https://portal.example.com.
fn top_origin(raw: &str) -> Result<String, SettingsError> {
    match Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {
            Ok(u.origin().ascii_serialization())
        }
        _ => Err(bad(
            "webauthn.allowed_top_origins",
            format!("'{raw}' is not an origin such as https://portal.example.com"),
        )),
    }
}

/// One entry of `webauthn.allowed_origins`, normalised: an https web origin (http only on a
/// loopback host), or an Android app origin `android:apk-key-hash:<base64url>`.
fn allowed_origin(raw: &str) -> Result<String, SettingsError> {
    let setting = "webauthn.allowed_origins";
    if let Some(hash) = raw.strip_prefix("android:apk-key-hash:") {
        let valid = !hash.is_empty()
            && hash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        return if valid {
            Ok(raw.to_string())
        } else {
            Err(bad(
                setting,
                format!("'{raw}': the key hash must be base64url"),
            ))
        };
    }
    let not_an_origin = || {
        bad(
            setting,
            format!("'{raw}' is not an origin such as https://app.example.com or android:apk-key-hash:…"),
        )
    };
    let url = Url::parse(raw).map_err(|_| not_an_origin())?;
    let host = url.host().ok_or_else(not_an_origin)?;
    let web = match url.scheme() {
        "https" => true,
        "http" => is_loopback_host(&host),
        _ => false,
    };
    if !web || url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(not_an_origin());
    }
    Ok(url.origin().ascii_serialization())
}

/// `registration.mode`: who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Anyone who can reach `/register` (an invite, if given, still applies its groups).
    Open,
    /// Only through an invite URL.
    Invite,
    /// Nobody.
    Closed,
}

impl RegistrationMode {
    /// Its name in the settings (`open`, `invite`, `closed`).
    pub fn name(self) -> &'static str {
        match self {
            RegistrationMode::Open => "open",
            RegistrationMode::Invite => "invite",
            RegistrationMode::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RegistrationSettings {
    pub mode: RegistrationMode,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationRaw {
    mode: String,
}

impl Default for RegistrationRaw {
    fn default() -> Self {
        RegistrationRaw {
            mode: "open".into(),
        }
    }
}

impl Section for RegistrationSettings {
    const NAME: &'static str = "registration";
    type Raw = RegistrationRaw;

    fn check(raw: RegistrationRaw) -> Result<RegistrationSettings, SettingsError> {
        let mode = raw.mode.trim().to_ascii_lowercase();
        Ok(RegistrationSettings {
            mode: one_of(
                "registration.mode",
                &mode,
                &[
                    ("open", RegistrationMode::Open),
                    ("invite", RegistrationMode::Invite),
                    ("closed", RegistrationMode::Closed),
                ],
            )?,
        })
    }
}
