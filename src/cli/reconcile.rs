//! `paycode reconcile [--date YYYY-MM-DD] [--json]`: this till's journal against WeChat's
//! statement of one Beijing-time day. Exit 0 everything agrees, 1 differences to look at,
//! 2 the statement could not be had (retry later), 3 refused (bad date or config).

use crate::words::{Bilingual, Words};
use std::path::Path;
use std::process::ExitCode;

use time::Duration as Days;

use super::history::{day_arg, today_in_beijing};
use super::output;
use crate::checkout::answers;
use crate::checkout::reconcile::Report;
use crate::checkout::statement::{StatementError, check_day, compare_day};
use crate::checkout::till::Till;

/// `paycode reconcile` arguments.
#[derive(clap::Args, Debug)]
pub struct ReconcileArgs {
    /// The Beijing-time day, YYYY-MM-DD (default: yesterday; today with the simulator).
    #[arg(long)]
    pub date: Option<String>,
    /// One JSON object: totals and every order with its finding.
    #[arg(long)]
    pub json: bool,
}

/// The day `--date` names (default: yesterday; today with the simulator), refused when
/// WeChat has not published its statement yet. Shared by the till's and the office's reconcile.
pub(crate) fn reconcile_day(date: Option<&str>, simulated: bool) -> Result<time::Date, Words> {
    let today = today_in_beijing();
    let day = match date {
        Some(s) => day_arg(s)?,
        None if simulated => today,
        None => today - Days::days(1),
    };
    check_day(day, today, simulated)
        .map_err(|e| Words::new(format!("{e} (--date)"), format!("{}(--date)", e.zh())))?;
    Ok(day)
}

/// With `[office]` set, the office's reconcile is the authoritative one: said on stderr.
fn office_note(cfg: &crate::config::Config) {
    if cfg.office.is_some() {
        errln!(
            "this till ships to the head office ([office]): `paycode office reconcile` there compares the merchant's whole statement with every till and is the authoritative one; this comparison sees this till only / 本收银台向总部上传账本([office]):总部的 `paycode office reconcile` 以商户完整对账单核对全部收银台,以总部结果为准;此处只核对本收银台"
        );
    }
}

/// Run `paycode reconcile`.
pub fn run(config: &Path, args: &ReconcileArgs) -> ExitCode {
    let json = args.json;
    let hand = Some(|cfg: &crate::config::Config| -> super::Handed {
        let day = reconcile_day(args.date.as_deref(), cfg.wechat.base_url.is_simulated())
            .map_err(|why| output::rejected(json, &why, None))?;
        office_note(cfg);
        let call = super::owner::Call {
            post: false,
            path: format!("/v1/reconcile?date={day}"),
            body: None,
        };
        Ok((call, super::owner::findings))
    });
    super::with_till_or_owner(config, json, hand, |till| async move {
        let day = match reconcile_day(args.date.as_deref(), till.is_simulated()) {
            Ok(d) => d,
            Err(why) => return output::rejected(json, &why, None),
        };
        office_note(till.config());
        match compare_day(&till, day).await {
            Ok(report) => print(&till, day, &report, json),
            Err(e @ StatementError::Request(_)) => output::rejected(json, &e.words(), None),
            Err(e) => output::unavailable(json, &e.words()),
        }
    })
}

fn print(till: &Till, day: time::Date, r: &Report, json: bool) -> ExitCode {
    let device = &till.config().merchant.device_info;
    let diffs = r.differences();
    if json {
        outln!("{}", answers::reconcile(day, device, r).1);
    } else {
        outln!(
            "reconcile {day} ({device}): journal paid ¥{} refunded ¥{} · WeChat paid ¥{} refunded ¥{}",
            r.journal_paid,
            r.journal_refunded,
            r.wechat_paid,
            r.wechat_refunded
        );
        outln!(
            "对账 {day}({device}):账本 收款 ¥{} 退款 ¥{} · 微信 收款 ¥{} 退款 ¥{}",
            r.journal_paid,
            r.journal_refunded,
            r.wechat_paid,
            r.wechat_refunded
        );
        for l in &r.lines {
            let tag = if l.finding.is_difference() {
                "DIFF"
            } else {
                "ok  "
            };
            outln!("{tag}  {}", l.finding.en(&l.out_trade_no));
            outln!("      {}", l.finding.zh(&l.out_trade_no));
        }
        let n = r.lines.len();
        if diffs == 0 {
            outln!("{n} order(s), all agree / {n} 笔订单,全部一致");
        } else {
            outln!("{diffs} of {n} order(s) need a look / {n} 笔订单中 {diffs} 笔需要核对");
        }
    }
    ExitCode::from(if diffs == 0 { 0 } else { 1 })
}
