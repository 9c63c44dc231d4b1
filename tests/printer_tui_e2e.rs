//! The cashier screen (the real binary in tmux, against the test simulator) with a virtual
//! printer: a paid sale's slip comes out with the order number as barcode; with the paper out
//! the next sale still ends PAID, its slip waits in the queue and the status line says so; with
//! the paper back the next sale prints both; a refund is started by scanning the first slip;
//! quitting hands over and the shift's report comes out of the printer (issue 13).
//! Skipped, with the reason printed, when tmux is not installed.
#![allow(clippy::disallowed_methods)] // tests drive real time
#![allow(clippy::unwrap_used)]

mod checkout_support;
mod printer_support;
mod tmux_support;

use checkout_support::Harness;
use printer_support::{Staged, VirtualPrinter, barcodes, read, text_of};
use std::io::Write;
use std::time::{Duration, Instant};
use tmux_support::Tmux;

#[test]
fn a_day_at_the_till_with_a_printer_slips_queue_a_refund_by_scanning_and_the_handover() {
    if !tmux_support::available() {
        eprintln!("SKIPPED: tmux is not installed; the TUI end-to-end test needs it");
        return;
    }
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Online);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(h.config_path())
        .unwrap();
    writeln!(f, "\n[printer]\ntcp = \"{}\"\ntimeout = \"1s\"", p.address).unwrap();
    let t = Tmux::start(&h, "print", 160, 30, "");
    t.wait_for("No unfinished sales");
    t.wait_for("printer online");

    t.type_slowly(&["1", "2", ".", "5"]);
    t.scan(&h.code("normal"));
    t.wait_for("PAID");
    let sales = h.journal().sales_between(0, i64::MAX).unwrap();
    let jobs = p.wait_jobs(1);
    assert_eq!(jobs.len(), 1, "one slip");
    assert_eq!(
        barcodes(&read(&jobs[0])),
        vec![sales[0].out_trade_no.clone()]
    );

    // Paper out: the sale is still paid; its slip waits and the status line says why.
    p.stage(Staged::PaperOut);
    t.type_slowly(&["Enter", "3"]);
    t.scan(&h.code("normal"));
    t.wait_for("PAID");
    let s = t.wait_for("1 receipt(s) queued");
    assert!(s.contains("printer: paper out"), "{s}");
    assert_eq!(p.jobs().len(), 1, "nothing printed without paper");
    assert_eq!(h.journal().print_queue().unwrap().len(), 1);

    // Paper back: the next sale prints the waiting slip, then its own.
    p.stage(Staged::Online);
    t.type_slowly(&["Enter", "1"]);
    t.scan(&h.code("normal"));
    t.wait_for("PAID");
    let sales = h.journal().sales_between(0, i64::MAX).unwrap();
    let first = sales[0].out_trade_no.clone();
    let all: Vec<String> = sales.iter().map(|s| s.out_trade_no.clone()).collect();
    printed_until(&p, |codes, _| codes == all.as_slice());

    // A refund started by scanning the first slip's barcode on the refund screen.
    t.type_slowly(&["Enter", "F4"]);
    t.wait_for("or scan its receipt");
    t.scan(&first);
    t.wait_for("Refund amount");
    t.type_slowly(&["Enter", "1", "Enter"]);
    t.wait_for("REFUNDED ¥12.50");
    let refunds = h.journal().refunds_of(&first).unwrap();
    assert_eq!(refunds.len(), 1, "the scanned slip's sale was refunded");
    let refund_no = refunds[0].out_refund_no.clone();
    printed_until(&p, |_, text| text.contains(&refund_no));

    // Quitting hands over: the shift is closed and its report printed.
    t.type_slowly(&["Esc", "Esc", "F10"]);
    t.wait_for("Hand over the shift before leaving?");
    t.type_slowly(&["Enter"]);
    let text = printed_until(&p, |_, text| text.contains("Shift 1"));
    let report = &text[text.find("Shift 1").unwrap_or(0)..];
    assert!(text.contains("班次 1"), "{text}");
    let shift = paycode::shift::closed(&h.journal(), 1).unwrap();
    // 12.50 + 3.00 + 1.00 paid, 12.50 refunded: the net printed is 4.00.
    assert_eq!(
        (shift.paid.0, shift.refunded.0),
        (1_650, 1_250),
        "{shift:?}"
    );
    assert!(report.contains("4.00"), "the net: {report}");
}

/// Wait (bounded, 20 s) until everything printed so far — the barcodes in order and the
/// text — satisfies `done`; the text.
fn printed_until(p: &VirtualPrinter, done: impl Fn(&[String], &str) -> bool) -> String {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let bytes: Vec<u8> = p.jobs().concat();
        let lines = read(&bytes);
        let (codes, text) = (barcodes(&lines), text_of(&lines));
        if done(&codes, &text) {
            return text;
        }
        assert!(Instant::now() < until, "not printed yet:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
