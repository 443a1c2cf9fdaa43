//! The real binary as an operator runs it: what it logs, and how it stops.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{create_pg_database, new_client, redis_url, reply, scratch_dir};

/// The binary running as a server on a free port, killed when dropped (a failing test leaves
/// no process behind).
pub struct Server {
    child: Child,
    pub base: String,
    pub origin: String,
    /// Where the process writes its log (a file, so a busy server never blocks on a full pipe).
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    pub fn start(extra_env: &[(&str, &str)]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = scratch_dir("proc");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_passkey-idp"));
        cmd.arg("serve")
            .current_dir(&dir)
            .env(
                "PASSKEY_IDP_CONFIG",
                std::env::current_dir()
                    .expect("cwd")
                    .join("config/default.toml"),
            )
            .env("PASSKEY_IDP_LISTEN", format!("127.0.0.1:{port}"))
            .env("PASSKEY_IDP_ISSUER", format!("http://localhost:{port}"))
            .env("PASSKEY_IDP__SERVER__WORKERS", "1")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr.log")).expect("log file"),
            ));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start passkey-idp");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            origin: format!("http://localhost:{port}"),
            log: dir.join("stderr.log"),
        };
        // The port is bound before start-up finishes (keys, migrations); wait for an answer.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers_health(port) {
            assert!(
                Instant::now() < deadline,
                "passkey-idp did not start serving"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub async fn get(&self, path: &str) -> crate::helpers::Reply {
        reply(
            reqwest::get(format!("{}{path}", self.base))
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: &Value,
    ) -> crate::helpers::Reply {
        reply(
            client
                .post(format!("{}{path}", self.base))
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub fn signal_term(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
    }

    /// Waits for the process to exit; returns its status and everything it wrote to stderr.
    pub fn wait_exit(mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "passkey-idp did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let log = std::fs::read_to_string(&self.log).expect("server log");
        (status, log)
    }
}

/// Whether `GET /healthz` on the port answers 200.
fn answers_health(port: u16) -> bool {
    use std::io::Write;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn cookie_values(reply: &crate::helpers::Reply) -> Vec<String> {
    reply
        .set_cookies()
        .iter()
        .filter_map(|c| c.split(';').next())
        .filter_map(|kv| kv.split_once('=').map(|(_, v)| v.to_string()))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Runs whole ceremonies against the binary with debug logging on, then checks that the log
/// has the security events and none of the secrets that passed through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_have_security_events_and_no_secrets() {
    let db = create_pg_database();
    let redis = redis_url();
    let prefix = format!("pkidp-test:{}:", uuid::Uuid::new_v4().simple());
    let server = Server::start(&[
        ("DATABASE_URL", db.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("PASSKEY_IDP__REDIS__KEY_PREFIX", prefix.as_str()),
        ("PASSKEY_IDP__LOG__FORMAT", "json"),
        ("PASSKEY_IDP__LOG__LEVEL", "trace"),
    ]);
    let client = new_client();
    let mut device = SoftAuthenticator::new();
    let email = "very.private@example.com";
    let mut secrets: Vec<String> = vec![email.to_string()];

    let begin = server
        .post(
            &client,
            "/webauthn/register/begin",
            &json!({"username": "olivia", "email": email}),
        )
        .await;
    let options = begin.assert_ok().clone();
    secrets.push(
        options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge")
            .to_string(),
    );
    secrets.extend(cookie_values(&begin));
    let response = device
        .create(&options, &server.origin, &Tamper::default())
        .expect("create");
    let finish = server
        .post(&client, "/webauthn/register/finish", &response)
        .await;
    secrets.push(
        finish.assert_ok()["access_token"]
            .as_str()
            .expect("token")
            .to_string(),
    );
    secrets.extend(cookie_values(&finish));

    let begin = server
        .post(
            &client,
            "/webauthn/login/begin",
            &json!({"username": "olivia"}),
        )
        .await;
    let options = begin.assert_ok().clone();
    secrets.push(
        options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge")
            .to_string(),
    );
    secrets.extend(cookie_values(&begin));
    let bad = Tamper {
        flip_signature_byte: true,
        ..Tamper::default()
    };
    let assertion = device.get(&options, &server.origin, &bad).expect("get");
    server
        .post(&client, "/webauthn/login/finish", &assertion)
        .await
        .assert_error(401, "invalid_signature");

    let begin = server
        .post(&client, "/webauthn/login/begin", &json!({}))
        .await;
    let options = begin.assert_ok().clone();
    secrets.push(
        options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge")
            .to_string(),
    );
    let assertion = device
        .get(&options, &server.origin, &Tamper::default())
        .expect("get");
    let login = server
        .post(&client, "/webauthn/login/finish", &assertion)
        .await;
    secrets.push(
        login.assert_ok()["access_token"]
            .as_str()
            .expect("token")
            .to_string(),
    );
    secrets.extend(cookie_values(&login));

    server.signal_term();
    let (status, log) = server.wait_exit();
    assert!(
        status.success(),
        "graceful stop on SIGTERM: {status}\n{log}"
    );
    let events: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let has = |event: &str, reason: Option<&str>| {
        events
            .iter()
            .any(|e| e["event"] == event && reason.is_none_or(|r| e["reason"] == r))
    };
    assert!(has("passkey_added", None), "sign-up event:\n{log}");
    assert!(
        has("signin_failure", Some("invalid_signature")),
        "failure event with its reason:\n{log}"
    );
    assert!(has("signin_success", None), "success event:\n{log}");
    // Every line a request causes names it: its span has the request id, the route and, once
    // the request proved who it is, the user; the event reported during the finish sits in it.
    let request_span = |e: &Value| -> Option<Value> {
        e["spans"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == "request")
            .cloned()
    };
    let finished = events
        .iter()
        .find(|e| e["route"] == "/webauthn/login/finish" && e["status"] == 200)
        .expect("the finish's request line");
    let span = request_span(finished).unwrap_or_else(|| finished["span"].clone());
    assert_eq!(span["route"], "/webauthn/login/finish", "{finished}");
    assert!(
        span["user_id"].as_str().is_some_and(|u| !u.is_empty()),
        "{finished}"
    );
    let success = events
        .iter()
        .find(|e| e["event"] == "signin_success")
        .expect("the success event");
    let in_request = request_span(success).expect("the event's request span");
    assert_eq!(in_request["request_id"], span["request_id"], "{success}");
    assert!(events
        .iter()
        .any(|e| e["route"] == "/webauthn/login/finish" && e["status"] == 401));
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {secret}");
        assert!(
            !log.contains(secret.as_str()),
            "the log contains a secret ({}…)",
            &secret[..8]
        );
    }
}

/// A request that is in flight when SIGTERM arrives is still answered, and the process then
/// exits cleanly.
#[test]
fn sigterm_lets_in_flight_requests_finish() {
    use std::io::Write;
    let server = Server::start(&[]);
    let port = server.base.rsplit(':').next().expect("port").to_string();
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // Headers now, the body only after the signal: the request is in flight meanwhile.
    write!(
        stream,
        "POST /webauthn/login/begin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
    )
    .expect("headers");
    std::thread::sleep(Duration::from_millis(300));
    server.signal_term();
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(b"{}").expect("body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (exit, log) = server.wait_exit();
    assert!(exit.success(), "{exit}\n{log}");
}

/// `passkey-idp healthcheck`, what the container image runs: 0 while the server on
/// `server.listen` is ready (0.0.0.0 meaning loopback), non-zero with one line otherwise.
#[test]
fn the_healthcheck_command_asks_readyz() {
    let server = Server::start(&[]);
    let port = server.base.rsplit(':').next().expect("port").to_string();
    let healthy = crate::helpers::run_cli(
        &["healthcheck"],
        &[("PASSKEY_IDP_LISTEN", &format!("0.0.0.0:{port}"))],
    );
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    drop(server);
    let started = Instant::now();
    let down = crate::helpers::run_cli(
        &["healthcheck"],
        &[("PASSKEY_IDP_LISTEN", &format!("127.0.0.1:{port}"))],
    );
    assert!(!down.status.success());
    assert!(started.elapsed() < Duration::from_secs(6));
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no answer"), "{stderr}");
}
