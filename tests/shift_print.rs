//! The shift's report on the receipt printer (issue 13): a handover prints it, a printer away
//! keeps it queued until it answers, and a closed shift prints again marked as a copy.
#![allow(clippy::unwrap_used)]

mod checkout_support;
mod printer_support;

use checkout_support::Harness;
use printer_support::{Staged, VirtualPrinter, read, text_of};
use std::io::Write;

fn with_printer(h: &Harness, p: &VirtualPrinter) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(h.config_path())
        .unwrap();
    writeln!(f, "\n[printer]\ntcp = \"{}\"\ntimeout = \"1s\"", p.address).unwrap();
}

fn printed(p: &VirtualPrinter) -> String {
    text_of(&read(&p.jobs().concat()))
}

#[test]
fn a_handover_prints_its_report_and_a_printer_away_prints_it_when_back() {
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Online);
    with_printer(&h, &p);
    for amount in ["12.34", "5.00"] {
        let (r, v) = h.pay(amount, &h.code("normal"));
        assert_eq!(v["status"], "paid", "{}", r.stderr);
    }
    p.wait_jobs(2);
    // Paper out at the handover: the shift is closed all the same, its report waits.
    p.stage(Staged::PaperOut);
    let run = h.run(&["shift", "--close", "--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["closed_id"], 1);
    assert!(run.stderr.contains("paper"), "{}", run.stderr);
    assert!(!printed(&p).contains("Shift 1"), "{}", printed(&p));
    let queue = h.journal().print_queue().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0].kind, paycode::journal::PrintKind::Shift(1));

    // Paper back: `shift --id 1 --print` prints the waiting report, then a copy.
    p.stage(Staged::Online);
    let run = h.run(&["shift", "--id", "1", "--print"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    p.wait_jobs(3);
    let text = printed(&p);
    let original = text.find("Shift 1").unwrap_or_else(|| panic!("{text}"));
    let copy = text.rfind("COPY").unwrap_or_else(|| panic!("{text}"));
    assert!(original < copy, "{text}");
    assert!(text.contains("17.34") && text.contains("班次 1"), "{text}");
    assert!(h.journal().print_queue().unwrap().is_empty());
}

#[test]
fn printing_a_shift_without_a_printer_is_refused_naming_the_section() {
    let h = Harness::new();
    let (_, v) = h.pay("1.00", &h.code("normal"));
    assert_eq!(v["status"], "paid", "{v}");
    let run = h.run(&["shift", "--print", "--json"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let v = run.json();
    assert!(v["message"].as_str().unwrap().contains("[printer]"), "{v}");
    assert!(
        v["message_zh"].as_str().unwrap().contains("[printer]"),
        "{v}"
    );
}
