//! Why WeChat did not charge a sale, by `err_code` (or trade state), and what the cashier does
//! next: the one table the CLI and the TUI both read. Data, not logic.
//!
//! English texts start lower-case because the CLI reads them mid-sentence ("NOT CHARGED ¥5.00 —
//! insufficient balance — ask for …"); a screen that shows them as lines capitalises them.

use crate::config::Language;
use crate::wxpay::api::{ErrClass, classify};

/// One text in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Text {
    en: &'static str,
    zh: &'static str,
}

impl Text {
    fn get(self, lang: Language) -> &'static str {
        match lang {
            Language::En => self.en,
            Language::Zh => self.zh,
        }
    }
}

const REFRESH_CODE: Text = Text {
    en: "ask the customer to refresh the code and scan again",
    zh: "请顾客刷新付款码后重新扫描",
};
const OTHER_CARD: Text = Text {
    en: "ask for another card or payment method",
    zh: "请顾客更换银行卡或其他付款方式",
};
const OTHER_METHOD: Text = Text {
    en: "ask for another payment method",
    zh: "请顾客使用其他付款方式",
};
const START_AGAIN: Text = Text {
    en: "start a new sale if the customer still wants to pay",
    zh: "如顾客仍要付款,请重新发起收款",
};
const FIX_SETUP: Text = Text {
    en: "call the manager: run `paycode check` and fix the [merchant] settings",
    zh: "请联系店长:运行 `paycode check` 并修正 [merchant] 配置",
};

const FIX_DEVICE: Text = Text {
    en: "call the manager: give every till its own [merchant] device_info (run `paycode config`), then start a new sale",
    zh: "请联系店长:为每台收银机设置不同的 [merchant] device_info(运行 `paycode config` 查看),然后重新发起收款",
};
/// Why for a number another order holds (two tills with one `device_info`, docs/reliability.md).
const NUMBER_TAKEN: Text = Text {
    en: "this order number is already used by another order at WeChat — another till probably has the same [merchant] device_info; the customer was not charged",
    zh: "该商户订单号已被微信支付的另一笔订单使用——可能有另一台收银机使用了相同的 [merchant] device_info;顾客未被扣款",
};

/// err_code (or trade state, or `CANCELLED`) → why, what to do.
const TABLE: &[(&str, Text, Text)] = &[
    (
        "AUTHCODEEXPIRE",
        Text {
            en: "the payment code has expired",
            zh: "付款码已过期",
        },
        REFRESH_CODE,
    ),
    (
        "AUTH_CODE_ERROR",
        Text {
            en: "the payment code is not valid",
            zh: "付款码无效",
        },
        REFRESH_CODE,
    ),
    (
        "AUTH_CODE_INVALID",
        Text {
            en: "the payment code is not valid",
            zh: "付款码无效",
        },
        REFRESH_CODE,
    ),
    (
        "NOTENOUGH",
        Text {
            en: "insufficient balance",
            zh: "余额不足",
        },
        OTHER_CARD,
    ),
    (
        "NOTSUPORTCARD",
        Text {
            en: "the customer's card is not supported",
            zh: "不支持顾客所选的银行卡",
        },
        OTHER_CARD,
    ),
    (
        // The same order number was tried by another payer; the retry gets a new one.
        "BUYER_MISMATCH",
        Text {
            en: "the code belongs to a different payer than the first attempt",
            zh: "与首次付款的顾客不是同一人",
        },
        REFRESH_CODE,
    ),
    (
        "TRADE_ERROR",
        Text {
            en: "WeChat refused the payment (risk control)",
            zh: "微信风控拒绝了本次交易",
        },
        OTHER_METHOD,
    ),
    (
        "PAYERROR",
        Text {
            en: "the customer cancelled (closed the password box) or the payment failed",
            zh: "顾客取消了支付(关闭了密码框)或支付失败",
        },
        START_AGAIN,
    ),
    (
        "REVOKED",
        Text {
            en: "WeChat cancelled the order before it was paid",
            zh: "订单未支付,已被微信撤销",
        },
        START_AGAIN,
    ),
    (
        "REFUND",
        Text {
            en: "WeChat shows a refund on the order under this number, and nothing shows that order was this sale's (another till with the same device_info?): this sale took nothing; if the customer shows a charge for it, check the merchant platform",
            zh: "微信显示该订单号下的订单有退款,且无法证明该订单属于本笔交易(是否有收银台使用相同的 device_info?):本笔交易未扣款;如顾客出示扣款记录,请到商户平台核查",
        },
        START_AGAIN,
    ),
    (
        "CLOSED",
        Text {
            en: "the order was closed before it was paid",
            zh: "订单未支付,已关闭",
        },
        START_AGAIN,
    ),
    (
        "ORDERCLOSED",
        Text {
            en: "the order was closed before it was paid",
            zh: "订单未支付,已关闭",
        },
        START_AGAIN,
    ),
    (
        "ORDERREVERSED",
        Text {
            en: "the order was cancelled before it was paid",
            zh: "订单未支付,已撤销",
        },
        START_AGAIN,
    ),
    ("ORDERPAID", NUMBER_TAKEN, FIX_DEVICE),
    ("OUT_TRADE_NO_USED", NUMBER_TAKEN, FIX_DEVICE),
    (
        "ORDERNOTEXIST",
        Text {
            en: "WeChat has no such order: the payment did not reach it (if it still arrives late, paycode returns it)",
            zh: "微信没有该订单:支付请求未到达微信(若之后迟到扣款,paycode 会退回)",
        },
        START_AGAIN,
    ),
    (
        "CANCELLED",
        Text {
            en: "cancelled before anything was sent",
            zh: "在发送前已取消",
        },
        START_AGAIN,
    ),
];

/// Why a sale was not charged and what the cashier does next, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCharged {
    /// Why, e.g. "insufficient balance" (English starts lower-case unless it starts with a name).
    pub why: String,
    /// What to do, e.g. "ask for another card or payment method".
    pub todo: String,
}

/// The plain words for a not-charged `err_code`: a table row, else the SETUP-class or the
/// unknown-code wording (both name the code).
pub fn not_charged(err_code: &str, lang: Language) -> NotCharged {
    if let Some((_, why, todo)) = TABLE.iter().find(|(c, _, _)| *c == err_code) {
        return NotCharged {
            why: why.get(lang).into(),
            todo: todo.get(lang).into(),
        };
    }
    let (why, todo) = if classify(err_code) == ErrClass::Setup {
        let why = match lang {
            Language::En => {
                format!("WeChat Pay refused the till's settings ({err_code}); no money moved")
            }
            Language::Zh => format!("微信支付拒绝了本机的配置({err_code}),未发生扣款"),
        };
        (why, FIX_SETUP)
    } else {
        let why = match lang {
            Language::En => format!("WeChat did not charge the customer ({err_code})"),
            Language::Zh => format!("微信未扣款({err_code})"),
        };
        (why, START_AGAIN)
    };
    NotCharged {
        why,
        todo: todo.get(lang).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANGS: [Language; 2] = [Language::En, Language::Zh];

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_row_has_both_languages_and_lower_case_english() {
        for (code, why, todo) in TABLE {
            for t in [why, todo] {
                assert!(!t.en.trim().is_empty() && has_cjk(t.zh), "{code}: {t:?}");
                let first = t.en.chars().next().unwrap_or('?');
                assert!(
                    first.is_lowercase() || t.en.starts_with("WeChat"),
                    "{code}: {} is read mid-sentence",
                    t.en
                );
            }
        }
        let mut codes: Vec<&str> = TABLE.iter().map(|(c, _, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "a code listed twice");
    }

    #[test]
    fn every_not_charged_class_code_has_its_own_words() {
        // The RESCAN and FAILED classes of docs/protocol.md §5, and the trade states that end a
        // sale Failed: none may fall through to the generic wording.
        let codes = [
            "AUTHCODEEXPIRE",
            "AUTH_CODE_ERROR",
            "AUTH_CODE_INVALID",
            "NOTENOUGH",
            "NOTSUPORTCARD",
            "BUYER_MISMATCH",
            "TRADE_ERROR",
            "ORDERCLOSED",
            "ORDERREVERSED",
            "CLOSED",
            "REVOKED",
            "REFUND",
            "PAYERROR",
            "ORDERNOTEXIST",
            "CANCELLED",
            "ORDERPAID",
            "OUT_TRADE_NO_USED",
        ];
        for code in codes {
            for lang in LANGS {
                let w = not_charged(code, lang);
                assert!(!w.why.contains(code), "{code} {lang:?}: {}", w.why);
            }
        }
    }

    #[test]
    fn rescan_codes_send_the_customer_back_and_failed_codes_start_again() {
        for (code, _, todo) in TABLE {
            let want: &[Text] = match classify(code) {
                ErrClass::Rescan => &[REFRESH_CODE, OTHER_CARD],
                ErrClass::Duplicate => &[FIX_DEVICE],
                _ => &[OTHER_METHOD, START_AGAIN],
            };
            assert!(want.contains(todo), "{code}");
        }
    }

    #[test]
    fn setup_and_unknown_codes_are_named() {
        let en = not_charged("SIGNERROR", Language::En);
        assert!(en.why.contains("SIGNERROR") && en.todo.contains("paycode check"));
        let zh = not_charged("SIGNERROR", Language::Zh);
        assert!(zh.why.contains("SIGNERROR") && zh.todo.contains("配置"));
        assert_eq!(
            not_charged("XYZ", Language::En),
            NotCharged {
                why: "WeChat did not charge the customer (XYZ)".into(),
                todo: START_AGAIN.en.into(),
            }
        );
        assert_eq!(not_charged("XYZ", Language::Zh).why, "微信未扣款(XYZ)");
    }
}
