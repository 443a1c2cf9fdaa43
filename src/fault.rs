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
