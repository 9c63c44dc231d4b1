//! Closing a definite failure after the cashier was told (docs/protocol.md §5): which sales need
//! it, and what the confirming orderquery's answer means. WeChat's global guide wants every
//! order closed (SUCCESS, CLOSED or REVOKED) and warns that a business failure can hide a payment.

use super::rules::NOTEXIST;
use super::{Final, Reply, Summary, TradeState};
use crate::wxpay::api::{ErrClass, classify};

/// What to do after the confirming query of a definite failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// WeChat verified the order is not charged (or it is another till's): nothing to do.
    Closed,
    /// Paid with this sale's tag: reverse it (after WeChat's 15 s floor), as any reverse.
    Reverse,
    /// No verified answer: ask again later.
    Later,
    /// The order is still open (the customer's phone may be asking for the password). Nothing
    /// proves an open order under the number is this sale's (WeChat sends the sale's tag only
    /// with a payment), so it is never reversed; it ends paid (then reversed, as this sale's)
    /// or closed — WeChat closes an unpaid order by itself after about 45 s. Until then a new
    /// charge for the customer is held (FAULTS.md row 146).
    Open,
    /// Still no such order, for a sale that ended on "no such order" less than
    /// [`NOTEXIST_WATCH_MS`] ago: not charged now, but a micropay delivered late could still
    /// create it, so it is asked about again (a new attempt for its ref may go ahead).
    Watch,
}

/// How long a sale that ended on "no such order" stays on the closing list: a micropay held
/// by a gateway and delivered late can still charge the customer after the till said "not
/// charged" (second review of stop 20, F1). A day covers any delivery delay seen in practice.
pub const NOTEXIST_WATCH_MS: i64 = 24 * 3600 * 1000;

/// True for a sale that ended not charged on the micropay's own answer (a Rescan or Failed
/// code, no query or reverse after it): nothing verified that the order is closed. A refusal
/// already confirmed by a query, a trade state, a cancel before sending, or a number that is
/// another till's order need no closing.
pub fn needs_closing(summary: &Summary) -> bool {
    let direct = summary.queries == 0 && summary.reverse_attempts == 0 && !summary.cancelled;
    let definite = matches!(
        &summary.outcome,
        Some(Final::Failed { err_code, .. })
            if matches!(classify(err_code), ErrClass::Rescan | ErrClass::Failed)
    );
    // "No such order" is WeChat's answer of the moment, not a closed order (row 78).
    let notexist = matches!(
        &summary.outcome,
        Some(Final::Failed { err_code, .. }) if err_code == NOTEXIST
    );
    (direct && definite) || notexist
}

/// The confirming query's answer; `young`: the sale was made less than [`NOTEXIST_WATCH_MS`]
/// ago, so "no such order" is not final yet.
pub fn after_query(reply: &Reply, young: bool) -> Closing {
    match reply {
        Reply::QueryNotExist if young => Closing::Watch,
        Reply::QueryNotExist | Reply::NotOurs { .. } => Closing::Closed,
        Reply::QueryState { state, .. } => match state {
            TradeState::Closed | TradeState::Revoked | TradeState::PayError => Closing::Closed,
            // A refund exists: someone already returned money; reconcile shows the rest.
            TradeState::Refund => Closing::Closed,
            // The api checked the tag: a payment reaching here is this sale's.
            TradeState::Success => Closing::Reverse,
            TradeState::UserPaying | TradeState::NotPay | TradeState::Accept => Closing::Open,
        },
        _ => Closing::Later,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Millis, Payment};
    use super::*;
    use crate::money::Fen;

    fn summary(err_code: &str, queries: u32) -> Summary {
        Summary {
            submitted_at: Millis(0),
            resume: None,
            queries,
            reverse_attempts: 0,
            cancelled: false,
            problem: None,
            outcome: Some(Final::Failed {
                err_code: err_code.into(),
                rescan: true,
            }),
            proof: Default::default(),
        }
    }

    #[test]
    fn only_an_unconfirmed_definite_refusal_is_closed() {
        assert!(needs_closing(&summary("NOTENOUGH", 0)));
        assert!(needs_closing(&summary("TRADE_ERROR", 0)));
        assert!(
            !needs_closing(&summary("NOTENOUGH", 1)),
            "a query confirmed it"
        );
        assert!(
            !needs_closing(&summary("OUT_TRADE_NO_USED", 0)),
            "another till's"
        );
        assert!(!needs_closing(&summary("PAYERROR", 0)), "a trade state");
        assert!(!needs_closing(&summary("CANCELLED", 0)));
        let mut cancelled = summary("NOTENOUGH", 0);
        cancelled.cancelled = true;
        assert!(!needs_closing(&cancelled));
        let mut paid = summary("NOTENOUGH", 0);
        paid.outcome = None;
        assert!(!needs_closing(&paid));
        // A sale that ended on "no such order", however it got there, stays on the list.
        assert!(needs_closing(&summary("ORDERNOTEXIST", 4)));
    }

    #[test]
    fn the_confirming_query_decides() {
        let st = |s| Reply::QueryState {
            state: s,
            payment: None,
        };
        assert_eq!(
            after_query(&st(TradeState::PayError), true),
            Closing::Closed
        );
        assert_eq!(after_query(&st(TradeState::Revoked), true), Closing::Closed);
        assert_eq!(after_query(&Reply::QueryNotExist, false), Closing::Closed);
        assert_eq!(after_query(&Reply::QueryNotExist, true), Closing::Watch);
        let paid = Reply::QueryState {
            state: TradeState::Success,
            payment: Some(Payment {
                transaction_id: "4200".into(),
                total_fee: Fen(100),
                time_end: String::new(),
            }),
        };
        assert_eq!(after_query(&paid, false), Closing::Reverse);
        assert_eq!(after_query(&st(TradeState::NotPay), true), Closing::Open);
        assert_eq!(
            after_query(&st(TradeState::UserPaying), true),
            Closing::Open
        );
        let unknown = Reply::Unknown {
            why: "timeout".into(),
        };
        assert_eq!(after_query(&unknown, true), Closing::Later);
    }
}
