//! The account page (`GET /account`): the signed-in person's passkeys, recovery codes,
//! sessions, recent activity and the way to delete the account (the scripts fill in the
//! lists).

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{html, Chrome};
use crate::account::{AccountError, CredentialView};
use crate::routes::error::ApiError;
use crate::routes::{current_session, see_other};
use crate::state::AppState;

struct PasskeyRow {
    id: String,
    name: String,
    initial: String,
    authenticator: String,
    icon_light: Option<String>,
    icon_dark: Option<String>,
    synced: bool,
    /// RFC 3339, for the page to show in local time.
    created: String,
    last_used: Option<String>,
    /// Made with the account, at sign-up.
    at_sign_up: bool,
    clone_suspected: bool,
    /// base64url of the user handle this passkey was created with.
    user_handle: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct Account<'a> {
    p: Chrome<'a>,
    rp_id: &'a str,
    /// base64url of the user's WebAuthn user handle (Signal API).
    user_handle: String,
    username: String,
    display_name: String,
    welcome: bool,
    credentials: Vec<PasskeyRow>,
    unused_codes: i64,
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    welcome: Option<String>,
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 3339 in UTC, for the page to show in local time.
fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl PasskeyRow {
    /// A passkey as its row shows it; `account_created` tells the one made at sign-up, and
    /// `user_handle` stands in for a passkey that does not record its own.
    fn new(c: CredentialView, account_created: chrono::NaiveDateTime, user_handle: &str) -> Self {
        PasskeyRow {
            initial: c
                .authenticator
                .name
                .chars()
                .next()
                .unwrap_or('P')
                .to_uppercase()
                .to_string(),
            authenticator: c.authenticator.name,
            icon_light: c.authenticator.icon_light,
            icon_dark: c.authenticator.icon_dark,
            id: c.id,
            name: c.name,
            synced: c.synced,
            // Sign-up writes the account and its passkey with one timestamp.
            at_sign_up: c.created == account_created,
            created: rfc3339(c.created),
            last_used: c.last_used.map(rfc3339),
            clone_suspected: c.clone_suspected,
            user_handle: c
                .user_handle
                .as_deref()
                .map(base64url)
                .unwrap_or_else(|| user_handle.to_string()),
        }
    }
}

#[get("/account")]
pub async fn account(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(signed_in) = current_session(&req, &app)
        .await?
        .filter(|s| !s.session.restricted)
    else {
        return Ok(see_other("/login?next=/account"));
    };
    let overview = match app.accounts.overview(&signed_in.session.user_id).await {
        Ok(overview) => overview,
        Err(AccountError::AccountGone) => return Ok(see_other("/login")),
        Err(e) => return Err(e.into()),
    };
    let user_handle = base64url(&overview.user_handle);
    let credentials = overview
        .credentials
        .into_iter()
        .map(|c| PasskeyRow::new(c, overview.created_at, &user_handle))
        .collect();
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Account {
            p,
            rp_id: &app.settings.server.site.rp_id,
            user_handle,
            username: overview.username,
            display_name: overview.display_name,
            welcome: query.welcome.is_some(),
            credentials,
            unused_codes: overview.unused_recovery_codes,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    fn row(id: &str, at_sign_up: bool, used: bool) -> PasskeyRow {
        PasskeyRow {
            id: id.into(),
            name: format!("⟦Chrome on Mac {id}⟧"),
            initial: "⟦C⟧".into(),
            authenticator: "⟦iCloud Keychain⟧".into(),
            icon_light: None,
            icon_dark: None,
            synced: !at_sign_up,
            created: "⟦2026-11-30T10:00:00Z⟧".into(),
            last_used: used.then(|| "⟦2026-11-30T11:00:00Z⟧".into()),
            at_sign_up,
            clone_suspected: used,
            user_handle: "abc".into(),
        }
    }

    #[test]
    fn the_account_page_has_no_text_outside_the_catalog() {
        for (welcome, rows, codes) in [
            (true, vec![row("a", true, false)], 0),
            (true, vec![row("a", true, false), row("b", false, true)], 10),
            (
                false,
                vec![row("a", false, false), row("b", false, true)],
                1,
            ),
        ] {
            check(
                "account",
                Account {
                    p: marked_chrome(),
                    rp_id: "id.example.com",
                    user_handle: "abc".into(),
                    username: "⟦ada⟧".into(),
                    display_name: "⟦Ada⟧".into(),
                    welcome,
                    credentials: rows,
                    unused_codes: codes,
                },
            );
        }
    }
}
