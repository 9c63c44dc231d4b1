//! A keyed fingerprint of a payment code for the journal: lets paycode recognise the same code
//! again (duplicate scans, reconciliation) without ever storing the code. Keyed with the API key,
//! because an unkeyed hash of an 18-digit code could be reversed by brute force.

use crate::authcode::AuthCode;
use crate::wxpay::sign::ApiKey;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// 16 hex characters of HMAC-SHA256(api key, code).
pub fn fingerprint(code: &AuthCode, key: &ApiKey) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm cannot be reached.
        Err(_) => return String::from("0000000000000000"),
    };
    mac.update(b"paycode/code-fp/v1:");
    mac.update(code.reveal().as_bytes());
    let digest = mac.finalize().into_bytes();
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_keyed_and_not_the_code() {
        let code = AuthCode::parse("134567890123454321").unwrap();
        let k1 = ApiKey::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let k2 = ApiKey::new("00000000000000000000000000000000").unwrap();
        let a = fingerprint(&code, &k1);
        assert_eq!(a, fingerprint(&code, &k1));
        assert_ne!(a, fingerprint(&code, &k2));
        let other = AuthCode::parse("134567890123454322").unwrap();
        assert_ne!(a, fingerprint(&other, &k1));
        assert_eq!(a.len(), 16);
        assert!(!a.contains("4321"));
    }
}
