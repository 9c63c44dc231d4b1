//! Realistic micropay/orderquery reply documents through the public API: what is trusted, what
//! is refused, and that every refusal except a protocol-level FAIL means "outcome unknown".

// Fixture helpers outside #[test] fns: a broken fixture should panic.
#![allow(clippy::unwrap_used)]

mod example_merchant;
use example_merchant::merchant;

use paycode::authcode::AuthCode;
use paycode::money::Fen;
use paycode::words::Bilingual;
use paycode::wxpay::api::{
    ErrClass, Merchant, MicropayRequest, OrderQueryRequest, OrderRef, ReplyError, TradeState,
    classify, parse_micropay, parse_orderquery, signed_xml,
};
use paycode::wxpay::sign::{self, ApiKey, SignType};
use paycode::wxpay::xml::{self, XmlError};

fn sp_merchant(t: SignType) -> Merchant {
    Merchant {
        sub_appid: Some("wx8888888888888888".into()),
        sub_mch_id: Some("1900000109".into()),
        ..merchant(t)
    }
}

fn request() -> MicropayRequest {
    MicropayRequest {
        out_trade_no: "20250131120000-0001".into(),
        total_fee: Fen(2500),
        auth_code: AuthCode::parse("134567890123454321").unwrap(),
        body: "好味道-南山店-午餐".into(),
        spbill_create_ip: "10.0.0.8".parse().unwrap(),
        device_info: Some("TILL-3".into()),
        attach: Some("桌号 7 & 外带".into()),
        goods_tag: None,
        no_credit: false,
    }
}

/// The elements of a real paid micropay reply, without the merchant header.
fn paid_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("result_code", "SUCCESS"),
        ("device_info", "TILL-3"),
        ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        ("is_subscribe", "N"),
        ("trade_type", "MICROPAY"),
        ("bank_type", "CMB_DEBIT"),
        ("fee_type", "CNY"),
        ("total_fee", "2500"),
        ("settlement_total_fee", "2500"),
        ("coupon_fee", "300"),
        ("coupon_count", "2"),
        ("coupon_id_0", "10000001"),
        ("coupon_fee_0", "200"),
        ("coupon_type_0", "CASH"),
        ("coupon_id_1", "10000002"),
        ("coupon_fee_1", "100"),
        ("coupon_type_1", "NO_CASH"),
        ("cash_fee_type", "CNY"),
        ("cash_fee", "2200"),
        ("transaction_id", "4200002345202501311234567890"),
        ("out_trade_no", "20250131120000-0001"),
        ("attach", "桌号 7 & 外带"),
        ("time_end", "20250131120005"),
    ]
}

/// A reply signed with `key`/`t` carrying `m`'s header plus `extra`.
fn reply_with(m: &Merchant, t: SignType, key: &ApiKey, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut f: Vec<(&str, &str)> = vec![
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", &m.appid),
        ("mch_id", &m.mch_id),
    ];
    if let Some(s) = &m.sub_appid {
        f.push(("sub_appid", s));
    }
    if let Some(s) = &m.sub_mch_id {
        f.push(("sub_mch_id", s));
    }
    f.push(("nonce_str", "sthBJ9QyUG6vkrjJ"));
    f.extend_from_slice(extra);
    signed_xml(f.iter().copied(), key, t).into_bytes()
}

fn reply(m: &Merchant, extra: &[(&str, &str)]) -> Vec<u8> {
    reply_with(m, m.sign_type, &m.key, extra)
}

fn replace(
    fields: &[(&'static str, &'static str)],
    name: &str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    fields
        .iter()
        .map(|&(n, v)| if n == name { (n, value) } else { (n, v) })
        .collect()
}

fn fail(code: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("result_code", "FAIL"),
        ("err_code", code),
        ("err_code_des", "描述"),
    ]
}

#[test]
fn success_paid_both_algorithms() {
    for t in [SignType::Md5, SignType::HmacSha256] {
        let m = merchant(t);
        let r = parse_micropay(&reply(&m, &paid_fields()), &request(), &m).unwrap();
        let p = r.result.unwrap();
        assert_eq!(p.total_fee, Fen(2500));
        assert_eq!(p.cash_fee, Fen(2200));
        assert_eq!(p.settlement_total_fee, Some(Fen(2500)));
        assert_eq!(p.coupon_fee, Some(Fen(300)));
        let fees: Vec<u64> = p.coupons.iter().map(|c| c.fee.0).collect();
        assert_eq!(fees, [200, 100]);
        assert_eq!(p.coupons[0].id.as_deref(), Some("10000001"));
        assert_eq!(p.attach.as_deref(), Some("桌号 7 & 外带"));
        assert_eq!(p.bank_type.as_deref(), Some("CMB_DEBIT"));
        assert_eq!(p.openid.as_deref(), Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"));
    }
}

#[test]
fn userpaying_and_systemerror_are_verified_unknowns() {
    let m = merchant(SignType::Md5);
    for code in ["USERPAYING", "SYSTEMERROR", "BANKERROR"] {
        let biz = parse_micropay(&reply(&m, &fail(code)), &request(), &m)
            .unwrap()
            .result
            .unwrap_err();
        assert_eq!(biz.err_code, code);
        assert_eq!(biz.class, ErrClass::Unknown);
    }
}

#[test]
fn every_error_class_code_through_a_reply() {
    let table: &[(&str, ErrClass)] = &[
        ("AUTHCODEEXPIRE", ErrClass::Rescan),
        ("AUTH_CODE_ERROR", ErrClass::Rescan),
        ("AUTH_CODE_INVALID", ErrClass::Rescan),
        ("NOTENOUGH", ErrClass::Rescan),
        ("NOTSUPORTCARD", ErrClass::Rescan),
        ("BUYER_MISMATCH", ErrClass::Rescan),
        ("TRADE_ERROR", ErrClass::Failed),
        ("ORDERCLOSED", ErrClass::Failed),
        ("ORDERREVERSED", ErrClass::Failed),
        ("ORDERPAID", ErrClass::Duplicate),
        ("OUT_TRADE_NO_USED", ErrClass::Duplicate),
        ("PARAM_ERROR", ErrClass::Setup),
        ("NOAUTH", ErrClass::Setup),
        ("XML_FORMAT_ERROR", ErrClass::Setup),
        ("REQUIRE_POST_METHOD", ErrClass::Setup),
        ("SIGNERROR", ErrClass::Setup),
        ("LACK_PARAMS", ErrClass::Setup),
        ("NOT_UTF8", ErrClass::Setup),
        ("APPID_NOT_EXIST", ErrClass::Setup),
        ("MCHID_NOT_EXIST", ErrClass::Setup),
        ("APPID_MCHID_NOT_MATCH", ErrClass::Setup),
        ("INVALID_REQUEST", ErrClass::Setup),
        ("POST_DATA_EMPTY", ErrClass::Setup),
        ("SOMETHING_NEW", ErrClass::Unknown),
    ];
    let m = merchant(SignType::HmacSha256);
    for (code, class) in table {
        let code: &'static str = code;
        let biz = parse_micropay(&reply(&m, &fail(code)), &request(), &m)
            .unwrap()
            .result
            .unwrap_err();
        assert_eq!((biz.err_code.as_str(), biz.class), (code, *class));
        assert_eq!(classify(code), *class);
    }
}

#[test]
fn return_code_fail_is_the_only_not_unknown_refusal() {
    let m = merchant(SignType::Md5);
    let body = xml::encode([("return_code", "FAIL"), ("return_msg", "签名错误")]);
    let e = parse_micropay(body.as_bytes(), &request(), &m).unwrap_err();
    assert_eq!(
        e,
        ReplyError::ProtocolFail {
            return_msg: "签名错误".into()
        }
    );
    assert!(!e.outcome_unknown());
    assert!(!e.zh().is_empty());
}

#[test]
fn missing_wrong_and_other_algorithm_signatures() {
    let m = merchant(SignType::Md5);
    let paid = paid_fields();
    // Missing sign: same elements, no <sign>.
    let mut header = vec![
        ("return_code", "SUCCESS"),
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
    ];
    header.extend_from_slice(&paid);
    let unsigned = xml::encode(header.iter().copied());
    // Wrong sign: tamper a value after signing.
    let tampered = String::from_utf8(reply(&m, &paid))
        .unwrap()
        .replace("CMB_DEBIT", "ICBC_DEBIT");
    let other_algo = reply_with(&m, SignType::HmacSha256, &m.key, &paid);
    let other_key = reply_with(
        &m,
        SignType::Md5,
        &ApiKey::new("ffffffffffffffffffffffffffffffff").unwrap(),
        &paid,
    );
    let lower = String::from_utf8(reply(&m, &paid)).unwrap();
    let sig = xml::decode(lower.as_bytes())
        .unwrap()
        .get("sign")
        .unwrap()
        .to_string();
    let lower = lower.replace(&sig, &sig.to_lowercase());
    for body in [
        unsigned.into_bytes(),
        tampered.into_bytes(),
        other_algo,
        other_key,
        lower.into_bytes(),
    ] {
        let e = parse_micropay(&body, &request(), &m).unwrap_err();
        assert_eq!(e, ReplyError::BadSignature);
        assert!(e.outcome_unknown());
    }
}

#[test]
fn substitutions_are_mismatches() {
    let m = merchant(SignType::Md5);
    let paid = paid_fields();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            reply(&m, &replace(&paid, "out_trade_no", "20250131120000-0002")),
            "out_trade_no",
        ),
        (reply(&m, &replace(&paid, "total_fee", "1")), "total_fee"),
        (
            reply(
                &Merchant {
                    appid: "wx0000000000000000".into(),
                    ..merchant(SignType::Md5)
                },
                &paid,
            ),
            "appid",
        ),
        (
            reply(
                &Merchant {
                    mch_id: "10000199".into(),
                    ..merchant(SignType::Md5)
                },
                &paid,
            ),
            "mch_id",
        ),
    ];
    for (body, field) in cases {
        let e = parse_micropay(&body, &request(), &m).unwrap_err();
        assert_eq!(
            e,
            ReplyError::Mismatch {
                field: field.into()
            }
        );
        assert!(e.outcome_unknown());
    }
}

#[test]
fn unknown_signed_elements_are_accepted_and_kept() {
    let m = merchant(SignType::HmacSha256);
    let mut f = paid_fields();
    f.insert(3, ("brand_new_field", "42"));
    f.push(("zz_promo_0", "{\"x\":1}"));
    let r = parse_micropay(&reply(&m, &f), &request(), &m).unwrap();
    assert!(r.result.is_ok());
    assert_eq!(r.fields.get("brand_new_field"), Some("42"));
    assert_eq!(r.fields.get("zz_promo_0"), Some("{\"x\":1}"));
    let names: Vec<&str> = r.fields.iter().map(|(n, _)| n).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("brand_new_field") < at("zz_promo_0"));
}

#[test]
fn cdata_and_plain_text_verify_alike() {
    let m = merchant(SignType::Md5);
    let mut all: Vec<(&str, &str)> = vec![
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("nonce_str", "sthBJ9QyUG6vkrjJ"),
    ];
    all.extend(paid_fields());
    let sig = sign::sign(all.iter().copied(), &m.key, SignType::Md5);
    // WeChat's own style: strings in CDATA, integers plain.
    let mut doc = String::from("<xml>\n");
    for (n, v) in &all {
        if v.bytes().all(|b| b.is_ascii_digit()) {
            doc.push_str(&format!("<{n}>{v}</{n}>\n"));
        } else {
            doc.push_str(&format!("<{n}><![CDATA[{v}]]></{n}>\n"));
        }
    }
    doc.push_str(&format!("<sign><![CDATA[{sig}]]></sign>\n</xml>"));
    let p = parse_micropay(doc.as_bytes(), &request(), &m)
        .unwrap()
        .result
        .unwrap();
    assert_eq!(p.attach.as_deref(), Some("桌号 7 & 外带"));
    assert_eq!(p.total_fee, Fen(2500));
}

#[test]
fn hostile_documents_are_xml_errors_and_unknown() {
    let m = merchant(SignType::Md5);
    let mut laughs = String::from("<!DOCTYPE xml [<!ENTITY a \"ha\">");
    for i in 1..=9 {
        laughs.push_str(&format!("<!ENTITY a{i} \"{}\">", "&a;".repeat(10)));
    }
    laughs.push_str("]><xml><return_code>&a9;</return_code></xml>");
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
               <xml><return_code>SUCCESS</return_code><return_msg>&x;</return_msg></xml>";
    let entity = "<xml><return_code>SUCCESS</return_code><return_msg>&x;</return_msg></xml>";
    let big = format!(
        "<xml><return_code>SUCCESS</return_code><pad>{}</pad></xml>",
        "a".repeat(xml::MAX_BODY)
    );
    let mut gbk = b"<xml><return_code>SUCCESS</return_code><body>".to_vec();
    gbk.extend_from_slice(&[0xc5, 0xc6, 0xce, 0xb6]);
    gbk.extend_from_slice(b"</body></xml>");
    type Check = fn(&XmlError) -> bool;
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (laughs.into_bytes(), |e| {
            matches!(e, XmlError::Doctype { .. })
        }),
        (xxe.as_bytes().to_vec(), |e| {
            matches!(e, XmlError::Doctype { .. })
        }),
        (entity.as_bytes().to_vec(), |e| {
            matches!(e, XmlError::Entity { .. })
        }),
        (big.into_bytes(), |e| matches!(e, XmlError::TooLarge { .. })),
        (gbk, |e| matches!(e, XmlError::InvalidUtf8 { .. })),
        (b"<xml><return_code>SUCCESS".to_vec(), |e| {
            matches!(e, XmlError::Truncated { .. })
        }),
        (b"<html><body>502 Bad Gateway</body></html>".to_vec(), |e| {
            matches!(e, XmlError::WrongRoot { .. })
        }),
    ];
    for (body, check) in cases {
        match parse_micropay(&body, &request(), &m) {
            Err(ReplyError::Xml(e)) => {
                assert!(check(&e), "{e:?}");
                assert!(e.excerpt().chars().count() <= 80);
            }
            other => panic!("expected an XML error, got {other:?}"),
        }
    }
}

#[test]
fn service_provider_mode() {
    let m = sp_merchant(SignType::HmacSha256);
    let doc = request().to_xml(&m, "nonce").unwrap();
    let sent = xml::decode(doc.as_bytes()).unwrap();
    assert_eq!(sent.get("sub_mch_id"), Some("1900000109"));
    assert_eq!(sent.get("sub_appid"), Some("wx8888888888888888"));
    assert!(parse_micropay(&reply(&m, &paid_fields()), &request(), &m).is_ok());

    let other_sub = Merchant {
        sub_mch_id: Some("1900000999".into()),
        ..sp_merchant(SignType::HmacSha256)
    };
    let no_sub = Merchant {
        sub_mch_id: None,
        sub_appid: None,
        ..sp_merchant(SignType::HmacSha256)
    };
    let e = parse_micropay(&reply(&other_sub, &paid_fields()), &request(), &m).unwrap_err();
    assert_eq!(
        e,
        ReplyError::Mismatch {
            field: "sub_mch_id".into()
        }
    );
    let e = parse_micropay(&reply(&no_sub, &paid_fields()), &request(), &m).unwrap_err();
    assert_eq!(
        e,
        ReplyError::Missing {
            field: "sub_mch_id".into()
        }
    );
    // A direct merchant must not accept a reply about a sub-merchant.
    let direct = merchant(SignType::HmacSha256);
    let e = parse_micropay(&reply(&m, &paid_fields()), &request(), &direct).unwrap_err();
    assert_eq!(
        e,
        ReplyError::Mismatch {
            field: "sub_mch_id".into()
        }
    );
}

#[test]
fn orderquery_paid_and_waiting() {
    let m = merchant(SignType::Md5);
    let q = OrderQueryRequest {
        order: OrderRef::OutTradeNo("20250131120000-0001".into()),
        expect_total_fee: Some(Fen(2500)),
        expect_attach: None,
    };
    let mut paid = paid_fields();
    paid.push(("trade_state", "SUCCESS"));
    paid.push(("trade_state_desc", "支付成功"));
    let s = parse_orderquery(&reply(&m, &paid), &q, &m)
        .unwrap()
        .result
        .unwrap();
    assert_eq!(s.trade_state, TradeState::Success);
    assert_eq!(s.payment.unwrap().total_fee, Fen(2500));

    let waiting = [
        ("result_code", "SUCCESS"),
        ("out_trade_no", "20250131120000-0001"),
        ("trade_state", "USERPAYING"),
        ("trade_state_desc", "需要用户输入支付密码"),
    ];
    let s = parse_orderquery(&reply(&m, &waiting), &q, &m)
        .unwrap()
        .result
        .unwrap();
    assert_eq!(s.trade_state, TradeState::UserPaying);
    assert!(!s.trade_state.is_final() && s.payment.is_none());

    let wrong_amount = replace(&paid, "total_fee", "2499");
    assert_eq!(
        parse_orderquery(&reply(&m, &wrong_amount), &q, &m).unwrap_err(),
        ReplyError::Mismatch {
            field: "total_fee".into()
        }
    );
}
