//! The simulator over real HTTP on loopback: protocol rules, customer scenarios, faults, admin
//! endpoints and the ledger, each checked from the wire.
#![allow(clippy::unwrap_used)]

mod simulator_support;

use paycode::simulator::{SimSettings, start};
use paycode::wxpay::sign::SignType;
use simulator_support::*;
use std::time::Duration;

#[tokio::test]
async fn normal_payment_query_and_ledger_also_under_the_sandbox_prefix() {
    let sim = started(false).await;
    let http = client(&sim, false);
    assert!(sim.base_url.starts_with("http://127.0.0.1:"));
    let no = order_no("N");
    let f = micropay(&http, &sim, &no, &code("normal"), "1234").await;
    assert_eq!(f.get("result_code"), Some("SUCCESS"));
    assert_eq!(f.get("total_fee"), Some("1234"));
    assert_eq!(f.get("out_trade_no"), Some(no.as_str()));
    assert_eq!(f.get("device_info"), Some("POS01"));
    assert_eq!(f.get("trade_type"), Some("MICROPAY"));
    assert_eq!(f.get("transaction_id").map(str::len), Some(28));
    let q = call(
        &http,
        &sim,
        "/xdc/apiv2sandbox/pay/orderquery",
        &[("out_trade_no", &no)],
    )
    .await;
    assert_eq!(q.get("trade_state"), Some("SUCCESS"));
    assert_eq!(q.get("transaction_id"), f.get("transaction_id"));
    let o = order(&http, &sim, &no).await;
    assert_eq!(
        (o.amount, o.charged, o.refunded, o.state.as_str()),
        (1234, 1234, 0, "SUCCESS")
    );
    assert_eq!(o.requests.get("micropay"), Some(&1));
    assert_eq!(o.requests.get("orderquery"), Some(&1));
    assert!(
        o.code.contains("********"),
        "codes are masked in the ledger: {}",
        o.code
    );
}

#[tokio::test]
async fn protocol_level_refusals() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let get = http
        .get(format!("{}/pay/micropay", sim.base_url))
        .send()
        .await
        .unwrap();
    let f = verified(&get.text().await.unwrap(), SignType::Md5);
    assert_eq!(f.get("return_code"), Some("FAIL"));
    assert!(f.get("return_msg").unwrap().contains("REQUIRE_POST_METHOD"));
    for (body, want) in [
        ("", "POST_DATA_EMPTY"),
        ("not xml at all", "XML_FORMAT_ERROR"),
        ("<xml><appid>x</appid>", "XML_FORMAT_ERROR"),
        (
            "<!DOCTYPE xml [<!ENTITY e \"x\">]><xml><a>&e;</a></xml>",
            "XML_FORMAT_ERROR",
        ),
    ] {
        let (status, text) = post_raw(&http, &sim, "/pay/micropay", body.to_string()).await;
        assert_eq!(status, 200);
        let f = verified(&text, SignType::Md5);
        assert_eq!(f.get("return_code"), Some("FAIL"), "{body:?}");
        assert!(
            f.get("return_msg").unwrap().contains(want),
            "{body:?}: {text}"
        );
    }
    // Signed with the wrong key.
    let mut wrong = signed_body(&[("out_trade_no", "X1")], SignType::Md5);
    wrong = wrong.replace("X1", "X2");
    let (_, text) = post_raw(&http, &sim, "/pay/orderquery", wrong).await;
    let f = verified(&text, SignType::Md5);
    assert_eq!(
        (f.get("return_code"), f.get("return_msg")),
        (Some("FAIL"), Some("签名错误"))
    );
    let (s404, _) = post_raw(&http, &sim, "/pay/closeorder", String::new()).await;
    assert_eq!(s404, 404);
    let l = ledger(&http, &sim).await;
    assert!(l.orders.is_empty());
    assert_eq!(l.totals.requests.get("micropay"), Some(&5));
}

#[tokio::test]
async fn merchant_ids_params_and_codes() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let ids = |appid: &'static str, mch: &'static str| {
        let mut f: paycode::wxpay::xml::Fields = [
            ("appid", appid),
            ("mch_id", mch),
            ("nonce_str", "n"),
            ("out_trade_no", "A1"),
        ]
        .into_iter()
        .collect();
        let s = paycode::wxpay::sign::sign(&f, &key(), SignType::Md5);
        f.push("sign", s);
        paycode::wxpay::xml::encode(&f)
    };
    for (appid, mch, want) in [
        ("wxpaycodesimulator", "1999999999", "MCHID_NOT_EXIST"),
        ("wx0123456789abcdef", MCH_ID, "APPID_MCHID_NOT_MATCH"),
        ("nope", MCH_ID, "APPID_NOT_EXIST"),
    ] {
        let (_, text) = post_raw(&http, &sim, "/pay/orderquery", ids(appid, mch)).await;
        assert_eq!(verified(&text, SignType::Md5).get("err_code"), Some(want));
    }
    let c = code("normal");
    let no = order_no("P");
    for (fee, no, want) in [
        ("0", no.as_str(), "PARAM_ERROR"),
        ("12.5", no.as_str(), "PARAM_ERROR"),
        ("100", "bad order no", "PARAM_ERROR"),
    ] {
        let f = micropay(&http, &sim, no, &c, fee).await;
        assert_eq!(f.get("err_code"), Some(want), "{fee} {no}");
        assert_eq!(f.get("result_code"), Some("FAIL"));
    }
    let f = call(
        &http,
        &sim,
        "/pay/micropay",
        &[("out_trade_no", "L1"), ("total_fee", "1")],
    )
    .await;
    assert_eq!(f.get("err_code"), Some("LACK_PARAMS"));
    for bad in ["284567890123456789", "6212345678901234567", "13123"] {
        let f = micropay(&http, &sim, &order_no("C"), bad, "100").await;
        assert_eq!(f.get("err_code"), Some("AUTH_CODE_INVALID"), "{bad}");
    }
    let f = call(&http, &sim, "/pay/orderquery", &[("out_trade_no", "NEVER")]).await;
    assert_eq!(f.get("err_code"), Some("ORDERNOTEXIST"));
    assert_eq!(ledger(&http, &sim).await.totals.charged, 0);
}

#[tokio::test]
async fn hmac_requests_get_hmac_answers() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let no = order_no("H");
    let c = code("normal");
    let body = signed_body(&micropay_pairs(&no, &c, "88"), SignType::HmacSha256);
    let (_, text) = post_raw(&http, &sim, "/pay/micropay", body).await;
    let f = verified(&text, SignType::HmacSha256);
    assert_eq!(f.get("result_code"), Some("SUCCESS"));
    assert_eq!(f.get("sign").map(str::len), Some(64));
    assert_eq!(order(&http, &sim, &no).await.charged, 88);
}

#[tokio::test]
async fn idempotent_retries_and_single_use_codes() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let (no, c) = (order_no("I"), code("normal"));
    let first = micropay(&http, &sim, &no, &c, "500").await;
    let again = micropay(&http, &sim, &no, &c, "500").await;
    assert_eq!(again.get("result_code"), Some("SUCCESS"));
    assert_eq!(again.get("transaction_id"), first.get("transaction_id"));
    assert_eq!(
        micropay(&http, &sim, &no, &c, "501").await.get("err_code"),
        Some("ORDERPAID")
    );
    let other = order_no("I");
    assert_eq!(
        micropay(&http, &sim, &other, &c, "500")
            .await
            .get("err_code"),
        Some("AUTHCODEEXPIRE")
    );
    let (waiting, w) = (order_no("W"), code("password_never"));
    micropay(&http, &sim, &waiting, &w, "100").await;
    let f = micropay(&http, &sim, &waiting, &w, "200").await;
    assert_eq!(f.get("err_code"), Some("OUT_TRADE_NO_USED"));
    let l = ledger(&http, &sim).await;
    assert_eq!(l.totals.charged, 500, "charged once");
    assert_eq!(l.totals.paid_orders, 1);
    let o = l.order(&no).unwrap();
    assert_eq!(o.requests.get("micropay"), Some(&3));
}

#[tokio::test]
async fn password_rule_and_trainer_controls() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let big = order_no("B");
    let f = micropay(&http, &sim, &big, &code("normal"), "100001").await;
    assert_eq!(f.get("err_code"), Some("USERPAYING"));
    assert_eq!(
        f.get("out_trade_no"),
        None,
        "a FAIL micropay carries no out_trade_no"
    );
    assert_eq!(trade_state(&http, &sim, &big).await, "USERPAYING");
    let r = http
        .post(format!("{}/__sim/confirm/{big}", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(trade_state(&http, &sim, &big).await, "SUCCESS");
    let r = http
        .post(format!("{}/__sim/confirm/{big}", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409, "already paid");
    let r = http
        .post(format!("{}/__sim/cancel/NOPE", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Daily count (WeChat's current pages: 10): one owner, ten no-password payments, the
    // eleventh needs the password.
    let base = serial() % 10_000 + 5_000_000;
    let normal = paycode::simulator::scenario::by_key("normal").unwrap();
    for k in 0..11u64 {
        let c = paycode::simulator::code_for(normal, base + k * 10_000);
        let no = order_no("D");
        let f = micropay(&http, &sim, &no, &c, "100").await;
        let want = if k < 10 { None } else { Some("USERPAYING") };
        assert_eq!(f.get("err_code"), want, "payment {k}");
        if k == 10 {
            let r = http
                .post(format!("{}/__sim/cancel/{no}", sim.base_url))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            assert_eq!(trade_state(&http, &sim, &no).await, "PAYERROR");
        }
    }
    let l = ledger(&http, &sim).await;
    assert_eq!(l.totals.charged, 100_001 + 1000);
}

#[tokio::test]
async fn declining_scenarios_charge_nothing() {
    let sim = started(false).await;
    let http = client(&sim, false);
    for (key, err) in [
        ("notenough", "NOTENOUGH"),
        ("authcodeexpire", "AUTHCODEEXPIRE"),
        ("trade_error", "TRADE_ERROR"),
        ("notsuportcard", "NOTSUPORTCARD"),
    ] {
        let no = order_no("X");
        let f = micropay(&http, &sim, &no, &code(key), "100").await;
        assert_eq!(f.get("err_code"), Some(err));
        assert_eq!(trade_state(&http, &sim, &no).await, "PAYERROR");
        assert_eq!(order(&http, &sim, &no).await.err_code.as_deref(), Some(err));
    }
    assert_eq!(ledger(&http, &sim).await.totals.charged, 0);
}

/// Simulated time runs 1000× faster here, so "after 10 s" is 10 ms of real time.
async fn fast(auto_revoke: Duration) -> paycode::simulator::RunningSim {
    let mut s: SimSettings = settings(false);
    s.time_scale = 1000;
    s.behaviour.auto_revoke_after = auto_revoke;
    start(s).await.unwrap()
}

#[tokio::test]
async fn timed_customers_with_accelerated_time() {
    let sim = fast(Duration::from_secs(3600)).await;
    let http = client(&sim, false);
    let (a, b) = (order_no("A"), order_no("C"));
    assert_eq!(
        micropay(&http, &sim, &a, &code("password_confirms"), "100")
            .await
            .get("err_code"),
        Some("USERPAYING")
    );
    assert_eq!(
        micropay(&http, &sim, &b, &code("password_closes"), "100")
            .await
            .get("err_code"),
        Some("USERPAYING")
    );
    wait_state(&http, &sim, &a, "SUCCESS").await;
    wait_state(&http, &sim, &b, "PAYERROR").await;
    let l = ledger(&http, &sim).await;
    let pa = l.order(&a).unwrap();
    assert_eq!(
        pa.paid_ms,
        Some(pa.created_ms + 10_000),
        "paid exactly 10 s (simulated) after"
    );
    assert_eq!(l.totals.charged, 100);
}

#[tokio::test]
async fn unpaid_orders_are_auto_revoked() {
    let sim = fast(Duration::from_secs(45)).await;
    let http = client(&sim, false);
    let no = order_no("R");
    micropay(&http, &sim, &no, &code("password_never"), "100").await;
    wait_state(&http, &sim, &no, "REVOKED").await;
    let o = order(&http, &sim, &no).await;
    assert_eq!(o.closed_ms, Some(o.created_ms + 45_000));
    assert_eq!(o.charged, 0);
}

#[tokio::test]
async fn fault_scenarios_apply_the_payment_then_misbehave() {
    let mut s = settings(false);
    s.time_scale = 1000; // the 12 s slow reply takes 12 ms
    let sim = start(s).await.unwrap();
    let http = client(&sim, false);
    let send = |no: &str, key: &str| {
        let c = code(key);
        (no.to_string(), c)
    };
    // Dropped connection: a transport error, no HTTP status.
    let (no, c) = send(&order_no("D"), "drop_paid");
    let err = http
        .post(format!("{}/pay/micropay", sim.base_url))
        .body(signed_body(&micropay_pairs(&no, &c, "100"), SignType::Md5))
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err}");
    assert_eq!(trade_state(&http, &sim, &no).await, "SUCCESS");
    assert_eq!(
        micropay(&http, &sim, &no, &c, "100")
            .await
            .get("result_code"),
        Some("SUCCESS")
    );

    let (no, c) = send(&order_no("E"), "http500_paid");
    let (status, _) = post_raw(
        &http,
        &sim,
        "/pay/micropay",
        signed_body(&micropay_pairs(&no, &c, "100"), SignType::Md5),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(trade_state(&http, &sim, &no).await, "SUCCESS");

    let (no, c) = send(&order_no("H"), "html_paid");
    let (status, text) = post_raw(
        &http,
        &sim,
        "/pay/micropay",
        signed_body(&micropay_pairs(&no, &c, "100"), SignType::Md5),
    )
    .await;
    assert_eq!(status, 200);
    assert!(text.starts_with("<!DOCTYPE html>"));
    assert!(paycode::wxpay::xml::decode(text.as_bytes()).is_err());

    let (no, c) = send(&order_no("S"), "wrong_sign_paid");
    let (_, text) = post_raw(
        &http,
        &sim,
        "/pay/micropay",
        signed_body(&micropay_pairs(&no, &c, "100"), SignType::Md5),
    )
    .await;
    let f = paycode::wxpay::xml::decode(text.as_bytes()).unwrap();
    assert_eq!(f.get("result_code"), Some("SUCCESS"));
    let given = f.get("sign").unwrap().to_string();
    assert!(!paycode::wxpay::sign::verify(
        &f,
        &key(),
        SignType::Md5,
        &given
    ));

    for (key_, err) in [
        ("systemerror_paid", "SYSTEMERROR"),
        ("bankerror_paid", "BANKERROR"),
    ] {
        let (no, c) = send(&order_no("Y"), key_);
        assert_eq!(
            micropay(&http, &sim, &no, &c, "100").await.get("err_code"),
            Some(err)
        );
        assert_eq!(trade_state(&http, &sim, &no).await, "SUCCESS");
    }
    let (no, c) = send(&order_no("L"), "slow_reply");
    assert_eq!(
        micropay(&http, &sim, &no, &c, "100")
            .await
            .get("result_code"),
        Some("SUCCESS")
    );
    let l = ledger(&http, &sim).await;
    assert_eq!((l.totals.paid_orders, l.totals.charged), (7, 700));
}

#[tokio::test]
async fn admin_faults_for_the_next_n_requests() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let no = order_no("F");
    micropay(&http, &sim, &no, &code("normal"), "100").await;
    let fault = |body: &'static str| {
        http.post(format!("{}/__sim/fault", sim.base_url))
            .body(body)
            .send()
    };
    assert_eq!(
        fault(r#"{"kind":"drop","count":2,"endpoint":"orderquery"}"#)
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        fault(r#"{"kind":"nonsense"}"#)
            .await
            .unwrap()
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        fault(r#"{"kind":"drop","endpoint":"closeorder"}"#)
            .await
            .unwrap()
            .status()
            .as_u16(),
        400
    );
    for _ in 0..2 {
        let r = http
            .post(format!("{}/pay/orderquery", sim.base_url))
            .body(signed_body(&[("out_trade_no", &no)], SignType::Md5))
            .send()
            .await;
        assert!(r.is_err(), "dropped");
    }
    assert_eq!(trade_state(&http, &sim, &no).await, "SUCCESS");
    fault(r#"{"kind":"systemerror","count":1}"#).await.unwrap();
    let f = call(&http, &sim, "/pay/orderquery", &[("out_trade_no", &no)]).await;
    assert_eq!(f.get("err_code"), Some("SYSTEMERROR"));
    // drop_before: no answer and nothing applied, so the order does not exist.
    fault(r#"{"kind":"drop_before","endpoint":"micropay"}"#)
        .await
        .unwrap();
    let lost = order_no("L");
    let r = http
        .post(format!("{}/pay/micropay", sim.base_url))
        .body(signed_body(
            &micropay_pairs(&lost, &code("normal"), "100"),
            SignType::Md5,
        ))
        .send()
        .await;
    assert!(r.is_err(), "dropped");
    let f = call(&http, &sim, "/pay/orderquery", &[("out_trade_no", &lost)]).await;
    assert_eq!(f.get("err_code"), Some("ORDERNOTEXIST"));
    let l = ledger(&http, &sim).await;
    assert_eq!(l.totals.pending_faults, 0);
    assert_eq!(l.totals.orders, 1);
    assert_eq!(l.orders[0].requests.get("orderquery"), Some(&4));
}

#[tokio::test]
async fn reverse_over_plain_http() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let (unpaid, paid, recall) = (order_no("U"), order_no("P"), order_no("K"));
    micropay(&http, &sim, &unpaid, &code("password_never"), "100").await;
    micropay(&http, &sim, &paid, &code("normal"), "300").await;
    micropay(&http, &sim, &recall, &code("reverse_recall"), "100").await;
    for no in [&unpaid, &paid, &unpaid] {
        let f = call(&http, &sim, "/secapi/pay/reverse", &[("out_trade_no", no)]).await;
        assert_eq!(
            (f.get("result_code"), f.get("recall")),
            (Some("SUCCESS"), Some("N"))
        );
    }
    assert_eq!(trade_state(&http, &sim, &unpaid).await, "REVOKED");
    assert_eq!(trade_state(&http, &sim, &paid).await, "REFUND");
    let mut recalls = 0;
    loop {
        let f = call(
            &http,
            &sim,
            "/xdc/apiv2sandbox/secapi/pay/reverse",
            &[("out_trade_no", &recall)],
        )
        .await;
        if f.get("recall") == Some("N") {
            assert_eq!(f.get("result_code"), Some("SUCCESS"));
            break;
        }
        recalls += 1;
        assert!(recalls <= 3, "more than 3 recalls");
    }
    assert_eq!(recalls, 3);
    let f = call(
        &http,
        &sim,
        "/secapi/pay/reverse",
        &[("out_trade_no", "NOPE")],
    )
    .await;
    assert_eq!(f.get("err_code"), Some("ORDERNOTEXIST"));
    let l = ledger(&http, &sim).await;
    assert_eq!(
        (l.totals.charged, l.totals.refunded, l.totals.net),
        (300, 300, 0)
    );
}

#[tokio::test]
async fn advancing_simulated_time_ends_the_reverse_window() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let old = order_no("A");
    micropay(&http, &sim, &old, &code("normal"), "100").await;
    let advance = |body: &'static str| {
        http.post(format!("{}/__sim/advance", sim.base_url))
            .body(body)
            .send()
    };
    let bad = advance(r#"{"weeks":1}"#).await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.text().await.unwrap().contains("days"));
    let ok = advance(r#"{"days":8}"#).await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let v: serde_json::Value = serde_json::from_str(&ok.text().await.unwrap()).unwrap();
    assert_eq!(v["advanced_secs"], 8 * 86_400);
    assert!(v["now_secs"].as_u64().unwrap() >= 8 * 86_400, "{v}");
    let f = call(
        &http,
        &sim,
        "/secapi/pay/reverse",
        &[("out_trade_no", &old)],
    )
    .await;
    assert_eq!(f.get("err_code"), Some("REVERSE_EXPIRE"));
    assert_eq!(trade_state(&http, &sim, &old).await, "SUCCESS");
    // An order made after the jump is young again.
    let young = order_no("Y");
    micropay(&http, &sim, &young, &code("normal"), "100").await;
    let f = call(
        &http,
        &sim,
        "/secapi/pay/reverse",
        &[("out_trade_no", &young)],
    )
    .await;
    assert_eq!(f.get("result_code"), Some("SUCCESS"));
}

#[tokio::test]
async fn refunds_refundquery_and_statement() {
    let mut s = settings(false);
    s.refund_delay = Duration::ZERO;
    let sim = start(s).await.unwrap();
    let http = client(&sim, false);
    let no = order_no("R");
    micropay(&http, &sim, &no, &code("normal"), "1000").await;
    let refund = |rno: &'static str, fee: &'static str| {
        let no = no.clone();
        let (http, sim) = (&http, &sim);
        async move {
            call(
                http,
                sim,
                "/secapi/pay/refund",
                &[
                    ("out_trade_no", &no),
                    ("out_refund_no", rno),
                    ("total_fee", "1000"),
                    ("refund_fee", fee),
                ],
            )
            .await
        }
    };
    assert_eq!(
        refund("RF1", "400").await.get("result_code"),
        Some("SUCCESS")
    );
    assert_eq!(
        refund("RF1", "400").await.get("result_code"),
        Some("SUCCESS"),
        "same refund again"
    );
    assert_eq!(
        refund("RF2", "601").await.get("err_code"),
        Some("INVALID_REQUEST")
    );
    let q = call(&http, &sim, "/pay/refundquery", &[("out_trade_no", &no)]).await;
    assert_eq!(q.get("refund_count"), Some("1"));
    assert_eq!(q.get("refund_status_0"), Some("SUCCESS"));
    assert_eq!(q.get("refund_fee_0"), Some("400"));
    let o = order(&http, &sim, &no).await;
    assert_eq!(
        (o.charged, o.refunded, o.state.as_str()),
        (1000, 400, "REFUND")
    );

    let today = o.created_at.get(..10).unwrap().replace('-', "");
    let body = signed_body(
        &[
            ("bill_date", &today),
            ("bill_type", "ALL"),
            ("device_info", "POS01"),
        ],
        SignType::Md5,
    );
    let (status, csv) = post_raw(&http, &sim, "/pay/downloadbill", body).await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[1].contains(&format!("`{no},")) && lines[1].contains("`SUCCESS,"));
    assert!(lines[2].contains("`REFUND,") && lines[2].contains("`4.00,"));
    assert!(lines[4].starts_with("`2,`10.00,`4.00,"), "{}", lines[4]);
    let body = signed_body(
        &[("bill_date", &today), ("device_info", "OTHER")],
        SignType::Md5,
    );
    let (_, text) = post_raw(&http, &sim, "/pay/downloadbill", body).await;
    assert_eq!(
        verified(&text, SignType::Md5).get("return_msg"),
        Some("No Bill Exist")
    );
}

#[tokio::test]
async fn scenario_table_as_json() {
    let sim = started(false).await;
    let http = client(&sim, false);
    let text = http
        .get(format!("{}/__sim/scenarios", sim.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), paycode::simulator::scenarios().len());
    assert_eq!(rows[1]["key"], "password_confirms");
    assert_eq!(rows[1]["behaviour"]["customer"]["after_ms"], 10_000);
    assert!(
        rows.iter()
            .all(|r| r["name_zh"].as_str().is_some_and(|s| !s.is_empty()))
    );
}

/// Review of stop 23, F3: the trainer endpoints echoed the path value in the reply and kept it
/// in the shared log whole — a payment code posted as an order number sat in the ledger file.
/// A value that is not an order number is refused (400, not echoed), one with no order is 404
/// without an echo, and neither is logged.
#[tokio::test]
async fn trainer_actions_on_values_that_are_not_orders_leave_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim-ledger.jsonl");
    let mut s: SimSettings = settings(false);
    s.store = Some(log.clone());
    let sim = start(s).await.unwrap();
    let http = client(&sim, false);
    let code = "134567890123456789";
    for (path, want) in [
        (format!("confirm/{code}"), 404),
        (format!("cancel/{code}"), 404),
        ("confirm/A%1B%5B2J%07".to_string(), 400),
        (format!("cancel/{}", "A".repeat(40)), 400),
    ] {
        let r = http
            .post(format!("{}/__sim/{path}", sim.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "{path}");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains(code) && !body.contains('\u{1b}') && !body.contains("AAAAAAAAAA"),
            "{path}: {body}"
        );
    }
    let kept = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!kept.contains(code), "the code was logged: {kept}");
    assert!(
        !kept.contains("confirm") && !kept.contains("cancel"),
        "{kept}"
    );
    sim.shutdown().await;
}
