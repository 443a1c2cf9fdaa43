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
    #[error(transparent)]
    Fault(#[from] Fault),
}

fault_conversions!(AdminError);
