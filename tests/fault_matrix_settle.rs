//! Fault matrix, settling a sale after the fact (FAULTS.md rows 28–30): the review's defects
//! where a later command said something WeChat did not verify, or charged again.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use checkout_support::proxy::Tamper;
use checkout_support::{Harness, Timing, kill_9};
use paycode::journal::{RefundState, SaleState};

/// A normal customer pays `amount`; the sale's order number.
fn paid_sale(h: &Harness, amount: &str) -> String {
    let (r, v) = h.pay(amount, &h.code("normal"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    v["out_trade_no"].as_str().unwrap().to_string()
}

/// [`paid_sale`], then a partial refund of `refund` that WeChat confirms.
fn paid_then_refunded(h: &Harness, amount: &str, refund: &str) -> String {
    let no = paid_sale(h, amount);
    let rf = h.run(&["refund", &no, "--amount", refund, "--json"]);
    assert_eq!(rf.json()["status"], "success", "{}", rf.stdout);
    no
}

/// Row 28: pay ¥10, refund ¥3, then `reverse`. WeChat's `REFUND` trade state only says that
/// some refund exists; a reverse would have to return the ¥7 left, and paycode cannot know it
/// did. Refused locally, naming the fix; the sale stays paid and the rest stays refundable.
#[test]
fn reverse_after_a_partial_refund_is_refused_and_the_rest_stays_refundable() {
    let h = Harness::new();
    let no = paid_then_refunded(&h, "10.00", "3.00");

    let rv = h.run(&["reverse", &no, "--json"]);
    let j = rv.json();
    assert_eq!(
        (rv.code, j["status"].as_str()),
        (3, Some("rejected")),
        "{j}"
    );
    let msg = j["message"].as_str().unwrap();
    assert!(
        msg.contains("refund") && msg.contains("7.00"),
        "says what is left and how: {msg}"
    );
    assert!(j["message_zh"].as_str().unwrap().contains("退款"), "{j}");
    assert_eq!(h.order(&no).requests.get("reverse"), None, "nothing sent");
    assert_eq!(h.sale(&no).state, SaleState::Paid);

    // The ¥7 left is still refundable, and then nothing is.
    let rest = h.run(&["refund", &no, "--json"]);
    let rj = rest.json();
    assert_eq!(
        (rj["status"].as_str(), rj["refund_fee"].as_u64()),
        (Some("success"), Some(700)),
        "{rj}"
    );
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (1000, 1000), "{order:?}");
}

/// Row 29: `pay` is killed while the customer types the password; the customer confirms; the
/// POS runs `pay` again with a fresh code. Recovery finds the first sale paid: the new charge is
/// refused (exit 3, naming the sale) and `--json` lists what recovery settled.
#[test]
fn pay_after_a_crash_never_charges_again_and_reports_the_recovered_sale() {
    // Long password timeout: the pay process is surely still waiting when it is killed.
    let h = Harness::with(Timing {
        password_timeout: "60s",
        ..Timing::default()
    });
    let code = h.code("password_never");
    let mut child = h.spawn(&["pay", "--amount=8.80", "--code", &code, "--json"]);
    let first = h.wait_for_open_sale(&mut child, SaleState::Submitted);
    kill_9(&mut child);
    // The customer confirms on the phone while paycode is down.
    h.sim.confirm(&first).unwrap();
    assert_eq!(h.order(&first).charged, 880);

    let (r, v) = h.pay("8.80", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (3, Some("rejected")), "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains(&first), "names the recovered sale: {msg}");
    let recovered = v["recovered"].as_array().expect("recovered list");
    assert_eq!(recovered.len(), 1, "{v}");
    assert_eq!(recovered[0]["out_trade_no"], first.as_str());
    assert_eq!(recovered[0]["status"], "paid");
    // One charge in all: the second code was never sent.
    let l = h.ledger();
    assert_eq!(l.orders.len(), 1, "{l:?}");
    assert_eq!(l.totals.charged, 880);
    assert_eq!(h.sale(&first).state, SaleState::Paid);

    // Nothing left to recover: the next sale goes through, with an empty list.
    let (r, v) = h.pay("8.80", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(v["recovered"].as_array().map(Vec::len), Some(0), "{v}");
}

/// Row 30: the micropay reaches WeChat and the customer is charged, but the till reads an
/// unsigned `return_code=FAIL` (anyone on the path can write one), and every query then gets
/// HTTP 502. Nothing verified says "not charged": the sale stays open — queried, reversed,
/// unresolved at worst — and is settled by a verified answer later.
#[test]
fn an_unsigned_refusal_then_gateway_errors_is_never_shown_not_charged() {
    let h = Harness::with(Timing {
        password_timeout: "1s",
        ..Timing::default()
    });
    let p = h.proxy(checkout_support::Opts {
        password_timeout: "1s",
        ..checkout_support::Opts::default()
    });
    let unsigned = b"<xml><return_code><![CDATA[FAIL]]></return_code>\
        <return_msg><![CDATA[system busy]]></return_msg></xml>"
        .to_vec();
    p.tamper("/pay/micropay", Tamper::Body(unsigned), 1);
    p.tamper("/pay/orderquery", Tamper::Status(502), 10_000);
    let (r, v) = h.pay("4.40", &h.code("normal"));
    assert_ne!(v["status"], "failed", "not charged said unverified: {v}");
    assert_ne!(v["status"], "reversed", "nothing verified the reverse: {v}");
    assert_eq!(
        (r.code, v["status"].as_str()),
        (2, Some("unresolved")),
        "{v}"
    );
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    assert_eq!(h.sale(&no).state, SaleState::Unresolved);
    // Nothing proved the order this till's: queried, never reversed on a guess (row 72).
    assert!(
        !h.order(&no).requests.contains_key("reverse"),
        "{:?}",
        h.order(&no)
    );

    // Once WeChat answers again, recovery settles it from a verified reply.
    p.clear();
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(rec.code, 0, "{}\n{}", rec.stdout, rec.stderr);
    let order = h.order(&no);
    let state = h.sale(&no).state;
    assert!(
        matches!(state, SaleState::Reversed) && order.charged == order.refunded
            || matches!(state, SaleState::Paid) && order.refunded == 0,
        "{state:?} {order:?}"
    );
    h.assert_ledger_agrees();
}

/// A till whose reverses are short-lived and, through the proxy, can be kept from WeChat.
fn reverse_blocked() -> (Harness, checkout_support::proxy::Proxy) {
    let h = Harness::with(Timing {
        password_timeout: "1s",
        reverse_max_attempts: 2,
    });
    let p = h.proxy(checkout_support::Opts {
        password_timeout: "1s",
        reverse_max_attempts: 2,
        ..checkout_support::Opts::default()
    });
    (h, p)
}

/// A sale that ends UNRESOLVED (its reverse never reaches WeChat), then the customer types the
/// password: WeChat has it paid. Its order number.
fn paid_late(h: &Harness, p: &checkout_support::proxy::Proxy, amount: &str) -> String {
    p.tamper("/secapi/pay/reverse", Tamper::Unreached(502), 10_000);
    let (r, v) = h.pay(amount, &h.code("password_never"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (2, Some("unresolved")),
        "{v}"
    );
    p.clear();
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    h.sim.confirm(&no).unwrap();
    let fen = paycode::money::Fen::parse(amount, paycode::money::Fen(u64::MAX)).unwrap();
    assert_eq!(h.order(&no).charged, fen.0, "WeChat has it paid");
    no
}

/// Row 32: a sale ends UNRESOLVED ("do not hand over goods": the reverse never got through),
/// then the customer's payment completes at WeChat. `query` (also F9 and the pending screen)
/// follows the same rule as `recover` and the background retry: the money goes back to the
/// customer. Keeping it instead is the manager's explicit `paycode accept`.
#[test]
fn a_late_payment_of_an_unresolved_sale_is_returned_by_query_as_by_recover() {
    let (h, p) = reverse_blocked();
    let unresolved = |h: &Harness| paid_late(h, &p, "6.60");
    let no = unresolved(&h);
    let q = h.run(&["query", &no, "--json"]);
    let v = q.json();
    assert_eq!(v["status"], "reversed", "{v}");
    assert_eq!(v["returned"], true, "{v}");
    assert_eq!(h.sale(&no).state, SaleState::Reversed);
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (660, 660), "{order:?}");

    // The manager's choice instead: the customer is still there and takes the goods.
    let kept = unresolved(&h);
    let a = h.run(&["accept", &kept, "--json"]);
    let v = a.json();
    assert_eq!((a.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(h.sale(&kept).state, SaleState::Paid);
    assert_eq!(h.order(&kept).refunded, 0);
    // Accept never turns a sale WeChat does not have as paid into a paid one.
    let (_, v) = h.pay("3.00", &h.code("notenough"));
    let declined = v["out_trade_no"].as_str().unwrap().to_string();
    let a = h.run(&["accept", &declined, "--json"]);
    assert_eq!((a.code, a.json()["status"].as_str()), (3, Some("rejected")));
    assert_eq!(h.sale(&declined).state, SaleState::Failed);
    h.assert_ledger_agrees();
}

/// Row 36: a partial refund is applied at WeChat, but the till reads a signed `BANKERROR` (not
/// in WeChat's refund err_code table) — or an unsigned `return_code=FAIL`. The refund stays open
/// (never marked refused on an answer that cannot be trusted), so `reverse` is still refused and
/// the same refund number settles it later.
#[test]
fn an_untrusted_refund_answer_leaves_the_refund_open_and_reverse_refused() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    h.sim.add_fault(Fault::BankError, 1, Some(Endpoint::Refund));
    let rf = h.run(&["refund", &no, "--amount", "3.00", "--no-wait", "--json"]);
    let j = rf.json();
    assert_ne!(
        j["status"], "refused",
        "an answer outside the table is not a refusal: {j}"
    );
    assert_eq!(h.order(&no).refunded, 300, "WeChat did refund");

    let rv = h.run(&["reverse", &no, "--json"]);
    assert_eq!(
        (rv.code, rv.json()["status"].as_str()),
        (3, Some("rejected")),
        "{}",
        rv.stdout
    );
    assert_eq!(h.order(&no).requests.get("reverse"), None);

    // The same number settles it; then the rest goes back, and nothing more.
    let again = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    let a = again.json();
    assert_eq!(
        (a["status"].as_str(), a["out_refund_no"].as_str()),
        (Some("success"), Some(format!("{no}R1").as_str())),
        "{a}"
    );
    let rest = h.run(&["refund", &no, "--json"]);
    assert_eq!(rest.json()["refund_fee"], 700, "{}", rest.stdout);
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (1000, 1000), "{order:?}");
}

/// Row 37: a refund made outside this journal (the merchant platform) leaves WeChat's trade
/// state `REFUND` — "some refund exists". `reverse` of that paid sale is refused instead of
/// reading it as "refunded in full", and the sale stays paid.
#[test]
fn reverse_after_a_refund_made_elsewhere_is_refused() {
    let h = Harness::new();
    let no = paid_then_refunded(&h, "10.00", "3.00");
    // As if it had been done in the merchant platform: this journal knows nothing of it.
    let db = rusqlite::Connection::open(h.journal_path()).unwrap();
    db.execute("DELETE FROM refunds", []).unwrap();
    drop(db);

    let rv = h.run(&["reverse", &no, "--json"]);
    let j = rv.json();
    assert_eq!(
        (rv.code, j["status"].as_str()),
        (3, Some("rejected")),
        "{j}"
    );
    assert!(j["message"].as_str().unwrap().contains("refund"), "{j}");
    assert_eq!(h.sale(&no).state, SaleState::Paid);
    assert_eq!(h.order(&no).requests.get("reverse"), None);
}

/// Row 40: a till with the longest `device_info` (15 characters) has 32-character order numbers,
/// so its refund numbers are longer than 32. WeChat allows `out_refund_no` up to 64 characters;
/// the simulator refused 33+, so such a till could never refund.
#[test]
fn a_till_with_a_fifteen_character_id_can_refund() {
    let h = Harness::new();
    let text = std::fs::read_to_string(h.config_path()).unwrap().replace(
        "device_info = \"till-7\"",
        "device_info = \"store-001-till1\"",
    );
    std::fs::write(h.config_path(), text).unwrap();
    let no = paid_sale(&h, "12.00");
    assert_eq!(no.len(), 32, "{no}");
    let rf = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    let j = rf.json();
    assert_eq!(j["status"], "success", "{j}");
    assert_eq!(j["out_refund_no"].as_str().map(str::len), Some(34), "{j}");
    assert_eq!(h.order(&no).refunded, 200);
}

/// Row 42: WeChat promises orderquery's payment fields for SUCCESS only; a reversed paid order
/// queried as `REFUND` may carry just `out_trade_no` and `trade_state`. `reverse` of a recent
/// paid sale still ends REVERSED (refunded), not in doubt.
#[test]
fn a_bare_refund_state_still_confirms_the_reverse() {
    let h = Harness::with_sim(Timing::default(), |s| s.behaviour.bare_refund_state = true);
    let no = paid_sale(&h, "2.50");
    let rv = h.run(&["reverse", &no, "--json"]);
    let j = rv.json();
    assert_eq!(
        (rv.code, j["status"].as_str()),
        (1, Some("reversed")),
        "{j}"
    );
    assert_eq!(h.sale(&no).state, SaleState::Reversed);
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (250, 250), "{order:?}");
    h.assert_ledger_agrees();
}

/// Eight simulated days later: WeChat's 7-day reverse window is over for every order so far.
fn past_the_reverse_window(h: &Harness) {
    h.sim.advance(std::time::Duration::from_secs(8 * 24 * 3600));
}

/// The money of a late payment went back through the refund API: one refund of the whole
/// amount, and nothing more is sent on the next try.
fn returned_by_one_refund(h: &Harness, no: &str, fen: u64) {
    let order = h.order(no);
    assert_eq!(order.refunds.len(), 1, "{order:?}");
    assert_eq!(order.refunds[0].fee, fen, "{order:?}");
    assert_eq!(order.refunded + order.refund_pending, fen, "{order:?}");
    let refunds = h.journal().refunds_of(no).unwrap();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0].out_refund_no, order.refunds[0].out_refund_no);
    assert_eq!(h.sale(no).state, SaleState::Paid, "charged, then refunded");
    // Nothing more that moves money (a refundquery may follow the refund to its end).
    let moving = |h: &Harness| {
        let r = h.order(no).requests;
        ["micropay", "reverse", "refund"].map(|e| r.get(e).copied().unwrap_or(0))
    };
    let before = moving(h);
    let again = h.run(&["recover", "--json"]);
    assert_eq!(
        again.json()["recovered"],
        serde_json::json!([]),
        "{}",
        again.stdout
    );
    assert_eq!(moving(h), before, "nothing more sent");
}

/// Row 44: a late payment of an unresolved sale older than WeChat's 7-day reverse window. The
/// reverse answers REVERSE_EXPIRE; `query` returns the money with the refund API instead (one
/// stable `out_refund_no`), and says so.
#[test]
fn a_late_payment_past_the_reverse_window_is_refunded_by_query() {
    let (h, p) = reverse_blocked();
    let no = paid_late(&h, &p, "4.00");
    past_the_reverse_window(&h);

    let q = h.run(&["query", &no, "--json"]);
    let j = q.json();
    assert_eq!((q.code, j["status"].as_str()), (1, Some("reversed")), "{j}");
    assert_eq!(j["returned"], true, "{j}");
    assert!(j["message"].as_str().unwrap().contains("refund"), "{j}");
    // Not the manager's accept, although the journal keeps the charged sale paid.
    assert_eq!(j["corrected"], serde_json::Value::Null, "{j}");
    returned_by_one_refund(&h, &no, 400);
}

/// Row 45: the same late payment met by `recover` (and the background retry, which runs the
/// same code). It looped reverse → REVERSE_EXPIRE → query SUCCESS → reverse on every retry,
/// forever, and `refund` refused it as not paid. Now: returned by one refund.
#[test]
fn a_late_payment_past_the_reverse_window_is_refunded_by_recover() {
    let (h, p) = reverse_blocked();
    let no = paid_late(&h, &p, "4.00");
    past_the_reverse_window(&h);

    let r = h.run(&["recover", "--json"]);
    let j = r.json();
    assert_eq!((r.code, j["unresolved"].as_u64()), (0, Some(0)), "{j}");
    let item = &j["recovered"][0];
    assert_eq!(item["out_trade_no"], no.as_str(), "{j}");
    assert_eq!(item["status"], "reversed", "{j}");
    let msg = item["message"].as_str().unwrap();
    assert!(msg.contains("refund") && msg.contains("4.00"), "{msg}");
    assert!(
        h.order(&no).requests.get("reverse").copied().unwrap_or(0) <= 2,
        "{:?}",
        h.order(&no).requests
    );
    returned_by_one_refund(&h, &no, 400);
}

/// Row 46: the refund of a late payment past the reverse window gets no answer. The sale stays
/// unresolved (never "refunded" on an answer WeChat did not give) and the next retry sends the
/// same `out_refund_no` again: one refund, never two.
#[test]
fn a_late_refund_without_an_answer_stays_unresolved_and_is_resent_under_its_number() {
    let (h, p) = reverse_blocked();
    let no = paid_late(&h, &p, "2.50");
    past_the_reverse_window(&h);
    p.tamper("/secapi/pay/refund", Tamper::Unreached(502), 10_000);

    let r = h.run(&["recover", "--json"]);
    let j = r.json();
    assert_eq!((r.code, j["unresolved"].as_u64()), (2, Some(1)), "{j}");
    assert_eq!(j["recovered"][0]["status"], "unresolved", "{j}");
    assert_eq!(h.sale(&no).state, SaleState::Unresolved);
    let refunds = h.journal().refunds_of(&no).unwrap();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(h.order(&no).refunds.len(), 0, "nothing reached WeChat");

    p.clear();
    let r = h.run(&["recover", "--json"]);
    assert_eq!(
        r.json()["recovered"][0]["status"],
        "reversed",
        "{}",
        r.stdout
    );
    let order = h.order(&no);
    assert_eq!(order.refunds.len(), 1, "{order:?}");
    assert_eq!(order.refunds[0].out_refund_no, refunds[0].out_refund_no);
    returned_by_one_refund(&h, &no, 250);
}

/// Row 47: a refund whose answer paycode could not verify stays open under its number; before
/// any new `out_refund_no` of that sale a refundquery asks WeChat about it. Found: it is
/// recorded and the new refund goes ahead. Not found: the new one is refused, naming the open
/// refund and how to send it again (same number), so no number is ever abandoned.
#[test]
fn a_new_refund_first_asks_wechat_about_an_unverified_one() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    // WeChat made the refund; every answer to it was BANKERROR (outside the refusal table).
    let no = paid_sale(&h, "10.00");
    h.sim.add_fault(Fault::BankError, 5, Some(Endpoint::Refund));
    h.run(&["refund", &no, "--amount", "3.00", "--no-wait", "--json"]);
    let r1 = format!("{no}R1");
    let state = |h: &Harness, no: &str, r: &str| {
        let rs = h.journal().refunds_of(no).unwrap();
        rs.iter().find(|x| x.out_refund_no == r).map(|x| x.state)
    };
    assert_eq!(state(&h, &no, &r1), Some(RefundState::Requested));
    let queries = h.requests("refundquery");
    let two = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    assert_eq!(two.json()["status"], "success", "{}", two.stdout);
    assert!(h.requests("refundquery") > queries, "asked about R1 first");
    assert_ne!(
        state(&h, &no, &r1),
        Some(RefundState::Requested),
        "R1 recorded"
    );
    assert_eq!(h.order(&no).refunded, 500);

    // This refund never reached WeChat: a new number is refused until it is settled.
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let proxy = h.proxy(checkout_support::Opts::default());
    proxy.tamper("/secapi/pay/refund", Tamper::Unreached(502), 10_000);
    h.run(&["refund", &no, "--amount", "3.00", "--no-wait", "--json"]);
    proxy.clear();
    let r1 = format!("{no}R1");
    assert_eq!(state(&h, &no, &r1), Some(RefundState::Requested));
    let two = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    let j = two.json();
    assert_eq!(
        (two.code, j["status"].as_str()),
        (3, Some("rejected")),
        "{j}"
    );
    let msg = j["message"].as_str().unwrap();
    assert!(msg.contains(&r1) && msg.contains("--amount 3.00"), "{msg}");
    assert_eq!(h.journal().refunds_of(&no).unwrap().len(), 1);
    assert_eq!(h.order(&no).refunds.len(), 0, "nothing refunded");
    // Sending the open one again (same number) works; then the 2.00 goes ahead.
    let again = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    assert_eq!(
        again.json()["out_refund_no"],
        r1.as_str(),
        "{}",
        again.stdout
    );
    let two = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    assert_eq!(two.json()["status"], "success", "{}", two.stdout);
    assert_eq!(h.order(&no).refunded, 500);
}

/// Row 52: a signed NOTENOUGH although the payment went through (WeChat's global guide: a
/// business failure can hide a success). The cashier is told at once ("ask for another card");
/// the sale is closed later (here by `recover`; the next charge closes it first, row 125)
/// without holding the till: a query finds it paid, the reverse
/// returns the money, and the report says charged and refunded. A true decline is closed by one
/// query and never touched again.
#[test]
fn a_decline_that_hid_a_payment_is_closed_later_and_the_money_returned() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (r, v) = h.pay("5.00", &h.code("normal"));
    assert_eq!(
        (r.code, v["err_code"].as_str()),
        (1, Some("NOTENOUGH")),
        "{v}"
    );
    let hidden = v["out_trade_no"].as_str().unwrap().to_string();
    assert_eq!(h.order(&hidden).charged, 500, "WeChat took the money");
    // `recover` leaves a reverse before WeChat's floor (50 ms here) to its next run; a quiet
    // machine got there sooner and the test saw nothing recovered.
    std::thread::sleep(std::time::Duration::from_millis(80));

    let rec = h.run(&["recover", "--json"]);
    let j = rec.json();
    let list = j["recovered"].as_array().unwrap();
    assert_eq!(list.len(), 1, "only the sale whose state changed: {j}");
    assert_eq!(list[0]["out_trade_no"], hidden.as_str(), "{j}");
    assert_eq!(list[0]["status"], "reversed", "{j}");
    assert!(
        list[0]["message"].as_str().unwrap().contains("refunded"),
        "{j}"
    );
    let order = h.order(&hidden);
    assert_eq!((order.charged, order.refunded), (500, 500), "{order:?}");
    assert_eq!(h.sale(&hidden).state, SaleState::Reversed);

    // A true decline: `recover` closes it with one query.
    let (r, v) = h.pay("3.00", &h.code("notenough"));
    assert_eq!(r.code, 1, "{v}");
    let declined = v["out_trade_no"].as_str().unwrap().to_string();
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(
        rec.json()["recovered"],
        serde_json::json!([]),
        "{}",
        rec.stdout
    );
    let d = h.order(&declined);
    assert_eq!(
        d.requests.get("orderquery"),
        Some(&1),
        "one confirming query: {d:?}"
    );
    assert_eq!(
        d.requests.get("reverse"),
        None,
        "a verified PAYERROR needs no reverse"
    );
    assert_eq!(h.sale(&declined).state, SaleState::Failed);
    // Closed once: nothing more is sent for either.
    let before = (h.order(&hidden).requests, h.order(&declined).requests);
    let again = h.run(&["recover", "--json"]);
    assert_eq!(
        again.json()["recovered"],
        serde_json::json!([]),
        "{}",
        again.stdout
    );
    assert_eq!(
        (h.order(&hidden).requests, h.order(&declined).requests),
        before
    );
}

/// Row 65: WeChat's pages read both ways on how a paid order that was reversed is queried
/// afterwards: `REFUND`, or `REVOKED`. With `REVOKED`, a late payment the till had verified
/// (its query saw SUCCESS) and then reversed read "the customer was not charged": the customer
/// had been charged and refunded. Now a verified payment before the reverse makes it so.
#[test]
fn a_revoked_answer_after_reversing_a_verified_payment_says_charged_and_refunded() {
    let t = Timing {
        password_timeout: "1s",
        reverse_max_attempts: 2,
    };
    let h = Harness::with_sim(t, |s| s.behaviour.reversed_paid_revoked = true);
    let p = h.proxy(checkout_support::Opts {
        password_timeout: "1s",
        reverse_max_attempts: 2,
        ..checkout_support::Opts::default()
    });
    let no = paid_late(&h, &p, "7.70");
    let r = h.run(&["recover", "--json"]);
    let item = &r.json()["recovered"][0];
    assert_eq!(item["status"], "reversed", "{item}");
    let msg = item["message"].as_str().unwrap();
    assert!(msg.contains("refunded in full"), "{msg}");
    assert_eq!(h.order(&no).state, "REVOKED");
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (770, 770), "{order:?}");
}

/// Row 71 (fifth review D): a refund WeChat accepted (PROCESSING) stayed `processing` in the
/// journal for good once nobody waited for it (`--no-wait`, or a late payment returned by
/// refund). `recover` and the cashier screen's background pass now follow open refunds of the
/// last 7 days with one refundquery each.
#[test]
fn an_accepted_refund_is_followed_to_its_end_in_the_background() {
    let h = Harness::new();
    let no = paid_sale(&h, "9.00");
    let rf = h.run(&["refund", &no, "--amount", "4.00", "--no-wait", "--json"]);
    assert_eq!(rf.json()["status"], "processing", "{}", rf.stdout);
    let state = |h: &Harness| h.journal().refunds_of(&no).unwrap()[0].state;
    assert_eq!(state(&h), RefundState::Processing);
    // WeChat finishes it (the simulator's refund delay passes).
    h.sim.advance(std::time::Duration::from_secs(60));
    let r = h.run(&["recover", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(state(&h), RefundState::Success);
    // Nothing open any more: no further refundquery.
    let asked = h.requests("refundquery");
    h.run(&["recover", "--json"]);
    assert_eq!(h.requests("refundquery"), asked);
}

/// Row 74 (review of stop 20, F1): a signed decline that hid a payment, and nobody ran
/// `recover` within WeChat's 7-day reverse window (a POS that only runs `pay`, a till off over a
/// holiday). The closing of definite failures looked back 7 days only, so the customer's money
/// was never returned. It looks back a year (WeChat refunds orders up to a year old): the closing
/// query finds it paid, the reverse answers REVERSE_EXPIRE, and one refund returns it.
#[test]
fn a_decline_that_hid_a_payment_is_returned_even_past_the_reverse_window() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (r, v) = h.pay("10.00", &h.code("normal"));
    assert_eq!(
        (r.code, v["err_code"].as_str()),
        (1, Some("NOTENOUGH")),
        "{v}"
    );
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    assert_eq!(h.order(&no).charged, 1000, "WeChat took the money");
    // Eight days pass for WeChat and for the till (the journal row is aged by eight days).
    past_the_reverse_window(&h);
    let eight_days = 8 * 24 * 3600 * 1000_i64;
    let db = rusqlite::Connection::open(h.journal_path()).unwrap();
    db.execute(
        "UPDATE sales SET created_ms = created_ms - ?1, updated_ms = updated_ms - ?1
         WHERE out_trade_no = ?2",
        rusqlite::params![eight_days, no],
    )
    .unwrap();
    drop(db);
    let rec = h.run(&["recover", "--json"]);
    let j = rec.json();
    let list = j["recovered"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{j}");
    assert_eq!(list[0]["out_trade_no"], no.as_str(), "{j}");
    returned_by_one_refund(&h, &no, 1000);
}

/// Row 79 (second review of stop 20, F3): a signed refund refusal (NOTENOUGH) that WeChat did
/// not mean: the refund was made. paycode recorded it refused, a later "refund the rest" asked
/// for the whole sale again, and a cashier told "refused" might pay the customer in cash. A
/// refusal is now confirmed with one refundquery of its number before it is believed.
#[test]
fn a_refund_refusal_is_confirmed_before_it_is_believed() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    let (r, v) = h.pay("20.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Refund));
    let rf = h.run(&["refund", &no, "--amount", "8.00", "--json"]);
    let j = rf.json();
    assert_ne!(j["status"], "refused", "WeChat made it: {j}");
    assert!(
        matches!(j["status"].as_str(), Some("success" | "processing")),
        "{j}"
    );
    // The rest is the rest: 12.00, not the whole sale again.
    let rest = h.run(&["refund", &no, "--json"]);
    assert_eq!(rest.json()["refund_fee"], 1200, "{}", rest.stdout);
    let order = h.order(&no);
    assert_eq!(order.refunded + order.refund_pending, 2000, "{order:?}");
    assert_eq!(order.refunds.len(), 2, "{order:?}");
    // Nothing left: refused before sending.
    let none = h.run(&["refund", &no, "--amount", "1.00", "--json"]);
    assert_eq!(none.code, 3, "{}", none.stdout);

    // A true decline (the request not applied; refundquery: no such refund) is still refused.
    let (_, v) = h.pay("9.00", &h.code("normal"));
    let other = v["out_trade_no"].as_str().unwrap().to_string();
    h.sim.add_fault(Fault::Decline, 1, Some(Endpoint::Refund));
    let rf = h.run(&["refund", &other, "--json"]);
    let j = rf.json();
    assert_eq!((rf.code, j["status"].as_str()), (1, Some("refused")), "{j}");
    assert_eq!(h.order(&other).refunded + h.order(&other).refund_pending, 0);
    // Refused frees the amount: a new refund asks again for all 9.00.
    let again = h.run(&["refund", &other, "--json"]);
    assert_eq!(again.json()["refund_fee"], 900, "{}", again.stdout);
}

/// Row 80 (reviews 2 and 3 of stop 20, F): `refund X` for the rest while an earlier partial
/// refund has no verified answer (still `requested`). It sent only that one again under its
/// number, said "refunded" with exit 0, and nothing was done for the rest of the sale. Now the
/// open one is sent first (same number, never refunded twice), then the rest gets its own; when
/// the open one still has no answer, nothing new is started and the exit code (2) and message
/// name the rest.
#[test]
fn refund_of_the_rest_sends_an_unconfirmed_refund_first_then_refunds_the_rest() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let proxy = h.proxy(checkout_support::Opts::default());
    proxy.tamper("/secapi/pay/refund", Tamper::Unreached(502), 10_000);
    h.run(&["refund", &no, "--amount", "3.00", "--no-wait", "--json"]);
    let r1 = format!("{no}R1");
    let states = |h: &Harness| {
        let mut rs = h.journal().refunds_of(&no).unwrap();
        rs.sort_by(|a, b| a.out_refund_no.cmp(&b.out_refund_no));
        rs.into_iter()
            .map(|r| (r.out_refund_no, r.refund_fee.0, r.state))
            .collect::<Vec<_>>()
    };
    assert_eq!(states(&h), vec![(r1.clone(), 300, RefundState::Requested)]);

    // Still unreachable: the open one is tried again, the rest is not started, and both the
    // exit code and the message say so.
    let stuck = h.run(&["refund", &no, "--no-wait", "--json"]);
    let j = stuck.json();
    assert_eq!(
        (stuck.code, j["status"].as_str()),
        (2, Some("requested")),
        "{j}"
    );
    let msg = j["message"].as_str().unwrap();
    assert!(
        msg.contains(&r1) && msg.contains("7.00"),
        "names the rest: {msg}"
    );
    assert!(j["message_zh"].as_str().unwrap().contains("7.00"), "{j}");
    assert_eq!(j["rest_fee"], 700, "{j}");
    assert_eq!(states(&h).len(), 1, "no new number while R1 is open");

    // WeChat reachable: R1 goes under its own number, then the 7.00 left under R2.
    proxy.clear();
    let rest = h.run(&["refund", &no, "--json"]);
    let j = rest.json();
    assert_eq!(
        (rest.code, j["status"].as_str()),
        (0, Some("success")),
        "{j}"
    );
    assert_eq!(j["refund_fee"], 700, "{j}");
    assert_eq!(j["resent"][0]["out_refund_no"], r1.as_str(), "{j}");
    assert_eq!(j["resent"][0]["status"], "success", "{j}");
    assert!(rest.stdout.contains("R2"), "{}", rest.stdout);
    let order = h.order(&no);
    assert_eq!(
        (order.refunded, order.refunds.len()),
        (1000, 2),
        "{order:?}"
    );
    assert_eq!(
        states(&h),
        vec![
            (r1, 300, RefundState::Success),
            (format!("{no}R2"), 700, RefundState::Success)
        ]
    );
    // Nothing left: refused before sending.
    let none = h.run(&["refund", &no, "--json"]);
    assert_eq!(none.code, 3, "{}", none.stdout);
}

/// Row 83: a refund WeChat made whose every answer was lost (HTTP 502 after WeChat applied it)
/// stayed `requested` in the journal: history counted nothing back, and the manager, told "not
/// confirmed", might pay the customer in cash. `recover` (and the cashier screen's background
/// pass) now asks WeChat about each unconfirmed refund of the last 7 days — one refundquery,
/// never a resend (the manager decides that) — and records what WeChat verified.
#[test]
fn an_unconfirmed_refund_wechat_made_is_found_in_the_background_and_never_resent() {
    let h = Harness::new();
    let no = paid_sale(&h, "9.00");
    let p = h.proxy(checkout_support::Opts::default());
    p.tamper("/secapi/pay/refund", Tamper::Status(502), 10_000);
    // The sale's refunds and the number are asked about before R1 is sent (rows 213, 218): those pass.
    p.tamper("/pay/refundquery", Tamper::Pass, 2);
    p.tamper("/pay/refundquery", Tamper::Status(502), 10_000);
    let rf = h.run(&["refund", &no, "--amount", "4.00", "--no-wait", "--json"]);
    assert_eq!(rf.json()["status"], "requested", "{}", rf.stdout);
    let state = |h: &Harness| h.journal().refunds_of(&no).unwrap()[0].state;
    assert_eq!(state(&h), RefundState::Requested);
    assert_eq!(h.order(&no).refunds.len(), 1, "WeChat made it");
    p.clear();
    let sent = h.requests("refund");
    h.run(&["recover", "--json"]);
    assert_ne!(state(&h), RefundState::Requested, "found and recorded");
    assert_eq!(h.requests("refund"), sent, "asked about, never sent again");
    let hist = h.run(&["history", "--json"]);
    assert_eq!(hist.json()["refunded_total"], 400, "{}", hist.stdout);

    // One that never reached WeChat stays requested, and is only asked about.
    let other = paid_sale(&h, "5.00");
    p.tamper("/secapi/pay/refund", Tamper::Unreached(502), 10_000);
    h.run(&["refund", &other, "--amount", "1.00", "--no-wait", "--json"]);
    p.clear();
    let sent = h.requests("refund");
    h.run(&["recover", "--json"]);
    let r = h.journal().refunds_of(&other).unwrap();
    assert_eq!(r[0].state, RefundState::Requested);
    assert_eq!(h.requests("refund"), sent);
    assert_eq!(h.order(&other).refunds.len(), 0);
}

/// Row 125 (review of stop 23, F5): a signed decline that hid a payment, and the customer, told
/// "ask for another card", pays again at once with a fresh code — a plain `pay`, no `--ref`.
/// The second charge went out while WeChat still held the first: the customer was charged twice
/// until someone ran `recover`. Before a new charge the recent definite failures are closed
/// now: the hidden payment is found and returned first, and the new sale says so.
#[test]
fn paying_again_after_a_decline_that_hid_a_payment_charges_once() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (r, v) = h.pay("5.00", &h.code("normal"));
    assert_eq!(
        (r.code, v["err_code"].as_str()),
        (1, Some("NOTENOUGH")),
        "{v}"
    );
    let hidden = v["out_trade_no"].as_str().unwrap().to_string();
    assert_eq!(h.order(&hidden).charged, 500, "WeChat took the money");

    let (r, v) = h.pay("5.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_ne!(v["out_trade_no"], hidden.as_str());
    assert_eq!(v["closed"][0]["out_trade_no"], hidden.as_str(), "{v}");
    assert_eq!(v["closed"][0]["status"], "reversed", "{v}");
    let l = h.ledger();
    assert_eq!(
        (l.totals.charged, l.totals.refunded, l.totals.net),
        (1000, 500, 500),
        "one net charge when the second sale was paid: {l:?}"
    );
    assert_eq!(h.sale(&hidden).state, SaleState::Reversed);
    h.assert_invariants(&[&v]);
}

/// Row 125, its failure paths. The closing query of the recent decline gets no answer: the
/// new sale goes ahead (a flaky network does not stop the till) and `recover` returns the
/// hidden payment. The closing finds it paid but the reverse gets no answer: the new charge is
/// refused (exit 3, naming the sale and what to do), nothing is sent for it; the sale is on
/// the pending list and `recover` returns it.
#[test]
fn a_new_charge_waits_while_a_recent_decline_is_charged_and_not_returned() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (_, v) = h.pay("6.00", &h.code("normal"));
    let first = v["out_trade_no"].as_str().unwrap().to_string();
    h.sim
        .add_fault(Fault::Http500, 1, Some(Endpoint::OrderQuery));
    let (r, v) = h.pay("1.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(v["closed"], serde_json::json!([]), "{v}");
    // Row 164 (review of stop 25, F2): the cashier and the POS are told which decline could
    // not be checked, and what to do.
    assert_eq!(v["unchecked"], serde_json::json!([first.as_str()]), "{v}");
    assert!(
        r.stderr.contains(&first) && r.stderr.contains("paycode recover"),
        "{}",
        r.stderr
    );
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(rec.json()["recovered"][0]["out_trade_no"], first.as_str());
    assert_eq!(h.ledger().totals.net, 100, "the hidden payment returned");

    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (_, v) = h.pay("6.00", &h.code("normal"));
    let second = v["out_trade_no"].as_str().unwrap().to_string();
    h.sim.add_fault(Fault::Http500, 50, Some(Endpoint::Reverse));
    let (r, v) = h.pay("6.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (3, Some("rejected")), "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains(&second) && msg.contains("paycode query") && msg.contains("paid once"),
        "{msg}"
    );
    assert!(v["message_zh"].as_str().unwrap().contains(&second), "{v}");
    assert_eq!(h.ledger().orders.len(), 3, "no new micropay");
    assert_eq!(h.sale(&second).state, SaleState::Unresolved);

    h.sim.clear_faults();
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(
        rec.json()["recovered"][0]["status"],
        "reversed",
        "{}",
        rec.stdout
    );
    let (r, v) = h.pay("6.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    let l = h.ledger();
    assert_eq!((l.totals.charged, l.totals.net), (1900, 700), "{l:?}");
}

/// Row 125: a true decline is closed by the next sale's one query and never asked about again;
/// a decline older than the window is left to the closing rounds (no query before the sale).
#[test]
fn a_true_decline_costs_the_next_sale_one_query() {
    let h = Harness::new();
    let (r, v) = h.pay("3.00", &h.code("notenough"));
    assert_eq!(r.code, 1, "{v}");
    let declined = v["out_trade_no"].as_str().unwrap().to_string();
    let (r, v) = h.pay("3.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(v["closed"], serde_json::json!([]), "not changed: {v}");
    assert_eq!(h.order(&declined).requests.get("orderquery"), Some(&1));
    let (r, _) = h.pay("4.00", &h.code("normal"));
    assert_eq!(r.code, 0);
    assert_eq!(
        h.order(&declined).requests.get("orderquery"),
        Some(&1),
        "closed once"
    );
    // An older decline (eleven minutes in the journal) is not asked about before a sale.
    let (_, v) = h.pay("2.00", &h.code("notenough"));
    let old = v["out_trade_no"].as_str().unwrap().to_string();
    let db = rusqlite::Connection::open(h.journal_path()).unwrap();
    db.execute(
        "UPDATE sales SET created_ms = created_ms - 660000 WHERE out_trade_no = ?1",
        rusqlite::params![old],
    )
    .unwrap();
    drop(db);
    let (r, _) = h.pay("2.50", &h.code("normal"));
    assert_eq!(r.code, 0);
    assert_eq!(h.order(&old).requests.get("orderquery"), None);
}

/// Row 146 (review of stop 25, F1): a signed decline that hid an order still waiting for the
/// customer's password — the phone shows the password box while the cashier is told "not
/// charged". The closing query finds it USERPAYING, which proves nothing about whose order it
/// is, so it is never reversed; the next charge went out at once, and the customer who then
/// typed the password on the first one was charged twice. Now the new charge is refused
/// (exit 3, nothing sent) naming the open sale and what to do; once the customer cancels it on
/// the phone (or WeChat closes it) the next scan charges once.
#[test]
fn a_decline_still_waiting_for_the_password_holds_the_next_charge() {
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (r, v) = h.pay("6.00", &h.code("password_never"));
    assert_eq!(r.code, 1, "told not charged: {v}");
    let open = v["out_trade_no"].as_str().unwrap().to_string();
    assert_eq!(
        h.order(&open).state,
        "USERPAYING",
        "the phone asks for the password"
    );

    let (r, v) = h.pay("6.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (3, Some("rejected")), "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains(&open) && msg.contains("password"), "{msg}");
    assert!(v["message_zh"].as_str().unwrap().contains("密码"), "{v}");
    assert_eq!(
        h.ledger().orders.len(),
        1,
        "nothing sent for the new charge"
    );

    // The customer cancels the first on the phone: the next scan is charged once.
    h.sim.cancel(&open).unwrap();
    let (r, v) = h.pay("6.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    let l = h.ledger();
    assert_eq!((l.totals.charged, l.totals.net), (600, 600), "{l:?}");

    // The same, and the customer types the password on the first after all: the next charge
    // finds it paid, returns it first, and goes on.
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (_, v) = h.pay("7.00", &h.code("password_never"));
    let paid_late = v["out_trade_no"].as_str().unwrap().to_string();
    h.sim.confirm(&paid_late).unwrap();
    let (r, v) = h.pay("7.00", &h.code("normal"));
    assert_eq!((r.code, v["status"].as_str()), (0, Some("paid")), "{v}");
    assert_eq!(v["closed"][0]["out_trade_no"], paid_late.as_str(), "{v}");
    let l = h.ledger();
    assert_eq!(l.totals.net, 1300, "one net charge per purchase: {l:?}");
}

/// Row 199: the journal restored from last night's backup, then a refund of a sale that was
/// refunded ¥2 since (R1). The restored journal numbers the new ¥3 refund R1 again; WeChat
/// keeps one refund per number ("订单金额或退款金额与之前请求不一致"), and refundquery names
/// R1 with its ¥2. Before: that ¥2 success was recorded as the ¥3 refund's, "refunded" was
/// shown, and the customer never got the ¥3. Now R1 is refused as taken (nothing of the ¥3 was
/// made, the cashier is told why and to refund again), and the next refund gets R2.
#[test]
fn a_restored_till_never_takes_another_refund_under_its_reused_number_for_its_own() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let backup = h.dir.path().join("last-night.db");
    let b = h.run(&["backup", backup.to_str().unwrap()]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let first = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    assert_eq!(first.json()["status"], "success", "{}", first.stdout);
    let r1 = format!("{no}R1");
    assert_eq!(first.json()["out_refund_no"], r1.as_str());

    // The disk is replaced and last night's backup put back.
    restore(&h, &backup);
    assert!(h.journal().refunds_of(&no).unwrap().is_empty());

    // WeChat's list of the sale's refunds and the number itself, asked before numbering (rows
    // 213, 218), do not show R1 yet (a lagging WeChat): the guard behind them still holds.
    let p = h.proxy(checkout_support::Opts::default());
    p.tamper(
        "/pay/refundquery",
        Tamper::Resign(checkout_support::proxy::refund_not_exist),
        2,
    );
    let again = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    let j = again.json();
    assert_eq!(j["out_refund_no"], r1.as_str(), "{j}");
    assert_eq!(
        (again.code, j["status"].as_str(), j["err_code"].as_str()),
        (1, Some("refused"), Some("NUMBER_TAKEN")),
        "never another refund's success: {j}"
    );
    let en = j["message"].as_str().unwrap();
    assert!(
        en.contains(&r1) && en.contains("backup") && en.contains("refund it again"),
        "{en}"
    );
    let zh = j["message_zh"].as_str().unwrap();
    assert!(zh.contains(&r1) && zh.contains("备份"), "{zh}");
    let order = h.order(&no);
    assert_eq!(order.refunded, 200, "WeChat holds the ¥2 alone: {order:?}");
    let mine = h.journal().refunds_of(&no).unwrap();
    assert_eq!(mine[0].state, RefundState::Refused, "{mine:?}");

    // The ¥3 again: a number WeChat does not hold, and WeChat makes it.
    let third = h.run(&["refund", &no, "--amount", "3.00"]);
    assert_eq!(third.code, 0, "{}{}", third.stdout, third.stderr);
    assert!(
        third
            .stdout
            .contains(&format!("refund {no}R2 ¥3.00: refunded")),
        "{}",
        third.stdout
    );
    assert_eq!(h.order(&no).refunded, 500);
}

/// Row 200: "refund the rest" from a journal that does not know ¥4.00 of the sale was refunded
/// (restored from a backup here; a refund made in the merchant platform is the same). WeChat
/// refuses more than is left with a signed INVALID_REQUEST and refundquery finds no refund
/// under the number. Before: the refund stayed "not confirmed" for ever — each run sent it
/// again to the same refusal, and a new refund of the ¥6.00 really left was refused while it
/// was open. Now it is refused (nothing made), and the ¥6.00 goes.
#[test]
fn refunding_more_than_wechat_has_left_is_refused_not_left_open_for_ever() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let backup = h.dir.path().join("last-night.db");
    assert_eq!(h.run(&["backup", backup.to_str().unwrap()]).code, 0);
    let first = h.run(&["refund", &no, "--amount", "4.00", "--json"]);
    assert_eq!(first.json()["status"], "success", "{}", first.stdout);
    restore(&h, &backup);

    // R1 is WeChat's ¥4.00 refund: taken. R2 asks the whole ¥10.00: more than is left. (The
    // list of the sale's refunds asked before each number, row 213, lags: it shows none.)
    let p = h.proxy(checkout_support::Opts::default());
    p.tamper(
        "/pay/refundquery",
        Tamper::Resign(checkout_support::proxy::refund_not_exist),
        2,
    );
    let taken = h.run(&["refund", &no, "--json"]);
    assert_eq!(taken.json()["err_code"], "NUMBER_TAKEN", "{}", taken.stdout);
    p.tamper(
        "/pay/refundquery",
        Tamper::Resign(checkout_support::proxy::refund_not_exist),
        2,
    );
    let over = h.run(&["refund", &no, "--json"]);
    let j = over.json();
    assert_eq!(j["out_refund_no"], format!("{no}R2").as_str(), "{j}");
    assert_eq!(
        (over.code, j["status"].as_str(), j["err_code"].as_str()),
        (1, Some("refused"), Some("INVALID_REQUEST")),
        "{j}"
    );
    let en = j["message"].as_str().unwrap();
    assert!(
        en.contains("more than WeChat has left") && en.contains("merchant platform"),
        "says why and what to do: {en}"
    );
    assert!(
        j["message_zh"].as_str().unwrap().contains("商户平台"),
        "{j}"
    );
    assert_eq!(h.order(&no).refunded, 400);

    let rest = h.run(&["refund", &no, "--amount", "6.00", "--json"]);
    let r = rest.json();
    assert_eq!(
        (r["status"].as_str(), r["out_refund_no"].as_str()),
        (Some("success"), Some(format!("{no}R3").as_str())),
        "{r}"
    );
    assert_eq!(h.order(&no).refunded, 1000);
}

/// Put `backup` back over the harness's journal, as a restore does.
fn restore(h: &Harness, backup: &std::path::Path) {
    let journal = h.journal_path();
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", journal.display()));
    }
    std::fs::copy(backup, &journal).unwrap();
}

/// Row 209 (review of the refunds, F9): "accepted, still processing (check again later with
/// `paycode refund`)" — and `paycode refund ORDER`, as told, refunded all the rest: ¥10.00
/// going back for a ¥3.00 refund. The advice names a command that only checks.
#[test]
fn the_advice_for_a_processing_refund_only_checks_it() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let r = h.run(&["refund", &no, "--amount", "3.00", "--no-wait", "--json"]);
    let j = r.json();
    assert_eq!(j["status"], "processing", "{j}");
    let (en, zh) = (
        j["message"].as_str().unwrap(),
        j["message_zh"].as_str().unwrap(),
    );
    assert!(
        en.contains("paycode recover") && !en.contains("`paycode refund`"),
        "{en}"
    );
    assert!(
        zh.contains("paycode recover") && !zh.contains("`paycode refund`"),
        "{zh}"
    );
    // Following it checks, and refunds nothing more.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(rec.code, 0, "{}", rec.stdout);
    let order = h.order(&no);
    assert_eq!((order.refunds.len(), order.refunded), (1, 300), "{order:?}");
}

/// Row 210 (review of the refunds, F4): a journal restored from a backup taken before the sale
/// was reversed; a refund of it is answered TRADE_STATE_ERROR, refundquery finds none. It stayed
/// "not confirmed — run the same refund again" for ever (60 s of queries per run) and blocked
/// every other refund. Now it is refused, and says why.
#[test]
fn a_refund_of_an_order_wechat_already_reversed_is_refused_not_left_open() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let backup = h.dir.path().join("night.db");
    assert_eq!(h.run(&["backup", backup.to_str().unwrap()]).code, 0);
    let rv = h.run(&["reverse", &no, "--json"]);
    assert_eq!(rv.json()["status"], "reversed", "{}", rv.stdout);
    restore(&h, &backup);
    let r = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    let j = r.json();
    assert_eq!(
        (r.code, j["status"].as_str(), j["err_code"].as_str()),
        (1, Some("refused"), Some("TRADE_STATE_ERROR")),
        "{j}"
    );
    let en = j["message"].as_str().unwrap();
    assert!(
        en.contains("cannot be refunded") && en.contains("merchant platform"),
        "{en}"
    );
    assert!(
        !en.contains("paycode query"),
        "query answers PAID for it: {en}"
    );
    assert!(
        j["message_zh"].as_str().unwrap().contains("商户平台"),
        "{j}"
    );
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (1000, 1000), "{order:?}");
}

/// Row 211 (review of the refunds, F7): WeChat takes at most 50 refunds of one order; the 51st
/// was sent, answered INVALID_REQ_TOO_MUCH and left "not confirmed" for ever. Now it is refused
/// before anything is written or sent, saying so.
#[test]
fn the_fifty_first_refund_of_a_sale_is_refused_before_it_is_sent() {
    let h = Harness::new();
    let no = paid_sale(&h, "20.00");
    for i in 1..=50 {
        let r = h.run(&[
            "refund",
            &no,
            "--amount",
            &format!("0.{i:02}"),
            "--no-wait",
            "--json",
        ]);
        assert_ne!(r.json()["status"], "refused", "{}", r.stdout);
    }
    let sent = h.requests("refund");
    let r = h.run(&["refund", &no, "--amount", "1.00", "--json"]);
    let j = r.json();
    assert_eq!((r.code, j["status"].as_str()), (3, Some("rejected")), "{j}");
    assert!(j["message"].as_str().unwrap().contains("50"), "{j}");
    assert!(j["message_zh"].as_str().unwrap().contains("50"), "{j}");
    assert_eq!(h.requests("refund"), sent, "nothing sent");
    assert_eq!(
        h.journal().refunds_of(&no).unwrap().len(),
        50,
        "nothing written"
    );
}

/// Row 212 (review of the refunds, F5): a refund of an unresolved sale WeChat charged said "not
/// paid: there is nothing to refund" (zh: the payment failed), naming no way to settle it.
#[test]
fn a_refund_of_an_unresolved_sale_says_how_to_settle_it() {
    let (h, p) = reverse_blocked();
    p.tamper("/secapi/pay/reverse", Tamper::Unreached(502), 10_000);
    let (r, v) = h.pay("6.00", &h.code("password_never"));
    assert_eq!(r.code, 2, "{v}");
    p.clear();
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let rf = h.run(&["refund", &no, "--json"]);
    let j = rf.json();
    assert_eq!(rf.code, 3, "{j}");
    let en = j["message"].as_str().unwrap();
    assert!(
        en.contains("unresolved")
            && en.contains("paycode query")
            && !en.contains("nothing to refund"),
        "{en}"
    );
    let zh = j["message_zh"].as_str().unwrap();
    assert!(
        zh.contains("结果未明") && zh.contains("paycode query"),
        "{zh}"
    );
    assert_eq!(h.requests("refund"), 0);
}

/// Row 213 (review of the refunds, F1, F8): the journal restored from before a ¥3.00 refund
/// (R1). A refund of the same ¥3.00 was numbered R1 again, WeChat answered it as the documented
/// retry of its R1, and "refunded" was shown for a refund never made (and `reconcile` agreed);
/// "refund the rest" could never succeed (the journal's ¥10.00 is more than WeChat's ¥7.00).
/// Now a new number is given only after WeChat's refunds of the sale are known: the lost R1 is
/// recorded and named, nothing is sent that time, and the next run is R2 of what is left.
#[test]
fn a_restored_till_learns_the_refunds_wechat_holds_before_numbering_one() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let backup = h.dir.path().join("night.db");
    assert_eq!(h.run(&["backup", backup.to_str().unwrap()]).code, 0);
    let first = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    assert_eq!(first.json()["status"], "success", "{}", first.stdout);
    restore(&h, &backup);

    let sent = h.requests("refund");
    let again = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    let j = again.json();
    assert_eq!(
        (again.code, j["status"].as_str()),
        (3, Some("rejected")),
        "{j}"
    );
    let en = j["message"].as_str().unwrap();
    assert!(
        en.contains(&format!("{no}R1")) && en.contains("3.00") && en.contains("7.00 is left"),
        "names what WeChat holds and what is left: {en}"
    );
    assert!(j["message_zh"].as_str().unwrap().contains("7.00"), "{j}");
    assert_eq!(h.requests("refund"), sent, "nothing sent");
    let known = h.journal().refunds_of(&no).unwrap();
    assert_eq!(
        (known.len(), known[0].state, known[0].refund_fee.0),
        (1, RefundState::Success, 300),
        "R1 recorded: {known:?}"
    );
    let order = h.order(&no);
    assert_eq!(order.refunded, 300, "{order:?}");

    // Run again (the customer is owed a second ¥3.00): R2. Then the rest: ¥4.00.
    let two = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    assert_eq!(
        (
            two.json()["status"].as_str(),
            two.json()["out_refund_no"].as_str()
        ),
        (Some("success"), Some(format!("{no}R2").as_str())),
        "{}",
        two.stdout
    );
    let rest = h.run(&["refund", &no, "--json"]);
    assert_eq!(
        (
            rest.json()["status"].as_str(),
            rest.json()["refund_fee"].as_u64()
        ),
        (Some("success"), Some(400)),
        "{}",
        rest.stdout
    );
    assert_eq!(h.order(&no).refunded, 1000);
}

/// Row 215 (review of the refunds, F3): the same amount asked again while its refund is open
/// is that refund (never a second one), but the answer read exactly like a new refund's; a
/// manager refunding two ¥3.00 items believed both went back.
#[test]
fn the_same_amount_asked_while_its_refund_is_open_says_it_is_that_refund() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let first = h.run(&["refund", &no, "--amount", "3.00", "--no-wait", "--json"]);
    assert_eq!(first.json()["status"], "processing", "{}", first.stdout);
    let again = h.run(&["refund", &no, "--amount", "3.00", "--no-wait"]);
    let text = &again.stdout;
    assert!(
        text.contains(&format!("{no}R1"))
            && text.contains("not a new one")
            && text.contains("不是新的退款"),
        "{text}"
    );
    assert_eq!(h.order(&no).refunds.len(), 1);
}

/// Row 218 (third review of the refunds, F5): WeChat lists an order's refunds 10 at a time; a
/// list that does not show the refund the restored journal lost (page 2, or lagging) let its
/// number be given again, and the same amount was answered as WeChat's old refund: "refunded",
/// nothing made. The number itself is asked about before it is used.
#[test]
fn the_number_itself_is_asked_about_before_it_is_used() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let backup = h.dir.path().join("night.db");
    assert_eq!(h.run(&["backup", backup.to_str().unwrap()]).code, 0);
    let first = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    assert_eq!(first.json()["status"], "success", "{}", first.stdout);
    restore(&h, &backup);
    let p = h.proxy(checkout_support::Opts::default());
    p.tamper(
        "/pay/refundquery",
        Tamper::Resign(checkout_support::proxy::refund_not_exist),
        1,
    );
    let sent = h.requests("refund");
    let again = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    let j = again.json();
    assert_eq!(
        (again.code, j["status"].as_str()),
        (3, Some("rejected")),
        "{j}"
    );
    let en = j["message"].as_str().unwrap();
    assert!(
        en.contains(&format!("{no}R1")) && en.contains("7.00 is left"),
        "{en}"
    );
    assert_eq!(h.requests("refund"), sent, "nothing sent");
    let two = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    assert_eq!(
        two.json()["out_refund_no"],
        format!("{no}R2").as_str(),
        "{}",
        two.stdout
    );
    assert_eq!(h.order(&no).refunded, 600);
}

/// Row 219: WeChat lists an order's refunds 10 at a time (refundquery by order: the first 10 and
/// `total_refund_count`, more by `offset`), and now so does the simulator. A journal restored
/// from after 10 refunds of a sale that had 12 learns both lost ones from the second page.
#[test]
fn the_refunds_wechat_lists_on_a_second_page_are_learnt_too() {
    let h = Harness::new();
    let no = paid_sale(&h, "20.00");
    let backup = h.dir.path().join("night.db");
    for i in 1..=12 {
        if i == 11 {
            assert_eq!(h.run(&["backup", backup.to_str().unwrap()]).code, 0);
        }
        let r = h.run(&[
            "refund",
            &no,
            "--amount",
            &format!("0.{i:02}"),
            "--no-wait",
            "--json",
        ]);
        assert_eq!(
            r.json()["out_refund_no"],
            format!("{no}R{i}").as_str(),
            "{}",
            r.stdout
        );
    }
    restore(&h, &backup);
    let rest = h.run(&["refund", &no, "--json"]);
    let j = rest.json();
    assert_eq!(
        (rest.code, j["status"].as_str()),
        (3, Some("rejected")),
        "{j}"
    );
    let en = j["message"].as_str().unwrap();
    assert!(
        en.contains(&format!("{no}R11 ¥0.11")) && en.contains(&format!("{no}R12 ¥0.12")),
        "both lost refunds named: {en}"
    );
    assert_eq!(h.journal().refunds_of(&no).unwrap().len(), 12);
}

/// Row 220 (third review of the refunds, F10): a manager's `paycode refund --amount 3.00` took
/// a POS's unconfirmed ¥3.00 refund (numbered from the POS's refund_ref) as its own: both were
/// shown refunded, WeChat made one. A manager's refund is never a POS's.
#[test]
fn a_managers_refund_never_takes_a_pos_refund_as_its_own() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    // The POS's refund, committed and not yet answered.
    let pos_no = format!("{no}R100000000000000001");
    h.journal()
        .insert_refund_of(
            &no,
            &paycode::journal::NewRefund {
                out_refund_no: &pos_no,
                refund_fee: paycode::money::Fen(300),
                reason: "",
                authorised: paycode::journal::Authority::PinOverApi,
                pos_refund_ref: Some("RF-M1"),
            },
            1,
        )
        .unwrap();
    let r = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    let j = r.json();
    assert_eq!(j["status"], "success", "{j}");
    assert_ne!(j["out_refund_no"], pos_no.as_str(), "its own refund: {j}");
    assert_eq!(h.order(&no).refunds.len(), 1, "the manager's, sent once");
}

/// Row 221: no verified answer about the sale's refunds (refundquery unreachable): nothing is
/// numbered, written or sent, and the cashier is told to try again; then it goes.
#[test]
fn a_refund_is_not_numbered_while_wechat_cannot_say_what_the_sale_holds() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let p = h.proxy(checkout_support::Opts::default());
    p.tamper("/pay/refundquery", Tamper::Status(502), 1);
    let r = h.run(&["refund", &no, "--amount", "1.00", "--json"]);
    let j = r.json();
    assert_eq!((r.code, j["status"].as_str()), (3, Some("rejected")), "{j}");
    assert!(j["message"].as_str().unwrap().contains("try again"), "{j}");
    assert!(
        j["message_zh"].as_str().unwrap().contains("请稍后再试"),
        "{j}"
    );
    assert_eq!(h.requests("refund"), 0, "nothing sent");
    assert!(
        h.journal().refunds_of(&no).unwrap().is_empty(),
        "nothing written"
    );
    let again = h.run(&["refund", &no, "--amount", "1.00", "--json"]);
    assert_eq!(again.json()["status"], "success", "{}", again.stdout);
}

/// Row 222 (third review of the refunds, F8): a refund made in the merchant platform (a number
/// not this till's) holds part of the sale; "refund the rest" was refused every time ("cannot
/// refund ¥9.00 … ¥5.00 is left"). The rest is what WeChat has left.
#[test]
fn the_rest_is_what_wechat_has_left_after_a_merchant_platform_refund() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let one = h.run(&["refund", &no, "--amount", "1.00", "--json"]);
    assert_eq!(one.json()["status"], "success", "{}", one.stdout);
    let p = h.proxy(checkout_support::Opts::default());
    p.tamper(
        "/pay/refundquery",
        Tamper::Resign(checkout_support::proxy::plus_platform_refund),
        1,
    );
    let rest = h.run(&["refund", &no, "--json"]);
    let j = rest.json();
    assert_eq!(
        (j["status"].as_str(), j["refund_fee"].as_u64()),
        (Some("success"), Some(500)),
        "{j}"
    );
}

/// Row 224 (review 5, F4): a journal copied to a till with another device_info refunded the
/// other till's sale without a word (and its reconcile then showed it unpaid for ever). A till
/// refunds only its own sales, naming the one a sale belongs to.
#[test]
fn a_till_never_refunds_another_tills_sale() {
    let h = Harness::new();
    let theirs = "till-920261204101010123";
    let mut j = h.journal();
    j.insert_intent(
        &paycode::journal::NewSale {
            out_trade_no: theirs.into(),
            total_fee: paycode::money::Fen(1000),
            code_fp: "fp".into(),
            code_masked: "13**************01".into(),
            device_info: "till-9".into(),
            attach: None,
            pos_ref: None,
        },
        1,
    )
    .unwrap();
    j.transition(
        theirs,
        SaleState::Paid,
        &paycode::journal::Transition {
            transaction_id: Some("4200000000000000000000000001".into()),
            ..paycode::journal::Transition::default()
        },
        2,
    )
    .unwrap();
    drop(j);
    let r = h.run(&["refund", theirs, "--amount", "1.00", "--json"]);
    let v = r.json();
    assert_eq!((r.code, v["status"].as_str()), (3, Some("rejected")), "{v}");
    let en = v["message"].as_str().unwrap();
    assert!(en.contains("till-9") && en.contains("on that till"), "{en}");
    assert!(v["message_zh"].as_str().unwrap().contains("till-9"), "{v}");
    assert_eq!(
        h.requests("refund") + h.requests("refundquery"),
        0,
        "nothing sent"
    );
}

/// Row 225 (review 5, F10): a POS's refund without a verified answer held back a manager's
/// refund of another amount, saying "send it again first with `paycode refund … --amount 3.00`";
/// done as told, that was a new refund beside the POS's (which the POS then sent again): ¥6.00
/// back for ¥3.00. The advice for a POS's refund is that the POS sends it again.
#[test]
fn the_advice_for_an_open_pos_refund_never_makes_a_second_one() {
    let h = Harness::new();
    let no = paid_sale(&h, "10.00");
    let pos_no = format!("{no}R100000000000000001");
    h.journal()
        .insert_refund_of(
            &no,
            &paycode::journal::NewRefund {
                out_refund_no: &pos_no,
                refund_fee: paycode::money::Fen(300),
                reason: "",
                authorised: paycode::journal::Authority::PinOverApi,
                pos_refund_ref: Some("RF-P1"),
            },
            1,
        )
        .unwrap();
    let r = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    let j = r.json();
    assert_eq!((r.code, j["status"].as_str()), (3, Some("rejected")), "{j}");
    let en = j["message"].as_str().unwrap();
    assert!(en.contains("POS") && en.contains("refund_ref"), "{en}");
    assert!(!en.contains("--amount 3.00"), "{en}");
    assert!(
        j["message_zh"].as_str().unwrap().contains("refund_ref"),
        "{j}"
    );
    assert_eq!(h.requests("refund"), 0, "nothing sent");
}
