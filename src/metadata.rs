//! Authenticator names and icons by AAGUID: a small built-in table of common passkey providers
//! and security keys (names only), overlaid by an optional operator file in the community
//! "AAGUID → {name, icon_light, icon_dark}" format (`metadata.aaguid_file`), reloaded when it
//! changes. Unknown AAGUIDs are just "Passkey".

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::config::{optional_path, Section, SettingsError};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Authenticator {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_light: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_dark: Option<String>,
}

const BUILT_IN: &[(&str, &str)] = &[
    ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"),
    (
        "dd4ec289-e01d-41c9-bb89-70fa845d4bf2",
        "iCloud Keychain (Managed)",
    ),
    (
        "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
        "Google Password Manager",
    ),
    ("adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"),
    ("08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"),
    ("9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"),
    ("6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"),
    (
        "d3452668-01fd-4c12-926c-83a4204853aa",
        "Microsoft Password Manager",
    ),
    ("771b48fd-d3d4-4f74-9232-fc157ab0507a", "Edge on Mac"),
    ("bada5566-a7aa-401f-bd96-45619a55120d", "1Password"),
    ("d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"),
    ("531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"),
    ("b84e4048-15dc-4dd0-8640-f4f60813c8af", "NordPass"),
    ("0ea242b4-43c4-4a1b-8b17-dd6d0b6baec6", "Keeper"),
    ("f3809540-7f14-49c1-a8b3-8f813b225541", "Enpass"),
    ("50726f74-6f6e-5061-7373-50726f746f6e", "Proton Pass"),
    ("fdb141b2-5d84-443e-8a35-4698c205a502", "KeePassXC"),
    ("53414d53-554e-4700-0000-000000000000", "Samsung Pass"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
    ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 NFC"),
    (
        "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3",
        "Google Titan Security Key",
    ),
];

pub const UNKNOWN: &str = "Passkey";

#[derive(Default)]
struct FileState {
    entries: HashMap<String, Authenticator>,
    modified: Option<SystemTime>,
}

#[derive(Clone)]
pub struct AuthenticatorNames {
    file: Option<PathBuf>,
    loaded: Arc<RwLock<FileState>>,
}

impl AuthenticatorNames {
    /// Loads the operator file now (a missing or broken file is an error at start, so the
    /// operator hears of it); later changes are picked up by [`AuthenticatorNames::watch`].
    pub fn new(file: Option<PathBuf>) -> anyhow::Result<Self> {
        let names = AuthenticatorNames {
            file,
            loaded: Arc::default(),
        };
        if let Some(path) = &names.file {
            let state = load(path).map_err(|e| anyhow::anyhow!("metadata.aaguid_file: {e}"))?;
            *names.loaded.write().unwrap_or_else(|p| p.into_inner()) = state;
        }
        Ok(names)
    }

    pub fn lookup(&self, aaguid: &str) -> Authenticator {
        let aaguid = aaguid.to_ascii_lowercase();
        if let Some(found) = self
            .loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .get(&aaguid)
        {
            return found.clone();
        }
        let name = BUILT_IN
            .iter()
            .find(|(id, _)| *id == aaguid)
            .map(|(_, name)| *name)
            .unwrap_or(UNKNOWN);
        Authenticator {
            name: name.to_string(),
            icon_light: None,
            icon_dark: None,
        }
    }

    /// Reloads the file when its modification time changes. A file that no longer parses keeps
    /// the previous table (and logs why).
    pub fn reload_if_changed(&self) {
        let Some(path) = &self.file else { return };
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if modified
            == self
                .loaded
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .modified
        {
            return;
        }
        match load(path) {
            Ok(state) => {
                tracing::info!(
                    entries = state.entries.len(),
                    "authenticator metadata reloaded"
                );
                *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = state;
            }
            Err(e) => {
                tracing::error!(error = %e, "authenticator metadata file is not usable; keeping the previous table");
                self.loaded
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .modified = modified;
            }
        }
    }

    pub fn watch(&self, interval: Duration) {
        if self.file.is_none() {
            return;
        }
        let names = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                let n = names.clone();
                let _ = tokio::task::spawn_blocking(move || n.reload_if_changed()).await;
            }
        });
    }
}

/// Icons must be images carried in the file itself: anything else (a remote URL, a script URL)
/// is dropped, so the account page never loads or runs something from elsewhere.
fn safe_icon(icon: Option<String>) -> Option<String> {
    icon.filter(|i| {
        (i.starts_with("data:image/png;base64,")
            || i.starts_with("data:image/svg+xml;base64,")
            || i.starts_with("data:image/webp;base64,"))
            && i.len() < 256 * 1024
    })
}

fn load(path: &std::path::Path) -> Result<FileState, String> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let raw: HashMap<String, Authenticator> = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not an AAGUID metadata file: {e}", path.display()))?;
    let entries = raw
        .into_iter()
        .filter_map(|(id, a)| {
            let id = uuid::Uuid::parse_str(&id).ok()?.to_string();
            let name: String = a
                .name
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect();
            Some((
                id,
                Authenticator {
                    name,
                    icon_light: safe_icon(a.icon_light),
                    icon_dark: safe_icon(a.icon_dark),
                },
            ))
        })
        .collect();
    Ok(FileState { entries, modified })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aaguid.json");

    #[test]
    fn built_in_names_and_unknown_fallback() {
        let names = AuthenticatorNames::new(None).expect("no file");
        assert_eq!(
            names.lookup("EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4").name,
            "Google Password Manager"
        );
        assert_eq!(
            names.lookup("00000000-0000-0000-0000-000000000000").name,
            "Passkey"
        );
    }

    #[test]
    fn operator_file_overrides_and_reloads() {
        if !std::path::Path::new(SNAPSHOT).exists() {
            panic!("the AAGUID fixture is missing at {SNAPSHOT}");
        }
        let dir = std::env::temp_dir().join(format!("pkidp-meta-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("aaguid.json");
        std::fs::copy(SNAPSHOT, &file).expect("copy fixture");
        let names = AuthenticatorNames::new(Some(file.clone())).expect("loads the fixture");
        let onepassword = names.lookup("bada5566-a7aa-401f-bd96-45619a55120d");
        assert_eq!(onepassword.name, "1Password");
        assert!(onepassword
            .icon_light
            .as_deref()
            .is_some_and(|i| i.starts_with("data:image/")));

        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(
            &file,
            r#"{"bada5566-a7aa-401f-bd96-45619a55120d": {"name": "Renamed", "icon_light": "https://evil.example/x.png"}}"#,
        )
        .expect("rewrite");
        names.reload_if_changed();
        let renamed = names.lookup("bada5566-a7aa-401f-bd96-45619a55120d");
        assert_eq!(renamed.name, "Renamed");
        assert_eq!(renamed.icon_light, None, "remote icons are dropped");

        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&file, "{ broken").expect("break");
        names.reload_if_changed();
        assert_eq!(
            names.lookup("bada5566-a7aa-401f-bd96-45619a55120d").name,
            "Renamed"
        );
    }
}

/// `[metadata]`: the operator's AAGUID metadata file, if any.
#[derive(Debug, Clone, Default)]
pub struct MetadataSettings {
    pub aaguid_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataRaw {
    aaguid_file: String,
}

impl Section for MetadataSettings {
    const NAME: &'static str = "metadata";
    type Raw = MetadataRaw;

    fn check(raw: MetadataRaw) -> Result<MetadataSettings, SettingsError> {
        Ok(MetadataSettings {
            aaguid_file: optional_path(&raw.aaguid_file),
        })
    }
}
