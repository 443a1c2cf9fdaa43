//! Redis as operators run it: over TLS (`rediss://`) with a password or an ACL user, as one
//! server, as a Cluster of six local `redis-server` processes (three masters, three replicas)
//! and as a Sentinel setup (a master, a replica, three Sentinels), each started by the test on
//! free ports with a certificate of its own CA. The service runs its ceremonies, sessions, codes
//! and rate limits on each. Then a master is killed: every request must answer within 6 s
//! (normally or 503) and sign-ins must work again within 30 s.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::authenticator::SoftAuthenticator;
use crate::helpers::{scratch_dir, spawn_with, Backend, TestApp, TestConfig};
use crate::oidc::{code, redeem, register, REDIRECT};

/// A `redis-server` (or Sentinel) of the test's own, killed when dropped.
struct Node {
    port: u16,
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
    }
}

/// How many times a node ran `WAIT`.
fn waits(tls: &Tls, port: u16) -> u64 {
    cli(tls, port, &["info", "commandstats"])
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_wait:calls="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The password of the default user on every node (and of the Sentinels).
const PASSWORD: &str = "s3cret-redis-pw";

/// A CA and a certificate for localhost and 127.0.0.1 signed by it (made with the `openssl`
/// command line): one for every test of the process, made by the first that needs it.
///
/// The service in this process cannot be told to trust the CA: OpenSSL reads `SSL_CERT_FILE`
/// from the environment, and changing the environment of a running multi-threaded process is
/// undefined behaviour. So the in-process service connects with `#insecure` (TLS without
/// checking the certificate), and `one_redis_over_tls_with_an_acl_user` runs the binary with
/// `SSL_CERT_FILE` set to check that verification works, and fails without it.
struct Tls {
    dir: PathBuf,
}

static TLS: std::sync::OnceLock<Tls> = std::sync::OnceLock::new();

impl Tls {
    fn get() -> &'static Tls {
        TLS.get_or_init(Tls::make)
    }

    fn ca(&self) -> String {
        self.dir.join("ca.crt").display().to_string()
    }

    fn make() -> Tls {
        let dir = scratch_dir("redis-tls");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("the openssl command is installed");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
        ]);
        run(&ca);
        let mut csr = vec!["req"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "redis.key",
            "-out",
            "redis.csr",
            "-subj",
            "/CN=localhost",
        ]);
        run(&csr);
        std::fs::write(
            dir.join("san"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .expect("san");
        run(&[
            "x509",
            "-req",
            "-in",
            "redis.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "redis.crt",
            "-days",
            "2",
            "-extfile",
            "san",
        ]);
        Tls { dir }
    }

    /// The TLS lines of a node's config: TLS only, also between nodes.
    fn config(&self, port: u16) -> String {
        let f = |name: &str| self.dir.join(name).display().to_string();
        format!(
            "port 0\ntls-port {port}\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\ntls-auth-clients no\ntls-replication yes\n",
            f("redis.crt"),
            f("redis.key"),
            f("ca.crt")
        )
    }
}

/// Starts `redis-server` over TLS with a config file holding `config` (plus port, bind,
/// folder and the password).
fn node(tls: &Tls, config: &str, sentinel: bool) -> Node {
    let port = free_port();
    let dir: PathBuf = scratch_dir("redis-node");
    let file = dir.join("redis.conf");
    let auth = if sentinel {
        format!("requirepass {PASSWORD}\n")
    } else {
        format!("requirepass {PASSWORD}\nmasterauth {PASSWORD}\n")
    };
    std::fs::write(
        &file,
        format!(
            "{}bind 127.0.0.1\ndir {}\nlogfile {}\nsave \"\"\nappendonly no\n{auth}{config}\n",
            tls.config(port),
            dir.display(),
            dir.join("redis.log").display()
        ),
    )
    .expect("config");
    let mut cmd = Command::new("redis-server");
    cmd.arg(&file);
    if sentinel {
        cmd.arg("--sentinel");
    }
    Node {
        port,
        child: crate::faults::start_redis(cmd, port),
    }
}

fn cli(tls: &Tls, port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--tls",
            "--cacert",
        ])
        .arg(tls.dir.join("ca.crt"))
        .args(["-a", PASSWORD, "--no-auth-warning"])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The service on `urls` in `mode`, with Postgres.
async fn service(mode: &str, urls: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut config = TestConfig::new(Backend::Postgres)
        .with("REDIS_URL", urls)
        .with("PASSKEY_IDP__REDIS__MODE", mode)
        .with("PASSKEY_IDP__REDIS__COMMAND_TIMEOUT_SECS", "1")
        .with("PASSKEY_IDP__REDIS__CONNECT_TIMEOUT_SECS", "2")
        .with("PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE", "0")
        .with("PASSKEY_IDP__RATE_LIMIT__OAUTH_PER_MINUTE", "8");
    for (k, v) in extra {
        config = config.with(k, v);
    }
    spawn_with(config).await
}

/// Ceremonies, a session, a code and its redemption, and the rate limit, on this Redis.
async fn everything_works(app: &TestApp) -> SoftAuthenticator {
    let mut device = SoftAuthenticator::synced();
    app.sign_up("alice", &mut device).await;
    app.sign_in(None, &mut device).await.assert_ok();
    app.sign_in(Some("alice"), &mut device).await.assert_ok();
    let listed = app.get("/account/credentials").await;
    assert_eq!(listed.assert_ok().as_array().map(Vec::len), Some(1));
    let client = register(app, "app", true, &[REDIRECT], &[]).await;
    let c = code(app, "app").await;
    redeem(app, &client, &c).await.assert_ok();
    let again = redeem(app, &client, &c).await;
    assert_eq!(again.status, 400, "a code is single-use: {:?}", again.body);
    // 8 OAuth requests a minute from one address (3 made above): the count lives in Redis.
    let mut limited = false;
    for _ in 0..10 {
        let res = app
            .client
            .post(app.url("/token"))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .expect("token");
        if res.status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the rate limit never answered 429");
    device
}

/// Kills a master, then signs in every 200 ms: every answer within 6 s and either a sign-in or
/// a 503; sign-ins work again within 30 s. Returns the longest stretch of failures.
async fn survive_failover(
    app: &TestApp,
    device: &mut SoftAuthenticator,
    kill: impl FnOnce(),
) -> Duration {
    kill();
    let killed = Instant::now();
    let mut first_failure: Option<Instant> = None;
    let mut longest = Duration::ZERO;
    let mut successes_after = 0;
    while successes_after < 5 {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "sign-ins did not work again within 30 s"
        );
        let started = Instant::now();
        let begin = app.login_begin(serde_json::json!({})).await;
        let ok = if begin.status == 200 {
            let assertion = device
                .get(&begin.body, &app.origin, &Default::default())
                .expect("get");
            let finish = app.login_finish(&assertion).await;
            assert!(
                finish.status == 200 || finish.status == 503,
                "finish answered {} {:?}",
                finish.status,
                finish.body
            );
            finish.status == 200
        } else {
            assert_eq!(begin.status, 503, "begin answered {:?}", begin.body);
            assert_eq!(begin.body["error"], "temporarily_unavailable");
            false
        };
        assert!(
            started.elapsed() <= Duration::from_secs(6),
            "a sign-in took {:?}",
            started.elapsed()
        );
        if ok {
            if let Some(f) = first_failure.take() {
                longest = longest.max(f.elapsed());
            }
            successes_after += 1;
        } else {
            first_failure.get_or_insert(started);
            successes_after = 0;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    longest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_carries_every_flow_and_survives_losing_a_master() {
    let tls = Tls::get();
    let nodes: Vec<Node> = (0..6)
        .map(|_| {
            node(
                tls,
                "cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout 1000\ntls-cluster yes\nrepl-diskless-sync-delay 0",
                false,
            )
        })
        .collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addrs.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "1", "--cluster-yes"]);
    cli(tls, nodes[0].port, &create);
    for n in &nodes {
        wait_for("the cluster is formed", Duration::from_secs(20), || {
            cli(tls, n.port, &["cluster", "info"]).contains("cluster_state:ok")
        });
        // A replica that never synced may not take over: wait for every link to be up.
        wait_for("the replicas are in sync", Duration::from_secs(20), || {
            let role = cli(tls, n.port, &["info", "replication"]);
            role.contains("role:master") || role.contains("master_link_status:up")
        });
    }
    let urls: Vec<String> = addrs[..3]
        .iter()
        .map(|a| {
            format!(
                "rediss://:{PASSWORD}@{}/#insecure",
                a.replace("127.0.0.1", "localhost")
            )
        })
        .collect();
    let app = service("cluster", &urls.join(","), &[]).await;
    let mut device = everything_works(&app).await;
    // The state really is in the Cluster.
    let keys: usize = nodes
        .iter()
        .filter(|n| cli(tls, n.port, &["role"]).starts_with("master"))
        .map(|n| {
            cli(tls, n.port, &["dbsize"])
                .trim()
                .parse::<usize>()
                .expect("dbsize")
        })
        .sum();
    assert!(keys > 0, "no key in the Cluster");
    let waited: u64 = nodes.iter().map(|n| waits(tls, n.port)).sum();
    assert!(waited > 0, "consumptions are confirmed by a replica (WAIT)");
    // Kill a master (a seed node among them): its replica takes over after the node timeout.
    let master = nodes
        .iter()
        .position(|n| cli(tls, n.port, &["role"]).starts_with("master"))
        .expect("a master");
    let mut nodes = nodes;
    let victim = nodes.remove(master);
    let longest = survive_failover(&app, &mut device, move || drop(victim)).await;
    println!("cluster failover: longest run of failed sign-ins {longest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_is_followed() {
    let tls = Tls::get();
    let master = node(tls, "repl-diskless-sync-delay 0", false);
    let replica = node(tls, &format!("replicaof 127.0.0.1 {}", master.port), false);
    wait_for("the replica is in sync", Duration::from_secs(10), || {
        cli(tls, replica.port, &["info", "replication"]).contains("master_link_status:up")
    });
    let sentinels: Vec<Node> = (0..3)
        .map(|_| {
            node(
                tls,
                &format!(
                    "sentinel monitor idp 127.0.0.1 {} 2\nsentinel auth-pass idp {PASSWORD}\nsentinel down-after-milliseconds idp 1000\nsentinel failover-timeout idp 5000",
                    master.port
                ),
                true,
            )
        })
        .collect();
    let urls: Vec<String> = sentinels
        .iter()
        .map(|s| format!("rediss://:{PASSWORD}@localhost:{}/#insecure", s.port))
        .collect();
    wait_for(
        "the sentinels know each other",
        Duration::from_secs(15),
        || {
            cli(tls, sentinels[0].port, &["sentinel", "master", "idp"])
                .contains("num-other-sentinels\n2")
        },
    );
    let app = service(
        "sentinel",
        &urls.join(","),
        &[("PASSKEY_IDP__REDIS__SENTINEL_MASTER", "idp")],
    )
    .await;
    let mut device = everything_works(&app).await;
    assert!(
        waits(tls, master.port) > 0,
        "consumptions are confirmed by a replica (WAIT)"
    );
    // A replica that is connected but does not acknowledge: a sign-in's consumption of its
    // challenge is not known to survive a failover, so the sign-in fails (503), in bounded time.
    replica.signal("STOP");
    let begin = app.login_begin(serde_json::json!({})).await;
    let assertion = device
        .get(begin.assert_ok(), &app.origin, &Default::default())
        .expect("get");
    let started = Instant::now();
    let finish = app.login_finish(&assertion).await;
    replica.signal("CONT");
    assert_eq!(finish.status, 503, "{:?}", finish.body);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let again = app.login_finish(&assertion).await;
    assert_ne!(
        again.status, 200,
        "the challenge was consumed: {:?}",
        again.body
    );
    app.sign_in(None, &mut device).await.assert_ok();
    let longest = survive_failover(&app, &mut device, move || drop(master)).await;
    println!("sentinel failover: longest run of failed sign-ins {longest:?}");
    drop(replica);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_redis_over_tls_with_an_acl_user() {
    let tls = Tls::get();
    let server = node(
        tls,
        "user default off\nuser idp on >idp-user-pw ~* &* +@all",
        false,
    );
    let url = format!("rediss://idp:idp-user-pw@localhost:{}", server.port);
    let app = service("single", &format!("{url}/#insecure"), &[]).await;
    everything_works(&app).await;

    // The binary checks the server's certificate: trusting the test CA it starts, without it
    // the start stops with one line.
    let ca = tls.ca();
    let trusted = crate::process::Server::start(&[
        ("REDIS_URL", url.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ]);
    trusted.get("/readyz").await.assert_ok();
    drop(trusted);
    let untrusted = crate::helpers::run_cli(
        &["serve"],
        &[
            ("REDIS_URL", url.as_str()),
            ("PASSKEY_IDP_LISTEN", "127.0.0.1:0"),
        ],
    );
    assert!(!untrusted.status.success());
    let refused = String::from_utf8_lossy(&untrusted.stderr);
    assert!(refused.contains("certificate"), "{refused}");

    // A wrong password stops the start with one line, the password not in it.
    let wrong = format!("rediss://idp:not-the-pw@localhost:{}", server.port);
    let out = crate::helpers::run_cli(
        &["serve"],
        &[
            ("REDIS_URL", wrong.as_str()),
            ("SSL_CERT_FILE", ca.as_str()),
            ("PASSKEY_IDP_LISTEN", "127.0.0.1:0"),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.trim_end().lines().last().unwrap_or("");
    assert!(last.contains("REDIS_URL"), "{stderr}");
    assert!(!stderr.contains("not-the-pw"), "{stderr}");
}
