//! The customer's payment code (付款码): 18 ASCII digits with prefix 10–15 (docs/protocol.md §11).
//!
//! A code is a single-use bearer credential, so `Display` and `Debug` show only the first 2 and
//! the last 4 digits; the full value leaves this type only through [`AuthCode::reveal`], which is
//! crate-private and used by the request builder and the keyed fingerprint.

use crate::words::Bilingual;
use std::fmt;

/// Length of a WeChat Pay payment code.
pub const LEN: usize = 18;

/// A validated WeChat Pay payment code.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthCode(String);

/// Which wallet a string of digits most likely belongs to; used to word refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wallet {
    WeChat,
    Alipay,
    UnionPay,
    Unknown,
}

/// Why a scanned or typed string is not a WeChat Pay payment code.
/// Never carries the code itself: only its length and first two digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthCodeError {
    #[error("no payment code: the field is empty; scan the customer's code")]
    Empty,
    #[error(
        "not a payment code: character {position} is not a digit; scan again or type only digits"
    )]
    NotDigits { position: usize },
    #[error(
        "this is an Alipay code ({len} digits starting {prefix}); paycode takes WeChat Pay only — ask for the WeChat payment code"
    )]
    Alipay { len: usize, prefix: String },
    #[error(
        "this is a UnionPay code (19 digits starting 62); paycode takes WeChat Pay only — ask for the WeChat payment code"
    )]
    UnionPay,
    #[error(
        "this is a goods barcode ({kind}), not a payment code: scan the customer's WeChat payment code on their phone"
    )]
    GoodsBarcode { kind: &'static str },
    #[error("payment code too short: {len} digits, a WeChat code has 18; scan again")]
    TooShort { len: usize },
    #[error("payment code too long: {len} digits, a WeChat code has 18; scan again")]
    TooLong { len: usize },
    #[error(
        "not a WeChat payment code: it starts {prefix}, WeChat codes start 10 to 15; ask the customer to open WeChat Pay"
    )]
    WrongPrefix { prefix: String },
}

impl Bilingual for AuthCodeError {
    fn zh(&self) -> String {
        match self {
            Self::Empty => "未输入付款码:请扫描顾客的付款码".into(),
            Self::NotDigits { position } => {
                format!("不是付款码:第 {position} 个字符不是数字;请重新扫描或只输入数字")
            }
            Self::Alipay { len, prefix } => format!(
                "这是支付宝付款码({len} 位,以 {prefix} 开头);本机只收微信支付,请顾客出示微信付款码"
            ),
            Self::UnionPay => {
                "这是银联/云闪付付款码(19 位,以 62 开头);本机只收微信支付,请顾客出示微信付款码"
                    .into()
            }
            Self::GoodsBarcode { kind } => {
                format!("这是商品条码({kind}),不是付款码:请扫描顾客手机上的微信付款码")
            }
            Self::TooShort { len } => format!("付款码太短:{len} 位,微信付款码为 18 位;请重新扫描"),
            Self::TooLong { len } => format!("付款码太长:{len} 位,微信付款码为 18 位;请重新扫描"),
            Self::WrongPrefix { prefix } => format!(
                "不是微信付款码:以 {prefix} 开头,微信付款码以 10–15 开头;请顾客打开微信支付"
            ),
        }
    }
}

/// The symbology of a product barcode that a scan gun reads from goods, not a phone: EAN-8,
/// UPC-A, EAN-13 and GTIN-14 (all digits, a valid GS1 check digit), or letters and digits of at
/// least 8 characters that start with a letter or hold two (Code 128 / Code 39 shapes). No payment code has any of these shapes.
fn goods_barcode(input: &str) -> Option<&'static str> {
    let digits = input.bytes().all(|b| b.is_ascii_digit());
    if digits {
        let kind = match input.len() {
            8 => "EAN-8",
            12 => "UPC-A",
            13 => "EAN-13",
            14 => "GTIN-14",
            _ => return None,
        };
        return gs1_check_digit_ok(input).then_some(kind);
    }
    // One stray letter in a typed code is a typo (named by position), not a barcode.
    let alnum = input
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let letters = input.bytes().filter(u8::is_ascii_alphabetic).count();
    let starts_with_letter = input
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic());
    (alnum && (letters >= 2 || starts_with_letter) && input.len() >= 8).then_some("Code 128")
}

/// GS1 check digit: from the right, excluding the check digit, weights 3, 1, 3, …
fn gs1_check_digit_ok(digits: &str) -> bool {
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let Some((&check, body)) = d.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { 3 * x } else { x })
        .sum();
    (10 - sum % 10) % 10 == check
}

/// Guess the wallet of an all-digit string by prefix and length (docs/protocol.md §11).
pub fn wallet_of(digits: &str) -> Wallet {
    let prefix: u32 = digits.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let len = digits.len();
    match (prefix, len) {
        (10..=15, LEN) => Wallet::WeChat,
        (25..=30, 16..=24) => Wallet::Alipay,
        (62, 19) => Wallet::UnionPay,
        _ => Wallet::Unknown,
    }
}

impl AuthCode {
    /// Validate a code exactly as received; terminators (CR, LF, Tab) must already be stripped.
    pub fn parse(input: &str) -> Result<Self, AuthCodeError> {
        if input.is_empty() {
            return Err(AuthCodeError::Empty);
        }
        if let Some(kind) = goods_barcode(input) {
            return Err(AuthCodeError::GoodsBarcode { kind });
        }
        if let Some(i) = input.chars().position(|c| !c.is_ascii_digit()) {
            return Err(AuthCodeError::NotDigits { position: i + 1 });
        }
        let len = input.len();
        let prefix = input.get(..2).unwrap_or(input).to_string();
        match wallet_of(input) {
            Wallet::WeChat => return Ok(Self(input.to_string())),
            Wallet::Alipay => return Err(AuthCodeError::Alipay { len, prefix }),
            Wallet::UnionPay => return Err(AuthCodeError::UnionPay),
            Wallet::Unknown => {}
        }
        if len < LEN {
            Err(AuthCodeError::TooShort { len })
        } else if len > LEN {
            Err(AuthCodeError::TooLong { len })
        } else {
            Err(AuthCodeError::WrongPrefix { prefix })
        }
    }

    /// The full code. Only for the micropay request body and the keyed journal fingerprint;
    /// never for logs, screens or error messages.
    pub(crate) fn reveal(&self) -> &str {
        &self.0
    }

    /// The masked form shown everywhere: first 2 and last 4 digits (`13************4321`).
    pub fn masked(&self) -> String {
        let s = &self.0;
        format!("{}{}{}", &s[..2], "*".repeat(LEN - 6), &s[LEN - 4..])
    }
}

/// `text` with every run of 16 or more digits masked like [`AuthCode::masked`] (first 2 and
/// last 4 kept): a payment code — or anything shaped like one — in text from the network or an
/// argument never reaches a log, a screen or a file whole.
pub fn mask_digit_runs(text: &str) -> String {
    mask_runs(text, |run| run.len() >= 16)
}

/// Whether a run of digits could be some wallet's payment code: WeChat's (18 digits, 10–15),
/// or one the refusals recognise as Alipay's or UnionPay's.
pub fn could_be_code(digits: &str) -> bool {
    matches!(
        AuthCode::parse(digits),
        Ok(_) | Err(AuthCodeError::Alipay { .. } | AuthCodeError::UnionPay)
    )
}

/// `text` with every digit run that could be a payment code masked, and nothing else: an order
/// number's 17-digit stamp (which starts 20) stays readable.
pub fn mask_codes(text: &str) -> String {
    mask_runs(text, could_be_code)
}

/// `text` without the signs a person types between digit groups (`-` `.` `_` `/` `:`): a
/// code typed as the customer's phone shows it, in groups, is still a code.
pub fn without_separators(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '-' | '.' | '_' | '/' | ':'))
        .collect()
}

/// Whether `text` holds a digit run that could be a payment code (kept values refuse it: a
/// code must never be stored, sent or echoed as something else).
pub fn holds_code(text: &str) -> bool {
    digit_runs(text).any(could_be_code)
}

fn digit_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
}

/// `text` with the digit runs for which `hide` holds masked (first 2 and last 4 kept).
fn mask_runs(text: &str, hide: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() > 6 && hide(run) {
            out.push_str(&run[..2]);
            out.push_str(&"*".repeat(run.len() - 6));
            out.push_str(&run[run.len() - 4..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

impl std::str::FromStr for AuthCode {
    type Err = AuthCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthCode({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_of_sixteen_or_more_are_masked_and_shorter_ones_kept() {
        assert_eq!(
            mask_digit_runs("auth_code=134567890123454321&fee=600"),
            "auth_code=13************4321&fee=600"
        );
        assert_eq!(mask_digit_runs("1234567890123456"), "12**********3456");
        assert_eq!(mask_digit_runs("123456789012345 ok"), "123456789012345 ok");
        assert_eq!(mask_digit_runs("¥12.50"), "¥12.50");
    }

    #[test]
    fn accepts_every_wechat_prefix() {
        for p in 10..=15 {
            let code = format!("{p}3456789012345678");
            assert_eq!(AuthCode::parse(&code).unwrap().reveal(), code);
        }
    }

    #[test]
    fn refusals_name_the_problem() {
        use AuthCodeError::*;
        let table: &[(&str, AuthCodeError)] = &[
            ("", Empty),
            ("13456789012345678x", NotDigits { position: 18 }),
            (" 134567890123456789", NotDigits { position: 1 }),
            ("134567890123456789\r", NotDigits { position: 19 }),
            ("１34567890123456789", NotDigits { position: 1 }),
            (
                "281234567890123456",
                Alipay {
                    len: 18,
                    prefix: "28".into(),
                },
            ),
            (
                "2512345678901234",
                Alipay {
                    len: 16,
                    prefix: "25".into(),
                },
            ),
            ("6212345678901234567", UnionPay),
            ("13456789012345678", TooShort { len: 17 }),
            // Goods barcodes (issue 15): named as such, not "too short".
            ("6901234567892", GoodsBarcode { kind: "EAN-13" }),
            ("036000291452", GoodsBarcode { kind: "UPC-A" }),
            ("96385074", GoodsBarcode { kind: "EAN-8" }),
            ("SKU-12345AB", GoodsBarcode { kind: "Code 128" }),
            // A wrong check digit is a mistyped code, not a barcode.
            ("6901234567893", TooShort { len: 13 }),
            ("12a45", NotDigits { position: 3 }),
            ("1345678901234567890", TooLong { len: 19 }),
            (
                "193456789012345678",
                WrongPrefix {
                    prefix: "19".into(),
                },
            ),
            (
                "093456789012345678",
                WrongPrefix {
                    prefix: "09".into(),
                },
            ),
        ];
        for (input, want) in table {
            assert_eq!(
                AuthCode::parse(input).unwrap_err(),
                *want,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn display_and_debug_are_masked() {
        let c = AuthCode::parse("134567890123454321").unwrap();
        assert_eq!(c.to_string(), "13************4321");
        assert_eq!(format!("{c:?}"), "AuthCode(13************4321)");
        assert!(!format!("{c} {c:?}").contains("3456789012345"));
    }

    #[test]
    fn errors_never_carry_the_code_and_exist_in_chinese() {
        for input in [
            "281234567890123456789",
            "193456789012345678",
            "6212345678901234567",
        ] {
            let e = AuthCode::parse(input).unwrap_err();
            assert!(!e.to_string().contains(&input[2..]), "{e}");
            assert!(!e.zh().contains(&input[2..]));
            assert!(!e.zh().is_empty());
        }
    }

    #[test]
    fn wallet_detection() {
        assert_eq!(wallet_of("134567890123456789"), Wallet::WeChat);
        assert_eq!(wallet_of("301234567890123456789012"), Wallet::Alipay);
        assert_eq!(wallet_of("6212345678901234567"), Wallet::UnionPay);
        assert_eq!(wallet_of("9"), Wallet::Unknown);
    }
}
