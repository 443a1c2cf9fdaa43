//! The command line's exit codes (docs/api.md, "Administration"): the one mapping from each
//! refusal of the domain to the number a script branches on, as `routes/error.rs` is for HTTP.

use crate::admin::{AdminError, Refusal};
use crate::oidc::clients::ClientRefused;
use crate::signing::rotation::TransitionRefused;

/// The command did what it was asked (or found it done, with `--if-missing` / `--if-exists`).
pub const DONE: u8 = 0;
/// A fault: a dependency failed, or a refusal with no code of its own.
pub const ERROR: u8 = 1;
/// The command line or a value on it is wrong.
pub const USAGE: u8 = 2;
/// What the command names does not exist.
pub const NOT_FOUND: u8 = 3;
/// What the command would create exists already, or the state forbids the change.
pub const CONFLICT: u8 = 4;

/// A refusal that knows its exit code.
pub trait ExitCode {
    fn exit_code(&self) -> u8;
}

impl ExitCode for AdminError {
    fn exit_code(&self) -> u8 {
        match self.refusal() {
            Refusal::NotFound => NOT_FOUND,
            Refusal::Conflict => CONFLICT,
            Refusal::Invalid => USAGE,
            Refusal::Forbidden | Refusal::Fault => ERROR,
        }
    }
}

impl ExitCode for ClientRefused {
    fn exit_code(&self) -> u8 {
        match self {
            ClientRefused::NoSuchClient(_) => NOT_FOUND,
            ClientRefused::Exists(_) | ClientRefused::Declared(_) => CONFLICT,
            ClientRefused::Invalid(_) => USAGE,
        }
    }
}

impl ExitCode for TransitionRefused {
    fn exit_code(&self) -> u8 {
        if self.unknown_kid {
            NOT_FOUND
        } else {
            CONFLICT
        }
    }
}

/// The exit code of a command that failed with `error`: that of the first refusal in its chain
/// that has one, else [`ERROR`].
pub fn code(error: &anyhow::Error) -> u8 {
    error.chain().find_map(refusal_code).unwrap_or(ERROR)
}

fn refusal_code(cause: &(dyn std::error::Error + 'static)) -> Option<u8> {
    if let Some(e) = cause.downcast_ref::<AdminError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<ClientRefused>() {
        return Some(e.exit_code());
    }
    cause
        .downcast_ref::<TransitionRefused>()
        .map(ExitCode::exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_code_through_context() {
        let missing = anyhow::Error::from(AdminError::NoSuchUser("x".into())).context("users show");
        assert_eq!(code(&missing), NOT_FOUND);
        let exists = anyhow::Error::from(ClientRefused::Exists("app".into()));
        assert_eq!(code(&exists), CONFLICT);
        assert_eq!(code(&anyhow::anyhow!("the database is down")), ERROR);
    }
}
