//! The tokens this service signs: access tokens (RFC 9068 profile) and ID tokens (OpenID
//! Connect Core), minted by one [`TokenIssuer`] for passkey sign-ins and OAuth grants alike.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{sign, KeyAlg, KeyRing};

/// `aud`: a string for one audience, an array for several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn of(audiences: &[String]) -> Audience {
        match audiences {
            [one] => Audience::One(one.clone()),
            many => Audience::Many(many.to_vec()),
        }
    }
}

/// Claims of an access token, in the RFC 9068 profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub client_id: String,
    pub scope: String,
    /// The refresh-token family the token was issued from, so revoking the family revokes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
}

#[derive(Debug, Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    amr: &'a [String],
    at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    /// With scope `groups`: the user's groups (always an array, empty when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<&'a [String]>,
}

/// What the issuer, audience, algorithms and lifetimes of tokens are.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    pub issuer: String,
    pub audience: String,
    pub access_token_alg: KeyAlg,
    pub access_token_lifetime: Duration,
    pub id_token_lifetime: Duration,
    pub clock_skew: Duration,
}

/// Who an access token is for and what it allows.
pub struct AccessGrant<'a> {
    pub sub: &'a str,
    pub auth_time: i64,
    pub amr: &'a [String],
    /// `None` for the service's own sign-in (the audience stands in for the client).
    pub client_id: Option<&'a str>,
    /// `aud`: the client's audiences; `None` for the service's own `tokens.audience`.
    pub audiences: Option<&'a [String]>,
    pub scope: &'a str,
    /// The refresh-token family, when the grant has one.
    pub family: Option<&'a str>,
}

/// Who an ID token is for.
pub struct IdGrant<'a> {
    pub sub: &'a str,
    pub client_id: &'a str,
    pub alg: KeyAlg,
    pub auth_time: i64,
    pub nonce: Option<&'a str>,
    pub amr: &'a [String],
    /// The access token issued with it, for `at_hash`.
    pub access_token: &'a str,
    /// The IdP session it was issued in.
    pub sid: Option<&'a str>,
    /// The user's groups, when the `groups` scope was granted.
    pub groups: Option<&'a [String]>,
}

/// Signs tokens with the current key set.
#[derive(Clone)]
pub struct TokenIssuer {
    keys: KeyRing,
    config: Arc<IssuerConfig>,
}

impl TokenIssuer {
    pub fn new(keys: KeyRing, config: IssuerConfig) -> TokenIssuer {
        TokenIssuer {
            keys,
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    /// The longest time a token signed here stays valid.
    pub fn longest_lifetime(&self) -> Duration {
        self.config
            .access_token_lifetime
            .max(self.config.id_token_lifetime)
    }

    pub(super) fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Seconds an access token lives (`expires_in`).
    pub fn access_token_lifetime(&self) -> u64 {
        self.config.access_token_lifetime.as_secs()
    }

    pub fn access_token(&self, grant: &AccessGrant<'_>) -> anyhow::Result<(String, AccessClaims)> {
        let c = &self.config;
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            iss: c.issuer.clone(),
            sub: grant.sub.to_string(),
            aud: match grant.audiences {
                Some(audiences) if !audiences.is_empty() => Audience::of(audiences),
                _ => Audience::One(c.audience.clone()),
            },
            iat: now,
            exp: now + c.access_token_lifetime.as_secs() as i64,
            jti: crate::random::token(),
            auth_time: grant.auth_time,
            amr: grant.amr.to_vec(),
            client_id: grant.client_id.unwrap_or(&c.audience).to_string(),
            scope: grant.scope.to_string(),
            fam: grant.family.map(str::to_string),
        };
        let token = sign(&self.keys.current(), c.access_token_alg, "at+jwt", &claims)?;
        Ok((token, claims))
    }

    pub fn id_token(&self, grant: &IdGrant<'_>) -> anyhow::Result<String> {
        let c = &self.config;
        let now = Utc::now().timestamp();
        let claims = IdClaims {
            iss: &c.issuer,
            sub: grant.sub,
            aud: grant.client_id,
            azp: grant.client_id,
            exp: now + c.id_token_lifetime.as_secs() as i64,
            iat: now,
            auth_time: grant.auth_time,
            nonce: grant.nonce,
            amr: grant.amr,
            at_hash: at_hash(grant.access_token, grant.alg),
            sid: grant.sid,
            groups: grant.groups,
        };
        sign(&self.keys.current(), grant.alg, "JWT", &claims)
    }
}

/// OIDC Core §3.1.3.6: the left half of the hash of the access token, with the hash of the ID
/// token's algorithm (SHA-512 for Ed25519).
fn at_hash(access_token: &str, alg: KeyAlg) -> String {
    let digest: Vec<u8> = match alg {
        KeyAlg::EdDSA => openssl::sha::sha512(access_token.as_bytes()).to_vec(),
        _ => openssl::sha::sha256(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OpenID Connect Core, appendix A.3 (RS256).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", KeyAlg::RS256),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
