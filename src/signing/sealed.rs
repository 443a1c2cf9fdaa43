//! The key-encryption key (KEK) of the database key store, and sealing with it: AES-256-GCM
//! (OpenSSL, already linked for the signatures), a fresh 96-bit nonce per seal, and associated
//! data naming what is sealed (a key's kid and state, a secret's name), so a sealed value moved
//! to another row, or a row whose state was edited by hand, no longer opens.

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

const NONCE: usize = 12;
const TAG: usize = 16;

/// The environment variable that holds the KEK.
pub const KEK_ENV: &str = "PASSKEY_IDP_KEYS_KEK";

/// 32 bytes, and where they came from (for error messages; never the bytes themselves).
#[derive(Clone)]
pub struct Kek {
    key: [u8; 32],
    source: String,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", self.source)
    }
}

impl Kek {
    /// A KEK from its base64 text (standard or URL-safe alphabet, padding optional).
    pub fn parse(text: &str, source: &str) -> anyhow::Result<Kek> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| anyhow!("{source} is not base64"))?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            anyhow!(
                "{source} holds {} bytes; the key-encryption key is 32 random bytes in base64 (`openssl rand -base64 32`)",
                b.len()
            )
        })?;
        Ok(Kek {
            key,
            source: source.to_string(),
        })
    }

    /// The KEK from `PASSKEY_IDP_KEYS_KEK`, else from `keys.kek_file`; `None` when neither is set.
    pub fn from_env_or_file(file: Option<&std::path::Path>) -> anyhow::Result<Option<Kek>> {
        if let Ok(text) = std::env::var(KEK_ENV) {
            if !text.trim().is_empty() {
                return Kek::parse(&text, KEK_ENV).map(Some);
            }
        }
        let Some(path) = file else {
            return Ok(None);
        };
        let source = format!("keys.kek_file ({})", path.display());
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {source}"))?;
        Kek::parse(&text, &source).map(Some)
    }

    /// Where the key came from: `PASSKEY_IDP_KEYS_KEK` or `keys.kek_file (PATH)`.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        let nonce = crate::random::bytes(NONCE);
        let mut tag = [0u8; TAG];
        let sealed = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            aad,
            plain,
            &mut tag,
        )?;
        Ok([nonce.as_slice(), &sealed, &tag].concat())
    }

    /// The plain bytes, or an error when this KEK (or this associated data) did not seal them.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE + TAG {
            bail!("the sealed value is truncated");
        }
        let (nonce, rest) = sealed.split_at(NONCE);
        let (data, tag) = rest.split_at(rest.len() - TAG);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            aad,
            data,
            tag,
        )
        .map_err(|_| {
            anyhow!(
                "the key-encryption key from {} does not decrypt it",
                self.source
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> Kek {
        Kek::parse(&STANDARD.encode(crate::random::bytes(32)), "test").expect("kek")
    }

    #[test]
    fn seals_and_opens_only_with_the_same_key_and_associated_data() {
        let (a, b) = (kek(), kek());
        let sealed = a.seal(b"private key", b"kid\0active").expect("seal");
        assert_eq!(
            a.open(&sealed, b"kid\0active").expect("open"),
            b"private key"
        );
        assert!(a.open(&sealed, b"kid\0retiring").is_err(), "other state");
        assert!(b.open(&sealed, b"kid\0active").is_err(), "other KEK");
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(a.open(&flipped, b"kid\0active").is_err(), "tampered");
        assert_ne!(
            a.seal(b"x", b"").expect("seal"),
            a.seal(b"x", b"").expect("seal")
        );
    }

    #[test]
    fn a_kek_is_32_bytes_of_base64() {
        assert!(Kek::parse("not base64!", "X").is_err());
        let short = Kek::parse(&STANDARD.encode([0u8; 16]), "X").expect_err("short");
        assert!(short.to_string().contains("16 bytes"), "{short}");
        assert!(Kek::parse(&format!(" {}\n", STANDARD.encode([7u8; 32])), "X").is_ok());
    }
}
