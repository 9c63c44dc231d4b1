//! Fetch WeChat's statement of one day for this terminal (`/pay/downloadbill`). The IO edge of
//! reconciliation; `reconcile.rs` compares.

use super::reconcile::{Report, Statement, reconcile, statement_orders};
use super::till::Till;
use crate::words::Bilingual;
use crate::wxpay::api::{BillType, DownloadBillRequest, ReplyError};
use crate::wxpay::call::CallError;
use std::collections::BTreeMap;
use time::Date;

/// Why the statement could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// WeChat publishes a day's statement the next morning; today's would read as "nothing paid".
    #[error(
        "WeChat publishes the statement of {0} after about 10:00 the next day: reconcile {1} or earlier"
    )]
    NotPublished(Date, Date),
    /// WeChat has not finished the day's statement yet (try later).
    #[error(
        "WeChat's statement for {0} is not ready yet (it is published after about 10:00 the next day); try again later"
    )]
    NotReady(Date),
    /// The request could not be built (bad device_info in the config).
    #[error("cannot ask for the statement: {0}")]
    Request(#[from] crate::wxpay::api::RequestError),
    /// No usable answer; nothing changed anywhere, so it can simply be retried.
    #[error("no statement from WeChat: {0}; check the network and try again")]
    Transport(#[from] crate::wxpay::client::TransportError),
    /// The journal could not be read.
    #[error("{0}")]
    Journal(#[from] crate::journal::JournalError),
    /// An answer that is not a statement.
    #[error(
        "WeChat's answer is not a statement: {0}; try again later, and run `paycode check` if it persists"
    )]
    Reply(#[from] ReplyError),
}

impl Bilingual for StatementError {
    fn zh(&self) -> String {
        match self {
            Self::NotPublished(d, y) => {
                format!("微信在次日约 10:00 后才提供 {d} 的对账单:请对账 {y} 或更早的日期")
            }
            Self::NotReady(d) => {
                format!("微信 {d} 的对账单尚未生成(次日约 10:00 后提供),请稍后再试")
            }
            Self::Request(e) => format!("无法请求对账单:{}", e.zh()),
            Self::Transport(e) => format!("未能从微信取得对账单:{};请检查网络后重试", e.zh()),
            Self::Journal(e) => e.zh(),
            Self::Reply(e) => format!(
                "微信的应答不是对账单:{};请稍后重试,如仍失败请运行 `paycode check`",
                e.zh()
            ),
        }
    }
}

/// Refuse a day WeChat cannot have a statement for yet (the simulator serves the current day).
pub fn check_day(day: Date, today: Date, simulated: bool) -> Result<(), StatementError> {
    match today.previous_day() {
        Some(yesterday) if day >= today && !simulated => {
            Err(StatementError::NotPublished(day, yesterday))
        }
        _ => Ok(()),
    }
}

/// The statement of `day` for this terminal's `device_info`, folded per order. A day without
/// any trade at WeChat ("No Bill Exist") is an empty statement.
pub async fn fetch(till: &Till, day: Date) -> Result<BTreeMap<String, Statement>, StatementError> {
    let req = bill_request(day, Some(till.config().merchant.device_info.clone()));
    orders_of(till.call(&req).await, day)
}

/// The merchant's whole statement of `day` (every terminal), for the office's reconcile: one
/// `downloadbill` per merchant number, asked for over `link`.
pub async fn fetch_merchant(
    link: &super::link::Link,
    day: Date,
) -> Result<BTreeMap<String, Statement>, StatementError> {
    orders_of(link.call(&bill_request(day, None)).await, day)
}

fn bill_request(day: Date, device_info: Option<String>) -> DownloadBillRequest {
    DownloadBillRequest {
        bill_date: format!(
            "{:04}{:02}{:02}",
            day.year(),
            u8::from(day.month()),
            day.day()
        ),
        bill_type: BillType::All,
        device_info,
    }
}

fn orders_of(
    answered: Result<crate::wxpay::call::Answered<crate::wxpay::api::Bill>, CallError>,
    day: Date,
) -> Result<BTreeMap<String, Statement>, StatementError> {
    let answered = answered.map_err(|e| match e {
        CallError::Request(e) => StatementError::Request(e),
        CallError::Transport(e) => StatementError::Transport(e),
    })?;
    match answered.answer {
        Ok(bill) => Ok(statement_orders(&bill)?),
        Err(ReplyError::ProtocolFail { return_msg }) if return_msg.contains("No Bill Exist") => {
            Ok(BTreeMap::new())
        }
        Err(ReplyError::ProtocolFail { return_msg }) if return_msg.contains("Bill Creating") => {
            Err(StatementError::NotReady(day))
        }
        Err(e) => Err(e.into()),
    }
}

/// Read both sides of `day` (the statement, then the journal) and compare them.
pub async fn compare_day(till: &Till, day: Date) -> Result<Report, StatementError> {
    let statement = fetch(till, day).await?;
    let journal = till.journal();
    let (from, to) = crate::beijing::day_bounds(day);
    let sales = journal.sales_between(from, to)?;
    let refunds = journal.refunds_between(from, to)?;
    let mut elsewhere = Vec::new();
    for no in statement.keys() {
        if !sales.iter().any(|s| &s.out_trade_no == no)
            && let Some(s) = journal.sale(no)?
        {
            elsewhere.push(s);
        }
    }
    Ok(reconcile(&sales, &refunds, &elsewhere, &statement))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn live_mode_refuses_today_and_later_the_simulator_does_not() {
        let today = date!(2026 - 11 - 27);
        assert!(check_day(date!(2026 - 11 - 26), today, false).is_ok());
        for day in [today, date!(2026 - 11 - 28)] {
            let e = check_day(day, today, false).unwrap_err();
            assert!(
                matches!(e, StatementError::NotPublished(d, y) if d == day && y == date!(2026 - 11 - 26))
            );
            assert!(
                e.to_string().contains("reconcile 2026-11-26 or earlier"),
                "{e}"
            );
            assert!(e.zh().contains("2026-11-26"), "{}", e.zh());
        }
        assert!(check_day(today, today, true).is_ok());
    }
}
