//! The JSON answers of the passkey and account endpoints, as types: each route serializes
//! one of these (or a domain view), never a document assembled or patched by key.

use serde::Serialize;

use crate::ceremony::{CeremonyOptions, NewPasskey};
use crate::metadata::Authenticator;

/// Every `begin`: the options, and the ceremony id that clients without cookies send back.
#[derive(Serialize)]
pub struct Begun<'a> {
    #[serde(flatten)]
    pub options: &'a CeremonyOptions,
    pub ceremony: &'a str,
}

/// `{"status": "ok"}`.
#[derive(Serialize)]
pub struct Done {
    pub status: &'static str,
}

pub const DONE: Done = Done { status: "ok" };

/// A passkey just stored, as `register/finish` and `account/credentials/finish` describe it.
#[derive(Serialize)]
pub struct PasskeyAnswer<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub synced: bool,
    pub authenticator: &'a Authenticator,
}

impl<'a> From<&'a NewPasskey> for PasskeyAnswer<'a> {
    fn from(p: &'a NewPasskey) -> Self {
        PasskeyAnswer {
            id: &p.id,
            name: &p.name,
            synced: p.synced,
            authenticator: &p.authenticator,
        }
    }
}

/// `login/finish` and `account/reauth/finish`: signed in, with the service's own access token.
#[derive(Serialize)]
pub struct SignedInAnswer<'a> {
    pub status: &'static str,
    pub access_token: &'a str,
    pub token_type: &'static str,
    pub expires_in: u64,
}

#[derive(Serialize)]
pub struct UserAnswer<'a> {
    pub id: &'a str,
    pub username: &'a str,
}

/// `register/finish`: the new account and passkey, signed in.
#[derive(Serialize)]
pub struct RegisteredAnswer<'a> {
    pub status: &'static str,
    pub user: UserAnswer<'a>,
    pub credential: PasskeyAnswer<'a>,
    pub access_token: &'a str,
    pub token_type: &'static str,
    pub expires_in: u64,
}

/// `account/credentials/finish`.
#[derive(Serialize)]
pub struct AddedAnswer<'a> {
    pub status: &'static str,
    pub credential: PasskeyAnswer<'a>,
}

/// `PATCH /account/credentials/{id}`.
#[derive(Serialize)]
pub struct RenamedAnswer<'a> {
    pub status: &'static str,
    pub id: &'a str,
    pub name: &'a str,
}

/// `POST /account/recovery-codes`: shown once.
#[derive(Serialize)]
pub struct CodesAnswer<'a> {
    pub codes: &'a [String],
}

/// `POST /recover`: a recovery session, whose next step is adding a passkey.
#[derive(Serialize)]
pub struct RecoveringAnswer {
    pub status: &'static str,
    pub next: &'static str,
}

/// `DELETE /account/sessions`.
#[derive(Serialize)]
pub struct EndedAnswer {
    pub status: &'static str,
    pub ended: usize,
}
