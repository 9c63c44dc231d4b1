//! `paycode history [--date YYYY-MM-DD] [--json|--csv]`: one Beijing-time day from the journal,
//! read without taking the till's lock (it never writes).

use crate::words::{Bilingual, Words};
use std::path::Path;
use std::process::ExitCode;

use time::{Date, OffsetDateTime};

use super::{load, output};
use crate::journal::export::{self, beijing_time};
use crate::journal::{DayTotals, Journal, Standing, refunded_of};

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

pub(crate) use crate::beijing::parse_day;

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
    if args.json {
        return match crate::journal::day_json(&journal, day) {
            Ok(v) => {
                outln!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => output::rejected(true, &e.words(), None),
        };
    }
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
    if args.csv {
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
