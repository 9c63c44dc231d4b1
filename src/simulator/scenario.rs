//! The scripted customers: digits 3–6 of a payment code choose what the simulated customer (or
//! the simulated network) does. The table is data so the TUI and `paycode simulate` can show it.
//!
//! Code layout: `PP SSSS NNNNNNNN OOOO` — `PP` a WeChat prefix 10–15, `SSSS` the scenario id,
//! then 12 free digits whose last 4 (`OOOO`) name the code's owner (the customer, for the daily
//! no-password count). A code whose `SSSS` is not in the table is a normal customer.

use serde::Serialize;
use std::time::Duration;

/// What the customer does once a password box is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "after_ms")]
pub enum Customer {
    /// Types the password this long after the micropay arrived.
    #[serde(serialize_with = "ms")]
    ConfirmsAfter(Duration),
    /// Closes the password box this long after the micropay arrived (→ PAYERROR).
    #[serde(serialize_with = "ms")]
    ClosesAfter(Duration),
    /// Leaves the box open; the order is auto-revoked.
    Never,
}

/// A fault on the reply; the request itself has been applied (the money moved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "ms")]
pub enum Fault {
    /// Reply this much later (simulated time).
    #[serde(serialize_with = "ms")]
    Delay(Duration),
    /// Close the connection without an HTTP answer.
    Drop,
    /// HTTP 500 with an empty body.
    Http500,
    /// HTTP 200 with an HTML error page instead of XML.
    Html,
    /// A signed `SYSTEMERROR` reply.
    SystemError,
    /// A signed `BANKERROR` reply.
    BankError,
    /// A SUCCESS reply whose `sign` is wrong.
    WrongSign,
    /// Reverse answers `recall=Y` without acting (reverse only).
    Recall,
    /// Close the connection without an answer and without applying the request.
    DropBefore,
    /// A signed `NOTENOUGH` refusal after the request was applied: WeChat's global POS guide
    /// warns that a `result_code=FAIL` may in rare cases hide a success (docs/simulator.md §3).
    FalseDecline,
    /// A signed `NOTENOUGH` refusal and the request is NOT applied: a true decline (for a
    /// refund: the merchant's balance is short).
    Decline,
}

/// When a queued fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPhase {
    /// Instead of handling the request.
    Before,
    /// Inside reverse, instead of acting.
    Recall,
    /// On the answer of a handled request.
    After,
}

impl Fault {
    /// When this fault strikes.
    pub fn phase(self) -> FaultPhase {
        match self {
            Self::DropBefore | Self::Decline => FaultPhase::Before,
            Self::Recall => FaultPhase::Recall,
            _ => FaultPhase::After,
        }
    }

    /// Parse an admin fault kind (`delay` takes `ms`).
    pub fn from_kind(kind: &str, ms: u64) -> Option<Self> {
        Some(match kind {
            "delay" => Self::Delay(Duration::from_millis(ms)),
            "drop" => Self::Drop,
            "http500" => Self::Http500,
            "html" => Self::Html,
            "systemerror" => Self::SystemError,
            "bankerror" => Self::BankError,
            "wrong_sign" => Self::WrongSign,
            "recall" => Self::Recall,
            "drop_before" => Self::DropBefore,
            "false_decline" => Self::FalseDecline,
            "decline" => Self::Decline,
            _ => return None,
        })
    }

    /// The `kind`/`ms` pair [`Fault::from_kind`] reads back (the shared log stores faults so).
    pub fn kind(self) -> (&'static str, u64) {
        match self {
            Self::Delay(d) => ("delay", u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            Self::Drop => ("drop", 0),
            Self::Http500 => ("http500", 0),
            Self::Html => ("html", 0),
            Self::SystemError => ("systemerror", 0),
            Self::BankError => ("bankerror", 0),
            Self::WrongSign => ("wrong_sign", 0),
            Self::Recall => ("recall", 0),
            Self::DropBefore => ("drop_before", 0),
            Self::FalseDecline => ("false_decline", 0),
            Self::Decline => ("decline", 0),
        }
    }
}

/// How a scenario's micropay goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Behaviour {
    /// Pays at once unless the password rule applies; then types the password after 8 s.
    Normal,
    /// Always shown a password box; then does what `customer` says.
    Password { customer: Customer },
    /// Declined with this err_code; nothing is charged.
    Declined {
        err_code: &'static str,
        err_code_des: &'static str,
    },
    /// Pays at once, but the first reply suffers `fault`.
    Faulty { fault: Fault },
    /// Password box never confirmed, and reverse answers `recall=Y` this many times first.
    RecallReverse { times: u32 },
}

/// One row of the scenario table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// Digits 3–6 of the code.
    pub id: u16,
    /// Stable machine name.
    pub key: &'static str,
    /// Short name, English.
    pub name_en: &'static str,
    /// Short name, Chinese.
    pub name_zh: &'static str,
    /// What happens, English.
    pub effect_en: &'static str,
    /// What happens, Chinese.
    pub effect_zh: &'static str,
    /// The machine-readable behaviour.
    pub behaviour: Behaviour,
}

impl Scenario {
    /// The code pattern shown to trainers, e.g. `13 0001 xxxxxxxxxxxx`.
    pub fn pattern(&self) -> String {
        format!("13 {:04} xxxxxxxxxxxx", self.id)
    }
}

/// How long a normal customer takes to type the password when one is asked for.
pub const NORMAL_PASSWORD_TIME: Duration = Duration::from_secs(8);

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

static TABLE: [Scenario; 16] = [
    Scenario {
        id: 0,
        key: "normal",
        name_en: "normal customer",
        name_zh: "普通顾客",
        effect_en: "pays at once; above the no-password limit or after the daily no-password count, types the password in 8 s (USERPAYING → SUCCESS)",
        effect_zh: "立即支付;超过免密额度或当日免密次数时,8 秒后输入密码(USERPAYING → SUCCESS)",
        behaviour: Behaviour::Normal,
    },
    Scenario {
        id: 1,
        key: "password_confirms",
        name_en: "password, confirms after 10 s",
        name_zh: "输密码,10 秒后确认",
        effect_en: "USERPAYING; the customer confirms 10 s later (SUCCESS)",
        effect_zh: "USERPAYING;顾客 10 秒后确认支付(SUCCESS)",
        behaviour: Behaviour::Password {
            customer: Customer::ConfirmsAfter(secs(10)),
        },
    },
    Scenario {
        id: 2,
        key: "password_never",
        name_en: "password, never confirms",
        name_zh: "输密码,一直不确认",
        effect_en: "USERPAYING until the order is auto-revoked (REVOKED) or reversed",
        effect_zh: "一直 USERPAYING,直到订单被自动撤销(REVOKED)或被撤销",
        behaviour: Behaviour::Password {
            customer: Customer::Never,
        },
    },
    Scenario {
        id: 3,
        key: "password_closes",
        name_en: "closes the password box",
        name_zh: "关闭密码框",
        effect_en: "USERPAYING; the customer closes the box after 5 s (PAYERROR)",
        effect_zh: "USERPAYING;顾客 5 秒后关闭密码框(PAYERROR)",
        behaviour: Behaviour::Password {
            customer: Customer::ClosesAfter(secs(5)),
        },
    },
    Scenario {
        id: 4,
        key: "notenough",
        name_en: "insufficient balance",
        name_zh: "余额不足",
        effect_en: "NOTENOUGH: not charged, ask for another card or code",
        effect_zh: "NOTENOUGH:未扣款,请顾客换卡或重新出示付款码",
        behaviour: Behaviour::Declined {
            err_code: "NOTENOUGH",
            err_code_des: "余额不足",
        },
    },
    Scenario {
        id: 5,
        key: "authcodeexpire",
        name_en: "expired code",
        name_zh: "付款码过期",
        effect_en: "AUTHCODEEXPIRE: not charged, the customer refreshes the code",
        effect_zh: "AUTHCODEEXPIRE:未扣款,请顾客刷新付款码",
        behaviour: Behaviour::Declined {
            err_code: "AUTHCODEEXPIRE",
            err_code_des: "二维码已过期,请用户在微信上刷新后再试",
        },
    },
    Scenario {
        id: 6,
        key: "trade_error",
        name_en: "risk control",
        name_zh: "风控拦截",
        effect_en: "TRADE_ERROR: not charged, this order number is dead",
        effect_zh: "TRADE_ERROR:未扣款,该订单号作废",
        behaviour: Behaviour::Declined {
            err_code: "TRADE_ERROR",
            err_code_des: "交易错误",
        },
    },
    Scenario {
        id: 7,
        key: "notsuportcard",
        name_en: "card not supported",
        name_zh: "不支持的卡",
        effect_en: "NOTSUPORTCARD: not charged, ask for another card",
        effect_zh: "NOTSUPORTCARD:未扣款,请顾客换卡",
        behaviour: Behaviour::Declined {
            err_code: "NOTSUPORTCARD",
            err_code_des: "不支持卡类型",
        },
    },
    Scenario {
        id: 8,
        key: "systemerror_paid",
        name_en: "SYSTEMERROR, but paid",
        name_zh: "系统错误(实际已支付)",
        effect_en: "charged at once; the first reply says SYSTEMERROR (query finds SUCCESS)",
        effect_zh: "立即扣款;首次应答为 SYSTEMERROR(查询为 SUCCESS)",
        behaviour: Behaviour::Faulty {
            fault: Fault::SystemError,
        },
    },
    Scenario {
        id: 9,
        key: "bankerror_paid",
        name_en: "BANKERROR, but paid",
        name_zh: "银行错误(实际已支付)",
        effect_en: "charged at once; the first reply says BANKERROR (query finds SUCCESS)",
        effect_zh: "立即扣款;首次应答为 BANKERROR(查询为 SUCCESS)",
        behaviour: Behaviour::Faulty {
            fault: Fault::BankError,
        },
    },
    Scenario {
        id: 10,
        key: "drop_paid",
        name_en: "connection dropped after paying",
        name_zh: "扣款后断开连接",
        effect_en: "charged at once; the first reply never comes (connection closed)",
        effect_zh: "立即扣款;首次请求无应答(连接被关闭)",
        behaviour: Behaviour::Faulty { fault: Fault::Drop },
    },
    Scenario {
        id: 11,
        key: "http500_paid",
        name_en: "HTTP 500 after paying",
        name_zh: "扣款后返回 HTTP 500",
        effect_en: "charged at once; the first reply is HTTP 500",
        effect_zh: "立即扣款;首次应答为 HTTP 500",
        behaviour: Behaviour::Faulty {
            fault: Fault::Http500,
        },
    },
    Scenario {
        id: 12,
        key: "html_paid",
        name_en: "HTML page after paying",
        name_zh: "扣款后返回 HTML 页面",
        effect_en: "charged at once; the first reply is an HTML page, not XML",
        effect_zh: "立即扣款;首次应答为 HTML 页面而非 XML",
        behaviour: Behaviour::Faulty { fault: Fault::Html },
    },
    Scenario {
        id: 13,
        key: "wrong_sign_paid",
        name_en: "wrong signature after paying",
        name_zh: "扣款后应答签名错误",
        effect_en: "charged at once; the first SUCCESS reply carries a wrong sign",
        effect_zh: "立即扣款;首次 SUCCESS 应答的签名错误",
        behaviour: Behaviour::Faulty {
            fault: Fault::WrongSign,
        },
    },
    Scenario {
        id: 14,
        key: "slow_reply",
        name_en: "slow reply (12 s)",
        name_zh: "应答缓慢(12 秒)",
        effect_en: "charged at once; the first reply comes after 12 s, past the usual 10 s read timeout",
        effect_zh: "立即扣款;首次应答 12 秒后才到,超过通常的 10 秒读超时",
        behaviour: Behaviour::Faulty {
            fault: Fault::Delay(secs(12)),
        },
    },
    Scenario {
        id: 15,
        key: "reverse_recall",
        name_en: "reverse says recall=Y 3 times",
        name_zh: "撤销需重试 3 次",
        effect_en: "USERPAYING, never confirms; reverse answers recall=Y three times, then succeeds",
        effect_zh: "USERPAYING,一直不确认;撤销前 3 次返回 recall=Y,之后成功",
        behaviour: Behaviour::RecallReverse { times: 3 },
    },
];

/// The whole table, in id order.
pub fn scenarios() -> &'static [Scenario] {
    &TABLE
}

/// The scenario with this `key`, if any.
pub fn by_key(key: &str) -> Option<&'static Scenario> {
    TABLE.iter().find(|s| s.key == key)
}

/// The scenario a WeChat code selects (normal when digits 3–6 are not in the table).
pub fn scenario_of(code: &str) -> &'static Scenario {
    let id: Option<u16> = code.get(2..6).and_then(|d| d.parse().ok());
    id.and_then(|id| TABLE.iter().find(|s| s.id == id))
        .unwrap_or(&TABLE[0])
}

/// The owner (customer) of a code: its last 4 digits.
pub fn owner_of(code: &str) -> &str {
    code.get(code.len().saturating_sub(4)..).unwrap_or(code)
}

/// A fresh code for `scenario`: `13`, the id, then `serial` as 12 digits (mod 10¹²).
/// Distinct serials give distinct codes; the owner is `serial % 10000`, so serials that differ
/// by a multiple of 10000 belong to the same customer.
pub fn code_for(scenario: &Scenario, serial: u64) -> String {
    format!("13{:04}{:012}", scenario.id, serial % 1_000_000_000_000)
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authcode::AuthCode;

    #[test]
    fn ids_are_unique_and_ordered() {
        for w in TABLE.windows(2) {
            assert!(w[0].id < w[1].id, "{} then {}", w[0].key, w[1].key);
        }
    }

    #[test]
    fn code_for_round_trips_through_scenario_of() {
        for s in scenarios() {
            let code = code_for(s, 42);
            assert!(
                AuthCode::parse(&code).is_ok(),
                "{code} is not a WeChat code"
            );
            assert_eq!(scenario_of(&code).key, s.key);
            assert_eq!(owner_of(&code), "0042");
        }
    }

    #[test]
    fn unknown_digits_are_a_normal_customer() {
        assert_eq!(scenario_of("134567890123456789").key, "normal");
        assert_eq!(scenario_of("139999000000000001").key, "normal");
    }

    #[test]
    fn owners_repeat_every_ten_thousand_serials() {
        let s = &TABLE[0];
        assert_eq!(owner_of(&code_for(s, 7)), owner_of(&code_for(s, 30_007)));
        assert_ne!(code_for(s, 7), code_for(s, 30_007));
    }
}
