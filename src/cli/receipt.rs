//! `paycode receipt <out_trade_no> [--refund NO] [--preview] [--json]` and `receipt --flush`:
//! reprint a slip, show it as text, or print the queue. Reads the journal without the till's
//! lock (like `history`) and writes only the print queue, so it works beside a running cashier
//! screen. Exit 0 printed (or previewed), 1 queued but not printed (the printer is away),
//! 3 refused (no such sale or refund, nothing to print, no `[printer]`).

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::{load, output};
use crate::checkout::{Outcome, Status};
use crate::config::Config;
use crate::journal::{Journal, PrintKind, QueuedPrint};
use crate::printer::{self, Drained};
use crate::receipt::{Format, preview};
use crate::untrusted::shown_arg;
use crate::words::{Bilingual, Words};

/// `paycode receipt` arguments.
#[derive(clap::Args, Debug)]
pub struct ReceiptArgs {
    /// The sale's out_trade_no (see `paycode history`).
    #[arg(required_unless_present = "flush")]
    pub out_trade_no: Option<String>,
    /// The slip of this refund of the sale instead of the sale's.
    #[arg(long, value_name = "OUT_REFUND_NO")]
    pub refund: Option<String>,
    /// Show the slip here as text instead of printing it (needs no printer).
    #[arg(long)]
    pub preview: bool,
    /// Print every slip still queued (a printer that was away).
    #[arg(long, conflicts_with_all = ["out_trade_no", "refund", "preview"])]
    pub flush: bool,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run `paycode receipt`.
pub fn run(config: &Path, args: &ReceiptArgs) -> ExitCode {
    let cfg = match load(config, args.json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut journal = match Journal::open(&cfg.journal.path) {
        Ok(j) => j,
        Err(e) => return output::rejected(args.json, &e.words(), None),
    };
    let no_printer = || {
        output::rejected(
            args.json,
            &Words::new(
                "no receipt printer: [printer] is not set in the config; add it (see config.toml) or use --preview",
                "未配置小票打印机:配置中没有 [printer];请按 config.toml 添加,或使用 --preview",
            ),
            None,
        )
    };
    if args.flush {
        let Some(p) = cfg.printer.as_ref() else {
            return no_printer();
        };
        return match printer::drain(&mut journal, p, printer::queue::now_ms()) {
            Ok(d) => report(args.json, &d),
            Err(e) => output::rejected(args.json, &e.words(), None),
        };
    }
    let no = args.out_trade_no.clone().unwrap_or_default();
    let job = QueuedPrint {
        id: 0,
        kind: args
            .refund
            .clone()
            .map_or(PrintKind::Sale, PrintKind::Refund),
        out_trade_no: no.clone(),
        reprint: true,
        created_ms: 0,
        attempts: 0,
        last_error: None,
        claimed_ms: None,
    };
    let format = cfg
        .printer
        .as_ref()
        .map_or_else(Format::default, |p| p.format);
    let store = cfg
        .printer
        .as_ref()
        .map_or(cfg.merchant.body.as_str(), |p| p.store_name.as_str());
    let slip = match printer::render(&journal, store, &format, &job) {
        Err(e) => return output::rejected(args.json, &e.words(), None),
        Ok(Err(why)) => {
            // The order number is an argument: echoed only through `shown_arg`.
            let shown = shown_arg(&no);
            let w = why.words();
            return output::rejected(
                args.json,
                &Words::new(
                    format!(
                        "{} (asked: {shown}); see `paycode history`",
                        w.en.replace(&no, &shown)
                    ),
                    format!(
                        "{}(查询:{shown});请查看 `paycode history`",
                        w.zh.replace(&no, &shown)
                    ),
                ),
                None,
            );
        }
        Ok(Ok(s)) => s,
    };
    if args.preview {
        let lines = preview::lines(&slip, &format);
        if args.json {
            outln!(
                "{}",
                json!({"status": "preview", "out_trade_no": no, "lines": lines})
            );
        } else {
            for l in lines {
                outln!("{l}");
            }
        }
        return ExitCode::SUCCESS;
    }
    let Some(p) = cfg.printer.as_ref() else {
        return no_printer();
    };
    if let Err(e) = journal.enqueue_print(&no, &job.kind, true, printer::queue::now_ms()) {
        return output::rejected(args.json, &e.words(), None);
    }
    match printer::drain(&mut journal, p, printer::queue::now_ms()) {
        Ok(d) => report(args.json, &d),
        Err(e) => output::rejected(args.json, &e.words(), None),
    }
}

/// What a pass over the queue did: exit 0 when nothing is left, else 1.
fn report(json: bool, d: &Drained) -> ExitCode {
    let (state, said) = match &d.state {
        None => (None, None),
        Some(Ok(s)) => (Some(s.as_str()), Some(s.words())),
        Some(Err(e)) => (None, Some(e.queued_words())),
    };
    if json {
        outln!(
            "{}",
            json!({
                "status": if d.left == 0 { "printed" } else { "queued" },
                "printed": d.printed,
                "skipped": d.skipped,
                "queued": d.left,
                "printer": state,
                "message": said.as_ref().map(|w| w.en.clone()),
                "message_zh": said.as_ref().map(|w| w.zh.clone()),
            })
        );
    } else {
        outln!(
            "printed {}, still queued {}, skipped {} / 已打印 {},仍在排队 {},跳过 {}",
            d.printed,
            d.left,
            d.skipped,
            d.printed,
            d.left,
            d.skipped
        );
        if let Some(w) = said {
            outln!("{}", w.zh);
            outln!("{}", w.en);
        }
    }
    ExitCode::from(if d.left == 0 { 0 } else { 1 })
}

/// After `pay` (or a recovered sale): queue and print the sale's slip. A sale not charged gets
/// none. What went wrong is said on stderr; the sale's exit status never changes.
pub(crate) fn after_sale(cfg: &Config, o: &Outcome) {
    if o.status() == Status::Failed {
        return;
    }
    say(printer::after_commit(
        cfg,
        &o.out_trade_no,
        &PrintKind::Sale,
    ));
}

/// After `refund`: queue and print the refund's slip.
pub(crate) fn after_refund(cfg: &Config, r: &crate::journal::Refund) {
    // A refund WeChat closed or refused gets no slip: the customer got nothing back.
    if !r.state.may_hold_money() {
        return;
    }
    let (out_trade_no, out_refund_no) = (&r.out_trade_no, &r.out_refund_no);
    say(printer::after_commit(
        cfg,
        out_trade_no,
        &PrintKind::Refund(out_refund_no.to_string()),
    ));
}

fn say(w: Option<Words>) {
    if let Some(w) = w {
        errln!("paycode: {}", w.en);
        errln!("paycode:{}", w.zh);
    }
}

/// `paycode recover`: print what the queue still holds (a printer that came back).
pub(crate) fn flush_quietly(cfg: &Config) {
    let Some(p) = cfg.printer.as_ref() else {
        return;
    };
    let Ok(mut j) = Journal::open(&cfg.journal.path) else {
        return;
    };
    match printer::drain(&mut j, p, printer::queue::now_ms()) {
        Ok(Drained {
            state: Some(Err(e)),
            ..
        }) => say(Some(e.queued_words())),
        Ok(d) if d.printed > 0 => errln!(
            "printed {} queued receipt(s) / 已打印 {} 张排队小票",
            d.printed,
            d.printed
        ),
        _ => {}
    }
}
