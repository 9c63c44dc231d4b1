//! The WeChat Pay v2 endpoints a store terminal uses: one list for the client that calls them
//! and the simulator that serves them.

use serde::Serialize;

/// Largest statement accepted (one till's day is far smaller).
pub const MAX_BILL: usize = 16 * 1024 * 1024;

/// The prefix of WeChat's sandbox; the simulator also serves every path under it.
pub const SANDBOX_PREFIX: &str = "/xdc/apiv2sandbox";

/// A WeChat Pay v2 endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/pay/micropay`: charge a scanned payment code.
    Micropay,
    /// `/pay/orderquery`: state of an order.
    OrderQuery,
    /// `/secapi/pay/reverse`: cancel (撤销) an unfinished or unknown micropay.
    Reverse,
    /// `/secapi/pay/refund`: refund a paid order.
    Refund,
    /// `/pay/refundquery`: refund progress.
    RefundQuery,
    /// `/pay/downloadbill`: a day's statement.
    DownloadBill,
}

impl Endpoint {
    /// Every endpoint, in declaration (and `index`) order.
    pub const ALL: [Endpoint; 6] = [
        Self::Micropay,
        Self::OrderQuery,
        Self::Reverse,
        Self::Refund,
        Self::RefundQuery,
        Self::DownloadBill,
    ];

    /// The path below the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Self::Micropay => "/pay/micropay",
            Self::OrderQuery => "/pay/orderquery",
            Self::Reverse => "/secapi/pay/reverse",
            Self::Refund => "/secapi/pay/refund",
            Self::RefundQuery => "/pay/refundquery",
            Self::DownloadBill => "/pay/downloadbill",
        }
    }

    /// Short name (ledger request counts, the simulator's admin API).
    pub fn name(self) -> &'static str {
        match self {
            Self::Micropay => "micropay",
            Self::OrderQuery => "orderquery",
            Self::Reverse => "reverse",
            Self::Refund => "refund",
            Self::RefundQuery => "refundquery",
            Self::DownloadBill => "downloadbill",
        }
    }

    /// The endpoint served at `path` (with or without the sandbox prefix).
    pub fn from_path(path: &str) -> Option<Self> {
        let p = path.strip_prefix(SANDBOX_PREFIX).unwrap_or(path);
        Self::ALL.into_iter().find(|e| e.path() == p)
    }

    /// Parse a short name (`micropay`, `reverse`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// True for `/secapi/*`: the merchant certificate must be presented (mutual TLS).
    pub fn needs_client_cert(self) -> bool {
        self.path().starts_with("/secapi/")
    }

    /// True for the calls that move money (micropay, refund): the client repeats them on the
    /// backup host only when the first try surely never left this machine. The others (queries,
    /// reverse, the statement) are safe to repeat after any failure that may have reached WeChat.
    /// A refund's `out_refund_no` deduplicates it within one site, but WeChat does not document
    /// that a refund in flight on one city's site and its resend to the other are deduplicated
    /// during the very outage that causes the failover.
    pub fn moves_money(self) -> bool {
        matches!(self, Self::Micropay | Self::Refund)
    }

    /// Largest reply to read: the configured cap for XML replies; a day's statement is CSV and
    /// may be far longer, up to [`MAX_BILL`].
    pub fn reply_cap(self, xml_cap: usize) -> usize {
        match self {
            Self::DownloadBill => MAX_BILL.max(xml_cap),
            _ => xml_cap,
        }
    }

    /// Position in [`Endpoint::ALL`], for per-endpoint tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_names_and_indexes_round_trip() {
        for (i, e) in Endpoint::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(Endpoint::from_path(e.path()), Some(e));
            assert_eq!(
                Endpoint::from_path(&format!("{SANDBOX_PREFIX}{}", e.path())),
                Some(e)
            );
            assert_eq!(Endpoint::from_name(e.name()), Some(e));
            assert_eq!(
                e.needs_client_cert(),
                matches!(e, Endpoint::Reverse | Endpoint::Refund)
            );
        }
        assert_eq!(Endpoint::from_path("/pay/unknown"), None);
    }
}
