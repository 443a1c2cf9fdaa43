//! Groups and their members (the `groups` claim and clients' allowed groups). Every change an
//! operator makes stores its event (object: the group; for a membership, the user too) in the
//! transaction of the change; a change that changes nothing stores none.

use super::{group_name, Admin, AdminError};
use crate::events::Event;

impl Admin {
    /// Puts USER in an existing group; false when they are in it already.
    pub async fn add_to_group(&self, name_or_id: &str, group: &str) -> Result<bool, AdminError> {
        let user = self.user(name_or_id).await?;
        self.group_must_exist(group).await?;
        let event = self
            .caller
            .event(Event::GroupMemberAdded, Some(&user.id), None)
            .object(group);
        let added = self.db.groups().join(group, &user.id, event.row()).await?;
        if added {
            event.report();
        }
        Ok(added)
    }

    /// Takes USER out of a group; [`AdminError::NotAMember`] when they were not in it.
    pub async fn remove_from_group(&self, name_or_id: &str, group: &str) -> Result<(), AdminError> {
        let user = self.user(name_or_id).await?;
        self.group_must_exist(group).await?;
        let event = self
            .caller
            .event(Event::GroupMemberRemoved, Some(&user.id), None)
            .object(group);
        if !self.db.groups().leave(group, &user.id, event.row()).await? {
            return Err(AdminError::NotAMember {
                user: name_or_id.to_string(),
                group: group.to_string(),
            });
        }
        event.report();
        Ok(())
    }

    /// Every group with its number of members, by name.
    pub async fn groups(&self) -> Result<Vec<(String, i64)>, AdminError> {
        Ok(self.db.groups().all().await?)
    }

    pub async fn group_add(&self, name: &str) -> Result<(), AdminError> {
        group_name(name)?;
        let event = self
            .caller
            .event(Event::GroupAdded, None, None)
            .object(name);
        if !self.db.groups().create(name, event.row()).await? {
            return Err(AdminError::GroupExists(name.to_string()));
        }
        event.report();
        Ok(())
    }

    /// Removes a group and its memberships.
    pub async fn group_remove(&self, name: &str) -> Result<(), AdminError> {
        let event = self
            .caller
            .event(Event::GroupRemoved, None, None)
            .object(name);
        if !self.db.groups().remove(name, event.row()).await? {
            return Err(AdminError::NoSuchGroup(name.to_string()));
        }
        event.report();
        Ok(())
    }

    pub(crate) async fn group_must_exist(&self, group: &str) -> Result<(), AdminError> {
        if !self.db.groups().exists(group).await? {
            return Err(AdminError::NoSuchGroup(group.to_string()));
        }
        Ok(())
    }
}
