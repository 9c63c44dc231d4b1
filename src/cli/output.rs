//! What the headless commands print: one JSON object on stdout with `--json`, otherwise the
//! cashier text in both languages. Progress goes to stderr.

use std::process::ExitCode;

use serde_json::{Value, json};

use super::REFUSED;
use crate::checkout::{Outcome, messages};
use crate::config::Language;
use crate::money::Fen;
use crate::words::Words;

/// The `--json` object of a sale outcome ([`messages::json`], shared with the local API).
pub(crate) fn outcome_json(o: &Outcome) -> Value {
    messages::json(o)
}

/// Print an outcome and return its exit status.
pub(crate) fn outcome(o: &Outcome, json: bool) -> ExitCode {
    outcome_with(o, json, &[])
}

/// [`outcome`] with `extra` keys in the JSON object (`pay`'s `recovered`).
pub(crate) fn outcome_with(o: &Outcome, json: bool, extra: &[(&str, Value)]) -> ExitCode {
    if json {
        let mut v = outcome_json(o);
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        outln!("{v}");
    } else {
        outln!("{}", messages::text(o, Language::Zh));
        outln!("{}", messages::text(o, Language::En));
    }
    ExitCode::from(o.status().exit_code())
}

/// A refusal before anything was sent (exit 3): JSON `status = "rejected"` or two stderr lines.
pub(crate) fn rejected(json: bool, why: &Words, total_fee: Option<Fen>) -> ExitCode {
    refusal(json, why, total_fee, REFUSED)
}

/// Nothing could be learned, nothing changed; retry later (exit 2): JSON `status =
/// "unavailable"` or two stderr lines.
pub(crate) fn unavailable(json: bool, why: &Words) -> ExitCode {
    let Words { en, zh } = why;
    if json {
        outln!(
            "{}",
            json!({"status": "unavailable", "message": en, "message_zh": zh})
        );
    }
    errln!("paycode: {en}");
    errln!("paycode:{zh}");
    ExitCode::from(2)
}

/// A refusal with a chosen exit status.
pub(crate) fn refusal(json: bool, why: &Words, total_fee: Option<Fen>, code: u8) -> ExitCode {
    refusal_with(json, why, total_fee, code, &[])
}

/// [`refusal`] with `extra` keys in the JSON object (`pay`'s `recovered`).
pub(crate) fn refusal_with(
    json: bool,
    why: &Words,
    total_fee: Option<Fen>,
    code: u8,
    extra: &[(&str, Value)],
) -> ExitCode {
    let Words { en, zh } = why;
    if json {
        let mut v = json!({
            "status": "rejected",
            "out_trade_no": null,
            "transaction_id": null,
            "total_fee": total_fee.map(|f| f.0),
            "err_code": null,
            "message": en,
            "message_zh": zh,
        });
        for (k, x) in extra {
            v[*k] = x.clone();
        }
        outln!("{v}");
    }
    errln!("paycode: {en}");
    errln!("paycode:{zh}");
    ExitCode::from(code)
}
