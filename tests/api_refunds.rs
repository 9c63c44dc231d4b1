//! `POST /v1/refunds` (issue 12) as a POS uses it against `paycode serve`: a refund of a paid
//! ref made once however often the POS retries it (its own `refund_ref` is the idempotency
//! key), the rest refunded, and the refusals — no ref, another amount under a used
//! refund_ref, an unpaid sale, a wrong manager PIN — answered with the field named and nothing
//! sent to WeChat.
#![allow(clippy::unwrap_used)]

mod api_support;
mod checkout_support;

use std::os::unix::fs::PermissionsExt;

use api_support::{post, sale, serve};
use checkout_support::Harness;
use serde_json::json;

fn refund_body(v: serde_json::Value) -> String {
    v.to_string()
}

#[test]
fn a_pos_refund_is_made_once_however_often_it_is_retried() {
    let h = Harness::new();
    let s = serve(&h, &[]);
    let (st, v) = post(
        &h,
        &s,
        "/v1/sales",
        &sale("12.34", "POS-7", &h.code("normal")),
        None,
    );
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();

    let part = refund_body(json!({"ref": "POS-7", "refund_ref": "RF-1", "amount": "2.00"}));
    let (st, r) = post(&h, &s, "/v1/refunds", &part, None);
    assert_eq!((st, r["status"].as_str()), (200, Some("success")), "{r}");
    assert_eq!(
        (r["refund_fee"].as_u64(), r["out_trade_no"].as_str()),
        (Some(200), Some(no.as_str()))
    );
    assert_eq!(
        (r["exit"].as_u64(), r["existing"].as_bool()),
        (Some(0), Some(false))
    );
    assert!(r["message_zh"].as_str().unwrap().contains("退款"), "{r}");
    let first = r["out_refund_no"].as_str().unwrap().to_string();

    // The POS lost the answer and sends the same request again: the same refund, nothing sent.
    let sent = h.requests("refund");
    let (st, again) = post(&h, &s, "/v1/refunds", &part, None);
    assert_eq!(
        (st, again["existing"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["out_refund_no"], first.as_str());
    assert_eq!(h.requests("refund"), sent, "a retry sends no second refund");

    // The refund_ref used again for another amount: another refund under a used id, refused.
    let other = refund_body(json!({"ref": "POS-7", "refund_ref": "RF-1", "amount": "3.00"}));
    let (st, v) = post(&h, &s, "/v1/refunds", &other, None);
    assert_eq!((st, v["field"].as_str()), (409, Some("refund_ref")), "{v}");
    // Without a refund_ref a retry could refund twice: refused before anything is written.
    let bare = refund_body(json!({"ref": "POS-7", "amount": "1.00"}));
    let (st, v) = post(&h, &s, "/v1/refunds", &bare, None);
    assert_eq!((st, v["field"].as_str()), (400, Some("refund_ref")), "{v}");
    assert!(
        v["message_zh"].as_str().unwrap().contains("refund_ref"),
        "{v}"
    );
    assert_eq!(h.requests("refund"), sent, "nothing sent for a refusal");

    // The rest, by the till's own order number, twice: one refund of ¥10.34.
    let rest = refund_body(json!({"out_trade_no": no, "refund_ref": "RF-2"}));
    let (st, r) = post(&h, &s, "/v1/refunds", &rest, None);
    assert_eq!((st, r["refund_fee"].as_u64()), (200, Some(1034)), "{r}");
    let (st, r) = post(&h, &s, "/v1/refunds", &rest, None);
    assert_eq!((st, r["existing"].as_bool()), (200, Some(true)), "{r}");
    let l = h.ledger();
    assert_eq!(
        (l.totals.charged, l.totals.refunded, l.totals.net),
        (1234, 1234, 0),
        "refunded once, in full: {l:?}"
    );
    let j = h.journal();
    assert_eq!(
        j.refunds_of(&no).unwrap().len(),
        2,
        "two refunds in the journal"
    );
}

#[test]
fn refunds_that_cannot_be_made_are_refused_naming_the_field_and_nothing_is_sent() {
    let h = Harness::new();
    let s = serve(&h, &[]);
    // A sale that ends not charged (the customer's balance is short).
    let (st, v) = post(
        &h,
        &s,
        "/v1/sales",
        &sale("5.00", "POS-8", &h.code("notenough")),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_ne!(v["status"], "paid", "{v}");
    let cases = [
        (
            json!({"ref": "POS-8", "refund_ref": "RF-9"}),
            409,
            Some("ref"),
        ),
        (
            json!({"ref": "NOPE", "refund_ref": "RF-9"}),
            404,
            Some("ref"),
        ),
        (
            json!({"out_trade_no": "X1", "refund_ref": "RF-9"}),
            404,
            Some("out_trade_no"),
        ),
        (json!({"refund_ref": "RF-9"}), 400, Some("ref")),
        (
            json!({"ref": "POS-8", "out_trade_no": "X1", "refund_ref": "RF-9"}),
            400,
            Some("ref"),
        ),
        (
            json!({"ref": "POS-8", "refund_ref": "RF-9", "amount": 1.5}),
            400,
            Some("amount"),
        ),
        (
            json!({"ref": "POS-8", "refund_ref": "RF-9", "amount": "0.00"}),
            400,
            Some("amount"),
        ),
        (
            json!({"ref": "POS-8", "refund_ref": "", "amount": "1.00"}),
            400,
            Some("refund_ref"),
        ),
        (
            json!({"ref": "POS-8", "refund_ref": "RF-9", "colour": "red"}),
            400,
            None,
        ),
        (
            json!({"ref": "POS-8", "refund_ref": "RF-9", "reason": "x".repeat(200)}),
            400,
            Some("reason"),
        ),
    ];
    for (body, status, field) in cases {
        let (st, v) = post(&h, &s, "/v1/refunds", &body.to_string(), None);
        assert_eq!((st, v["field"].as_str()), (status, field), "{body}: {v}");
        assert_eq!(v["status"], "rejected", "{v}");
        assert!(!v["message_zh"].as_str().unwrap().is_empty(), "{v}");
    }
    assert_eq!(h.requests("refund"), 0, "nothing sent");
}

#[test]
fn with_a_manager_pin_configured_a_refund_needs_it_and_a_wrong_one_sends_nothing() {
    let h = Harness::new();
    let pin = h.dir.path().join("manager.pin");
    std::fs::write(&pin, "4321\n").unwrap();
    std::fs::set_permissions(&pin, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut text = std::fs::read_to_string(h.config_path()).unwrap();
    text.push_str(&format!("manager_pin_file = \"{}\"\n", pin.display()));
    std::fs::write(h.config_path(), text).unwrap();
    let s = serve(&h, &[]);
    let (st, v) = post(
        &h,
        &s,
        "/v1/sales",
        &sale("3.00", "POS-9", &h.code("normal")),
        None,
    );
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");

    let body = |pin: Option<&str>| {
        let mut b = json!({"ref": "POS-9", "refund_ref": "RF-P"});
        if let Some(p) = pin {
            b["pin"] = json!(p);
        }
        b.to_string()
    };
    let (st, v) = post(&h, &s, "/v1/refunds", &body(None), None);
    assert_eq!((st, v["field"].as_str()), (403, Some("pin")), "{v}");
    let (st, v) = post(&h, &s, "/v1/refunds", &body(Some("1111")), None);
    assert_eq!((st, v["field"].as_str()), (403, Some("pin")), "{v}");
    assert!(!v.to_string().contains("4321"), "the PIN never echoes: {v}");
    assert_eq!(h.requests("refund"), 0, "nothing sent without the PIN");
    let (st, v) = post(&h, &s, "/v1/refunds", &body(Some("4321")), None);
    assert_eq!((st, v["status"].as_str()), (200, Some("success")), "{v}");
    let no = v["out_trade_no"].as_str().unwrap();
    let r = &h.journal().refunds_of(no).unwrap()[0];
    assert_eq!(r.authorised.map(|a| a.as_str()), Some("pin:api"));
}

/// Row 214 (review of the refunds, F2): the POS's `refund_ref` lived only in the journal. After
/// the journal was restored from a backup, the POS retrying a refund it had made (its answer
/// lost) got a new number, and WeChat refunded it a second time (¥7.00 back where the POS
/// asked ¥4.00). Now the ref is part of the refund number: the retry is WeChat's own retry of
/// that refund, recorded and answered as the existing refund.
#[test]
fn a_pos_refund_retried_after_a_restore_is_still_made_once() {
    let h = Harness::new();
    let s = serve(&h, &[]);
    let (st, v) = post(
        &h,
        &s,
        "/v1/sales",
        &sale("10.00", "POS-3", &h.code("normal")),
        None,
    );
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let backup = h.dir.path().join("night.db");
    assert_eq!(h.run(&["backup", backup.to_str().unwrap()]).code, 0);
    let b3 = refund_body(json!({"ref": "POS-3", "refund_ref": "RF-B3", "amount": "3.00"}));
    let (st, r) = post(&h, &s, "/v1/refunds", &b3, None);
    assert_eq!((st, r["status"].as_str()), (200, Some("success")), "{r}");
    let made = r["out_refund_no"].as_str().unwrap().to_string();
    drop(s);

    // The disk is replaced and last night's backup put back.
    let journal = h.journal_path();
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", journal.display()));
    }
    std::fs::copy(&backup, &journal).unwrap();
    let s = serve(&h, &[]);
    // Another refund first (the review's order): it learns of RF-B3's refund and says so; run
    // again (as told), it is made.
    let c1 = refund_body(json!({"ref": "POS-3", "refund_ref": "RF-C1", "amount": "1.00"}));
    let (_, r) = post(&h, &s, "/v1/refunds", &c1, None);
    if r["status"] != "success" {
        let (st, r) = post(&h, &s, "/v1/refunds", &c1, None);
        assert_eq!((st, r["status"].as_str()), (200, Some("success")), "{r}");
    }
    assert_eq!(h.order(&no).refunded, 400);
    // The POS retries RF-B3: the refund made under it, nothing new.
    let sent = h.requests("refund");
    let (st, again) = post(&h, &s, "/v1/refunds", &b3, None);
    assert_eq!(
        (
            st,
            again["status"].as_str(),
            again["out_refund_no"].as_str()
        ),
        (200, Some("success"), Some(made.as_str())),
        "{again}"
    );
    assert_eq!(h.requests("refund"), sent, "nothing sent for the retry");
    assert_eq!(h.order(&no).refunded, 400, "RF-B3 refunded once");
    // The same ref for another amount: another refund under a used id.
    let other = refund_body(json!({"ref": "POS-3", "refund_ref": "RF-B3", "amount": "2.00"}));
    let (st, v) = post(&h, &s, "/v1/refunds", &other, None);
    assert_eq!((st, v["field"].as_str()), (409, Some("refund_ref")), "{v}");
}

/// Row 223 (review 5, F3): `follow_open: true` dropped the request's `refund_ref`, so the same
/// refund_ref sent again (after the first finished) was a new refund each time: ¥9.00 back for
/// one ¥3.00 refund. The ref stays the idempotency key.
#[test]
fn a_refund_ref_is_the_key_with_follow_open_too() {
    let h = Harness::new();
    let s = serve(&h, &[]);
    let (st, v) = post(
        &h,
        &s,
        "/v1/sales",
        &sale("10.00", "POS-F", &h.code("normal")),
        None,
    );
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let body = refund_body(
        json!({"ref": "POS-F", "refund_ref": "RF-F", "amount": "3.00", "follow_open": true}),
    );
    let (st, first) = post(&h, &s, "/v1/refunds", &body, None);
    assert_eq!(
        (st, first["status"].as_str()),
        (200, Some("success")),
        "{first}"
    );
    let (st, again) = post(&h, &s, "/v1/refunds", &body, None);
    assert_eq!(
        (
            st,
            again["existing"].as_bool(),
            again["out_refund_no"].clone()
        ),
        (200, Some(true), first["out_refund_no"].clone()),
        "{again}"
    );
    assert_eq!(h.order(&no).refunded, 300, "one refund for RF-F");
}
