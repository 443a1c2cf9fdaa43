//! `passkey-idp tokens …`: admin API tokens. A new token is printed once, alone on its line
//! (or as `{"name","token","scopes","expires"}` with `--json`); only its hash is kept.

use std::io;

use super::out::{self, say, Removal};
use super::users::admin;
use super::TokensCommand;
use crate::admin::tokens::{Scopes, TokenView, DEFAULT_LIFETIME};
use crate::admin::AdminError;
use crate::settings::Settings;

pub async fn run_tokens(cmd: TokensCommand, json: bool, settings: &Settings) -> anyhow::Result<()> {
    let admin = admin(settings).await?;
    match cmd {
        TokensCommand::Create {
            name,
            scope,
            expires_in,
            if_missing,
        } => {
            let scopes = Scopes::parse(&scope.join(","))?;
            let lifetime = expires_in.unwrap_or(DEFAULT_LIFETIME);
            match admin.token_create(&name, &scopes, lifetime).await {
                Ok(created) => out::answer(json, &created, |c| say!("{}", c.token)),
                // Nothing new to show: the token was shown when it was made.
                Err(AdminError::TokenExists(_)) if if_missing => {
                    let existing = admin.tokens().await?.into_iter().find(|t| t.name == name);
                    out::answer(json, &existing, |_| Ok(()))
                }
                Err(e) => Err(e.into()),
            }
        }
        TokensCommand::List => out::answer(json, &admin.tokens().await?[..], print_tokens),
        TokensCommand::Revoke { name, if_exists } => {
            let removed = match admin.token_revoke(&name).await {
                Err(AdminError::NoSuchToken(_)) if if_exists => None,
                done => done.map(|()| Some(name.as_str()))?,
            };
            out::answer(json, &Removal { removed }, |r| match r.removed {
                Some(name) => say!("token {name} revoked"),
                None => say!("there is no token {name}: nothing to revoke"),
            })
        }
    }
}

fn print_tokens(tokens: &[TokenView]) -> io::Result<()> {
    if tokens.is_empty() {
        return say!(
            "no tokens (create one with: passkey-idp tokens create --name NAME --scope SCOPE)"
        );
    }
    say!(
        "{:<24} {:<21} {:<21} SCOPES",
        "NAME",
        "EXPIRES",
        "LAST USED"
    )?;
    for t in tokens {
        say!(
            "{:<24} {:<21} {:<21} {}",
            t.name,
            t.expires,
            t.last_used.as_deref().unwrap_or("never"),
            t.scopes.join(",")
        )?;
    }
    Ok(())
}
