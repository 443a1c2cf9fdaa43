//! `passkey-idp groups …`: the groups of the `groups` claim and of clients' allowed groups.

use serde::Serialize;

use super::out::{self, say, Removal};
use super::tables::{self, GroupLine};
use super::users::admin;
use super::GroupsCommand;
use crate::admin::AdminError;
use crate::settings::Settings;

/// What `groups add --json` prints.
#[derive(Debug, Serialize)]
struct NamedGroup<'a> {
    name: &'a str,
}

pub async fn run_groups(cmd: GroupsCommand, json: bool, settings: &Settings) -> anyhow::Result<()> {
    let admin = admin(settings).await?;
    match cmd {
        GroupsCommand::List => {
            let groups: Vec<GroupLine> = admin
                .groups()
                .await?
                .into_iter()
                .map(|(name, members)| GroupLine { name, members })
                .collect();
            out::answer(json, &groups[..], tables::groups)
        }
        GroupsCommand::Add { name, if_missing } => {
            let created = match admin.group_add(&name).await {
                Err(AdminError::GroupExists(_)) if if_missing => false,
                done => done.map(|()| true)?,
            };
            out::answer(json, &NamedGroup { name: &name }, |g| {
                if created {
                    say!("created group {}", g.name)
                } else {
                    say!("group {} exists already", g.name)
                }
            })
        }
        GroupsCommand::Remove { name, if_exists } => {
            let removed = match admin.group_remove(&name).await {
                Err(AdminError::NoSuchGroup(_)) if if_exists => None,
                done => done.map(|()| Some(name.as_str()))?,
            };
            out::answer(json, &Removal { removed }, |r| match r.removed {
                Some(name) => say!("removed group {name} and its memberships"),
                None => say!("there is no group {name}: nothing to remove"),
            })
        }
    }
}
