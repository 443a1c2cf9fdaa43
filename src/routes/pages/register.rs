//! The sign-up page (`GET /register`, an invite URL opens it prefilled), and its form posted
//! with JavaScript off (`POST /register`).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{html, next_query, safe_next, without_script, Chrome};
use crate::ceremony::RegistrationMode;
use crate::routes::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "register.html")]
struct Register<'a> {
    p: Chrome<'a>,
    /// No sign-up for this visitor: closed, or invite-only without a usable invite, or an
    /// invite that is spent or expired.
    closed: bool,
    /// Closed because the invite of the link was used, has expired or is not one at all.
    invite_spent: bool,
    invite: String,
    invite_username: String,
    invite_email: String,
    /// A service's waiting authorization request, where the new account goes once made.
    next: String,
    /// `?next=…` for the link to sign in instead.
    next_query: String,
    /// The service that request comes from.
    client_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterQuery {
    invite: Option<String>,
    next: Option<String>,
}

#[post("/register")]
pub async fn register_posted(req: HttpRequest) -> HttpResponse {
    without_script(&req)
}

/// The sign-up page; an invite URL (`/register?invite=…`) opens it prefilled. Looking at the
/// invite does not spend it.
#[get("/register")]
pub async fn register(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query
        .invite
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128);
    let invite = match token {
        Some(t) => app.passkeys.usable_invite(t).await?,
        None => None,
    };
    let closed = matches!(
        (app.settings.registration.mode, token, &invite),
        (RegistrationMode::Closed, _, _) | (_, Some(_), None) | (RegistrationMode::Invite, None, _)
    );
    let invite_spent = app.settings.registration.mode != RegistrationMode::Closed
        && token.is_some()
        && invite.is_none();
    let (invite_username, invite_email) = invite
        .map(|i| (i.username.unwrap_or_default(), i.email.unwrap_or_default()))
        .unwrap_or_default();
    let next = safe_next(query.next.as_deref(), &app.settings.server.site.issuer_url);
    let waiting = app.oidc.waiting(&next).await?;
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Register {
            p,
            closed,
            invite_spent,
            invite: if closed {
                String::new()
            } else {
                token.unwrap_or_default().to_string()
            },
            invite_username,
            invite_email,
            next_query: next_query(&next),
            next: if waiting.is_some() {
                next
            } else {
                String::new()
            },
            client_name: waiting.map(|w| w.client_name),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_sign_up_page_has_no_text_outside_the_catalog() {
        for (closed, invite_spent, invite, username, client) in [
            (false, false, "", "", None),
            (true, false, "", "", None),
            (true, true, "", "", None),
            (false, false, "tok", "⟦ada⟧", Some("⟦Notes⟧".to_string())),
        ] {
            check(
                "register",
                Register {
                    p: marked_chrome(),
                    closed,
                    invite_spent,
                    invite: invite.into(),
                    invite_username: username.into(),
                    invite_email: String::new(),
                    next: "/authorize/continue?request=x".into(),
                    next_query: "?next=%2Fauthorize".into(),
                    client_name: client,
                },
            );
        }
    }
}
