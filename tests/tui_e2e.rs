//! The real binary in tmux against the simulator on a loopback port: type an amount, scan as a
//! fast key burst, see PAID; a password sale shows the countdown and ends PAID when the customer
//! confirms; Esc during the wait (confirmed) ends REVERSED; afterwards the journal and the
//! simulator ledger agree. Skipped, with the reason printed, when tmux is not installed.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time
#![allow(clippy::unwrap_used)]

mod checkout_support;
mod tmux_support;

use checkout_support::{Harness, Timing};
use paycode::journal::SaleState;
use std::time::{Duration, Instant};
use tmux_support::Tmux;

#[test]
fn cashier_flow_in_tmux_against_the_simulator() {
    if !tmux_support::available() {
        eprintln!("SKIPPED: tmux is not installed; the TUI end-to-end test needs it");
        return;
    }
    let h = Harness::with(Timing {
        password_timeout: "20s",
        reverse_max_attempts: 5,
    });
    let exit_file = h.dir.path().join("exit.txt");
    let after = format!("; echo $? > '{}'", exit_file.display());
    let t = Tmux::start(&h, "e2e", 100, 30, &after);
    t.wait_for("No unfinished sales");

    // 1. Amount by hand, code as a burst: PAID.
    t.type_slowly(&["1", "2", ".", "5"]);
    // Keys reach the app in order, so the scan below lands after the amount.
    t.scan(&h.code("normal"));
    let s = t.wait_for("PAID");
    assert!(s.contains("Hand over the goods"), "{s}");
    let j = h.journal();
    let sales = j.sales_between(0, i64::MAX).unwrap();
    assert_eq!(sales.len(), 1);
    assert_eq!(
        (sales[0].state, sales[0].total_fee.0),
        (SaleState::Paid, 1250)
    );
    h.assert_ledger_agrees();

    // 2. A customer who never confirms: countdown, Esc, confirm → REVERSED.
    t.type_slowly(&["Enter", "8"]);
    t.scan(&h.code("password_never"));
    t.wait_for("Waiting for the customer to enter the password");
    t.wait_for("Reverse in");
    t.type_slowly(&["Escape"]);
    t.wait_for("Cancel this sale?");
    t.type_slowly(&["Enter"]);
    let s = t.wait_for("REVERSED");
    assert!(s.contains("The customer was not charged"), "{s}");

    // 3. A customer who confirms the password: PAID.
    t.type_slowly(&["Enter", "3"]);
    t.scan(&h.code("password_confirms"));
    t.wait_for("PAID");

    let sales = h.journal().sales_between(0, i64::MAX).unwrap();
    let states: Vec<_> = sales.iter().map(|s| (s.state, s.total_fee.0)).collect();
    assert_eq!(
        states,
        vec![
            (SaleState::Paid, 1250),
            (SaleState::Reversed, 800),
            (SaleState::Paid, 300)
        ]
    );
    h.assert_ledger_agrees();
    assert_eq!(h.ledger().totals.charged, 1550);

    // F10 asks to hand over; Enter records the shift, then quits with status 0 and the
    // terminal restored (the shell prints the status).
    t.type_slowly(&["F10"]);
    t.wait_for("Hand over the shift before leaving?");
    t.type_slowly(&["Enter"]);
    let until = Instant::now() + Duration::from_secs(20);
    while !exit_file.exists() {
        assert!(
            Instant::now() < until,
            "paycode did not quit:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(std::fs::read_to_string(&exit_file).unwrap().trim(), "0");
    // The handover is kept: the shift's money is the session's (12.50 + 3.00 paid).
    let shift = paycode::shift::closed(&h.journal(), 1).unwrap();
    assert_eq!((shift.paid_count, shift.paid.0), (2, 1550), "{shift:?}");
}

/// Issue 15: a 20-sale day at 80×24 — every sale paid, the history (F2) scrolls to the last
/// sale and shows it whole, finding it by amount works, and the refund screen (F4) scrolls to
/// it and refunds it; the journal and the simulator's ledger agree.
#[test]
fn a_twenty_sale_day_at_80x24_scrolls_to_the_last_sale_and_refunds_it() {
    if !tmux_support::available() {
        eprintln!("SKIPPED: tmux is not installed; the TUI end-to-end test needs it");
        return;
    }
    let h = Harness::new();
    let t = Tmux::start(&h, "day", 80, 24, "");
    t.wait_for("No unfinished sales");
    for i in 1..=20u32 {
        let amount = i.to_string();
        let keys: Vec<&str> = amount.split("").filter(|k| !k.is_empty()).collect();
        t.type_slowly(&keys);
        t.scan(&h.code("normal"));
        t.wait_for("PAID");
        t.type_slowly(&["Enter"]);
        t.wait_for("Amount (yuan)");
    }
    let sales = h.journal().sales_between(0, i64::MAX).unwrap();
    assert_eq!(sales.len(), 20);
    assert!(sales.iter().all(|s| s.state == SaleState::Paid));
    let last = sales.last().unwrap().clone();
    assert_eq!(last.total_fee.0, 2000);

    // History: the 20th row is below the fold at 80×24 until the selection scrolls to it.
    t.type_slowly(&["F2"]);
    let s = t.wait_for("Sales on");
    assert!(
        !s.contains("¥20.00"),
        "the last sale starts below the fold:\n{s}"
    );
    for _ in 0..19 {
        t.type_slowly(&["Down"]);
    }
    let s = t.wait_for("¥20.00");
    assert!(s.contains("Net takings: ¥210.00"), "{s}");
    // Its detail shows the whole order number.
    t.type_slowly(&["Enter"]);
    t.wait_for(&last.out_trade_no);
    t.type_slowly(&["Escape"]);
    // Found by amount from the top of the day.
    t.type_slowly(&["Up", "Up", "/", "2", "0", ".", "0", "0", "Enter"]);
    t.type_slowly(&["Enter"]);
    t.wait_for(&last.out_trade_no);
    t.type_slowly(&["Escape", "Escape"]);

    // Refund screen: scroll to the 20th, full amount, reason, confirm.
    t.type_slowly(&["F4"]);
    t.wait_for("Pick a paid sale");
    for _ in 0..19 {
        t.type_slowly(&["Down"]);
    }
    t.wait_for("¥20.00");
    t.type_slowly(&["Enter"]);
    t.wait_for("Refund amount");
    t.type_slowly(&["Enter"]);
    t.wait_for("Reason");
    t.type_slowly(&["1"]);
    let s = t.wait_for("Refund ¥20.00 of sale");
    assert!(
        s.contains(&last.out_trade_no[last.out_trade_no.len() - 6..]),
        "{s}"
    );
    t.type_slowly(&["Enter"]);
    t.wait_for("REFUNDED ¥20.00");
    let refunds = h.journal().refunds_of(&last.out_trade_no).unwrap();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0].refund_fee.0, 2000);
    let order = h.order(&last.out_trade_no);
    assert_eq!((order.charged, order.refunded), (2000, 2000), "{order:?}");
    assert_eq!(h.ledger().totals.charged, 21_000);
}
