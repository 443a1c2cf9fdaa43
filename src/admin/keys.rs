//! The signing key set as operators change it (`keys …` and `/api/admin/v1/keys`): the same
//! rotation rules and refusals for both ([`crate::signing::rotation`]), run with the key store
//! of whoever calls (the server's own store and KEK for the API). Each key that changes gets a
//! stored `key_changed` event naming the actor, the kid and its old and new state. The event is
//! stored once the key store has the change: the folder store is not in the database.

use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;

use super::{Admin, AdminError};
use crate::db::DbError;
use crate::events::{Caller, Event, Happened};
use crate::fault::Fault;
use crate::signing::listing::{self, KeyInfo};
use crate::signing::policy::Policy;
use crate::signing::rotation::{self, TransitionRefused};
use crate::signing::{KeyAlg, KeyChange, KeyStore};

/// The key set as `GET /keys` and every key operation of the admin API answer it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeySetView {
    pub keys: Vec<KeyInfo>,
}

/// The stored event of one key's change, by `caller`.
pub fn key_event(caller: &Caller, change: &KeyChange) -> Happened {
    caller
        .event(Event::KeyChanged, None, None)
        .object(&change.kid)
        .change(change.detail())
}

/// A refusal of the rotation rules, or what else went wrong with the key store.
fn key_error(e: anyhow::Error) -> AdminError {
    let e = match e.downcast::<TransitionRefused>() {
        Ok(refused) if refused.unknown_kid => {
            let kid = refused.reason.trim_start_matches("there is no key ");
            return AdminError::NoSuchKey(kid.to_string());
        }
        Ok(refused) => return AdminError::KeyRefused(refused.reason),
        Err(e) => e,
    };
    let e = match e.downcast::<diesel::result::Error>() {
        Ok(query) => return AdminError::Fault(Fault::Database(DbError::Query(query))),
        Err(e) => e,
    };
    let text = format!("{e:#}");
    if text.contains("unreachable") {
        return AdminError::Fault(Fault::Database(DbError::PoolTimeout));
    }
    AdminError::Fault(Fault::Internal(text))
}

impl Admin {
    /// Who the key manifest's history names for a change made here.
    fn by(&self) -> String {
        self.caller
            .actor
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "cli".to_string())
    }

    /// Runs a key store step on the blocking pool.
    async fn on_keys<T: Send + 'static>(
        &self,
        store: &Arc<KeyStore>,
        step: impl FnOnce(&KeyStore, &str) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, AdminError> {
        let (store, by) = (store.clone(), self.by());
        crate::blocking::spawn(move || step(&store, &by))
            .await
            .map_err(|e| AdminError::Fault(Fault::internal(e)))?
            .map_err(key_error)
    }

    /// Every key with its state and what may happen to it next.
    pub async fn keys(
        &self,
        store: &Arc<KeyStore>,
        policy: &Policy,
    ) -> Result<Vec<KeyInfo>, AdminError> {
        let policy = policy.clone();
        self.on_keys(store, move |s, _| listing::list(s, &policy))
            .await
    }

    /// Stores the events of changes made (the rotation rules logged each where it was made);
    /// the changes stand even if this fails.
    pub async fn record_key_changes(&self, changes: &[KeyChange]) -> Result<(), AdminError> {
        for change in changes {
            let event = key_event(&self.caller, change);
            self.db.events().record(event.row()).await?;
        }
        Ok(())
    }

    async fn changed(&self, changes: Vec<KeyChange>) -> Result<Vec<KeyChange>, AdminError> {
        self.record_key_changes(&changes).await?;
        Ok(changes)
    }

    /// `keys generate`: a new key of `alg` in state `next`.
    pub async fn key_generate(
        &self,
        store: &Arc<KeyStore>,
        alg: KeyAlg,
    ) -> Result<Vec<KeyChange>, AdminError> {
        let e = self
            .on_keys(store, move |s, by| {
                rotation::generate(s, alg, by, Utc::now())
            })
            .await?;
        self.changed(vec![e.last_change()]).await
    }

    /// `keys rotate`: for `alg`, `next` → `active` and `active` → `retiring`.
    pub async fn key_rotate(
        &self,
        store: &Arc<KeyStore>,
        alg: KeyAlg,
        force: bool,
        policy: &Policy,
    ) -> Result<Vec<KeyChange>, AdminError> {
        let policy = policy.clone();
        let r = self
            .on_keys(store, move |s, by| {
                rotation::rotate(s, alg, force, &policy, by, Utc::now())
            })
            .await?;
        let mut changes = vec![r.activated.last_change()];
        changes.extend(r.retiring.iter().map(|e| e.last_change()));
        self.changed(changes).await
    }

    /// `keys retire`: a `retiring` key leaves the key set.
    pub async fn key_retire(
        &self,
        store: &Arc<KeyStore>,
        kid: &str,
        force: bool,
        policy: &Policy,
    ) -> Result<Vec<KeyChange>, AdminError> {
        let (policy, kid) = (policy.clone(), kid.to_string());
        let e = self
            .on_keys(store, move |s, by| {
                rotation::retire(s, &kid, force, &policy, by, Utc::now())
            })
            .await?;
        self.changed(vec![e.last_change()]).await
    }

    /// `keys revoke`: the key leaves the key set now; an active one is replaced at once.
    pub async fn key_revoke(
        &self,
        store: &Arc<KeyStore>,
        kid: &str,
    ) -> Result<Vec<KeyChange>, AdminError> {
        let kid = kid.to_string();
        let r = self
            .on_keys(store, move |s, by| {
                rotation::revoke(s, &kid, by, Utc::now())
            })
            .await?;
        let mut changes = vec![r.revoked.last_change()];
        changes.extend(r.replacement.iter().map(|e| e.last_change()));
        self.changed(changes).await
    }

    /// Makes sure `alg` has a signing key (a client's ID tokens need one), making one that
    /// signs at once when there is none.
    pub async fn ensure_signing_key(
        &self,
        store: &Arc<KeyStore>,
        alg: KeyAlg,
    ) -> Result<Vec<KeyChange>, AdminError> {
        let made = self
            .on_keys(store, move |s, by| {
                rotation::ensure_active(s, alg, by, Utc::now())
            })
            .await?;
        self.changed(made.iter().map(|e| e.last_change()).collect())
            .await
    }
}
