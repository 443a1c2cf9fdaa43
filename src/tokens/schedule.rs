//! Scheduled rotation (`keys.rotate_every`): every instance wakes at each reload interval, and
//! the one that wins a short lock in the challenge store (Redis when several instances share
//! the key set) takes whatever step the rotation rules allow. The others follow by reloading.

use std::path::PathBuf;

use chrono::Utc;

use super::rotation::{self, Policy};
use crate::settings::Settings;
use crate::store::ChallengeStore;

const LOCK_KEY: &str = "lock:key-rotation";

pub fn start(settings: &Settings, store: &ChallengeStore, instance_id: &str) {
    let policy = Policy::from_settings(settings);
    let dir: PathBuf = settings.keys_dir.clone();
    let interval = settings.keys_reload_interval;
    let store = store.clone();
    let me = instance_id.to_string();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.try_lock(LOCK_KEY, &me, interval).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled key rotation skipped: the lock store does not answer");
                    continue;
                }
            }
            let (dir, policy, me) = (dir.clone(), policy.clone(), me.clone());
            let step = tokio::task::spawn_blocking(move || {
                rotation::scheduled_step(&dir, &policy, &me, Utc::now())
            })
            .await;
            match step {
                Ok(Ok(done)) => {
                    for change in done {
                        tracing::info!(target: "audit", event = "scheduled_rotation", change = %change, "scheduled key rotation step");
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(target: "audit", event = "scheduled_rotation_failed", error = %format!("{e:#}"), "scheduled key rotation failed")
                }
                Err(e) => tracing::error!(error = %e, "scheduled key rotation task failed"),
            }
        }
    });
}
