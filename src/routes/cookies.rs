//! The cookies: the ceremony id between begin and finish (SameSite=Strict), the session id
//! (SameSite=Lax, so a relying service's redirect to `/authorize` carries it), and the pages'
//! language a person picked.
//! On https both get the `__Host-` prefix, which pins them to this exact origin.

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

use crate::ids::{CeremonyId, SessionSecret};
use crate::settings::Settings;

pub const CEREMONY: &str = "pkidp_ceremony";
pub const SESSION: &str = "pkidp_session";
/// The pages' language a person picked (a catalog tag; nothing else is read from it).
pub const LANGUAGE: &str = "pkidp_lang";

pub fn name(settings: &Settings, base: &str) -> String {
    if settings.server.site.secure_cookies() {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

pub fn make(
    settings: &Settings,
    base: &str,
    value: String,
    max_age: Duration,
    same_site: SameSite,
) -> Cookie<'static> {
    Cookie::build(name(settings, base), value)
        .path("/")
        .http_only(true)
        .secure(settings.server.site.secure_cookies())
        .same_site(same_site)
        .max_age(actix_web::cookie::time::Duration::seconds(
            max_age.as_secs() as i64,
        ))
        .finish()
}

pub fn removal(settings: &Settings, base: &str) -> Cookie<'static> {
    let mut c = make(settings, base, String::new(), Duration::ZERO, SameSite::Lax);
    c.make_removal();
    c
}

pub fn read(req: &HttpRequest, settings: &Settings, base: &str) -> Option<String> {
    req.cookie(&name(settings, base))
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The session secret the request's cookie presents.
pub fn session(req: &HttpRequest, settings: &Settings) -> Option<SessionSecret> {
    read(req, settings, SESSION).map(SessionSecret::presented)
}

/// The ceremony the request's cookie names.
pub fn ceremony(req: &HttpRequest, settings: &Settings) -> Option<CeremonyId> {
    read(req, settings, CEREMONY).map(CeremonyId::presented)
}
