//! `paycode office report [--date] [--store] [--json|--csv]`: the chain's day from the office
//! database (`office::report`, pure), printed in both languages, as JSON or CSV.

use std::process::ExitCode;

use serde_json::{Value, json};

use super::history::{day_arg, today_in_beijing};
use super::office::{AdminArgs, admin_client, office_failed};
use super::{output, runtime};
use crate::office::read;
use crate::office::report::{ChainReport, Totals};

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The Beijing-time day, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub date: Option<String>,
    /// Only this store.
    #[arg(long)]
    pub store: Option<String>,
    /// One JSON object.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV: one line per store and till.
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    pub admin: AdminArgs,
}

fn totals_json(t: &Totals) -> Value {
    json!({
        "sales": t.sales,
        "paid_count": t.paid_count,
        "paid": t.paid.0,
        "refunded": t.refunded.0,
        "net": t.net().0,
        "unsettled": t.unsettled,
    })
}

pub fn run(a: &ReportArgs) -> ExitCode {
    let day = match &a.date {
        Some(s) => match day_arg(s) {
            Ok(d) => d,
            Err(w) => return output::rejected(a.json, &w, None),
        },
        None => today_in_beijing(),
    };
    let (from, to) = crate::beijing::day_bounds(day);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async {
        let client = match admin_client(&a.admin, a.json).await {
            Ok(c) => c,
            Err(c) => return c,
        };
        let read = async {
            Ok::<_, crate::office::OfficeError>((
                read::sales(&client, from, to).await?,
                read::refunds(&client, from, to).await?,
                read::open_sales(&client).await?,
                read::shifts(&client, from, to).await?,
                read::tills(&client).await?,
            ))
        };
        let (sales, refunds, open, shifts, tills) = match read.await {
            Ok(x) => x,
            Err(e) => return office_failed(a.json, &e),
        };
        if let Some(store) = a.store.as_deref()
            && !tills.iter().any(|t| t.store == store)
        {
            let mut known: Vec<&str> = tills.iter().map(|t| t.store.as_str()).collect();
            known.sort_unstable();
            known.dedup();
            let known = known.join(", ");
            let shown = crate::untrusted::shown_arg(store);
            return output::rejected(
                a.json,
                &crate::words::Words::new(
                    format!("the office has no store {shown:?}: its stores are {known}"),
                    format!("总部没有门店 {shown:?}:现有门店为 {known}"),
                ),
                None,
            );
        }
        let r = ChainReport::of(
            (from, to),
            a.store.as_deref(),
            &sales,
            &refunds,
            &open,
            &shifts,
            &tills,
        );
        if a.json {
            print_json(&r, day);
        } else if a.csv {
            print_csv(&r);
        } else {
            print_text(&r, day);
        }
        ExitCode::SUCCESS
    })
}

fn print_json(r: &ChainReport, day: time::Date) {
    let stores: serde_json::Map<String, Value> = r
        .by_store
        .iter()
        .map(|(s, t)| (s.clone(), totals_json(t)))
        .collect();
    let tills: Vec<Value> = r
        .by_till
        .iter()
        .map(|((store, till), t)| json!({"store": store, "till": till, "totals": totals_json(t)}))
        .collect();
    let states: serde_json::Map<String, Value> = r
        .by_state
        .iter()
        .map(|(s, (n, f))| (s.to_string(), json!({"count": n, "amount": f.0})))
        .collect();
    let hours: Vec<Value> = r
        .by_hour
        .iter()
        .map(|(h, t)| json!({"hour": h, "totals": totals_json(t)}))
        .collect();
    let unsettled: Vec<Value> = r
        .unsettled
        .iter()
        .map(|u| {
            json!({
                "till": u.sale.till_id,
                "store": u.sale.store,
                "out_trade_no": u.sale.out_trade_no,
                "state": u.sale.state.as_str(),
                "total_fee": u.sale.total_fee.0,
                "message": u.en(),
                "message_zh": u.zh(),
            })
        })
        .collect();
    let shifts: Vec<Value> = r
        .shifts
        .iter()
        .map(|s| json!({"till": s.till_id, "store": s.store, "shift_id": s.shift_id, "opened_ms": s.opened_ms, "closed_ms": s.closed_ms}))
        .collect();
    let seen: Vec<Value> = r
        .tills
        .iter()
        .map(|t| json!({"till": t.till_id, "store": t.store, "mch_id": t.mch_id, "last_seen_ms": t.last_seen_ms, "newest_record_ms": t.newest_ms,
            "refused": t.refused.as_ref().map(|(at, kind)| {
                let advice = crate::office::report::refused_advice(&t.till_id, kind);
                json!({"at_ms": at, "kind": kind, "advice": advice.en, "advice_zh": advice.zh})
            })}))
        .collect();
    outln!(
        "{}",
        json!({
            "date": day.to_string(),
            "totals": totals_json(&r.all),
            "by_store": stores,
            "by_till": tills,
            "by_state": states,
            "by_hour": hours,
            "unsettled": unsettled,
            "shifts": shifts,
            "tills": seen,
        })
    );
}

fn print_csv(r: &ChainReport) {
    outln!("store,till,sales,paid_count,paid_fen,refunded_fen,net_fen,unsettled");
    for ((store, till), t) in &r.by_till {
        outln!(
            "{},{},{},{},{},{},{},{}",
            csv(store),
            csv(till),
            t.sales,
            t.paid_count,
            t.paid.0,
            t.refunded.0,
            t.net().0,
            t.unsettled
        );
    }
}

/// A CSV field: quoted when it holds a separator, quote or line break; a leading formula
/// character is defused for spreadsheets.
fn csv(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn line(t: &Totals) -> String {
    format!(
        "{} sale(s), {} paid ¥{}, refunded ¥{}, net ¥{}, {} unsettled / {} 笔,已支付 {} 笔 ¥{},退款 ¥{},净额 ¥{},未结 {} 笔",
        t.sales,
        t.paid_count,
        t.paid,
        t.refunded,
        t.net(),
        t.unsettled,
        t.sales,
        t.paid_count,
        t.paid,
        t.refunded,
        t.net(),
        t.unsettled
    )
}

fn print_text(r: &ChainReport, day: time::Date) {
    outln!("chain report {day} / 连锁日报 {day}");
    outln!("all / 合计: {}", line(&r.all));
    for (s, t) in &r.by_store {
        outln!("store / 门店 {s}: {}", line(t));
    }
    for ((s, till), t) in &r.by_till {
        outln!("  till / 收银台 {till} ({s}): {}", line(t));
    }
    for (state, (n, f)) in &r.by_state {
        let zh = crate::journal::SaleState::from_db(state).map_or(*state, |s| s.zh());
        outln!("  {state} / {zh}: {n} ¥{f}");
    }
    for (h, t) in &r.by_hour {
        outln!("  {h:02}:00 {}", line(t));
    }
    if r.unsettled.is_empty() {
        outln!("no unsettled sale in the chain / 全部门店没有未结交易");
    } else {
        outln!(
            "{} unsettled sale(s) in the chain / 全部门店共有 {} 笔未结交易:",
            r.unsettled.len(),
            r.unsettled.len()
        );
        for u in &r.unsettled {
            outln!("  {}", u.en());
            outln!("  {}", u.zh());
        }
    }
    for s in &r.shifts {
        outln!(
            "shift / 班次 {} at till / 收银台 {} ({}) closed / 交班 {}",
            s.shift_id,
            s.till_id,
            s.store,
            crate::beijing::day_of(s.closed_ms)
        );
    }
    for t in &r.tills {
        if let Some((at, kind)) = &t.refused {
            let at = crate::beijing::time_of(*at);
            let advice = crate::office::report::refused_advice(&t.till_id, kind);
            outln!(
                "till / 收银台 {} ({}): a machine of it was refused at {at} ({kind}): {}",
                t.till_id,
                t.store,
                advice.en
            );
            outln!(
                "      该收银台有一台机器于 {at} 被总部拒收({kind}):{}",
                advice.zh
            );
        }
        match t.last_seen_ms {
            Some(_) => outln!(
                "till / 收银台 {} ({}): records up to / 记录至 {}",
                t.till_id,
                t.store,
                t.newest_ms.map_or("-".to_string(), |m| format!(
                    "{} (Beijing / 北京时间)",
                    crate::beijing::time_of(m)
                ))
            ),
            None => outln!(
                "till / 收银台 {} ({}): never shipped / 从未上传",
                t.till_id,
                t.store
            ),
        }
    }
}
