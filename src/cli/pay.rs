//! `paycode pay`, `query`, `reverse`, `recover`: sales against the same journal as the TUI.

use crate::words::{Bilingual, Words};
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::{lang, load, logging, open_till, output, runtime, with_till};
use crate::authcode::{AuthCode, mask_digit_runs};
use crate::checkout::answers;
use crate::checkout::flow::Final;
use crate::checkout::pos_ref::PosRef;
use crate::checkout::settle::{self, SettleError};
use crate::checkout::{
    Progress, Recovered, Till, messages, recover as recover_sales, run_sale, run_sale_for_ref,
};
use crate::config::Language;
use crate::money::Fen;

/// `paycode pay` arguments.
#[derive(clap::Args, Debug)]
pub struct PayArgs {
    /// Amount in yuan, e.g. 12.34.
    #[arg(long)]
    pub amount: String,
    /// The customer's 18-digit payment code (as scanned); `-` reads it from stdin, which keeps
    /// it out of `ps` and shell history.
    #[arg(long)]
    pub code: String,
    /// The POS's own order id: the same ref is never charged twice — a retry answers with its
    /// sale (paid, or not settled yet) and a ref of another amount is refused.
    #[arg(long = "ref", value_name = "POS_ORDER_ID")]
    pub pos_ref: Option<String>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// One order number, plus `--json`.
#[derive(clap::Args, Debug)]
pub struct OrderArgs {
    /// The sale's out_trade_no (see `paycode history`).
    pub out_trade_no: String,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `reverse`: one order number, the manager PIN file, `--json`.
#[derive(clap::Args, Debug)]
pub struct ReverseArgs {
    /// The sale's out_trade_no (see `paycode history`).
    pub out_trade_no: String,
    /// For a paid sale (the money goes back): a file (mode 600) holding the manager PIN;
    /// without it a terminal asks for the PIN.
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<std::path::PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Only `--json`.
#[derive(clap::Args, Debug)]
pub struct JsonArg {
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A progress printer for stderr: one line per change, in the cashier's language.
fn printer(lang: Language) -> impl FnMut(Progress) {
    let mut last = String::new();
    move |p: Progress| {
        if matches!(p, Progress::Done(_)) {
            return;
        }
        let line = messages::progress(&p, lang);
        if line != last {
            errln!("{line}");
            last = line;
        }
    }
}

/// Run recovery before anything else; prints what it settled and returns it. Err: the exit
/// status.
async fn recover_first(till: &mut Till, json: bool) -> Result<Vec<Recovered>, ExitCode> {
    let l = lang(till.config());
    match recover_sales(till, printer(l)).await {
        Ok(done) => {
            for r in &done {
                errln!(
                    "recovered {} ({}): {}",
                    r.outcome.out_trade_no,
                    r.was.as_str(),
                    messages::text(&r.outcome, l)
                );
            }
            Ok(done)
        }
        Err(e) => Err(output::refusal(json, &e.words(), None, e.exit_code())),
    }
}

/// Tell the cashier, before the new sale's result, of each earlier refusal that had hid a
/// payment and was returned first (the JSON carries them as `closed`).
fn closed_lines(closed: &[Recovered], json: bool, l: Language) {
    if json {
        return;
    }
    for r in closed {
        let no = &r.outcome.out_trade_no;
        let what = messages::text(&r.outcome, l);
        match l {
            Language::En => errln!("closed first: the earlier declined sale {no} — {what}"),
            Language::Zh => errln!("已先处理之前被拒绝的交易 {no}:{what}"),
        }
    }
}

/// Warn (on stderr, with `--json` too) of each recent decline WeChat did not answer about
/// before this charge: it may still hide a payment (row 164).
fn unchecked_lines(unchecked: &[String]) {
    for no in unchecked {
        errln!(
            "paycode: the earlier declined sale {no} could not be checked with WeChat (no answer): if the customer's phone shows a payment for it, run `paycode recover` — paycode returns it"
        );
        errln!(
            "paycode:之前被拒绝的交易 {no} 未能向微信核实(无应答):如顾客手机显示该笔已付款,请运行 `paycode recover` — paycode 会退回"
        );
    }
}

/// A recovered sale where money moved (paid, or charged and refunded): the POS may be about to
/// charge the same purchase again, so the new sale waits until someone has looked at it. With
/// `--ref`, a sale of another ref is another purchase and one of this ref answers for itself:
/// only a sale without a ref can hide the same purchase.
fn money_moved(done: &[Recovered], pos_ref: Option<&PosRef>) -> Option<Words> {
    let moved: Vec<&Recovered> = done
        .iter()
        .filter(|r| pos_ref.is_none() || r.pos_ref.is_none())
        .filter(|r| {
            matches!(
                r.outcome.result,
                Final::Paid(_) | Final::Reversed { refunded: true } | Final::Refunded(_)
            )
        })
        .collect();
    let first = moved.first()?;
    let no = &first.outcome.out_trade_no;
    let fee = first.outcome.total_fee;
    let what = messages::text(&first.outcome, Language::En);
    let what_zh = messages::text(&first.outcome, Language::Zh);
    Some(Words::new(
        format!(
            "not charged: recovery just settled an earlier sale {no} (¥{fee}) that WeChat had moved money for — {what}. It may be this same purchase: check it with the customer before charging again; nothing was sent for this sale"
        ),
        format!(
            "未收款:恢复程序刚处理了之前的交易 {no}(¥{fee}),微信已有资金变动——{what_zh}。可能就是本次购买:请先与顾客核对再重新收款;本笔未发送任何请求"
        ),
    ))
}

/// `paycode pay --amount --code [--json]`.
pub fn pay(config: &Path, args: &PayArgs) -> ExitCode {
    let cfg = match load(config, args.json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let amount = match Fen::parse(&args.amount, cfg.checkout.max_amount) {
        Ok(a) => a,
        Err(e) => {
            return output::rejected(
                args.json,
                &Words::new(
                    // The amount's own error may echo it too: a code typed here is masked.
                    mask_digit_runs(&format!("--amount {:?}: {e}", args.amount)),
                    mask_digit_runs(&format!("--amount {:?}:{}", args.amount, e.zh())),
                ),
                None,
            );
        }
    };
    let text = match code_text(&args.code, std::io::stdin().lock()) {
        Ok(t) => t,
        Err(why) => return output::rejected(args.json, &why, Some(amount)),
    };
    let code = match AuthCode::parse(&text) {
        Ok(c) => c,
        Err(e) => {
            return output::rejected(
                args.json,
                &Words::new(format!("--code: {e}"), format!("--code:{}", e.zh())),
                Some(amount),
            );
        }
    };
    let pos_ref = match args.pos_ref.as_deref().map(PosRef::parse).transpose() {
        Ok(r) => r,
        Err(e) => return output::rejected(args.json, &e.words(), Some(amount)),
    };
    let _log = logging(&cfg);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    let json = args.json;
    rt.block_on(async move {
        let mut till = match open_till(cfg, json).await {
            Ok(t) => t,
            Err(c) => return c,
        };
        let done = match recover_first(&mut till, json).await {
            Ok(d) => d,
            Err(c) => return c,
        };
        let mut extra = vec![("recovered", answers::recovered(&done))];
        if let Some(why) = money_moved(&done, pos_ref.as_ref()) {
            return output::refusal_with(json, &why, Some(amount), super::REFUSED, &extra);
        }
        let l = lang(till.config());
        let Some(pos_ref) = pos_ref else {
            return match run_sale(&mut till, amount, code, printer(l)).await {
                Ok(c) => {
                    closed_lines(&c.closed, json, l);
                    unchecked_lines(&c.unchecked);
                    extra.push(("closed", answers::recovered(&c.closed)));
                    extra.push(("unchecked", json!(c.unchecked)));
                    // The result first; the slip after it, never delaying or changing it.
                    let shown = output::outcome_with(&c.outcome, json, &extra);
                    super::receipt::after_sale(till.config(), &c.outcome);
                    shown
                }
                Err(e) => {
                    extra.extend(e.json_fields());
                    output::refusal_with(json, &e.words(), Some(amount), e.exit_code(), &extra)
                }
            };
        };
        extra.push(("ref", json!(pos_ref.as_str())));
        match run_sale_for_ref(&mut till, amount, code, &pos_ref, printer(l)).await {
            Ok(s) => {
                if s.existing && !json {
                    errln!(
                        "--ref {} already has sale {}: nothing was sent / 该 ref 已有交易,未发送任何请求",
                        pos_ref.as_str(),
                        s.outcome.out_trade_no
                    );
                }
                closed_lines(&s.closed, json, l);
                unchecked_lines(&s.unchecked);
                extra.push(("existing", json!(s.existing)));
                extra.push(("closed", answers::recovered(&s.closed)));
                extra.push(("unchecked", json!(s.unchecked)));
                let shown = output::outcome_with(&s.outcome, json, &extra);
                if !s.existing {
                    super::receipt::after_sale(till.config(), &s.outcome);
                }
                shown
            }
            Err(e) => {
                extra.extend(e.json_fields());
                output::refusal_with(json, &e.words(), Some(amount), e.exit_code(), &extra)
            }
        }
    })
}

/// The payment code's text: the argument, or with `-` the first line of `stdin`.
fn code_text(arg: &str, mut stdin: impl std::io::BufRead) -> Result<String, Words> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut line = String::new();
    match stdin.read_line(&mut line) {
        Ok(_) if !line.trim().is_empty() => Ok(line.trim().to_string()),
        Ok(_) => Err(Words::new(
            "--code -: nothing on stdin; pipe the scanned code in, e.g. `printf %s \"$CODE\" | paycode pay --amount 12.34 --code -`",
            "--code -:标准输入为空;请把扫到的付款码通过管道传入,例如 `printf %s \"$CODE\" | paycode pay --amount 12.34 --code -`",
        )),
        Err(e) => Err(Words::new(
            format!("--code -: cannot read stdin: {e}"),
            format!("--code -:无法读取标准输入:{e}"),
        )),
    }
}

/// `paycode query <out_trade_no>`.
pub fn query(config: &Path, args: &OrderArgs) -> ExitCode {
    answer(config, args, false)
}

/// `paycode accept <out_trade_no>`: keep a late payment as paid (the manager's choice).
pub fn accept(config: &Path, args: &OrderArgs) -> ExitCode {
    answer(config, args, true)
}

/// `query` and `accept`: ask WeChat, print what the journal became.
fn answer(config: &Path, args: &OrderArgs, accept: bool) -> ExitCode {
    // A query is handed to a running paycode that holds the journal (an accept is the
    // manager's, at the till).
    let hand = (!accept).then_some(|_: &crate::config::Config| -> super::Handed {
        let call = super::owner::Call {
            post: true,
            path: format!("/v1/orders/{}/query", path_segment(&args.out_trade_no)),
            body: None,
        };
        Ok((call, super::owner::messages))
    });
    super::with_till_or_owner(config, args.json, hand, |mut till| async move {
        let json = args.json;
        let asked = if accept {
            settle::accept_sale(&mut till, &args.out_trade_no).await
        } else {
            settle::query_sale(&mut till, &args.out_trade_no).await
        };
        match asked {
            Err(e) => settle_error(&e, json),
            Ok(a) => {
                // A paid sale given back in part or in full says so (WeChat: REFUND).
                let given_back = match till.journal().refunds_of(&args.out_trade_no) {
                    Ok(rs) if a.after == crate::journal::SaleState::Paid => {
                        crate::journal::refunded_of(&args.out_trade_no, &rs)
                    }
                    _ => crate::money::Fen(0),
                };
                let refunded = a
                    .outcome
                    .as_ref()
                    .is_some_and(|o| matches!(o.result, Final::Refunded(_)));
                let returned = answers::returned_words(refunded);
                let (code, v) = answers::query(&args.out_trade_no, &a, given_back);
                if json {
                    outln!("{v}");
                } else {
                    outln!(
                        "{}: WeChat {} — journal {} → {}",
                        args.out_trade_no,
                        a.wechat,
                        a.before.as_str(),
                        a.after.as_str()
                    );
                    outln!(
                        "{}:微信 {} — 账本 {} → {}",
                        args.out_trade_no,
                        a.wechat,
                        a.before.zh(),
                        a.after.zh()
                    );
                    if let Some(o) = &a.outcome {
                        outln!("{}", messages::text(o, Language::Zh));
                        outln!("{}", messages::text(o, Language::En));
                    }
                    if a.returned {
                        outln!("{}", returned.zh);
                        outln!("{}", returned.en);
                    }
                    if given_back.0 > 0 {
                        let back = answers::given_back_words(given_back, a.outcome.as_ref());
                        outln!("{}", back.zh);
                        outln!("{}", back.en);
                    }
                    if a.accepted {
                        let w = answers::corrected();
                        outln!("{}", w.zh);
                        outln!("{}", w.en);
                    }
                }
                ExitCode::from(code)
            }
        }
    })
}

/// `paycode reverse <out_trade_no>`.
pub fn reverse(config: &Path, args: &ReverseArgs) -> ExitCode {
    with_till(config, args.json, |mut till| async move {
        let l = lang(till.config());
        // Reversing a paid sale gives the money back: the manager's call, as a refund is. An
        // unresolved sale's reverse is the safe way out and needs no PIN.
        let paid = match till.journal().sale(&args.out_trade_no) {
            Ok(Some(row)) if row.state == crate::journal::SaleState::Paid => Some(row.total_fee),
            _ => None,
        };
        if let Some(fee) = paid {
            let no = &args.out_trade_no;
            let question = Words::new(
                format!("Reverse paid sale {no}: the whole ¥{fee} goes back to the customer?"),
                format!("撤销已支付的订单 {no}:全部 ¥{fee} 将退回顾客?"),
            );
            if let Err(w) = super::authorise::manager(
                till.config(),
                till.is_simulated(),
                args.pin_file.as_deref(),
                "reverse",
                &question,
            ) {
                return output::rejected(args.json, &w, None);
            }
        }
        match settle::reverse_sale(&mut till, &args.out_trade_no, printer(l)).await {
            Ok(o) => output::outcome(&o, args.json),
            Err(e) => settle_error(&e, args.json),
        }
    })
}

/// `paycode recover`: resume open sales, retry every pending one once, and close the definite
/// failures WeChat has not confirmed closed yet.
pub fn recover(config: &Path, args: &JsonArg) -> ExitCode {
    let hand = Some(|_: &crate::config::Config| -> super::Handed {
        let call = super::owner::Call {
            post: true,
            path: "/v1/recover".to_string(),
            body: None,
        };
        Ok((call, super::owner::recovered))
    });
    super::with_till_or_owner(config, args.json, hand, |mut till| async move {
        let l = lang(till.config());
        let json = args.json;
        let done = match crate::checkout::recovery::recover_now(&mut till, printer(l)).await {
            Ok(d) => d,
            Err((why, code)) => return output::refusal(json, &why, None, code),
        };
        let (code, v) = answers::recover(&done);
        if json {
            outln!("{v}");
        } else if done.is_empty() {
            outln!("nothing to recover / 没有需要恢复的交易");
        } else {
            for r in &done {
                outln!(
                    "{} ({}): {}",
                    r.outcome.out_trade_no,
                    r.was.as_str(),
                    messages::text(&r.outcome, l)
                );
            }
        }
        super::receipt::flush_quietly(till.config());
        ExitCode::from(code)
    })
}

fn settle_error(e: &SettleError, json: bool) -> ExitCode {
    output::refusal(json, &e.words(), None, e.exit_code())
}

/// An order number as one path segment: anything but letters, digits and `-_.` percent-encoded
/// (the owner refuses what is not an order number).
pub(crate) fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
