//! Money as integer fen (分). Amounts are typed by the cashier as yuan strings ("12.34") and
//! sent to WeChat as integer fen; no floating point is involved anywhere.

use crate::words::Bilingual;
use std::fmt;

/// An amount in fen (1 yuan = 100 fen). Serializes as a plain integer of fen.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub u64);

/// The most one WeChat order can carry: `total_fee` is an `Int` of fen and WeChat refuses
/// orders above ¥10 000 000 (docs/protocol.md §3). Every amount paycode keeps is at most this,
/// so no sum of a journal's amounts comes near `u64::MAX`.
pub const MAX_ORDER: Fen = Fen(1_000_000_000);

/// Why an amount was refused. Each message says what is wrong and what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("no amount: type an amount in yuan, like 12.34")]
    Empty,
    #[error("negative amounts are not accepted: type an amount in yuan, like 12.34")]
    Negative,
    #[error("the amount must be above zero: type an amount in yuan, like 12.34")]
    Zero,
    #[error("at most two decimals (fen): {given} has {decimals}; type it like 12.34")]
    TooManyDecimals { given: String, decimals: usize },
    #[error("missing digits after the decimal point: type it like 12.30 or 12")]
    DanglingPoint,
    #[error("not an amount: {given:?}; type digits and at most one '.', like 12.34")]
    NotANumber { given: String },
    #[error(
        "{given} is above this till's ceiling of {ceiling}; check the amount or raise [checkout] max_amount"
    )]
    OverCeiling { given: String, ceiling: Fen },
}

impl Bilingual for MoneyError {
    fn zh(&self) -> String {
        match self {
            Self::Empty => "未输入金额:请输入元为单位的金额,例如 12.34".into(),
            Self::Negative => "不接受负数金额:请输入元为单位的金额,例如 12.34".into(),
            Self::Zero => "金额必须大于零:请输入元为单位的金额,例如 12.34".into(),
            Self::TooManyDecimals { given, decimals } => {
                format!("最多两位小数(分):{given} 有 {decimals} 位小数;请按 12.34 的格式输入")
            }
            Self::DanglingPoint => "小数点后缺少数字:请输入 12.30 或 12".into(),
            Self::NotANumber { given } => {
                format!("不是金额:{given:?};只能输入数字和一个小数点,例如 12.34")
            }
            Self::OverCeiling { given, ceiling } => format!(
                "{given} 超过本机单笔上限 {ceiling};请核对金额,或调高 [checkout] max_amount"
            ),
        }
    }
}

impl Fen {
    /// Parse a yuan amount such as `12`, `12.3`, `12.34` or ` 0.01 ` and refuse anything that
    /// is not a positive amount of whole fen at or below `ceiling`.
    pub fn parse(input: &str, ceiling: Fen) -> Result<Fen, MoneyError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let not_a_number = || MoneyError::NotANumber {
            given: s.chars().take(24).collect(),
        };
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (s, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_number());
        }
        let frac = match frac {
            None => "",
            Some("") => return Err(MoneyError::DanglingPoint),
            Some(f) if !f.bytes().all(|b| b.is_ascii_digit()) => return Err(not_a_number()),
            Some(f) if f.len() > 2 => {
                return Err(MoneyError::TooManyDecimals {
                    given: s.to_string(),
                    decimals: f.len(),
                });
            }
            Some(f) => f,
        };
        let over = || MoneyError::OverCeiling {
            given: s.to_string(),
            ceiling,
        };
        let yuan: u64 = whole.parse().map_err(|_| over())?;
        let mut fen_part: u64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            let weight = if i == 0 { 10 } else { 1 };
            fen_part += u64::from(b - b'0') * weight;
        }
        let total = yuan
            .checked_mul(100)
            .and_then(|v| v.checked_add(fen_part))
            .ok_or_else(over)?;
        if total == 0 {
            return Err(MoneyError::Zero);
        }
        if total > ceiling.0 {
            return Err(over());
        }
        Ok(Fen(total))
    }

    /// Parse up to WeChat's own per-order ceiling (config values, statements); still positive
    /// and whole fen.
    pub fn parse_order(input: &str) -> Result<Fen, MoneyError> {
        Self::parse(input, MAX_ORDER)
    }

    pub fn saturating_sub(self, other: Fen) -> Fen {
        Fen(self.0.saturating_sub(other.0))
    }
}

/// Sums of kept amounts (each at most [`MAX_ORDER`]) need ten billion sales to overflow; should
/// a hostile input get there anyway, a total stops at the largest value rather than wrapping to
/// a small one.
impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Fen {
    fn add_assign(&mut self, other: Fen) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen(0), |a, b| a + b)
    }
}

/// A signed amount in fen: a net of takings and refunds, which a day of refunds for earlier
/// sales can turn negative. Never sent to WeChat.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct NetFen(pub i64);

impl NetFen {
    /// `plus` minus `minus`.
    pub fn of(plus: Fen, minus: Fen) -> NetFen {
        let as_i64 = |f: Fen| i64::try_from(f.0).unwrap_or(i64::MAX);
        NetFen(as_i64(plus).saturating_sub(as_i64(minus)))
    }
}

impl fmt::Display for NetFen {
    /// Yuan with two decimals and a leading minus when negative: `-3.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}", Fen(self.0.unsigned_abs()))
    }
}

impl fmt::Display for Fen {
    /// Yuan with exactly two decimals: `Fen(1234)` → `12.34`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CEIL: Fen = Fen(10_000_000);

    #[test]
    fn parses_yuan_amounts() {
        let table = [
            ("12", 1200),
            ("12.3", 1230),
            ("12.34", 1234),
            ("0.01", 1),
            ("  7.05 ", 705),
            ("0.10", 10),
            ("100000.00", 10_000_000),
            ("007", 700),
        ];
        for (input, fen) in table {
            assert_eq!(Fen::parse(input, CEIL), Ok(Fen(fen)), "input {input:?}");
        }
    }

    #[test]
    fn order_amounts_stop_at_wechats_ceiling_and_sums_never_wrap() {
        assert_eq!(Fen::parse_order("10000000.00"), Ok(MAX_ORDER));
        assert!(matches!(
            Fen::parse_order("10000000.01"),
            Err(MoneyError::OverCeiling { .. })
        ));
        let total: Fen = [Fen(u64::MAX - 1), Fen(5)].into_iter().sum();
        assert_eq!(total, Fen(u64::MAX));
        let mut t = Fen(1);
        t += Fen(2);
        assert_eq!(t + Fen(3), Fen(6));
    }

    #[test]
    fn refuses_with_a_reason() {
        use MoneyError::*;
        type Check = fn(&MoneyError) -> bool;
        let cases: Vec<(&str, Check)> = vec![
            ("", |e| *e == Empty),
            ("   ", |e| *e == Empty),
            ("-1", |e| *e == Negative),
            ("0", |e| *e == Zero),
            ("0.00", |e| *e == Zero),
            ("12.345", |e| {
                matches!(e, TooManyDecimals { decimals: 3, .. })
            }),
            ("12.", |e| *e == DanglingPoint),
            ("1e3", |e| matches!(e, NotANumber { .. })),
            ("abc", |e| matches!(e, NotANumber { .. })),
            (".5", |e| matches!(e, NotANumber { .. })),
            ("1.2.3", |e| matches!(e, NotANumber { .. })),
            ("+5", |e| matches!(e, NotANumber { .. })),
            ("1 000", |e| matches!(e, NotANumber { .. })),
            ("12,34", |e| matches!(e, NotANumber { .. })),
            ("１２", |e| matches!(e, NotANumber { .. })),
            ("100000.01", |e| matches!(e, OverCeiling { .. })),
            ("99999999999999999999999", |e| {
                matches!(e, OverCeiling { .. })
            }),
        ];
        for (input, check) in cases {
            let err = Fen::parse(input, CEIL).unwrap_err();
            assert!(check(&err), "input {input:?} gave {err:?}");
            assert!(!err.to_string().is_empty() && !err.zh().is_empty());
        }
    }

    #[test]
    fn ceiling_message_names_the_key() {
        let err = Fen::parse("2000", Fen(100_000)).unwrap_err();
        assert!(err.to_string().contains("max_amount"), "{err}");
        assert!(err.to_string().contains("1000.00"), "{err}");
    }

    #[test]
    fn formats_back() {
        for (fen, s) in [(1234, "12.34"), (1, "0.01"), (1200, "12.00"), (0, "0.00")] {
            assert_eq!(Fen(fen).to_string(), s);
        }
        for s in ["12.34", "0.01", "999.99"] {
            assert_eq!(Fen::parse(s, CEIL).unwrap().to_string(), s);
        }
    }
}
