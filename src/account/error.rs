//! Why an account request was refused; the HTTP layer maps each variant to its answer.

use crate::fault::{fault_conversions, Fault};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a passkey name must be 1 to 64 characters without control characters")]
    InvalidPasskeyName,
    #[error("no such passkey on this account")]
    PasskeyNotFound,
    #[error("the last passkey cannot be deleted")]
    LastPasskey,
    #[error("the account no longer exists")]
    AccountGone,
    #[error("the username and recovery code do not match")]
    RecoveryRefused,
    #[error("too many recovery attempts")]
    RecoveryRateLimited,
    #[error("the recovery link is spent, expired or unknown")]
    RecoveryLinkRefused,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error(transparent)]
    Fault(#[from] Fault),
}

fault_conversions!(AccountError);
