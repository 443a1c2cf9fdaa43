//! Client authentication at `/token` and `/revoke` (RFC 6749 §2.3): a confidential client
//! proves its secret (HTTP Basic or the form), a public client sends only its id (PKCE then
//! carries the proof).

use super::{Client, OAuthError, Provider};
use crate::events::Event;

/// How the client presented itself: HTTP Basic (already decoded by the handler), or fields of
/// the form body.
pub struct ClientCredentials {
    pub basic: Option<(String, String)>,
    pub form_id: Option<String>,
    pub form_secret: Option<String>,
}

const WRONG_CREDENTIALS: &str = "Unknown client or wrong credentials.";

impl Provider {
    /// RFC 6749 §2.3: exactly one way of authenticating; a confidential client proves its
    /// secret, a public client sends only its id (PKCE then carries the proof).
    pub async fn authenticate(&self, creds: ClientCredentials) -> Result<Client, OAuthError> {
        let (client_id, secret) = match (creds.basic, creds.form_id, creds.form_secret) {
            (Some(_), _, Some(_)) => {
                return Err(OAuthError::InvalidClient(
                    "Use one client authentication method, not two.",
                ))
            }
            (Some((id, secret)), form_id, None) => {
                if form_id.is_some_and(|f| f != id) {
                    return Err(OAuthError::InvalidClient(
                        "client_id in the body differs from the one in the Authorization header.",
                    ));
                }
                (id, Some(secret))
            }
            (None, Some(id), secret) => (id, secret),
            (None, None, _) => {
                return Err(OAuthError::InvalidClient(
                    "Client authentication is required.",
                ))
            }
        };
        let client = self
            .clients
            .find(&client_id)
            .await?
            .ok_or(OAuthError::InvalidClient(WRONG_CREDENTIALS))?;
        match (client.public, secret) {
            (true, None) => Ok(client),
            (true, Some(_)) => Err(OAuthError::InvalidClient(
                "This is a public client; it has no secret to send.",
            )),
            (false, Some(s)) if client.secret_matches(&s) => Ok(client),
            (false, _) => {
                Event::ClientAuthFailed
                    .now()
                    .client(&client.client_id)
                    .report();
                Err(OAuthError::InvalidClient(WRONG_CREDENTIALS))
            }
        }
    }
}
