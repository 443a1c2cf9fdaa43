//! `passkey-idp users …`, `groups …` and `events`: administering people and access on the
//! configured database, with or without a running server.

use std::time::Duration;

use super::{GroupsCommand, UsersCommand};
use crate::admin::links::{InviteSpec, OneTimeUrl};
use crate::admin::{Admin, UserDetail, UserSummary};
use crate::events::EventView;
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

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub async fn run_users(cmd: UsersCommand, settings: &Settings) -> anyhow::Result<()> {
    let admin = admin(settings).await?;
    match cmd {
        UsersCommand::List { json, group } => {
            let users = admin.list(group.as_deref()).await?;
            if json {
                return print_json(&users);
            }
            print_users(&users);
        }
        UsersCommand::Show { user, json } => {
            let detail = admin.show(&user).await?;
            if json {
                return print_json(&detail);
            }
            print_user(&detail);
        }
        UsersCommand::RecoveryLink { user, ttl } => {
            let link = admin.recovery_link(&user, ttl).await?;
            print_link(&link, &format!("one-time recovery link for {user} (it lets the holder add a passkey to this account)"));
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
            print_link(&admin.invite(spec).await?, "one-time sign-up invite");
        }
        change => println!("{}", change_user(&admin, change).await?),
    }
    Ok(())
}

/// A command that changes a user, and what it says it did.
async fn change_user(admin: &Admin, cmd: UsersCommand) -> anyhow::Result<String> {
    Ok(match cmd {
        UsersCommand::Disable { user } => {
            let (found, changed) = admin.disable(&user).await?;
            let already = if changed { "" } else { " (already disabled)" };
            format!("disabled {}{already}: their sessions and refresh tokens have ended; access tokens already issued run out within their lifetime and /userinfo refuses them.", found.username)
        }
        UsersCommand::Enable { user } => {
            let (found, changed) = admin.enable(&user).await?;
            let already = if changed { "" } else { " (already active)" };
            format!(
                "enabled {}{already}: they can sign in again (ended sessions stay ended).",
                found.username
            )
        }
        UsersCommand::Delete { user } => {
            let found = admin.delete(&user).await?;
            format!("deleted {} ({}) with their passkeys, sessions, refresh tokens and recovery codes; the username is free again.", found.username, found.id)
        }
        UsersCommand::PasskeyRemove {
            user,
            credential_id,
        } => {
            admin.passkey_remove(&user, &credential_id).await?;
            format!("removed passkey {credential_id} of {user}, and the sessions it started.")
        }
        UsersCommand::PasskeyUnflag {
            user,
            credential_id,
        } => {
            admin.passkey_unflag(&user, &credential_id).await?;
            format!(
                "cleared the clone flag of passkey {credential_id} of {user}: it signs in again."
            )
        }
        UsersCommand::AddToGroup { user, group } => {
            let added = admin.add_to_group(&user, &group).await?;
            let already = if added { "" } else { " (already a member)" };
            format!("{user} is in group {group}{already}.")
        }
        UsersCommand::RemoveFromGroup { user, group } => {
            admin.remove_from_group(&user, &group).await?;
            format!("{user} is no longer in group {group}.")
        }
        UsersCommand::List { .. }
        | UsersCommand::Show { .. }
        | UsersCommand::RecoveryLink { .. }
        | UsersCommand::Invite { .. } => String::new(),
    })
}

/// The URL alone on stdout (for scripts), what it is on stderr.
fn print_link(link: &OneTimeUrl, what: &str) {
    println!("{}", link.url);
    eprintln!(
        "{what}, valid until {}; shown once.",
        link.expires.format("%Y-%m-%d %H:%M UTC")
    );
    match link.voided {
        0 => {}
        1 => eprintln!("The older recovery link for this person no longer works."),
        n => eprintln!("The {n} older recovery links for this person no longer work."),
    }
}

pub async fn run_groups(cmd: GroupsCommand, settings: &Settings) -> anyhow::Result<()> {
    let admin = admin(settings).await?;
    match cmd {
        GroupsCommand::List { json } => {
            let groups = admin.groups().await?;
            if json {
                #[derive(serde::Serialize)]
                struct Group<'a> {
                    name: &'a str,
                    members: i64,
                }
                let items: Vec<Group> = groups
                    .iter()
                    .map(|(name, members)| Group {
                        name,
                        members: *members,
                    })
                    .collect();
                return print_json(&items);
            }
            println!("{:<32} MEMBERS", "GROUP");
            for (name, members) in groups {
                println!("{name:<32} {members}");
            }
        }
        GroupsCommand::Add { name } => {
            admin.group_add(&name).await?;
            println!("created group {name}.");
        }
        GroupsCommand::Remove { name } => {
            admin.group_remove(&name).await?;
            println!("removed group {name} and its memberships.");
        }
    }
    Ok(())
}

pub async fn run_events(
    user: Option<String>,
    since: Option<Duration>,
    json: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    let admin = admin(settings).await?;
    let events = admin.events(user.as_deref(), since).await?;
    if json {
        return print_json(&events);
    }
    print_events(&events);
    Ok(())
}

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

fn print_users(users: &[UserSummary]) {
    println!(
        "{:<24} {:<9} {:>8} {:<21} {:<21} {:<20} ID",
        "USERNAME", "STATUS", "PASSKEYS", "CREATED", "LAST SIGN-IN", "GROUPS"
    );
    for u in users {
        println!(
            "{:<24} {:<9} {:>8} {:<21} {:<21} {:<20} {}",
            u.username,
            u.status,
            u.passkeys,
            u.created,
            or_dash(u.last_sign_in.as_deref()),
            if u.groups.is_empty() {
                "-".to_string()
            } else {
                u.groups.join(",")
            },
            u.id
        );
    }
}

fn print_user(u: &UserDetail) {
    println!("username:     {}", u.username);
    println!("id (sub):     {}", u.id);
    println!("email:        {}", or_dash(u.email.as_deref()));
    println!("status:       {}", u.status);
    println!(
        "groups:       {}",
        if u.groups.is_empty() {
            "-".to_string()
        } else {
            u.groups.join(", ")
        }
    );
    println!("created:      {}", u.created);
    println!("last sign-in: {}", or_dash(u.last_sign_in.as_deref()));
    println!("passkeys:");
    for p in &u.passkeys {
        let flags = match (p.synced, p.clone_suspected) {
            (_, true) => "POSSIBLY CLONED",
            (true, false) => "synced",
            (false, false) => "device-bound",
        };
        println!(
            "  {}  {:<28} {:<15} created {}  last used {}",
            p.id,
            p.name,
            flags,
            p.created,
            or_dash(p.last_used.as_deref())
        );
    }
    println!("sessions:");
    for s in &u.sessions {
        println!(
            "  {:<28} created {}  last seen {}{}",
            s.browser,
            s.created,
            s.last_seen,
            if s.recovery { "  (recovery)" } else { "" }
        );
    }
}

fn print_events(events: &[EventView]) {
    println!(
        "{:<21} {:<21} {:<37} {:<24} REQUEST",
        "TIME", "KIND", "USER", "CLIENT"
    );
    for e in events {
        println!(
            "{:<21} {:<21} {:<37} {:<24} {}",
            e.time,
            e.kind,
            or_dash(e.user.as_deref()),
            or_dash(e.client.as_deref()),
            or_dash(e.request_id.as_deref())
        );
    }
}
