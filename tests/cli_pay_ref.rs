//! `paycode pay --ref POS_ORDER_ID` (FAULTS.md rows 48–50): the POS's own order id is the
//! idempotency key. The same ref never charges twice, a retry returns the existing sale, and a
//! ref reused with another amount is refused with nothing sent.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use checkout_support::{Harness, Timing, kill_9};
use paycode::journal::SaleState;

fn pay_ref(h: &Harness, amount: &str, code: &str, r: &str) -> (i32, serde_json::Value) {
    let run = h.run(&[
        "pay", "--amount", amount, "--code", code, "--ref", r, "--json",
    ]);
    let v = run.json();
    (run.code, v)
}

/// Row 48: the POS retries a paid order (its reply was lost, or it simply asks again).
#[test]
fn the_same_ref_returns_the_paid_sale_and_never_charges_again() {
    let h = Harness::new();
    let (code, v) = pay_ref(&h, "5.00", &h.code("normal"), "POS-1001");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(v["ref"], "POS-1001", "{v}");
    assert_eq!(v["existing"], false, "{v}");
    let first = v["out_trade_no"].as_str().unwrap().to_string();

    let (code, v) = pay_ref(&h, "5.00", &h.code("normal"), "POS-1001");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(v["existing"], true, "{v}");
    assert_eq!(v["out_trade_no"], first.as_str(), "{v}");
    let l = h.ledger();
    assert_eq!((l.orders.len(), l.totals.charged), (1, 500), "{l:?}");

    // Another amount under the same ref: refused, nothing written or sent.
    let (code, v) = pay_ref(&h, "6.00", &h.code("normal"), "POS-1001");
    assert_eq!((code, v["status"].as_str()), (3, Some("rejected")), "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("POS-1001") && msg.contains("5.00"), "{msg}");
    assert!(
        v["message_zh"].as_str().unwrap().contains("POS-1001"),
        "{v}"
    );
    assert_eq!(h.ledger().orders.len(), 1);
    assert_eq!(h.journal().sales_between(0, i64::MAX).unwrap().len(), 1);
    let hist = h.run(&["history", "--json"]).json();
    assert_eq!(hist["sales"][0]["ref"], "POS-1001", "{hist}");
}

/// Row 49: a ref whose earlier attempt was not charged (insufficient balance) may be paid with
/// another code: at most one paid sale per ref.
#[test]
fn a_ref_whose_attempt_was_not_charged_can_be_paid_once() {
    let h = Harness::new();
    let (code, v) = pay_ref(&h, "3.00", &h.code("notenough"), "T7");
    assert_eq!((code, v["status"].as_str()), (1, Some("failed")), "{v}");
    let (code, v) = pay_ref(&h, "3.00", &h.code("normal"), "T7");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(v["existing"], false, "{v}");
    let paid = v["out_trade_no"].as_str().unwrap().to_string();
    let (code, v) = pay_ref(&h, "3.00", &h.code("normal"), "T7");
    assert_eq!(
        (code, v["out_trade_no"].as_str()),
        (0, Some(paid.as_str())),
        "{v}"
    );
    assert_eq!(h.ledger().totals.charged, 300);
}

/// Row 50: `pay --ref` killed while the customer types the password; the customer confirms;
/// the POS retries the same ref with a fresh code. Recovery settles the first sale paid and
/// that very sale is the answer (exit 0), not a refusal and not a second charge.
#[test]
fn a_ref_retried_after_a_crash_returns_the_recovered_sale() {
    let h = Harness::with(Timing {
        password_timeout: "60s",
        ..Timing::default()
    });
    let code = h.code("password_never");
    let mut child = h.spawn(&[
        "pay",
        "--amount=8.80",
        "--code",
        &code,
        "--ref",
        "R-55",
        "--json",
    ]);
    let first = h.wait_for_open_sale(&mut child, SaleState::Submitted);
    kill_9(&mut child);
    h.sim.confirm(&first).unwrap();

    let (code, v) = pay_ref(&h, "8.80", &h.code("normal"), "R-55");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(
        (v["out_trade_no"].as_str(), v["existing"].as_bool()),
        (Some(first.as_str()), Some(true)),
        "{v}"
    );
    assert_eq!(v["recovered"][0]["out_trade_no"], first.as_str(), "{v}");
    let l = h.ledger();
    assert_eq!((l.orders.len(), l.totals.charged), (1, 880), "{l:?}");

    // A different ref is a different purchase: the recovery of R-55 does not hold it.
    let (code, v) = pay_ref(&h, "1.00", &h.code("normal"), "R-56");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{v}");
}

/// A ref that is empty, too long or not printable ASCII is refused before anything is written.
#[test]
fn a_bad_ref_is_refused_naming_the_option() {
    let h = Harness::new();
    let long = "x".repeat(65);
    for bad in ["", "has space", long.as_str(), "订单1"] {
        let (code, v) = pay_ref(&h, "1.00", &h.code("normal"), bad);
        assert_eq!(
            (code, v["status"].as_str()),
            (3, Some("rejected")),
            "{bad:?}: {v}"
        );
        assert!(v["message"].as_str().unwrap().contains("--ref"), "{v}");
    }
    assert_eq!(h.ledger().orders.len(), 0);
}

/// A ref whose sale is unresolved (the reverse never got through): a retry answers with that
/// sale — do not hand over goods — and charges nothing, whatever code comes with it.
#[test]
fn a_ref_with_an_unresolved_sale_is_answered_unresolved_and_nothing_is_sent() {
    use checkout_support::proxy::Tamper;
    let t = Timing {
        password_timeout: "1s",
        reverse_max_attempts: 2,
    };
    let h = Harness::with(t);
    let p = h.proxy(checkout_support::Opts {
        password_timeout: "1s",
        reverse_max_attempts: 2,
        ..checkout_support::Opts::default()
    });
    p.tamper("/secapi/pay/reverse", Tamper::Unreached(502), 10_000);
    let (code, v) = pay_ref(&h, "4.20", &h.code("password_never"), "U-1");
    assert_eq!((code, v["status"].as_str()), (2, Some("unresolved")), "{v}");
    let first = v["out_trade_no"].as_str().unwrap().to_string();
    p.clear();
    let micropays = || p.seen().iter().filter(|s| *s == "/pay/micropay").count();
    let before = micropays();
    let (code, v) = pay_ref(&h, "4.20", &h.code("normal"), "U-1");
    assert_eq!((code, v["status"].as_str()), (2, Some("unresolved")), "{v}");
    assert_eq!(
        (v["out_trade_no"].as_str(), v["existing"].as_bool()),
        (Some(first.as_str()), Some(true)),
        "{v}"
    );
    assert_eq!(micropays(), before, "no micropay: {:?}", p.seen());
    assert_eq!(h.ledger().orders.len(), 1);
}

/// Row 69 (fourth review F1): WeChat answered the first attempt of a ref NOTENOUGH although it
/// took the money (a signed refusal hiding a payment). The POS retries the ref with another
/// code: before charging again, paycode closes the earlier attempt — it finds it paid and
/// returns it — so the customer pays once.
#[test]
fn a_ref_retried_after_a_decline_that_hid_a_payment_is_charged_once() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (code, v) = pay_ref(&h, "10.00", &h.code("normal"), "R1");
    assert_eq!(
        (code, v["err_code"].as_str()),
        (1, Some("NOTENOUGH")),
        "{v}"
    );
    let first = v["out_trade_no"].as_str().unwrap().to_string();
    assert_eq!(h.order(&first).charged, 1000, "WeChat took it anyway");

    let (code, v) = pay_ref(&h, "10.00", &h.code("normal"), "R1");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_ne!(v["out_trade_no"], first.as_str());
    assert_eq!(v["closed"][0]["out_trade_no"], first.as_str(), "{v}");
    assert_eq!(v["closed"][0]["status"], "reversed", "{v}");
    let l = h.ledger();
    assert_eq!(
        (l.totals.charged, l.totals.refunded, l.totals.net),
        (2000, 1000, 1000),
        "one net charge: {l:?}"
    );
}

/// Row 69, its failure path: the earlier attempt's closing query gets no verified answer. The
/// new charge is refused (exit 3, naming the attempt and what to do) and nothing is sent; once
/// WeChat answers, the retry closes the attempt and charges once.
#[test]
fn a_ref_whose_earlier_refusal_cannot_be_confirmed_is_not_charged_again() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (_, v) = pay_ref(&h, "6.00", &h.code("normal"), "R9");
    let first = v["out_trade_no"].as_str().unwrap().to_string();
    h.sim
        .add_fault(Fault::Http500, 1, Some(Endpoint::OrderQuery));
    let (code, v) = pay_ref(&h, "6.00", &h.code("normal"), "R9");
    assert_eq!((code, v["status"].as_str()), (3, Some("rejected")), "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains(&first) && msg.contains("paycode query"),
        "{msg}"
    );
    assert!(v["message_zh"].as_str().unwrap().contains(&first), "{v}");
    assert_eq!(h.ledger().orders.len(), 1, "no new micropay");

    let (code, v) = pay_ref(&h, "6.00", &h.code("normal"), "R9");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{v}");
    let l = h.ledger();
    assert_eq!((l.totals.charged, l.totals.net), (1200, 600), "{l:?}");
}
