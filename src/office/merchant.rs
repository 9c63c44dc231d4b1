//! Merchant-level reconciliation (pure): one statement of a merchant number against the records
//! of all its tills, through the till's own comparison (`checkout::reconcile::reconcile`, the
//! same finding kinds), each order attributed to its till. An order WeChat has under a
//! registered till's numbers that the office has no record of yet is "not shipped yet" — the
//! till has not sent it — never "unknown order", which would advise a refund.

use super::report::TillSeen;
use crate::checkout::reconcile::{Finding, Report, Statement, reconcile};
use crate::journal::{Refund, SaleRow, SaleState};
use std::collections::BTreeMap;

/// What the office found for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficeFinding {
    /// The till's comparison's finding.
    Till(Finding),
    /// WeChat has it under this till's numbers; the till's records of it have not arrived.
    NotShippedYet,
    /// WeChat charged it; the office's newest record of it is still open (this state). The
    /// till's newer one may not have arrived (a sale shipped mid-payment), so the till, not
    /// the office, says what it is (FAULTS row 206).
    OpenAtOffice(SaleState),
}

impl OfficeFinding {
    /// Stable name for JSON.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Till(f) => f.key(),
            Self::NotShippedYet => "not_shipped_yet",
            Self::OpenAtOffice(_) => "open_at_office",
        }
    }

    /// True when someone has to act (a till not shipped yet: wait, then look again).
    pub fn is_difference(&self) -> bool {
        match self {
            Self::Till(f) => f.is_difference(),
            Self::NotShippedYet | Self::OpenAtOffice(_) => true,
        }
    }
}

/// One order of the merchant's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantLine {
    pub out_trade_no: String,
    /// The till it belongs to, when known.
    pub till: Option<String>,
    pub finding: OfficeFinding,
}

impl MerchantLine {
    /// What was found and what to do (`zh`: Chinese).
    pub fn words(&self, zh: bool) -> String {
        let no = &self.out_trade_no;
        let till = self.till.as_deref().unwrap_or("?");
        match (&self.finding, zh) {
            (OfficeFinding::NotShippedYet, false) => format!(
                "{no}: not shipped yet — till {till}'s records of it have not reached the office; do not refund it; check that till ships (`paycode office ship` there) and reconcile again"
            ),
            (OfficeFinding::NotShippedYet, true) => format!(
                "{no}:尚未上传 — 收银台 {till} 的记录还没有到达总部;请勿退款;请检查该收银台的上传(在该机运行 `paycode office ship`)后重新对账"
            ),
            (OfficeFinding::OpenAtOffice(s), false) => format!(
                "{no}: WeChat charged it; the office's newest record of it from till {till} is still {} — the till's newer record may not have arrived; do not refund it; look at it on till {till} (`paycode query {no}` there settles it from WeChat's answer), then reconcile again",
                s.as_str()
            ),
            (OfficeFinding::OpenAtOffice(s), true) => format!(
                "{no}:微信已扣款;总部收到的收银台 {till} 最新记录仍是{} — 该收银台更新的记录可能尚未到达;请勿退款;请在收银台 {till} 上查看(在该机运行 `paycode query {no}`,按微信的结果结清)后重新对账",
                s.zh()
            ),
            (OfficeFinding::Till(f), false) => format!("[{till}] {}", f.en(no)),
            (OfficeFinding::Till(f), true) => format!("[{till}] {}", f.zh(no)),
        }
    }
}

/// The merchant's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantReport {
    /// Totals as the till's comparison sums them.
    pub totals: Report,
    /// Every order, differences first.
    pub lines: Vec<MerchantLine>,
}

impl MerchantReport {
    pub fn differences(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.finding.is_difference())
            .count()
    }
}

/// The registered till whose numbers `no` has: its `device_info` then the 17-digit Beijing
/// stamp (`checkout::order_no`).
pub fn till_of_number<'a>(no: &str, tills: &'a [TillSeen]) -> Option<&'a str> {
    tills.iter().map(|t| t.till_id.as_str()).find(|id| {
        no.strip_prefix(id)
            .is_some_and(|rest| rest.len() == 17 && rest.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Compare. `sales`: the merchant's tills' sales created on the day, each with its till;
/// `elsewhere`: their sales of other days the statement names; `refunds`: asked for on the
/// day; `tills`: the registry (to attribute numbers the office has no record of).
pub fn reconcile_merchant(
    sales: &[(String, SaleRow)],
    elsewhere: &[(String, SaleRow)],
    refunds: &[Refund],
    statement: &BTreeMap<String, Statement>,
    tills: &[TillSeen],
) -> MerchantReport {
    let owner: BTreeMap<&str, &str> = sales
        .iter()
        .chain(elsewhere)
        .map(|(t, s)| (s.out_trade_no.as_str(), t.as_str()))
        .collect();
    let day: Vec<SaleRow> = sales.iter().map(|(_, s)| s.clone()).collect();
    let other: Vec<SaleRow> = elsewhere.iter().map(|(_, s)| s.clone()).collect();
    let totals = reconcile(&day, refunds, &other, statement);
    let mut lines: Vec<MerchantLine> = totals
        .lines
        .iter()
        .map(|l| {
            let known = owner.get(l.out_trade_no.as_str()).map(|t| t.to_string());
            match (&l.finding, known) {
                (Finding::UnknownOrder, None) => match till_of_number(&l.out_trade_no, tills) {
                    Some(t) => MerchantLine {
                        out_trade_no: l.out_trade_no.clone(),
                        till: Some(t.to_string()),
                        finding: OfficeFinding::NotShippedYet,
                    },
                    None => MerchantLine {
                        out_trade_no: l.out_trade_no.clone(),
                        till: None,
                        finding: OfficeFinding::Till(Finding::UnknownOrder),
                    },
                },
                (Finding::ChargedNotPaid(s), Some(till)) if !s.is_final() => MerchantLine {
                    out_trade_no: l.out_trade_no.clone(),
                    till: Some(till),
                    finding: OfficeFinding::OpenAtOffice(*s),
                },
                (f, till) => MerchantLine {
                    out_trade_no: l.out_trade_no.clone(),
                    till,
                    finding: OfficeFinding::Till(f.clone()),
                },
            }
        })
        .collect();
    lines.sort_by_key(|l| (!l.finding.is_difference(), l.out_trade_no.clone()));
    MerchantReport { totals, lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Fen;

    fn seen(id: &str) -> TillSeen {
        TillSeen {
            till_id: id.into(),
            store: "S".into(),
            mch_id: Some("1".into()),
            last_seen_ms: Some(0),
            newest_ms: Some(0),
            refused: None,
        }
    }

    fn paid(fen: u64) -> Statement {
        Statement {
            paid: Fen(fen),
            ..Statement::default()
        }
    }

    #[test]
    fn each_order_is_its_tills_and_an_unshipped_one_is_never_unknown() {
        let a = "T120261203101010123";
        let b = "T220261203101010456";
        let stranger = "X-20261203";
        let sales = vec![("T1".to_string(), SaleRow::paid_for_tests(a, 100))];
        let statement: BTreeMap<String, Statement> = [
            (a.to_string(), paid(100)),
            (b.to_string(), paid(200)),
            (stranger.to_string(), paid(300)),
        ]
        .into();
        let r = reconcile_merchant(&sales, &[], &[], &statement, &[seen("T1"), seen("T2")]);
        let by: BTreeMap<&str, &MerchantLine> = r
            .lines
            .iter()
            .map(|l| (l.out_trade_no.as_str(), l))
            .collect();
        assert_eq!(by[a].finding, OfficeFinding::Till(Finding::Agrees));
        assert_eq!(by[a].till.as_deref(), Some("T1"));
        assert_eq!(by[b].finding, OfficeFinding::NotShippedYet);
        assert_eq!(by[b].till.as_deref(), Some("T2"));
        assert!(by[b].words(false).contains("do not refund"));
        assert!(by[b].words(true).contains("请勿退款"));
        assert_eq!(
            by[stranger].finding,
            OfficeFinding::Till(Finding::UnknownOrder)
        );
        assert_eq!(r.differences(), 2);
        assert_eq!(till_of_number("T1220261203101010123", &[seen("T1")]), None);
    }

    /// Row 206: a sale shipped mid-payment (`submitted`) whose paid state has not reached the
    /// office yet was "charged but the journal says submitted — `paycode query` gives the money
    /// back"; the office's record of an open sale may be old, so it says to look on the till.
    #[test]
    fn a_sale_open_at_the_office_that_wechat_charged_is_looked_at_on_its_till() {
        let a = "T120261203101010123";
        let mut open = SaleRow::paid_for_tests(a, 900);
        open.state = crate::journal::SaleState::Submitted;
        let statement: BTreeMap<String, Statement> = [(a.to_string(), paid(900))].into();
        let r = reconcile_merchant(
            &[("T1".to_string(), open)],
            &[],
            &[],
            &statement,
            &[seen("T1")],
        );
        let line = &r.lines[0];
        assert_eq!(
            line.finding,
            OfficeFinding::OpenAtOffice(crate::journal::SaleState::Submitted)
        );
        let (en, zh) = (line.words(false), line.words(true));
        assert!(
            en.contains("do not refund") && en.contains("till T1") && en.contains("paycode query"),
            "{en}"
        );
        assert!(!en.contains("money back"), "{en}");
        assert!(zh.contains("请勿退款") && zh.contains("收银台 T1"), "{zh}");
        assert_eq!(r.differences(), 1);
    }
}
