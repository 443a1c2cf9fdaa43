//! The answer to a service with `response_mode=form_post` (the OAuth 2.0 Form Post Response
//! Mode): a page whose form posts the parameters to the redirect URI.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::{page, Chrome};
use crate::fault::Fault;
use crate::routes::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    p: Chrome<'a>,
    action: &'a str,
    fields: &'a [(&'a str, &'a str)],
}

/// The page that posts `params` to `redirect_uri`, its CSP letting forms go to that one origin
/// and nowhere else.
pub fn form_post_page(
    app: &AppState,
    req: &HttpRequest,
    redirect_uri: &str,
    params: &[(&str, &str)],
) -> Result<HttpResponse, ApiError> {
    let target = url::Url::parse(redirect_uri)
        .map(|u| match u.origin() {
            url::Origin::Tuple(..) => u.origin().ascii_serialization(),
            url::Origin::Opaque(_) => format!("{}:", u.scheme()),
        })
        .map_err(Fault::internal)?;
    let p = Chrome::new(app, req);
    let mut res = page(
        &p,
        StatusCode::OK,
        FormPostPage {
            p,
            action: redirect_uri,
            fields: params,
        },
    )?;
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_str(&format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; base-uri 'none'; form-action {target}"
        ))
        .map_err(Fault::internal)?,
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_form_post_page_has_no_text_outside_the_catalog() {
        check(
            "form post",
            FormPostPage {
                p: marked_chrome(),
                action: "https://rp.example/cb",
                fields: &[("code", "x")],
            },
        );
    }
}
