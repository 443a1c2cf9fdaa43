//! Load generator: what users do, against a running server on loopback.
//!
//! Registers `--users` accounts with the test suite's software authenticator, then for
//! `--seconds` runs `--concurrency` workers that each repeat a full sign-in ceremony
//! (`login/begin` + `login/finish`), alternating username-first and discoverable; or, with
//! `--oidc CLIENT_ID:SECRET:REDIRECT_URI`, a signed-in `/authorize` plus the `/token` code
//! exchange. Reports operations/s, latency percentiles, errors, the server's CPU per operation
//! (from `/proc/PID/stat`), the CPU Postgres and Redis spent per operation (all their
//! processes), and the server's idle and peak resident memory.
//!
//! `./scripts/bench.sh` builds and starts the server and runs this on both backends.
//!
//! ```text
//! cargo run --release --example loadgen -- --url http://127.0.0.1:18181 \
//!     --origin http://localhost:18181 --server-pid PID [--users 200] [--concurrency 32] \
//!     [--seconds 15] [--oidc ID:SECRET:REDIRECT]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a measuring tool stops loudly on a broken setup, like the tests whose authenticator it uses"
)]

#[path = "../tests/api/authenticator.rs"]
#[allow(
    dead_code,
    reason = "only part of the test suite's authenticator is used here"
)]
mod authenticator;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authenticator::{SoftAuthenticator, Tamper};
use serde_json::{json, Value};

/// What to run, from the command line.
struct Args {
    url: String,
    origin: String,
    server_pid: Option<u32>,
    users: usize,
    concurrency: usize,
    seconds: u64,
    oidc: Option<(String, String, String)>,
}

fn parse_args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        origin: "http://localhost:8080".into(),
        server_pid: None,
        users: 200,
        concurrency: 32,
        seconds: 15,
        oidc: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--url" => args.url = value(),
            "--origin" => args.origin = value(),
            "--server-pid" => {
                args.server_pid = Some(value().parse().unwrap_or_else(|_| usage("--server-pid")))
            }
            "--users" => args.users = value().parse().unwrap_or_else(|_| usage("--users")),
            "--concurrency" => {
                args.concurrency = value().parse().unwrap_or_else(|_| usage("--concurrency"))
            }
            "--seconds" => args.seconds = value().parse().unwrap_or_else(|_| usage("--seconds")),
            "--oidc" => {
                let v = value();
                let mut parts = v.splitn(3, ':');
                let (Some(id), Some(secret), Some(redirect)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    usage("--oidc CLIENT_ID:SECRET:REDIRECT_URI");
                };
                args.oidc = Some((id.into(), secret.into(), redirect.into()));
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let host = url::Url::parse(&args.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    if !matches!(host.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]")) {
        usage("--url must be a loopback address");
    }
    if args.seconds == 0
        || args.seconds > 300
        || args.concurrency == 0
        || args.concurrency > 512
        || args.users == 0
    {
        usage("--seconds 1..=300, --concurrency 1..=512, --users at least 1");
    }
    args
}

fn usage(problem: &str) -> ! {
    eprintln!("loadgen: {problem}");
    eprintln!("usage: loadgen --url URL --origin ORIGIN [--server-pid PID] [--users N] [--concurrency C] [--seconds D] [--oidc ID:SECRET:REDIRECT]");
    std::process::exit(2)
}

/// CPU time (user + system, in clock ticks) of every process whose name is one of `names`.
fn cpu_ticks_of(names: &[&str]) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| names.iter().any(|n| c.trim() == *n))
        })
        .map(cpu_ticks)
        .sum()
}

fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

fn memory_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value, String> {
    let res = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{status} {}", body["error"]))
    }
}

/// One user: a username and the authenticator holding their passkey.
struct User {
    name: String,
    device: Mutex<SoftAuthenticator>,
}

async fn register(args: &Args, http: &reqwest::Client, i: usize) -> User {
    let name = format!("bench-{}-{i}", std::process::id());
    let begin = post(
        http,
        &format!("{}/webauthn/register/begin", args.url),
        &json!({ "username": name }),
    )
    .await
    .unwrap_or_else(|e| panic!("register/begin: {e}"));
    let mut device = SoftAuthenticator::new();
    let mut response = device
        .create(&begin, &args.origin, &Tamper::default())
        .expect("create");
    response["ceremony"] = begin["ceremony"].clone();
    post(
        http,
        &format!("{}/webauthn/register/finish", args.url),
        &response,
    )
    .await
    .unwrap_or_else(|e| panic!("register/finish: {e}"));
    User {
        name,
        device: Mutex::new(device),
    }
}

/// One full sign-in ceremony, username-first or discoverable.
async fn sign_in(
    args: &Args,
    http: &reqwest::Client,
    user: &User,
    discoverable: bool,
) -> Result<(), String> {
    let body = if discoverable {
        json!({})
    } else {
        json!({ "username": user.name })
    };
    let options = post(http, &format!("{}/webauthn/login/begin", args.url), &body).await?;
    let mut response = {
        let mut device = user.device.lock().map_err(|_| "poisoned".to_string())?;
        device.get(&options, &args.origin, &Tamper::default())?
    };
    response["ceremony"] = options["ceremony"].clone();
    post(
        http,
        &format!("{}/webauthn/login/finish", args.url),
        &response,
    )
    .await
    .map(|_| ())
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A signed-in `/authorize` and the `/token` exchange of its code.
async fn authorize_and_redeem(
    args: &Args,
    jar: &reqwest::Client,
    client: &(String, String, String),
) -> Result<(), String> {
    let (id, secret, redirect) = client;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", redirect),
            ("scope", "openid profile"),
            ("state", "s"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let res = jar
        .get(format!("{}/authorize?{query}", args.url))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string();
    let code = url::Url::parse(&location)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        })
        .ok_or_else(|| format!("no code in {location:?}"))?;
    let res = jar
        .post(format!("{}/token", args.url))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("token: {}", res.status()))
    }
}

/// Latencies (µs) and errors of the measured phase.
#[derive(Default)]
struct Tally {
    latencies: Vec<u64>,
    errors: Vec<String>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Arc::new(parse_args());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("client");

    // Set-up, not measured: the accounts (and, for the OIDC path, one signed-in jar each).
    let next = Arc::new(AtomicUsize::new(0));
    let mut makers = Vec::new();
    for _ in 0..args.concurrency.min(16) {
        let (args, http, next) = (args.clone(), http.clone(), next.clone());
        makers.push(tokio::spawn(async move {
            let mut made = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= args.users {
                    break made;
                }
                made.push(register(&args, &http, n).await);
            }
        }));
    }
    let mut users = Vec::new();
    for m in makers {
        users.extend(m.await.expect("registration task"));
    }
    let users = Arc::new(users);
    let jars: Arc<Vec<reqwest::Client>> = Arc::new(match &args.oidc {
        None => Vec::new(),
        Some(_) => {
            let mut jars = Vec::new();
            for w in 0..args.concurrency {
                let jar = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("jar");
                sign_in(&args, &jar, &users[w % users.len()], false)
                    .await
                    .expect("worker sign-in");
                jars.push(jar);
            }
            jars
        }
    });

    let ticks = clock_ticks_per_second() as f64;
    let idle_kb = args.server_pid.map_or(0, |p| memory_kb(p, "VmRSS:"));
    let server_before = args.server_pid.map_or(0, cpu_ticks);
    let pg_before = cpu_ticks_of(&["postgres"]);
    let redis_before = cpu_ticks_of(&["redis-server"]);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (args, http, users, jars, tally) = (
            args.clone(),
            http.clone(),
            users.clone(),
            jars.clone(),
            tally.clone(),
        );
        workers.push(tokio::spawn(async move {
            // Each worker signs in only its own users: two concurrent assertions of one
            // device-bound passkey would race their counters (and rightly be refused).
            let mine: Vec<usize> = (w..users.len()).step_by(args.concurrency).collect();
            let mut i = 0;
            while Instant::now() < until {
                let t = Instant::now();
                let result = match &args.oidc {
                    Some(client) => authorize_and_redeem(&args, &jars[w], client).await,
                    None => {
                        let user = &users[mine[i % mine.len()]];
                        sign_in(&args, &http, user, i % 2 == 1).await
                    }
                };
                let mut tally = tally.lock().expect("tally");
                match result {
                    Ok(()) => tally.latencies.push(t.elapsed().as_micros() as u64),
                    Err(e) => tally.errors.push(e),
                }
                i += 1;
            }
        }));
    }
    for w in workers {
        w.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let server_ms = args
        .server_pid
        .map_or(0, cpu_ticks)
        .saturating_sub(server_before) as f64
        * 1000.0
        / ticks;
    let pg_ms = cpu_ticks_of(&["postgres"]).saturating_sub(pg_before) as f64 * 1000.0 / ticks;
    let redis_ms =
        cpu_ticks_of(&["redis-server"]).saturating_sub(redis_before) as f64 * 1000.0 / ticks;
    let peak_kb = args.server_pid.map_or(0, |p| memory_kb(p, "VmHWM:"));

    let mut tally = tally.lock().expect("tally");
    tally.latencies.sort_unstable();
    let done = tally.latencies.len().max(1) as f64;
    let what = if args.oidc.is_some() {
        "authorize+token"
    } else {
        "logins"
    };
    println!(
        "{what}: {} in {elapsed:.1} s = {:.0}/s, errors {}",
        tally.latencies.len(),
        tally.latencies.len() as f64 / elapsed,
        tally.errors.len()
    );
    println!(
        "latency ms: p50 {:.1}  p95 {:.1}  p99 {:.1}",
        percentile(&tally.latencies, 0.50),
        percentile(&tally.latencies, 0.95),
        percentile(&tally.latencies, 0.99)
    );
    if args.server_pid.is_some() {
        println!("server CPU per op: {:.3} ms", server_ms / done);
    }
    println!(
        "postgres CPU per op: {:.3} ms, redis CPU per op: {:.3} ms",
        pg_ms / done,
        redis_ms / done
    );
    if args.server_pid.is_some() {
        println!(
            "server RSS: idle {} MB, peak {} MB",
            idle_kb / 1024,
            peak_kb / 1024
        );
    }
    if let Some(first) = tally.errors.first() {
        println!("first error: {first}");
    }
}
