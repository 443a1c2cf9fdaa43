//! `/healthz`, `/readyz`, `/metrics`.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
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
    let checks = json!({
        "database": if db_ok { "ok" } else { "unavailable" },
        "challenge_store": if store_ok { "ok" } else { "unavailable" },
        "keys": keys,
    });
    if db_ok && store_ok {
        HttpResponse::Ok().json(json!({ "status": "ready", "checks": checks }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({
            "error": "not_ready",
            "error_description": "A dependency does not answer; see checks and the service log.",
            "checks": checks,
        }))
    }
}

#[get("/metrics")]
pub async fn metrics(app: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(app.metrics.render())
}
