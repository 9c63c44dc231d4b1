//! A shift's report, from the journal's rows: pure (the window and the rows are parameters).
//!
//! A shift runs `[opened_ms, until_ms)`: from the previous handover (or the till's first sale)
//! to its own handover, or to now while it is open. Its money is the sales made in it and the
//! refunds made in it, counted the way the day's history counts them, so a day whose shifts
//! all fall inside it sums to that day's history.

use crate::journal::{DayTotals, Refund, RefundState, SaleRow, SaleState, StateTotal};
use crate::money::{Fen, NetFen};
use crate::words::Words;
use serde::{Deserialize, Serialize};

/// One shift's report: what is kept in the journal when it closes (JSON) and what every
/// rendering (screen, text, CSV, JSON, slip) reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The till's `device_info`.
    pub till: String,
    pub opened_ms: i64,
    /// The handover (closed) or the moment the report was made (open).
    pub until_ms: i64,
    /// The shift's number once closed.
    pub closed_id: Option<i64>,
    /// Count and amount of the shift's sales by journal state.
    pub by_state: Vec<StateTotal>,
    /// Paid sales, before refunds.
    pub paid_count: u64,
    pub paid: Fen,
    /// Refunds WeChat accepted, made in the shift (of any shift's sales).
    pub refund_count: u64,
    pub refunded: Fen,
    /// Money taken: paid minus refunded.
    pub net: NetFen,
    /// Beijing hours with any paid sale or refund, oldest first.
    pub by_hour: Vec<Hour>,
    /// What the next cashier must know first: every sale not settled (of any shift) and the
    /// shift's refunds WeChat has not confirmed.
    pub attention: Vec<Attention>,
    /// Sales of earlier shifts settled during this one (their money is in their own shift).
    pub settled_since: Vec<Settled>,
}

/// One Beijing hour of a shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hour {
    /// Unix ms of the hour's start.
    pub from_ms: i64,
    pub paid_count: u64,
    pub paid: Fen,
    pub refunded: Fen,
}

/// Something the next cashier or the manager has to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub kind: AttentionKind,
    pub out_trade_no: String,
    pub out_refund_no: Option<String>,
    pub amount: Fen,
    pub created_ms: i64,
}

/// Why a line is in [`Report::attention`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// WeChat gave no final answer: on the pending list.
    Unresolved,
    /// paycode stopped during the sale; the next start or `recover` resumes it.
    Unfinished,
    /// A refund without a verified answer from WeChat.
    RefundUnconfirmed,
    /// WeChat could not pay the refund to the customer's bank card.
    RefundToCardFailed,
}

impl AttentionKind {
    /// What the line is and what to do, in both languages.
    pub fn what_to_do(self) -> Words {
        match self {
            Self::Unresolved => Words::new(
                "unresolved: do not hand over the goods for it; it is on the pending list (F3) and retried — `paycode query <no>` asks WeChat now",
                "结果未明:不要为它交付商品;它在待处理列表(F3)中并会自动重试,`paycode query <单号>` 可立即询问微信",
            ),
            Self::Unfinished => Words::new(
                "not finished (paycode stopped during the sale): the next start or `paycode recover` resumes it; no goods until it shows paid",
                "未完成(收款中途 paycode 停止):下次启动或 `paycode recover` 会继续处理;显示已支付前不要交付商品",
            ),
            Self::RefundUnconfirmed => Words::new(
                "refund not confirmed by WeChat: do not pay cash instead; `paycode refund <order no> --amount <its amount>` sends it again under its own number (without --amount it would refund all the rest); a POS's refund is sent again by the POS with its refund_ref",
                "退款未获微信确认:不要改付现金;`paycode refund <订单号> --amount <该笔金额>` 会以原退款单号重新发送(不带 --amount 会把剩余金额全部退款);POS 发起的退款由 POS 用其 refund_ref 重新发送",
            ),
            Self::RefundToCardFailed => Words::new(
                "the refund to the customer's bank card failed (CHANGE): handle it in the WeChat Pay merchant platform",
                "退款到顾客银行卡失败(CHANGE):请在微信支付商户平台处理",
            ),
        }
    }
}

/// An earlier shift's sale that was settled during this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    pub out_trade_no: String,
    pub amount: Fen,
    pub created_ms: i64,
    pub state: SaleState,
}

/// The rows a report is made of, as the journal gives them.
pub struct Rows<'a> {
    /// Sales made in the window.
    pub sales: &'a [SaleRow],
    /// Refunds made in the window (of any sale).
    pub refunds: &'a [Refund],
    /// Every sale not final, whenever it was made.
    pub unfinished: &'a [SaleRow],
    /// Sales made before the window whose state changed in it.
    pub changed: &'a [SaleRow],
}

const HOUR_MS: i64 = 3_600_000;
const BEIJING_MS: i64 = 8 * HOUR_MS;

/// Unix ms of the start of the Beijing hour holding `ms` (Beijing is a whole-hour offset, so
/// this is the UTC hour too; the offset is kept for the reader).
fn hour_of(ms: i64) -> i64 {
    (ms + BEIJING_MS).div_euclid(HOUR_MS) * HOUR_MS - BEIJING_MS
}

impl Report {
    /// "Shift 3" / "班次 3", or the open shift.
    pub fn title(&self) -> Words {
        match self.closed_id {
            Some(id) => Words::new(format!("Shift {id}"), format!("班次 {id}")),
            None => Words::new("Open shift", "当前班次(未交班)"),
        }
    }

    /// The report of `till`'s shift `[opened_ms, until_ms)` from `rows`.
    pub fn of(till: &str, (opened_ms, until_ms): (i64, i64), rows: &Rows<'_>) -> Report {
        let window = (opened_ms, until_ms);
        let inside = |ms: i64| (opened_ms..until_ms).contains(&ms);
        let sales: Vec<SaleRow> = rows
            .sales
            .iter()
            .filter(|s| inside(s.created_ms))
            .cloned()
            .collect();
        let totals = DayTotals::of(&sales, rows.refunds, window);
        let paid_count = totals
            .by_state
            .iter()
            .filter(|t| t.state == SaleState::Paid)
            .map(|t| t.count)
            .sum();
        let mut by_hour: Vec<Hour> = Vec::new();
        let mut bucket = |ms: i64| -> usize {
            let from_ms = hour_of(ms);
            match by_hour.iter().position(|h| h.from_ms == from_ms) {
                Some(i) => i,
                None => {
                    by_hour.push(Hour {
                        from_ms,
                        paid_count: 0,
                        paid: Fen(0),
                        refunded: Fen(0),
                    });
                    by_hour.len() - 1
                }
            }
        };
        let mut hours: Vec<(usize, Fen, bool)> = Vec::new();
        for s in sales.iter().filter(|s| s.state == SaleState::Paid) {
            hours.push((bucket(s.created_ms), s.total_fee, true));
        }
        for r in rows
            .refunds
            .iter()
            .filter(|r| r.state.accepted() && inside(r.created_ms))
        {
            hours.push((bucket(r.created_ms), r.refund_fee, false));
        }
        for (i, fee, is_sale) in hours {
            let h = &mut by_hour[i];
            if is_sale {
                h.paid_count += 1;
                h.paid += fee;
            } else {
                h.refunded += fee;
            }
        }
        by_hour.sort_by_key(|h| h.from_ms);

        let mut attention: Vec<Attention> = rows
            .unfinished
            .iter()
            .filter(|s| s.created_ms < until_ms)
            .map(|s| Attention {
                kind: if s.state == SaleState::Unresolved {
                    AttentionKind::Unresolved
                } else {
                    AttentionKind::Unfinished
                },
                out_trade_no: s.out_trade_no.clone(),
                out_refund_no: None,
                amount: s.total_fee,
                created_ms: s.created_ms,
            })
            .collect();
        for r in rows.refunds.iter().filter(|r| inside(r.created_ms)) {
            let kind = match r.state {
                RefundState::Requested => AttentionKind::RefundUnconfirmed,
                RefundState::Change => AttentionKind::RefundToCardFailed,
                _ => continue,
            };
            attention.push(Attention {
                kind,
                out_trade_no: r.out_trade_no.clone(),
                out_refund_no: Some(r.out_refund_no.clone()),
                amount: r.refund_fee,
                created_ms: r.created_ms,
            });
        }
        let settled_since = rows
            .changed
            .iter()
            .filter(|s| s.created_ms < opened_ms && s.state.is_final())
            .map(|s| Settled {
                out_trade_no: s.out_trade_no.clone(),
                amount: s.total_fee,
                created_ms: s.created_ms,
                state: s.state,
            })
            .collect();
        Report {
            till: till.to_string(),
            opened_ms,
            until_ms,
            closed_id: None,
            paid_count,
            paid: totals.paid(),
            refund_count: totals.refund_count,
            refunded: totals.refunded,
            net: totals.net(),
            by_state: totals.by_state,
            by_hour,
            attention,
            settled_since,
        }
    }

    /// Shifts added up (a day of handovers): money and counts summed; the lists concatenated.
    pub fn sum(till: &str, shifts: &[Report]) -> Option<Report> {
        let first = shifts.first()?;
        let last = shifts.last()?;
        let mut by_state: Vec<StateTotal> = Vec::new();
        for t in shifts.iter().flat_map(|s| &s.by_state) {
            match by_state.iter_mut().find(|x| x.state == t.state) {
                Some(x) => {
                    x.count += t.count;
                    x.total_fee += t.total_fee;
                }
                None => by_state.push(t.clone()),
            }
        }
        by_state.sort_by_key(|t| t.state.as_str());
        let paid: Fen = shifts.iter().map(|s| s.paid).sum();
        let refunded: Fen = shifts.iter().map(|s| s.refunded).sum();
        Some(Report {
            till: till.to_string(),
            opened_ms: first.opened_ms,
            until_ms: last.until_ms,
            closed_id: None,
            by_state,
            paid_count: shifts.iter().map(|s| s.paid_count).sum(),
            paid,
            refund_count: shifts.iter().map(|s| s.refund_count).sum(),
            refunded,
            net: NetFen::of(paid, refunded),
            by_hour: shifts.iter().flat_map(|s| s.by_hour.clone()).collect(),
            attention: Vec::new(),
            settled_since: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Refund;

    fn sale(no: &str, fee: u64, at: i64, state: SaleState) -> SaleRow {
        let mut s = SaleRow::paid_for_tests(no, fee);
        s.created_ms = at;
        s.updated_ms = at;
        s.state = state;
        s
    }

    fn refund(no: &str, fee: u64, at: i64, state: RefundState) -> Refund {
        Refund {
            out_trade_no: no.into(),
            out_refund_no: format!("R{no}{at}"),
            refund_fee: Fen(fee),
            reason: String::new(),
            state,
            refund_id: None,
            err_code: None,
            created_ms: at,
            updated_ms: at,
            authorised: None,
        }
    }

    // 2026-01-02 09:00 Beijing.
    const NINE: i64 = 1_767_315_600_000;

    #[test]
    fn a_shift_counts_its_own_sales_and_refunds_and_lists_what_needs_doing_first() {
        let sales = [
            sale("A", 1_000, NINE + 60_000, SaleState::Paid),
            sale("B", 250, NINE + HOUR_MS + 5, SaleState::Paid),
            sale("C", 999, NINE + HOUR_MS + 6, SaleState::Failed),
            sale("D", 700, NINE + HOUR_MS + 7, SaleState::Unresolved),
            // Outside the window: not counted.
            sale("X", 5_000, NINE + 10 * HOUR_MS, SaleState::Paid),
        ];
        let refunds = [
            refund("A", 300, NINE + HOUR_MS + 10, RefundState::Success),
            refund("OLD", 50, NINE + HOUR_MS + 11, RefundState::Requested),
            refund("OLD2", 80, NINE + 2 * HOUR_MS, RefundState::Change),
        ];
        let old_unresolved = sale("E", 400, NINE - 86_400_000, SaleState::Unresolved);
        let unfinished = [old_unresolved.clone(), sales[3].clone()];
        let settled = [sale("F", 600, NINE - 3_600_000, SaleState::Paid)];
        let r = Report::of(
            "till-1",
            (NINE, NINE + 3 * HOUR_MS),
            &Rows {
                sales: &sales,
                refunds: &refunds,
                unfinished: &unfinished,
                changed: &settled,
            },
        );
        assert_eq!((r.paid_count, r.paid), (2, Fen(1_250)));
        // Only refunds WeChat accepted count: not the unconfirmed one, nor the failed CHANGE.
        assert_eq!((r.refund_count, r.refunded), (1, Fen(300)));
        assert_eq!(r.net, NetFen(950));
        let hours: Vec<(i64, u64, Fen, Fen)> = r
            .by_hour
            .iter()
            .map(|h| {
                (
                    (h.from_ms - NINE) / HOUR_MS,
                    h.paid_count,
                    h.paid,
                    h.refunded,
                )
            })
            .collect();
        assert_eq!(
            hours,
            [(0, 1, Fen(1_000), Fen(0)), (1, 1, Fen(250), Fen(300)),]
        );
        let todo: Vec<(AttentionKind, &str)> = r
            .attention
            .iter()
            .map(|a| (a.kind, a.out_trade_no.as_str()))
            .collect();
        assert_eq!(
            todo,
            [
                (AttentionKind::Unresolved, "E"),
                (AttentionKind::Unresolved, "D"),
                (AttentionKind::RefundUnconfirmed, "OLD"),
                (AttentionKind::RefundToCardFailed, "OLD2"),
            ]
        );
        // Row 226: the advice resends that refund only — without --amount the command
        // refunds all the rest.
        let w = AttentionKind::RefundUnconfirmed.what_to_do();
        assert!(
            w.en.contains("--amount") && w.zh.contains("--amount"),
            "{}",
            w.en
        );
        assert_eq!(r.settled_since.len(), 1);
        assert_eq!(r.settled_since[0].state, SaleState::Paid);
        // Kept as JSON in the journal and read back unchanged.
        let kept: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(kept, r);
    }

    #[test]
    fn shifts_sum_to_their_day() {
        let sales = [
            sale("A", 1_000, NINE, SaleState::Paid),
            sale("B", 250, NINE + 2 * HOUR_MS, SaleState::Paid),
            sale("C", 30, NINE + 3 * HOUR_MS, SaleState::Failed),
        ];
        let refunds = [refund("A", 100, NINE + 3 * HOUR_MS, RefundState::Success)];
        let rows = |s: &'static [SaleRow], r: &'static [Refund]| Rows {
            sales: s,
            refunds: r,
            unfinished: &[],
            changed: &[],
        };
        let sales: &'static [SaleRow] = Box::leak(Box::new(sales));
        let refunds: &'static [Refund] = Box::leak(Box::new(refunds));
        let split = NINE + HOUR_MS;
        let end = NINE + 5 * HOUR_MS;
        let morning = Report::of("t", (NINE, split), &rows(sales, refunds));
        let afternoon = Report::of("t", (split, end), &rows(sales, refunds));
        let whole = Report::of("t", (NINE, end), &rows(sales, refunds));
        let sum = Report::sum("t", &[morning.clone(), afternoon]).unwrap();
        assert_eq!(morning.paid, Fen(1_000));
        assert_eq!(
            (sum.paid, sum.refunded, sum.net, sum.by_state.clone()),
            (
                whole.paid,
                whole.refunded,
                whole.net,
                whole.by_state.clone()
            )
        );
        assert_eq!(Report::sum("t", &[]), None);
    }
}
