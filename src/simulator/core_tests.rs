//! Unit tests of the pure core across endpoints: refunds with virtual time, the statement,
//! queued faults, raw request decoding and the trainer's controls.

use super::ledger::OrderStatus;
use super::reply::Body;
use super::rules::Endpoint;
use super::scenario::Fault;
use super::testkit::*;
use crate::wxpay::sign::{ApiKey, SignType, sign};
use crate::wxpay::xml::Fields;

fn refund(
    sim: &mut super::Sim,
    no: &str,
    rno: &str,
    total: &str,
    fee: &str,
    t: u64,
) -> super::reply::SimReply {
    let f = req(&[
        ("out_trade_no", no),
        ("out_refund_no", rno),
        ("total_fee", total),
        ("refund_fee", fee),
    ]);
    sim.handle(Endpoint::Refund, &f, secs(t))
}

#[test]
fn partial_refunds_processing_then_success() {
    let mut s = sim();
    pay(&mut s, "O1", &code("normal", 1), "1000", secs(0));
    let r = refund(&mut s, "O1", "R1", "1000", "300", 10);
    assert_eq!(r.get("result_code"), Some("SUCCESS"));
    assert_eq!(r.get("refund_fee"), Some("300"));
    let rq = |s: &mut super::Sim, t| {
        let r = s.handle(
            Endpoint::RefundQuery,
            &req(&[("out_refund_no", "R1")]),
            secs(t),
        );
        r.get("refund_status_0").unwrap_or("-").to_string()
    };
    assert_eq!(rq(&mut s, 14), "PROCESSING");
    assert_eq!(rq(&mut s, 15), "SUCCESS");
    // The same out_refund_no again is the same refund, not a second one.
    let again = refund(&mut s, "O1", "R1", "1000", "300", 16);
    assert_eq!(again.get("refund_id"), r.get("refund_id"));
    assert_eq!(
        refund(&mut s, "O1", "R1", "1000", "301", 16).get("err_code"),
        Some("INVALID_REQUEST")
    );
    // Not above the paid amount.
    assert_eq!(
        refund(&mut s, "O1", "R2", "1000", "701", 17).get("err_code"),
        Some("INVALID_REQUEST")
    );
    assert_eq!(
        refund(&mut s, "O1", "R2", "1000", "700", 17).get("result_code"),
        Some("SUCCESS")
    );
    assert_eq!(query(&mut s, "O1", secs(18)), "REFUND");
    let all = s.handle(
        Endpoint::RefundQuery,
        &req(&[("out_trade_no", "O1")]),
        secs(18),
    );
    assert_eq!(all.get("refund_count"), Some("2"));
    assert_eq!(all.get("refund_status_1"), Some("PROCESSING"));
    let l = s.ledger(secs(30));
    assert_eq!(
        (l.totals.charged, l.totals.refunded, l.totals.net),
        (1000, 1000, 0)
    );
    assert_eq!(l.orders[0].requests.get("refund"), Some(&5));
}

#[test]
fn refund_limits() {
    let mut s = sim();
    pay(&mut s, "U1", &code("password_never", 1), "100", secs(0));
    assert_eq!(
        refund(&mut s, "U1", "X", "100", "1", 1).get("err_code"),
        Some("TRADE_STATE_ERROR")
    );
    assert_eq!(
        refund(&mut s, "NONE", "X", "100", "1", 1).get("err_code"),
        Some("ORDERNOTEXIST")
    );
    pay(&mut s, "P1", &code("normal", 2), "100", secs(0));
    assert_eq!(
        refund(&mut s, "P1", "X", "99", "1", 1).get("err_code"),
        Some("INVALID_REQUEST")
    );
    for k in 0..50 {
        let r = refund(&mut s, "P1", &format!("F{k}"), "100", "1", 2);
        assert_eq!(r.get("result_code"), Some("SUCCESS"), "refund {k}");
    }
    assert_eq!(
        refund(&mut s, "P1", "F50", "100", "1", 3).get("err_code"),
        Some("INVALID_REQ_TOO_MUCH")
    );
    let q = s.handle(
        Endpoint::RefundQuery,
        &req(&[("out_refund_no", "nope")]),
        secs(3),
    );
    assert_eq!(q.get("err_code"), Some("REFUNDNOTEXIST"));
}

#[test]
fn downloadbill_csv_by_day_and_device() {
    let mut s = sim();
    pay_on(&mut s, "B1", &code("normal", 1), "1234", "POS1", secs(60));
    pay_on(&mut s, "B2", &code("normal", 2), "500", "POS2", secs(120));
    refund(&mut s, "B1", "BR1", "1234", "234", 180);
    let bill = |s: &mut super::Sim, extra: &[(&str, &str)]| {
        let mut p = vec![("bill_date", "20261124")];
        p.extend_from_slice(extra);
        match s.handle(Endpoint::DownloadBill, &req(&p), secs(300)).body {
            Body::Csv(t) => t,
            other => panic!("expected CSV, got {other:?}"),
        }
    };
    let all = bill(&mut s, &[]);
    let lines: Vec<&str> = all.lines().collect();
    assert!(lines[0].starts_with("交易时间,公众账号ID"));
    assert_eq!(lines.len(), 6, "{all}");
    assert!(lines[1].starts_with("`2026-11-24 00:01:00,`wxpaycodesimulator"));
    assert!(lines[1].contains("`B1,") && lines[1].contains("`12.34,"));
    assert!(lines[3].contains("`REFUND,") && lines[3].contains("`2.34,"));
    assert!(lines[4].starts_with("总交易单数"));
    assert!(lines[5].starts_with("`3,`17.34,`2.34,"), "{}", lines[5]);
    let pos2 = bill(&mut s, &[("device_info", "POS2")]);
    assert_eq!(pos2.lines().count(), 4);
    assert!(pos2.contains("`B2,") && !pos2.contains("`B1,"));
    let refunds = bill(&mut s, &[("bill_type", "REFUND")]);
    assert_eq!(refunds.lines().count(), 4);
    let other_day = s.handle(
        Endpoint::DownloadBill,
        &req(&[("bill_date", "20261123")]),
        secs(300),
    );
    assert_eq!(other_day.body, Body::Fail("No Bill Exist".into()));
    let bad = s.handle(
        Endpoint::DownloadBill,
        &req(&[("bill_date", "2026-11-24")]),
        secs(300),
    );
    assert!(matches!(bad.body, Body::Fail(_)));
}

#[test]
fn queued_faults_apply_to_the_next_n_matching_requests() {
    let mut s = sim();
    s.add_fault(Fault::Http500, 2, Some(Endpoint::OrderQuery));
    s.add_fault(Fault::SystemError, 1, Some(Endpoint::Micropay));
    let r = pay(&mut s, "F1", &code("normal", 1), "100", secs(0));
    assert_eq!(r.get("err_code"), Some("SYSTEMERROR"));
    // ...but the payment was applied.
    let q = |s: &mut super::Sim| {
        s.handle(
            Endpoint::OrderQuery,
            &req(&[("out_trade_no", "F1")]),
            secs(1),
        )
        .body
    };
    assert_eq!(q(&mut s), Body::Http500);
    assert_eq!(q(&mut s), Body::Http500);
    assert!(matches!(q(&mut s), Body::Signed { .. }));
    assert_eq!(query(&mut s, "F1", secs(2)), "SUCCESS");
    assert!(s.pending_faults().is_empty());
    s.add_fault(Fault::Delay(secs(3)), 1, None);
    assert_eq!(
        s.handle(
            Endpoint::OrderQuery,
            &req(&[("out_trade_no", "F1")]),
            secs(3)
        )
        .delay,
        secs(3)
    );
    // drop_before: no answer, and the micropay never happened.
    s.add_fault(Fault::DropBefore, 1, Some(Endpoint::Micropay));
    assert_eq!(
        pay(&mut s, "F2", &code("normal", 2), "100", secs(4)).body,
        Body::Drop
    );
    let r = s.handle(
        Endpoint::OrderQuery,
        &req(&[("out_trade_no", "F2")]),
        secs(5),
    );
    assert_eq!(r.get("err_code"), Some("ORDERNOTEXIST"));
    let r = pay(&mut s, "F2", &code("normal", 2), "100", secs(6));
    assert_eq!(
        r.get("result_code"),
        Some("SUCCESS"),
        "the code was never used"
    );
    s.add_fault(Fault::Recall, 1, None);
    let r = s.handle(Endpoint::Reverse, &req(&[("out_trade_no", "F1")]), secs(20));
    assert_eq!(r.get("recall"), Some("Y"));
    let r = s.handle(Endpoint::Reverse, &req(&[("out_trade_no", "F1")]), secs(21));
    assert_eq!(r.get("recall"), Some("N"));
}

#[test]
fn scenario_faults_hit_only_the_first_answer() {
    let mut s = sim();
    for (key, expect) in [
        ("drop_paid", Body::Drop),
        ("http500_paid", Body::Http500),
        ("html_paid", Body::Html),
    ] {
        let c = code(key, 1);
        assert_eq!(pay(&mut s, key, &c, "100", secs(0)).body, expect);
        assert_eq!(
            pay(&mut s, key, &c, "100", secs(1)).get("result_code"),
            Some("SUCCESS")
        );
    }
    let c = code("wrong_sign_paid", 1);
    assert!(matches!(
        pay(&mut s, "W", &c, "100", secs(0)).body,
        Body::Signed {
            wrong_sign: true,
            ..
        }
    ));
    let c = code("slow_reply", 1);
    assert_eq!(pay(&mut s, "S", &c, "100", secs(0)).delay, secs(12));
    let c = code("bankerror_paid", 1);
    assert_eq!(
        pay(&mut s, "K", &c, "100", secs(0)).get("err_code"),
        Some("BANKERROR")
    );
    assert_eq!(s.ledger(secs(2)).totals.charged, 600);
}

#[test]
fn raw_requests_method_body_and_signature() {
    let mut s = sim();
    let fail = |r: super::reply::SimReply| match r.body {
        Body::Fail(m) => m,
        other => panic!("expected FAIL, got {other:?}"),
    };
    assert!(
        fail(s.handle_request(Endpoint::Micropay, false, b"<xml/>", secs(0)))
            .starts_with("REQUIRE_POST_METHOD")
    );
    assert!(
        fail(s.handle_request(Endpoint::Micropay, true, b"  ", secs(0)))
            .starts_with("POST_DATA_EMPTY")
    );
    assert!(
        fail(s.handle_request(Endpoint::Micropay, true, b"<xml><a>1</b></xml>", secs(0)))
            .starts_with("XML_FORMAT_ERROR")
    );
    assert!(
        fail(s.handle_request(Endpoint::Micropay, true, b"<xml><a>\xff</a></xml>", secs(0)))
            .starts_with("NOT_UTF8")
    );
    let mut f = req(&[("out_trade_no", "X")]);
    f.push("extra", "tampered");
    assert_eq!(
        fail(s.handle(Endpoint::OrderQuery, &f, secs(0))),
        "签名错误"
    );
    // HMAC request → HMAC answer.
    let key = ApiKey::new(KEY).unwrap();
    let mut h: Fields = [
        ("appid", "wxpaycodesimulator"),
        ("mch_id", "1000000001"),
        ("nonce_str", "n"),
        ("sign_type", "HMAC-SHA256"),
        ("out_trade_no", "X"),
    ]
    .into_iter()
    .collect();
    h.push("sign", sign(&h, &key, SignType::HmacSha256));
    match s.handle(Endpoint::OrderQuery, &h, secs(0)).body {
        Body::Signed {
            sign_type, fields, ..
        } => {
            assert_eq!(sign_type, SignType::HmacSha256);
            assert_eq!(fields.get("err_code"), Some("ORDERNOTEXIST"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.ledger(secs(0)).totals.requests.get("micropay"), Some(&4));
}

#[test]
fn trainer_confirm_and_cancel() {
    let mut s = sim();
    pay(&mut s, "T1", &code("password_never", 1), "100", secs(0));
    pay(&mut s, "T2", &code("password_never", 2), "100", secs(0));
    assert_eq!(s.confirm("T1", secs(3)), Ok(OrderStatus::Success));
    assert_eq!(s.cancel("T2", secs(3)), Ok(OrderStatus::PayError));
    assert!(s.confirm("T1", secs(4)).is_err());
    assert!(s.confirm("NOPE", secs(4)).is_err());
    assert_eq!(query(&mut s, "T1", secs(5)), "SUCCESS");
    assert_eq!(query(&mut s, "T2", secs(5)), "PAYERROR");
    let l = s.ledger(secs(5));
    assert_eq!(l.orders[0].paid_ms, Some(3000));
    assert_eq!(l.orders[0].code, "13************0001");
}

#[test]
fn reply_delay_is_added_to_every_answer() {
    let mut cfg = sim().settings().clone();
    cfg.reply_delay = secs(2);
    let mut s = super::Sim::new(cfg);
    assert_eq!(
        pay(&mut s, "D1", &code("normal", 1), "100", secs(0)).delay,
        secs(2)
    );
    let fail = s.handle_request(Endpoint::OrderQuery, false, b"", secs(0));
    assert_eq!(fail.delay, secs(2));
    let slow = pay(&mut s, "D2", &code("slow_reply", 2), "100", secs(0));
    assert_eq!(slow.delay, secs(14));
}

#[test]
fn banner_and_table_in_both_languages() {
    use crate::config::Language;
    assert!(super::banner(Language::En).contains("no real money"));
    assert!(super::banner(Language::Zh).contains("不涉及真实资金"));
    let zh = super::scenario_lines(Language::Zh);
    assert_eq!(zh.len(), super::scenarios().len());
    assert!(zh[4].contains("余额不足"));
    assert!(super::scenario_lines(Language::En)[4].contains("insufficient balance"));
}
