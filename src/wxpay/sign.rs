//! WeChat Pay v2 signatures (docs/protocol.md §2): MD5 and HMAC-SHA256 over the sorted,
//! non-empty fields plus `&key=…`, with a constant-time verify.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// Sign `fields` (docs/protocol.md §2): drop `sign` and empty values, sort by name in byte order,
/// join `name=value` with `&`, append `&key=…`, hash, uppercase hex.
/// The signing string is fed to the hash piecewise and never materialised.
pub fn sign<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &ApiKey,
    t: SignType,
) -> String {
    compute(fields, key, t).unwrap_or_default()
}

/// Check `given` against the signature of `fields` with a constant-time compare.
/// Only the exact uppercase hex form is accepted.
pub fn verify<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &ApiKey,
    t: SignType,
    given: &str,
) -> bool {
    match compute(fields, key, t) {
        Some(expected) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        None => false,
    }
}

/// `None` only if HMAC refused the key, which it never does (it accepts any length).
fn compute<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &ApiKey,
    t: SignType,
) -> Option<String> {
    let mut kept: Vec<(&str, &str)> = fields
        .into_iter()
        .filter(|(n, v)| *n != "sign" && !v.is_empty())
        .collect();
    kept.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    match t {
        SignType::Md5 => {
            let mut h = Md5::new();
            feed(&kept, key, |b| h.update(b));
            Some(hex::encode_upper(h.finalize()))
        }
        SignType::HmacSha256 => {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose().as_bytes()).ok()?;
            feed(&kept, key, |b| m.update(b));
            Some(hex::encode_upper(m.finalize().into_bytes()))
        }
    }
}

fn feed(kept: &[(&str, &str)], key: &ApiKey, mut put: impl FnMut(&[u8])) {
    for (i, (n, v)) in kept.iter().enumerate() {
        if i > 0 {
            put(b"&");
        }
        put(n.as_bytes());
        put(b"=");
        put(v.as_bytes());
    }
    if !kept.is_empty() {
        put(b"&");
    }
    put(b"key=");
    put(key.expose().as_bytes());
}

/// The merchant's APIv2 key (32 characters). Never printed: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Accept a key read from `PAYCODE_API_KEY` or a key file (surrounding whitespace trimmed).
    pub fn new(raw: &str) -> Result<Self, String> {
        let k = raw.trim();
        if k.is_empty() {
            return Err("the API key is empty".into());
        }
        if !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the API key has spaces or non-ASCII characters inside it".into());
        }
        Ok(Self(k.to_string()))
    }

    /// The raw key, for the signer only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// Wiped when dropped, so a freed key does not linger in memory for a dump or a swap to find.
impl Drop for ApiKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(<{} chars hidden>)", self.0.len())
    }
}

/// The signature algorithm named by the `sign_type` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub enum SignType {
    #[default]
    #[serde(rename = "MD5")]
    Md5,
    #[serde(rename = "HMAC-SHA256")]
    HmacSha256,
}

impl SignType {
    /// The wire value of `sign_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// Parse a wire value; an absent `sign_type` means MD5.
    pub fn from_wire(s: &str) -> Option<Self> {
        match s {
            "" | "MD5" => Some(Self::Md5),
            "HMAC-SHA256" => Some(Self::HmacSha256),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
    const VECTOR: [(&str, &str); 5] = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ];
    const MD5_SIG: &str = "9A0A8659F005D6984697E2CA0A9CF3B7";
    const HMAC_SIG: &str = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6";

    fn key() -> ApiKey {
        ApiKey::new(KEY).unwrap()
    }

    #[test]
    fn official_vector_both_algorithms() {
        assert_eq!(sign(VECTOR, &key(), SignType::Md5), MD5_SIG);
        assert_eq!(sign(VECTOR, &key(), SignType::HmacSha256), HMAC_SIG);
        assert!(verify(VECTOR, &key(), SignType::Md5, MD5_SIG));
        assert!(verify(VECTOR, &key(), SignType::HmacSha256, HMAC_SIG));
    }

    #[test]
    fn order_of_input_does_not_matter_and_sign_is_skipped() {
        let mut v: Vec<(&str, &str)> = VECTOR.iter().rev().copied().collect();
        v.push(("sign", "ANYTHING"));
        assert_eq!(sign(v.iter().copied(), &key(), SignType::Md5), MD5_SIG);
    }

    #[test]
    fn empty_values_are_skipped() {
        let mut v = VECTOR.to_vec();
        v.push(("attach", ""));
        v.push(("zzz", ""));
        assert_eq!(sign(v.iter().copied(), &key(), SignType::Md5), MD5_SIG);
        assert_eq!(
            sign(v.iter().copied(), &key(), SignType::HmacSha256),
            HMAC_SIG
        );
    }

    /// Reference computed independently: the literal signing string hashed whole.
    fn md5_of(s: &str) -> String {
        hex::encode_upper(Md5::digest(s.as_bytes()))
    }
    fn hmac_of(s: &str) -> String {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(KEY.as_bytes()).unwrap();
        m.update(s.as_bytes());
        hex::encode_upper(m.finalize().into_bytes())
    }

    #[test]
    fn utf8_body_with_ampersand_and_spaces_is_hashed_raw() {
        let body = "品牌 门店-商品 & 饮料 a=b";
        let fields = [("mch_id", "10000100"), ("body", body), ("appid", "wx1")];
        let s = format!("appid=wx1&body={body}&mch_id=10000100&key={KEY}");
        assert_eq!(sign(fields, &key(), SignType::Md5), md5_of(&s));
        assert_eq!(sign(fields, &key(), SignType::HmacSha256), hmac_of(&s));
    }

    #[test]
    fn sign_type_is_an_ordinary_signed_element() {
        let mut v = VECTOR.to_vec();
        v.push(("sign_type", "HMAC-SHA256"));
        let with = sign(v.iter().copied(), &key(), SignType::HmacSha256);
        assert_ne!(with, HMAC_SIG);
        let s = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&sign_type=HMAC-SHA256&key=192006250b4c09247ec02edce69f6a2d";
        assert_eq!(with, hmac_of(s));
    }

    #[test]
    fn names_sort_by_bytes_case_sensitive() {
        // 'B' (0x42) sorts before 'a' (0x61); '_' (0x5F) before 'a'.
        let fields = [("a", "1"), ("B", "2"), ("a_b", "3"), ("ab", "4")];
        let s = format!("B=2&a=1&a_b=3&ab=4&key={KEY}");
        assert_eq!(sign(fields, &key(), SignType::Md5), md5_of(&s));
    }

    #[test]
    fn no_fields_still_signs_the_key() {
        let s = format!("key={KEY}");
        assert_eq!(sign([], &key(), SignType::Md5), md5_of(&s));
    }

    #[test]
    fn wrong_signatures_are_rejected() {
        let k = key();
        let table: &[(SignType, &str)] = &[
            (SignType::Md5, &MD5_SIG.to_lowercase()),
            (SignType::Md5, &MD5_SIG[..31]),
            (SignType::Md5, ""),
            (SignType::Md5, "9A0A8659F005D6984697E2CA0A9CF3B8"),
            (SignType::Md5, &format!("{MD5_SIG}0")),
            (SignType::Md5, HMAC_SIG),
            (SignType::HmacSha256, MD5_SIG),
            (SignType::HmacSha256, &HMAC_SIG.to_lowercase()),
            (SignType::HmacSha256, &HMAC_SIG[1..]),
        ];
        for (t, given) in table {
            assert!(!verify(VECTOR, &k, *t, given), "{t:?} {given:?}");
        }
        let other = ApiKey::new("192006250b4c09247ec02edce69f6a2e").unwrap();
        assert!(!verify(VECTOR, &other, SignType::Md5, MD5_SIG));
        let mut changed = VECTOR;
        changed[3] = ("body", "test2");
        assert!(!verify(changed, &k, SignType::Md5, MD5_SIG));
    }

    #[test]
    fn debug_hides_the_key() {
        assert!(!format!("{:?}", key()).contains("1920"));
    }
}
