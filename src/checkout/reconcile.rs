//! End-of-day reconciliation: the journal's sales and refunds of one day against WeChat's
//! statement (downloadbill) of that day. Pure: the caller reads both sides.
//!
//! The statement lists a payment on the day it was paid and a refund (or a reverse of a paid
//! order) on the day it was asked for, so both sides are compared as the day's movements per
//! order: money WeChat took, money it gave back.

use crate::journal::{Refund, RefundState, SaleRow, SaleState};
use crate::money::Fen;
use crate::wxpay::api::{self, Bill, ReplyError};
use std::collections::BTreeMap;

/// One order's movements on the statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    /// Paid on the day (SUCCESS rows).
    pub paid: Fen,
    /// Refunds and reverses asked for on the day (REFUND rows), whatever their status.
    pub refunded: Fen,
    /// WeChat's transaction id, when a row names it.
    pub transaction_id: Option<String>,
    /// The paying order's 商户数据包 (`attach`: the sale's tag), when the statement has it.
    pub attach: Option<String>,
}

/// The statement's rows folded per `out_trade_no`.
pub fn statement_orders(bill: &Bill) -> Result<BTreeMap<String, Statement>, ReplyError> {
    let col = |name: &'static str| {
        bill.column(name).ok_or_else(|| ReplyError::Missing {
            field: name.to_string(),
        })
    };
    let (no, state, txn) = (col("商户订单号")?, col("交易状态")?, col("微信订单号")?);
    let attach = bill.column("商户数据包");
    let mut out: BTreeMap<String, Statement> = BTreeMap::new();
    for (i, row) in bill.rows.iter().enumerate() {
        let cell = |c: usize| row.get(c).map_or("", |s| s.trim());
        // The numbers are kept, compared and shown: another shape (escapes, a payment code
        // where WeChat's id belongs, 30 000 characters) means the statement is not trusted.
        if !api::is_our_id(cell(no), 32) {
            return Err(api::invalid("商户订单号"));
        }
        let t = cell(txn);
        if !t.is_empty() && t != "0" && !api::is_wechat_id(t) {
            return Err(api::invalid("微信订单号"));
        }
        let entry = out.entry(cell(no).to_string()).or_default();
        if !t.is_empty() && t != "0" {
            entry.transaction_id = Some(t.to_string());
        }
        // The tag is only compared; a foreign one is shown safe and short.
        if let Some(a) = attach.map(cell).filter(|a| !a.is_empty()) {
            entry.attach = Some(crate::untrusted::kept(a, 128));
        }
        match cell(state) {
            "REFUND" | "REVOKED" if bill.column("申请退款金额").is_some() => {
                entry.refunded += bill.amount(i, "申请退款金额")?;
            }
            "REFUND" | "REVOKED" => {
                entry.refunded += bill.amount(i, "退款金额")?;
            }
            _ => {
                // Newer statements carry the order amount (coupons included); older ones only
                // the settled amount and the coupon part.
                let paid = match bill.column("订单金额") {
                    Some(_) => bill.amount(i, "订单金额")?,
                    None => bill.amount(i, "应结订单金额")? + bill.amount(i, "代金券金额")?,
                };
                entry.paid += paid;
            }
        }
    }
    Ok(out)
}

/// What the comparison found for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Both sides tell the same story.
    Agrees,
    /// Not final in the journal and nothing at WeChat yet: `paycode recover` settles it.
    Unsettled(SaleState),
    /// WeChat took money for a sale the journal does not hold as paid.
    ChargedNotPaid(SaleState),
    /// WeChat took money for an order this till has no record of.
    UnknownOrder,
    /// This till's sale ended "number taken" (ORDERPAID / OUT_TRADE_NO_USED): the payment
    /// WeChat has under the number is another till's (the same `device_info`), not this one's.
    OtherTillsOrder,
    /// The journal holds the sale as paid; the statement has no payment for it.
    PaidNotCharged,
    /// Both hold it as paid, for different amounts.
    AmountDiffers { journal: Fen, wechat: Fen },
    /// The refunds (or the reverse) of the day differ.
    RefundDiffers { journal: Fen, wechat: Fen },
}

impl Finding {
    /// True when someone has to act.
    pub fn is_difference(&self) -> bool {
        !matches!(self, Self::Agrees | Self::Unsettled(_))
    }

    /// Stable name for JSON.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Agrees => "agrees",
            Self::Unsettled(_) => "unsettled",
            Self::ChargedNotPaid(_) => "charged_not_paid",
            Self::UnknownOrder => "unknown_order",
            Self::OtherTillsOrder => "other_tills_order",
            Self::PaidNotCharged => "paid_not_charged",
            Self::AmountDiffers { .. } => "amount_differs",
            Self::RefundDiffers { .. } => "refund_differs",
        }
    }

    /// What was found and what to do, in English, for the CLI.
    pub fn en(&self, no: &str) -> String {
        self.words(no, Surface::Cli, false)
    }

    /// What was found and what to do, in Chinese, for the CLI.
    pub fn zh(&self, no: &str) -> String {
        self.words(no, Surface::Cli, true)
    }

    /// What was found and what to do, where the reader can act on it (`zh`: Chinese).
    pub fn words(&self, no: &str, at: Surface, zh: bool) -> String {
        let (query, recover) = match (at, zh) {
            (Surface::Cli, false) => (
                format!("run `paycode query {no}`"),
                "`paycode recover` settles it".to_string(),
            ),
            (Surface::Cli, true) => (
                format!("运行 `paycode query {no}`"),
                "运行 `paycode recover` 处理".to_string(),
            ),
            (Surface::Tui, false) => (
                "press Esc, select it in the list and press F9".to_string(),
                "the pending retry settles it (F3)".to_string(),
            ),
            (Surface::Tui, true) => (
                "按 Esc 后在列表中选中该笔并按 F9 查询".to_string(),
                "待处理重试会处理(F3)".to_string(),
            ),
        };
        let accept = match (at, zh) {
            (Surface::Cli, false) => format!("a manager runs `paycode accept {no}` first"),
            (Surface::Cli, true) => format!("店长须先运行 `paycode accept {no}`"),
            (Surface::Tui, false) => {
                "a manager must accept it first, at the manager's terminal".to_string()
            }
            (Surface::Tui, true) => "店长须先在管理终端上确认保留".to_string(),
        };
        let state = |s: &SaleState| {
            if zh {
                s.zh().to_string()
            } else {
                s.as_str().to_string()
            }
        };
        match (self, zh) {
            (Self::Agrees, false) => format!("{no}: agrees"),
            (Self::Agrees, true) => format!("{no}:一致"),
            (Self::Unsettled(s), false) => format!(
                "{no}: still {} in the journal and not on the statement — {recover}",
                state(s)
            ),
            (Self::Unsettled(s), true) => {
                format!("{no}:账本中仍为{},对账单中没有 — {recover}", state(s))
            }
            // The query returns such a payment by itself (the cashier was told not to hand
            // over): only `accept` keeps it (review of stop 20, F3).
            (Self::ChargedNotPaid(s), false) => format!(
                "{no}: WeChat charged the customer but the journal says {} — {query}: it gives the money back to the customer; to keep it instead (the customer takes the goods), {accept}",
                state(s)
            ),
            (Self::ChargedNotPaid(s), true) => format!(
                "{no}:微信已扣款,但账本为{} — {query}:将把款项退回顾客;如需保留该笔付款(顾客取走商品),{accept}",
                state(s)
            ),
            (Self::OtherTillsOrder, false) => format!(
                "{no}: the payment WeChat has under this number is another till's order (the same [merchant] device_info); this till's sale was not charged — do not query, refund or reverse it here; give every till its own device_info"
            ),
            (Self::OtherTillsOrder, true) => format!(
                "{no}:微信该订单号下的付款属于另一台收银机(相同的 [merchant] device_info);本收银台的交易未扣款 — 请勿在此查询、退款或撤销;请为每台收银机设置不同的 device_info"
            ),
            (Self::UnknownOrder, false) => format!(
                "{no}: WeChat charged the customer for an order this till has no record of — check the other tills and the merchant platform; refund it there if no goods were handed over"
            ),
            (Self::UnknownOrder, true) => format!(
                "{no}:微信已扣款,但本收银台没有这笔订单 — 请核对其他收银台和商户平台;如未交付商品,请在商户平台退款"
            ),
            (Self::PaidNotCharged, false) => format!(
                "{no}: paid in the journal but not on this day's statement — {query} (a sale paid around midnight is on the next day's statement)"
            ),
            (Self::PaidNotCharged, true) => format!(
                "{no}:账本为已支付,但当天对账单中没有这笔付款 — {query}(零点前后支付的订单在次日对账单中)"
            ),
            (Self::AmountDiffers { journal, wechat }, false) => format!(
                "{no}: journal ¥{journal}, WeChat ¥{wechat} — check the sale in the merchant platform"
            ),
            (Self::AmountDiffers { journal, wechat }, true) => {
                format!("{no}:账本 ¥{journal},微信 ¥{wechat} — 请在商户平台核对")
            }
            (Self::RefundDiffers { journal, wechat }, false) => format!(
                "{no}: refunds today: journal ¥{journal}, WeChat ¥{wechat} — check the refunds in the merchant platform"
            ),
            (Self::RefundDiffers { journal, wechat }, true) => {
                format!("{no}:当天退款:账本 ¥{journal},微信 ¥{wechat} — 请在商户平台核对退款")
            }
        }
    }
}

/// Where a finding is read: the advice names what the reader can do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `paycode reconcile`: name the commands.
    Cli,
    /// The cashier screen's reconcile panel: name the keys.
    Tui,
}

/// One order in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub out_trade_no: String,
    pub finding: Finding,
}

/// The whole day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every order either side knows for the day, differences first.
    pub lines: Vec<Line>,
    /// Paid in the journal (sales of the day now held as paid).
    pub journal_paid: Fen,
    /// Refunds asked for in the journal on the day (not failed or closed).
    pub journal_refunded: Fen,
    /// Paid on the statement.
    pub wechat_paid: Fen,
    /// Refunds and reverses on the statement.
    pub wechat_refunded: Fen,
}

impl Report {
    /// Orders someone has to look at.
    pub fn differences(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.finding.is_difference())
            .count()
    }
}

/// Compare the day. `sales`: the journal's sales created on the day; `refunds`: the journal's
/// refunds asked for on the day; `elsewhere`: journal sales of other days that the statement
/// names (a sale started before midnight and paid after it).
pub fn reconcile(
    sales: &[SaleRow],
    refunds: &[Refund],
    elsewhere: &[SaleRow],
    statement: &BTreeMap<String, Statement>,
) -> Report {
    let mut journal_refunds: BTreeMap<&str, Fen> = BTreeMap::new();
    for r in refunds.iter().filter(|r| counts(r.state)) {
        *journal_refunds.entry(r.out_trade_no.as_str()).or_default() += r.refund_fee;
    }
    let by_no: BTreeMap<&str, &SaleRow> = sales
        .iter()
        .chain(elsewhere)
        .map(|s| (s.out_trade_no.as_str(), s))
        .collect();
    let today: BTreeMap<&str, &SaleRow> =
        sales.iter().map(|s| (s.out_trade_no.as_str(), s)).collect();
    let mut orders: Vec<&str> = today.keys().copied().collect();
    orders.extend(statement.keys().map(String::as_str));
    orders.extend(journal_refunds.keys().copied());
    orders.sort_unstable();
    orders.dedup();

    let none = Statement::default();
    let mut report = Report::default();
    for no in orders {
        let w = statement.get(no).unwrap_or(&none);
        let j_refund = journal_refunds.get(no).copied().unwrap_or_default();
        let sale = by_no.get(no).copied();
        let paid_today = today.contains_key(no);
        let finding = judge(sale, paid_today, w, j_refund);
        if let Some(s) = sale.filter(|s| paid_today && s.state == SaleState::Paid) {
            report.journal_paid += s.total_fee;
        }
        report.journal_refunded += j_refund;
        report.wechat_paid += w.paid;
        report.wechat_refunded += w.refunded;
        report.lines.push(Line {
            out_trade_no: if sale.is_some() {
                no.to_string()
            } else {
                foreign_no(no)
            },
            finding,
        });
    }
    report
        .lines
        .sort_by_key(|l| (!l.finding.is_difference(), l.out_trade_no.clone()));
    report
}

/// A number only the statement names, as shown: all digits and reading as a payment code, it
/// is masked (a POS that used the customer's code as its order number would show it whole);
/// the till's own numbers are never masked, whatever their `device_info`.
fn foreign_no(no: &str) -> String {
    if no.bytes().all(|b| b.is_ascii_digit()) && crate::authcode::could_be_code(no) {
        crate::authcode::mask_digit_runs(no)
    } else {
        no.to_string()
    }
}

/// A refund that moved (or is moving) money.
fn counts(s: RefundState) -> bool {
    !matches!(s, RefundState::Closed | RefundState::Refused)
}

fn judge(sale: Option<&SaleRow>, of_today: bool, w: &Statement, j_refund: Fen) -> Finding {
    let Some(sale) = sale else {
        return if w.paid.0 > w.refunded.0 {
            Finding::UnknownOrder
        } else {
            Finding::Agrees
        };
    };
    // A sale of another day only contributes what the statement shows today.
    let journal_paid = match sale.state {
        SaleState::Paid if of_today => sale.total_fee,
        SaleState::Paid => w.paid,
        _ => Fen(0),
    };
    match sale.state {
        SaleState::Paid if w.paid.0 == 0 && journal_paid.0 > 0 => return Finding::PaidNotCharged,
        SaleState::Paid if w.paid != journal_paid => {
            return Finding::AmountDiffers {
                journal: journal_paid,
                wechat: w.paid,
            };
        }
        // A reverse gives back everything it took: charged and refunded nets to nothing.
        SaleState::Reversed if w.paid.0 > 0 && w.refunded != w.paid => {
            return Finding::ChargedNotPaid(sale.state);
        }
        SaleState::Reversed => return Finding::Agrees,
        SaleState::Failed if w.paid.0 > 0 && number_taken(sale.err_code.as_deref()) => {
            return Finding::OtherTillsOrder;
        }
        // The payment carries another sale's tag: another till's order under this number (a
        // copied config), which no query of this sale changes.
        s if s != SaleState::Paid && w.paid.0 > 0 && other_tag(sale, w) => {
            return Finding::OtherTillsOrder;
        }
        SaleState::Failed if w.paid.0 > 0 => return Finding::ChargedNotPaid(sale.state),
        SaleState::Failed => return Finding::Agrees,
        s if !s.is_final() && w.paid.0 > 0 => return Finding::ChargedNotPaid(s),
        s if !s.is_final() => return Finding::Unsettled(s),
        _ => {}
    }
    if j_refund != w.refunded {
        return Finding::RefundDiffers {
            journal: j_refund,
            wechat: w.refunded,
        };
    }
    Finding::Agrees
}

/// The statement names the paying order's tag and it is not this sale's.
fn other_tag(sale: &SaleRow, w: &Statement) -> bool {
    match (&sale.attach, &w.attach) {
        (Some(ours), Some(theirs)) => ours != theirs,
        _ => false,
    }
}

/// The sale ended because its order number is another order's (a duplicate answer to its only
/// micropay, or a verified query for another amount): that order is never this till's.
pub fn number_taken(err_code: Option<&str>) -> bool {
    err_code
        .is_some_and(|c| crate::wxpay::api::classify(c) == crate::wxpay::api::ErrClass::Duplicate)
}

#[cfg(test)]
mod tests;
