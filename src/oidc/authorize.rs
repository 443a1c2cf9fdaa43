//! `/authorize`: who is asking and where the answer goes are proven first (until then nothing
//! is ever redirected), then the request is checked, then answered with a code when a live
//! session satisfies it, or the person is sent to sign in and comes back to
//! [`Provider::continue_authorize`]. The waiting request travels in the login page's URL,
//! sealed (signed, expiring): an anonymous `/authorize` leaves nothing in the store.

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::request::{check, check_allowed_scopes, AuthorizeParams, MAX_STATE};
use super::{AuthorizeError, Client, CodeGrant, Provider, CODE};
use crate::ephemeral::Key;
use crate::events::Event;
use crate::fault::Fault;
use crate::session::Session;

/// How long an authorization request waits for the person to sign in.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// What the seal of a waiting request is for.
const SEALED_REQUEST: &str = "authorize-request";
/// A validated authorization request, kept while the person signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// The person must have signed in at or after this time (prompt=login, max_age).
    pub min_auth_time: i64,
    /// `response_mode=form_post`: the answer is posted to the redirect URI.
    #[serde(default)]
    pub form_post: bool,
}

/// The answer that goes back to the client: its parameters, for the redirect URI's query or,
/// with `response_mode=form_post`, for a form posted there.
pub struct Response {
    pub redirect_uri: String,
    pub params: Vec<(&'static str, String)>,
    pub form_post: bool,
}

/// A request waiting for the person to sign in, as the sign-in page speaks of it.
pub struct Waiting {
    /// The asking service's name (its client_id when it has none).
    pub client_name: String,
    /// A session from before this time does not satisfy it (prompt=login, max_age).
    pub min_auth_time: i64,
}

/// What `/authorize` answers.
/// Why a request gets an error page instead of a redirect back to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    NoClientId,
    UnknownClient,
    NoRedirectUri,
    UnregisteredRedirectUri,
    RequestExpired,
    ClientGone,
    /// The query or form did not parse.
    Unreadable,
}

impl Refused {
    /// The page catalog's key for the sentence that says it.
    pub fn key(self) -> &'static str {
        match self {
            Refused::NoClientId => "refused.no_client_id",
            Refused::UnknownClient => "refused.unknown_client",
            Refused::NoRedirectUri => "refused.no_redirect_uri",
            Refused::UnregisteredRedirectUri => "refused.unregistered_redirect_uri",
            Refused::RequestExpired => "refused.request_expired",
            Refused::ClientGone => "refused.client_gone",
            Refused::Unreadable => "refused.unreadable",
        }
    }
}

pub enum Outcome {
    /// The client or redirect URI cannot be trusted: an error page, never a redirect.
    ErrorPage(Refused),
    /// Back to the client with a code.
    Respond(Response),
    /// Back to the client with an error (and the request's state).
    ErrorRedirect {
        redirect_uri: String,
        state: Option<String>,
        error: AuthorizeError,
        form_post: bool,
    },
    /// To the sign-in page, which continues the flow afterwards.
    SignIn(String),
}

impl Provider {
    /// `/authorize`: validate, then either redirect back with a code (a live session that
    /// satisfies the request), or send the person to sign in first.
    pub async fn authorize(
        &self,
        p: AuthorizeParams,
        session: Option<Session>,
    ) -> Result<Outcome, Fault> {
        let (client, redirect_uri) = match self.trusted_target(&p).await? {
            Ok(target) => target,
            Err(page) => return Ok(page),
        };
        // A state too long to accept is too long to echo back, too.
        let fail = |error| Outcome::ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            state: p.state.clone().filter(|s| s.len() <= MAX_STATE),
            error,
            form_post: p.response_mode.as_deref() == Some("form_post"),
        };
        let checked = match check(&p, &client) {
            Ok(checked) => checked,
            Err(error) => return Ok(fail(error)),
        };
        let now = Utc::now().timestamp();
        let min_auth_time = if checked.prompt_login {
            now
        } else {
            checked.max_age.map(|m| now - m).unwrap_or(0)
        };
        let request = AuthRequest {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            scope: checked.scope,
            state: p.state.clone(),
            nonce: p.nonce.clone(),
            code_challenge: checked.code_challenge,
            min_auth_time,
            form_post: checked.form_post,
        };
        // A live session that satisfies the request: straight back with a code.
        let usable = session.filter(|s| !s.restricted && s.auth_time >= min_auth_time);
        if let (Some(session), false) = (usable, checked.prompt_login) {
            return self.answer(&request, &client, &session).await;
        }
        if checked.prompt_none {
            return Ok(fail(AuthorizeError::LoginRequired(
                "The person is not signed in (or must sign in again), and prompt=none forbids asking.",
            )));
        }
        self.sign_in_first(&request, p.login_hint.as_deref())
    }

    /// The client and the redirect URI, or the error page to show instead.
    async fn trusted_target(
        &self,
        p: &AuthorizeParams,
    ) -> Result<Result<(Client, String), Outcome>, Fault> {
        let Some(client_id) = p.client_id.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(Err(Outcome::ErrorPage(Refused::NoClientId)));
        };
        let Some(client) = self.clients.find(client_id).await? else {
            return Ok(Err(Outcome::ErrorPage(Refused::UnknownClient)));
        };
        let Some(redirect_uri) = p.redirect_uri.as_deref().filter(|r| !r.is_empty()) else {
            return Ok(Err(Outcome::ErrorPage(Refused::NoRedirectUri)));
        };
        if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
            Event::RedirectUriMismatch
                .now()
                .client(&client.client_id)
                .report();
            return Ok(Err(Outcome::ErrorPage(Refused::UnregisteredRedirectUri)));
        }
        Ok(Ok((client, redirect_uri.to_string())))
    }

    /// Sends the person to the login page with the request sealed in its `next` URL, which
    /// comes back to `/authorize/continue`.
    fn sign_in_first(
        &self,
        request: &AuthRequest,
        login_hint: Option<&str>,
    ) -> Result<Outcome, Fault> {
        let sealed = self
            .signer
            .seal(SEALED_REQUEST, request, PENDING_TTL.as_secs() as i64)
            .map_err(Fault::internal)?;
        let next = format!("/authorize/continue?request={sealed}");
        let mut login = url::form_urlencoded::Serializer::new(String::new());
        login.append_pair("next", &next);
        if let Some(hint) = login_hint.filter(|h| h.len() <= 64) {
            login.append_pair("login_hint", hint);
        }
        Ok(Outcome::SignIn(format!(
            "{}/login?{}",
            self.issuer,
            login.finish()
        )))
    }

    /// The request waiting behind the sign-in page's `next` (`/authorize/continue?request=…`),
    /// when that is one and its client would still answer it: which service asks, and how
    /// fresh a sign-in it needs.
    pub async fn waiting(&self, next: &str) -> Result<Option<Waiting>, Fault> {
        let Some(sealed) = next.strip_prefix("/authorize/continue?request=") else {
            return Ok(None);
        };
        let Some(request) = self.signer.open::<AuthRequest>(SEALED_REQUEST, sealed) else {
            return Ok(None);
        };
        let Ok(client) = self.still_registered(&request).await? else {
            return Ok(None);
        };
        let client_name = if client.name.trim().is_empty() {
            client.client_id
        } else {
            client.name
        };
        Ok(Some(Waiting {
            client_name,
            min_auth_time: request.min_auth_time,
        }))
    }

    /// After the sign-in page: the sealed request is opened, checked again against its
    /// client's registration as it is now (a redirect URI or scope removed meanwhile is no
    /// longer served), and answered if the session now satisfies it. Answering it twice gives
    /// what a second `/authorize` would.
    pub async fn continue_authorize(
        &self,
        sealed: &str,
        session: Option<Session>,
    ) -> Result<Outcome, Fault> {
        let Some(request) = self.signer.open::<AuthRequest>(SEALED_REQUEST, sealed) else {
            return Ok(Outcome::ErrorPage(Refused::RequestExpired));
        };
        let client = match self.still_registered(&request).await? {
            Ok(client) => client,
            Err(page) => return Ok(Outcome::ErrorPage(page)),
        };
        let fail = |error| Outcome::ErrorRedirect {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error,
            form_post: request.form_post,
        };
        if let Err(error) = check_allowed_scopes(&request.scope, &client) {
            return Ok(fail(error));
        }
        match session.filter(|s| !s.restricted && s.auth_time >= request.min_auth_time) {
            Some(session) => self.answer(&request, &client, &session).await,
            None => Ok(fail(AuthorizeError::LoginRequired(
                "The person did not sign in.",
            ))),
        }
    }

    /// The client of a waiting request, if it still exists and still has the request's
    /// redirect URI; else why not (an error page: the URI may no longer be trusted).
    async fn still_registered(
        &self,
        request: &AuthRequest,
    ) -> Result<Result<Client, Refused>, Fault> {
        let Some(client) = self.clients.find(&request.client_id).await? else {
            return Ok(Err(Refused::ClientGone));
        };
        if !client.redirect_uris.contains(&request.redirect_uri) {
            Event::RedirectUriMismatch
                .now()
                .client(&client.client_id)
                .detail("a waiting request's redirect_uri is no longer registered")
                .report();
            return Ok(Err(Refused::UnregisteredRedirectUri));
        }
        Ok(Ok(client))
    }

    /// A signed-in person at `client`: a code, unless the client admits only groups they are
    /// not in (checked only now, after sign-in, so membership is never revealed before it).
    async fn answer(
        &self,
        request: &AuthRequest,
        client: &Client,
        session: &Session,
    ) -> Result<Outcome, Fault> {
        if !client.allowed_groups.is_empty() {
            let groups = self.db.groups().of_user(&session.user_id).await?;
            if !client.admits(&groups) {
                Event::AccessDenied
                    .now()
                    .client(&client.client_id)
                    .user(&session.user_id)
                    .report();
                return Ok(Outcome::ErrorRedirect {
                    redirect_uri: request.redirect_uri.clone(),
                    state: request.state.clone(),
                    error: AuthorizeError::AccessDenied,
                    form_post: request.form_post,
                });
            }
        }
        Ok(Outcome::Respond(self.issue_code(request, session).await?))
    }

    async fn issue_code(
        &self,
        request: &AuthRequest,
        session: &Session,
    ) -> Result<Response, Fault> {
        let code = self.signer.sign(CODE, &crate::random::token());
        let grant = CodeGrant {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            user_id: session.user_id.clone(),
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            sid: Some(session.sid.clone()),
            issued_at: Some(chrono::Utc::now().naive_utc()),
        };
        self.store
            .put_json(Key::Code(&code), &grant, self.settings.code_ttl)
            .await?;
        Event::CodeIssued
            .now()
            .client(&request.client_id)
            .user(&session.user_id)
            .report();
        let mut params = vec![("code", code)];
        if let Some(state) = &request.state {
            params.push(("state", state.clone()));
        }
        params.push(("iss", self.issuer.clone()));
        Ok(Response {
            redirect_uri: request.redirect_uri.clone(),
            params,
            form_post: request.form_post,
        })
    }
}
