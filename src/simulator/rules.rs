//! Protocol rules every endpoint shares (docs/protocol.md §1–§4): paths, the signature, merchant
//! ids, and the value checks that give `PARAM_ERROR`. Pure.

use crate::wxpay::sign::{ApiKey, SignType, verify};
use crate::wxpay::xml::Fields;

pub use crate::wxpay::endpoint::{Endpoint, SANDBOX_PREFIX};

/// True if `path` (with or without the sandbox prefix) is under `/secapi/`.
pub fn is_secapi(path: &str) -> bool {
    path.strip_prefix(SANDBOX_PREFIX)
        .unwrap_or(path)
        .starts_with("/secapi/")
}

/// Why a request was refused before its endpoint ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `return_code=FAIL` with this message (unsigned).
    Protocol(String),
    /// `result_code=FAIL` with this err_code / description (signed with `SignType`).
    Business(SignType, &'static str, String),
}

/// The merchant the simulator serves.
#[derive(Debug, Clone)]
pub struct Merchant {
    /// The only appid that exists.
    pub appid: String,
    /// The only mch_id that exists.
    pub mch_id: String,
    /// Its APIv2 key.
    pub key: ApiKey,
}

/// Signature, sign_type, appid/mch_id and nonce checks, in WeChat's order.
/// Returns the algorithm to sign the answer with.
pub fn check_common(f: &Fields, m: &Merchant) -> Result<SignType, Refusal> {
    let proto = |s: &str| Err(Refusal::Protocol(s.to_string()));
    let Some(given) = f.get("sign").filter(|s| !s.is_empty()) else {
        return proto("LACK_PARAMS: 缺少参数sign");
    };
    let Some(st) = SignType::from_wire(f.get("sign_type").unwrap_or("")) else {
        return proto("sign_type参数错误");
    };
    if !verify(f, &m.key, st, given) {
        return proto("签名错误");
    }
    let biz = |code: &'static str, des: String| Err(Refusal::Business(st, code, des));
    for name in ["appid", "mch_id", "nonce_str"] {
        if f.get(name).is_none_or(str::is_empty) {
            return biz("LACK_PARAMS", format!("缺少参数{name}"));
        }
    }
    let appid = f.get("appid").unwrap_or("");
    if f.get("mch_id") != Some(m.mch_id.as_str()) {
        return biz("MCHID_NOT_EXIST", "商户号不存在".into());
    }
    if appid != m.appid {
        // An appid shaped like a real one exists, just not for this merchant.
        let shaped = appid.len() == 18
            && appid.starts_with("wx")
            && appid.bytes().all(|b| b.is_ascii_alphanumeric());
        return if shaped {
            biz("APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配".into())
        } else {
            biz("APPID_NOT_EXIST", "APPID不存在".into())
        };
    }
    if f.get("nonce_str").is_some_and(|n| n.chars().count() > 32) {
        return biz("PARAM_ERROR", "nonce_str长度超过32".into());
    }
    Ok(st)
}

/// The first of `names` that is missing or empty.
pub fn missing<'a>(f: &Fields, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .copied()
        .find(|n| f.get(n).is_none_or(str::is_empty))
}

/// `total_fee`-style amount: a positive integer of fen without sign, spaces or leading zeros.
pub fn fen(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 12 || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

/// `out_refund_no`: 1–64 of `[0-9A-Za-z_-|*@]` (WeChat's refund page, docs/protocol.md §9).
pub fn refund_no_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b))
}

/// `out_trade_no`: 1–32 of `[0-9A-Za-z_-|*]`.
pub fn order_no_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b))
}

/// At most `max` characters.
pub fn short(s: &str, max: usize) -> bool {
    s.chars().count() <= max
}

/// True for an IPv4 or IPv6 address.
pub fn ip_ok(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wxpay::sign::sign;

    fn merchant() -> Merchant {
        Merchant {
            appid: "wxpaycodesimulator".into(),
            mch_id: "1000000001".into(),
            key: ApiKey::new("PaycodeSimulatorDemoKey-NotReal1").unwrap(),
        }
    }

    fn signed(pairs: &[(&str, &str)], st: SignType) -> Fields {
        let mut f: Fields = pairs.iter().copied().collect();
        let s = sign(&f, &merchant().key, st);
        f.push("sign", s);
        f
    }

    #[test]
    fn paths_with_and_without_the_sandbox_prefix() {
        assert_eq!(
            Endpoint::from_path("/pay/micropay"),
            Some(Endpoint::Micropay)
        );
        assert_eq!(
            Endpoint::from_path("/xdc/apiv2sandbox/secapi/pay/reverse"),
            Some(Endpoint::Reverse)
        );
        assert_eq!(Endpoint::from_path("/pay/closeorder"), None);
        assert!(is_secapi("/xdc/apiv2sandbox/secapi/pay/refund"));
        assert!(!is_secapi("/pay/orderquery"));
    }

    #[test]
    fn fen_accepts_only_plain_positive_integers() {
        assert_eq!(fen("1"), Some(1));
        assert_eq!(fen("100000"), Some(100_000));
        for bad in [
            "",
            "0",
            "01",
            "-1",
            "+1",
            "1.00",
            " 1",
            "1e3",
            "9999999999999",
        ] {
            assert_eq!(fen(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn order_numbers() {
        assert!(order_no_ok("PC20261127-0001|a*b_c"));
        assert!(refund_no_ok(&format!("{}R1@x", "a".repeat(32))));
        assert!(!refund_no_ok(&"a".repeat(65)));
        assert!(!order_no_ok(&"a".repeat(33)));
        assert!(!order_no_ok(""));
        assert!(!order_no_ok("has space"));
        assert!(!order_no_ok(&"a".repeat(33)));
    }

    #[test]
    fn common_checks_in_order() {
        let m = merchant();
        let ok = [
            ("appid", "wxpaycodesimulator"),
            ("mch_id", "1000000001"),
            ("nonce_str", "abc"),
        ];
        assert_eq!(
            check_common(&signed(&ok, SignType::Md5), &m),
            Ok(SignType::Md5)
        );
        let hmac = [
            ("appid", "wxpaycodesimulator"),
            ("mch_id", "1000000001"),
            ("nonce_str", "abc"),
            ("sign_type", "HMAC-SHA256"),
        ];
        assert_eq!(
            check_common(&signed(&hmac, SignType::HmacSha256), &m),
            Ok(SignType::HmacSha256)
        );
        // Declared HMAC, signed MD5.
        assert_eq!(
            check_common(&signed(&hmac, SignType::Md5), &m),
            Err(Refusal::Protocol("签名错误".into()))
        );
        let wrong_mch = [
            ("appid", "wxpaycodesimulator"),
            ("mch_id", "1"),
            ("nonce_str", "a"),
        ];
        assert!(matches!(
            check_common(&signed(&wrong_mch, SignType::Md5), &m),
            Err(Refusal::Business(_, "MCHID_NOT_EXIST", _))
        ));
        let other_app = [
            ("appid", "wx1234567890abcdef"),
            ("mch_id", "1000000001"),
            ("nonce_str", "a"),
        ];
        assert!(matches!(
            check_common(&signed(&other_app, SignType::Md5), &m),
            Err(Refusal::Business(_, "APPID_MCHID_NOT_MATCH", _))
        ));
        let bad_app = [
            ("appid", "nope"),
            ("mch_id", "1000000001"),
            ("nonce_str", "a"),
        ];
        assert!(matches!(
            check_common(&signed(&bad_app, SignType::Md5), &m),
            Err(Refusal::Business(_, "APPID_NOT_EXIST", _))
        ));
        let no_nonce = [("appid", "wxpaycodesimulator"), ("mch_id", "1000000001")];
        assert!(matches!(
            check_common(&signed(&no_nonce, SignType::Md5), &m),
            Err(Refusal::Business(_, "LACK_PARAMS", _))
        ));
    }
}
