//! Scheduled rotation (`keys.rotate_every`): the instance doing maintenance this interval
//! (`crate::maintenance`) takes whatever step the rotation rules allow. The others follow by
//! reloading.

use chrono::{DateTime, Utc};

use super::keyset::{KeyAlg, KeyState};
use super::manifest::KeyChange;
use super::policy::{chrono, Policy};
use super::rotation::{generate, retire, rotate, TransitionRefused};
use super::store::KeyStore;

/// What one scheduled step did: a line for the log, and each key's change.
#[derive(Debug)]
pub struct Step {
    pub line: String,
    pub changes: Vec<KeyChange>,
}

/// One step of scheduled rotation: whatever the rules allow now, for every algorithm that has
/// an active key. Returns each change made. Safe to call from several instances: each
/// change re-reads the manifest under the folder lock, so a step already taken is not repeated.
pub fn scheduled_step(
    store: &KeyStore,
    policy: &Policy,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Step>> {
    let Some(every) = policy.rotate_every else {
        return Ok(Vec::new());
    };
    let mut done = Vec::new();
    let Some(manifest) = store.manifest()? else {
        return Ok(done);
    };
    for &alg in KeyAlg::ALL {
        let Some(active) = manifest.in_state(alg, KeyState::Active) else {
            continue;
        };
        let due = active.since() + chrono(every);
        let next = manifest.in_state(alg, KeyState::Next);
        match next {
            None if now + chrono(policy.publish_before_signing) >= due => {
                if let Some(e) = unless_refused(generate(store, alg, by, now))? {
                    done.push(Step {
                        line: format!("generated next {} key {}", alg.name(), e.kid),
                        changes: vec![e.last_change()],
                    });
                }
            }
            Some(next)
                if now >= due && now >= next.since() + chrono(policy.publish_before_signing) =>
            {
                if let Some(r) = unless_refused(rotate(store, alg, false, policy, by, now))? {
                    let mut changes = vec![r.activated.last_change()];
                    changes.extend(r.retiring.iter().map(|e| e.last_change()));
                    done.push(Step {
                        line: format!("rotated {}: {} now signs", alg.name(), r.activated.kid),
                        changes,
                    });
                }
            }
            _ => {}
        }
    }
    for entry in manifest
        .keys
        .iter()
        .filter(|k| k.state == KeyState::Retiring)
    {
        if now >= entry.since() + chrono(policy.keep_after_signing) {
            if let Some(e) = unless_refused(retire(store, &entry.kid, false, policy, by, now))? {
                done.push(Step {
                    line: format!("retired {}", entry.kid),
                    changes: vec![e.last_change()],
                });
            }
        }
    }
    Ok(done)
}

/// In a scheduled step, a refusal means someone else (the command line, another instance)
/// changed the set since it was read: nothing to do this time.
fn unless_refused<T>(result: anyhow::Result<T>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.downcast_ref::<TransitionRefused>().is_some() => Ok(None),
        Err(e) => Err(e),
    }
}
