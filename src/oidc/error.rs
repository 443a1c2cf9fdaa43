//! Why an OAuth request was refused. The variants carry the sentence that tells the client
//! what to fix; the HTTP layer alone turns each variant into a status, an OAuth error code and
//! its headers (`WWW-Authenticate`, `Cache-Control`).

use crate::fault::{fault_conversions, Fault};
use crate::signing::VerifyError;

/// Errors of `/token`, `/revoke`, `/userinfo` and `/logout` (RFC 6749 §5.2, RFC 6750 §3.1).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    #[error("client authentication failed: {0}")]
    InvalidClient(&'static str),
    #[error("invalid grant: {0}")]
    InvalidGrant(&'static str),
    #[error("invalid scope: {0}")]
    InvalidScope(&'static str),
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    #[error("too many requests from this address")]
    RateLimited,
    /// No access token at all (RFC 6750 §3.1: the challenge then names no error).
    #[error("no bearer token")]
    NoBearerToken,
    #[error(transparent)]
    Fault(#[from] Fault),
}

fault_conversions!(OAuthError);

impl From<VerifyError> for OAuthError {
    fn from(e: VerifyError) -> Self {
        OAuthError::InvalidToken(match e {
            VerifyError::NotJwt => "The token is not a JWT.",
            VerifyError::AlgorithmRefused => "The token's algorithm is not accepted.",
            VerifyError::WrongType => "This kind of token is not accepted here.",
            VerifyError::NoKeyId => "The token has no key id.",
            VerifyError::UntrustedKey => "The token was not signed by a key this server trusts.",
            VerifyError::Invalid => "The token is invalid or expired.",
            VerifyError::BrokenKey(cause) => return OAuthError::Fault(Fault::Internal(cause)),
        })
    }
}

/// Errors `/authorize` sends back to the client's redirect URI (RFC 6749 §4.1.2.1, OpenID
/// Connect Core §3.1.2.6), once the client and its redirect URI are trusted. Their sentences
/// are fixed, never quoting the request: RFC 6749 allows `error_description` only printable
/// ASCII without `"` and `\`, and an echo would carry the sender's text to the client.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    #[error("unsupported response type")]
    UnsupportedResponseType,
    #[error("invalid scope: {0}")]
    InvalidScope(&'static str),
    #[error("request objects are not supported")]
    RequestNotSupported,
    #[error("request_uri is not supported")]
    RequestUriNotSupported,
    #[error("login required: {0}")]
    LoginRequired(&'static str),
    /// The person signed in but may not use this client (`allowed_groups`).
    #[error("access denied")]
    AccessDenied,
}
