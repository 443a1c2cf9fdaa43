//! `passkey-idp events`: stored security and audit events, newest first.

use std::time::Duration;

use super::{out, tables, users::admin};
use crate::settings::Settings;

pub async fn run_events(
    user: Option<String>,
    since: Option<Duration>,
    json: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    let admin = admin(settings).await?;
    let events = admin.events(user.as_deref(), since).await?;
    out::answer(json, &events[..], tables::events)
}
