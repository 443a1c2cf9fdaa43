//! What can go wrong that is not the caller's doing: a dependency that does not answer, or an
//! invariant that broke. Every domain error enum carries a [`Fault`]; the HTTP layer answers
//! 503 for a dependency that is briefly unavailable and a generic 500 otherwise, logging the
//! cause once.

use std::fmt;

use crate::db::DbError;
use crate::ephemeral::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Fault {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("ephemeral store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl Fault {
    pub fn internal(cause: impl fmt::Display) -> Fault {
        Fault::Internal(cause.to_string())
    }
}

/// `From<DbError>` and `From<StoreError>` for a domain error with a `Fault(Fault)` variant, so
/// `?` works on repository and store calls.
macro_rules! fault_conversions {
    ($error:ty) => {
        impl From<$crate::db::DbError> for $error {
            fn from(e: $crate::db::DbError) -> Self {
                Self::Fault(e.into())
            }
        }
        impl From<$crate::ephemeral::StoreError> for $error {
            fn from(e: $crate::ephemeral::StoreError) -> Self {
                Self::Fault(e.into())
            }
        }
    };
}
pub(crate) use fault_conversions;

/// Whether a dependency is answering, so that an outage is logged once when it starts and once
/// when it ends, not on every request in between.
#[derive(Clone)]
pub struct Outage {
    dependency: &'static str,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Outage {
    pub fn new(dependency: &'static str) -> Outage {
        Outage {
            dependency,
            down: Default::default(),
        }
    }

    /// A call failed because the dependency did not answer; true when this starts an outage
    /// (and so was logged).
    pub fn failed(&self, cause: &dyn fmt::Display) -> bool {
        use std::sync::atomic::Ordering;
        let started = !self.down.swap(true, Ordering::AcqRel);
        if started {
            tracing::error!(
                dependency = self.dependency,
                error = %cause,
                "{} is unavailable; answering 503 until it is back",
                self.dependency
            );
        }
        started
    }

    /// A call succeeded; true when this ends an outage (and so was logged).
    pub fn answered(&self) -> bool {
        use std::sync::atomic::Ordering;
        let ended = self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel);
        if ended {
            tracing::warn!(
                dependency = self.dependency,
                "{} is answering again",
                self.dependency
            );
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_reported_once_when_it_starts_and_once_when_it_ends() {
        let outage = Outage::new("database");
        assert!(!outage.answered(), "no outage yet");
        assert!(outage.failed(&"timeout"), "the first failure starts it");
        assert!(
            !outage.failed(&"timeout"),
            "later failures are the same outage"
        );
        assert!(
            outage.clone().answered(),
            "the first answer ends it, on any clone"
        );
        assert!(!outage.answered());
        assert!(outage.failed(&"again"), "a new outage is reported again");
    }
}
