//! Users and credentials, on Postgres (production) or SQLite (the embedded default), through one
//! diesel `MultiConnection` so every query is written once.
//!
//! Domain code talks to [`Db`], whose repositories have async methods that read like the domain
//! (`db.users().find_by_username(&name).await?`). Diesel blocks, so each method moves the pool
//! checkout and its queries onto tokio's blocking thread pool. The synchronous, per-table query
//! functions underneath (`users::find_by_username(conn, ..)`) compose into transactions.

pub mod accounts;
pub mod admin;
pub mod api_tokens;
pub mod audited_settings;
pub mod clients;
pub mod credentials;
pub mod directory;
pub mod events;
pub mod groups;
pub mod housekeeping;
pub mod invites;
pub mod models;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod schema;
pub mod sessions;
pub mod settings;
mod sign_in;
pub mod signing_keys;
pub mod users;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use self::settings::{DatabaseBackend, DatabaseSettings};
use crate::outage::Outage;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Key of the Postgres advisory lock held while migrating, so instances starting together
/// apply migrations one after the other.
const MIGRATION_LOCK_KEY: i64 = 0x0070_6173_736b_6579; // "passkey"

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;

/// A pooled connection and when it was last handed out: one that was in use moments ago is
/// not pinged again before its next use (a round trip per query otherwise), while one that
/// sat idle is, so a connection the database dropped meanwhile is replaced, not used.
pub struct Pooled {
    conn: AnyConnection,
    last_checkout: std::time::Instant,
}

/// A connection idle longer than this is pinged before it is used.
const PING_AFTER_IDLE: Duration = Duration::from_secs(5);

impl std::ops::Deref for Pooled {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// The database as the domain sees it: a pool and one repository per table.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// Bound of one call: waiting for a connection and every query in it.
    timeout: Duration,
    outage: Outage,
}

impl Db {
    pub fn new(pool: Pool, timeout: Duration) -> Db {
        Db {
            pool,
            timeout,
            outage: Outage::new("database"),
        }
    }

    pub fn accounts(&self) -> accounts::AccountRows<'_> {
        accounts::AccountRows(self)
    }

    pub fn users(&self) -> users::UserRows<'_> {
        users::UserRows(self)
    }

    pub fn credentials(&self) -> credentials::CredentialRows<'_> {
        credentials::CredentialRows(self)
    }

    pub fn recovery_codes(&self) -> recovery_codes::RecoveryCodeRows<'_> {
        recovery_codes::RecoveryCodeRows(self)
    }

    pub fn refresh_tokens(&self) -> refresh_tokens::RefreshTokenRows<'_> {
        refresh_tokens::RefreshTokenRows(self)
    }

    pub fn clients(&self) -> clients::ClientRows<'_> {
        clients::ClientRows(self)
    }

    pub fn events(&self) -> events::EventRows<'_> {
        events::EventRows(self)
    }

    pub fn sessions(&self) -> sessions::SessionRows<'_> {
        sessions::SessionRows(self)
    }

    pub fn invites(&self) -> invites::InviteRows<'_> {
        invites::InviteRows(self)
    }

    pub fn admin(&self) -> admin::AdminRows<'_> {
        admin::AdminRows(self)
    }

    pub fn groups(&self) -> groups::GroupRows<'_> {
        groups::GroupRows(self)
    }

    pub fn directory(&self) -> directory::DirectoryRows<'_> {
        directory::DirectoryRows(self)
    }

    pub fn audited_settings(&self) -> audited_settings::AuditedSettingRows<'_> {
        audited_settings::AuditedSettingRows(self)
    }

    pub fn api_tokens(&self) -> api_tokens::ApiTokenRows<'_> {
        api_tokens::ApiTokenRows(self)
    }

    /// The pool itself, for blocking callers that are already off the async executor (the key
    /// store, which runs in commands and in `spawn_blocking`).
    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }

    /// Runs `f` with a pooled connection on the blocking thread pool: the building block of
    /// every repository method, and the way to run several queries in one transaction. The
    /// answer comes within the configured timeout whatever the database does: a call that
    /// takes longer is answered with [`DbError::Timeout`] (its thread finishes, or fails, on its
    /// own when the database answers or the socket gives up).
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, DbError> + Send + 'static,
    {
        self.bounded(self.timeout, move |pool| {
            let mut conn = pool.get().map_err(|_| DbError::PoolTimeout)?;
            f(&mut conn.conn)
        })
        .await
    }

    /// Used by `/readyz`: a round trip to the database within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), DbError> {
        self.bounded(timeout, move |pool| {
            let mut conn = pool
                .get_timeout(timeout)
                .map_err(|_| DbError::PoolTimeout)?;
            conn.ping().map_err(DbError::Query)
        })
        .await
    }

    async fn bounded<T, F>(&self, timeout: Duration, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Pool) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let deadline = std::time::Instant::now() + timeout;
        let task = crate::blocking::spawn(move || {
            DEADLINE.set(Some(deadline));
            let result = f(&pool);
            DEADLINE.set(None);
            result
        });
        let result = match tokio::time::timeout(timeout, task).await {
            Ok(joined) => joined.map_err(|e| DbError::Blocking(e.to_string()))?,
            Err(_) => Err(DbError::Timeout),
        };
        match &result {
            Err(e) if e.is_outage() => {
                self.outage.failed(e);
            }
            Err(_) => {}
            Ok(_) => {
                self.outage.answered();
            }
        }
        result
    }

    /// Applies pending migrations (blocking; start-up and `migrate` only).
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        migrate(&self.pool)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection became free in time")]
    PoolTimeout,
    #[error("the database did not answer in time")]
    Timeout,
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("blocking task failed: {0}")]
    Blocking(String),
}

impl DbError {
    /// The database could not be reached, or the connection was lost: nothing the request did
    /// wrong, and worth trying again shortly (503, not 500).
    pub fn is_outage(&self) -> bool {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match self {
            DbError::PoolTimeout | DbError::Timeout => true,
            DbError::Query(E::BrokenTransactionManager | E::RollbackErrorOnCommit { .. }) => true,
            DbError::Query(E::DatabaseError(kind, info)) => match kind {
                K::ClosedConnection | K::UnableToSendCommand | K::SerializationFailure => true,
                K::Unknown => {
                    let message = info.message().to_ascii_lowercase();
                    [
                        "connection",
                        "terminating",
                        "statement timeout",
                        "could not receive",
                        "could not send",
                        "ssl",
                        "eof",
                        "database is locked",
                        "server closed",
                        "timeout",
                    ]
                    .iter()
                    .any(|m| message.contains(m))
                }
                _ => false,
            },
            _ => false,
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Opens connections of the configured backend only. (`MultiConnection::establish` would try
/// every backend in turn, and SQLite accepts any string as a file name.)
#[derive(Debug)]
pub struct Manager {
    backend: DatabaseBackend,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<Pooled, diesel::ConnectionError> {
        Ok(Pooled {
            conn: self.open()?,
            last_checkout: std::time::Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), diesel::ConnectionError> {
        let now = std::time::Instant::now();
        let idle = now.duration_since(pooled.last_checkout);
        pooled.last_checkout = now;
        if idle < PING_AFTER_IDLE {
            return Ok(());
        }
        pooled
            .conn
            .ping()
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.conn.is_broken()
    }
}

impl Manager {
    fn open(&self) -> Result<AnyConnection, diesel::ConnectionError> {
        match &self.backend {
            DatabaseBackend::Postgres { url } => {
                let mut conn = PgConnection::establish(&bounded_url(url, self.connect_timeout))?;
                // The server cancels a statement that runs longer than a request may wait.
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}",
                    self.statement_timeout.as_millis()
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Postgresql(conn))
            }
            DatabaseBackend::Sqlite { path } => {
                let path = path.to_string_lossy();
                let mut conn = SqliteConnection::establish(&path)?;
                // WAL lets readers proceed during a write; busy_timeout makes writers wait for
                // each other instead of failing; foreign keys are off by default in SQLite.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

/// How the pool is used: a server keeps a connection ready; a command opens what it needs when
/// it needs it, so no pool thread is still opening a connection when the process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolUse {
    Server,
    Command,
}

/// Builds the pool after one direct connection attempt, so that start-up reports the
/// database's own reason (with the setting to fix) rather than a generic pool timeout.
pub fn connect(settings: &DatabaseSettings, usage: PoolUse) -> anyhow::Result<Db> {
    use r2d2::ManageConnection;
    if let DatabaseBackend::Sqlite { path } = &settings.backend {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("DATABASE_URL: cannot create {}: {e}", dir.display())
            })?;
        }
    }
    let manager = Manager {
        backend: settings.backend.clone(),
        connect_timeout: settings.connect_timeout,
        statement_timeout: settings.query_timeout,
    };
    manager
        .connect()
        .and_then(|mut c| {
            c.ping()
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
        })
        .map_err(|e| anyhow::anyhow!("{}", describe_connect_error(settings, &e)))?;
    Ok(Db::new(
        r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .connection_timeout(settings.connect_timeout.min(settings.query_timeout))
            .min_idle(Some(u32::from(usage == PoolUse::Server)))
            .build_unchecked(manager),
        settings.query_timeout,
    ))
}

fn describe_connect_error(settings: &DatabaseSettings, e: &diesel::ConnectionError) -> String {
    match &settings.backend {
        DatabaseBackend::Postgres { url } => format!(
            "DATABASE_URL: cannot connect to {} ({}); check the URL and that Postgres is running",
            redact(url),
            e.to_string().lines().next().unwrap_or("no answer").trim()
        ),
        DatabaseBackend::Sqlite { path } => format!(
            "DATABASE_URL: cannot open SQLite file {} ({e}); check the path and its permissions",
            path.display()
        ),
    }
}

thread_local! {
    /// When the caller of the running [`Db::run`] stops waiting for its answer.
    static DEADLINE: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` in a transaction (on SQLite, one that holds the write lock from its start) that
/// commits only if the caller is still waiting for the answer:
/// a call that outlived its timeout (the caller was told 503) rolls back instead of writing
/// after the fact.
pub fn transaction<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    conn.transaction::<_, DbError, _>(|conn| {
        if let AnyConnection::Sqlite(sqlite) = conn {
            // Take SQLite's write lock now: a transaction that reads before it writes cannot
            // upgrade its lock while another writer commits (SQLITE_BUSY without waiting).
            diesel::sql_query("UPDATE users SET id = id WHERE 0").execute(sqlite)?;
        }
        let value = f(conn)?;
        match DEADLINE.get() {
            Some(deadline) if std::time::Instant::now() >= deadline => Err(DbError::Timeout),
            _ => Ok(value),
        }
    })
}

/// The Postgres URL with libpq's own bounds added where the operator set none: a connect
/// timeout, and TCP keepalives plus a user timeout so that a peer that vanished is noticed.
fn bounded_url(url: &str, connect_timeout: Duration) -> String {
    let secs = connect_timeout.as_secs().max(1);
    let mut url = url.to_string();
    for (key, value) in [
        ("connect_timeout", secs.to_string()),
        ("keepalives", "1".to_string()),
        ("keepalives_idle", "10".to_string()),
        ("keepalives_interval", "5".to_string()),
        ("keepalives_count", "2".to_string()),
        ("tcp_user_timeout", (secs * 1000 * 2).to_string()),
    ] {
        if !url.contains(&format!("{key}=")) {
            let sep = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{sep}{key}={value}");
        }
    }
    url
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    if url.contains(',') {
        // Sentinels or Cluster seed nodes: each URL on its own.
        return url.split(',').map(redact).collect::<Vec<_>>().join(",");
    }
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "the configured URL".to_string(),
    }
}

/// Applies pending migrations; on Postgres under an advisory lock.
fn migrate(pool: &Pool) -> Result<Vec<String>, DbError> {
    let mut conn = pool.get().map_err(|_| DbError::PoolTimeout)?;
    let applied = match &mut conn.conn {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(pg)?;
            let result = pg
                .run_pending_migrations(PG_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
                .map_err(|e| DbError::Migration(e.to_string()));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(pg)?;
            result?
        }
        AnyConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
            .map_err(|e| DbError::Migration(e.to_string()))?,
    };
    Ok(applied)
}
