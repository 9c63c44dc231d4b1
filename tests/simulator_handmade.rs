//! The simulator driven by hand-built XML and hand-computed signatures (md-5 / hmac directly,
//! string formatting instead of our encoder), as any other v2 client would send them.
#![allow(clippy::unwrap_used)]

mod simulator_support;

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use paycode::config::SIMULATOR_DEMO_KEY;
use sha2::Sha256;
use simulator_support::{client, code, ledger, order_no, post_raw, started};

/// The v2 signing string built by hand: sorted non-empty pairs, then `&key=`.
fn string_to_sign(pairs: &[(&str, &str)]) -> String {
    let mut p: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    p.sort_by(|a, b| a.0.cmp(b.0));
    let joined: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}&key={SIMULATOR_DEMO_KEY}", joined.join("&"))
}

fn md5_sign(pairs: &[(&str, &str)]) -> String {
    hex::encode_upper(Md5::digest(string_to_sign(pairs).as_bytes()))
}

fn hmac_sign(pairs: &[(&str, &str)]) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(SIMULATOR_DEMO_KEY.as_bytes()).unwrap();
    m.update(string_to_sign(pairs).as_bytes());
    hex::encode_upper(m.finalize().into_bytes())
}

/// `<xml>` with CDATA values, the way the official demos write it.
fn xml(pairs: &[(&str, &str)], sign: &str) -> String {
    let mut s = String::from("<xml>\n");
    for (k, v) in pairs {
        s.push_str(&format!("  <{k}><![CDATA[{v}]]></{k}>\n"));
    }
    s.push_str(&format!("  <sign>{sign}</sign>\n</xml>"));
    s
}

/// Pull `<name>` out of an answer without our decoder (handles CDATA or plain text).
fn field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    let v = &body[start..end];
    Some(
        v.strip_prefix("<![CDATA[")
            .and_then(|v| v.strip_suffix("]]>"))
            .unwrap_or(v)
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Every element of a flat answer, by hand, for checking its signature.
fn all_fields(body: &str) -> Vec<(String, String)> {
    let inner = body
        .trim()
        .strip_prefix("<xml>")
        .unwrap()
        .strip_suffix("</xml>")
        .unwrap();
    let mut out = Vec::new();
    let mut rest = inner;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').unwrap() + open;
        let name = rest[open + 1..close].to_string();
        let end_tag = format!("</{name}>");
        let end = rest.find(&end_tag).unwrap();
        out.push((
            name.clone(),
            field(&rest[open..end + end_tag.len()], &name).unwrap(),
        ));
        rest = &rest[end + end_tag.len()..];
    }
    out
}

fn answer_sign_ok(body: &str, hmac: bool) -> bool {
    let f = all_fields(body);
    let pairs: Vec<(&str, &str)> = f
        .iter()
        .filter(|(k, _)| k != "sign")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let want = if hmac {
        hmac_sign(&pairs)
    } else {
        md5_sign(&pairs)
    };
    field(body, "sign").as_deref() == Some(want.as_str())
}

#[tokio::test]
async fn handmade_md5_and_hmac_micropays_with_chinese_body() {
    let sim = started(false).await;
    let http = client(&sim, false);
    for hmac in [false, true] {
        let (no, c) = (order_no("M"), code("normal"));
        let mut pairs = vec![
            ("appid", "wxpaycodesimulator"),
            ("mch_id", "1000000001"),
            ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
            ("body", "测试门店-商品 & <优惠>"),
            ("out_trade_no", no.as_str()),
            ("total_fee", "1"),
            ("spbill_create_ip", "::1"),
            ("auth_code", c.as_str()),
            ("attach", ""),
        ];
        if hmac {
            pairs.push(("sign_type", "HMAC-SHA256"));
        }
        let sign = if hmac {
            hmac_sign(&pairs)
        } else {
            md5_sign(&pairs)
        };
        let (status, body) = post_raw(&http, &sim, "/pay/micropay", xml(&pairs, &sign)).await;
        assert_eq!(status, 200);
        assert_eq!(
            field(&body, "return_code").as_deref(),
            Some("SUCCESS"),
            "{body}"
        );
        assert_eq!(
            field(&body, "result_code").as_deref(),
            Some("SUCCESS"),
            "{body}"
        );
        assert_eq!(field(&body, "out_trade_no"), Some(no.clone()));
        assert!(
            answer_sign_ok(&body, hmac),
            "answer signed with the request's algorithm: {body}"
        );
        assert!(!answer_sign_ok(&body, !hmac));
    }
    assert_eq!(ledger(&http, &sim).await.totals.charged, 2);
}

#[tokio::test]
async fn handmade_signature_failures() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let pairs = [
        ("appid", "wxpaycodesimulator"),
        ("mch_id", "1000000001"),
        ("nonce_str", "abc"),
        ("out_trade_no", "HM1"),
    ];
    let good = md5_sign(&pairs);
    let lower = good.to_lowercase();
    let mut hmac_declared = pairs.to_vec();
    hmac_declared.push(("sign_type", "HMAC-SHA256"));
    let mut bad_type = pairs.to_vec();
    bad_type.push(("sign_type", "SHA1"));
    let cases = [
        (
            "signed with another key",
            xml(&pairs, "9A0A8659F005D6984697E2CA0A9CF3B7"),
        ),
        ("lowercase hex", xml(&pairs, &lower)),
        (
            "declared HMAC, signed MD5",
            xml(&hmac_declared, &md5_sign(&hmac_declared)),
        ),
        (
            "value changed after signing",
            xml(&pairs, &good).replace("HM1", "HM2"),
        ),
        ("sign missing", xml(&pairs, "").replace("<sign></sign>", "")),
        ("unknown sign_type", xml(&bad_type, &md5_sign(&bad_type))),
    ];
    for (what, body) in cases {
        let (status, text) = post_raw(&http, &sim, "/pay/orderquery", body).await;
        assert_eq!(status, 200, "{what}");
        assert_eq!(
            field(&text, "return_code").as_deref(),
            Some("FAIL"),
            "{what}: {text}"
        );
        assert_eq!(
            field(&text, "sign"),
            None,
            "{what}: FAIL answers are unsigned"
        );
    }
    // The correctly signed one passes the signature check (and finds no order).
    let (_, text) = post_raw(&http, &sim, "/pay/orderquery", xml(&pairs, &good)).await;
    assert_eq!(field(&text, "err_code").as_deref(), Some("ORDERNOTEXIST"));
    assert!(answer_sign_ok(&text, false));
    let l = ledger(&http, &sim).await;
    assert_eq!(l.totals.requests.get("orderquery"), Some(&7));
    assert!(l.orders.is_empty());
}

#[tokio::test]
async fn handmade_malformed_bodies() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let bodies: [&[u8]; 6] = [
        b"<xml><appid>wx</appid>",
        b"<xml><a><b>nested</b></a></xml>",
        b"<root><appid>wx</appid></root>",
        b"<xml><appid>1</appid><appid>2</appid></xml>",
        b"<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\"><xml><a>&xxe;</a></xml>",
        b"<xml><body>\xc3\x28</body></xml>",
    ];
    for body in bodies {
        let r = http
            .post(format!("{}/pay/micropay", sim.base_url))
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let text = r.text().await.unwrap();
        assert_eq!(
            field(&text, "return_code").as_deref(),
            Some("FAIL"),
            "{text}"
        );
    }
    let l = ledger(&http, &sim).await;
    assert!(l.orders.is_empty());
    assert_eq!(l.totals.requests.get("micropay"), Some(&6));
}
