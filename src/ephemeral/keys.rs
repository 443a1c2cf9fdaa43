//! Every key the ephemeral store holds, in one place: its namespace, how long it lives and
//! whether it is taken once. Secrets (ceremony ids, session ids, codes, addresses) appear only
//! as their SHA-256, so a dump of the store cannot be replayed.
//!
//! | key | lifetime | use |
//! |---|---|---|
//! | `ceremony:{register,login,add}:<sha256(id)>` | `webauthn.challenge_ttl_secs` | taken once |
//! | `session:<sha256(id)>` | `session.lifetime_secs`, or 10 min for recovery | read; deleted at sign-out |
//! | `oidc:code:<sha256(code)>` | `oidc.code_ttl_secs` | taken once |
//! | `oidc:code-used:<sha256(code)>` | longest token lifetime + 60 s | read on a replayed code |
//! | `oidc:code-reuse:<sha256(code)>` | code TTL + 60 s | read by a racing redemption |
//! | `oidc:revoked-jti:<jti>` | until the token expires | read by `/userinfo` |
//! | `oidc:revoked-family:<family id>` | access-token lifetime + skew | read by `/userinfo` |
//! | `ratelimit:ceremony:<sha256(addr)>` | 1 min window | counter |
//! | `ratelimit:oauth:<sha256(addr)>` | 1 min window | counter |
//! | `ratelimit:recover:{addr,user}:<sha256(..)>` | 15 min window | counter |
//! | `lock:key-rotation` | the reload interval | lock (`SET NX`): one instance does maintenance |
//! | `lock:housekeeping` | `events.sweep_interval_secs` | marker (`SET NX`): the sweep is done |

use crate::random::sha256_hex;

/// The three passkey ceremonies whose state waits in the store between begin and finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    Registration,
    SignIn,
    AddPasskey,
    /// Proving presence again while signed in.
    Reauthentication,
}

#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Ceremony(CeremonyKind, &'a str),
    Session(&'a str),
    Code(&'a str),
    /// What a redeemed code issued, so that a replay can revoke it.
    CodeRedeemed(&'a str),
    /// Marks a code presented after it was spent.
    CodeReplayed(&'a str),
    RevokedToken(&'a str),
    /// A refresh-token family revoked while access tokens from it may still be valid.
    RevokedFamily(&'a str),
    CeremonyStarts(&'a str),
    OAuthRequests(&'a str),
    AdminRequests(&'a str),
    RecoveryByAddress(&'a str),
    RecoveryByUser(&'a str),
    /// Held by the instance doing maintenance (scheduled rotation, the sweep) this interval.
    RotationLock,
    /// Set by the instance that swept, for the sweep interval.
    SweepDone,
}

impl Key<'_> {
    /// Whether writing this key revokes something: with replicas, such a write is confirmed
    /// before it counts, so that a failover cannot undo the revocation.
    pub fn is_revocation(&self) -> bool {
        matches!(
            self,
            Key::RevokedToken(_) | Key::RevokedFamily(_) | Key::CodeReplayed(_)
        )
    }

    /// The key as stored (the backend adds its prefix).
    pub fn render(&self) -> String {
        match *self {
            Key::Ceremony(kind, id) => {
                let kind = match kind {
                    CeremonyKind::Registration => "register",
                    CeremonyKind::SignIn => "login",
                    CeremonyKind::AddPasskey => "add",
                    CeremonyKind::Reauthentication => "reauth",
                };
                format!("ceremony:{kind}:{}", sha256_hex(id.as_bytes()))
            }
            Key::Session(id) => format!("session:{}", sha256_hex(id.as_bytes())),
            Key::Code(code) => format!("oidc:code:{}", sha256_hex(code.as_bytes())),
            Key::CodeRedeemed(code) => format!("oidc:code-used:{}", sha256_hex(code.as_bytes())),
            Key::CodeReplayed(code) => format!("oidc:code-reuse:{}", sha256_hex(code.as_bytes())),
            Key::RevokedToken(jti) => format!("oidc:revoked-jti:{jti}"),
            Key::RevokedFamily(family) => format!("oidc:revoked-family:{family}"),
            Key::CeremonyStarts(addr) => {
                format!("ratelimit:ceremony:{}", sha256_hex(addr.as_bytes()))
            }
            Key::OAuthRequests(addr) => {
                format!("ratelimit:oauth:{}", sha256_hex(addr.as_bytes()))
            }
            Key::AdminRequests(addr) => {
                format!("ratelimit:admin:{}", sha256_hex(addr.as_bytes()))
            }
            Key::RecoveryByAddress(addr) => {
                format!("ratelimit:recover:addr:{}", sha256_hex(addr.as_bytes()))
            }
            Key::RecoveryByUser(name) => {
                format!("ratelimit:recover:user:{}", sha256_hex(name.as_bytes()))
            }
            Key::RotationLock => "lock:key-rotation".to_string(),
            Key::SweepDone => "lock:housekeeping".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_appear_in_keys() {
        let secret = "a-ceremony-id-nobody-should-see";
        for key in [
            Key::Ceremony(CeremonyKind::SignIn, secret),
            Key::Session(secret),
            Key::Code(secret),
            Key::CodeRedeemed(secret),
            Key::CodeReplayed(secret),
            Key::CeremonyStarts(secret),
            Key::OAuthRequests(secret),
            Key::AdminRequests(secret),
            Key::RecoveryByAddress(secret),
            Key::RecoveryByUser(secret),
        ] {
            let rendered = key.render();
            assert!(!rendered.contains(secret), "{rendered}");
            assert!(
                rendered.ends_with(&sha256_hex(secret.as_bytes())),
                "{rendered}"
            );
        }
    }
}
