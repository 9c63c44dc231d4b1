//! What a running sale tells its caller (the CLI's stderr countdown, the TUI's waiting screen),
//! and how it ended.

use std::time::Duration;

use serde::Serialize;

use super::flow::{Final, Summary};
use crate::journal::{SaleRow, SaleState};
use crate::money::Fen;
use crate::wxpay::api::{ErrClass, classify};

/// A step of a running sale, emitted before each request and at least once a second while
/// waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// An unfinished sale from the journal is being resumed (query first, never a new charge).
    Recovering {
        out_trade_no: String,
        total_fee: Fen,
    },
    /// The micropay is being sent.
    Submitting {
        out_trade_no: String,
        total_fee: Fen,
    },
    /// The customer is entering the password; the waiting ends after `remaining`, with a
    /// reverse when `reverses` (the order is proven this sale's), else WeChat is asked on
    /// (`Confirming`).
    WaitingForPassword {
        out_trade_no: String,
        remaining: Duration,
        queries: u32,
        reverses: bool,
    },
    /// The outcome is unknown; orderquery will settle it (`remaining` until the waiting ends;
    /// `reverses` as above).
    Querying {
        out_trade_no: String,
        remaining: Option<Duration>,
        queries: u32,
        reverses: bool,
    },
    /// Reversing (撤销): `attempt` reverse calls so far; the next one goes out in `remaining`
    /// when it waits (WeChat's 15 s floor after the payment, or the pause between tries).
    Reversing {
        out_trade_no: String,
        attempt: u32,
        remaining: Option<Duration>,
    },
    /// The sale must end but nothing proves the order is this till's (the micropay's answer was
    /// lost), so it is not reversed: WeChat is asked until it settles or closes the order, at
    /// most `remaining` more (then unresolved).
    Confirming {
        out_trade_no: String,
        remaining: Duration,
    },
    /// Final.
    Done(Outcome),
}

/// The four states a cashier can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Paid: hand over the goods.
    Paid,
    /// Not charged.
    Failed,
    /// Reversed: not charged, or charged and refunded.
    Reversed,
    /// Not settled: do not hand over goods; it stays on the pending list.
    Unresolved,
}

impl Status {
    /// The CLI/JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Reversed => "reversed",
            Self::Unresolved => "unresolved",
        }
    }

    /// The CLI's exit status (docs/reliability.md §1): 0 paid, 1 not charged, 2 unresolved.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Paid => 0,
            Self::Failed | Self::Reversed => 1,
            Self::Unresolved => 2,
        }
    }
}

/// How a sale ended, with what the cashier, the JSON output and the journal need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub out_trade_no: String,
    pub total_fee: Fen,
    /// The flow's final state.
    pub result: Final,
    /// WeChat's transaction id (paid sales; also kept for reversed-refunded ones when known).
    pub transaction_id: Option<String>,
    pub bank_type: Option<String>,
    pub cash_fee: Option<Fen>,
    /// The last thing that went wrong on the way (for the log and the pending list).
    pub note: Option<String>,
}

impl Outcome {
    /// paid / failed / reversed / unresolved.
    pub fn status(&self) -> Status {
        match self.result {
            Final::Paid(_) => Status::Paid,
            Final::Failed { .. } => Status::Failed,
            // Charged and refunded, as a reverse of a paid order: not paid, nothing owed.
            Final::Reversed { .. } | Final::Refunded(_) => Status::Reversed,
            Final::Unresolved { .. } => Status::Unresolved,
        }
    }

    /// WeChat's err_code (or trade state) behind a not-charged outcome.
    pub fn err_code(&self) -> Option<&str> {
        match &self.result {
            Final::Failed { err_code, .. } => Some(err_code),
            _ => None,
        }
    }

    /// True when a fresh payment code (a new sale) may succeed.
    pub fn rescan(&self) -> bool {
        matches!(self.result, Final::Failed { rescan: true, .. })
    }

    /// The outcome a journal row records; `flow` is its stored summary, if any. `None` while
    /// the sale is still open (intent, submitted, reversing).
    pub fn from_journal(row: &SaleRow, flow: Option<&Summary>) -> Option<Outcome> {
        let stored = flow.and_then(|s| s.outcome.clone());
        let result = match (row.state, stored) {
            (SaleState::Paid, Some(f @ (Final::Paid(_) | Final::Refunded(_)))) => f,
            (SaleState::Paid, _) => {
                let p = super::flow::Payment {
                    transaction_id: row.transaction_id.clone().unwrap_or_default(),
                    total_fee: row.total_fee,
                    time_end: String::new(),
                };
                if row.message.as_deref() == Some(RETURNED_BY_REFUND_NOTE) {
                    Final::Refunded(p)
                } else {
                    Final::Paid(p)
                }
            }
            (SaleState::Failed, Some(f @ Final::Failed { .. })) => f,
            (SaleState::Failed, _) => {
                let err_code = row.err_code.clone().unwrap_or_default();
                let rescan = classify(&err_code) == ErrClass::Rescan;
                Final::Failed { err_code, rescan }
            }
            (SaleState::Reversed, Some(f @ Final::Reversed { .. })) => f,
            (SaleState::Reversed, _) => Final::Reversed {
                refunded: row.message.as_deref() == Some(REFUNDED_NOTE),
            },
            (SaleState::Unresolved, Some(f @ Final::Unresolved { .. })) => f,
            (SaleState::Unresolved, _) => Final::Unresolved {
                why: row.message.clone().unwrap_or_default(),
            },
            (SaleState::Intent | SaleState::Submitted | SaleState::Reversing, _) => return None,
        };
        Some(Outcome {
            out_trade_no: row.out_trade_no.clone(),
            total_fee: row.total_fee,
            result,
            transaction_id: row.transaction_id.clone(),
            bank_type: row.bank_type.clone(),
            cash_fee: row.cash_fee,
            note: flow.and_then(|s| s.problem.clone()),
        })
    }
}

/// The journal `message` of a reversed sale whose customer had been charged (then refunded).
pub(crate) const REFUNDED_NOTE: &str = "charged and refunded by the reverse";
/// The journal `message` of a paid sale whose payment came too late to reverse and went back
/// through the refund API (the sale is charged, and its refund is in the journal's refunds).
pub(crate) const RETURNED_BY_REFUND_NOTE: &str =
    "paid after the cashier was told not to hand over goods, past the reverse window: refunded";
/// The journal `message` of a reversed sale that was never charged.
pub(crate) const NOT_CHARGED_NOTE: &str = "not charged";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: SaleState) -> SaleRow {
        SaleRow {
            out_trade_no: "T1".into(),
            total_fee: Fen(100),
            code_fp: "fp".into(),
            code_masked: "13************4321".into(),
            device_info: "d".into(),
            created_ms: 1,
            updated_ms: 2,
            state,
            transaction_id: Some("42".into()),
            bank_type: None,
            cash_fee: None,
            err_code: Some("NOTENOUGH".into()),
            message: Some(REFUNDED_NOTE.into()),
            attach: None,
            pos_ref: None,
        }
    }

    #[test]
    fn journal_rows_without_a_summary_still_map() {
        let st = |s| Outcome::from_journal(&row(s), None).map(|o| (o.status(), o.rescan()));
        assert_eq!(st(SaleState::Paid), Some((Status::Paid, false)));
        assert_eq!(st(SaleState::Failed), Some((Status::Failed, true)));
        assert_eq!(st(SaleState::Reversed), Some((Status::Reversed, false)));
        assert_eq!(st(SaleState::Unresolved), Some((Status::Unresolved, false)));
        assert_eq!(st(SaleState::Submitted), None);
        let rev = Outcome::from_journal(&row(SaleState::Reversed), None).unwrap();
        assert_eq!(rev.result, Final::Reversed { refunded: true });
        let codes: Vec<u8> = [
            Status::Paid,
            Status::Failed,
            Status::Reversed,
            Status::Unresolved,
        ]
        .iter()
        .map(|s| s.exit_code())
        .collect();
        assert_eq!(codes, [0, 1, 1, 2]);
    }
}
