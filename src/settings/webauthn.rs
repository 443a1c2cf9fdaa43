//! The `[webauthn]` section: ceremony policy, and the origins ceremonies may come from.

use std::time::Duration;

use url::Url;

use super::raw::WebauthnSection;
use super::validate::{is_loopback_host, one_of, secs};
use super::{
    bad, Attachment, Attestation, ClonedCredentials, ResidentKey, SettingsError, UserVerification,
};

pub(super) struct Webauthn {
    pub(super) challenge_ttl: Duration,
    pub(super) allowed_origins: Vec<String>,
    pub(super) authenticator_attachment: Option<Attachment>,
    pub(super) cloned_credentials: ClonedCredentials,
    pub(super) allowed_top_origins: Vec<String>,
    pub(super) user_verification: UserVerification,
    pub(super) resident_key: ResidentKey,
    pub(super) attestation: Attestation,
}

pub(super) fn webauthn(raw: &WebauthnSection) -> Result<Webauthn, SettingsError> {
    let allowed_top_origins = raw
        .allowed_top_origins
        .items()
        .iter()
        .map(|o| match Url::parse(o) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {
                Ok(u.origin().ascii_serialization())
            }
            _ => Err(bad(
                "webauthn.allowed_top_origins",
                format!("'{o}' is not an origin such as https://portal.example.com"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let allowed_origins = raw
        .allowed_origins
        .items()
        .iter()
        .map(|o| allowed_origin(o))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Webauthn {
        allowed_origins,
        allowed_top_origins,
        authenticator_attachment: one_of(
            "webauthn.authenticator_attachment",
            &raw.authenticator_attachment,
            &[
                ("", None),
                ("platform", Some(Attachment::Platform)),
                ("cross-platform", Some(Attachment::CrossPlatform)),
            ],
        )?,
        cloned_credentials: one_of(
            "webauthn.cloned_credentials",
            &raw.cloned_credentials,
            &[
                ("block", ClonedCredentials::Block),
                ("flag", ClonedCredentials::Flag),
            ],
        )?,
        challenge_ttl: secs(
            "webauthn.challenge_ttl_secs",
            raw.challenge_ttl_secs,
            1,
            3600,
        )?,
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
