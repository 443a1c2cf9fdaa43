//! Values the server hands out and later takes back without keeping them: an HMAC-SHA256 tag
//! under a secret every instance shares (in the key folder) proves they are ours and unchanged.
//! Used so that anonymous requests leave no state behind: a pending authorization request
//! travels to the login page and back inside the URL, and an authorization code proves it was
//! issued here before anything is stored about it.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Bytes of the tag kept (128 bits).
const TAG_LEN: usize = 16;

#[derive(Clone)]
pub struct Signer {
    key: Arc<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    v: T,
    /// Expiry, seconds since the epoch.
    exp: i64,
}

impl Signer {
    pub fn new(key: Vec<u8>) -> Signer {
        Signer { key: Arc::new(key) }
    }

    fn tag(&self, purpose: &str, data: &str) -> String {
        let mac = crate::random::hmac_sha256(&self.key, format!("{purpose}\n{data}").as_bytes());
        URL_SAFE_NO_PAD.encode(&mac[..TAG_LEN])
    }

    fn tag_matches(&self, purpose: &str, data: &str, tag: &str) -> bool {
        let expected = self.tag(purpose, data);
        // CRYPTO_memcmp compares equal lengths only; the length of a tag is no secret.
        expected.len() == tag.len() && openssl::memcmp::eq(expected.as_bytes(), tag.as_bytes())
    }

    /// `data.tag`: `data` with proof that this service made it for `purpose`.
    pub fn sign(&self, purpose: &str, data: &str) -> String {
        format!("{data}.{}", self.tag(purpose, data))
    }

    /// The `data` of a value made by [`Signer::sign`] for `purpose`, if the tag matches.
    pub fn verify<'a>(&self, purpose: &str, signed: &'a str) -> Option<&'a str> {
        let (data, tag) = signed.rsplit_once('.')?;
        self.tag_matches(purpose, data, tag).then_some(data)
    }

    /// `value` as a signed, URL-safe string that expires `ttl` seconds from now.
    pub fn seal<T: Serialize>(
        &self,
        purpose: &str,
        value: &T,
        ttl_secs: i64,
    ) -> Result<String, serde_json::Error> {
        let sealed = Sealed {
            v: value,
            exp: chrono::Utc::now().timestamp() + ttl_secs,
        };
        let data = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&sealed)?);
        Ok(self.sign(purpose, &data))
    }

    /// The value of [`Signer::seal`], if the tag matches and it has not expired.
    pub fn open<T: DeserializeOwned>(&self, purpose: &str, sealed: &str) -> Option<T> {
        let data = self.verify(purpose, sealed)?;
        let bytes = URL_SAFE_NO_PAD.decode(data).ok()?;
        let sealed: Sealed<T> = serde_json::from_slice(&bytes).ok()?;
        (sealed.exp >= chrono::Utc::now().timestamp()).then_some(sealed.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_come_back_only_unchanged_and_in_time() {
        let s = Signer::new(b"0123456789abcdef0123456789abcdef".to_vec());
        let sealed = s.seal("req", &vec!["a".to_string()], 60).expect("seal");
        assert_eq!(
            s.open::<Vec<String>>("req", &sealed),
            Some(vec!["a".to_string()])
        );
        assert_eq!(
            s.open::<Vec<String>>("code", &sealed),
            None,
            "another purpose"
        );
        let mut tampered = sealed.clone();
        tampered.replace_range(0..1, if sealed.starts_with('A') { "B" } else { "A" });
        assert_eq!(s.open::<Vec<String>>("req", &tampered), None);
        let other = Signer::new(b"another secret of thirty-two by!".to_vec());
        assert_eq!(other.open::<Vec<String>>("req", &sealed), None);
        let expired = s.seal("req", &1, -1).expect("seal");
        assert_eq!(s.open::<i32>("req", &expired), None);
        assert_eq!(s.verify("code", &s.sign("code", "abc")), Some("abc"));
        assert_eq!(s.verify("code", "abc.def"), None);
        assert_eq!(s.verify("code", "no-tag"), None);
    }
}
