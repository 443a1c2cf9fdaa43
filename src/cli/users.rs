//! `passkey-idp users …`: administering people on the configured database, with or without a
//! running server. A command that changes a user prints them as `users show` does (with
//! `--json`) or one line per fact it made true.

use std::time::Duration;

use serde::Serialize;

use super::out::{self, say, Removal};
use super::{tables, UsersCommand};
use crate::admin::links::{InviteSpec, OneTimeUrl};
use crate::admin::{Admin, AdminError};
use crate::events::rfc3339;
use crate::settings::{parse_duration, Settings};

pub(super) async fn admin(settings: &Settings) -> anyhow::Result<Admin> {
    let db =
        crate::startup::connect_database(&settings.database, crate::db::PoolUse::Command).await?;
    Ok(Admin::new(db, &settings.server.site.issuer))
}

/// "24h", "7d", "90m", "45s".
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    parse_duration(text)
        .ok_or_else(|| format!("'{text}' is not a duration such as 45s, 90m, 24h or 7d"))
}

/// What `users recovery-link --json` and `users invite --json` print.
#[derive(Debug, Serialize)]
struct IssuedLink<'a> {
    url: &'a str,
    expires: String,
}

/// What `users sessions-end --json` prints: the user's id and how many live sessions ended.
#[derive(Debug, Serialize)]
struct EndedSessions<'a> {
    user: &'a str,
    ended: usize,
}

/// A user a command changed (a username or an id), and what it made true, one fact a line.
type Changed = (String, Vec<String>);

pub async fn run_users(cmd: UsersCommand, json: bool, settings: &Settings) -> anyhow::Result<()> {
    let admin = admin(settings).await?;
    let changed = match cmd {
        UsersCommand::List { group } => {
            let users = admin.list(group.as_deref()).await?;
            return out::answer(json, &users[..], tables::users);
        }
        UsersCommand::Show { user } => {
            return out::answer(json, &admin.show(&user).await?, tables::user)
        }
        UsersCommand::RecoveryLink { user, ttl } => {
            let link = admin.recovery_link(&user, ttl).await?;
            let what = format!("one-time recovery link for {user} (it lets the holder add a passkey to this account)");
            return print_link(&link, json, &what);
        }
        UsersCommand::Invite {
            username,
            email,
            groups,
            ttl,
        } => {
            let spec = InviteSpec {
                username,
                email,
                groups,
                ttl,
            };
            return print_link(&admin.invite(spec).await?, json, "one-time sign-up invite");
        }
        UsersCommand::Delete { user, if_exists } => {
            return delete(&admin, &user, if_exists, json).await
        }
        UsersCommand::PasskeyRemove {
            user,
            credential_id,
            if_exists,
        } => return passkey_remove(&admin, &user, &credential_id, if_exists, json).await,
        UsersCommand::SessionsEnd { user } => return sessions_end(&admin, &user, json).await,
        UsersCommand::Disable { user } => disable(&admin, &user).await?,
        UsersCommand::Enable { user } => enable(&admin, &user).await?,
        UsersCommand::PasskeyUnflag {
            user,
            credential_id,
        } => {
            admin.passkey_unflag(&user, &credential_id).await?;
            let done = format!("cleared the clone flag of passkey {credential_id} of {user}");
            (user, vec![done, "it signs in again".to_string()])
        }
        UsersCommand::AddToGroup {
            user,
            group,
            if_missing,
        } => add_to_group(&admin, user, group, if_missing).await?,
        UsersCommand::RemoveFromGroup {
            user,
            group,
            if_exists,
        } => remove_from_group(&admin, user, group, if_exists).await?,
        UsersCommand::Update { user, email } => update(&admin, &user, &email).await?,
    };
    print_changed(&admin, changed, json).await
}

/// The changed user as `users show --json` prints them, or what the command made true.
async fn print_changed(admin: &Admin, (user, said): Changed, json: bool) -> anyhow::Result<()> {
    if json {
        return out::json(&admin.show(&user).await?);
    }
    for fact in said {
        say!("{fact}")?;
    }
    Ok(())
}

async fn disable(admin: &Admin, user: &str) -> anyhow::Result<Changed> {
    let (found, changed) = admin.disable(user).await?;
    let done = if changed {
        format!("disabled {}", found.username)
    } else {
        format!("{} was disabled already", found.username)
    };
    let said = vec![
        done,
        "their sessions and refresh tokens have ended".to_string(),
        "access tokens already issued run out within their lifetime; /userinfo refuses them"
            .to_string(),
    ];
    Ok((found.id, said))
}

async fn enable(admin: &Admin, user: &str) -> anyhow::Result<Changed> {
    let (found, changed) = admin.enable(user).await?;
    let done = if changed {
        format!("enabled {}: they can sign in again", found.username)
    } else {
        format!("{} was active already", found.username)
    };
    Ok((
        found.id,
        vec![done, "ended sessions stay ended".to_string()],
    ))
}

async fn add_to_group(
    admin: &Admin,
    user: String,
    group: String,
    if_missing: bool,
) -> anyhow::Result<Changed> {
    let done = if admin.add_to_group(&user, &group).await? {
        format!("{user} is in group {group}")
    } else if if_missing {
        format!("{user} was in group {group} already")
    } else {
        return Err(AdminError::AlreadyMember { user, group }.into());
    };
    Ok((user, vec![done]))
}

async fn remove_from_group(
    admin: &Admin,
    user: String,
    group: String,
    if_exists: bool,
) -> anyhow::Result<Changed> {
    let done = match admin.remove_from_group(&user, &group).await {
        Err(AdminError::NotAMember { .. }) if if_exists => {
            format!("{user} was not in group {group}")
        }
        done => done.map(|()| format!("{user} is no longer in group {group}"))?,
    };
    Ok((user, vec![done]))
}

async fn update(admin: &Admin, user: &str, email: &str) -> anyhow::Result<Changed> {
    let found = admin.set_email(user, email).await?;
    let done = match &found.email {
        Some(email) => format!("the email of {} is {email}", found.username),
        None => format!("{} has no email now", found.username),
    };
    Ok((found.id, vec![done]))
}

async fn delete(admin: &Admin, user: &str, if_exists: bool, json: bool) -> anyhow::Result<()> {
    let found = match admin.delete(user).await {
        Err(AdminError::NoSuchUser(_)) if if_exists => None,
        done => Some(done?),
    };
    let removed = Removal {
        removed: found.as_ref().map(|u| u.id.as_str()),
    };
    out::answer(json, &removed, |_| match &found {
        Some(u) => {
            say!("deleted {} ({})", u.username, u.id)?;
            say!("their passkeys, sessions, refresh tokens and recovery codes are gone")?;
            say!("the username {} is free again", u.username)
        }
        None => say!("there is no user {user}: nothing to delete"),
    })
}

async fn passkey_remove(
    admin: &Admin,
    user: &str,
    credential_id: &str,
    if_exists: bool,
    json: bool,
) -> anyhow::Result<()> {
    let removed = match admin.passkey_remove(user, credential_id).await {
        Err(AdminError::NoSuchPasskey { .. }) if if_exists => None,
        done => done.map(|()| Some(credential_id))?,
    };
    out::answer(json, &Removal { removed }, |r| match r.removed {
        Some(id) => {
            say!("removed passkey {id} of {user}")?;
            say!("the sessions it started have ended")
        }
        None => say!("{user} has no passkey {credential_id}: nothing to remove"),
    })
}

async fn sessions_end(admin: &Admin, user: &str, json: bool) -> anyhow::Result<()> {
    let (found, ended) = admin.end_sessions(user).await?;
    let answer = EndedSessions {
        user: &found.id,
        ended,
    };
    out::answer(json, &answer, |a| {
        let sessions = if a.ended == 1 { "session" } else { "sessions" };
        say!(
            "ended {} {sessions} of {} on every instance",
            a.ended,
            found.username
        )?;
        say!("their refresh tokens are revoked; they can sign in again")
    })
}

/// The URL alone on stdout (for scripts), or `{"url","expires"}`; what it is on stderr.
fn print_link(link: &OneTimeUrl, json: bool, what: &str) -> anyhow::Result<()> {
    let issued = IssuedLink {
        url: &link.url,
        expires: rfc3339(link.expires.naive_utc()),
    };
    out::answer(json, &issued, |l| say!("{}", l.url))?;
    eprintln!(
        "{what}, valid until {}; shown once.",
        link.expires.format("%Y-%m-%d %H:%M UTC")
    );
    match link.voided {
        0 => {}
        1 => eprintln!("The older recovery link for this person no longer works."),
        n => eprintln!("The {n} older recovery links for this person no longer work."),
    }
    Ok(())
}
