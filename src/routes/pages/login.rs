//! The sign-in page (`GET /login`), and its form posted with JavaScript off (`POST /login`).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{html, next_query, safe_next, signup_link, without_script, Chrome};
use crate::routes::current_session;
use crate::routes::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct Login<'a> {
    p: Chrome<'a>,
    rp_id: &'a str,
    next: &'a str,
    /// `?next=…` for the links to sign-up and recovery, so that they keep a service's request.
    next_query: String,
    login_hint: &'a str,
    signup_link: bool,
    /// The service a waiting authorization request comes from.
    client_name: Option<String>,
    /// The signed-in person's name, when their session already does for `next`.
    continue_as: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    login_hint: Option<String>,
}

#[post("/login")]
pub async fn login_posted(req: HttpRequest) -> HttpResponse {
    without_script(&req)
}

/// The sign-in page. During a service's sign-in it names the service; a person whose session
/// already does for where they are going is offered to continue as themselves.
#[get("/login")]
pub async fn login(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, ApiError> {
    let next = safe_next(query.next.as_deref(), &app.settings.server.site.issuer_url);
    let waiting = app.oidc.waiting(&next).await?;
    let fresh_enough = |auth_time: i64| {
        waiting
            .as_ref()
            .is_none_or(|w| auth_time >= w.min_auth_time)
    };
    let session = current_session(&req, &app)
        .await?
        .filter(|s| !s.session.restricted && fresh_enough(s.session.auth_time));
    let continue_as = match session {
        Some(s) => app.accounts.display_name(&s.session.user_id).await?,
        None => None,
    };
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Login {
            p,
            rp_id: &app.settings.server.site.rp_id,
            next: &next,
            next_query: next_query(&next),
            login_hint: query.login_hint.as_deref().unwrap_or(""),
            signup_link: signup_link(&app),
            client_name: waiting.map(|w| w.client_name),
            continue_as,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_sign_in_page_has_no_text_outside_the_catalog() {
        for (client, who) in [
            (None, None),
            (Some("⟦Shop⟧".to_string()), Some("⟦Ada⟧".to_string())),
        ] {
            check(
                "login",
                Login {
                    p: marked_chrome(),
                    rp_id: "id.example.com",
                    next: "/account",
                    next_query: "?next=%2Fauthorize".into(),
                    login_hint: "",
                    signup_link: true,
                    client_name: client,
                    continue_as: who,
                },
            );
        }
    }
}
