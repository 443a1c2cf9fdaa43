use std::process::ExitCode;

use clap::Parser;
use passkey_idp::cli::{self, exit, out, Cli, Command};
use passkey_idp::settings::Settings;
use passkey_idp::startup::Application;
use passkey_idp::telemetry;

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
            return ExitCode::from(exit::USAGE);
        }
    };
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("passkey-idp: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    telemetry::init(&settings.log);
    let json = cli.json;
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => Application::build(settings)
                .await?
                .run_until_stopped()
                .await
                .map_err(Into::into),
            Command::Keys(cmd) => {
                let changes = cmd.changes_keys();
                let done = cli::run_keys(cmd, json, &settings).await;
                // A reader that went away after the change does not undo it.
                if changes && done.as_ref().map_or_else(out::stdout_closed, |_| true) {
                    cli::record_key_change(&settings).await;
                }
                done
            }
            Command::Clients(cmd) => cli::run_clients(cmd, json, &settings).await,
            Command::Users(cmd) => cli::run_users(cmd, json, &settings).await,
            Command::Groups(cmd) => cli::run_groups(cmd, json, &settings).await,
            Command::Tokens(cmd) => cli::run_tokens(cmd, json, &settings).await,
            Command::Events { user, since } => cli::run_events(user, since, json, &settings).await,
            Command::Healthcheck => cli::health::check(settings.server.listen),
            Command::Migrate => cli::run_migrate(json, &settings).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `passkey-idp events | head -1`: the reader has what it wanted.
        Err(e) if out::stdout_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let e: anyhow::Error = e;
            eprintln!("passkey-idp: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(exit::code(&e))
        }
    }
}
