//! `/pay/micropay` (docs/protocol.md §4–§5): charge a scanned payment code.

use std::net::IpAddr;

use super::{
    Body, Merchant, Reply, ReplyError, RequestError, check_amount, check_id, check_text,
    check_token, echo, echo_fen, fen, must_equal, opt, opt_count, opt_fen, our_id, time14,
    verify_reply, wechat_id,
};
use crate::authcode::AuthCode;
use crate::money::Fen;
use crate::wxpay::xml::Fields;

/// One charge of a payment code. The code stays masked until [`MicropayRequest::to_xml`].
#[derive(Debug, Clone)]
pub struct MicropayRequest {
    /// Merchant order number: 1–32 of `[0-9A-Za-z_\-|*]`, new for every code.
    pub out_trade_no: String,
    pub total_fee: Fen,
    pub auth_code: AuthCode,
    /// Goods description, ≤127 characters ("Brand-Store-Goods").
    pub body: String,
    /// The till's IP address.
    pub spbill_create_ip: IpAddr,
    /// Terminal id, ≤32; echoed and used to filter the statement.
    pub device_info: Option<String>,
    /// Merchant data echoed back, ≤127 characters.
    pub attach: Option<String>,
    /// Coupon tag, ≤32.
    pub goods_tag: Option<String>,
    /// Refuse credit cards (`limit_pay=no_credit`).
    pub no_credit: bool,
}

impl MicropayRequest {
    /// Validate and build the signed XML body. The full payment code enters only here.
    pub fn to_xml(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        check_id("out_trade_no", &self.out_trade_no, 32)?;
        check_amount("total_fee", self.total_fee)?;
        check_text("body", &self.body, 127, true)?;
        if let Some(d) = &self.device_info {
            check_token("device_info", d, 32)?;
        }
        if let Some(a) = &self.attach {
            check_text("attach", a, 127, false)?;
        }
        if let Some(g) = &self.goods_tag {
            check_token("goods_tag", g, 32)?;
        }
        let mut b = Body::new(m, nonce)?;
        b.put("body", self.body.as_str());
        b.put("out_trade_no", self.out_trade_no.as_str());
        b.put("total_fee", self.total_fee.0.to_string());
        b.put("spbill_create_ip", self.spbill_create_ip.to_string());
        b.put("auth_code", self.auth_code.reveal());
        b.opt("device_info", self.device_info.as_deref());
        b.opt("attach", self.attach.as_deref());
        b.opt("goods_tag", self.goods_tag.as_deref());
        if self.no_credit {
            b.put("limit_pay", "no_credit");
        }
        Ok(b.finish())
    }
}

/// One coupon applied to a payment (`coupon_id_$n`, `coupon_fee_$n`, `coupon_type_$n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub id: Option<String>,
    pub fee: Fen,
    pub kind: Option<String>,
}

/// A verified payment: the fields micropay and a paid orderquery share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub transaction_id: String,
    pub out_trade_no: String,
    pub total_fee: Fen,
    pub cash_fee: Fen,
    pub settlement_total_fee: Option<Fen>,
    pub coupon_fee: Option<Fen>,
    pub coupons: Vec<Coupon>,
    pub bank_type: Option<String>,
    pub fee_type: Option<String>,
    pub cash_fee_type: Option<String>,
    pub openid: Option<String>,
    pub is_subscribe: Option<String>,
    pub trade_type: Option<String>,
    pub device_info: Option<String>,
    pub attach: Option<String>,
    /// `yyyyMMddHHmmss`, Beijing time.
    pub time_end: String,
    /// Raw JSON, kept for the receipt.
    pub promotion_detail: Option<String>,
}

/// The longest `promotion_detail` kept (WeChat: String(6000)).
const PROMOTION_MAX: usize = 6000;

/// Most coupons a payment may list (bounds the indexed-field loop).
const MAX_COUPONS: u64 = 100;

impl Payment {
    /// Parse the payment fields of a verified reply (echo checks already done by the caller).
    pub(crate) fn from_fields(f: &Fields) -> Result<Self, ReplyError> {
        let mut coupons = Vec::new();
        if let Some(n) = opt_count(f, "coupon_count", MAX_COUPONS)? {
            for i in 0..n {
                coupons.push(Coupon {
                    id: opt(f, &format!("coupon_id_{i}")),
                    fee: fen(f, &format!("coupon_fee_{i}"))?,
                    kind: opt(f, &format!("coupon_type_{i}")),
                });
            }
        }
        let total_fee = fen(f, "total_fee")?;
        // No part of a payment exceeds the order: a reply that says so is not trusted.
        let part = |name: &str, v: Option<Fen>| match v {
            Some(p) if p > total_fee => Err(super::invalid(name)),
            _ => Ok(v),
        };
        let cash_fee = fen(f, "cash_fee")?;
        part("cash_fee", Some(cash_fee))?;
        Ok(Self {
            transaction_id: wechat_id(f, "transaction_id")?,
            out_trade_no: our_id(f, "out_trade_no", 32)?,
            total_fee,
            cash_fee,
            settlement_total_fee: part(
                "settlement_total_fee",
                opt_fen(f, "settlement_total_fee")?,
            )?,
            coupon_fee: part("coupon_fee", opt_fen(f, "coupon_fee")?)?,
            coupons,
            bank_type: opt(f, "bank_type"),
            fee_type: opt(f, "fee_type"),
            cash_fee_type: opt(f, "cash_fee_type"),
            openid: opt(f, "openid"),
            is_subscribe: opt(f, "is_subscribe"),
            trade_type: opt(f, "trade_type"),
            device_info: opt(f, "device_info"),
            attach: opt(f, "attach"),
            time_end: time14(f, "time_end")?,
            promotion_detail: super::opt_max(f, "promotion_detail", PROMOTION_MAX),
        })
    }
}

/// Verify a micropay reply against its request. `Ok` with `result: Err(BizError)` is a
/// verified business failure (USERPAYING among them: classify before acting).
pub fn parse_micropay(
    body: &[u8],
    req: &MicropayRequest,
    m: &Merchant,
) -> Result<Reply<Payment>, ReplyError> {
    let (f, result) = verify_reply(body, m)?;
    echo(&f, "out_trade_no", &req.out_trade_no)?;
    echo_fen(&f, "total_fee", req.total_fee)?;
    if let Some(d) = &req.device_info {
        echo(&f, "device_info", d)?;
    }
    let result = match result {
        Ok(()) => {
            must_equal(&f, "out_trade_no", &req.out_trade_no)?;
            let p = Payment::from_fields(&f)?;
            Ok(p)
        }
        Err(biz) => Err(biz),
    };
    Ok(Reply { result, fields: f })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{merchant, reply};
    use super::super::{ErrClass, RequestError, signed_xml};
    use super::*;
    use crate::wxpay::sign::{self, SignType};
    use crate::wxpay::xml;

    pub(crate) fn request() -> MicropayRequest {
        MicropayRequest {
            out_trade_no: "T20250131-0001".into(),
            total_fee: Fen(1234),
            auth_code: AuthCode::parse("134567890123454321").unwrap(),
            body: "品牌-门店 & 饮料".into(),
            spbill_create_ip: "192.168.1.20".parse().unwrap(),
            device_info: Some("POS-01".into()),
            attach: None,
            goods_tag: None,
            no_credit: false,
        }
    }

    const PAID: &[(&str, &str)] = &[
        ("result_code", "SUCCESS"),
        ("device_info", "POS-01"),
        ("openid", "oUpF8uN95-Ptaags6E_roPHg7AG0"),
        ("is_subscribe", "N"),
        ("trade_type", "MICROPAY"),
        ("bank_type", "CMB_CREDIT"),
        ("fee_type", "CNY"),
        ("total_fee", "1234"),
        ("cash_fee", "1134"),
        ("coupon_fee", "100"),
        ("coupon_count", "2"),
        ("coupon_id_0", "c0"),
        ("coupon_fee_0", "60"),
        ("coupon_id_1", "c1"),
        ("coupon_fee_1", "40"),
        ("coupon_type_1", "CASH"),
        ("transaction_id", "4200000123202501311234567890"),
        ("out_trade_no", "T20250131-0001"),
        ("time_end", "20250131120102"),
    ];

    #[test]
    fn request_xml_is_signed_and_complete() {
        for t in [SignType::Md5, SignType::HmacSha256] {
            let m = merchant(t);
            let doc = request().to_xml(&m, "nonce123").unwrap();
            let f = xml::decode(doc.as_bytes()).unwrap();
            assert!(sign::verify(f.iter(), &m.key, t, f.get("sign").unwrap()));
            assert_eq!(f.get("auth_code"), Some("134567890123454321"));
            assert_eq!(f.get("body"), Some("品牌-门店 & 饮料"));
            assert_eq!(f.get("total_fee"), Some("1234"));
            assert_eq!(f.get("spbill_create_ip"), Some("192.168.1.20"));
            assert_eq!(f.get("trade_type"), None);
            assert_eq!(f.get("notify_url"), None);
            assert_eq!(f.get("limit_pay"), None);
            assert_eq!(f.get("sign_type").is_some(), t == SignType::HmacSha256);
        }
        let mut r = request();
        r.spbill_create_ip = "2001:db8::1".parse().unwrap();
        r.no_credit = true;
        let f = xml::decode(r.to_xml(&merchant(SignType::Md5), "n").unwrap().as_bytes()).unwrap();
        assert_eq!(f.get("spbill_create_ip"), Some("2001:db8::1"));
        assert_eq!(f.get("limit_pay"), Some("no_credit"));
    }

    #[test]
    fn request_validation_table() {
        type Edit = fn(&mut MicropayRequest);
        let table: Vec<(Edit, &str)> = vec![
            (|r| r.out_trade_no = String::new(), "out_trade_no"),
            (|r| r.out_trade_no = "x".repeat(33), "out_trade_no"),
            (|r| r.out_trade_no = "T 1".into(), "out_trade_no"),
            (|r| r.out_trade_no = "T/1".into(), "out_trade_no"),
            (|r| r.out_trade_no = "订单1".into(), "out_trade_no"),
            (|r| r.total_fee = Fen(0), "total_fee"),
            (|r| r.body = String::new(), "body"),
            (|r| r.body = "品".repeat(128), "body"),
            (|r| r.body = "a\nb".into(), "body"),
            (|r| r.device_info = Some("x".repeat(33)), "device_info"),
            (|r| r.attach = Some("a".repeat(128)), "attach"),
            (|r| r.goods_tag = Some("a b".into()), "goods_tag"),
        ];
        let m = merchant(SignType::Md5);
        for (edit, field) in table {
            let mut r = request();
            edit(&mut r);
            let e = r.to_xml(&m, "n").unwrap_err();
            let named = match &e {
                RequestError::Empty { field }
                | RequestError::TooLong { field, .. }
                | RequestError::BadChars { field, .. }
                | RequestError::ZeroAmount { field }
                | RequestError::BadDate { field } => *field,
                _ => "",
            };
            assert_eq!(named, field, "{e:?}");
            assert!(!e.to_string().contains("134567890123454321"));
        }
        let mut ok = request();
        ok.out_trade_no = "aZ09_-|*".into();
        ok.body = "品".repeat(127);
        assert!(ok.to_xml(&m, "n").is_ok());
    }

    #[test]
    fn debug_of_request_masks_the_code() {
        let d = format!("{:?}", request());
        assert!(!d.contains("134567890123454321") && d.contains("13************4321"));
    }

    #[test]
    fn paid_reply_parses() {
        let m = merchant(SignType::Md5);
        let r = parse_micropay(&reply(&m, PAID), &request(), &m).unwrap();
        let p = r.result.unwrap();
        assert_eq!(p.total_fee, Fen(1234));
        assert_eq!(p.cash_fee, Fen(1134));
        assert_eq!(p.coupon_fee, Some(Fen(100)));
        assert_eq!(p.coupons.len(), 2);
        assert_eq!(p.coupons[1].fee, Fen(40));
        assert_eq!(p.coupons[1].kind.as_deref(), Some("CASH"));
        assert_eq!(p.transaction_id, "4200000123202501311234567890");
        assert_eq!(p.time_end, "20250131120102");
        assert_eq!(r.fields.get("trade_type"), Some("MICROPAY"));
    }

    #[test]
    fn paid_reply_field_rules() {
        let m = merchant(SignType::Md5);
        let table: &[(&str, Option<&str>, ReplyError)] = &[
            (
                "total_fee",
                Some("1235"),
                super::super::mismatch("total_fee"),
            ),
            (
                "total_fee",
                Some("01234"),
                super::super::invalid("total_fee"),
            ),
            (
                "total_fee",
                Some("12.34"),
                super::super::invalid("total_fee"),
            ),
            (
                "out_trade_no",
                Some("OTHER"),
                super::super::mismatch("out_trade_no"),
            ),
            ("out_trade_no", None, super::super::missing("out_trade_no")),
            (
                "device_info",
                Some("POS-02"),
                super::super::mismatch("device_info"),
            ),
            (
                "transaction_id",
                None,
                super::super::missing("transaction_id"),
            ),
            ("cash_fee", Some("-1"), super::super::invalid("cash_fee")),
            (
                "time_end",
                Some("2025013112"),
                super::super::invalid("time_end"),
            ),
            ("coupon_fee_1", None, super::super::missing("coupon_fee_1")),
            (
                "coupon_count",
                Some("x"),
                super::super::invalid("coupon_count"),
            ),
        ];
        for (name, value, want) in table {
            let fields: Vec<(&str, &str)> = PAID
                .iter()
                .filter(|(n, _)| n != name)
                .copied()
                .chain(value.map(|v| (*name, v)))
                .collect();
            let e = parse_micropay(&reply(&m, &fields), &request(), &m).unwrap_err();
            assert_eq!(&e, want, "{name}={value:?}");
            assert!(e.outcome_unknown());
        }
    }

    #[test]
    fn userpaying_fail_reply_has_no_order_fields() {
        let m = merchant(SignType::HmacSha256);
        let body = reply(
            &m,
            &[
                ("result_code", "FAIL"),
                ("err_code", "USERPAYING"),
                ("err_code_des", "需要用户输入支付密码"),
            ],
        );
        let biz = parse_micropay(&body, &request(), &m)
            .unwrap()
            .result
            .unwrap_err();
        assert_eq!(biz.err_code, "USERPAYING");
        assert_eq!(biz.class, ErrClass::Unknown);
    }

    #[test]
    fn unsigned_or_wrongly_signed_success_is_not_success() {
        let m = merchant(SignType::Md5);
        let unsigned = xml::encode(
            [
                ("return_code", "SUCCESS"),
                ("appid", m.appid.as_str()),
                ("mch_id", m.mch_id.as_str()),
            ]
            .into_iter()
            .chain(PAID.iter().copied()),
        );
        let e = parse_micropay(unsigned.as_bytes(), &request(), &m).unwrap_err();
        assert_eq!(e, ReplyError::BadSignature);
        let other_algo = merchant(SignType::HmacSha256);
        let body = reply(&other_algo, PAID);
        assert_eq!(
            parse_micropay(&body, &request(), &m).unwrap_err(),
            ReplyError::BadSignature
        );
        let fields: Vec<(&str, &str)> = [("return_code", "SUCCESS")]
            .into_iter()
            .chain(PAID.iter().copied())
            .collect();
        let signed_by_other_key = signed_xml(
            fields.iter().copied(),
            &crate::wxpay::sign::ApiKey::new("00000000000000000000000000000000").unwrap(),
            SignType::Md5,
        );
        assert_eq!(
            parse_micropay(signed_by_other_key.as_bytes(), &request(), &m).unwrap_err(),
            ReplyError::BadSignature
        );
    }
}
