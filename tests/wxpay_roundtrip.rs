//! The protocol layer end to end over a real socket: a request built and signed by `wxpay::api`,
//! carried by `wxpay::client`, checked on the server side, and a scripted reply verified by
//! `wxpay::api` — including the replies that must never be trusted.
#![allow(clippy::unwrap_used)]

mod support;

mod example_merchant;
use example_merchant::{KEY, merchant};

use paycode::authcode::AuthCode;
use paycode::money::Fen;
use paycode::wxpay::api::{self, MicropayRequest, ReplyError};
use paycode::wxpay::client::{Client, ClientSettings, Endpoint};
use paycode::wxpay::sign::{self, ApiKey, SignType};
use paycode::wxpay::xml;
use support::{Behaviour, TestServer, guard};

const CODE: &str = "134567890123454321";

fn request() -> MicropayRequest {
    MicropayRequest {
        out_trade_no: "till-120261127102257123".into(),
        total_fee: Fen(1234),
        auth_code: AuthCode::parse(CODE).unwrap(),
        body: "Store-Goods 咖啡 & 蛋糕".into(),
        spbill_create_ip: "127.0.0.1".parse().unwrap(),
        device_info: Some("till-1".into()),
        attach: None,
        goods_tag: None,
        no_credit: false,
    }
}

/// A paid micropay reply for `request()`, signed with `key`, with `(name, value)` overrides.
fn paid_reply(t: SignType, key: &str, overrides: &[(&str, &str)]) -> Vec<u8> {
    let mut f: Vec<(&str, &str)> = vec![
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "till-1"),
        ("nonce_str", "5K8264ILTKCH16CQ"),
        ("result_code", "SUCCESS"),
        ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        ("is_subscribe", "N"),
        ("trade_type", "MICROPAY"),
        ("bank_type", "CMB_DEBIT"),
        ("fee_type", "CNY"),
        ("total_fee", "1234"),
        ("cash_fee", "1234"),
        ("transaction_id", "4200000001202611270000000001"),
        ("out_trade_no", "till-120261127102257123"),
        ("time_end", "20261127102258"),
    ];
    for (k, v) in overrides {
        match f.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v,
            None => f.push((k, v)),
        }
    }
    api::signed_xml(f.iter().copied(), &ApiKey::new(key).unwrap(), t).into_bytes()
}

/// Post `request()` to a server answering `reply`, and parse what comes back.
async fn roundtrip(t: SignType, reply: Vec<u8>) -> (Result<(), ReplyError>, Vec<u8>) {
    let server = TestServer::http(Behaviour::Reply {
        status: 200,
        body: reply,
    })
    .await;
    let client = Client::new(ClientSettings::new(server.url())).unwrap();
    let m = merchant(t);
    let xml = request().to_xml(&m, "ibuaiVcKdpRxkhJA").unwrap();
    let raw = guard(client.post(Endpoint::Micropay, xml)).await.unwrap();
    let parsed = api::parse_micropay(&raw.body, &request(), &m).map(|r| {
        let paid = r.result.unwrap();
        assert_eq!(paid.transaction_id, "4200000001202611270000000001");
        assert_eq!(paid.total_fee, Fen(1234));
    });
    let sent = server.seen().pop().unwrap().body;
    (parsed, sent)
}

#[tokio::test]
async fn signed_request_arrives_intact_and_paid_reply_is_trusted() {
    for t in [SignType::Md5, SignType::HmacSha256] {
        let (parsed, sent) = roundtrip(t, paid_reply(t, KEY, &[])).await;
        parsed.unwrap();
        // What the server received verifies with the merchant key and carries the full code.
        let fields = xml::decode(&sent).unwrap();
        let given = fields.get("sign").unwrap().to_string();
        let unsigned: Vec<(&str, &str)> = fields.iter().filter(|(k, _)| *k != "sign").collect();
        assert!(sign::verify(
            unsigned.iter().copied(),
            &ApiKey::new(KEY).unwrap(),
            t,
            &given
        ));
        assert_eq!(fields.get("auth_code"), Some(CODE));
        assert_eq!(fields.get("body"), Some("Store-Goods 咖啡 & 蛋糕"));
        assert_eq!(fields.get("total_fee"), Some("1234"));
        assert_eq!(
            fields.get("sign_type"),
            (t == SignType::HmacSha256).then_some("HMAC-SHA256")
        );
    }
}

#[tokio::test]
async fn untrustworthy_replies_are_unknown_never_paid() {
    let other_key = "00000000000000000000000000000000";
    type Check = fn(&ReplyError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Check)> = vec![
        (
            "signed with another key",
            paid_reply(SignType::Md5, other_key, &[]),
            |e| *e == ReplyError::BadSignature,
        ),
        (
            "signed with the other algorithm",
            paid_reply(SignType::HmacSha256, KEY, &[]),
            |e| *e == ReplyError::BadSignature,
        ),
        (
            "substituted order number",
            paid_reply(SignType::Md5, KEY, &[("out_trade_no", "someone-else-0001")]),
            |e| matches!(e, ReplyError::Mismatch { field } if field == "out_trade_no"),
        ),
        (
            "substituted amount",
            paid_reply(SignType::Md5, KEY, &[("total_fee", "1")]),
            |e| matches!(e, ReplyError::Mismatch { field } if field == "total_fee"),
        ),
        (
            "another merchant",
            paid_reply(SignType::Md5, KEY, &[("mch_id", "10000999")]),
            |e| matches!(e, ReplyError::Mismatch { field } if field == "mch_id"),
        ),
        (
            "captive-portal HTML",
            b"<html><body>Please log in</body></html>".to_vec(),
            |e| matches!(e, ReplyError::Xml(_)),
        ),
        ("empty body", Vec::new(), |e| matches!(e, ReplyError::Xml(_))),
        (
            "DOCTYPE entity payload",
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><return_code>&e;</return_code></xml>".to_vec(),
            |e| matches!(e, ReplyError::Xml(_)),
        ),
    ];
    for (what, body, check) in cases {
        let (parsed, _) = roundtrip(SignType::Md5, body).await;
        let err = parsed.expect_err(what);
        assert!(check(&err), "{what}: got {err:?}");
        assert!(err.outcome_unknown(), "{what} must lead to a query");
    }
}

#[tokio::test]
async fn unsigned_sign_stripped_success_is_refused() {
    let mut body = String::from_utf8(paid_reply(SignType::Md5, KEY, &[])).unwrap();
    let start = body.find("<sign>").unwrap();
    let end = body.find("</sign>").unwrap() + "</sign>".len();
    body.replace_range(start..end, "");
    let (parsed, _) = roundtrip(SignType::Md5, body.into_bytes()).await;
    assert_eq!(parsed.unwrap_err(), ReplyError::BadSignature);
}
