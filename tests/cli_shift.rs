//! `paycode shift`: the shift since the last handover, the handover itself (kept, never
//! edited, never recorded twice), a closed shift again, and a day as the sum of its shifts.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use checkout_support::{Harness, kill_9};
use paycode::journal::SaleState;
use std::process::Stdio;

fn shift(h: &Harness, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["shift"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = h.run(&all);
    let v = run.json();
    (run.code, v)
}

/// A sale left open by a kill -9 during the customer's password (the next cashier must know).
fn open_sale(h: &Harness) -> String {
    let code = h.code("password_never");
    let mut child = h
        .command(&["pay", "--amount", "7.00", "--code", &code, "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let no = h.wait_for_open_sale(&mut child, SaleState::Submitted);
    kill_9(&mut child);
    no
}

#[test]
fn a_shift_is_handed_over_once_kept_as_it_was_and_the_day_is_the_sum_of_its_shifts() {
    let h = Harness::new();
    let (_, a) = h.pay("12.34", &h.code("normal"));
    let (_, b) = h.pay("5.00", &h.code("normal"));
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("paid"), Some("paid"))
    );
    let first = a["out_trade_no"].as_str().unwrap();
    let r = h.run(&["refund", first, "--amount", "2.00", "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let open = open_sale(&h);

    // The open shift: its money, and the sale left open listed first with what to do.
    let (code, v) = shift(&h, &[]);
    assert_eq!((code, v["status"].as_str()), (0, Some("open")), "{v}");
    assert_eq!(
        (v["paid"].as_u64(), v["paid_count"].as_u64()),
        (Some(1734), Some(2)),
        "{v}"
    );
    assert_eq!(
        (v["refunded"].as_u64(), v["net"].as_i64()),
        (Some(200), Some(1534)),
        "{v}"
    );
    assert_eq!(v["attention"][0]["kind"], "unfinished", "{v}");
    assert_eq!(v["attention"][0]["out_trade_no"], open.as_str(), "{v}");
    assert!(
        v["attention"][0]["message_zh"]
            .as_str()
            .unwrap()
            .contains("不要交付商品"),
        "{v}"
    );
    let text = h.run(&["shift"]);
    let at = |needle: &str| {
        text.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {}", text.stdout))
    };
    assert!(at(&open) < at("Sales by state"), "{}", text.stdout);

    // The handover: closed once, with the same figures.
    let (code, closed) = shift(&h, &["--close"]);
    assert_eq!(
        (code, closed["status"].as_str()),
        (0, Some("closed")),
        "{closed}"
    );
    assert_eq!(closed["closed_id"], 1, "{closed}");
    assert_eq!(
        (closed["paid"].as_u64(), closed["net"].as_i64()),
        (Some(1734), Some(1534))
    );

    // Before it takes the next sale, `pay` resumes the open one: settled in the new shift,
    // whose money is only its own.
    let (_, c) = h.pay("1.00", &h.code("normal"));
    assert_eq!(c["status"], "paid", "{c}");
    let (_, v) = shift(&h, &[]);
    assert_eq!(
        (v["paid"].as_u64(), v["refunded"].as_u64()),
        (Some(100), Some(0)),
        "{v}"
    );
    assert_eq!(v["attention"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(v["settled_since"][0]["out_trade_no"], open.as_str(), "{v}");
    assert_eq!(v["settled_since"][0]["state"], "reversed", "{v}");

    // Shift 1 reads as it was handed over, whatever happened since.
    let (code, again) = shift(&h, &["--id", "1"]);
    assert_eq!(code, 0, "{again}");
    for k in [
        "paid",
        "refunded",
        "net",
        "attention",
        "by_state",
        "by_hour",
        "until_ms",
    ] {
        assert_eq!(again[k], closed[k], "{k}: {again} vs {closed}");
    }

    // Hand over again: the day's two shifts add up to the day's history.
    let (_, second) = shift(&h, &["--close"]);
    assert_eq!(second["closed_id"], 2, "{second}");
    let day = second["until"].as_str().unwrap()[..10].to_string();
    let (code, d) = shift(&h, &["--date", &day]);
    assert_eq!(code, 0, "{d}");
    assert_eq!(d["shifts"].as_array().map(Vec::len), Some(2), "{d}");
    let hist = h.run(&["history", "--date", &day, "--json"]).json();
    assert_eq!(d["sum"]["paid"], hist["paid_total"], "{d}\n{hist}");
    assert_eq!(d["sum"]["refunded"], hist["refunded_total"], "{d}\n{hist}");
    assert_eq!(d["sum"]["net"], hist["net_total"], "{d}\n{hist}");
    // And the handovers' net is what WeChat kept: 12.34 + 5.00 + 1.00 − 2.00 (the open sale
    // was reversed).
    let l = h.ledger();
    assert_eq!(d["sum"]["net"].as_u64(), Some(l.totals.net), "{l:?}");
    assert_eq!(l.totals.net, 1_634);
}

#[test]
fn a_handover_is_refused_while_the_till_is_taking_a_payment_and_bad_arguments_name_the_fix() {
    let h = Harness::new();
    let code = h.code("password_never");
    let mut child = h
        .command(&["pay", "--amount", "3.00", "--code", &code, "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    h.wait_for_open_sale(&mut child, SaleState::Submitted);
    let (code, v) = shift(&h, &["--close"]);
    assert_eq!((code, v["status"].as_str()), (3, Some("rejected")), "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("close it first"),
        "{v}"
    );
    // Showing it needs no lock.
    let (code, v) = shift(&h, &[]);
    assert_eq!((code, v["status"].as_str()), (0, Some("open")), "{v}");
    kill_9(&mut child);
    let (_, day) = shift(&h, &["--date", &v["until"].as_str().unwrap()[..10]]);
    assert_eq!(
        day["shifts"].as_array().map(Vec::len),
        Some(0),
        "nothing recorded: {day}"
    );

    for (args, needle) in [
        (&["--id", "7"][..], "no closed shift 7"),
        (&["--date", "2026-02-30"][..], "use YYYY-MM-DD"),
        (&["--id", "x"][..], "invalid"),
        (&["--close", "--id", "1"][..], "cannot be used with"),
    ] {
        let (code, v) = shift(&h, args);
        assert_eq!(
            (code, v["status"].as_str()),
            (3, Some("rejected")),
            "{args:?}: {v}"
        );
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{args:?}: {msg}");
        assert!(!v["message_zh"].as_str().unwrap().is_empty(), "{v}");
    }
}
