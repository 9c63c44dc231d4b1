//! Cashier-facing texts for outcomes and progress, in Simplified Chinese and English. Data, not
//! logic: the CLI prints them and the TUI shows the same words.

use super::flow::Final;
use super::progress::{Outcome, Progress};
use crate::config::Language;

/// Plain words for a not-charged reason, by WeChat err_code or trade state: (English, Chinese).
const REASONS: &[(&str, &str, &str)] = &[
    (
        "NOTENOUGH",
        "insufficient balance — ask for another card or payment method",
        "余额不足 — 请顾客更换银行卡或其他支付方式",
    ),
    (
        "AUTHCODEEXPIRE",
        "the payment code has expired — ask the customer to refresh the code",
        "付款码已过期 — 请顾客刷新付款码",
    ),
    (
        "AUTH_CODE_ERROR",
        "the payment code is not valid — ask the customer to refresh the code",
        "付款码无效 — 请顾客刷新付款码",
    ),
    (
        "AUTH_CODE_INVALID",
        "the payment code is not valid — ask the customer to refresh the code",
        "付款码无效 — 请顾客刷新付款码",
    ),
    (
        "NOTSUPORTCARD",
        "this card cannot be used here — ask for another card or payment method",
        "不支持该卡 — 请顾客更换银行卡或其他支付方式",
    ),
    (
        "BUYER_MISMATCH",
        "the code belongs to another buyer — scan the customer's own fresh code",
        "付款码与买家不符 — 请扫描顾客本人的新付款码",
    ),
    (
        "TRADE_ERROR",
        "declined by WeChat risk control — ask for another payment method",
        "被微信风控拦截 — 请顾客使用其他支付方式",
    ),
    (
        "PAYERROR",
        "the customer cancelled (closed the password box) or the payment failed",
        "顾客取消了支付(关闭了密码框)或支付失败",
    ),
    (
        "REVOKED",
        "WeChat cancelled the order before it was paid",
        "订单未支付,已被微信撤销",
    ),
    (
        "CLOSED",
        "the order was closed before it was paid",
        "订单未支付,已关闭",
    ),
    (
        "ORDERCLOSED",
        "the order was closed before it was paid",
        "订单未支付,已关闭",
    ),
    (
        "ORDERREVERSED",
        "the order was cancelled before it was paid",
        "订单未支付,已撤销",
    ),
    (
        "ORDERNOTEXIST",
        "the payment never reached WeChat",
        "该支付请求未到达微信支付",
    ),
    (
        "CANCELLED",
        "cancelled before anything was sent",
        "在发送前已取消",
    ),
];

/// Codes that mean our own setup is wrong (PROTOCOL.md §5 SETUP class).
fn is_setup(code: &str) -> bool {
    crate::wxpay::api::classify(code) == crate::wxpay::api::ErrClass::Setup
}

/// Why a sale was not charged, in plain words.
pub fn reason(err_code: &str, lang: Language) -> String {
    if let Some((_, en, zh)) = REASONS.iter().find(|(c, _, _)| *c == err_code) {
        return pick(lang, en, zh).to_string();
    }
    if is_setup(err_code) {
        return match lang {
            Language::En => format!(
                "WeChat Pay refused the request because of a setup problem ({err_code}) — \
                 run `paycode check` and fix the merchant settings"
            ),
            Language::Zh => format!(
                "微信支付因配置问题拒绝了请求({err_code})— 请运行 `paycode check` 并修正商户配置"
            ),
        };
    }
    match lang {
        Language::En => format!("WeChat Pay answered {err_code}"),
        Language::Zh => format!("微信支付返回 {err_code}"),
    }
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
        (Final::Failed { err_code, rescan }, Language::En) => {
            let then = if *rescan {
                "Ask for a fresh payment code and scan again."
            } else {
                "Nothing was taken; start a new sale if the customer still wants to pay."
            };
            format!("NOT CHARGED ¥{amount} — {}. {then}", reason(err_code, lang))
        }
        (Final::Failed { err_code, rescan }, Language::Zh) => {
            let then = if *rescan {
                "请顾客刷新付款码后重新扫码。"
            } else {
                "未扣款;如顾客仍要付款,请重新发起收款。"
            };
            format!("未扣款 ¥{amount} — {}。{then}", reason(err_code, lang))
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
        (Final::Unresolved { .. }, Language::En) => format!(
            "UNRESOLVED ¥{amount} — do not hand over goods. The payment could not be confirmed; \
             it stays on the pending list and paycode keeps checking it (order {}).",
            outcome.out_trade_no
        ),
        (Final::Unresolved { .. }, Language::Zh) => format!(
            "结果未明 ¥{amount} — 请勿交付商品。无法确认支付结果;该笔已列入待处理清单,\
             paycode 会继续核实(订单号 {})。",
            outcome.out_trade_no
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
                remaining, queries, ..
            },
            Language::En,
        ) => format!(
            "waiting for the customer's password: {}s left (queries: {queries})",
            remaining.as_secs()
        ),
        (
            Progress::WaitingForPassword {
                remaining, queries, ..
            },
            Language::Zh,
        ) => format!(
            "等待顾客输入密码:剩余 {} 秒(已查询 {queries} 次)",
            remaining.as_secs()
        ),
        (Progress::Querying { queries, .. }, Language::En) => {
            format!("result not known yet, asking WeChat (queries: {queries})")
        }
        (Progress::Querying { queries, .. }, Language::Zh) => {
            format!("结果未知,正在查询微信支付(已查询 {queries} 次)")
        }
        (Progress::Reversing { attempt, .. }, Language::En) => {
            format!("cancelling the payment (reverse attempt {attempt})")
        }
        (Progress::Reversing { attempt, .. }, Language::Zh) => {
            format!("正在撤销交易(第 {attempt} 次)")
        }
        (Progress::Done(o), _) => text(o, lang),
    }
}

fn pick<'a>(lang: Language, en: &'a str, zh: &'a str) -> &'a str {
    match lang {
        Language::En => en,
        Language::Zh => zh,
    }
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
                "余额不足",
            ),
            (
                Final::Failed {
                    err_code: "AUTHCODEEXPIRE".into(),
                    rescan: true,
                },
                "ask the customer to refresh the code",
                "刷新付款码",
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
    fn reasons_cover_rescan_setup_and_unknown_codes() {
        assert!(reason("SIGNERROR", Language::En).contains("paycode check"));
        assert!(reason("SIGNERROR", Language::Zh).contains("配置"));
        assert_eq!(reason("XYZ", Language::En), "WeChat Pay answered XYZ");
        for code in [
            "NOTENOUGH",
            "AUTHCODEEXPIRE",
            "AUTH_CODE_INVALID",
            "NOTSUPORTCARD",
        ] {
            assert!(!reason(code, Language::Zh).contains(code), "{code}");
        }
        let p = Progress::WaitingForPassword {
            out_trade_no: "T".into(),
            remaining: std::time::Duration::from_millis(12_400),
            queries: 2,
        };
        assert!(progress(&p, Language::En).contains("12s left"));
        assert!(progress(&p, Language::Zh).contains("剩余 12 秒"));
    }
}
