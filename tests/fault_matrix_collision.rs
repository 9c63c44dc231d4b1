//! Fault matrix, one order number at two tills (FAULTS.md rows 26–27): a till whose config was
//! copied from another (same `device_info`) hands out the number the other till already used.
//! WeChat answers its only micropay ORDERPAID; the order under that number is the other till's,
//! so it is never adopted (another customer's payment shown as this sale's) and never reversed
//! (the other customer's money returned behind the other cashier's back).
#![allow(clippy::unwrap_used)]

mod checkout_support;

use checkout_support::Harness;
use checkout_support::proxy::Tamper;
use paycode::journal::{EventLine, Journal, NewSale, SaleState, Transition};
use paycode::money::Fen;
use std::path::{Path, PathBuf};

/// The harness's `device_info`.
const DEVICE: &str = "till-7";
/// A number far in the future: both journals hand out the one after it next.
const SEED_STAMP: &str = "20990101000000000";

/// A second till on the same simulator with a copy of the first till's config (own directory,
/// own journal, same `device_info`).
fn copied_till(h: &Harness) -> PathBuf {
    let dir = h.config_path().parent().unwrap().join("till2");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.toml");
    std::fs::copy(h.config_path(), &cfg).unwrap();
    cfg
}

/// Put a finished sale numbered `DEVICE + SEED_STAMP` in the journal of the till configured at
/// `config`, so that its next order number is known.
fn seed(config: &Path) {
    let path = config.parent().unwrap().join("data/paycode.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut j = Journal::open(&path).unwrap();
    let no = format!("{DEVICE}{SEED_STAMP}");
    let sale = NewSale {
        out_trade_no: no.clone(),
        total_fee: Fen(1),
        code_fp: "seed".into(),
        code_masked: "1345**********6789".into(),
        device_info: DEVICE.into(),
        attach: None,
        pos_ref: None,
    };
    j.insert_intent(&sale, 0).unwrap();
    let t = Transition {
        err_code: Some("SEED".into()),
        ..Transition::default()
    };
    let event = EventLine {
        kind: "flow",
        detail: "seeded by the test",
        err_code: None,
    };
    j.checkpoint(&no, SaleState::Failed, &t, "{}", event, 0)
        .unwrap();
}

/// `paycode pay` at the till configured at `config`.
fn pay_at(h: &Harness, config: &Path, amount: &str, code: &str) -> serde_json::Value {
    let out = h
        .command(&[
            "pay",
            &format!("--amount={amount}"),
            "--code",
            code,
            "--json",
        ])
        .env("PAYCODE_CONFIG", config)
        .current_dir(config.parent().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

/// Till 1 sells at `first`, then the copied till 2 at `second` under the same order number.
fn collide(first: &str, second: &str) -> (Harness, serde_json::Value, serde_json::Value) {
    let h = Harness::new();
    let till2 = copied_till(&h);
    seed(&h.config_path());
    seed(&till2);
    let one = pay_at(&h, &h.config_path(), first, &h.code("normal"));
    assert_eq!(one["status"], "paid", "{one}");
    let two = pay_at(&h, &till2, second, &h.code("normal"));
    assert_eq!(
        one["out_trade_no"], two["out_trade_no"],
        "the staging collides: {one} {two}"
    );
    (h, one, two)
}

/// What both rows check: till 2 is told "not charged" with the cause, the order stays till 1's
/// paid order, and till 2 never reversed it.
fn assert_other_till_untouched(h: &Harness, one: &serde_json::Value, two: &serde_json::Value) {
    assert_eq!(two["status"], "failed", "never adopted: {two}");
    assert_ne!(two["transaction_id"], one["transaction_id"], "{two}");
    let msg = two["message"].as_str().unwrap();
    assert!(msg.contains("device_info"), "names the likely cause: {msg}");
    assert!(
        two["message_zh"].as_str().unwrap().contains("device_info"),
        "{two}"
    );
    let no = one["out_trade_no"].as_str().unwrap();
    let order = h.order(no);
    assert_eq!(
        order.state, "SUCCESS",
        "till 1's sale stays paid: {order:?}"
    );
    assert_eq!(order.charged, order.amount, "{order:?}");
    assert_eq!(order.refunded, 0, "{order:?}");
    assert_eq!(
        order.requests.get("reverse"),
        None,
        "no till reverses another till's order: {order:?}"
    );
    assert_eq!(order.requests.get("micropay"), Some(&2), "{order:?}");
    // The second customer was charged nothing anywhere.
    let l = h.ledger();
    assert_eq!(l.orders.len(), 1, "{l:?}");
    assert_eq!(l.totals.charged, order.amount, "{l:?}");
}

#[test]
fn copied_till_with_the_same_amount_never_adopts_the_other_tills_payment() {
    let (h, one, two) = collide("5.00", "5.00");
    assert_other_till_untouched(&h, &one, &two);
}

#[test]
fn copied_till_with_another_amount_never_reverses_the_other_tills_sale() {
    let (h, one, two) = collide("5.00", "7.00");
    assert_other_till_untouched(&h, &one, &two);
}

/// Row 35: after the collision, the copied till's `query`, `accept`, `refund` and `reverse` of
/// that number never take over, keep, refund or reverse the other till's order (the review
/// found `query` "correcting" it to paid with the other customer's transaction, then `refund`
/// returning the other customer's money).
#[test]
fn the_copied_till_never_takes_over_the_other_tills_order_afterwards() {
    let (h, one, two) = collide("5.00", "5.00");
    let till2 = h.config_path().parent().unwrap().join("till2/config.toml");
    let no = two["out_trade_no"].as_str().unwrap();
    let run = |args: &[&str]| {
        let out = h
            .command(args)
            .env("PAYCODE_CONFIG", &till2)
            .current_dir(till2.parent().unwrap())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code().unwrap_or(-1), stdout)
    };
    for cmd in ["query", "accept", "refund", "reverse"] {
        let (code, out) = run(&[cmd, no, "--json"]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_ne!(v["status"], "paid", "{cmd}: {v}");
        assert_ne!(v["status"], "reversed", "{cmd}: {v}");
        assert_ne!(v["status"], "success", "{cmd}: {v}");
        assert!(code == 1 || code == 3, "{cmd} exit {code}: {v}");
    }
    // The end-of-day check names it as the other till's order, not "charged, hand over".
    let (code, out) = run(&["reconcile", "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let finding = v["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["out_trade_no"] == no)
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(finding["finding"], "other_tills_order", "{v}");
    assert_eq!(code, 1, "a difference someone must act on: {v}");
    let j =
        paycode::journal::Journal::open(&till2.parent().unwrap().join("data/paycode.db")).unwrap();
    assert_eq!(j.sale(no).unwrap().unwrap().state, SaleState::Failed);
    assert!(j.refunds_of(no).unwrap().is_empty());
    assert_other_till_untouched(&h, &one, &two);
}

/// Row 43 (second review): till 1's micropay never reached WeChat (it ended not charged, or
/// unresolved); then the copied till 2 charged its own customer under the same number. WeChat's
/// verified query now shows that number paid, for the same amount — but it is till 2's order.
/// Till 1's `query`, `accept` and `recover` never return, keep or refund it: each sale carries
/// its own tag in `attach`, checked on every query.
#[test]
fn a_number_another_till_paid_later_is_never_returned_or_kept() {
    let h = Harness::new();
    let till2 = copied_till(&h);
    seed(&h.config_path());
    seed(&till2);
    let p = h.proxy(checkout_support::Opts::default());
    // Till 1's micropay is lost before WeChat.
    p.tamper("/pay/micropay", Tamper::Unreached(502), 1);
    let one = pay_at(&h, &h.config_path(), "5.00", &h.code("normal"));
    assert_eq!(one["status"], "failed", "{one}");
    let two = pay_at(&h, &till2, "5.00", &h.code("normal"));
    assert_eq!(two["status"], "paid", "{two}");
    assert_eq!(one["out_trade_no"], two["out_trade_no"]);
    let no = one["out_trade_no"].as_str().unwrap();
    for cmd in ["query", "accept", "recover"] {
        let args: Vec<&str> = if cmd == "recover" {
            vec![cmd, "--json"]
        } else {
            vec![cmd, no, "--json"]
        };
        let r = h.run(&args);
        let v = r.json();
        assert_ne!(v["status"], "paid", "{cmd}: {v}");
        assert_ne!(v["returned"], true, "{cmd}: {v}");
        let order = h.order(no);
        assert_eq!(
            (order.charged, order.refunded, order.requests.get("reverse")),
            (500, 0, None),
            "{cmd} touched till 2's order: {order:?}"
        );
    }
    assert_eq!(h.sale(no).state, SaleState::Failed);
}

/// Row 72 (issue 11, the complete rule): till 1's customer is typing the password under the
/// number when the copied till 2 sends its micropay for the same number, and that answer is lost.
/// Till 2 sees the order waiting (no `attach` before it is paid) and its cashier gives up: till 2
/// must not reverse it, since nothing proves it is till 2's. Till 1's customer then pays, and
/// till 1 hands over the goods; till 2's sale ends unresolved, then "number taken" on recovery.
#[test]
fn a_copied_till_never_reverses_an_order_it_cannot_prove_its_own() {
    let h = Harness::new();
    let till2 = copied_till(&h);
    seed(&h.config_path());
    seed(&till2);
    let p = h.proxy(checkout_support::Opts::default());
    let text = std::fs::read_to_string(&till2).unwrap();
    let text = text
        .replace(&h.sim.base_url, &p.url())
        .replace("password_timeout = \"5s\"", "password_timeout = \"400ms\"");
    std::fs::write(&till2, text).unwrap();
    let code = h.code("password_never");
    let mut one = h
        .command(&["pay", "--amount=5.00", "--code", &code, "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let no = h.wait_for_open_sale(&mut one, SaleState::Submitted);
    checkout_support::wait_for("till 1's order waiting at WeChat", || {
        h.ledger().orders.iter().any(|o| o.out_trade_no == no)
    });
    // Till 2's micropay reaches WeChat (a duplicate number), its answer does not reach till 2.
    p.tamper("/pay/micropay", Tamper::Status(502), 1);
    let two = pay_at(&h, &till2, "5.00", &h.code("normal"));
    assert_eq!(
        two["out_trade_no"],
        no.as_str(),
        "the staging collides: {two}"
    );
    assert_eq!(two["status"], "unresolved", "{two}");
    // It says why it did not reverse, in both languages.
    assert!(
        two["message"]
            .as_str()
            .unwrap()
            .contains("does not reverse the order"),
        "{two}"
    );
    assert!(
        two["message_zh"].as_str().unwrap().contains("不撤销"),
        "{two}"
    );
    let order = h.order(&no);
    assert_eq!(
        order.requests.get("reverse"),
        None,
        "till 2 reversed till 1's waiting order: {order:?}"
    );
    // Till 1's customer pays; till 1 says paid.
    h.sim.confirm(&no).unwrap();
    let out = one.wait_with_output().unwrap();
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(v["status"], "paid", "{v}");
    // Till 2's retry now sees a payment with another sale's tag: not charged, number taken.
    let r = h
        .command(&["recover", "--json"])
        .env("PAYCODE_CONFIG", &till2)
        .current_dir(till2.parent().unwrap())
        .output()
        .unwrap();
    assert!(r.status.code().is_some(), "{r:?}");
    let j = Journal::open(&till2.parent().unwrap().join("data/paycode.db")).unwrap();
    let sale = j.sale(&no).unwrap().unwrap();
    assert_eq!(sale.state, SaleState::Failed, "{sale:?}");
    let order = h.order(&no);
    assert_eq!(
        (order.charged, order.refunded, order.requests.get("reverse")),
        (500, 0, None),
        "{order:?}"
    );
}
