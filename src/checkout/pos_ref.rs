//! The POS's own order id (`pay --ref`), the idempotency key of a sale: at most one sale per ref
//! is ever charged. A retry of a ref answers with its sale instead of charging again; a ref whose
//! attempts all ended not charged may be tried again with a new order number (the customer's
//! balance was short, a fresh code); a ref reused for another amount is refused.

use crate::journal::{SaleRow, SaleState};
use crate::money::Fen;
use crate::words::Bilingual;

use super::progress::{Outcome, Status};

/// Longest ref accepted (a POS order id; WeChat's own order numbers are 32).
pub const MAX_LEN: usize = 64;

/// A validated POS order id: 1–64 printable ASCII characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosRef(String);

/// Why a ref was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("--ref is empty: give the POS's order id")]
    Empty,
    #[error("--ref is {0} characters long; at most {MAX_LEN} are allowed")]
    TooLong(usize),
    #[error(
        "--ref may only hold printable ASCII letters, digits and signs (no spaces); found {0:?}"
    )]
    BadChar(char),
    #[error(
        "--ref holds {0}, which reads as a customer's payment code: paycode never stores a code as an order id — pass the POS's own order id"
    )]
    LooksLikeCode(String),
}

impl Bilingual for RefError {
    fn zh(&self) -> String {
        match self {
            Self::Empty => "--ref 为空:请填写 POS 的订单号".into(),
            Self::TooLong(n) => format!("--ref 长 {n} 个字符;最多 {MAX_LEN} 个"),
            Self::BadChar(c) => {
                format!("--ref 只能包含可打印的 ASCII 字母、数字和符号(不含空格);发现 {c:?}")
            }
            Self::LooksLikeCode(m) => format!(
                "--ref 含有 {m},看起来是顾客的付款码:paycode 从不把付款码当作订单号保存 — 请传入 POS 自己的订单号"
            ),
        }
    }
}

impl PosRef {
    pub fn parse(s: &str) -> Result<PosRef, RefError> {
        if s.is_empty() {
            return Err(RefError::Empty);
        }
        if let Some(c) = s.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(RefError::BadChar(c));
        }
        if s.len() > MAX_LEN {
            return Err(RefError::TooLong(s.len()));
        }
        if crate::authcode::holds_code(s) {
            return Err(RefError::LooksLikeCode(crate::authcode::mask_codes(s)));
        }
        // A code typed in the groups the customer's phone shows (FAULTS row 207).
        let joined = crate::authcode::without_separators(s);
        if crate::authcode::holds_code(&joined) {
            return Err(RefError::LooksLikeCode(crate::authcode::mask_codes(
                &joined,
            )));
        }
        Ok(PosRef(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a new sale for a ref should do, given the journal's sales for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefCheck {
    /// Nothing under this ref may have charged the customer: charge (a new order number).
    Charge,
    /// This ref's sale is paid, or not settled yet: answer with it and send nothing.
    Existing(SaleRow),
    /// The ref belongs to a sale of another amount: refused, nothing sent.
    OtherAmount(SaleRow),
}

/// Decide for `amount` under a ref whose earlier sales are `earlier` (oldest first).
pub fn check(earlier: &[SaleRow], amount: Fen) -> RefCheck {
    // A paid one first; then one still open or unresolved (it may yet turn out paid).
    let paid = earlier.iter().find(|s| status_of(s) == Some(Status::Paid));
    let open = earlier
        .iter()
        .find(|s| matches!(status_of(s), None | Some(Status::Unresolved)));
    if let Some(other) = earlier.iter().find(|s| s.total_fee != amount) {
        // Named by the sale that counts (the paid one), not by an attempt long reversed.
        return RefCheck::OtherAmount(paid.or(open).unwrap_or(other).clone());
    }
    match paid.or(open) {
        Some(s) => RefCheck::Existing(s.clone()),
        None => RefCheck::Charge,
    }
}

/// The cashier-facing status of a journal row; `None` while it is still open.
fn status_of(s: &SaleRow) -> Option<Status> {
    if !s.state.is_final() && s.state != SaleState::Unresolved {
        return None;
    }
    Outcome::from_journal(s, None).map(|o| o.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(no: &str, fee: u64, state: SaleState) -> SaleRow {
        SaleRow {
            out_trade_no: no.into(),
            total_fee: Fen(fee),
            code_fp: "fp".into(),
            code_masked: "13************0001".into(),
            device_info: "till-1".into(),
            created_ms: 1,
            updated_ms: 1,
            state,
            transaction_id: None,
            bank_type: None,
            cash_fee: None,
            err_code: None,
            message: None,
            attach: None,
            pos_ref: Some("R".into()),
        }
    }

    #[test]
    fn refs_are_printable_ascii_up_to_64() {
        assert_eq!(PosRef::parse("POS-1001/7").unwrap().as_str(), "POS-1001/7");
        assert!(PosRef::parse(&"x".repeat(64)).is_ok());
        assert_eq!(PosRef::parse(&"x".repeat(65)), Err(RefError::TooLong(65)));
        assert_eq!(PosRef::parse(""), Err(RefError::Empty));
        assert_eq!(PosRef::parse("a b"), Err(RefError::BadChar(' ')));
        assert_eq!(PosRef::parse("订单"), Err(RefError::BadChar('订')));
        assert_eq!(PosRef::parse("a\tb"), Err(RefError::BadChar('\t')));
    }

    /// Row 207: a code typed in the groups the customer's phone shows was kept whole.
    #[test]
    fn a_code_in_groups_is_still_a_code() {
        for r in [
            "13-0000-0000-0000-9996",
            "1300.0000.0000.0099.96",
            "POS/1300_0000_0000_0099_96",
        ] {
            match PosRef::parse(r) {
                Err(RefError::LooksLikeCode(shown)) => {
                    assert!(shown.contains("13*") && !shown.contains("0000"), "{shown}")
                }
                other => panic!("{r}: {other:?}"),
            }
        }
        assert!(PosRef::parse("ORD-2026-1204-0001").is_ok());
        assert!(PosRef::parse("POS-1001/7").is_ok());
    }

    #[test]
    fn at_most_one_charge_per_ref() {
        use SaleState::*;
        assert_eq!(check(&[], Fen(100)), RefCheck::Charge);
        let failed = row("A", 100, Failed);
        let reversed = row("B", 100, Reversed);
        assert_eq!(
            check(&[failed.clone(), reversed.clone()], Fen(100)),
            RefCheck::Charge
        );
        let paid = row("C", 100, Paid);
        assert_eq!(
            check(&[failed.clone(), paid.clone()], Fen(100)),
            RefCheck::Existing(paid.clone())
        );
        let pending = row("D", 100, Unresolved);
        assert_eq!(
            check(std::slice::from_ref(&pending), Fen(100)),
            RefCheck::Existing(pending.clone())
        );
        // Paid wins over a later unresolved attempt (cannot happen, but the answer is the money).
        assert_eq!(
            check(&[paid.clone(), pending], Fen(100)),
            RefCheck::Existing(paid.clone())
        );
        let open = row("E", 100, Submitted);
        assert_eq!(
            check(std::slice::from_ref(&open), Fen(100)),
            RefCheck::Existing(open)
        );
        assert_eq!(
            check(std::slice::from_ref(&failed), Fen(200)),
            RefCheck::OtherAmount(failed.clone())
        );
        // Another amount for a ref paid after a failed attempt names the paid sale (review 3).
        assert_eq!(
            check(&[failed, paid.clone()], Fen(201)),
            RefCheck::OtherAmount(paid)
        );
    }

    #[test]
    fn a_late_payment_returned_by_refund_counts_as_not_charged() {
        let mut returned = row("F", 100, SaleState::Paid);
        returned.message = Some(super::super::progress::RETURNED_BY_REFUND_NOTE.into());
        assert_eq!(check(&[returned], Fen(100)), RefCheck::Charge);
    }
}
