//! One health probe for `paycode check` and the cashier's diagnostics screen: a signed
//! orderquery of an order that does not exist (harmless: nothing is charged or changed) tells
//! reachability, latency, whether replies verify with the key, and the clock skew; the client
//! certificate's expiry comes from the configured identity.

use std::path::PathBuf;
use std::time::Duration;

use super::link::{Link, identity_of};
use crate::config::Config;
use crate::wxpay::api::{OrderQueryRequest, OrderRef, ReplyError};
use crate::wxpay::call::CallError;

/// The order number the probe asks about; no till ever uses it.
const PROBE_ORDER: &str = "paycodecheck0";

/// What the probe found.
#[derive(Debug)]
pub struct Health {
    /// The probe's round trip, or why it got no reply.
    pub api: Result<Duration, CallError>,
    /// Whether the reply verified with the configured key (`None`: no reply).
    pub key: Option<Result<(), ReplyError>>,
    /// Seconds WeChat's clock is ahead of ours (`None`: no reply or no usable `Date` header).
    pub clock_skew_secs: Option<i64>,
    /// The client certificate file and its days left, when one is configured.
    pub certificate: Option<(PathBuf, Result<i64, String>)>,
}

/// Probe the API through `link` (configured by `cfg`); `now_unix` is the local clock to compare
/// with.
pub async fn probe(link: &Link, cfg: &Config, now_unix: i64) -> Health {
    let req = OrderQueryRequest {
        order: OrderRef::OutTradeNo(PROBE_ORDER.into()),
        expect_total_fee: None,
        expect_attach: None,
    };
    let certificate = certificate(cfg, now_unix);
    match link.call(&req).await {
        Err(e) => Health {
            api: Err(e),
            key: None,
            clock_skew_secs: None,
            certificate,
        },
        Ok(a) => Health {
            api: Ok(a.elapsed),
            clock_skew_secs: a.clock_skew(now_unix),
            key: Some(a.answer.map(drop)),
            certificate,
        },
    }
}

/// The configured client certificate and its days left (`None`: none configured).
pub fn certificate(cfg: &Config, now_unix: i64) -> Option<(PathBuf, Result<i64, String>)> {
    cfg.wechat
        .identity
        .as_ref()
        .map(|id| identity_of(id).days_left(now_unix))
}
