//! What people read: the tables of `users list`, `groups list` and `events`, and the card of
//! `users show`. Each returns the error of a write, so a closed pipe ends the command quietly.

use std::io;

use super::out::say;
use crate::admin::{UserDetail, UserSummary};
use crate::events::EventView;

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

fn joined(items: &[String], separator: &str) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(separator)
    }
}

pub fn users(users: &[UserSummary]) -> io::Result<()> {
    say!(
        "{:<24} {:<9} {:>8} {:<21} {:<21} {:<20} ID",
        "USERNAME",
        "STATUS",
        "PASSKEYS",
        "CREATED",
        "LAST SIGN-IN",
        "GROUPS"
    )?;
    for u in users {
        say!(
            "{:<24} {:<9} {:>8} {:<21} {:<21} {:<20} {}",
            u.username,
            u.status,
            u.passkeys,
            u.created,
            or_dash(u.last_sign_in.as_deref()),
            joined(&u.groups, ","),
            u.id
        )?;
    }
    Ok(())
}

pub fn user(u: &UserDetail) -> io::Result<()> {
    say!("username:     {}", u.username)?;
    say!("id (sub):     {}", u.id)?;
    say!("email:        {}", or_dash(u.email.as_deref()))?;
    say!("status:       {}", u.status)?;
    say!("groups:       {}", joined(&u.groups, ", "))?;
    say!("created:      {}", u.created)?;
    say!("last sign-in: {}", or_dash(u.last_sign_in.as_deref()))?;
    say!("passkeys:")?;
    for p in &u.passkeys {
        let flags = match (p.synced, p.clone_suspected) {
            (_, true) => "POSSIBLY CLONED",
            (true, false) => "synced",
            (false, false) => "device-bound",
        };
        say!(
            "  {}  {:<28} {:<15} created {}  last used {}",
            p.id,
            p.name,
            flags,
            p.created,
            or_dash(p.last_used.as_deref())
        )?;
    }
    say!("sessions:")?;
    for s in &u.sessions {
        say!(
            "  {:<28} created {}  last seen {}{}",
            s.browser,
            s.created,
            s.last_seen,
            if s.recovery { "  (recovery)" } else { "" }
        )?;
    }
    Ok(())
}

/// A line of `groups list`.
#[derive(Debug, serde::Serialize)]
pub struct GroupLine {
    pub name: String,
    pub members: i64,
}

pub fn groups(groups: &[GroupLine]) -> io::Result<()> {
    say!("{:<32} MEMBERS", "GROUP")?;
    for g in groups {
        say!("{:<32} {}", g.name, g.members)?;
    }
    Ok(())
}

pub fn events(events: &[EventView]) -> io::Result<()> {
    say!(
        "{:<21} {:<21} {:<37} {:<24} REQUEST",
        "TIME",
        "KIND",
        "USER",
        "CLIENT"
    )?;
    for e in events {
        say!(
            "{:<21} {:<21} {:<37} {:<24} {}",
            e.time,
            e.kind,
            or_dash(e.user.as_deref()),
            or_dash(e.client.as_deref()),
            or_dash(e.request_id.as_deref())
        )?;
    }
    Ok(())
}
