//! `paycode pay` as a subprocess against the real simulator over HTTP: every scenario of the
//! issue, with the simulator ledger and the journal checked against each other afterwards.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use checkout_support::{Harness, Timing};
use paycode::journal::SaleState;
use paycode::simulator::Endpoint;
use paycode::simulator::scenario::Fault;

fn no(v: &serde_json::Value) -> String {
    v["out_trade_no"].as_str().unwrap().to_string()
}

#[test]
fn paid_at_once() {
    let h = Harness::new();
    let (r, v) = h.pay("12.34", &h.code("normal"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(v["status"], "paid");
    assert_eq!(v["total_fee"], 1234);
    assert!(v["transaction_id"].as_str().unwrap().len() > 10);
    assert_eq!(v["err_code"], serde_json::Value::Null);
    assert!(v["message"].as_str().unwrap().starts_with("PAID ¥12.34"));
    let s = h.sale(&no(&v));
    assert_eq!(s.state, SaleState::Paid);
    assert_eq!(s.cash_fee.map(|f| f.0), Some(1234));
    assert!(s.out_trade_no.starts_with("till-7"));
    assert!(r.stderr.contains("SIMULATOR"), "{}", r.stderr);
    h.assert_ledger_agrees();
    assert_eq!(h.ledger().totals.charged, 1234);
}

#[test]
fn password_confirmed_in_time_is_paid_without_reverse() {
    let h = Harness::new();
    let (r, v) = h.pay("2.00", &h.code("password_confirms"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (0, Some("paid")),
        "{}",
        r.stderr
    );
    let no = no(&v);
    let events = h.journal().events(&no).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.err_code.as_deref() == Some("USERPAYING"))
    );
    let order = h.order(&no);
    assert_eq!(order.requests.get("reverse"), None);
    assert!(order.requests.get("orderquery").copied().unwrap_or(0) >= 1);
    h.assert_ledger_agrees();
}

#[test]
fn never_confirmed_is_reversed_and_not_charged() {
    let h = Harness::with(Timing {
        password_timeout: "300ms",
        ..Timing::default()
    });
    let (r, v) = h.pay("3.00", &h.code("password_never"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (1, Some("reversed")),
        "{}",
        r.stdout
    );
    assert!(v["message"].as_str().unwrap().contains("not charged"));
    assert!(
        r.stderr.contains("waiting for the customer's password"),
        "{}",
        r.stderr
    );
    let order = h.order(&no(&v));
    assert_eq!(order.charged, 0);
    assert!(order.requests.get("reverse").copied().unwrap_or(0) >= 1);
    assert_eq!(h.sale(&no(&v)).state, SaleState::Reversed);
    h.assert_ledger_agrees();
}

#[test]
fn closed_password_box_is_not_charged() {
    let h = Harness::new();
    let (r, v) = h.pay("4.00", &h.code("password_closes"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (1, Some("failed")),
        "{}",
        r.stdout
    );
    assert_eq!(v["err_code"], "PAYERROR");
    assert_eq!(h.sale(&no(&v)).state, SaleState::Failed);
    h.assert_ledger_agrees();
}

#[test]
fn insufficient_balance_fails_with_rescan_hint() {
    let h = Harness::new();
    let (r, v) = h.pay("5.00", &h.code("notenough"));
    assert_eq!((r.code, v["status"].as_str()), (1, Some("failed")));
    assert_eq!(v["err_code"], "NOTENOUGH");
    assert_eq!(v["rescan"], true);
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("insufficient balance — ask for another card or payment method"),
        "{msg}"
    );
    assert!(v["message_zh"].as_str().unwrap().contains("余额不足"));
    h.assert_ledger_agrees();
    assert_eq!(h.ledger().totals.charged, 0);
}

#[test]
fn systemerror_while_applied_is_paid_once() {
    let h = Harness::new();
    let (r, v) = h.pay("6.00", &h.code("systemerror_paid"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (0, Some("paid")),
        "{}",
        r.stderr
    );
    let no = no(&v);
    let events = h.journal().events(&no).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.err_code.as_deref() == Some("SYSTEMERROR"))
    );
    h.assert_ledger_agrees();
}

#[test]
fn dropped_connection_after_apply_is_paid_and_charged_once() {
    let h = Harness::new();
    let (r, v) = h.pay("7.00", &h.code("drop_paid"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (0, Some("paid")),
        "{}",
        r.stderr
    );
    let ledger = h.ledger();
    assert_eq!(ledger.totals.charged, 700);
    assert_eq!(ledger.totals.requests.get("micropay"), Some(&1));
    h.assert_ledger_agrees();
}

#[test]
fn wrong_signature_success_is_never_shown_paid() {
    // Only the micropay reply is forged: the sale is paid once a signed query confirms it.
    let h = Harness::new();
    let (r, v) = h.pay("8.00", &h.code("wrong_sign_paid"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (0, Some("paid")),
        "{}",
        r.stderr
    );
    let events = h.journal().events(&no(&v)).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.detail.contains("signature is missing or wrong")),
        "{events:?}"
    );
    h.assert_ledger_agrees();

    // Every query forged too: nothing verified ever says paid, so it is not shown paid.
    let h = Harness::with(Timing {
        password_timeout: "200ms",
        reverse_max_attempts: 2,
    });
    h.sim
        .add_fault(Fault::WrongSign, 1_000, Some(Endpoint::OrderQuery));
    let (r, v) = h.pay("8.00", &h.code("wrong_sign_paid"));
    assert_ne!(v["status"], "paid", "{}", r.stdout);
    assert_ne!(r.code, 0);
}

#[test]
fn reverse_recall_twice_then_reversed() {
    let h = Harness::with(Timing {
        password_timeout: "200ms",
        ..Timing::default()
    });
    h.sim.add_fault(Fault::Recall, 2, Some(Endpoint::Reverse));
    let (r, v) = h.pay("9.00", &h.code("password_never"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (1, Some("reversed")),
        "{}",
        r.stdout
    );
    let order = h.order(&no(&v));
    assert_eq!(order.requests.get("reverse"), Some(&3));
    assert_eq!(order.charged, 0);
    h.assert_ledger_agrees();
}

#[test]
fn reverse_failing_always_is_unresolved_and_pending_then_recovered() {
    let attempts = 3;
    let h = Harness::with(Timing {
        password_timeout: "200ms",
        reverse_max_attempts: attempts,
    });
    h.sim
        .add_fault(Fault::SystemError, attempts, Some(Endpoint::Reverse));
    let (r, v) = h.pay("10.00", &h.code("password_never"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (2, Some("unresolved")),
        "{}",
        r.stdout
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("do not hand over goods")
    );
    let no = no(&v);
    let j = h.journal();
    assert_eq!(j.sale(&no).unwrap().unwrap().state, SaleState::Unresolved);
    let pending: Vec<String> = j
        .unfinished()
        .unwrap()
        .into_iter()
        .filter(|s| s.state == SaleState::Unresolved)
        .map(|s| s.out_trade_no)
        .collect();
    assert_eq!(pending, std::slice::from_ref(&no));
    drop(j);
    // A new sale is still accepted: unresolved sales wait on the pending list.
    let (r2, v2) = h.pay("1.00", &h.code("normal"));
    assert_eq!(
        (r2.code, v2["status"].as_str()),
        (0, Some("paid")),
        "{}",
        r2.stderr
    );
    // The faults are used up: recover settles it.
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(rec.code, 0, "{}\n{}", rec.stdout, rec.stderr);
    let rv = rec.json();
    assert_eq!(rv["recovered"][0]["out_trade_no"], no.as_str());
    assert_eq!(rv["recovered"][0]["status"], "reversed");
    assert_eq!(rv["recovered"][0]["was"], "unresolved");
    assert_eq!(h.sale(&no).state, SaleState::Reversed);
    h.assert_ledger_agrees();
}

#[test]
fn invalid_input_is_refused_before_anything_is_journaled_or_sent() {
    let h = Harness::new();
    let good = h.code("normal");
    for (amount, code) in [
        ("0", good.as_str()),
        ("-1", good.as_str()),
        ("12.345", good.as_str()),
        ("99999999", good.as_str()),
        ("abc", good.as_str()),
        ("1.00", "12345"),
        ("1.00", "193456789012345678"),
        ("1.00", "28345678901234567890"),
    ] {
        let (r, v) = h.pay(amount, code);
        assert_eq!(r.code, 3, "{amount} {code}: {}", r.stdout);
        assert_eq!(v["status"], "rejected");
        assert!(!v["message"].as_str().unwrap().is_empty());
        assert!(
            !r.stderr.contains(code) || code.len() < 16,
            "full code echoed"
        );
    }
    assert!(h.journal().sales_between(0, i64::MAX).unwrap().is_empty());
    assert!(h.ledger().totals.requests.values().all(|n| *n == 0));
}

#[test]
fn same_code_twice_is_a_duplicate_scan() {
    let h = Harness::new();
    let code = h.code("normal");
    let (r, _) = h.pay("1.00", &code);
    assert_eq!(r.code, 0);
    let (r, v) = h.pay("1.00", &code);
    assert_eq!((r.code, v["status"].as_str()), (3, Some("rejected")));
    assert!(v["message"].as_str().unwrap().contains("duplicate scan"));
    assert_eq!(h.ledger().totals.requests.get("micropay"), Some(&1));
}

#[test]
fn log_file_never_holds_the_key_or_a_full_code() {
    let h = Harness::new();
    let code = h.code("systemerror_paid");
    let (r, v) = h.pay("1.23", &code);
    assert_eq!(r.code, 0);
    let logs = checkout_support::read_tree(&h.log_dir());
    assert!(
        logs.contains(v["out_trade_no"].as_str().unwrap()),
        "logging works: {logs}"
    );
    assert!(!logs.contains(&code), "full code in the log");
    assert!(
        !logs.contains(paycode::config::SIMULATOR_DEMO_KEY),
        "key in the log"
    );
    assert!(!r.stderr.contains(&code) && !r.stdout.contains(&code));
}

/// Issue 15: `--code -` reads the payment code from stdin, so it stays out of `ps` and the shell
/// history; an empty stdin is refused before anything is written or sent.
#[test]
fn the_code_can_come_from_stdin() {
    use std::io::Write;
    let h = Harness::new();
    let run = |input: &str| {
        let mut child = h
            .command(&["pay", "--amount", "3.00", "--code", "-", "--json"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
        (out.status.code(), v)
    };
    let (code, v) = run("");
    assert_eq!(code, Some(3), "{v}");
    assert!(v["message"].as_str().unwrap().contains("--code -"), "{v}");
    assert!(
        v["message_zh"].as_str().unwrap().contains("标准输入"),
        "{v}"
    );
    assert!(h.journal().unfinished().unwrap().is_empty());
    assert_eq!(h.requests("micropay"), 0, "nothing sent");
    let code_text = h.code("normal");
    let (code, v) = run(&format!("{code_text}\r\n"));
    assert_eq!((code, v["status"].as_str()), (Some(0), Some("paid")), "{v}");
    assert_eq!(h.requests("micropay"), 1);
}
