//! One Beijing-time day of the journal as the JSON object `paycode history --json` prints and
//! `GET /v1/history` answers: the sales (codes masked), totals by state, refunds and net. One
//! function so the two never drift apart.

use serde_json::{Value, json};
use time::Date;

use super::export::beijing_time;
use super::history::{DayTotals, Standing, refunded_of};
use super::refunds::Refund;
use super::sales::SaleRow;
use super::{Journal, JournalError};
use crate::beijing::day_bounds;

/// The day's object: `date`, `sales`, `totals`, `paid_total`, `refund_count`,
/// `refunded_total`, `net_total` (fen).
pub fn day_json(journal: &Journal, day: Date) -> Result<Value, JournalError> {
    let (from, to) = day_bounds(day);
    let sales = journal.sales_between(from, to)?;
    let refunds = journal.refunds_for_day(from, to)?;
    let totals = DayTotals::of(&sales, &refunds, (from, to));
    let list: Vec<_> = sales.iter().map(|s| sale_json(s, &refunds)).collect();
    let by_state: Vec<_> = totals
        .by_state
        .iter()
        .map(|t| json!({"state": t.state.as_str(), "count": t.count, "total_fee": t.total_fee.0}))
        .collect();
    Ok(json!({
        "date": day.to_string(),
        "sales": list,
        "totals": by_state,
        "paid_total": totals.paid().0,
        "refund_count": totals.refund_count,
        "refunded_total": totals.refunded.0,
        "net_total": totals.net().0,
    }))
}

fn sale_json(s: &SaleRow, refunds: &[Refund]) -> Value {
    let refunded = refunded_of(&s.out_trade_no, refunds);
    json!({
        "out_trade_no": s.out_trade_no,
        "created": beijing_time(s.created_ms),
        "total_fee": s.total_fee.0,
        "state": s.state.as_str(),
        "standing": Standing::of(s, refunded).as_str(),
        "refunded": refunded.0,
        "transaction_id": s.transaction_id,
        "bank_type": s.bank_type,
        "cash_fee": s.cash_fee.map(|f| f.0),
        "err_code": s.err_code,
        "code": s.code_masked,
        "device_info": s.device_info,
        "ref": s.pos_ref,
        // The refunds of this sale made this day, and what authorised each.
        "refunds": refunds
            .iter()
            .filter(|r| r.out_trade_no == s.out_trade_no)
            .map(|r| json!({
                "out_refund_no": r.out_refund_no,
                "refund_fee": r.refund_fee.0,
                "state": r.state.as_str(),
                "authorised": r.authorised.map(|a| a.as_str()),
            }))
            .collect::<Vec<_>>(),
    })
}
