//! `paycode shift [--close] [--id N | --date YYYY-MM-DD] [--json|--csv]`: the open shift (read
//! without the till's lock, like `history`), a handover, a closed shift again, or a day's
//! shifts and their sum.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::history::day_arg;
use super::{load, output, with_till};
use crate::journal::export::beijing_time;
use crate::journal::{Journal, PrintKind};
use crate::shift::{self, Report, text};
use crate::words::{Bilingual, Language, Words};

/// `paycode shift` arguments.
#[derive(clap::Args, Debug)]
pub struct ShiftArgs {
    /// Hand over: close the open shift now and keep its report (needs the till: quit the
    /// cashier screen first, or close it there with S on the history screen).
    #[arg(long, conflicts_with_all = ["id", "date"])]
    pub close: bool,
    /// A closed shift by its number, as it was at its handover.
    #[arg(long, conflicts_with = "date")]
    pub id: Option<i64>,
    /// The shifts handed over on a Beijing-time day (YYYY-MM-DD) and their sum.
    #[arg(long)]
    pub date: Option<String>,
    /// One JSON object on stdout.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV of the report.
    #[arg(long)]
    pub csv: bool,
    /// Print the report on the receipt printer too (a handover prints by itself when
    /// `[printer]` is set; a closed shift is queued, so a printer away prints it later).
    #[arg(long)]
    pub print: bool,
}

/// Run `paycode shift`: exit 0 shown or handed over, 3 refused.
pub fn run(config: &Path, args: &ShiftArgs) -> ExitCode {
    if args.close {
        return with_till(config, args.json, |mut till| async move {
            let lang = till.config().ui.language;
            match till.hand_over() {
                Ok(r) => {
                    let code = show(&r, args, lang, "closed");
                    print(till.config(), &r, false);
                    code
                }
                Err(e) => output::rejected(args.json, &e.words(), None),
            }
        });
    }
    let cfg = match load(config, args.json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let lang = cfg.ui.language;
    if args.print && cfg.printer.is_none() {
        return output::rejected(
            args.json,
            &Words::new(
                "no receipt printer is set up: add [printer] to config.toml (see its comments), or leave out --print",
                "未配置小票打印机:请在 config.toml 中添加 [printer](见其注释),或去掉 --print",
            ),
            None,
        );
    }
    let journal = match Journal::open(&cfg.journal.path) {
        Ok(j) => j,
        Err(e) => return output::rejected(args.json, &e.words(), None),
    };
    if let Some(s) = &args.date {
        let day = match day_arg(s) {
            Ok(d) => d,
            Err(why) => return output::rejected(args.json, &why, None),
        };
        return match shift::closed_between(&journal, crate::beijing::day_bounds(day)) {
            Ok(list) => day_report(&cfg.merchant.device_info, day, &list, args, lang),
            Err(e) => output::rejected(args.json, &e.words(), None),
        };
    }
    let report = match args.id {
        Some(id) => shift::closed(&journal, id),
        None => shift::current(&journal, &cfg.merchant.device_info, now_ms()),
    };
    match report {
        Ok(r) => {
            let status = if r.closed_id.is_some() {
                "closed"
            } else {
                "open"
            };
            let code = show(&r, args, lang, status);
            if args.print {
                print(&cfg, &r, true);
            }
            code
        }
        Err(e) => output::rejected(args.json, &e.words(), None),
    }
}

/// The report in the asked form.
fn show(r: &Report, args: &ShiftArgs, lang: Language, status: &str) -> ExitCode {
    if args.json {
        let mut v = report_json(r);
        v["status"] = json!(status);
        outln!("{v}");
    } else if args.csv {
        out!("{}", text::csv(r, lang));
    } else {
        for line in text::lines(r, &both(lang)) {
            outln!("{line}");
        }
        if let Some(id) = r.closed_id.filter(|_| args.close) {
            outln!();
            outln!(
                "handed over: shift {id} is closed and kept; `paycode shift --id {id}` shows it again"
            );
            outln!("已交班:班次 {id} 已关闭并存档;`paycode shift --id {id}` 可再次查看");
        }
    }
    ExitCode::SUCCESS
}

/// Print the report: a closed shift through the queue (kept until the printer takes it), the
/// open one straight away. What went wrong is said on stderr; the exit status stays the
/// report's.
fn print(cfg: &crate::config::Config, r: &Report, reprint: bool) {
    let Some(p) = cfg.printer.as_ref() else {
        return;
    };
    let trouble = match r.closed_id {
        Some(id) => crate::printer::queue::print_now(cfg, "", &PrintKind::Shift(id), reprint),
        None => {
            let slip = crate::printer::queue::report_slip(r, &p.format, false);
            crate::printer::queue::print_slip(p, &slip)
                .err()
                .map(|e| e.words())
        }
    };
    if let Some(w) = trouble {
        errln!("paycode: {}", w.en);
        errln!("paycode:{}", w.zh);
    }
}

/// The day's handovers and their sum.
fn day_report(
    till: &str,
    day: time::Date,
    list: &[Report],
    args: &ShiftArgs,
    lang: Language,
) -> ExitCode {
    let sum = Report::sum(till, list);
    if args.json {
        let shifts: Vec<Value> = list.iter().map(report_json).collect();
        outln!(
            "{}",
            json!({
                "status": "day",
                "date": day.to_string(),
                "shifts": shifts,
                "sum": sum.as_ref().map(report_json),
            })
        );
        return ExitCode::SUCCESS;
    }
    if args.csv {
        for r in list {
            out!("{}", text::csv(r, lang));
        }
        return ExitCode::SUCCESS;
    }
    outln!("{day} (Beijing time / 北京时间)");
    if list.is_empty() {
        outln!("no shift was handed over this day / 当天没有交班记录");
    }
    for r in list {
        outln!(
            "  #{}  {} → {}  paid / 收款 {} ¥{}  refunds / 退款 {} ¥{}  net / 实收 ¥{}",
            r.closed_id.unwrap_or_default(),
            &beijing_time(r.opened_ms)[11..],
            &beijing_time(r.until_ms)[11..],
            r.paid_count,
            r.paid,
            r.refund_count,
            r.refunded,
            r.net
        );
    }
    if let Some(s) = sum {
        outln!(
            "sum / 合计  paid / 收款 {} ¥{}  refunds / 退款 {} ¥{}  net / 实收 ¥{}",
            s.paid_count,
            s.paid,
            s.refund_count,
            s.refunded,
            s.net
        );
    }
    ExitCode::SUCCESS
}

/// The report with its instants also in Beijing time and each instruction in both languages.
fn report_json(r: &Report) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["opened"] = json!(beijing_time(r.opened_ms));
    v["until"] = json!(beijing_time(r.until_ms));
    if let Some(items) = v["attention"].as_array_mut() {
        for (item, a) in items.iter_mut().zip(&r.attention) {
            let what = a.kind.what_to_do();
            item["message"] = json!(what.en);
            item["message_zh"] = json!(what.zh);
        }
    }
    v
}

/// The CLI prints both languages, the configured one first.
fn both(first: Language) -> [Language; 2] {
    match first {
        Language::Zh => [Language::Zh, Language::En],
        Language::En => [Language::En, Language::Zh],
    }
}

#[allow(clippy::disallowed_methods)] // IO edge: the open shift is reported as of now
fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
