//! `GET /__sim/ledger`: every order with its money and request counts, as JSON-ready data.

use super::ledger::{Sim, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

impl LedgerView {
    /// The order named `out_trade_no`.
    pub fn order(&self, out_trade_no: &str) -> Option<&OrderView> {
        self.orders.iter().find(|o| o.out_trade_no == out_trade_no)
    }
}

impl Sim {
    /// Every order and the totals, as of `now`.
    pub fn ledger(&mut self, now: SimTime) -> LedgerView {
        self.advance_all(now);
        let ms = |t: SimTime| u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        let orders: Vec<OrderView> = self
            .orders
            .iter()
            .map(|o| OrderView {
                out_trade_no: o.out_trade_no.clone(),
                transaction_id: o.paid_at.map(|_| o.transaction_id.clone()),
                code: o.code.masked(),
                scenario: o.scenario.to_string(),
                device_info: o.device_info.clone(),
                attach: o.attach.clone(),
                amount: o.amount,
                state: o.state.as_str().to_string(),
                err_code: o.fail.as_ref().map(|(c, _)| (*c).to_string()),
                charged: o.charged(),
                refunded: o.refunded(now),
                refund_pending: o.refund_requested().saturating_sub(o.refunded(now)),
                created_ms: ms(o.created),
                created_at: self.dashed_time(o.created),
                paid_ms: o.paid_at.map(ms),
                paid_at: o.paid_at.map(|t| self.dashed_time(t)),
                closed_ms: o.closed_at.or(o.reversed_at).map(ms),
                refunds: o
                    .refunds
                    .iter()
                    .map(|r| RefundView {
                        out_refund_no: r.out_refund_no.clone(),
                        refund_id: r.refund_id.clone(),
                        fee: r.fee,
                        status: r.status(now).to_string(),
                    })
                    .collect(),
                requests: o
                    .requests
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), *v))
                    .collect(),
            })
            .collect();
        let charged: u64 = orders.iter().map(|o| o.charged).sum();
        let refunded: u64 = orders.iter().map(|o| o.refunded).sum();
        LedgerView {
            totals: Totals {
                orders: orders.len(),
                paid_orders: orders.iter().filter(|o| o.charged > 0).count(),
                charged,
                refunded,
                net: charged.saturating_sub(refunded),
                requests: self
                    .requests
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), *v))
                    .collect(),
                pending_faults: self.faults.len(),
            },
            orders,
        }
    }
}

/// `GET /__sim/ledger`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerView {
    /// Every order, oldest first.
    pub orders: Vec<OrderView>,
    /// Sums over all orders.
    pub totals: Totals,
}

/// One order in the ledger. Amounts are fen; times are ms of simulated time and Beijing text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub out_trade_no: String,
    pub transaction_id: Option<String>,
    /// Masked payment code.
    pub code: String,
    pub scenario: String,
    pub device_info: String,
    /// The `attach` of the micropay that created the order (paycode's per-sale tag).
    #[serde(default)]
    pub attach: String,
    pub amount: u64,
    pub state: String,
    pub err_code: Option<String>,
    pub charged: u64,
    pub refunded: u64,
    pub refund_pending: u64,
    pub created_ms: u64,
    pub created_at: String,
    pub paid_ms: Option<u64>,
    pub paid_at: Option<String>,
    pub closed_ms: Option<u64>,
    pub refunds: Vec<RefundView>,
    /// Requests that named this order, per endpoint.
    pub requests: BTreeMap<String, u32>,
}

/// One refund in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    pub out_refund_no: String,
    pub refund_id: String,
    pub fee: u64,
    pub status: String,
}

/// Ledger totals (fen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub orders: usize,
    pub paid_orders: usize,
    pub charged: u64,
    pub refunded: u64,
    /// charged − refunded.
    pub net: u64,
    /// All requests per endpoint, refused ones included.
    pub requests: BTreeMap<String, u64>,
    pub pending_faults: usize,
}
