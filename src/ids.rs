//! What names things, as types rather than strings: a user, a passkey, a session's public
//! name (its `sid`); and the secrets a client holds (a session's secret id, a ceremony id),
//! which never print in clear.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

macro_rules! public_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_string())
            }
        }

        /// An id reads as the string it is (queries, log fields, JSON).
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

public_id!(
    /// A user: a random UUID, the `sub` of their tokens, never reused.
    UserId
);
public_id!(
    /// A passkey: its credential id, base64url.
    CredentialId
);
public_id!(
    /// A session's public name: the `sid` of the ID tokens issued in it, what the session list
    /// shows and what ending a session removes. Not a secret.
    Sid
);

impl Sid {
    /// A new public name (128 random bits).
    pub fn new() -> Sid {
        Sid(crate::random::token()[..22].to_string())
    }
}

impl Default for Sid {
    fn default() -> Self {
        Sid::new()
    }
}

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// A new one: 256 random bits, base64url.
            pub fn new() -> Self {
                $name(crate::random::token())
            }

            /// The value a client presented (a cookie, a field).
            pub fn presented(value: String) -> Self {
                $name(value)
            }

            /// The value itself, for the one place that hands it to the client or keys the
            /// store with its hash.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        /// Never in clear: a log line or a panic message shows only what it is.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(…)"))
            }
        }
    };
}

secret!(
    /// A session's secret id: what the session cookie holds. The store keeps only its SHA-256.
    SessionSecret
);
secret!(
    /// The id of a ceremony in progress (begin → finish): what the ceremony cookie and the
    /// `ceremony` field hold, a single-use bearer value.
    CeremonyId
);

/// A group name: 1 to 64 letters, digits and `. _ - : @ /` (what Kubernetes, Grafana and
/// oauth2-proxy accept).
pub fn is_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:@/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_in_clear() {
        let secret = SessionSecret::new();
        assert_eq!(format!("{secret:?}"), "SessionSecret(…)");
        assert!(!format!("{:?}", Some(&secret)).contains(secret.expose()));
        let ceremony = CeremonyId::presented("abc".into());
        assert_eq!(format!("{ceremony:?}"), "CeremonyId(…)");
        assert_eq!(ceremony.expose(), "abc");
        assert_eq!(SessionSecret::new().expose().len(), 43);
    }

    #[test]
    fn public_ids_read_as_their_strings() {
        let user = UserId::from("u-1");
        assert_eq!(user.to_string(), "u-1");
        assert_eq!(&*user, "u-1");
        assert_eq!(serde_json::to_string(&user).expect("json"), "\"u-1\"");
        assert_eq!(Sid::new().len(), 22);
        assert_ne!(Sid::new(), Sid::new());
    }
}
