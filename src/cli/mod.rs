//! The command line (docs/api.md, "Running it"). Key commands work on the key folder directly,
//! with or without a running server: running instances pick changes up within the reload
//! interval. Client commands work on the configured database.

mod clients;
mod events;
pub mod exit;
mod groups;
pub mod health;
mod keys;
mod migrate;
pub mod out;
mod tables;
mod tokens;
mod users;

use std::time::Duration;

use clap::{Parser, Subcommand};

pub use self::clients::run_clients;
pub use self::events::run_events;
pub use self::groups::run_groups;
pub use self::keys::{record_key_change, run_keys};
pub use self::migrate::run_migrate;
pub use self::tokens::run_tokens;
use self::users::parse_ttl;
pub use self::users::run_users;
use crate::signing::KeyAlg;

#[derive(Debug, Parser)]
#[command(
    name = "passkey-idp",
    version,
    about = "A passkey (WebAuthn) identity provider"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Print JSON for scripts: an array for a list, else one object (what was made, changed
    /// or removed).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Exit 0 when the server on `server.listen` answers `GET /readyz` with 200 within 5 s
    /// (for container health checks).
    Healthcheck,
    /// Manage the signing key set.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the relying services (OIDC clients).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Administer people: list, disable, delete, recovery links, invites, groups.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage groups (the `groups` claim and clients' allowed groups).
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Admin API tokens: create (shown once), list, revoke.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Stored security and audit events, newest first.
    Events {
        /// Only this user's events (a username, or the id of a deleted user).
        #[arg(long)]
        user: Option<String>,
        /// Only events this recent, e.g. 1h, 7d.
        #[arg(long, value_parser = parse_ttl)]
        since: Option<Duration>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Every user: id, username, email, status, groups, passkeys, created, last sign-in.
    List {
        /// Only members of this group.
        #[arg(long)]
        group: Option<String>,
    },
    /// One user (a username or an id): passkeys, groups and sessions.
    Show { user: String },
    /// A disabled user cannot sign in; their sessions and refresh tokens end at once.
    Disable { user: String },
    /// Let a disabled user sign in again.
    Enable { user: String },
    /// Erase the user with passkeys, sessions, refresh tokens and recovery codes.
    Delete {
        user: String,
        /// Succeed when there is no such user.
        #[arg(long)]
        if_exists: bool,
    },
    /// Remove one of the user's passkeys (its base64url id).
    PasskeyRemove {
        user: String,
        #[arg(allow_hyphen_values = true)]
        credential_id: String,
        /// Succeed when the user has no such passkey.
        #[arg(long)]
        if_exists: bool,
    },
    /// Clear the "possibly cloned" flag of one of the user's passkeys.
    PasskeyUnflag {
        user: String,
        #[arg(allow_hyphen_values = true)]
        credential_id: String,
    },
    /// Print a one-time URL with which the person adds a new passkey (device lost).
    RecoveryLink {
        user: String,
        #[arg(long, default_value = "24h", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Print a one-time sign-up URL (`/register?invite=…`).
    Invite {
        /// The username the invite is for (the person cannot choose another).
        #[arg(long)]
        username: Option<String>,
        /// The email the sign-up form is prefilled with.
        #[arg(long)]
        email: Option<String>,
        /// Groups the new account joins (existing groups, comma-separated).
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        #[arg(long, default_value = "7d", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Put the user in an existing group.
    AddToGroup {
        user: String,
        group: String,
        /// Succeed when the user is in the group already.
        #[arg(long)]
        if_missing: bool,
    },
    /// Take the user out of a group.
    RemoveFromGroup {
        user: String,
        group: String,
        /// Succeed when the user is not in the group.
        #[arg(long)]
        if_exists: bool,
    },
    /// End all of the user's sessions and refresh tokens, on every instance at once (they can
    /// sign in again).
    SessionsEnd { user: String },
    /// Change the user's details.
    Update {
        user: String,
        /// The new email address ('' clears it).
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// A new token, printed once; only its hash is stored.
    Create {
        /// 1 to 64 letters, digits and . _ -
        #[arg(long)]
        name: String,
        /// Scopes, e.g. users:read,recovery:write (or admin for all; AREA:* for an area).
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// How long it is valid, 1m to 366d (default 90d).
        #[arg(long, value_parser = parse_ttl)]
        expires_in: Option<Duration>,
        /// Exit 0 without a new token when one of this name exists.
        #[arg(long)]
        if_missing: bool,
    },
    /// Every token: name, scopes, expiry, last use (never the token).
    List,
    /// Revoke a token by name: it stops working on every instance at once.
    Revoke {
        name: String,
        /// Exit 0 when there is no token of this name.
        #[arg(long)]
        if_exists: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Every group and its number of members.
    List,
    /// Create a group.
    Add {
        name: String,
        /// Succeed (and print it) when the group exists already.
        #[arg(long)]
        if_missing: bool,
    },
    /// Remove a group and its memberships.
    Remove {
        name: String,
        /// Succeed when there is no such group.
        #[arg(long)]
        if_exists: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a relying service; a confidential client's secret is printed once.
    Add {
        #[arg(long = "client-id")]
        client_id: String,
        /// Exact redirect URI (repeat for several); matched byte for byte.
        #[arg(long = "redirect-uri", required = true, num_args = 1..)]
        redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE proves possession).
        #[arg(long)]
        public: bool,
        #[arg(long)]
        name: Option<String>,
        /// Where RP-initiated logout may return to (repeat for several).
        #[arg(long = "post-logout-redirect-uri", num_args = 1..)]
        post_logout_redirect_uris: Vec<String>,
        /// Allowed scopes (default: "openid profile email offline_access groups").
        #[arg(long)]
        scopes: Option<String>,
        /// ID token signing algorithm: RS256 (default), ES256 or EdDSA.
        #[arg(long = "id-token-alg")]
        id_token_alg: Option<String>,
        /// `aud` of the client's access tokens (repeat for several); default: its client id.
        #[arg(long = "audience", num_args = 1..)]
        audiences: Vec<String>,
        /// Only members of these groups may sign in at it (comma-separated).
        #[arg(long = "allowed-groups", value_delimiter = ',')]
        allowed_groups: Vec<String>,
        /// Succeed (and print it, without its secret) when the client id is taken already.
        #[arg(long)]
        if_missing: bool,
    },
    /// The registered clients (and those declared in oidc.clients_file).
    List,
    /// Remove a registered client.
    Remove {
        client_id: String,
        /// Succeed when there is no such registered client.
        #[arg(long)]
        if_exists: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// The key set: kid, alg, state, created, next transition.
    List,
    /// Add a key in state `next` (published, not yet signing).
    Generate {
        #[arg(long, default_value = "ES256", value_parser = parse_alg)]
        alg: KeyAlg,
    },
    /// For one algorithm: `next` → `active`, `active` → `retiring`.
    Rotate {
        #[arg(long, default_value = "ES256", value_parser = parse_alg)]
        alg: KeyAlg,
        /// Rotate even though caches may not have the new key yet.
        #[arg(long)]
        force: bool,
    },
    /// Stop publishing a `retiring` key once no token it signed can still be valid.
    Retire {
        /// A kid is base64url and may begin with '-'.
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// Retire even though tokens it signed may still be valid.
        #[arg(long)]
        force: bool,
    },
    /// Emergency: stop publishing and trusting a key now.
    Revoke {
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Move a key folder's set into the (empty) database store, kids and states unchanged.
    ImportDir { path: std::path::PathBuf },
    /// Print the public JWKS of the published keys (no key-encryption key needed).
    ExportPublic,
    /// Re-encrypt every stored private key and secret with a new key-encryption key.
    Rekek {
        /// The new key-encryption key: 32 random bytes, base64.
        #[arg(long)]
        new_kek: String,
    },
}

impl KeysCommand {
    /// Whether the command changes the key set (and so is stored as a `key_changed` event).
    pub fn changes_keys(&self) -> bool {
        !matches!(self, KeysCommand::List | KeysCommand::ExportPublic)
    }
}

fn parse_alg(s: &str) -> Result<KeyAlg, String> {
    KeyAlg::parse(s).ok_or_else(|| format!("'{s}' is not one of: ES256, RS256, EdDSA"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_goes_anywhere_on_the_line() {
        for args in [
            vec!["passkey-idp", "--json", "users", "disable", "lee"],
            vec!["passkey-idp", "users", "disable", "lee", "--json"],
            vec!["passkey-idp", "events", "--json", "--since", "1h"],
        ] {
            let cli = Cli::try_parse_from(&args).expect("parses");
            assert!(cli.json, "{args:?}");
        }
        let cli = Cli::try_parse_from(["passkey-idp", "users", "update", "lee", "--email", ""])
            .expect("an empty email clears it");
        assert!(!cli.json);
    }

    #[test]
    fn a_kid_may_begin_with_a_dash() {
        let kid = "-H5VbtaTcSpo9SoFiVfE5a5AcHixe0SJ9rRckvx_d68";
        for args in [
            vec!["passkey-idp", "keys", "revoke", kid],
            vec!["passkey-idp", "keys", "retire", "--force", kid],
        ] {
            let cli = Cli::try_parse_from(&args).expect("parses");
            let parsed = match cli.command {
                Some(Command::Keys(KeysCommand::Revoke { kid })) => kid,
                Some(Command::Keys(KeysCommand::Retire { kid, force: true })) => kid,
                other => panic!("{args:?} parsed as {other:?}"),
            };
            assert_eq!(parsed, kid);
        }
    }
}
