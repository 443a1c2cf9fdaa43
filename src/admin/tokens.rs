//! Admin API tokens: `pkidp_` and 256 random bits, shown once and stored only as a SHA-256.
//! A token carries scopes, one per area and verb, and expires (90 days unless told otherwise).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use serde::Serialize;

use super::{Admin, AdminError};
use crate::db::models::ApiTokenRow;
use crate::events::{rfc3339, Event};
use crate::random;

/// What every token starts with, so that a leaked one is recognised by secret scanners.
pub const PREFIX: &str = "pkidp_";

/// How long a token lives unless `--expires-in` says otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);
const SHORTEST: Duration = Duration::from_secs(60);
const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

macro_rules! scopes {
    ($($variant:ident => $name:literal,)+) => {
        /// One thing a token may do: an area and a verb, or everything (`admin`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Scope {
            $($variant,)+
        }

        impl Scope {
            pub const ALL: &'static [Scope] = &[$(Scope::$variant,)+];

            pub fn name(self) -> &'static str {
                match self {
                    $(Scope::$variant => $name,)+
                }
            }
        }
    };
}

scopes! {
    UsersRead => "users:read",
    UsersWrite => "users:write",
    RecoveryWrite => "recovery:write",
    GroupsRead => "groups:read",
    GroupsWrite => "groups:write",
    ClientsRead => "clients:read",
    ClientsWrite => "clients:write",
    KeysRead => "keys:read",
    KeysWrite => "keys:write",
    EventsRead => "events:read",
    TokensWrite => "tokens:write",
    Admin => "admin",
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scope {
    type Err = AdminError;

    fn from_str(s: &str) -> Result<Scope, AdminError> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.name() == s)
            .ok_or_else(|| AdminError::BadScope(s.to_string()))
    }
}

/// The scopes a token holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Scopes separated by commas or spaces; `AREA:*` stands for both verbs of an area.
    pub fn parse(list: &str) -> Result<Scopes, AdminError> {
        let mut set = BTreeSet::new();
        for word in list.split([',', ' ']).filter(|w| !w.is_empty()) {
            match word.strip_suffix(":*") {
                Some(area) => {
                    let both: Vec<Scope> = Scope::ALL
                        .iter()
                        .copied()
                        .filter(|s| s.name().split(':').next() == Some(area) && *s != Scope::Admin)
                        .collect();
                    if both.is_empty() {
                        return Err(AdminError::BadScope(word.to_string()));
                    }
                    set.extend(both);
                }
                None => {
                    set.insert(word.parse()?);
                }
            }
        }
        if set.is_empty() {
            return Err(AdminError::BadScope(String::new()));
        }
        Ok(Scopes(set))
    }

    /// Whether these scopes allow what `needed` allows.
    pub fn allow(&self, needed: Scope) -> bool {
        self.0.contains(&Scope::Admin) || self.0.contains(&needed)
    }

    /// Whether these scopes allow everything `other` allows.
    pub fn cover(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| self.allow(*s))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.name()).collect()
    }

    /// Everything: the operator at the command line.
    pub fn all() -> Scopes {
        Scopes(BTreeSet::from([Scope::Admin]))
    }
}

/// A token as `tokens list` and `GET /tokens` show it (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub name: String,
    pub scopes: Vec<&'static str>,
    pub created: String,
    pub expires: String,
    pub last_used: Option<String>,
    /// Who created it (`cli:root`, `token:ops`).
    pub created_by: Option<String>,
}

/// A token just created: the only time the token is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    pub name: String,
    pub token: String,
    pub scopes: Vec<&'static str>,
    pub expires: String,
}

/// The caller a token stands for: its name and scopes.
#[derive(Debug, Clone)]
pub struct TokenHolder {
    pub name: String,
    pub scopes: Scopes,
}

fn token_name(name: &str) -> Result<(), AdminError> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if fine {
        Ok(())
    } else {
        Err(AdminError::BadTokenName(name.to_string()))
    }
}

fn view(row: ApiTokenRow) -> TokenView {
    TokenView {
        scopes: Scopes::parse(&row.scopes)
            .map(|s| s.names())
            .unwrap_or_default(),
        created: rfc3339(row.created_at),
        expires: rfc3339(row.expires_at),
        last_used: row.last_used_at.map(rfc3339),
        created_by: row.created_by,
        name: row.name,
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

impl Admin {
    /// Creates a token named `name` with `scopes`, valid for `lifetime` (1 minute to 366 days).
    /// A caller can only hand out scopes it holds itself.
    pub async fn token_create(
        &self,
        name: &str,
        scopes: &Scopes,
        lifetime: Duration,
    ) -> Result<NewToken, AdminError> {
        token_name(name)?;
        if !(SHORTEST..=LONGEST).contains(&lifetime) {
            return Err(AdminError::BadLifetime);
        }
        if !self.scopes.cover(scopes) {
            return Err(AdminError::ScopeNotHeld);
        }
        let token = format!("{PREFIX}{}", random::token());
        let created = now();
        let lifetime = chrono::Duration::from_std(lifetime).map_err(|_| AdminError::BadLifetime)?;
        let row = ApiTokenRow {
            name: name.to_string(),
            token_sha256: random::sha256_hex(token.as_bytes()),
            scopes: scopes.names().join(" "),
            created_at: created,
            expires_at: created + lifetime,
            last_used_at: None,
            created_by: self.caller.actor.as_ref().map(ToString::to_string),
        };
        let event = self
            .caller
            .event(Event::ApiTokenCreated, None, None)
            .object(name)
            .change(
                serde_json::json!({"scopes": scopes.names(), "expires": rfc3339(row.expires_at)}),
            );
        let expires = rfc3339(row.expires_at);
        if !self.db.api_tokens().insert(row, event.row()).await? {
            return Err(AdminError::TokenExists(name.to_string()));
        }
        event.report();
        Ok(NewToken {
            name: name.to_string(),
            token,
            scopes: scopes.names(),
            expires,
        })
    }

    pub async fn tokens(&self) -> Result<Vec<TokenView>, AdminError> {
        Ok(self
            .db
            .api_tokens()
            .all()
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    /// Revokes the token: it stops working on every instance at once.
    pub async fn token_revoke(&self, name: &str) -> Result<(), AdminError> {
        let event = self
            .caller
            .event(Event::ApiTokenRevoked, None, None)
            .object(name);
        if !self
            .db
            .api_tokens()
            .revoke(name.to_string(), event.row())
            .await?
        {
            return Err(AdminError::NoSuchToken(name.to_string()));
        }
        event.report();
        Ok(())
    }
}

/// The holder of `presented`, if it is a live token: looked up by its hash (the database
/// compares hashes, so no time depends on the secret), then compared again in constant time.
pub async fn authenticate(
    db: &crate::db::Db,
    presented: &str,
) -> Result<Option<TokenHolder>, AdminError> {
    if !presented.starts_with(PREFIX) || presented.len() > 128 {
        return Ok(None);
    }
    let hash = random::sha256_hex(presented.as_bytes());
    let Some(row) = db.api_tokens().by_hash(hash.clone()).await? else {
        return Ok(None);
    };
    let same = openssl::memcmp::eq(row.token_sha256.as_bytes(), hash.as_bytes());
    let at = now();
    if !same || row.expires_at <= at {
        return Ok(None);
    }
    let Ok(scopes) = Scopes::parse(&row.scopes) else {
        return Ok(None);
    };
    // A use is noted at most once a minute: most requests write nothing.
    let stale_before = at - chrono::Duration::minutes(1);
    if row.last_used_at.is_none_or(|last| last < stale_before) {
        db.api_tokens()
            .touch(row.name.clone(), at, stale_before)
            .await?;
    }
    Ok(Some(TokenHolder {
        name: row.name,
        scopes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_areas_and_refuse_the_unknown() {
        let help_desk = Scopes::parse("users:read,recovery:write").expect("scopes");
        assert!(help_desk.allow(Scope::UsersRead));
        assert!(help_desk.allow(Scope::RecoveryWrite));
        assert!(!help_desk.allow(Scope::UsersWrite));
        let groups = Scopes::parse("groups:*").expect("area");
        assert_eq!(groups.names(), ["groups:read", "groups:write"]);
        assert!(Scopes::parse("admin")
            .expect("admin")
            .allow(Scope::KeysWrite));
        for bad in ["", "users", "users:delete", "nope:*", "admin:*"] {
            assert!(Scopes::parse(bad).is_err(), "{bad}");
        }
        assert!(!help_desk.cover(&Scopes::parse("users:write").expect("scope")));
    }
}
