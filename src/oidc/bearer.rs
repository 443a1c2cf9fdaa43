//! Access tokens presented back to us: `/userinfo` (RFC 6750) and `/revoke` (RFC 7009).

use super::{Client, OAuthError, Provider};
use crate::ephemeral::Key;
use crate::events::Event;
use crate::signing::AccessClaims;

/// The claims `/userinfo` answers with, per the token's scopes: `sub` always, then what
/// `profile`, `email` and `groups` allow (absent members are left out).
#[derive(Debug, serde::Serialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl Provider {
    /// Any access token this server issued: its own sign-in tokens and every client's,
    /// whatever their audience (the `typ` keeps ID tokens out).
    fn access_claims(&self, token: &str) -> Result<AccessClaims, OAuthError> {
        Ok(self.tokens.verify(token, "at+jwt", None, false)?)
    }

    /// A Bearer access token for `/userinfo`: valid, ours, an access token (not an ID token),
    /// not revoked, and issued to a client that is still registered as it was then (a client
    /// removed, or removed and added again, takes its tokens with it).
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessClaims, OAuthError> {
        let claims = self.access_claims(token)?;
        let revoked = self
            .store
            .get(Key::RevokedToken(&claims.jti))
            .await?
            .is_some()
            || match &claims.fam {
                Some(family) => self.store.get(Key::RevokedFamily(family)).await?.is_some(),
                None => false,
            };
        if revoked {
            return Err(OAuthError::InvalidToken("The token was revoked."));
        }
        // The service's own sign-in tokens name its audience instead of a client.
        if claims.client_id != self.tokens.config().audience {
            match self.clients.find(&claims.client_id).await? {
                Some(client)
                    if client
                        .created_at
                        .is_none_or(|t| t.and_utc().timestamp() <= claims.iat) => {}
                _ => {
                    return Err(OAuthError::InvalidToken(
                        "The client this token was issued to is no longer registered.",
                    ))
                }
            }
        }
        Ok(claims)
    }

    /// Claims about the user for a verified access token, per its scopes.
    pub async fn userinfo(&self, claims: &AccessClaims) -> Result<UserInfo, OAuthError> {
        let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
        let (user, groups) = self
            .db
            .users()
            .find_with_groups(&claims.sub, scopes.contains(&"groups"))
            .await?
            .ok_or(OAuthError::InvalidToken("The account no longer exists."))?;
        // Access tokens of a disabled user stay valid elsewhere until they expire; here,
        // where we can tell, they are refused, and stay refused once the user is enabled.
        if !user.is_active() {
            return Err(OAuthError::InvalidToken("The account is disabled."));
        }
        if user
            .access_revoked_at
            .is_some_and(|at| claims.iat <= at.and_utc().timestamp())
        {
            return Err(OAuthError::InvalidToken(
                "The token was issued before the account was disabled.",
            ));
        }
        let profile = scopes.contains(&"profile");
        let email = user.email.filter(|_| scopes.contains(&"email"));
        Ok(UserInfo {
            sub: user.id,
            preferred_username: profile.then_some(user.username),
            name: profile.then_some(user.display_name),
            email_verified: email.as_ref().map(|_| false),
            email,
            groups,
        })
    }

    /// RFC 7009: revoke a refresh token (its family) or an access token (until it expires).
    /// Unknown tokens, and tokens of other clients, are answered the same way (200).
    pub async fn revoke(
        &self,
        client: &Client,
        token: &str,
        hint: Option<&str>,
    ) -> Result<(), OAuthError> {
        if hint == Some("access_token") {
            if !self.revoke_access_token(client, token).await? {
                self.revoke_refresh_token(client, token).await?;
            }
        } else if !self.revoke_refresh_token(client, token).await? {
            self.revoke_access_token(client, token).await?;
        }
        Ok(())
    }

    /// True when `token` was a refresh token of `client` (its family is now revoked).
    async fn revoke_refresh_token(&self, client: &Client, token: &str) -> Result<bool, OAuthError> {
        let hash = crate::random::sha256_hex(token.as_bytes());
        let row = self.db.refresh_tokens().find(&hash).await?;
        let Some(row) = row.filter(|r| r.client_id == client.client_id) else {
            return Ok(false);
        };
        self.revoke_family(&row.family_id).await?;
        Event::TokenRevoked
            .now()
            .client(&client.client_id)
            .detail("refresh_token")
            .report();
        Ok(true)
    }

    /// True when `token` was a valid access token of `client` (it is now revoked).
    async fn revoke_access_token(&self, client: &Client, token: &str) -> Result<bool, OAuthError> {
        let Ok(claims) = self.access_claims(token) else {
            return Ok(false);
        };
        if claims.client_id != client.client_id {
            return Ok(false);
        }
        self.revoke_jti(&claims.jti, claims.exp).await?;
        Event::TokenRevoked
            .now()
            .client(&client.client_id)
            .detail("access_token")
            .report();
        Ok(true)
    }
}
