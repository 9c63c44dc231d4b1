//! The JSON object each till command answers with, and its exit status — one shape for
//! `paycode refund|query|recover|reconcile --json` and for the local API that runs the same
//! commands on the process owning the journal (docs/api.md, "Commands of a running till").

use serde_json::{Value, json};

use super::flow::Final;
use super::progress::Outcome;
use super::reconcile::Report;
use super::recovery::Recovered;
use super::refund::RefundOutcome;
use super::settle::QueryAnswer;
use super::{Status, messages};
use crate::journal::RefundState;
use crate::money::Fen;
use crate::words::Words;

/// A refund's answer: 0 refunded, 1 refused or closed, 2 still processing (or the rest not
/// started).
pub fn refund(o: &RefundOutcome) -> (u8, Value) {
    let r = &o.refund;
    let code = match r.state {
        _ if o.any_open() => 2,
        RefundState::Success => 0,
        _ => 1,
    };
    let Words { en, zh } = match o.rest_not_started {
        Some(rest) => rest_waits(&r.out_refund_no, r.refund_fee, rest),
        None if o.reused && o.resent.is_empty() => {
            let w = r.words();
            let same = same_refund(&r.out_refund_no, r.refund_fee);
            Words::new(
                format!("{} — {}", same.en, w.en),
                format!("{} — {}", same.zh, w.zh),
            )
        }
        None => r.words(),
    };
    let resent: Vec<_> = o
        .resent
        .iter()
        .map(|x| {
            json!({
                "out_refund_no": x.out_refund_no,
                "refund_fee": x.refund_fee.0,
                "status": x.state.as_str(),
                "err_code": x.err_code,
            })
        })
        .collect();
    let v = json!({
        "status": r.state.as_str(),
        "out_trade_no": r.out_trade_no,
        "out_refund_no": r.out_refund_no,
        "refund_id": r.refund_id,
        "refund_fee": r.refund_fee.0,
        "err_code": r.err_code,
        "reused": o.reused,
        "resent": resent,
        "rest_fee": o.rest_not_started.map(|f| f.0),
        "message": en,
        "message_zh": zh,
    });
    (code, v)
}

/// The amount asked again while its refund is open: that refund, not a second (FAULTS row 215).
pub fn same_refund(no: &str, fee: Fen) -> Words {
    Words::new(
        format!(
            "this is refund {no} of ¥{fee} asked for earlier, not a new one; to refund another ¥{fee}, run the refund again once it has finished"
        ),
        format!(
            "这是先前发起的退款 {no}(¥{fee}),不是新的退款;如需再退 ¥{fee},请在它完成后再次发起"
        ),
    )
}

/// "Refund the rest" held back by an earlier refund WeChat has not confirmed (FAULTS.md row 80).
pub fn rest_waits(open_no: &str, open_fee: Fen, rest: Fen) -> Words {
    Words::new(
        format!(
            "refund {open_no} of ¥{open_fee} still has no verified answer from WeChat, so the ¥{rest} left of the sale is not refunded yet: run the same command again (the open refund keeps its number, never refunded twice)"
        ),
        format!(
            "退款 {open_no}(¥{open_fee})尚未得到微信确认,该笔剩余的 ¥{rest} 尚未退款:请再次运行同一命令(原退款单号不变,不会重复退款)"
        ),
    )
}

/// A query's (or accept's) answer about sale `no`; `given_back`: what refunds returned of a
/// paid sale. Exit as the outcome's, 2 while it is open.
pub fn query(no: &str, a: &QueryAnswer, given_back: Fen) -> (u8, Value) {
    let code = a.outcome.as_ref().map_or(2, |o| o.status().exit_code());
    let mut v = match &a.outcome {
        Some(o) => messages::json(o),
        None => json!({
            "status": "open",
            "out_trade_no": no,
            "transaction_id": null,
            "total_fee": null,
            "err_code": null,
            "message": "not settled yet: do not hand over goods; run `paycode recover`",
            "message_zh": "尚未完成:请勿交付商品;请运行 `paycode recover`",
        }),
    };
    v["journal_before"] = json!(a.before.as_str());
    v["journal"] = json!(a.after.as_str());
    v["wechat"] = json!(a.wechat);
    if a.accepted {
        let w = corrected();
        v["corrected"] = json!(true);
        v["message"] = json!(w.en);
        v["message_zh"] = json!(w.zh);
    }
    if a.returned {
        let refunded = a
            .outcome
            .as_ref()
            .is_some_and(|o| matches!(o.result, Final::Refunded(_)));
        let w = returned_words(refunded);
        v["returned"] = json!(true);
        v["message"] = json!(w.en);
        v["message_zh"] = json!(w.zh);
    }
    if given_back.0 > 0 {
        let back = given_back_words(given_back, a.outcome.as_ref());
        v["refunded"] = json!(given_back.0);
        v["message"] = json!(format!(
            "{} — {}",
            v["message"].as_str().unwrap_or(""),
            back.en
        ));
        v["message_zh"] = json!(format!(
            "{} — {}",
            v["message_zh"].as_str().unwrap_or(""),
            back.zh
        ));
    }
    (code, v)
}

/// The refunds of a paid sale, for `query`: in full or in part.
pub fn given_back_words(back: Fen, o: Option<&Outcome>) -> Words {
    let whole = o.is_some_and(|o| back >= o.total_fee);
    if whole {
        Words::new(
            format!("refunded in full (¥{back}): the customer has the money back"),
            format!("已全额退款(¥{back}):款项已退回顾客"),
        )
    } else {
        Words::new(
            format!("¥{back} of it refunded"),
            format!("其中 ¥{back} 已退款"),
        )
    }
}

/// What `accept` says once a late payment is kept.
pub fn corrected() -> Words {
    Words::new(
        "Accepted: WeChat took the customer's money for this sale, which was held as not charged or unresolved; it is now recorded as PAID. Hand over the goods.",
        "已确认收款:该笔曾记为未扣款或结果未明,但微信已扣款;现记为已支付。请交付商品。",
    )
}

/// What `query` says when the late-payment rule returned the money; `refunded`: past WeChat's
/// reverse window, by the refund API.
pub fn returned_words(refunded: bool) -> Words {
    let (how_en, how_zh) = if refunded {
        (
            "too late to reverse, so a refund of the whole amount was sent; WeChat accepted it",
            "已过撤销期限,已发起全额退款,微信已受理",
        )
    } else {
        ("reversed", "撤销")
    };
    Words::new(
        format!(
            "WeChat took the customer's money after the cashier was told not to hand over goods: \
             paycode returned it ({how_en}). To keep such a payment instead, a manager runs \
             `paycode accept` before it is returned."
        ),
        format!(
            "告知收银员勿交付商品后,微信才扣款成功:paycode 已将款项退回顾客({how_zh})。\
             如需保留此类付款,店长须在退回前运行 `paycode accept`。"
        ),
    )
}

/// The `recovered` list: each sale recovery settled, with what it was.
pub fn recovered(done: &[Recovered]) -> Value {
    done.iter()
        .map(|r| {
            let mut v = messages::json(&r.outcome);
            v["was"] = json!(r.was.as_str());
            v
        })
        .collect()
}

/// `recover`'s answer: 0 all settled, 2 some still unresolved.
pub fn recover(done: &[Recovered]) -> (u8, Value) {
    let unresolved = done
        .iter()
        .filter(|r| r.outcome.status() == Status::Unresolved)
        .count();
    let v = json!({"recovered": recovered(done), "unresolved": unresolved});
    (if unresolved > 0 { 2 } else { 0 }, v)
}

/// `reconcile`'s answer for `day` on till `device`: 0 agrees, 1 differences.
pub fn reconcile(day: time::Date, device: &str, r: &Report) -> (u8, Value) {
    let diffs = r.differences();
    let orders: Vec<_> = r
        .lines
        .iter()
        .map(|l| {
            json!({
                "out_trade_no": l.out_trade_no,
                "finding": l.finding.key(),
                "difference": l.finding.is_difference(),
                "message": l.finding.en(&l.out_trade_no),
                "message_zh": l.finding.zh(&l.out_trade_no),
            })
        })
        .collect();
    let v = json!({
        "status": if diffs == 0 { "agrees" } else { "differences" },
        "date": day.to_string(),
        "device_info": device,
        "journal_paid": r.journal_paid.0,
        "journal_refunded": r.journal_refunded.0,
        "wechat_paid": r.wechat_paid.0,
        "wechat_refunded": r.wechat_refunded.0,
        "differences": diffs,
        "orders": orders,
    });
    (u8::from(diffs != 0), v)
}
