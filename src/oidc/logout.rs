//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

use serde::Deserialize;

use super::{redirect_with, OAuthError, Provider};
use crate::events::Event;

#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

pub enum EndSession {
    /// Signed out; back to the relying service.
    Redirect(String),
    /// Signed out; no (valid) place to return to: show the "signed out" page.
    Page,
    /// No valid id_token_hint: anyone could have sent the person here, so ask before signing
    /// out (RP-Initiated Logout §2; no logout CSRF). With the name of the registered service
    /// that the hint (or `client_id`) names, if any.
    Confirm(Option<String>),
}

#[derive(Deserialize)]
struct HintClaims {
    aud: serde_json::Value,
    #[serde(default)]
    sid: Option<String>,
}

impl Provider {
    /// Decides what RP-initiated logout does for the browser's session `current_sid` (its
    /// public `sid`, if it has a session). It signs out without asking only when the
    /// id_token_hint was issued in that very session: an ID token of anyone else's, an
    /// attacker's own included, only gets the question. The person is sent back only to a
    /// post_logout_redirect_uri registered for the client named by the hint (or client_id).
    pub async fn end_session(
        &self,
        p: &LogoutParams,
        current_sid: Option<&str>,
    ) -> Result<EndSession, OAuthError> {
        let Some(hint) = p.id_token_hint.as_deref() else {
            return self.ask(p.client_id.as_deref()).await;
        };
        // Still accepted when expired or signed by a retiring key: it names, not authorises.
        let Ok(claims) = self.tokens.verify::<HintClaims>(hint, "JWT", None, true) else {
            return self.ask(p.client_id.as_deref()).await;
        };
        let same_session = match current_sid {
            None => true, // no session here: nothing to sign out of, nothing to protect
            Some(sid) => claims.sid.as_deref() == Some(sid),
        };
        let hinted_client = match claims.aud {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_string),
            _ => None,
        };
        if !same_session {
            return self.ask(hinted_client.as_deref()).await;
        }
        if let (Some(hinted), Some(named)) = (&hinted_client, &p.client_id) {
            if hinted != named {
                return Err(OAuthError::InvalidRequest(
                    "client_id does not match the id_token_hint.",
                ));
            }
        }
        let Some(uri) = p.post_logout_redirect_uri.as_deref() else {
            return Ok(EndSession::Page);
        };
        let Some(client_id) = hinted_client.or_else(|| p.client_id.clone()) else {
            return Ok(EndSession::Page);
        };
        let Some(client) = self.clients.find(&client_id).await? else {
            return Ok(EndSession::Page);
        };
        if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
            Event::LogoutRedirectRefused
                .now()
                .client(&client_id)
                .report();
            return Ok(EndSession::Page);
        }
        let mut params = Vec::new();
        if let Some(state) = p.state.as_deref() {
            params.push(("state", state));
        }
        Ok(EndSession::Redirect(redirect_with(uri, &params)))
    }

    /// The question page, naming the registered service `client_id` (if it is one).
    async fn ask(&self, client_id: Option<&str>) -> Result<EndSession, OAuthError> {
        let name = match client_id {
            Some(id) => self.clients.find(id).await?.map(|c| {
                if c.name.trim().is_empty() {
                    c.client_id
                } else {
                    c.name
                }
            }),
            None => None,
        };
        Ok(EndSession::Confirm(name))
    }
}
