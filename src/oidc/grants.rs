//! `/token`: client authentication, the authorization_code grant and the refresh_token grant.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::request::is_pkce_value;
use super::{Client, CodeGrant, OAuthError, Provider, CODE};
use crate::db::models::RefreshTokenRow;
use crate::ephemeral::Key;
use crate::events::Event;
use crate::fault::Fault;
use crate::signing::{AccessGrant, IdGrant};

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub id_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Whom tokens are minted for, from a code or a refresh token.
struct Grant<'a> {
    client: &'a Client,
    user_id: &'a str,
    scope: &'a [String],
    auth_time: i64,
    amr: &'a [String],
    nonce: Option<&'a str>,
    /// The refresh-token family the tokens come from, if any.
    family: Option<&'a str>,
    /// The IdP session the grant comes from.
    sid: Option<&'a str>,
    /// The user's groups, when the `groups` scope was granted.
    groups: Option<&'a [String]>,
}

/// What a redeemed code issued, so that a second redemption can revoke it.
#[derive(Serialize, Deserialize)]
struct Redeemed {
    jti: String,
    exp: i64,
    family_id: Option<String>,
}

/// Tokens minted for a grant, with the access token's id and expiry.
struct Minted {
    access_token: String,
    id_token: String,
    jti: String,
    exp: i64,
}

fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    is_pkce_value(verifier) && {
        let computed = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
        openssl::memcmp::eq(computed.as_bytes(), challenge.as_bytes())
    }
}

impl Provider {
    /// The authorization_code grant.
    pub async fn redeem_code(
        &self,
        client: &Client,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or(OAuthError::InvalidRequest("code is required."))?;
        let redirect_uri =
            redirect_uri.ok_or(OAuthError::InvalidRequest("redirect_uri is required."))?;
        let verifier = verifier.ok_or(OAuthError::InvalidRequest(
            "code_verifier is required (PKCE).",
        ))?;
        const REFUSED: OAuthError =
            OAuthError::InvalidGrant("The authorization code is invalid, expired or already used.");
        // A code we never issued is refused before the store is touched, so made-up codes
        // leave nothing behind.
        if self.signer.verify(CODE, code).is_none() {
            return Err(REFUSED);
        }
        let Some(grant) = self.store.take_json::<CodeGrant>(Key::Code(code)).await? else {
            self.code_replayed(code).await?;
            return Err(REFUSED);
        };
        check_code(&grant, client, redirect_uri, verifier)?;
        let groups = self.subject(client, &grant.user_id, &grant.scope).await?;
        let family_id = grant
            .scope
            .iter()
            .any(|s| s == "offline_access")
            .then(|| uuid::Uuid::new_v4().to_string());
        let g = Grant {
            client,
            user_id: &grant.user_id,
            scope: &grant.scope,
            auth_time: grant.auth_time,
            amr: &grant.amr,
            nonce: grant.nonce.as_deref(),
            family: family_id.as_deref(),
            sid: grant.sid.as_deref(),
            groups: groups.as_deref(),
        };
        let minted = self.mint(&g)?;
        let refresh_token = match &family_id {
            Some(family) => {
                let expires_at = (Utc::now()
                    + chrono::Duration::from_std(self.settings.refresh_token_lifetime)
                        .map_err(Fault::internal)?)
                .naive_utc();
                Some(self.new_refresh_token(family, &g, expires_at).await?)
            }
            None => None,
        };
        let redeemed = Redeemed {
            jti: minted.jti.clone(),
            exp: minted.exp,
            family_id,
        };
        self.remember_redemption(code, &redeemed).await?;
        Event::TokensIssued
            .now()
            .client(&client.client_id)
            .user(&grant.user_id)
            .detail("authorization_code")
            .report();
        Ok(self.response(minted, refresh_token, &grant.scope))
    }

    /// Remembers what this code issued; if a second redemption raced this one, revokes it all
    /// now.
    async fn remember_redemption(&self, code: &str, redeemed: &Redeemed) -> Result<(), Fault> {
        let marker_ttl = self.tokens.longest_lifetime() + Duration::from_secs(60);
        self.store
            .put_json(Key::CodeRedeemed(code), redeemed, marker_ttl)
            .await?;
        if self.store.get(Key::CodeReplayed(code)).await?.is_some() {
            // Of concurrent redemptions this one won the code, but another arrived before the
            // marker above existed and could not revoke what is issued here: do it now. The
            // response still carries the tokens (one redemption wins); they are dead on arrival.
            Event::CodeReuse
                .now()
                .detail("during its redemption")
                .report();
            self.revoke_redeemed(redeemed).await?;
        }
        Ok(())
    }

    /// A code presented after it was spent: RFC 6749 §4.1.2 — revoke what it issued.
    async fn code_replayed(&self, code: &str) -> Result<(), Fault> {
        let ttl = self.settings.code_ttl + Duration::from_secs(60);
        self.store.put(Key::CodeReplayed(code), "1", ttl).await?;
        if let Some(redeemed) = self
            .store
            .get_json::<Redeemed>(Key::CodeRedeemed(code))
            .await?
        {
            Event::CodeReuse.now().report();
            self.revoke_redeemed(&redeemed).await?;
        }
        Ok(())
    }

    async fn revoke_redeemed(&self, r: &Redeemed) -> Result<(), Fault> {
        self.revoke_jti(&r.jti, r.exp).await?;
        if let Some(family) = &r.family_id {
            self.revoke_family(family).await?;
        }
        Ok(())
    }

    /// Access tokens cannot be recalled, so a revoked one is remembered until it expires.
    pub(super) async fn revoke_jti(&self, jti: &str, exp: i64) -> Result<(), Fault> {
        let left = (exp - Utc::now().timestamp()).max(0) as u64
            + self.tokens.config().clock_skew.as_secs()
            + 1;
        self.store
            .put(Key::RevokedToken(jti), "1", Duration::from_secs(left))
            .await?;
        Ok(())
    }

    /// The refresh_token grant: rotate within the family; a used token revokes the family.
    pub async fn refresh(
        &self,
        client: &Client,
        token: Option<&str>,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(OAuthError::InvalidRequest("refresh_token is required."))?;
        let hash = crate::random::sha256_hex(token.as_bytes());
        let row = self.usable_refresh_token(client, &hash).await?;
        let granted: Vec<String> = row.scope.split_whitespace().map(str::to_string).collect();
        // A scope the client may no longer have (its registration changed) ends the grant.
        if !granted.iter().all(|s| client.allows_scope(s)) {
            return Err(OAuthError::InvalidGrant(
                "The client's registration changed since this refresh token was issued; sign in again.",
            ));
        }
        let scope: Vec<String> = match scope {
            None => granted.clone(),
            Some(s) => {
                let asked: Vec<String> = s.split_whitespace().map(str::to_string).collect();
                if asked.iter().any(|a| !granted.contains(a)) {
                    return Err(OAuthError::InvalidScope(
                        "A refresh cannot add scopes that were not granted.",
                    ));
                }
                asked
            }
        };
        let amr: Vec<String> = row.amr.split_whitespace().map(str::to_string).collect();
        let groups = self.subject(client, &row.user_id, &scope).await?;
        let g = Grant {
            client,
            user_id: &row.user_id,
            scope: &scope,
            auth_time: row.auth_time,
            amr: &amr,
            nonce: None,
            family: Some(&row.family_id),
            sid: row.sid.as_deref(),
            groups: groups.as_deref(),
        };
        let (new_token, new_row) = refresh_row(&row.family_id, &g, row.expires_at);
        // Spending the old token and storing its successor is one step: a concurrent replay
        // either comes first (and this rotation fails) or revokes the successor with the family.
        let now = Utc::now().naive_utc();
        if !self.db.refresh_tokens().rotate(&hash, new_row, now).await? {
            // Replay of a rotated token: someone else holds a copy. End the whole family.
            self.revoke_family(&row.family_id).await?;
            Event::RefreshReuse
                .now()
                .client(&client.client_id)
                .user(&row.user_id)
                .report();
            return Err(OAuthError::InvalidGrant(
                "The refresh token was already used; this session is revoked, sign in again.",
            ));
        }
        let minted = self.mint(&g)?;
        Ok(self.response(minted, Some(new_token), &scope))
    }

    /// Tokens are minted only for an active user who may use `client`: a code or refresh
    /// token of a user disabled or deleted since, or no longer in the client's allowed
    /// groups, is refused. Returns their groups when `scope` has `groups`.
    async fn subject(
        &self,
        client: &Client,
        user_id: &str,
        scope: &[String],
    ) -> Result<Option<Vec<String>>, OAuthError> {
        let gated = !client.allowed_groups.is_empty();
        let want_groups = scope.iter().any(|s| s == "groups");
        let found = self
            .db
            .users()
            .find_with_groups(user_id, want_groups || gated)
            .await?
            .filter(|(user, _)| user.is_active())
            .map(|(_, groups)| groups);
        let groups = found.ok_or(OAuthError::InvalidGrant(
            "The account is disabled or no longer exists; sign in again.",
        ))?;
        if gated && !groups.as_deref().is_some_and(|g| client.admits(g)) {
            return Err(OAuthError::InvalidGrant(
                "The account is no longer in a group this client admits.",
            ));
        }
        Ok(groups.filter(|_| want_groups))
    }

    /// The presented refresh token's row, when it belongs to `client` and is neither expired
    /// nor revoked.
    async fn usable_refresh_token(
        &self,
        client: &Client,
        hash: &str,
    ) -> Result<RefreshTokenRow, OAuthError> {
        let row = self
            .db
            .refresh_tokens()
            .find(hash)
            .await?
            .ok_or(OAuthError::InvalidGrant("The refresh token is invalid."))?;
        if row.client_id != client.client_id {
            Event::RefreshClientMismatch
                .now()
                .client(&client.client_id)
                .report();
            return Err(OAuthError::InvalidGrant(
                "The refresh token was issued to another client.",
            ));
        }
        if row.revoked_at.is_some() || row.expires_at <= Utc::now().naive_utc() {
            return Err(OAuthError::InvalidGrant(
                "The refresh token is expired or revoked; sign in again.",
            ));
        }
        Ok(row)
    }

    /// Revokes a refresh-token family, and with it the access tokens issued from it (until
    /// they expire, `/userinfo` refuses them).
    pub(super) async fn revoke_family(&self, family: &str) -> Result<usize, Fault> {
        let revoked = self
            .db
            .refresh_tokens()
            .revoke_family(family, Utc::now().naive_utc())
            .await?;
        let config = self.tokens.config();
        let ttl = config.access_token_lifetime + config.clock_skew;
        self.store
            .put(
                Key::RevokedFamily(family),
                "1",
                ttl + Duration::from_secs(1),
            )
            .await?;
        Ok(revoked)
    }

    /// Signs an access token (RFC 9068) and an ID token (the client's algorithm).
    fn mint(&self, g: &Grant<'_>) -> Result<Minted, Fault> {
        let scope = g.scope.join(" ");
        let (access_token, claims) = self
            .tokens
            .access_token(&AccessGrant {
                sub: g.user_id,
                auth_time: g.auth_time,
                amr: g.amr,
                client_id: Some(&g.client.client_id),
                audiences: Some(&g.client.audiences),
                scope: &scope,
                family: g.family,
            })
            .map_err(Fault::internal)?;
        let id_token = self
            .tokens
            .id_token(&IdGrant {
                sub: g.user_id,
                client_id: &g.client.client_id,
                alg: g.client.id_token_alg,
                auth_time: g.auth_time,
                nonce: g.nonce,
                amr: g.amr,
                access_token: &access_token,
                sid: g.sid,
                groups: g.groups,
            })
            .map_err(Fault::internal)?;
        Ok(Minted {
            access_token,
            id_token,
            jti: claims.jti,
            exp: claims.exp,
        })
    }

    fn response(
        &self,
        minted: Minted,
        refresh_token: Option<String>,
        scope: &[String],
    ) -> TokenResponse {
        TokenResponse {
            access_token: minted.access_token,
            token_type: "Bearer",
            expires_in: self.tokens.access_token_lifetime(),
            id_token: minted.id_token,
            refresh_token,
            scope: scope.join(" "),
        }
    }

    async fn new_refresh_token(
        &self,
        family_id: &str,
        g: &Grant<'_>,
        expires_at: chrono::NaiveDateTime,
    ) -> Result<String, Fault> {
        let (token, row) = refresh_row(family_id, g, expires_at);
        self.db.refresh_tokens().insert(row).await?;
        Ok(token)
    }
}

/// A new refresh token of `family_id` for `g`, and the row that stores its hash.
fn refresh_row(
    family_id: &str,
    g: &Grant<'_>,
    expires_at: chrono::NaiveDateTime,
) -> (String, RefreshTokenRow) {
    let token = crate::random::token();
    let row = RefreshTokenRow {
        token_sha256: crate::random::sha256_hex(token.as_bytes()),
        family_id: family_id.to_string(),
        client_id: g.client.client_id.clone(),
        user_id: g.user_id.to_string(),
        scope: g.scope.join(" "),
        auth_time: g.auth_time,
        amr: g.amr.join(" "),
        created_at: Utc::now().naive_utc(),
        expires_at,
        used_at: None,
        revoked_at: None,
        sid: g.sid.map(str::to_string),
    };
    (token, row)
}

/// The code was issued to this client, for this redirect URI, and this verifier proves it.
fn check_code(
    grant: &CodeGrant,
    client: &Client,
    redirect_uri: &str,
    verifier: &str,
) -> Result<(), OAuthError> {
    if grant.client_id == client.client_id
        && !grant
            .issued_at
            .is_none_or(|issued| client.issued_since_added(issued))
    {
        return Err(OAuthError::InvalidGrant(
            "The authorization code was issued to a client since removed.",
        ));
    }
    if grant.client_id != client.client_id {
        Event::CodeClientMismatch
            .now()
            .client(&client.client_id)
            .report();
        return Err(OAuthError::InvalidGrant(
            "The authorization code was issued to another client.",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::InvalidGrant(
            "redirect_uri differs from the one in the authorization request.",
        ));
    }
    if !verifier_matches(verifier, &grant.code_challenge) {
        return Err(OAuthError::InvalidGrant(
            "The code_verifier does not match the code_challenge.",
        ));
    }
    // The client's registration as it is now: a redirect URI or scope removed since the code
    // was issued is no longer served.
    if !client.redirect_uris.contains(&grant.redirect_uri)
        || !grant.scope.iter().all(|s| client.allows_scope(s))
    {
        return Err(OAuthError::InvalidGrant(
            "The client's registration changed since the code was issued; start again.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!verifier_matches("short", challenge));
    }
}
