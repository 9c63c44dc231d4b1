//! `paycode office reconcile [--date] [--json]`: one `downloadbill` for the merchant number of
//! `--config` (every terminal) against all its tills' records at the office
//! (`office::merchant`, pure). Exit 0 everything agrees, 1 differences (a till not shipped yet
//! among them), 2 the statement or the office could not be had, 3 refused.

use std::process::ExitCode;

use serde_json::json;

use super::office::{AdminArgs, admin_client, office_failed};
use super::{load, output, runtime};
use crate::checkout::statement::{StatementError, fetch_merchant};
use crate::office::merchant::{MerchantReport, reconcile_merchant};
use crate::office::read;
use crate::words::Bilingual;

#[derive(clap::Args, Debug)]
pub struct OfficeReconcileArgs {
    /// The Beijing-time day, YYYY-MM-DD (default: yesterday; today with the simulator).
    #[arg(long)]
    pub date: Option<String>,
    /// One JSON object: totals and every order with its till and finding.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub admin: AdminArgs,
}

pub fn run(config: &std::path::Path, a: &OfficeReconcileArgs) -> ExitCode {
    let json = a.json;
    let cfg = match load(config, json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let day = match super::reconcile::reconcile_day(a.date.as_deref(), cfg.is_simulator()) {
        Ok(d) => d,
        Err(w) => return output::rejected(json, &w, None),
    };
    let mch_id = cfg
        .merchant
        .sub_mch_id
        .clone()
        .unwrap_or_else(|| cfg.merchant.mch_id.clone());
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async {
        let link = match crate::checkout::link::Link::open(&cfg).await {
            Ok(l) => l,
            Err(e) => return output::rejected(json, &e.words(), None),
        };
        let statement = match fetch_merchant(&link, day).await {
            Ok(s) => s,
            Err(e @ StatementError::Request(_)) => return output::rejected(json, &e.words(), None),
            Err(e) => return output::unavailable(json, &e.words()),
        };
        let client = match admin_client(&a.admin, json).await {
            Ok(c) => c,
            Err(c) => return c,
        };
        let (from, to) = crate::beijing::day_bounds(day);
        let read = async {
            let tills = read::tills(&client).await?;
            let (sales, refunds) = read::merchant_records(&client, &mch_id, from, to).await?;
            let named: Vec<String> = statement
                .keys()
                .filter(|no| !sales.iter().any(|(_, s)| &s.out_trade_no == *no))
                .cloned()
                .collect();
            let elsewhere = read::merchant_sales_named(&client, &mch_id, &named).await?;
            Ok::<_, crate::office::OfficeError>((tills, sales, refunds, elsewhere))
        };
        let (tills, sales, refunds, elsewhere) = match read.await {
            Ok(x) => x,
            Err(e) => return office_failed(json, &e),
        };
        let r = reconcile_merchant(&sales, &elsewhere, &refunds, &statement, &tills);
        print(&r, day, &mch_id, json)
    })
}

fn print(r: &MerchantReport, day: time::Date, mch_id: &str, json: bool) -> ExitCode {
    let diffs = r.differences();
    let t = &r.totals;
    if json {
        let orders: Vec<_> = r
            .lines
            .iter()
            .map(|l| {
                json!({
                    "out_trade_no": l.out_trade_no,
                    "till": l.till,
                    "finding": l.finding.key(),
                    "difference": l.finding.is_difference(),
                    "message": l.words(false),
                    "message_zh": l.words(true),
                })
            })
            .collect();
        outln!(
            "{}",
            json!({
                "status": if diffs == 0 { "agrees" } else { "differences" },
                "date": day.to_string(),
                "mch_id": mch_id,
                "office_paid": t.journal_paid.0,
                "office_refunded": t.journal_refunded.0,
                "wechat_paid": t.wechat_paid.0,
                "wechat_refunded": t.wechat_refunded.0,
                "differences": diffs,
                "orders": orders,
            })
        );
    } else {
        outln!(
            "office reconcile {day} (merchant {mch_id}, all tills): office paid ¥{} refunded ¥{} · WeChat paid ¥{} refunded ¥{}",
            t.journal_paid,
            t.journal_refunded,
            t.wechat_paid,
            t.wechat_refunded
        );
        outln!(
            "总部对账 {day}(商户号 {mch_id},全部收银台):总部 收款 ¥{} 退款 ¥{} · 微信 收款 ¥{} 退款 ¥{}",
            t.journal_paid,
            t.journal_refunded,
            t.wechat_paid,
            t.wechat_refunded
        );
        for l in &r.lines {
            let tag = if l.finding.is_difference() {
                "DIFF"
            } else {
                "ok  "
            };
            outln!("{tag}  {}", l.words(false));
            outln!("      {}", l.words(true));
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
