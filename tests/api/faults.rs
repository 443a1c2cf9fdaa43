//! Failing infrastructure: the service's own Redis and a TCP proxy in front of Postgres that
//! can stall, refuse and cut connections. Whatever fails, every answer comes within a bounded
//! time, as JSON 503 (or 429), never 500, nothing is half-written, and the service recovers by
//! itself.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{
    create_pg_database, scratch_dir, spawn_with, Backend, Reply, TestApp, TestConfig,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes flow both ways.
    Pass,
    /// Connections are accepted and bytes are read, but nothing is passed on: a silent peer.
    Stall,
    /// New connections are closed at once (with a reset).
    Refuse,
}

/// A TCP proxy to a real service whose behaviour the test switches at will.
pub struct FaultProxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

impl FaultProxy {
    pub async fn start(target: String) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (mode, watching) = watch::channel(Mode::Pass);
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let spawned = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if *watching.borrow() == Mode::Refuse {
                    drop(inbound);
                    continue;
                }
                let (target, watching) = (target.clone(), watching.clone());
                let task = tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let (ri, wi) = inbound.into_split();
                    let (ro, wo) = outbound.into_split();
                    tokio::select! {
                        _ = pump(ri, wo, watching.clone()) => {}
                        _ = pump(ro, wi, watching) => {}
                    }
                });
                spawned.lock().expect("lock").push(task);
            }
        });
        FaultProxy {
            port,
            mode,
            connections,
            accept,
        }
    }

    pub fn set(&self, mode: Mode) {
        let _ = self.mode.send(mode);
    }

    /// The service goes away: new connections are refused, open ones cut.
    pub fn go_away(&self) {
        self.set(Mode::Refuse);
        self.cut();
    }

    /// Drops every open connection (the service sees them lost mid-stream).
    pub fn cut(&self) {
        for task in self.connections.lock().expect("lock").drain(..) {
            task.abort();
        }
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while *mode.borrow_and_update() == Mode::Stall {
            if mode.changed().await.is_err() {
                return;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Starts a `redis-server` command and waits until it listens on `port` (10 s at most).
pub fn start_redis(mut cmd: Command, port: u16) -> Child {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed (the test command installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// A `redis-server` of the test's own, on a free port, that the test can pause, kill and
/// start again (empty).
pub struct OwnRedis {
    pub port: u16,
    child: Child,
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.signal("CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OwnRedis {
    pub fn start() -> OwnRedis {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Self::on(port)
    }

    pub fn on(port: u16) -> OwnRedis {
        let dir = scratch_dir("redis");
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir);
        let child = start_redis(cmd, port);
        OwnRedis { port, child }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
    }

    pub fn pause(&self) {
        self.signal("STOP");
    }

    pub fn resume(&self) {
        self.signal("CONT");
    }
}

/// The reply and how long it took.
async fn timed<F: std::future::Future<Output = Reply>>(call: F) -> (Reply, Duration) {
    let start = Instant::now();
    let reply = call.await;
    (reply, start.elapsed())
}

/// A fault's answer: within `bound`, and a JSON 503 `temporarily_unavailable` with Retry-After.
#[track_caller]
fn unavailable_within(reply: &Reply, took: Duration, bound: Duration, what: &str) {
    // Shown with --nocapture: the measured table of the faults.
    println!("fault: {what}: {} after {took:?}", reply.status);
    assert!(
        took <= bound,
        "{what}: answered after {took:?} (bound {bound:?})"
    );
    reply.assert_error(503, "temporarily_unavailable");
    assert!(
        reply.headers.contains_key("retry-after"),
        "{what}: Retry-After on a 503"
    );
}

/// Polls until `check` passes or `within` has gone by.
async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Short bounds, so the faults show quickly.
fn short_timeouts(config: TestConfig) -> TestConfig {
    config
        .with("PASSKEY_IDP__DATABASE__CONNECT_TIMEOUT_SECS", "1")
        .with("PASSKEY_IDP__DATABASE__QUERY_TIMEOUT_SECS", "2")
        .with("PASSKEY_IDP__REDIS__CONNECT_TIMEOUT_SECS", "1")
        .with("PASSKEY_IDP__REDIS__COMMAND_TIMEOUT_SECS", "1")
        .with("PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE", "0")
        .with("PASSKEY_IDP__RATE_LIMIT__OAUTH_PER_MINUTE", "0")
}

/// An app whose Postgres is reached through a fault proxy; the direct URL is returned too.
async fn behind_proxy(redis: &OwnRedis) -> (TestApp, FaultProxy, String) {
    let direct = create_pg_database();
    let name = direct.rsplit('/').next().expect("db name").to_string();
    let proxy = FaultProxy::start("127.0.0.1:5432".to_string()).await;
    let app = spawn_with(TestConfig {
        database_url: Some(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            proxy.port
        )),
        ..short_timeouts(TestConfig::new(Backend::Postgres)).with("REDIS_URL", &redis.url())
    })
    .await;
    (app, proxy, direct)
}

/// Whether `username` exists, and if so whether their credential does too (read directly, not
/// through the proxy): an account is written whole or not at all.
fn account(direct_url: &str, username: &str) -> Option<bool> {
    use diesel::Connection;
    let conn = diesel::pg::PgConnection::establish(direct_url).expect("direct connection");
    let mut conn = passkey_idp::db::AnyConnection::Postgresql(conn);
    let user = passkey_idp::db::users::find_by_username(&mut conn, username).expect("query")?;
    let creds = passkey_idp::db::credentials::for_user(&mut conn, &user.id).expect("query");
    Some(!creds.is_empty())
}

/// Begins a registration and has `device` answer it; returns the finish body.
async fn registration(app: &TestApp, username: &str, device: &mut SoftAuthenticator) -> Value {
    let options = app.register_begin(json!({ "username": username })).await;
    device
        .create(options.assert_ok(), &app.origin, &Tamper::default())
        .expect("create")
}

async fn ready(app: &TestApp) -> bool {
    app.get("/readyz").await.status == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_refusing_postgres_gives_bounded_503s_and_the_service_recovers() {
    let redis = OwnRedis::start();
    let (app, proxy, direct) = behind_proxy(&redis).await;
    let bound = Duration::from_millis(3500); // query timeout (2 s) plus room
    let mut alice = SoftAuthenticator::synced();
    app.sign_up("alice", &mut alice).await;
    let mut bob = SoftAuthenticator::synced();
    let bob_finish = registration(&app, "bob", &mut bob).await;

    // Stalled: connections stay open and silent.
    proxy.set(Mode::Stall);
    let (r, took) = timed(app.register_finish(&bob_finish)).await;
    unavailable_within(&r, took, bound, "register/finish, Postgres stalled");
    let (r, took) = timed(app.login_begin(json!({"username": "alice"}))).await;
    unavailable_within(&r, took, bound, "login/begin, Postgres stalled");
    let (r, took) = timed(app.get("/readyz")).await;
    assert!(took <= Duration::from_millis(2600), "/readyz took {took:?}");
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["checks"]["database"], "unavailable");

    proxy.set(Mode::Pass);
    assert!(
        eventually(Duration::from_secs(15), || ready(&app)).await,
        "recovers after a stall"
    );
    // The stalled registration was answered 503, so it must not have been written after all.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        account(&direct, "bob"),
        None,
        "a 503'd registration left nothing behind"
    );
    app.sign_in(Some("alice"), &mut alice).await.assert_ok();

    // Refused: new connections are reset, open ones cut.
    proxy.set(Mode::Refuse);
    proxy.cut();
    let (r, took) = timed(app.login_begin(json!({"username": "alice"}))).await;
    unavailable_within(&r, took, bound, "login/begin, Postgres refusing");
    let (r, took) = timed(app.register_begin(json!({"username": "bob"}))).await;
    unavailable_within(&r, took, bound, "register/begin, Postgres refusing");

    proxy.set(Mode::Pass);
    assert!(
        eventually(Duration::from_secs(15), || ready(&app)).await,
        "recovers after refusals"
    );
    let mut bob = SoftAuthenticator::synced();
    let finish = registration(&app, "bob", &mut bob).await;
    app.register_finish(&finish).await.assert_ok();
    assert_eq!(account(&direct, "bob"), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_during_register_finish_never_give_500_or_half_an_account() {
    let redis = OwnRedis::start();
    let (app, proxy, direct) = behind_proxy(&redis).await;
    let bound = Duration::from_millis(3500);
    for (round, delay_ms) in [0u64, 1, 2, 4, 8, 16, 32].into_iter().enumerate() {
        let name = format!("user{round}");
        let mut device = SoftAuthenticator::synced();
        let finish = registration(&app, &name, &mut device).await;
        let started = Instant::now();
        let call = app.register_finish(&finish);
        let cutter = async {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            proxy.cut();
        };
        let (reply, ()) = tokio::join!(call, cutter);
        let took = started.elapsed();
        assert!(took <= bound, "round {round}: answered after {took:?}");
        match reply.status.as_u16() {
            200 => assert_eq!(account(&direct, &name), Some(true), "round {round}"),
            503 => {
                reply.assert_error(503, "temporarily_unavailable");
                assert_ne!(
                    account(&direct, &name),
                    Some(false),
                    "round {round}: half an account"
                );
            }
            other => panic!("round {round}: {other} {}", reply.body),
        }
        assert!(
            eventually(Duration::from_secs(10), || ready(&app)).await,
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_killed_or_emptied_redis_gives_bounded_503s_and_the_service_recovers() {
    let redis = OwnRedis::start();
    let app = spawn_with(
        short_timeouts(TestConfig::new(Backend::Postgres)).with("REDIS_URL", &redis.url()),
    )
    .await;
    let mut alice = SoftAuthenticator::synced();
    app.sign_up("alice", &mut alice).await;
    let bound = Duration::from_millis(2500); // command timeout (1 s) plus room

    redis.pause();
    let (r, took) = timed(app.login_begin(json!({}))).await;
    unavailable_within(&r, took, bound, "login/begin, Redis paused");
    let (r, took) = timed(app.get("/account/credentials")).await;
    unavailable_within(&r, took, bound, "account, Redis paused");
    let (r, took) = timed(app.get("/readyz")).await;
    assert!(took <= Duration::from_millis(2600), "/readyz took {took:?}");
    assert_eq!(r.body["checks"]["challenge_store"], "unavailable");
    redis.resume();
    assert!(
        eventually(Duration::from_secs(10), || ready(&app)).await,
        "recovers after a pause"
    );
    app.get("/account/credentials").await.assert_ok();

    // Killed: a refused connection fails at once.
    let port = redis.port;
    drop(redis);
    let (r, took) = timed(app.login_begin(json!({}))).await;
    unavailable_within(
        &r,
        took,
        Duration::from_millis(1500),
        "login/begin, Redis down",
    );

    // Back, but empty: sessions are gone, everything else works.
    let _redis = OwnRedis::on(port);
    assert!(
        eventually(Duration::from_secs(10), || ready(&app)).await,
        "recovers after a restart"
    );
    app.get("/account/credentials")
        .await
        .assert_error(401, "login_required");
    app.sign_in(Some("alice"), &mut alice).await.assert_ok();
}
