//! WeChat Pay v2 signatures (PROTOCOL.md §2): MD5 and HMAC-SHA256 over the sorted,
//! non-empty fields plus `&key=…`, with a constant-time verify.

use std::fmt;

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
