//! Changes to one person that leave their status alone: ending their sessions everywhere, and
//! their email address.

use super::{Admin, AdminError};
use crate::db::models::User;
use crate::events::Event;

impl Admin {
    /// Ends every session of USER and revokes their refresh tokens, on every instance at once
    /// (a session lives only while its record does); they stay able to sign in again. Returns
    /// the user and how many live sessions ended.
    pub async fn end_sessions(&self, name_or_id: &str) -> Result<(User, usize), AdminError> {
        let user = self.user(name_or_id).await?;
        let event = self
            .caller
            .event(Event::UserSessionsEnded, Some(&user.id), None)
            .username(&user.username);
        let ended = self.db.admin().end_sessions(&user.id, event.row()).await?;
        event.report();
        Ok((user, ended))
    }

    /// Sets USER's email, checked as sign-up checks it; an empty one clears it.
    pub async fn set_email(&self, name_or_id: &str, email: &str) -> Result<User, AdminError> {
        let email = crate::ceremony::parse_email(Some(email)).map_err(AdminError::BadEmail)?;
        let user = self.user(name_or_id).await?;
        // Which field changed, never the address itself.
        let event = self
            .caller
            .event(Event::UserUpdated, Some(&user.id), None)
            .username(&user.username)
            .change(serde_json::json!({ "changed": ["email"] }));
        if !self
            .db
            .admin()
            .set_email(&user.id, email.clone(), event.row())
            .await?
        {
            return Err(AdminError::DeletedMeanwhile(name_or_id.to_string()));
        }
        event.report();
        Ok(User { email, ..user })
    }
}
