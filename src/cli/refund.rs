//! `paycode refund <out_trade_no> [--amount] [--reason] [--no-wait] [--json]`.

use crate::words::{Bilingual, Words};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::authcode::mask_digit_runs;

use super::output;
use crate::checkout::answers;
use crate::checkout::refund::{RefundProgress, refund};
use crate::money::Fen;

/// How long `refund` follows a refund before handing back (it continues at WeChat).
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// `paycode refund` arguments.
#[derive(clap::Args, Debug)]
pub struct RefundArgs {
    /// The paid sale's out_trade_no.
    pub out_trade_no: String,
    /// Amount in yuan (default: everything not yet refunded).
    #[arg(long)]
    pub amount: Option<String>,
    /// Reason shown to the customer (≤ 80 characters).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Return once WeChat accepted the refund instead of following it to the end.
    #[arg(long)]
    pub no_wait: bool,
    /// A file (mode 600) holding the manager PIN; without it a terminal asks for the PIN.
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<std::path::PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run `paycode refund`: 0 refunded, 1 refused or closed, 2 still processing (or the rest not
/// started), 3 refused here.
pub fn run(config: &Path, args: &RefundArgs) -> ExitCode {
    let hand = Some(|cfg: &crate::config::Config| -> super::Handed {
        let json = args.json;
        let no = &args.out_trade_no;
        let question = Words::new(
            format!(
                "Refund {} of sale {no} to the customer?",
                args.amount
                    .as_deref()
                    .map_or("all that is left".to_string(), |a| format!("¥{a}"))
            ),
            format!(
                "确认向顾客退款 {}(订单 {no})?",
                args.amount
                    .as_deref()
                    .map_or("剩余全部金额".to_string(), |a| format!("¥{a}"))
            ),
        );
        let pin = super::authorise::pin_to_send(cfg, args.pin_file.as_deref(), "refund", &question)
            .map_err(|w| output::rejected(json, &w, None))?;
        // `follow_open`: the owner runs the refund as this command would here — the same
        // amount asked again is the open refund under its number, never a second one (row
        // 208: a fresh refund_ref per run made R2 beside an R1 whose answers were lost).
        let refund_ref = format!("cli-{:016x}", rand::random::<u64>());
        let mut body = serde_json::json!({
            "out_trade_no": no,
            "refund_ref": refund_ref,
            "reason": args.reason,
            "follow_open": true,
        });
        if let Some(a) = &args.amount {
            body["amount"] = serde_json::json!(a);
        }
        if let Some(p) = pin {
            body["pin"] = serde_json::json!(p.as_str());
        }
        let call = super::owner::Call {
            post: true,
            path: "/v1/refunds".to_string(),
            body: Some(body),
        };
        Ok((call, super::owner::messages))
    });
    super::with_till_or_owner(config, args.json, hand, |mut till| async move {
        let json = args.json;
        let amount = match &args.amount {
            None => None,
            Some(s) => match Fen::parse(s, till.config().checkout.max_amount) {
                Ok(a) => Some(a),
                Err(e) => {
                    return output::rejected(
                        json,
                        &Words::new(
                            mask_digit_runs(&format!("--amount {s:?}: {e}")),
                            mask_digit_runs(&format!("--amount {s:?}:{}", e.zh())),
                        ),
                        None,
                    );
                }
            },
        };
        // Asked before anything is written or sent.
        let no = &args.out_trade_no;
        let question = match amount {
            Some(a) => Words::new(
                format!("Refund ¥{a} of sale {no} to the customer?"),
                format!("确认向顾客退款 ¥{a}(订单 {no})?"),
            ),
            None => Words::new(
                format!("Refund all that is left of sale {no} to the customer?"),
                format!("确认将订单 {no} 尚可退的全部金额退给顾客?"),
            ),
        };
        let authorised = match super::authorise::manager(
            till.config(),
            till.is_simulated(),
            args.pin_file.as_deref(),
            "refund",
            &question,
        ) {
            Ok(a) => a,
            Err(w) => return output::rejected(json, &w, None),
        };
        let wait = (!args.no_wait).then_some(WAIT_LIMIT);
        let print = |p: RefundProgress| match p {
            RefundProgress::Sending {
                out_refund_no,
                attempt,
            } => errln!("refund {out_refund_no}: sending (attempt {attempt}) / 正在提交退款"),
            RefundProgress::Processing {
                out_refund_no,
                queries,
            } => errln!("refund {out_refund_no}: processing (query {queries}) / 退款处理中"),
        };
        match refund(
            &mut till,
            &args.out_trade_no,
            amount,
            &args.reason,
            authorised,
            wait,
            print,
        )
        .await
        {
            Err(e) => output::rejected(json, &e.words(), None),
            Ok(o) => {
                let r = &o.refund;
                let (code, v) = answers::refund(&o);
                if json {
                    outln!("{v}");
                } else {
                    for x in o.resent.iter().chain([r]) {
                        let said = x.words();
                        let why = x
                            .err_code
                            .as_deref()
                            .map(|c| format!(" ({c})"))
                            .unwrap_or_default();
                        outln!(
                            "退款 {} ¥{}:{}{why}",
                            x.out_refund_no,
                            x.refund_fee,
                            said.zh
                        );
                        outln!(
                            "refund {} ¥{}: {}{why}",
                            x.out_refund_no,
                            x.refund_fee,
                            said.en
                        );
                    }
                    if o.reused && o.resent.is_empty() && o.rest_not_started.is_none() {
                        let w = answers::same_refund(&r.out_refund_no, r.refund_fee);
                        outln!("{}", w.zh);
                        outln!("{}", w.en);
                    }
                    if let Some(rest) = o.rest_not_started {
                        let w = answers::rest_waits(&r.out_refund_no, r.refund_fee, rest);
                        outln!("{}", w.zh);
                        outln!("{}", w.en);
                    }
                }
                super::receipt::after_refund(till.config(), r);
                ExitCode::from(code)
            }
        }
    })
}
