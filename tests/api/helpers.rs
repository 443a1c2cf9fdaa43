//! `spawn_app`: the real server on a random port, with its own database (a fresh Postgres
//! database, or a fresh SQLite file) and its own Redis key prefix (or the in-process store).

use std::net::TcpListener;
use std::path::PathBuf;

use diesel::{Connection, RunQueryDsl};
use passkey_idp::settings::Settings;
use passkey_idp::startup::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Postgres + Redis: the production path.
    Postgres,
    /// SQLite file + in-process store: the embedded default.
    Embedded,
}

pub fn pg_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pkidp-test-{tag}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Creates an empty Postgres database for one test and returns its URL.
pub fn create_pg_database() -> String {
    let name = format!("pkidp_test_{}", uuid::Uuid::new_v4().simple());
    let admin = pg_admin_url();
    let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap_or_else(|e| {
        panic!("Postgres is not reachable at {admin} ({e}); start it or set TEST_DATABASE_URL")
    });
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

pub struct TestConfig {
    pub backend: Backend,
    /// Extra environment-style settings, e.g. ("PASSKEY_IDP__WEBAUTHN__CHALLENGE_TTL_SECS", "1").
    pub env: Vec<(String, String)>,
    /// Reuse this database URL (several instances on one database).
    pub database_url: Option<String>,
    pub keys_dir: Option<PathBuf>,
}

impl TestConfig {
    pub fn new(backend: Backend) -> Self {
        TestConfig {
            backend,
            env: Vec::new(),
            database_url: None,
            keys_dir: None,
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

pub struct TestApp {
    pub address: String,
    /// The WebAuthn origin, `http://localhost:PORT`.
    pub origin: String,
    pub client: reqwest::Client,
    pub app: passkey_idp::state::AppState,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(TestConfig::new(backend)).await
}

/// Settings for a test server listening on `port`, plus the database URL and keys folder used.
pub fn test_settings(config: &TestConfig, port: u16) -> (Settings, String, PathBuf) {
    let scratch = scratch_dir("app");
    let database_url = match (&config.database_url, config.backend) {
        (Some(url), _) => url.clone(),
        (None, Backend::Postgres) => create_pg_database(),
        (None, Backend::Embedded) => format!("sqlite://{}", scratch.join("idp.db").display()),
    };
    let keys_dir = config
        .keys_dir
        .clone()
        .unwrap_or_else(|| scratch.join("keys"));
    let mut env: Vec<(String, String)> = vec![
        (
            "PASSKEY_IDP_ISSUER".into(),
            format!("http://localhost:{port}"),
        ),
        ("PASSKEY_IDP_LISTEN".into(), format!("127.0.0.1:{port}")),
        ("DATABASE_URL".into(), database_url.clone()),
        (
            "PASSKEY_IDP_KEYS_DIR".into(),
            keys_dir.display().to_string(),
        ),
        ("PASSKEY_IDP__SERVER__WORKERS".into(), "2".into()),
        ("PASSKEY_IDP__DATABASE__POOL_SIZE".into(), "4".into()),
        (
            "PASSKEY_IDP__SERVER__SHUTDOWN_TIMEOUT_SECS".into(),
            "1".into(),
        ),
        ("PASSKEY_IDP__LOG__LEVEL".into(), "warn".into()),
    ];
    if config.backend == Backend::Postgres {
        env.push(("REDIS_URL".into(), redis_url()));
        env.push((
            "PASSKEY_IDP__REDIS__KEY_PREFIX".into(),
            format!("pkidp-test:{}:", uuid::Uuid::new_v4().simple()),
        ));
    }
    env.extend(config.env.iter().cloned());
    let settings = Settings::from_sources(Some(std::path::Path::new("config/default.toml")), env)
        .expect("test settings are valid");
    (settings, database_url, keys_dir)
}

pub async fn spawn_with(config: TestConfig) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let port = listener.local_addr().expect("local addr").port();
    let (settings, _, _) = test_settings(&config, port);
    let application = Application::build_on(settings, listener)
        .await
        .expect("the application starts");
    let app = application.state().clone();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        origin: format!("http://localhost:{port}"),
        client: new_client(),
        app,
    }
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// A response's status and JSON body (Null when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<no error field>")
    }

    /// Asserts an error of docs/api.md: this status and code, and a sentence for a person.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.error()),
            (status, code),
            "unexpected reply: {}",
            self.body
        );
        let description = self.body["error_description"].as_str().unwrap_or("");
        assert!(
            description.len() > 10,
            "error_description missing: {}",
            self.body
        );
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "unexpected reply: {}",
            self.body
        );
        &self.body
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("response body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        body,
        headers,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: &Value,
    ) -> Reply {
        reply(
            client
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post_json_with(&self.client, path, body).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        reply(
            self.client
                .post(self.url(path))
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        reply(
            self.client
                .get(self.url(path))
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    pub async fn register_begin(&self, body: Value) -> Reply {
        self.post_json("/webauthn/register/begin", &body).await
    }

    pub async fn register_finish(&self, body: &Value) -> Reply {
        self.post_json("/webauthn/register/finish", body).await
    }

    pub async fn login_begin(&self, body: Value) -> Reply {
        self.post_json("/webauthn/login/begin", &body).await
    }

    pub async fn login_finish(&self, body: &Value) -> Reply {
        self.post_json("/webauthn/login/finish", body).await
    }

    /// A whole sign-up; returns the register/finish reply body.
    pub async fn sign_up(&self, username: &str, authenticator: &mut SoftAuthenticator) -> Value {
        let begin = self.register_begin(json!({ "username": username })).await;
        let options = begin.assert_ok().clone();
        let response = authenticator
            .create(&options, &self.origin, &Tamper::default())
            .expect("authenticator creates a credential");
        self.register_finish(&response).await.assert_ok().clone()
    }

    /// A whole sign-in: username-first when `username` is given, else usernameless.
    pub async fn sign_in(
        &self,
        username: Option<&str>,
        authenticator: &mut SoftAuthenticator,
    ) -> Reply {
        let body = match username {
            Some(u) => json!({ "username": u }),
            None => json!({}),
        };
        let options = self.login_begin(body).await.assert_ok().clone();
        let response = authenticator
            .get(&options, &self.origin, &Tamper::default())
            .expect("authenticator signs");
        self.login_finish(&response).await
    }

    /// Runs a query against this app's database (whichever backend).
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut passkey_idp::db::AnyConnection) -> Result<T, passkey_idp::db::DbError>
            + Send
            + 'static,
    ) -> T {
        self.app.db.run(f).await.expect("test query")
    }
}

/// Runs an async test body once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_memory() {
                super::$name($crate::helpers::Backend::Embedded).await
            }
        }
    };
}

/// Runs the real binary with the repository's config file, from a scratch folder, with no
/// database or Redis URL inherited from the environment.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    cli_command(args, env).output().expect("run passkey-idp")
}

/// The command [`run_cli`] runs, to be spawned with pipes of the test's choosing.
pub fn cli_command(args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    let dir = scratch_dir("cli");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_passkey-idp"));
    cmd.args(args)
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("RUST_LOG")
        .env(
            "PASSKEY_IDP_CONFIG",
            std::env::current_dir()
                .expect("cwd")
                .join("config/default.toml"),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Verifies a JWT against a JWKS document with josekit, a JOSE implementation independent of
/// the one that signed it; checks `exp` too. Returns the claims.
pub fn verify_independently(token: &str, jwks: &Value) -> Result<Value, String> {
    use base64::Engine;
    let header_b64 = token.split('.').next().ok_or("not a JWT")?;
    let header: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or("unreadable header")?;
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let alg = header["alg"].as_str().ok_or("no alg")?;
    let set =
        josekit::jwk::JwkSet::from_bytes(serde_json::to_vec(jwks).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let jwk = *set
        .get(kid)
        .first()
        .ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    if jwk.algorithm() != Some(alg) {
        return Err(format!("the JWK for {kid} is not {alg}"));
    }
    let err = |e: josekit::JoseError| e.to_string();
    let (payload, _) = match alg {
        "ES256" => josekit::jwt::decode_with_verifier(
            token,
            &josekit::jws::ES256.verifier_from_jwk(jwk).map_err(err)?,
        ),
        "RS256" => josekit::jwt::decode_with_verifier(
            token,
            &josekit::jws::RS256.verifier_from_jwk(jwk).map_err(err)?,
        ),
        "EdDSA" => josekit::jwt::decode_with_verifier(
            token,
            &josekit::jws::EdDSA.verifier_from_jwk(jwk).map_err(err)?,
        ),
        other => return Err(format!("unexpected alg {other}")),
    }
    .map_err(err)?;
    let claims = Value::Object(payload.claims_set().clone());
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    if exp < chrono::Utc::now().timestamp() {
        return Err("expired".into());
    }
    Ok(claims)
}

/// The keys of a JSON object, sorted: what a test compares against a documented shape.
pub fn sorted_keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}
