//! `passkey-idp keys …`: each command prints what it did and what the operator does next.

use chrono::{DateTime, Utc};

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

/// Runs a `keys` command against the configured key store.
pub async fn run_keys(cmd: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
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
        KeysCommand::List { json } => list(&listing::list(store, &policy)?, json)?,
        KeysCommand::Generate { alg } => {
            let e = rotation::generate(store, alg, "cli", now)?;
            println!(
                "generated {} key {} in state next: published within {reload}s, not signing.",
                alg.name(),
                e.kid
            );
            println!(
                "next: `passkey-idp keys rotate --alg {}` is allowed {}.",
                alg.name(),
                when(after(e.since(), policy.publish_before_signing)?)
            );
        }
        KeysCommand::Rotate { alg, force } => rotate(store, alg, force, &policy, reload)?,
        KeysCommand::Retire { kid, force } => {
            let e = rotation::retire(store, &kid, force, &policy, "cli", now)?;
            println!(
                "{} retired: gone from the JWKS within {reload}s, private key deleted.",
                e.kid
            );
        }
        KeysCommand::Revoke { kid } => {
            let r = rotation::revoke(store, &kid, "cli", now)?;
            println!(
                "{} revoked: gone from the JWKS and no longer trusted within {reload}s, private key deleted.",
                r.revoked.kid
            );
            if let Some(new) = r.replacement {
                println!(
                    "{} now signs {} tokens in its place (relying services fetch the JWKS again when they meet its kid).",
                    new.kid,
                    new.alg.name()
                );
            }
        }
        KeysCommand::ImportDir { path } => {
            let count = store.import_dir(&path, settings.tokens.access_token_alg)?;
            println!(
                "imported {count} keys from {} into the database, kids and states unchanged; running instances with keys.store = \"database\" load them within {reload}s.",
                path.display()
            );
        }
        KeysCommand::ExportPublic => println!(
            "{}",
            serde_json::to_string_pretty(&store.public_jwks(settings.tokens.access_token_alg)?)?
        ),
        KeysCommand::Rekek { new_kek } => {
            let new = Kek::parse(&new_kek, "--new-kek")?;
            let count = store.rekek(&new)?;
            println!(
                "sealed {count} private keys and secrets again with the new key-encryption key; give it to every instance as {KEK_ENV} (or keys.kek_file) and restart them."
            );
        }
    }
    Ok(())
}

fn list(keys: &[KeyInfo], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(keys)?);
        return Ok(());
    }
    println!(
        "{:<44}  {:<6} {:<9} {:<20} NEXT",
        "KID", "ALG", "STATE", "CREATED"
    );
    for k in keys {
        let next = match (&k.next_transition, k.next_transition_at) {
            (Some(what), Some(at)) => format!("{what}: {}", when(at)),
            _ => "-".to_string(),
        };
        println!(
            "{:<44}  {:<6} {:<9} {:<20} {next}",
            k.kid,
            k.alg,
            k.state,
            k.created.format("%Y-%m-%d %H:%M:%S")
        );
    }
    Ok(())
}

fn rotate(
    store: &KeyStore,
    alg: KeyAlg,
    force: bool,
    policy: &Policy,
    reload: u64,
) -> anyhow::Result<()> {
    let r = rotation::rotate(store, alg, force, policy, "cli", Utc::now())?;
    println!(
        "{} now signs {} tokens (running instances switch within {reload}s).",
        r.activated.kid,
        alg.name()
    );
    if let Some(old) = r.retiring {
        println!(
            "{} is retiring: still published so its tokens verify. next: `passkey-idp keys retire {}` is allowed {}.",
            old.kid,
            old.kid,
            when(after(old.since(), policy.keep_after_signing)?)
        );
    }
    Ok(())
}
