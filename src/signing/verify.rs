//! Verifying a JWT this service issued: one of our algorithms (never `none`, never HMAC), a
//! kid we publish, the key's own algorithm, the expected `typ`, our issuer.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;

use super::{KeyAlg, TokenIssuer};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a JWT")]
    NotJwt,
    #[error("the token's algorithm is not accepted")]
    AlgorithmRefused,
    #[error("this kind of token is not accepted here")]
    WrongType,
    #[error("the token has no key id")]
    NoKeyId,
    #[error("the token was not signed by a key this server trusts")]
    UntrustedKey,
    #[error("the token is invalid or expired")]
    Invalid,
    #[error("a published key could not be read: {0}")]
    BrokenKey(String),
}

impl TokenIssuer {
    /// Verifies `token` and returns its claims. Expiry is checked unless `allow_expired` (an
    /// id_token_hint may be old); the audience only when one is given.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        audience: Option<&[String]>,
        allow_expired: bool,
    ) -> Result<T, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::NotJwt)?;
        let alg = match header.alg {
            Algorithm::ES256 => KeyAlg::ES256,
            Algorithm::RS256 => KeyAlg::RS256,
            Algorithm::EdDSA => KeyAlg::EdDSA,
            _ => return Err(VerifyError::AlgorithmRefused),
        };
        if header.typ.as_deref().map(|t| t.to_ascii_lowercase()) != Some(typ.to_ascii_lowercase()) {
            return Err(VerifyError::WrongType);
        }
        let kid = header.kid.ok_or(VerifyError::NoKeyId)?;
        let keys = self.keys().current();
        let key = keys
            .published(&kid)
            .filter(|k| k.entry.alg == alg)
            .ok_or(VerifyError::UntrustedKey)?;
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk.clone())
            .map_err(|e| VerifyError::BrokenKey(e.to_string()))?;
        let decoding =
            DecodingKey::from_jwk(&jwk).map_err(|e| VerifyError::BrokenKey(e.to_string()))?;
        let config = self.config();
        let mut validation = Validation::new(alg.jwt_algorithm());
        validation.leeway = config.clock_skew.as_secs();
        validation.set_issuer(&[&config.issuer]);
        validation.validate_exp = !allow_expired;
        match audience {
            Some(aud) => validation.set_audience(aud),
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&["iss", "sub", "exp", "iat", "aud"]);
        jsonwebtoken::decode::<T>(token, &decoding, &validation)
            .map(|d| d.claims)
            .map_err(|_| VerifyError::Invalid)
    }
}
