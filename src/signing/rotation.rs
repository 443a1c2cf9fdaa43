//! The rules that make rotation safe, enforced here rather than left to an operator's memory:
//!
//! - a `next` key may sign (`rotate`) only once it has been published for the JWKS cache
//!   lifetime plus the reload interval, so every relying service's cached JWKS has it;
//! - a `retiring` key may leave the JWKS (`retire`) only once every token it signed has
//!   expired: the longest token lifetime plus clock skew, plus the reload interval (other
//!   instances may sign with it until they reload).
//!
//! Every change is made under the store's lock on a freshly read manifest ([`KeyStore::change`]),
//! and every change and refusal is an audit event.

use chrono::{DateTime, Utc};

use super::keyset::{KeyAlg, KeyState, ManifestEntry};
use super::policy::{chrono, human, Policy};
use super::store::{Change, KeyStore};
use crate::events::Event;

/// A refusal: the one-line reason, and when the step will be allowed (if time is the reason).
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct TransitionRefused {
    pub reason: String,
    pub allowed_at: Option<DateTime<Utc>>,
    /// The kid names no key at all (rather than a key whose state forbids the step).
    pub unknown_kid: bool,
}

fn refuse(
    action: &str,
    kid: Option<&str>,
    reason: String,
    allowed_at: Option<DateTime<Utc>>,
) -> anyhow::Error {
    report_refusal(action, kid, &reason);
    TransitionRefused {
        reason,
        allowed_at,
        unknown_kid: false,
    }
    .into()
}

/// A refusal because `kid` names no key in the set.
fn no_such_key(action: &str, kid: &str) -> anyhow::Error {
    let reason = format!("there is no key {kid}");
    report_refusal(action, Some(kid), &reason);
    TransitionRefused {
        reason,
        allowed_at: None,
        unknown_kid: true,
    }
    .into()
}

fn report_refusal(action: &str, kid: Option<&str>, reason: &str) {
    Event::KeyRefused
        .now()
        .detail(format!("{action} {}: {reason}", kid.unwrap_or("-")))
        .report();
}

fn audit(action: &str, entry: &ManifestEntry, by: &str) {
    Event::KeyChanged
        .now()
        .detail(format!(
            "{action} kid={} alg={} state={} by={by}",
            entry.kid,
            entry.alg.name(),
            entry.state.name()
        ))
        .report();
}

/// `keys generate`: a new key in state `next`. At most one `next` key per algorithm.
pub fn generate(
    store: &KeyStore,
    alg: KeyAlg,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ManifestEntry> {
    let entry = store.change(|c| {
        if let Some(next) = c.manifest.in_state(alg, KeyState::Next) {
            return Err(refuse(
                "generate",
                Some(&next.kid),
                format!(
                    "a next {} key ({}) already exists; rotate to it, or revoke it first",
                    alg.name(),
                    next.kid
                ),
                None,
            ));
        }
        let entry = ManifestEntry::new(c.create_key(alg)?, alg, KeyState::Next, now, by);
        c.manifest.keys.push(entry.clone());
        Ok(entry)
    })?;
    audit("generate", &entry, by);
    Ok(entry)
}

pub struct Rotated {
    pub activated: ManifestEntry,
    pub retiring: Option<ManifestEntry>,
    /// When the rules allowed the rotation (`--force` may have come earlier).
    allowed_at: DateTime<Utc>,
    first_of_alg: bool,
}

/// `keys rotate`: for one algorithm, `next` → `active` and `active` → `retiring`.
pub fn rotate(
    store: &KeyStore,
    alg: KeyAlg,
    force: bool,
    policy: &Policy,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Rotated> {
    let rotated = store.change(|c| rotate_in(c, alg, force, policy, by, now))?;
    if force && now < rotated.allowed_at && !rotated.first_of_alg {
        Event::KeyForced
            .now()
            .detail(format!(
                "rotate kid={}: before the JWKS cache lifetime passed",
                rotated.activated.kid
            ))
            .report();
    }
    audit("rotate", &rotated.activated, by);
    if let Some(r) = &rotated.retiring {
        audit("rotate", r, by);
    }
    Ok(rotated)
}

fn rotate_in(
    c: &mut Change,
    alg: KeyAlg,
    force: bool,
    policy: &Policy,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Rotated> {
    let manifest = &mut c.manifest;
    let Some(next) = manifest.in_state(alg, KeyState::Next).cloned() else {
        return Err(refuse(
            "rotate",
            None,
            format!(
                "there is no next {} key; run `passkey-idp keys generate --alg {}` first",
                alg.name(),
                alg.name()
            ),
            None,
        ));
    };
    let allowed_at = next.since() + chrono(policy.publish_before_signing);
    // With no active key of this algorithm nothing signs yet, so nothing waits on caches.
    let first_of_alg = manifest.in_state(alg, KeyState::Active).is_none();
    if now < allowed_at && !force && !first_of_alg {
        return Err(refuse(
            "rotate",
            Some(&next.kid),
            format!(
                "key {} has been published only since {}; caches may not have it yet. Rotation is allowed from {} (in {}), or now with --force",
                next.kid,
                next.since().format("%Y-%m-%d %H:%M:%S UTC"),
                allowed_at.format("%Y-%m-%d %H:%M:%S UTC"),
                human(allowed_at - now)
            ),
            Some(allowed_at),
        ));
    }
    let mut retiring = None;
    if let Some(active) = manifest
        .keys
        .iter_mut()
        .find(|k| k.alg == alg && k.state == KeyState::Active)
    {
        active.set_state(KeyState::Retiring, now, by);
        retiring = Some(active.clone());
    }
    let activated = {
        let entry = manifest
            .find_mut(&next.kid)
            .ok_or_else(|| anyhow::anyhow!("next key vanished"))?;
        entry.set_state(KeyState::Active, now, by);
        entry.clone()
    };
    Ok(Rotated {
        activated,
        retiring,
        allowed_at,
        first_of_alg,
    })
}

/// `keys retire`: a `retiring` key leaves the JWKS and its private part is deleted.
pub fn retire(
    store: &KeyStore,
    kid: &str,
    force: bool,
    policy: &Policy,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ManifestEntry> {
    let retired = store.change(|c| retire_in(c, kid, force, policy, by, now))?;
    audit("retire", &retired, by);
    Ok(retired)
}

fn retire_in(
    c: &mut Change,
    kid: &str,
    force: bool,
    policy: &Policy,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ManifestEntry> {
    let manifest = &mut c.manifest;
    let Some(entry) = manifest.find(kid).cloned() else {
        return Err(no_such_key("retire", kid));
    };
    if entry.state != KeyState::Retiring {
        return Err(refuse(
            "retire",
            Some(kid),
            format!(
                "key {kid} is {}; only a retiring key can be retired (rotate first)",
                entry.state.name()
            ),
            None,
        ));
    }
    let allowed_at = entry.since() + chrono(policy.keep_after_signing);
    if now < allowed_at && !force {
        return Err(refuse(
            "retire",
            Some(kid),
            format!(
                "tokens signed by {kid} may still be valid until {} (in {}); retire then, or now with --force",
                allowed_at.format("%Y-%m-%d %H:%M:%S UTC"),
                human(allowed_at - now)
            ),
            Some(allowed_at),
        ));
    }
    let retired = {
        let e = manifest
            .find_mut(kid)
            .ok_or_else(|| anyhow::anyhow!("key vanished"))?;
        e.set_state(KeyState::Retired, now, by);
        e.clone()
    };
    Ok(retired)
}

pub struct Revoked {
    pub revoked: ManifestEntry,
    /// When the revoked key was the active one: the key that signs in its place.
    pub replacement: Option<ManifestEntry>,
}

/// `keys revoke`: emergency. The key leaves the JWKS now and is never trusted again. When it
/// was the active key, a `next` key of its algorithm is promoted at once, or a new key is
/// made: signing with a key relying services have not cached yet beats signing with a leaked one.
pub fn revoke(
    store: &KeyStore,
    kid: &str,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Revoked> {
    let revoked = store.change(|c| revoke_in(c, kid, by, now))?;
    audit("revoke", &revoked.revoked, by);
    if let Some(r) = &revoked.replacement {
        audit("revoke-replacement", r, by);
    }
    Ok(revoked)
}

fn revoke_in(c: &mut Change, kid: &str, by: &str, now: DateTime<Utc>) -> anyhow::Result<Revoked> {
    let Some(entry) = c.manifest.find(kid).cloned() else {
        return Err(no_such_key("revoke", kid));
    };
    if !entry.state.is_published() {
        return Err(refuse(
            "revoke",
            Some(kid),
            format!("key {kid} is already {}", entry.state.name()),
            None,
        ));
    }
    let was_active = entry.state == KeyState::Active;
    let revoked = {
        let e = c
            .manifest
            .find_mut(kid)
            .ok_or_else(|| anyhow::anyhow!("key vanished"))?;
        e.set_state(KeyState::Revoked, now, by);
        e.clone()
    };
    let replacement = if was_active {
        Some(sign_now(c, entry.alg, now, by)?)
    } else {
        None
    };
    Ok(Revoked {
        revoked,
        replacement,
    })
}

/// Makes sure `alg` has an active key, creating one that signs at once when it has none: with
/// no key of that algorithm, nothing signed with it can be cached or outstanding. Returns the
/// key it activated, if any.
pub fn ensure_active(
    store: &KeyStore,
    alg: KeyAlg,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<ManifestEntry>> {
    let entry = store.change(|c| {
        if c.manifest.in_state(alg, KeyState::Active).is_some() {
            return Ok(None);
        }
        sign_now(c, alg, now, by).map(Some)
    })?;
    if let Some(e) = &entry {
        audit("activate-first", e, by);
    }
    Ok(entry)
}

/// Puts a key of `alg` to signing at once (in the change's manifest): the `next` key if there
/// is one, else a new key.
fn sign_now(
    c: &mut Change,
    alg: KeyAlg,
    now: DateTime<Utc>,
    by: &str,
) -> anyhow::Result<ManifestEntry> {
    if let Some(next) = c
        .manifest
        .keys
        .iter_mut()
        .find(|k| k.alg == alg && k.state == KeyState::Next)
    {
        next.set_state(KeyState::Active, now, by);
        return Ok(next.clone());
    }
    let fresh = ManifestEntry::new(c.create_key(alg)?, alg, KeyState::Active, now, by);
    c.manifest.keys.push(fresh.clone());
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::signing::keyset;
    use crate::signing::schedule::scheduled_step;

    fn policy() -> Policy {
        Policy {
            publish_before_signing: Duration::from_secs(600),
            keep_after_signing: Duration::from_secs(3600),
            rotate_every: Some(Duration::from_secs(86400)),
            access_token_alg: KeyAlg::ES256,
        }
    }

    fn store(dir: &std::path::Path) -> KeyStore {
        KeyStore::Dir(dir.to_path_buf())
    }

    fn setup() -> (std::path::PathBuf, String) {
        let dir = std::env::temp_dir().join(format!("pkidp-rot-{}", uuid::Uuid::new_v4()));
        let kid = ensure_active(&store(&dir), KeyAlg::ES256, "test", Utc::now())
            .expect("create")
            .expect("a new key");
        (dir, kid.kid)
    }

    #[test]
    fn rotate_waits_for_caches_unless_forced() {
        let (dir, first) = setup();
        let t0 = Utc::now();
        let next = generate(&store(&dir), KeyAlg::ES256, "test", t0).expect("generate");
        let err = rotate(
            &store(&dir),
            KeyAlg::ES256,
            false,
            &policy(),
            "test",
            t0 + chrono::Duration::seconds(10),
        )
        .err()
        .expect("refused");
        let refused = err.downcast_ref::<TransitionRefused>().expect("a refusal");
        assert_eq!(
            refused.allowed_at,
            Some(t0 + chrono::Duration::seconds(600))
        );
        assert!(refused.reason.contains("--force"), "{}", refused.reason);
        let r = rotate(
            &store(&dir),
            KeyAlg::ES256,
            false,
            &policy(),
            "test",
            t0 + chrono::Duration::seconds(600),
        )
        .expect("allowed");
        assert_eq!(r.activated.kid, next.kid);
        assert_eq!(r.retiring.map(|e| e.kid), Some(first.clone()));

        // retire waits for the tokens the old key signed.
        let t1 = t0 + chrono::Duration::seconds(600);
        assert!(retire(
            &store(&dir),
            &first,
            false,
            &policy(),
            "test",
            t1 + chrono::Duration::seconds(60)
        )
        .is_err());
        retire(
            &store(&dir),
            &first,
            false,
            &policy(),
            "test",
            t1 + chrono::Duration::seconds(3600),
        )
        .expect("retired");
        assert!(
            !keyset::key_path(&dir, &first).exists(),
            "private part deleted"
        );
        let set = keyset::KeySet::load(&dir, KeyAlg::ES256).expect("load");
        assert!(set.published(&first).is_none());
    }

    #[test]
    fn the_first_key_of_an_algorithm_needs_no_wait() {
        let (dir, _) = setup();
        let now = Utc::now();
        let e = generate(&store(&dir), KeyAlg::EdDSA, "test", now).expect("generate");
        let r = rotate(&store(&dir), KeyAlg::EdDSA, false, &policy(), "test", now)
            .expect("nothing signs EdDSA yet");
        assert_eq!(r.activated.kid, e.kid);
        assert!(r.retiring.is_none());
        let set = keyset::KeySet::load(&dir, KeyAlg::ES256).expect("load");
        assert!(set.active(KeyAlg::EdDSA).is_some() && set.active(KeyAlg::ES256).is_some());
    }

    #[test]
    fn forced_rotation_and_only_one_next_key() {
        let (dir, _) = setup();
        let now = Utc::now();
        generate(&store(&dir), KeyAlg::ES256, "test", now).expect("generate");
        assert!(
            generate(&store(&dir), KeyAlg::ES256, "test", now).is_err(),
            "one next key per algorithm"
        );
        rotate(&store(&dir), KeyAlg::ES256, true, &policy(), "test", now).expect("forced");
        assert!(
            rotate(&store(&dir), KeyAlg::ES256, true, &policy(), "test", now).is_err(),
            "no next key left"
        );
    }

    #[test]
    fn revoking_the_active_key_puts_another_in_its_place() {
        let (dir, first) = setup();
        let now = Utc::now();
        let r = revoke(&store(&dir), &first, "test", now).expect("revoked");
        let replacement = r.replacement.expect("a replacement");
        let set = keyset::KeySet::load(&dir, KeyAlg::ES256).expect("still usable");
        assert_eq!(
            set.active(KeyAlg::ES256).map(|k| k.entry.kid.clone()),
            Some(replacement.kid)
        );
        assert!(set.published(&first).is_none());
        assert!(
            revoke(&store(&dir), &first, "test", now).is_err(),
            "already revoked"
        );
    }

    #[test]
    fn scheduled_steps_make_a_full_cycle() {
        let (dir, first) = setup();
        let p = policy();
        let start = keyset::read_manifest(&dir).expect("m").keys[0].since();
        let at = |s: i64| start + chrono::Duration::seconds(s);
        assert!(scheduled_step(&store(&dir), &p, "i1", at(10))
            .expect("step")
            .is_empty());
        // Generated early enough to be published for the cache lifetime when due.
        let done = scheduled_step(&store(&dir), &p, "i1", at(86400 - 600)).expect("step");
        assert_eq!(done.len(), 1, "{done:?}");
        assert!(scheduled_step(&store(&dir), &p, "i2", at(86400 - 300))
            .expect("step")
            .is_empty());
        let done = scheduled_step(&store(&dir), &p, "i2", at(86400)).expect("step");
        assert!(done[0].starts_with("rotated"), "{done:?}");
        let done = scheduled_step(&store(&dir), &p, "i1", at(86400 + 3600)).expect("step");
        assert_eq!(done, vec![format!("retired {first}")]);
    }
}
