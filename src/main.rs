use std::process::ExitCode;

use clap::Parser;
use passkey_idp::cli::{Cli, Command};
use passkey_idp::settings::Settings;
use passkey_idp::startup::{self, Application};
use passkey_idp::{db, telemetry};

fn main() -> ExitCode {
    // OpenSSL first, with its exit-time cleanup turned off (rust-openssl initialises with
    // OPENSSL_INIT_NO_ATEXIT). Otherwise libpq initialises it and registers that cleanup, which
    // can run while a pool thread is still in a TLS handshake with Postgres: a crash at exit
    // after the command had done its work.
    openssl::init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            // One line, like every other refusal of the command line.
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!(
                "passkey-idp: {} (see --help)",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("passkey-idp: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => Application::build(settings)
                .await?
                .run_until_stopped()
                .await
                .map_err(Into::into),
            Command::Keys(cmd) => {
                let changes = cmd.changes_keys();
                passkey_idp::cli::run_keys(cmd, &settings).await?;
                if changes {
                    passkey_idp::cli::record_key_change(&settings).await;
                }
                Ok(())
            }
            Command::Clients(cmd) => passkey_idp::cli::run_clients(cmd, &settings).await,
            Command::Users(cmd) => passkey_idp::cli::run_users(cmd, &settings).await,
            Command::Groups(cmd) => passkey_idp::cli::run_groups(cmd, &settings).await,
            Command::Tokens(cmd) => passkey_idp::cli::run_tokens(cmd, &settings).await,
            Command::Events { user, since, json } => {
                passkey_idp::cli::run_events(user, since, json, &settings).await
            }
            Command::Healthcheck => passkey_idp::cli::health::check(settings.server.listen),
            Command::Migrate => {
                let pool = startup::connect_database(
                    &settings.database,
                    passkey_idp::db::PoolUse::Command,
                )
                .await?;
                drop(pool);
                println!("migrations applied to {}", describe(&settings));
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let e: anyhow::Error = e;
            eprintln!("passkey-idp: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn describe(settings: &Settings) -> String {
    match &settings.database.backend {
        passkey_idp::settings::DatabaseBackend::Postgres { url } => db::redact(url),
        passkey_idp::settings::DatabaseBackend::Sqlite { path } => path.display().to_string(),
    }
}
