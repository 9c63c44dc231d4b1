//! What "handled" means, as checks that return the reason instead of panicking: a refusal
//! (exit 3, both languages, the problem named), text safe for a terminal (no escape, bell or
//! carriage return, no direction override, no whole payment code), and nothing written or sent.
#![allow(clippy::unwrap_used)]

use crate::checkout_support::{Harness, Run};
use paycode::authcode::mask_digit_runs;

/// Text shown in a failure: control characters escaped, digit runs masked.
pub fn shown(s: &str) -> String {
    let s: String = s.chars().take(400).collect();
    mask_digit_runs(&s.escape_debug().to_string())
}

/// A character a terminal must never get raw from paycode's output.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `text` holds no unsafe character and none of `secrets` whole.
pub fn clean(what: &str, text: &str, secrets: &[&str]) -> Result<(), String> {
    if let Some(c) = text.chars().find(|c| unsafe_char(*c)) {
        return Err(format!("{what} holds {c:?} raw: {}", shown(text)));
    }
    for s in secrets.iter().filter(|s| s.len() >= 16) {
        if text.contains(s) {
            return Err(format!(
                "{what} holds the whole code {}",
                mask_digit_runs(s)
            ));
        }
    }
    Ok(())
}

/// stdout and stderr of a run are clean.
pub fn clean_run(r: &Run, secrets: &[&str]) -> Result<(), String> {
    clean("stdout", &r.stdout, secrets)?;
    clean("stderr", &r.stderr, secrets)
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A `--json` refusal: exit 3, status `rejected`, `en` in the message and `zh` in a Chinese
/// `message_zh`, and clean output.
pub fn refused(r: &Run, en: &str, zh: &str, secrets: &[&str]) -> Result<(), String> {
    if r.code != 3 {
        return Err(format!(
            "exit {} (want 3): {} {}",
            r.code,
            shown(&r.stdout),
            shown(&r.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim())
        .map_err(|e| format!("stdout is not one JSON object ({e}): {}", shown(&r.stdout)))?;
    if v["status"] != "rejected" {
        return Err(format!("status {} (want rejected)", v["status"]));
    }
    let m = v["message"].as_str().unwrap_or_default();
    let mz = v["message_zh"].as_str().unwrap_or_default();
    if !m.contains(en) {
        return Err(format!("message lacks {en:?}: {}", shown(m)));
    }
    if !mz.contains(zh) || !has_cjk(mz) {
        return Err(format!("message_zh lacks {zh:?} or Chinese: {}", shown(mz)));
    }
    clean_run(r, secrets)
}

/// A plain-text refusal (a command without `--json`): exit 3, `en` and `zh` on stderr.
pub fn refused_text(r: &Run, en: &str, zh: &str, secrets: &[&str]) -> Result<(), String> {
    if r.code != 3 {
        return Err(format!("exit {} (want 3): {}", r.code, shown(&r.stderr)));
    }
    if !r.stderr.contains(en) {
        return Err(format!("stderr lacks {en:?}: {}", shown(&r.stderr)));
    }
    if !r.stderr.contains(zh) || !has_cjk(&r.stderr) {
        return Err(format!(
            "stderr lacks {zh:?} in Chinese: {}",
            shown(&r.stderr)
        ));
    }
    clean_run(r, secrets)
}

/// What a harness's journal and simulator hold, to compare before and after a case.
#[derive(Debug, PartialEq, Eq)]
pub struct Mark {
    sales: Vec<(String, String)>,
    refunds: usize,
    events: usize,
    requests: u64,
}

pub fn mark(h: &Harness) -> Mark {
    let j = h.journal();
    let sales = j.sales_between(0, i64::MAX).unwrap();
    let events = sales
        .iter()
        .map(|s| j.events(&s.out_trade_no).unwrap().len())
        .sum();
    Mark {
        sales: sales
            .iter()
            .map(|s| (s.out_trade_no.clone(), format!("{:?}", s.state)))
            .collect(),
        refunds: j.refunds_between(0, i64::MAX).unwrap().len(),
        events,
        requests: h.ledger().totals.requests.values().sum(),
    }
}

/// Nothing was journaled and nothing reached the simulator since `before`.
pub fn untouched(h: &Harness, before: &Mark) -> Result<(), String> {
    let now = mark(h);
    if &now == before {
        Ok(())
    } else {
        Err(format!("written or sent: {before:?} -> {now:?}"))
    }
}

/// The journal is as it was (requests to WeChat may have been made: a read-only command).
pub fn journal_untouched(h: &Harness, before: &Mark) -> Result<(), String> {
    let now = mark(h);
    if (&now.sales, now.refunds, now.events) == (&before.sales, before.refunds, before.events) {
        Ok(())
    } else {
        Err(format!(
            "the journal changed: {} sales, {} refunds, {} events -> {}, {}, {}",
            before.sales.len(),
            before.refunds,
            before.events,
            now.sales.len(),
            now.refunds,
            now.events
        ))
    }
}

/// Both checks of a refused input.
pub fn all(results: impl IntoIterator<Item = Result<(), String>>) -> Result<(), String> {
    results
        .into_iter()
        .collect::<Result<Vec<()>, String>>()
        .map(|_| ())
}
