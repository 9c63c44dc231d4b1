//! `paycode history [--date YYYY-MM-DD] [--json|--csv]`: one Beijing-time day from the journal,
//! read without taking the till's lock (it never writes).

use crate::words::{Bilingual, Words};
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use time::{Date, OffsetDateTime};

use super::{load, output};
use crate::journal::export::{self, beijing_time};
use crate::journal::{DayTotals, Journal, Refund, SaleRow, Standing, refunded_of};

use crate::beijing::{OFFSET as BEIJING, day_bounds};

/// `paycode history` arguments.
#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// The Beijing-time day, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub date: Option<String>,
    /// One JSON object: sales and totals by state.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV of the day's sales.
    #[arg(long)]
    pub csv: bool,
}

/// Parse `YYYY-MM-DD`.
pub(crate) fn parse_day(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

/// A `--date` argument, or the refusal naming it (echoed masked and without escapes).
pub(crate) fn day_arg(s: &str) -> Result<Date, Words> {
    parse_day(s).ok_or_else(|| {
        let s = crate::untrusted::shown_arg(s);
        Words::new(
            format!("--date {s:?} is not a date: use YYYY-MM-DD, like 2026-01-31"),
            format!("--date {s:?} 不是日期:请按 YYYY-MM-DD 填写,例如 2026-01-31"),
        )
    })
}

/// Run `paycode history`.
pub fn run(config: &Path, args: &HistoryArgs) -> ExitCode {
    let cfg = match load(config, args.json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let day = match &args.date {
        Some(s) => match day_arg(s) {
            Ok(d) => d,
            Err(why) => return output::rejected(args.json, &why, None),
        },
        None => today_in_beijing(),
    };
    let journal = match Journal::open(&cfg.journal.path) {
        Ok(j) => j,
        Err(e) => return output::rejected(args.json, &e.words(), None),
    };
    let (from, to) = day_bounds(day);
    let sales = match journal.sales_between(from, to) {
        Ok(v) => v,
        Err(e) => return output::rejected(args.json, &e.words(), None),
    };
    let refunds = match journal.refunds_for_day(from, to) {
        Ok(v) => v,
        Err(e) => return output::rejected(args.json, &e.words(), None),
    };
    let totals = DayTotals::of(&sales, &refunds, (from, to));
    if args.json {
        let list: Vec<_> = sales.iter().map(|s| sale_json(s, &refunds)).collect();
        let by_state: Vec<_> = totals
            .by_state
            .iter()
            .map(|t| json!({"state": t.state.as_str(), "count": t.count, "total_fee": t.total_fee.0}))
            .collect();
        outln!(
            "{}",
            json!({
                "date": day.to_string(),
                "sales": list,
                "totals": by_state,
                "paid_total": totals.paid().0,
                "refund_count": totals.refund_count,
                "refunded_total": totals.refunded.0,
                "net_total": totals.net().0,
            })
        );
    } else if args.csv {
        out!("{}", export::csv(&sales, &refunds, cfg.ui.language));
    } else {
        outln!("{day} (Beijing time / 北京时间)");
        for s in &sales {
            let refunded = refunded_of(&s.out_trade_no, &refunds);
            let note = if refunded.0 > 0 {
                format!("refunded / 已退款 ¥{refunded}")
            } else {
                s.transaction_id
                    .as_deref()
                    .or(s.err_code.as_deref())
                    .unwrap_or("")
                    .to_string()
            };
            outln!(
                "{}  {}  ¥{:>10}  {:<15}  {}",
                &beijing_time(s.created_ms)[11..],
                s.out_trade_no,
                s.total_fee.to_string(),
                Standing::of(s, refunded).as_str(),
                note
            );
        }
        outln!("totals / 合计:");
        for t in &totals.by_state {
            outln!(
                "  {:<10} {:>4}  ¥{}",
                t.state.as_str(),
                t.count,
                t.total_fee
            );
        }
        outln!("  paid / 收款 ¥{}", totals.paid());
        outln!(
            "  refunds made this day / 当日退款 {} · ¥{}",
            totals.refund_count,
            totals.refunded
        );
        outln!("  net takings / 实收(扣除退款) ¥{}", totals.net());
    }
    ExitCode::SUCCESS
}

fn sale_json(s: &SaleRow, refunds: &[Refund]) -> serde_json::Value {
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

/// The default `--date`: today in Beijing, WeChat's business day.
#[allow(clippy::disallowed_methods)] // IO edge: the command's default reads the clock
pub(crate) fn today_in_beijing() -> time::Date {
    OffsetDateTime::now_utc().to_offset(BEIJING).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_day_bounds() {
        let d = parse_day("2026-01-31").unwrap();
        let (from, to) = day_bounds(d);
        // 2026-01-31 00:00 +08:00 = 2026-01-30 16:00 UTC
        assert_eq!(from, 1_769_788_800_000);
        assert_eq!(to - from, 86_400_000);
        assert_eq!(beijing_time(from), "2026-01-31 00:00:00");
        assert!(parse_day("2026-13-01").is_none() && parse_day("yesterday").is_none());
    }
}
