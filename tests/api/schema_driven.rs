//! The admin API keeps to its OpenAPI document. The served document is OpenAPI 3.1 and names a
//! scope and its answers on every operation; schemathesis (pinned with hashes in
//! tests/schemathesis/requirements.txt; scripts/test.sh installs it and sets `SCHEMATHESIS`)
//! then generates requests for every operation the document describes — its examples, the
//! boundaries of every parameter and body, random ones, and chains of calls — and finds no 5xx,
//! no status, content type, header or body outside the document.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::admin_api_scopes::{document, operations, operator, token, BASE, SCOPES};
use crate::authenticator::SoftAuthenticator;
use crate::helpers::{scratch_dir, spawn_with, Backend, TestApp, TestConfig};

/// The whole schemathesis run is killed after this, and the test fails.
const DEADLINE: Duration = Duration::from_secs(180);

/// The checks every generated answer must pass.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

/// The schemathesis command, from `SCHEMATHESIS`.
fn schemathesis() -> String {
    const HOW: &str = "run ./scripts/test.sh, which installs schemathesis from \
                       tests/schemathesis/requirements.txt into target/schemathesis-venv and \
                       sets SCHEMATHESIS, or set SCHEMATHESIS=/path/to/venv/bin/schemathesis \
                       yourself (pip install --require-hashes -r tests/schemathesis/requirements.txt)";
    match std::env::var("SCHEMATHESIS") {
        Ok(path) if Path::new(&path).is_file() => path,
        Ok(path) => panic!("SCHEMATHESIS={path} is not a file: {HOW}"),
        Err(_) => {
            panic!("SCHEMATHESIS is not set, so the admin API's schema test cannot run: {HOW}")
        }
    }
}

/// An app with the admin rate limit off, two people (one with a passkey and a session, in group
/// `staff`), and a token with scope `admin`.
async fn seeded(backend: Backend) -> (TestApp, String) {
    let app =
        spawn_with(TestConfig::new(backend).with("PASSKEY_IDP__RATE_LIMIT__ADMIN_PER_MINUTE", "0"))
            .await;
    app.sign_up("ada", &mut SoftAuthenticator::synced()).await;
    crate::admin::other_browser(&app)
        .sign_up("grace", &mut SoftAuthenticator::synced())
        .await;
    let admin = operator(&app);
    admin.group_add("staff").await.expect("group");
    admin.add_to_group("ada", "staff").await.expect("member");
    admin.disable("grace").await.expect("disabled");
    let token = token(&app, "schemathesis", "admin", Duration::from_secs(3600)).await;
    (app, token)
}

/// The operations schemathesis leaves alone, with why: revoking the token it runs with would
/// turn the rest of the run into 401s.
fn excluded(doc: &Value) -> Vec<(String, &'static str)> {
    operations(doc)
        .into_iter()
        .filter(|op| op.method == reqwest::Method::DELETE && op.path.starts_with("/tokens/"))
        .map(|op| (op.label(), "it would revoke the token of the run"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_openapi_3_1_with_a_scope_and_answers_everywhere() {
    let app = spawn_with(TestConfig::new(Backend::Embedded)).await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi is {version}");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["servers"][0]["url"], BASE);
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let what = format!("{} {path}", method.to_uppercase());
            let security = op["security"].as_array().expect(&what);
            assert_eq!(security.len(), 1, "{what}: one requirement");
            let scopes = security[0]["bearer"].as_array().expect(&what);
            assert_eq!(scopes.len(), 1, "{what}: one scope");
            let scope = scopes[0].as_str().unwrap_or_default();
            assert!(SCOPES.contains(&scope), "{what}: scope {scope}");
            let id = op["operationId"].as_str().expect(&what);
            assert!(ids.insert(id.to_string()), "{what}: operationId {id} twice");
            let responses = op["responses"].as_object().expect(&what);
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what}: no 2xx"
            );
            for status in ["400", "401", "403", "429", "503"] {
                assert!(responses.contains_key(status), "{what}: no {status}");
            }
            for param in path.split('/').filter(|s| s.starts_with('{')) {
                let name = param.trim_matches(['{', '}']);
                let declared = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true)
                });
                assert!(declared, "{what}: path parameter {name} is not declared");
                assert!(responses.contains_key("404"), "{what}: no 404");
            }
        }
    }
}

async fn schemathesis_finds_no_answer_outside_the_document(backend: Backend) {
    let program = schemathesis();
    let (app, token) = seeded(backend).await;
    let doc = document(&app).await;
    let mut args: Vec<String> = [
        "run",
        &format!("{}{BASE}/openapi.json", app.address),
        "--url",
        &format!("{}{BASE}", app.address),
        "--header",
        &format!("Authorization: Bearer {token}"),
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "20",
        "--request-timeout",
        "10",
        "--workers",
        "1",
        // A health check of the generator, not of the API: when too many generated path values
        // are discarded (a group and a user in one path), hypothesis gives up on the operation.
        "--suppress-health-check",
        "filter_too_much",
        "--generation-database",
        "none",
        "--no-color",
        "--output-truncate",
        "false",
    ]
    .map(String::from)
    .to_vec();
    for (label, why) in excluded(&doc) {
        println!("schemathesis leaves out {label}: {why}");
        args.extend(["--exclude-name".to_string(), label]);
    }
    let started = Instant::now();
    // `timeout` ends a run that hangs; the app keeps serving on this runtime meanwhile.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args(["--kill-after=10", &DEADLINE.as_secs().to_string(), &program])
            .args(&args)
            .current_dir(scratch_dir("schemathesis"))
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .expect("schemathesis thread")
    .expect("run timeout(1) and schemathesis");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    println!("schemathesis took {:?}", started.elapsed());
    assert_ne!(
        out.status.code(),
        Some(124),
        "schemathesis did not finish within {DEADLINE:?}; the report so far is above"
    );
    assert!(
        out.status.success(),
        "schemathesis found answers outside the document ({}):\n{report}",
        out.status
    );
    // The run's token still works: the run was not all 401s.
    let r = app
        .client
        .get(app.url(&format!("{BASE}/users")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("users");
    assert_eq!(r.status(), 200, "the run's token stopped working");
}
crate::on_both_backends!(schemathesis_finds_no_answer_outside_the_document);
