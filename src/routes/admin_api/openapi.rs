//! The OpenAPI 3.1 document of the admin API, generated from the handlers' annotations and
//! served at `GET /api/admin/v1/openapi.json` without a token. Every operation also lists the
//! answers every operation can give (400, 401, 403, 429, 503; 404 where the path names
//! something; 413 and 415 where there is a body).

use actix_web::{get, HttpResponse};
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response, ResponseBuilder, Schema, Server};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{clients, events, groups, keys, recovery, tokens, user_changes, users, BASE};

/// The error body every refusal has.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ErrorAnswer {
    /// A stable code: `invalid_request`, `invalid_token`, `insufficient_scope`, `not_found`,
    /// `conflict`, `rate_limited`, `temporarily_unavailable`, `server_error`.
    pub error: String,
    /// One sentence a person can act on.
    pub error_description: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "passkey-idp admin API",
        description = "Administer people, groups, clients, keys, tokens and events. Every operation needs a bearer token with the scope it names.",
        version = "1"
    ),
    paths(
        users::list,
        users::show,
        users::erase,
        users::disable,
        users::enable,
        users::passkey_remove,
        users::passkey_unflag,
        users::sessions,
        recovery::recovery_link,
        recovery::invite,
        groups::list,
        groups::create,
        groups::remove,
        groups::add_member,
        groups::remove_member,
        events::list,
        tokens::list,
        tokens::create,
        tokens::revoke,
        user_changes::update,
        user_changes::end_sessions,
        clients::list,
        clients::add,
        clients::show,
        clients::update,
        clients::remove,
        clients::rotate_secret,
        keys::list,
        keys::generate,
        keys::rotate,
        keys::retire,
        keys::revoke,
    ),
    components(schemas(ErrorAnswer)),
    modifiers(&SharedAnswers),
    tags(
        (name = "users", description = "People, their passkeys and sessions"),
        (name = "recovery", description = "Recovery links and sign-up invites"),
        (name = "groups", description = "Groups and their members"),
        (name = "events", description = "The audit trail: stored security and audit events"),
        (name = "tokens", description = "Admin API tokens"),
        (name = "clients", description = "Relying services: register, change, rotate their secret, remove"),
        (name = "keys", description = "The signing key set: list, generate, rotate, retire, revoke"),
    )
)]
pub struct ApiDoc;

/// The bearer scheme, the server's base path, and the answers every operation shares.
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An admin API token (passkey-idp tokens create)"))
                    .build(),
            ),
        );
        doc.servers = Some(vec![Server::new(BASE)]);
        for (path, item) in doc.paths.paths.iter_mut() {
            let names_something = path.contains('{');
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                shared_answers(op, names_something);
                unique_id(op);
            }
        }
    }
}

/// The operation's id prefixed with its tag (`users_list`, `groups_list`): utoipa takes the
/// handler's name, which repeats across files, and an OpenAPI document needs each id once.
fn unique_id(op: &mut Operation) {
    let tag = op.tags.as_ref().and_then(|tags| tags.first()).cloned();
    if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
        if !id.starts_with(tag.as_str()) {
            *id = format!("{tag}_{id}");
        }
    }
}

/// A header every answer of one status carries: its value is text matching `pattern`.
fn header(pattern: &str, description: &str) -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        )
        .description(Some(description))
        .build()
}

fn error_answer(status: &str, description: &str) -> RefOr<Response> {
    let mut answer = ResponseBuilder::new().description(description).content(
        "application/json",
        utoipa::openapi::ContentBuilder::new()
            .schema(Some(RefOr::<Schema>::Ref(
                utoipa::openapi::Ref::from_schema_name("ErrorAnswer"),
            )))
            .build(),
    );
    match status {
        "401" | "403" => {
            answer = answer.header(
                "WWW-Authenticate",
                header(
                    "^Bearer ",
                    "The bearer challenge (RFC 6750): error=\"invalid_token\" for a bad token, error=\"insufficient_scope\" and the scope needed on 403",
                ),
            );
        }
        "429" | "503" => {
            answer = answer.header(
                "Retry-After",
                header("^[0-9]+$", "Seconds to wait before trying again"),
            );
        }
        _ => {}
    }
    RefOr::T(answer.build())
}

fn shared_answers(op: &mut Operation, names_something: bool) {
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error_answer(status, description));
    };
    add("400", "The request is not valid (invalid_request)");
    add(
        "401",
        "No token, or one that is unknown, revoked or expired (invalid_token)",
    );
    add(
        "403",
        "The token lacks the scope this needs (insufficient_scope)",
    );
    add("429", "Too many requests (rate_limited)");
    add(
        "503",
        "A dependency is briefly unavailable (temporarily_unavailable)",
    );
    if names_something {
        add("404", "There is no such thing (not_found)");
    }
    if op.request_body.is_some() {
        add("413", "The body is too large (invalid_request)");
        add("415", "The body is not JSON (invalid_request)");
    }
}

/// The document, without a token.
#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_exactly_the_routes_with_their_scopes() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("document");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut described = vec![];
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let scope = op["security"][0]["bearer"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                described.push((method.to_uppercase(), path.clone(), scope));
            }
        }
        let mut routes: Vec<(String, String, String)> = super::super::ROUTES
            .iter()
            .map(|(m, p, s)| (m.to_string(), p.to_string(), s.name().to_string()))
            .collect();
        described.sort();
        routes.sort();
        assert_eq!(described, routes);
    }
}
