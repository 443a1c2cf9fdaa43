//! Periodic work that one instance does for all: scheduled key rotation (`keys.rotate_every`)
//! and the housekeeping sweep (expired refresh tokens, invites, recovery links and session
//! records; events past `events.retention_days`). Every instance wakes at each key reload
//! interval; the one that wins a short lock in the ephemeral store (Redis when several
//! instances run) does the work, and sweeps at most once per `events.sweep_interval_secs`.

use std::sync::Arc;

use chrono::Utc;

use crate::db::{self, Db};
use crate::ephemeral::{Ephemeral, Key};
use crate::events::Event;
use crate::settings::Settings;
use crate::signing::schedule::scheduled_step;
use crate::signing::KeyStore;

pub fn start(
    settings: Arc<Settings>,
    store: Ephemeral,
    db: Db,
    keys: Arc<KeyStore>,
    instance_id: String,
) {
    tokio::spawn(async move {
        let interval = settings.keys_reload_interval;
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store
                .try_lock(Key::RotationLock, &instance_id, interval)
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "maintenance skipped: the lock store does not answer");
                    continue;
                }
            }
            if settings.keys_rotate_every.is_some() {
                rotate(&settings, &db, &keys, &instance_id).await;
            }
            match store
                .try_lock(Key::SweepDone, &instance_id, settings.sweep_interval)
                .await
            {
                Ok(true) => sweep(&settings, &db).await,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "housekeeping skipped: the lock store does not answer")
                }
            }
        }
    });
}

async fn rotate(settings: &Settings, db: &Db, keys: &Arc<KeyStore>, me: &str) {
    let (keys, policy, me) = (keys.clone(), settings.rotation_policy(), me.to_string());
    let step =
        tokio::task::spawn_blocking(move || scheduled_step(&keys, &policy, &me, Utc::now())).await;
    match step {
        Ok(Ok(done)) => {
            for change in done {
                Event::ScheduledRotation
                    .now()
                    .detail(change.to_string())
                    .report();
                // The change itself was reported where it was made: stored here.
                if let Err(e) = db.events().record(Event::KeyChanged.now().row()).await {
                    tracing::warn!(error = %e, "a key change could not be stored as an event");
                }
            }
        }
        Ok(Err(e)) => Event::ScheduledRotationFailed
            .now()
            .detail(format!("{e:#}"))
            .report(),
        Err(e) => tracing::error!(error = %e, "scheduled key rotation task failed"),
    }
}

/// One housekeeping sweep; failures are logged and retried at the next interval.
pub async fn sweep(settings: &Settings, db: &Db) {
    let retention = settings.events_retention;
    let result = db
        .run(move |c| {
            let now = Utc::now();
            let cutoff =
                now - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
            db::housekeeping::sweep(c, now.naive_utc(), cutoff.naive_utc())
        })
        .await;
    match result {
        Ok(swept) if swept.total() > 0 => tracing::info!(
            refresh_tokens = swept.refresh_tokens,
            invites_and_links = swept.invites_and_links,
            sessions = swept.sessions,
            events = swept.events,
            "housekeeping sweep"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "housekeeping sweep failed; retried later"),
    }
}
