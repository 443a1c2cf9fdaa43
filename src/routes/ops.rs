//! `/healthz`, `/readyz`, `/metrics`.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use serde::Serialize;

use super::answers::DONE;
use crate::state::AppState;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(DONE)
}

/// What `/readyz` found.
#[derive(Serialize)]
struct Checks {
    database: &'static str,
    challenge_store: &'static str,
    keys: String,
}

#[derive(Serialize)]
struct Ready {
    status: &'static str,
    checks: Checks,
}

#[derive(Serialize)]
struct NotReady {
    error: &'static str,
    error_description: &'static str,
    checks: Checks,
}

/// 200 only when the database and the challenge store both answer within two seconds.
#[get("/readyz")]
pub async fn readyz(app: web::Data<AppState>) -> HttpResponse {
    let db = app.db.ping(READY_TIMEOUT).await;
    let store = tokio::time::timeout(READY_TIMEOUT, app.store.ping()).await;
    let db_ok = db.is_ok();
    let store_ok = matches!(store, Ok(Ok(())));
    if !db_ok {
        tracing::warn!(error = %db.err().map(|e| e.to_string()).unwrap_or_default(), "readiness: database does not answer");
    }
    if !store_ok {
        tracing::warn!("readiness: challenge store does not answer");
    }
    // A key set that failed to reload does not make the instance unready: it still signs and
    // publishes the last good set, which every instance shares (turning them all unready over
    // a bad change would turn a mistake into an outage). It is reported here, logged as an
    // error, and an operator alerts on it.
    let keys = match app.keys.status() {
        crate::signing::KeyStatus::Current => "ok".to_string(),
        crate::signing::KeyStatus::Stale { .. } => format!(
            "stale: the key set in {} is not usable; the last good set is served",
            app.keys.store().describe()
        ),
    };
    let state = |ok: bool| if ok { "ok" } else { "unavailable" };
    let checks = Checks {
        database: state(db_ok),
        challenge_store: state(store_ok),
        keys,
    };
    if db_ok && store_ok {
        HttpResponse::Ok().json(Ready {
            status: "ready",
            checks,
        })
    } else {
        HttpResponse::ServiceUnavailable().json(NotReady {
            error: "not_ready",
            error_description: "A dependency does not answer; see checks and the service log.",
            checks,
        })
    }
}

#[get("/metrics")]
pub async fn metrics(app: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(app.metrics.render())
}
