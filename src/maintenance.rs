//! Periodic work that one instance does for all: scheduled key rotation (`keys.rotate_every`)
//! and the housekeeping sweep (expired refresh tokens, invites, recovery links and session
//! records; events past `events.retention_days`). Every instance wakes at each key reload
//! interval; the one that wins a short lock in the ephemeral store (Redis when several
//! instances run) does the work, and sweeps at most once per `events.sweep_interval_secs`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;

use crate::config::{bad, secs, Section, SettingsError};
use crate::db::{self, Db};
use crate::ephemeral::{Ephemeral, Key};
use crate::events::Event;
use crate::signing::policy::Policy;
use crate::signing::schedule::scheduled_step;
use crate::signing::KeyStore;

/// `[events]`: how long stored events are kept, and how often the sweep runs.
#[derive(Debug, Clone, Copy)]
pub struct EventsSettings {
    pub retention: Duration,
    pub sweep_interval: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsRaw {
    retention_days: u64,
    sweep_interval_secs: u64,
}

impl Default for EventsRaw {
    fn default() -> Self {
        EventsRaw {
            retention_days: 90,
            sweep_interval_secs: 3600,
        }
    }
}

impl Section for EventsSettings {
    const NAME: &'static str = "events";
    type Raw = EventsRaw;

    fn check(raw: EventsRaw) -> Result<EventsSettings, SettingsError> {
        let retention = raw
            .retention_days
            .checked_mul(86_400)
            .filter(|s| *s > 0)
            .ok_or_else(|| bad("events.retention_days", "must be at least 1"))?;
        Ok(EventsSettings {
            retention: Duration::from_secs(retention),
            sweep_interval: secs(
                "events.sweep_interval_secs",
                raw.sweep_interval_secs,
                1,
                7 * 86_400,
            )?,
        })
    }
}

/// What the periodic work needs: when keys rotate (the rotation rules), how often to wake (the
/// key reload interval), and the events' retention.
pub struct Schedule {
    pub policy: Policy,
    pub interval: Duration,
    pub events: EventsSettings,
}

pub fn start(
    schedule: Schedule,
    store: Ephemeral,
    db: Db,
    keys: Arc<KeyStore>,
    instance_id: String,
) {
    tokio::spawn(async move {
        let interval = schedule.interval;
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
            if schedule.policy.rotate_every.is_some() {
                rotate(&schedule.policy, &db, &keys, &instance_id).await;
            }
            match store
                .try_lock(Key::SweepDone, &instance_id, schedule.events.sweep_interval)
                .await
            {
                Ok(true) => sweep(schedule.events.retention, &db).await,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "housekeeping skipped: the lock store does not answer")
                }
            }
        }
    });
}

async fn rotate(policy: &Policy, db: &Db, keys: &Arc<KeyStore>, me: &str) {
    let (keys, policy, by) = (keys.clone(), policy.clone(), me.to_string());
    let step =
        tokio::task::spawn_blocking(move || scheduled_step(&keys, &policy, &by, Utc::now())).await;
    match step {
        Ok(Ok(done)) => {
            let caller = crate::events::Caller::instance(me);
            for step in done {
                Event::ScheduledRotation.now().detail(step.line).report();
                for change in &step.changes {
                    // The change itself was reported where it was made: stored here.
                    let event = crate::admin::keys::key_event(&caller, change);
                    if let Err(e) = db.events().record(event.row()).await {
                        tracing::warn!(error = %e, "a key change could not be stored as an event");
                    }
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

/// One housekeeping sweep (events older than `retention` go); failures are logged and retried
/// at the next interval.
pub async fn sweep(retention: Duration, db: &Db) {
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
