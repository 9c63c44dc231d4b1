//! The one way application code talks to WeChat Pay: a typed request ([`api::Call`]) is signed
//! with a fresh nonce, posted to its own endpoint, and its reply verified against it.

use std::time::Duration;

use super::api::{Call, Merchant, ReplyError, RequestError};
use super::client::{Client, HostUsed, RawReply, TransportError};

/// Why a call got no reply to verify: the request could not be built (nothing was sent), or the
/// transport failed (it may have arrived).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Request(#[from] RequestError),
    #[error("{0}")]
    Transport(#[from] TransportError),
}

impl crate::words::Bilingual for CallError {
    fn zh(&self) -> String {
        match self {
            Self::Request(e) => e.zh(),
            Self::Transport(e) => e.zh(),
        }
    }
}

/// A reply that arrived: its verified answer (or why it cannot be trusted) and where and when
/// it came from.
#[derive(Debug)]
pub struct Answered<T> {
    pub answer: Result<T, ReplyError>,
    pub host: HostUsed,
    /// The HTTP `Date` header, for clock-skew checks.
    pub server_date: Option<String>,
    /// Time from the call to the end of the body, failover included.
    pub elapsed: Duration,
}

impl<T> Answered<T> {
    /// Seconds the server's clock is ahead of `now_unix`, from its `Date` header.
    pub fn clock_skew(&self, now_unix: i64) -> Option<i64> {
        self.server_date
            .as_deref()
            .and_then(|d| super::client::clock_skew(d, now_unix))
    }
}

/// Sign `req` for `m`, post it to its endpoint and verify the reply.
pub async fn call<R: Call>(
    client: &Client,
    m: &Merchant,
    req: &R,
) -> Result<Answered<R::Answer>, CallError> {
    let xml = req.encode(m, &nonce())?;
    let RawReply {
        body,
        host,
        server_date,
        elapsed,
        ..
    } = client.post(R::ENDPOINT, xml).await?;
    Ok(Answered {
        answer: req.parse(&body, m),
        host,
        server_date,
        elapsed,
    })
}

/// Validate `req` without sending it (a bad setting is refused before anything is journaled).
pub fn check<R: Call>(m: &Merchant, req: &R) -> Result<(), RequestError> {
    req.encode(m, &nonce()).map(drop)
}

/// 32 hex characters from the OS random source.
pub fn nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_32_hex_and_fresh() {
        assert_eq!(nonce().len(), 32);
        assert!(nonce().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(nonce(), nonce());
    }

    #[test]
    fn every_request_type_knows_its_endpoint() {
        use crate::wxpay::api;
        use crate::wxpay::endpoint::Endpoint;
        assert_eq!(api::MicropayRequest::ENDPOINT, Endpoint::Micropay);
        assert_eq!(api::OrderQueryRequest::ENDPOINT, Endpoint::OrderQuery);
        assert_eq!(api::ReverseRequest::ENDPOINT, Endpoint::Reverse);
        assert_eq!(api::RefundRequest::ENDPOINT, Endpoint::Refund);
        assert_eq!(api::RefundQueryRequest::ENDPOINT, Endpoint::RefundQuery);
        assert_eq!(api::DownloadBillRequest::ENDPOINT, Endpoint::DownloadBill);
    }
}
