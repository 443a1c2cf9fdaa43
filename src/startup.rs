//! Building the application: connect and migrate the database, connect the challenge store,
//! load the signing keys, bind the listener (port 0 works, for tests), then serve.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use webauthn_rs_core::WebauthnCore;

use crate::account::Accounts;
use crate::ceremony::Passkeys;
use crate::db::{self, Db};
use crate::ephemeral::{Ephemeral, MemoryStore, RedisStore};
use crate::ephemeral::{MemoryStoreSettings, RedisSettings};
use crate::maintenance::Schedule;
use crate::metadata::AuthenticatorNames;
use crate::metrics::Metrics;
use crate::oidc::Client;
use crate::oidc::{Clients, Provider};
use crate::rate_limit::RateLimits;
use crate::server::Site;
use crate::session::Sessions;
use crate::settings::{DatabaseSettings, Settings, WebauthnSettings};
use crate::signing::sealed::Kek;
use crate::signing::{rotation, KeyAlg, KeyRing, KeyStore, TokenIssuer};
use crate::signing::{KeySettings, KeyStoreKind};
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(settings.server.listen).with_context(|| {
            format!(
                "PASSKEY_IDP_LISTEN: cannot bind {} (in use, or not an address of this machine)",
                settings.server.listen
            )
        })?;
        Self::build_on(settings, listener).await
    }

    /// Like [`Application::build`] on a listener bound by the caller (tests bind port 0 first,
    /// so that the issuer can name the port).
    pub async fn build_on(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let state = build_state(settings).await?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, state.clone())?;
        tracing::info!(
            issuer = %state.settings.server.site.issuer,
            port,
            store = state.store.backend_name(),
            "passkey-idp is listening"
        );
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until SIGINT or SIGTERM, then finishes in-flight requests (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Redis 7.0 brought `PEXPIRE … NX`, which the rate limits rely on.
const MIN_REDIS: (u32, u32) = (7, 0);

/// Redis when `REDIS_URL` names one, else the in-process store.
pub async fn connect_store(
    redis: &RedisSettings,
    memory: &MemoryStoreSettings,
) -> anyhow::Result<Ephemeral> {
    let Some(url) = &redis.url else {
        return Ok(Ephemeral::memory(MemoryStore::new(
            memory.max_entries,
            memory.max_bytes,
        )));
    };
    let unreachable = |e: crate::ephemeral::StoreError| {
        anyhow::anyhow!(
            "REDIS_URL: cannot reach {} ({e}); check the URL and that Redis is running",
            db::redact(url)
        )
    };
    let urls: Vec<String> = url.split(',').map(str::to_string).collect();
    let store = RedisStore::connect(
        &redis.mode,
        &urls,
        &redis.key_prefix,
        (
            redis.connect_timeout,
            redis.command_timeout,
            redis.replica_ack_timeout,
        ),
    )
    .await
    .map_err(unreachable)?;
    match store.version().await.map_err(unreachable)? {
        Some(v) if v >= MIN_REDIS => {}
        found => anyhow::bail!(
            "REDIS_URL: {} runs Redis {}; passkey-idp needs Redis {}.{} or newer",
            db::redact(url),
            found.map_or("of an unknown version".to_string(), |(a, b)| format!(
                "{a}.{b}"
            )),
            MIN_REDIS.0,
            MIN_REDIS.1
        ),
    }
    Ok(Ephemeral::redis(store, redis.command_timeout))
}

/// Connects the database (blocking, so off the async executor) and applies migrations.
pub async fn connect_database(
    settings: &DatabaseSettings,
    usage: db::PoolUse,
) -> anyhow::Result<Db> {
    let settings = settings.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = db::connect(&settings, usage)?;
        let applied = db.migrate().context("DATABASE_URL: migrations failed")?;
        for m in applied {
            tracing::info!(migration = %m, "applied database migration");
        }
        Ok(db)
    })
    .await
    .context("database start-up task failed")?
}

pub fn webauthn(site: &Site, settings: &WebauthnSettings) -> anyhow::Result<WebauthnCore> {
    let mut origins = vec![url::Url::parse(&site.issuer).context("PASSKEY_IDP_ISSUER")?];
    for origin in &settings.allowed_origins {
        origins.push(url::Url::parse(origin).context("webauthn.allowed_origins")?);
    }
    Ok(WebauthnCore::new_unsafe_experts_only(
        &site.rp_name,
        &site.rp_id,
        origins,
        settings.challenge_ttl,
        Some(false),
        Some(false),
    ))
}

/// The key set's store (`keys.store`). The database store gets the KEK if one is given; what
/// needs it and finds none says so in one line.
pub fn key_store(settings: &KeySettings, db: Option<&Db>) -> anyhow::Result<KeyStore> {
    match settings.store {
        KeyStoreKind::Dir => Ok(KeyStore::Dir(settings.dir.clone())),
        KeyStoreKind::Database => {
            let db =
                db.ok_or_else(|| anyhow::anyhow!("keys.store = \"database\" needs the database"))?;
            let kek = Kek::from_env_or_file(settings.kek_file.as_deref())?;
            Ok(KeyStore::database(
                db.pool(),
                kek,
                settings.kek_file.clone(),
            ))
        }
    }
}

/// Loads the key set (creating the first key on a fresh start), makes sure every algorithm in
/// use has an active key, and keeps it current: reloads, and scheduled rotation if configured.
async fn load_keys(
    settings: &KeySettings,
    required: KeyAlg,
    declared: &HashMap<String, Client>,
    db: &Db,
    instance_id: &str,
) -> anyhow::Result<KeyRing> {
    let store = Arc::new(key_store(settings, Some(db))?);
    // ID tokens are RS256 unless a client asks for another algorithm (OpenID Connect's
    // default); every algorithm a client uses needs an active key.
    let mut algs = vec![required, KeyAlg::RS256];
    algs.extend(declared.values().map(|c| c.id_token_alg));
    let s = store.clone();
    let (keys, created) = tokio::task::spawn_blocking(move || {
        // Every key made here is stored as a `key_changed` event. On a first start the set is
        // empty; a set made by the command line before it (`clients add` makes the ID token
        // key) may have no key yet for access tokens.
        let mut created = Vec::new();
        for alg in algs {
            if let Some(e) = rotation::ensure_active(&s, alg, "start-up", chrono::Utc::now())? {
                created.push(e.last_change());
            }
        }
        anyhow::Ok((s.load(required)?, created))
    })
    .await?
    .with_context(|| format!("cannot load the key set from {}", store.describe()))?;
    for change in &created {
        let event = crate::events::Caller::instance(instance_id)
            .event(crate::events::Event::KeyChanged, None, None)
            .object(&change.kid)
            .change(change.detail())
            .detail(format!(
                "start-up made {} in {}, active from now",
                change.kid,
                store.describe()
            ));
        crate::events::store(db, event).await?;
    }
    Ok(KeyRing::new(store, required, keys))
}

/// What the services stand on: the database, the challenge store, the declared clients, the
/// key set (kept current) and the secrets every instance shares.
struct Foundation {
    db: Db,
    store: Ephemeral,
    declared: HashMap<String, Client>,
    keys: KeyRing,
    secrets: SharedSecrets,
}

/// HMAC secrets every instance shares, kept with the key set.
struct SharedSecrets {
    /// Keys the made-up credential ids answered for unknown usernames.
    enumeration: Vec<u8>,
    /// Seals waiting authorization requests and tags codes.
    request: Vec<u8>,
    /// Keys the lookup hash of recovery codes.
    recovery: Vec<u8>,
}

async fn foundation(settings: &Settings, instance_id: &str) -> anyhow::Result<Foundation> {
    let db = connect_database(&settings.database, db::PoolUse::Server).await?;
    let store = connect_store(&settings.redis, &settings.memory_store).await?;
    let declared = match &settings.oidc.clients_file {
        Some(path) => crate::oidc::clients::load_file(path).context("oidc.clients_file")?,
        None => HashMap::new(),
    };
    let keys = load_keys(
        &settings.keys,
        settings.tokens.access_token_alg,
        &declared,
        &db,
        instance_id,
    )
    .await?;
    keys.watch(settings.keys.reload_interval);
    let key_store = keys.store().clone();
    let secrets = tokio::task::spawn_blocking(move || {
        let secret = |name: &str| {
            key_store.secret(name).with_context(|| {
                format!(
                    "cannot read the secret {name} from {}",
                    key_store.describe()
                )
            })
        };
        anyhow::Ok(SharedSecrets {
            enumeration: secret("enumeration.secret")?,
            request: secret("request.secret")?,
            recovery: secret("recovery.secret")?,
        })
    })
    .await??;
    Ok(Foundation {
        db,
        store,
        declared,
        keys,
        secrets,
    })
}

/// The services, each with its own section of the settings.
async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let instance_id = instance_id();
    let Foundation {
        db,
        store,
        declared,
        keys,
        secrets,
    } = foundation(&settings, &instance_id).await?;
    audit_settings(&db, &instance_id, &settings).await?;
    let authenticators = AuthenticatorNames::new(settings.metadata.aaguid_file.clone())?;
    authenticators.watch(std::time::Duration::from_secs(10));
    let schedule = Schedule {
        policy: settings.rotation_policy(),
        interval: settings.keys.reload_interval,
        events: settings.events,
    };
    crate::maintenance::start(
        schedule,
        store.clone(),
        db.clone(),
        keys.store().clone(),
        instance_id.clone(),
    );
    let metrics = Arc::new(Metrics::default());
    let sessions = Sessions::new(store.clone(), db.clone(), settings.session.lifetime);
    let limits = RateLimits::new(store.clone(), settings.rate_limit);
    let tokens = TokenIssuer::new(keys.clone(), settings.issuer_config());
    let passkeys = Passkeys {
        webauthn: Arc::new(webauthn(settings.site(), &settings.webauthn)?),
        settings: Arc::new(settings.webauthn.clone()),
        registration: settings.registration.mode,
        db: db.clone(),
        store: store.clone(),
        sessions: sessions.clone(),
        tokens: tokens.clone(),
        limits: limits.clone(),
        metrics: metrics.clone(),
        authenticators: authenticators.clone(),
        enumeration_secret: Arc::new(secrets.enumeration),
    };
    let accounts = Accounts {
        db: db.clone(),
        sessions: sessions.clone(),
        limits: limits.clone(),
        authenticators,
        recovery_key: Arc::new(secrets.recovery),
    };
    let oidc = Provider {
        settings: Arc::new(settings.oidc.clone()),
        issuer: settings.site().issuer.clone(),
        clients: Clients::new(declared, db.clone()),
        db: db.clone(),
        store: store.clone(),
        tokens,
        limits: limits.clone(),
        signer: crate::signed::Signer::new(secrets.request),
    };
    Ok(AppState {
        settings: Arc::new(settings),
        db,
        store,
        keys,
        metrics,
        sessions,
        passkeys,
        accounts,
        oidc,
        limits,
        instance_id,
    })
}

/// Records a `setting_changed` event when this instance starts with another registration mode
/// than the last one did (once, however many instances start with it).
async fn audit_settings(db: &Db, instance_id: &str, settings: &Settings) -> anyhow::Result<()> {
    let mode = settings.registration.mode.name();
    let caller = crate::events::Caller::instance(instance_id);
    let event = move |from: &str| {
        caller
            .event(crate::events::Event::SettingChanged, None, None)
            .object("registration.mode")
            .change(serde_json::json!({"from": from, "to": mode}))
    };
    let row = event.clone();
    let changed = db
        .audited_settings()
        .note(
            "registration.mode",
            mode.to_string(),
            chrono::Utc::now().naive_utc(),
            move |from| row(from).row(),
        )
        .await?;
    if let Some(from) = changed {
        event(&from).report();
    }
    Ok(())
}

/// This process's name in audit events (`instance:ID`) and the key manifest's history: the host
/// name (a pod's name in Kubernetes) and six random hex digits, since two processes may share
/// a host.
fn instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .take(63)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "instance".to_string());
    format!("{host}-{}", &crate::random::hex(&crate::random::bytes(3)))
}

fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let settings = state.settings.clone();
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        let mut headers = DefaultHeaders::new()
            .add(("X-Content-Type-Options", "nosniff"))
            .add(("Referrer-Policy", "no-referrer"))
            .add(("X-Frame-Options", "DENY"))
            .add(("Cross-Origin-Opener-Policy", "same-origin"))
            .add((
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ));
        if data.settings.server.site.secure_cookies() {
            headers = headers.add((
                "Strict-Transport-Security",
                "max-age=31536000; includeSubDomains",
            ));
        }
        App::new()
            .app_data(data.clone())
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                crate::routes::error::ApiError::Request(
                    crate::routes::error::RequestError::BadQuery,
                )
                .into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| {
                crate::routes::error::ApiError::Request(
                    crate::routes::error::RequestError::NotFound,
                )
                .into()
            }))
            .wrap(from_fn(crate::routes::middleware::check_origin))
            .wrap(from_fn(crate::routes::middleware::cors))
            .wrap(headers)
            .wrap(from_fn(crate::routes::middleware::log_request))
            .configure(crate::routes::configure)
            .default_service(web::to(crate::routes::not_found))
    })
    .shutdown_timeout(settings.server.shutdown_timeout.as_secs())
    .client_request_timeout(settings.server.request_timeout)
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .max_connections(settings.server.max_connections_per_worker)
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}
