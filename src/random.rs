//! Randomness and hashing for secrets (session ids, ceremony ids, user handles).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `n` bytes from OpenSSL's CSPRNG.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    #[expect(
        clippy::expect_used,
        reason = "RAND_bytes fails only when the OS gives no entropy at all; there is no safe way to continue without randomness"
    )]
    openssl::rand::rand_bytes(&mut buf).expect("the system random number generator failed");
    buf
}

/// A 256-bit random token, base64url without padding.
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(bytes(32))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256, for store keys derived from secrets (the secret itself is never a key).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&openssl::sha::sha256(data))
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};
    let compute = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let pkey = PKey::hmac(key)?;
        let mut signer = Signer::new(MessageDigest::sha256(), &pkey)?;
        signer.update(data)?;
        signer.sign_to_vec()
    };
    #[expect(
        clippy::expect_used,
        reason = "HMAC-SHA256 over in-memory bytes fails only if OpenSSL itself is broken"
    )]
    compute().expect("HMAC-SHA256 with OpenSSL failed")
}
