//! The parameters of `/authorize` as sent, and every check of the request itself, in the order
//! a client would fix them. Each refusal is a fixed sentence ([`AuthorizeError`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use super::{AuthorizeError, Client};

/// Longest `state` accepted. It is echoed back, so it is bounded; ASP.NET Core's handler keeps
/// its protected properties in it (commonly 500 to 1,500 characters), and the waiting request
/// is sealed into a URL, never stored, so the bound is what a URL takes comfortably.
pub const MAX_STATE: usize = 2048;
/// Longest `nonce` accepted: it goes into the code and the ID token.
pub const MAX_NONCE: usize = 512;

/// The parameters of `/authorize`, as sent (GET query or POST form).
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// A parameter that was sent more than once (RFC 6749 §3.1 forbids it).
    #[serde(skip)]
    pub repeated: Option<String>,
}

impl AuthorizeParams {
    /// The parameters of a query string or form body; a repeated parameter is noted (and its
    /// first value kept) so that the client hears of it at its redirect URI.
    pub fn parse(encoded: &[u8]) -> Result<AuthorizeParams, serde_urlencoded::de::Error> {
        let mut seen = std::collections::HashSet::new();
        let mut repeated = None;
        let mut first: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(encoded) {
            if seen.insert(k.to_string()) {
                first.push((k.into_owned(), v.into_owned()));
            } else if repeated.is_none() {
                repeated = Some(k.into_owned());
            }
        }
        let mut params: AuthorizeParams =
            serde_urlencoded::from_str(&serde_urlencoded::to_string(&first).unwrap_or_default())?;
        params.repeated = repeated;
        Ok(params)
    }
}

/// The request's parameters that passed every check.
pub(super) struct Checked {
    pub(super) scope: Vec<String>,
    pub(super) code_challenge: String,
    pub(super) prompt_login: bool,
    pub(super) prompt_none: bool,
    pub(super) max_age: Option<i64>,
    pub(super) form_post: bool,
}

/// Every check of the request itself, in the order a client would fix them.
pub(super) fn check(p: &AuthorizeParams, client: &Client) -> Result<Checked, AuthorizeError> {
    if p.repeated.is_some() {
        return Err(invalid("A parameter was sent more than once."));
    }
    if p.request.is_some() {
        return Err(AuthorizeError::RequestNotSupported);
    }
    if p.request_uri.is_some() {
        return Err(AuthorizeError::RequestUriNotSupported);
    }
    match p.response_type.as_deref() {
        Some("code") => {}
        Some(_) => return Err(AuthorizeError::UnsupportedResponseType),
        None => return Err(invalid("response_type is required.")),
    }
    let form_post = match p.response_mode.as_deref() {
        None | Some("query") => false,
        Some("form_post") => true,
        Some(_) => return Err(invalid("response_mode must be query or form_post.")),
    };
    let scope = check_scope(p.scope.as_deref(), client)?;
    let code_challenge = check_pkce(p)?;
    let (prompt_login, prompt_none) = check_prompt(p.prompt.as_deref())?;
    let max_age = match p.max_age.as_deref() {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(invalid("max_age must be a whole number of seconds.")),
        },
    };
    if p.state.as_deref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(invalid("state is longer than 2048 bytes."));
    }
    if p.nonce.as_deref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(invalid("nonce is longer than 512 bytes."));
    }
    Ok(Checked {
        scope,
        code_challenge,
        prompt_login,
        prompt_none,
        max_age,
        form_post,
    })
}

fn invalid(description: &'static str) -> AuthorizeError {
    AuthorizeError::InvalidRequest(description)
}

/// Every scope asked for is one the client may have (as registered now).
pub(super) fn check_allowed_scopes(
    scope: &[String],
    client: &Client,
) -> Result<(), AuthorizeError> {
    if scope.iter().all(|s| client.allows_scope(s)) {
        Ok(())
    } else {
        Err(AuthorizeError::InvalidScope(
            "A requested scope is not allowed for this client.",
        ))
    }
}

fn check_scope(scope: Option<&str>, client: &Client) -> Result<Vec<String>, AuthorizeError> {
    let scope: Vec<String> = scope
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if !scope.iter().any(|s| s == "openid") {
        return Err(AuthorizeError::InvalidScope(
            "The openid scope is required.",
        ));
    }
    check_allowed_scopes(&scope, client)?;
    Ok(scope)
}

fn check_pkce(p: &AuthorizeParams) -> Result<String, AuthorizeError> {
    let Some(challenge) = p.code_challenge.as_deref() else {
        return Err(invalid(
            "PKCE is required: send code_challenge with code_challenge_method=S256.",
        ));
    };
    if p.code_challenge_method.as_deref() != Some("S256") {
        return Err(invalid(
            "Only code_challenge_method=S256 is supported (plain is refused).",
        ));
    }
    if !is_pkce_value(challenge) || URL_SAFE_NO_PAD.decode(challenge).map(|d| d.len()) != Ok(32) {
        return Err(invalid(
            "code_challenge must be the base64url SHA-256 of the code verifier.",
        ));
    }
    Ok(challenge.to_string())
}

/// `(login, none)` from the prompt parameter.
fn check_prompt(prompt: Option<&str>) -> Result<(bool, bool), AuthorizeError> {
    let prompts: Vec<&str> = prompt.unwrap_or("").split_whitespace().collect();
    if prompts
        .iter()
        .any(|v| !matches!(*v, "none" | "login" | "consent" | "select_account"))
    {
        return Err(invalid(
            "prompt may only be none, login, consent or select_account.",
        ));
    }
    let none = prompts.contains(&"none");
    if none && prompts.len() > 1 {
        return Err(invalid("prompt=none cannot be combined with other values."));
    }
    Ok((prompts.contains(&"login"), none))
}

/// RFC 7636 §4.1: 43 to 128 characters of the unreserved set.
pub(super) fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            client_id: "app".into(),
            name: "App".into(),
            secret_sha256: None,
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scopes: vec!["openid".into(), "profile".into()],
            id_token_alg: crate::signing::KeyAlg::RS256,
            audiences: vec!["app".into()],
            allowed_groups: vec![],
            public: true,
            source: "config",
            created_at: None,
            updated_at: None,
            previous_secret: None,
        }
    }

    /// RFC 6749 §4.1.2.1: printable ASCII without `"` and `\`, and nothing of the request.
    #[test]
    fn refusals_never_quote_the_request() {
        let hostile = "x\"\\\u{202e}evil";
        let good = format!(
            "response_type=code&client_id=app&scope=openid&code_challenge={}&code_challenge_method=S256",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let encoded: String = url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect();
        let cases = [
            format!("{good}&prompt={encoded}"),
            format!("{good}&scope=openid%20{encoded}"),
            format!("{good}&max_age={encoded}"),
            format!("{good}&response_mode={encoded}"),
            format!("{good}&{encoded}=1&{encoded}=2"),
            format!("{good}&state={}", "s".repeat(MAX_STATE + 1)),
            format!("{good}&nonce={}", "n".repeat(MAX_NONCE + 1)),
            "response_type=token".to_string(),
        ];
        for query in cases {
            let params = AuthorizeParams::parse(query.as_bytes()).expect("parses");
            let Err(refusal) = check(&params, &client()) else {
                panic!("accepted: {query}");
            };
            let description = match &refusal {
                AuthorizeError::InvalidRequest(d)
                | AuthorizeError::InvalidScope(d)
                | AuthorizeError::LoginRequired(d) => *d,
                _ => "fixed",
            };
            assert!(
                description
                    .bytes()
                    .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
                "{query}: {description:?}"
            );
            assert!(!description.contains("evil"), "{description}");
        }
        let state_ok = format!("{good}&state={}", "s".repeat(MAX_STATE));
        let params = AuthorizeParams::parse(state_ok.as_bytes()).expect("parses");
        assert!(check(&params, &client()).is_ok(), "2,048 bytes of state");
    }
}
