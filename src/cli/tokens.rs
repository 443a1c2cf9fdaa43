//! `passkey-idp tokens …`: admin API tokens. A new token is printed once, alone on its line
//! (or as `{"name","token","scopes","expires"}` with `--json`); only its hash is kept.

use super::TokensCommand;
use crate::admin::tokens::{Scopes, TokenView, DEFAULT_LIFETIME};
use crate::settings::Settings;

pub async fn run_tokens(cmd: TokensCommand, settings: &Settings) -> anyhow::Result<()> {
    let admin = super::users::admin(settings).await?;
    match cmd {
        TokensCommand::Create {
            name,
            scope,
            expires_in,
            json,
        } => {
            let scopes = Scopes::parse(&scope.join(","))?;
            let created = admin
                .token_create(&name, &scopes, expires_in.unwrap_or(DEFAULT_LIFETIME))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                println!("{}", created.token);
            }
        }
        TokensCommand::List { json } => {
            let tokens = admin.tokens().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                print_tokens(&tokens);
            }
        }
        TokensCommand::Revoke { name, json } => {
            admin.token_revoke(&name).await?;
            if json {
                println!("{}", serde_json::json!({ "revoked": name }));
            } else {
                println!("token {name} revoked");
            }
        }
    }
    Ok(())
}

fn print_tokens(tokens: &[TokenView]) {
    if tokens.is_empty() {
        println!(
            "no tokens (create one with: passkey-idp tokens create --name NAME --scope SCOPE)"
        );
        return;
    }
    println!(
        "{:<24} {:<21} {:<21} SCOPES",
        "NAME", "EXPIRES", "LAST USED"
    );
    for t in tokens {
        println!(
            "{:<24} {:<21} {:<21} {}",
            t.name,
            t.expires,
            t.last_used.as_deref().unwrap_or("never"),
            t.scopes.join(",")
        );
    }
}
