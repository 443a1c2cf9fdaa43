//! Why an administrative act was refused. Each variant says what to do next, in the words the
//! command line prints; the admin API maps each to its status and code.

use crate::ceremony::InputError;
use crate::fault::{fault_conversions, Fault};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("there is no user '{0}' (give a username or an id)")]
    NoSuchUser(String),
    #[error("there is no group '{0}' (create it with: passkey-idp groups add {0})")]
    NoSuchGroup(String),
    #[error("group '{0}' exists already")]
    GroupExists(String),
    #[error("'{0}' is not a group name: 1 to 64 letters, digits and . _ - : @ /")]
    BadGroupName(String),
    #[error("user '{user}' has no passkey {credential_id}")]
    NoSuchPasskey { user: String, credential_id: String },
    #[error("user '{user}' is not in group '{group}'")]
    NotAMember { user: String, group: String },
    #[error("user '{user}' is in group '{group}' already")]
    AlreadyMember { user: String, group: String },
    #[error("user '{0}' is disabled; enable them first (passkey-idp users enable {0})")]
    Disabled(String),
    #[error("user '{0}' was deleted meanwhile")]
    DeletedMeanwhile(String),
    #[error("the username '{0}' is taken")]
    UsernameTaken(String),
    #[error("--username: {0}")]
    BadUsername(InputError),
    #[error("--email: {0}")]
    BadEmail(InputError),
    #[error("--ttl must be between 1s and 90d")]
    BadTtl,
    #[error("'{0}' is not a scope (users:read, users:write, recovery:write, groups:read, groups:write, clients:read, clients:write, keys:read, keys:write, events:read, tokens:write, admin, or AREA:*)")]
    BadScope(String),
    #[error("'{0}' is not a token name: 1 to 64 letters, digits and . _ -")]
    BadTokenName(String),
    #[error("a token lives between 1 minute and 366 days")]
    BadLifetime,
    #[error("'{0}' is not a kind of stored event")]
    BadEventKind(String),
    #[error("a token can only be given scopes its creator holds")]
    ScopeNotHeld,
    #[error("a token named '{0}' exists already")]
    TokenExists(String),
    #[error("there is no token named '{0}'")]
    NoSuchToken(String),
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// What kind of refusal an [`AdminError`] is: the admin API's status and the command line's
/// exit code follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 404, exit 3.
    NotFound,
    /// 409, exit 4: it exists already, or the state does not allow it.
    Conflict,
    /// 400, exit 2: the input is not valid.
    Invalid,
    /// 403, exit 1: the caller may not do this.
    Forbidden,
    /// 503 or 500, exit 1.
    Fault,
}

impl AdminError {
    pub fn refusal(&self) -> Refusal {
        use AdminError as E;
        match self {
            E::NoSuchUser(_)
            | E::NoSuchGroup(_)
            | E::NoSuchPasskey { .. }
            | E::NotAMember { .. }
            | E::DeletedMeanwhile(_)
            | E::NoSuchToken(_) => Refusal::NotFound,
            E::GroupExists(_)
            | E::AlreadyMember { .. }
            | E::UsernameTaken(_)
            | E::Disabled(_)
            | E::TokenExists(_) => Refusal::Conflict,
            E::BadGroupName(_)
            | E::BadUsername(_)
            | E::BadEmail(_)
            | E::BadTtl
            | E::BadScope(_)
            | E::BadTokenName(_)
            | E::BadLifetime
            | E::BadEventKind(_) => Refusal::Invalid,
            E::ScopeNotHeld => Refusal::Forbidden,
            E::Fault(_) => Refusal::Fault,
        }
    }

    pub fn fault(&self) -> Option<&Fault> {
        match self {
            AdminError::Fault(f) => Some(f),
            _ => None,
        }
    }
}

fault_conversions!(AdminError);
