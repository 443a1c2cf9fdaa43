//! `passkey-idp keys …`: each command prints what it did and what the operator does next.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::out::{self, say};
use super::KeysCommand;
use crate::settings::Settings;
use crate::signing::listing::{self, KeyInfo};
use crate::signing::policy::{self, Policy};
use crate::signing::rotation;
use crate::signing::sealed::{Kek, KEK_ENV};
use crate::signing::KeyStoreKind;
use crate::signing::{KeyAlg, KeyStore};

fn when(at: DateTime<Utc>) -> String {
    let now = Utc::now();
    if at <= now {
        "now".to_string()
    } else {
        format!(
            "{} (in {})",
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            policy::human(at - now)
        )
    }
}

fn after(at: DateTime<Utc>, wait: std::time::Duration) -> anyhow::Result<DateTime<Utc>> {
    Ok(at + chrono::Duration::from_std(wait)?)
}

/// Stores a `key_changed` event after a command changed the key set. The key store is the
/// record that matters; when the database cannot be reached the change stands and a warning
/// says the event is missing.
pub async fn record_key_change(settings: &Settings) {
    let stored = async {
        let db = crate::startup::connect_database(&settings.database, crate::db::PoolUse::Command)
            .await?;
        // Reported (logged) where the change was made: stored here only.
        let event = crate::events::Caller::command_line().event(
            crate::events::Event::KeyChanged,
            None,
            None,
        );
        db.events().record(event.row()).await?;
        anyhow::Ok(())
    };
    if let Err(e) = stored.await {
        eprintln!(
            "passkey-idp: warning: the key change was made, but not stored as an event ({})",
            format!("{e:#}").replace('\n', " ")
        );
    }
}

/// What `keys rotate --json` prints: the key that signs now, and the one that stopped.
#[derive(Debug, Serialize)]
struct KeysRotated {
    activated: KeyInfo,
    retiring: Option<KeyInfo>,
}

/// What `keys revoke --json` prints: the revoked key, and the key that signs in its place.
#[derive(Debug, Serialize)]
struct KeysRevoked {
    revoked: KeyInfo,
    replacement: Option<KeyInfo>,
}

/// What `keys import-dir --json` and `keys rekek --json` print: how many keys they moved or
/// sealed again.
#[derive(Debug, Serialize)]
struct KeyCount {
    keys: usize,
}

/// The key `kid` as `keys list --json` shows it.
fn info(store: &KeyStore, policy: &Policy, kid: &str) -> anyhow::Result<KeyInfo> {
    listing::list(store, policy)?
        .into_iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| anyhow::anyhow!("key {kid} vanished from the key set"))
}

/// Runs a `keys` command against the configured key store.
pub async fn run_keys(cmd: KeysCommand, json: bool, settings: &Settings) -> anyhow::Result<()> {
    // The folder store needs no database (the commands work without one).
    let db = match settings.keys.store {
        KeyStoreKind::Dir => None,
        KeyStoreKind::Database => Some(
            crate::startup::connect_database(&settings.database, crate::db::PoolUse::Command)
                .await?,
        ),
    };
    let store = crate::startup::key_store(&settings.keys, db.as_ref())?;
    if !matches!(cmd, KeysCommand::ExportPublic) {
        store.check_kek()?;
    }
    let store = &store;
    let policy = settings.rotation_policy();
    let reload = settings.keys.reload_interval.as_secs();
    let now = Utc::now();
    match cmd {
        KeysCommand::List => out::answer(json, &listing::list(store, &policy)?[..], list),
        KeysCommand::Generate { alg } => {
            let e = rotation::generate(store, alg, "cli", now)?;
            let rotate_at = after(e.since(), policy.publish_before_signing)?;
            out::answer(json, &info(store, &policy, &e.kid)?, |_| {
                say!(
                    "generated {} key {} in state next: published within {reload}s, not signing.",
                    alg.name(),
                    e.kid
                )?;
                say!(
                    "next: `passkey-idp keys rotate --alg {}` is allowed {}.",
                    alg.name(),
                    when(rotate_at)
                )
            })
        }
        KeysCommand::Rotate { alg, force } => rotate(store, alg, force, &policy, reload, json),
        KeysCommand::Retire { kid, force } => {
            let e = rotation::retire(store, &kid, force, &policy, "cli", now)?;
            out::answer(json, &info(store, &policy, &e.kid)?, |k| {
                say!(
                    "{} retired: gone from the JWKS within {reload}s, private key deleted.",
                    k.kid
                )
            })
        }
        KeysCommand::Revoke { kid } => revoke(store, &kid, &policy, reload, json),
        KeysCommand::ImportDir { path } => {
            let keys = store.import_dir(&path, settings.tokens.access_token_alg)?;
            out::answer(json, &KeyCount { keys }, |c| {
                say!(
                "imported {} keys from {} into the database, kids and states unchanged; running instances with keys.store = \"database\" load them within {reload}s.",
                c.keys,
                path.display()
            )
            })
        }
        KeysCommand::ExportPublic => {
            out::json(&store.public_jwks(settings.tokens.access_token_alg)?)
        }
        KeysCommand::Rekek { new_kek } => {
            let new = Kek::parse(&new_kek, "--new-kek")?;
            let keys = store.rekek(&new)?;
            out::answer(json, &KeyCount { keys }, |c| {
                say!(
                "sealed {} private keys and secrets again with the new key-encryption key; give it to every instance as {KEK_ENV} (or keys.kek_file) and restart them.",
                c.keys
            )
            })
        }
    }
}

fn list(keys: &[KeyInfo]) -> std::io::Result<()> {
    say!(
        "{:<44}  {:<6} {:<9} {:<20} NEXT",
        "KID",
        "ALG",
        "STATE",
        "CREATED"
    )?;
    for k in keys {
        let next = match (&k.next_transition, k.next_transition_at) {
            (Some(what), Some(at)) => format!("{what}: {}", when(at)),
            _ => "-".to_string(),
        };
        say!(
            "{:<44}  {:<6} {:<9} {:<20} {next}",
            k.kid,
            k.alg,
            k.state,
            k.created.format("%Y-%m-%d %H:%M:%S")
        )?;
    }
    Ok(())
}

fn rotate(
    store: &KeyStore,
    alg: KeyAlg,
    force: bool,
    policy: &Policy,
    reload: u64,
    json: bool,
) -> anyhow::Result<()> {
    let r = rotation::rotate(store, alg, force, policy, "cli", Utc::now())?;
    let answer = KeysRotated {
        activated: info(store, policy, &r.activated.kid)?,
        retiring: match &r.retiring {
            Some(old) => Some(info(store, policy, &old.kid)?),
            None => None,
        },
    };
    if json {
        return out::json(&answer);
    }
    say!(
        "{} now signs {} tokens (running instances switch within {reload}s).",
        r.activated.kid,
        alg.name()
    )?;
    if let Some(old) = r.retiring {
        say!(
            "{} is retiring: still published so its tokens verify. next: `passkey-idp keys retire {}` is allowed {}.",
            old.kid,
            old.kid,
            when(after(old.since(), policy.keep_after_signing)?)
        )?;
    }
    Ok(())
}

fn revoke(
    store: &KeyStore,
    kid: &str,
    policy: &Policy,
    reload: u64,
    json: bool,
) -> anyhow::Result<()> {
    let r = rotation::revoke(store, kid, "cli", Utc::now())?;
    let answer = KeysRevoked {
        revoked: info(store, policy, &r.revoked.kid)?,
        replacement: match &r.replacement {
            Some(new) => Some(info(store, policy, &new.kid)?),
            None => None,
        },
    };
    if json {
        return out::json(&answer);
    }
    say!(
        "{} revoked: gone from the JWKS and no longer trusted within {reload}s, private key deleted.",
        r.revoked.kid
    )?;
    if let Some(new) = r.replacement {
        say!(
            "{} now signs {} tokens in its place (relying services fetch the JWKS again when they meet its kid).",
            new.kid,
            new.alg.name()
        )?;
    }
    Ok(())
}
