//! The audit trail: `GET /events` of the admin API, newest first, with a keyset cursor (the
//! time and id of the page's last event), so that events stored meanwhile neither repeat nor
//! shift a page.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;

use super::{auth, json, query, Listing, PageQuery};
use crate::admin::audit::EventQuery;
use crate::events::EventView;
use crate::routes::error::{ApiError, RequestError};
use crate::state::AppState;

/// `GET /events`'s filters; every given one holds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilters {
    /// A username or id; the name or id of a deleted user finds their events.
    pub user: Option<String>,
    /// A stored kind, e.g. `user_disabled`, `group_member_added`.
    pub kind: Option<String>,
    /// Who made the change: `cli:USER`, `token:NAME`, `instance:ID`.
    pub actor: Option<String>,
    /// At or after this time (RFC 3339, e.g. `2026-12-01T00:00:00Z`).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Before this time (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
}

/// An RFC 3339 time as stored (UTC); anything else is 400.
fn time(text: Option<&str>) -> Result<Option<NaiveDateTime>, ApiError> {
    text.filter(|t| !t.is_empty())
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|d| d.naive_utc())
                .map_err(|_| RequestError::BadQuery.into())
        })
        .transpose()
}

/// A cursor's text: the last event's time in microseconds and its id.
fn position(text: &str) -> Result<(NaiveDateTime, i64), ApiError> {
    let (micros, id) = text.split_once(':').ok_or(RequestError::BadQuery)?;
    let micros: i64 = micros.parse().map_err(|_| RequestError::BadQuery)?;
    let id: i64 = id.parse().map_err(|_| RequestError::BadQuery)?;
    let at = DateTime::from_timestamp_micros(micros).ok_or(RequestError::BadQuery)?;
    Ok((at.naive_utc(), id))
}

/// Stored security and audit events, newest first.
#[utoipa::path(
    get, path = "/events", tag = "events",
    params(EventFilters, PageQuery),
    responses((status = 200, description = "A page of events", body = Listing<EventView>)),
    security(("bearer" = ["events:read"]))
)]
#[get("/events")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (filters, page): (EventFilters, PageQuery) = (query(&req)?, query(&req)?);
    let limit = page.limit()?;
    let before = page.cursor()?.as_deref().map(position).transpose()?;
    let rows = admin
        .audit(EventQuery {
            user: filters.user.filter(|u| !u.is_empty()),
            kind: filters.kind.filter(|k| !k.is_empty()),
            actor: filters.actor.filter(|a| !a.is_empty()),
            since: time(filters.since.as_deref())?,
            until: time(filters.until.as_deref())?,
            before,
            limit: limit + 1,
        })
        .await?;
    let page = Listing::of(rows, limit, |last| {
        format!(
            "{}:{}",
            last.occurred_at.and_utc().timestamp_micros(),
            last.id
        )
    });
    let listing = Listing {
        items: page.items.into_iter().map(EventView::from).collect(),
        next_cursor: page.next_cursor,
    };
    Ok(json(StatusCode::OK, &listing))
}
