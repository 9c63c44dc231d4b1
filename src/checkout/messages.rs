//! Cashier-facing texts for outcomes and progress, in Simplified Chinese and English. Data, not
//! logic: the CLI prints them and the TUI shows the same words.

use super::flow::{Final, NOT_PROVEN};
use super::progress::{Outcome, Progress};
use crate::config::Language;

/// Why a sale was not charged and what to do, in one phrase ("insufficient balance — ask for …").
pub fn reason(err_code: &str, lang: Language) -> String {
    let w = super::reasons::not_charged(err_code, lang);
    format!("{} — {}", w.why, w.todo)
}

/// The result line for the cashier.
pub fn text(outcome: &Outcome, lang: Language) -> String {
    let amount = outcome.total_fee;
    match (&outcome.result, lang) {
        (Final::Paid(p), Language::En) => {
            format!("PAID ¥{amount} — WeChat transaction {}", p.transaction_id)
        }
        (Final::Paid(p), Language::Zh) => {
            format!("支付成功 ¥{amount} — 微信支付单号 {}", p.transaction_id)
        }
        (Final::Failed { err_code, .. }, Language::En) => {
            format!("NOT CHARGED ¥{amount} — {}.", reason(err_code, lang))
        }
        (Final::Failed { err_code, .. }, Language::Zh) => {
            format!("未扣款 ¥{amount} — {}。", reason(err_code, lang))
        }
        (Final::Reversed { refunded: false }, Language::En) => format!(
            "REVERSED ¥{amount} — the payment was cancelled and the customer was not charged. \
             Safe to retry with a fresh code."
        ),
        (Final::Reversed { refunded: false }, Language::Zh) => {
            format!("已撤销 ¥{amount} — 交易已撤销,顾客未被扣款。可请顾客刷新付款码重试。")
        }
        (Final::Reversed { refunded: true }, Language::En) => format!(
            "REVERSED ¥{amount} — the customer was charged and has been refunded in full. \
             This sale is not paid; start a new sale if the customer still wants to pay."
        ),
        (Final::Reversed { refunded: true }, Language::Zh) => format!(
            "已撤销 ¥{amount} — 顾客曾被扣款,已全额退回。本笔未收款;如顾客仍要付款,请重新发起收款。"
        ),
        (Final::Refunded(_), Language::En) => format!(
            "REFUNDED ¥{amount} — too late for WeChat to reverse (7 days): paycode sent a refund of \
             the whole ¥{amount} to the customer (WeChat accepted it; the money arrives within \
             days). This sale is not paid; start a new sale if the customer still wants to pay."
        ),
        (Final::Refunded(_), Language::Zh) => format!(
            "已退款 ¥{amount} — 已超过微信撤销期限(7 天):paycode 已向顾客发起全额退款 ¥{amount}\
             (微信已受理,款项数日内到账)。本笔未收款;如顾客仍要付款,请重新发起收款。"
        ),
        (Final::Unresolved { why }, Language::En) => format!(
            "UNRESOLVED ¥{amount} — do not hand over goods. The payment could not be confirmed; \
             it stays on the pending list and paycode keeps checking it (order {}).{}",
            outcome.out_trade_no,
            if why.contains(NOT_PROVEN) {
                " WeChat's answer to the payment was lost, so paycode does not reverse the order \
                 (it may be another till's with the same device_info); WeChat closes an unpaid \
                 order by itself, and a payment found later is returned."
            } else {
                ""
            }
        ),
        (Final::Unresolved { why }, Language::Zh) => format!(
            "结果未明 ¥{amount} — 请勿交付商品。无法确认支付结果;该笔已列入待处理清单,\
             paycode 会继续核实(订单号 {})。{}",
            outcome.out_trade_no,
            if why.contains(NOT_PROVEN) {
                "微信对该笔收款的应答丢失,paycode 不撤销该订单(它可能属于使用相同 device_info \
                 的其他收银台);微信会自行关闭未支付的订单,之后发现的付款会退回顾客。"
            } else {
                ""
            }
        ),
    }
}

/// One progress line (the CLI's stderr countdown; the TUI may use it as a status line).
pub fn progress(p: &Progress, lang: Language) -> String {
    match (p, lang) {
        (Progress::Recovering { out_trade_no, .. }, Language::En) => {
            format!("resuming unfinished sale {out_trade_no} (query first, never a new charge)")
        }
        (Progress::Recovering { out_trade_no, .. }, Language::Zh) => {
            format!("正在恢复未完成的交易 {out_trade_no}(先查询,绝不重复扣款)")
        }
        (Progress::Submitting { total_fee, .. }, Language::En) => {
            format!("charging ¥{total_fee} …")
        }
        (Progress::Submitting { total_fee, .. }, Language::Zh) => {
            format!("正在收款 ¥{total_fee} …")
        }
        (
            Progress::WaitingForPassword {
                remaining,
                queries,
                reverses,
                ..
            },
            Language::En,
        ) => format!(
            "waiting for the customer's password: {}s left{} (queries: {queries})",
            remaining.as_secs(),
            if *reverses {
                ""
            } else {
                ", then asking WeChat (the answer was lost: not reversed)"
            }
        ),
        (
            Progress::WaitingForPassword {
                remaining,
                queries,
                reverses,
                ..
            },
            Language::Zh,
        ) => format!(
            "等待顾客输入密码:剩余 {} 秒{}(已查询 {queries} 次)",
            remaining.as_secs(),
            if *reverses {
                ""
            } else {
                ",之后向微信查询(应答丢失:不撤销)"
            }
        ),
        (Progress::Querying { queries, .. }, Language::En) => {
            format!("result not known yet, asking WeChat (queries: {queries})")
        }
        (Progress::Querying { queries, .. }, Language::Zh) => {
            format!("结果未知,正在查询微信支付(已查询 {queries} 次)")
        }
        (
            Progress::Reversing {
                remaining: Some(r), ..
            },
            Language::En,
        ) => format!(
            "cancelling the payment: the reverse goes out in {}s (WeChat takes it only 15 s after the payment, or after a pause between tries)",
            r.as_secs().max(1)
        ),
        (
            Progress::Reversing {
                remaining: Some(r), ..
            },
            Language::Zh,
        ) => format!(
            "正在取消交易:{} 秒后发起撤销(微信要求付款 15 秒后才能撤销,或为重试间隔)",
            r.as_secs().max(1)
        ),
        // Before the first reverse goes out: what is being settled, not "attempt 0".
        (Progress::Reversing { attempt: 0, .. }, Language::En) => {
            "settling the sale with WeChat before any reverse".to_string()
        }
        (Progress::Reversing { attempt: 0, .. }, Language::Zh) => {
            "正在与微信确认该笔交易(尚未发起撤销)".to_string()
        }
        (Progress::Reversing { attempt, .. }, Language::En) => {
            format!("cancelling the payment (reverse attempt {attempt})")
        }
        (Progress::Reversing { attempt, .. }, Language::Zh) => {
            format!("正在撤销交易(第 {attempt} 次)")
        }
        (Progress::Confirming { remaining, .. }, Language::En) => format!(
            "WeChat's answer was lost: waiting for WeChat to confirm or close the order, {}s at most; do not hand over the goods",
            remaining.as_secs()
        ),
        (Progress::Confirming { remaining, .. }, Language::Zh) => format!(
            "微信应答丢失:等待微信确认或关闭订单,最多 {} 秒;请勿交付商品",
            remaining.as_secs()
        ),
        (Progress::Done(o), _) => text(o, lang),
    }
}

/// The JSON object of a sale outcome, one shape for `pay --json` and the local API (README.md,
/// Commands: status, out_trade_no, transaction_id, total_fee, err_code, message; plus rescan,
/// bank_type, cash_fee, message_zh).
pub fn json(o: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "status": o.status().as_str(),
        "out_trade_no": o.out_trade_no,
        "transaction_id": o.transaction_id,
        "total_fee": o.total_fee.0,
        "err_code": o.err_code(),
        "rescan": o.rescan(),
        "bank_type": o.bank_type,
        "cash_fee": o.cash_fee.map(|f| f.0),
        "message": text(o, Language::En),
        "message_zh": text(o, Language::Zh),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::flow::Payment;
    use crate::money::Fen;

    fn outcome(result: Final) -> Outcome {
        Outcome {
            out_trade_no: "till-120260101000000001".into(),
            total_fee: Fen(1234),
            result,
            transaction_id: None,
            bank_type: None,
            cash_fee: None,
            note: None,
        }
    }

    #[test]
    fn every_outcome_has_both_languages_and_the_key_words() {
        let cases = [
            (
                Final::Paid(Payment {
                    transaction_id: "4200".into(),
                    total_fee: Fen(1234),
                    time_end: String::new(),
                }),
                "PAID ¥12.34",
                "支付成功",
            ),
            (
                Final::Failed {
                    err_code: "NOTENOUGH".into(),
                    rescan: true,
                },
                "insufficient balance — ask for another card or payment method",
                "余额不足 — 请顾客更换银行卡或其他付款方式",
            ),
            (
                Final::Failed {
                    err_code: "AUTHCODEEXPIRE".into(),
                    rescan: true,
                },
                "the payment code has expired — ask the customer to refresh the code and scan again",
                "付款码已过期 — 请顾客刷新付款码后重新扫描",
            ),
            (
                Final::Reversed { refunded: false },
                "not charged",
                "未被扣款",
            ),
            (Final::Reversed { refunded: true }, "refunded", "全额退回"),
            (
                Final::Unresolved { why: "x".into() },
                "do not hand over goods",
                "请勿交付商品",
            ),
            // Review of stop 20: an unproven order left unresolved says why it was not reversed.
            (
                Final::Unresolved {
                    why: format!("orderquery USERPAYING; {NOT_PROVEN} (…)"),
                },
                "does not reverse the order",
                "不撤销该订单",
            ),
        ];
        for (result, en, zh) in cases {
            let o = outcome(result);
            assert!(
                text(&o, Language::En).contains(en),
                "{}",
                text(&o, Language::En)
            );
            assert!(
                text(&o, Language::Zh).contains(zh),
                "{}",
                text(&o, Language::Zh)
            );
        }
    }

    #[test]
    fn a_not_charged_line_says_why_and_what_to_do() {
        let o = outcome(Final::Failed {
            err_code: "NOTENOUGH".into(),
            rescan: true,
        });
        assert_eq!(
            text(&o, Language::En),
            "NOT CHARGED ¥12.34 — insufficient balance — ask for another card or payment method."
        );
        assert_eq!(
            text(&o, Language::Zh),
            "未扣款 ¥12.34 — 余额不足 — 请顾客更换银行卡或其他付款方式。"
        );
        assert!(reason("SIGNERROR", Language::En).contains("paycode check"));
        assert!(reason("XYZ", Language::En).contains("(XYZ)"));
    }

    #[test]
    fn progress_counts_down_in_both_languages() {
        let p = Progress::WaitingForPassword {
            out_trade_no: "T".into(),
            remaining: std::time::Duration::from_millis(12_400),
            queries: 2,
            reverses: true,
        };
        assert!(progress(&p, Language::En).contains("12s left"));
        assert!(progress(&p, Language::Zh).contains("剩余 12 秒"));
        // A lost micropay answer: the line does not promise a reverse.
        let Progress::WaitingForPassword {
            out_trade_no,
            remaining,
            queries,
            ..
        } = p
        else {
            unreachable!()
        };
        let lost = Progress::WaitingForPassword {
            out_trade_no,
            remaining,
            queries,
            reverses: false,
        };
        let floor = Progress::Reversing {
            out_trade_no: "T".into(),
            attempt: 0,
            remaining: Some(std::time::Duration::from_millis(8_200)),
        };
        assert!(progress(&floor, Language::En).contains("in 8s (WeChat takes it only 15 s"));
        assert!(progress(&floor, Language::Zh).contains("8 秒后发起撤销"));
        assert!(progress(&lost, Language::En).contains("not reversed"));
        assert!(progress(&lost, Language::Zh).contains("不撤销"));
    }
}
