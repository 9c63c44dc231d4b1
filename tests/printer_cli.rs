//! Receipts end to end: `paycode pay` against the built-in test simulator with `[printer]`
//! pointing at a virtual printer (tests/printer_support), which reads the bytes back. A printer
//! away never fails or delays a sale: the slip is queued and prints when the printer answers.
#![allow(clippy::unwrap_used)]

mod checkout_support;
mod printer_support;

use checkout_support::Harness;
use printer_support::{Printed, Staged, VirtualPrinter, barcodes, read, text_of};
use std::io::Write;

/// Add `[printer]` with `lines` to the harness's config.
fn with_printer(h: &Harness, lines: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(h.config_path())
        .unwrap();
    writeln!(f, "\n[printer]\n{lines}\ntimeout = \"1s\"").unwrap();
}

fn tcp(h: &Harness, p: &VirtualPrinter) {
    with_printer(h, &format!("tcp = \"{}\"\ndrawer_kick = true", p.address));
}

/// Pay `amount` with a normal customer: the order number (the sale must be paid).
fn pay(h: &Harness, amount: &str) -> (String, checkout_support::Run) {
    let code = h.code("normal");
    let (r, v) = h.pay(amount, &code);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(v["status"], "paid", "{v}");
    (v["out_trade_no"].as_str().unwrap().to_string(), r)
}

fn queued(h: &Harness) -> usize {
    h.journal().print_queue().unwrap().len()
}

#[test]
fn pay_prints_the_paid_slip_with_the_order_number_as_barcode_and_qr() {
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Online);
    tcp(&h, &p);
    let code = h.code("normal");
    let (no, _) = {
        let (r, v) = h.pay("12.34", &code);
        assert_eq!(v["status"], "paid", "{}", r.stderr);
        (v["out_trade_no"].as_str().unwrap().to_string(), r)
    };
    let jobs = p.wait_jobs(1);
    assert_eq!(jobs.len(), 1, "one slip");
    let lines = read(&jobs[0]);
    assert_eq!(barcodes(&lines), vec![no.clone()]);
    assert!(lines.contains(&Printed::Qr(no.clone())));
    let text = text_of(&lines);
    assert!(
        text.contains("PAID - WeChat Pay") && text.contains("微信支付 - 支付成功"),
        "{text}"
    );
    assert!(text.contains("￥12.34"), "{text}");
    let sale = h.sale(&no);
    assert!(
        text.contains(sale.transaction_id.as_deref().unwrap()),
        "{text}"
    );
    // The code only masked, never whole.
    assert!(
        !text.contains(&code) && text.contains(&sale.code_masked),
        "{text}"
    );
    assert!(lines.ends_with(&[Printed::Cut, Printed::DrawerKick]));
    assert_eq!(p.asked(), vec![1, 4], "status asked before printing");
    assert_eq!(queued(&h), 0);
}

#[test]
fn a_printer_offline_at_payment_leaves_the_sale_paid_and_the_slip_queued_until_it_is_back() {
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Offline);
    tcp(&h, &p);
    let (first, r) = pay(&h, "1.00");
    assert!(r.stderr.contains("receipt queued"), "{}", r.stderr);
    assert!(p.jobs().is_empty(), "nothing printed while offline");
    assert_eq!(queued(&h), 1);
    let q = &h.journal().print_queue().unwrap()[0];
    assert!(
        q.last_error.as_deref().unwrap().contains("offline"),
        "{q:?}"
    );

    // Back online: the next sale prints the queued slip first, then its own.
    p.stage(Staged::Online);
    let (second, r) = pay(&h, "2.00");
    assert!(!r.stderr.contains("receipt queued"), "{}", r.stderr);
    let jobs = p.wait_jobs(1);
    let all: Vec<String> = jobs.iter().flat_map(|j| barcodes(&read(j))).collect();
    assert_eq!(all, vec![first, second]);
    assert_eq!(queued(&h), 0);
}

#[test]
fn receipt_flush_prints_what_an_unreachable_printer_left_queued() {
    let h = Harness::new();
    // Nothing listens on this port yet.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    with_printer(&h, &format!("tcp = \"{addr}\""));
    let (no, r) = pay(&h, "3.00");
    assert!(r.stderr.contains("printer unreachable"), "{}", r.stderr);
    assert_eq!(queued(&h), 1);
    let r = h.run(&["receipt", "--flush", "--json"]);
    assert_eq!(r.code, 1, "still queued: {}", r.stdout);
    assert_eq!(r.json()["queued"], 1);

    // The printer comes up (another address: the config follows it).
    let p = VirtualPrinter::tcp(Staged::Online);
    let text = std::fs::read_to_string(h.config_path()).unwrap();
    std::fs::write(h.config_path(), text.replace(&addr.to_string(), &p.address)).unwrap();
    let r = h.run(&["receipt", "--flush", "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["printed"], 1);
    assert_eq!(barcodes(&read(&p.wait_jobs(1)[0])), vec![no]);
    assert_eq!(queued(&h), 0);
}

#[test]
fn a_serial_printer_on_a_pty_prints_the_slip() {
    let h = Harness::new();
    let p = VirtualPrinter::serial(Staged::Online);
    with_printer(
        &h,
        &format!(
            "serial = \"{}\"\nbaud = 19200\nwidth = 80\nlanguage = \"en\"",
            p.address
        ),
    );
    let (no, _) = pay(&h, "4.56");
    let jobs = p.wait_jobs(1);
    assert_eq!(jobs.len(), 1);
    let lines = read(&jobs[0]);
    assert_eq!(barcodes(&lines), vec![no]);
    let text = text_of(&lines);
    assert!(
        text.contains("PAID - WeChat Pay") && !text.contains("支付成功"),
        "{text}"
    );
}

#[test]
fn a_refund_prints_its_slip() {
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Online);
    tcp(&h, &p);
    let (no, _) = pay(&h, "10.00");
    p.wait_jobs(1);
    let r = h.run(&["refund", &no, "--amount", "4.00", "--json"]);
    assert_eq!(r.json()["status"], "success", "{}", r.stdout);
    let jobs = p.wait_jobs(2);
    assert_eq!(jobs.len(), 2, "the sale's and the refund's slip");
    let lines = read(&jobs[1]);
    let text = text_of(&lines);
    assert!(
        text.contains("REFUND - WeChat Pay") && text.contains("￥4.00"),
        "{text}"
    );
    assert!(
        text.contains(&no) && text.contains("State: refunded"),
        "{text}"
    );
    assert!(
        !lines.contains(&Printed::DrawerKick),
        "a refund opens no drawer"
    );
}

#[test]
fn a_declined_sale_prints_nothing_and_has_no_slip_to_reprint() {
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Online);
    tcp(&h, &p);
    let (r, v) = h.pay("5.00", &h.code("notenough"));
    assert_eq!(v["status"], "failed", "{}", r.stderr);
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(p.jobs().is_empty(), "no slip for a sale not charged");
    let r = h.run(&["receipt", &no]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("not charged"), "{}", r.stderr);
}

#[test]
fn receipt_reprints_previews_and_refuses_what_is_not_in_the_journal() {
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Online);
    tcp(&h, &p);
    let (no, _) = pay(&h, "7.00");
    p.wait_jobs(1);

    let r = h.run(&["receipt", &no, "--preview"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("CODE128 {no}")) && r.stdout.contains("COPY (reprint)"),
        "{}",
        r.stdout
    );
    assert_eq!(p.jobs().len(), 1, "a preview prints nothing");

    let r = h.run(&["receipt", &no, "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let jobs = p.wait_jobs(2);
    let again = read(&jobs[1]);
    assert!(text_of(&again).contains("重印副本"));
    assert!(
        !again.contains(&Printed::DrawerKick),
        "a reprint opens no drawer"
    );

    // Unknown order: refused, exit 3, the argument shown safely (a code-like one masked).
    let r = h.run(&["receipt", "till-7NOPE"]);
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("no sale") && r.stderr.contains("till-7NOPE"),
        "{}",
        r.stderr
    );
    let code = h.code("normal");
    let r = h.run(&["receipt", &code, "--json"]);
    assert_eq!(r.code, 3);
    assert!(
        !r.stdout.contains(&code) && !r.stderr.contains(&code),
        "{}",
        r.stderr
    );
    let r = h.run(&["receipt", &no, "--refund", "R-none"]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("no refund"), "{}", r.stderr);
}

#[test]
fn receipt_preview_needs_no_printer_and_printing_without_one_is_refused() {
    let h = Harness::new();
    let (no, _) = pay(&h, "8.00");
    let r = h.run(&["receipt", &no, "--preview", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = r.json()["lines"].as_array().unwrap().len();
    assert!(lines > 10);
    let r = h.run(&["receipt", &no]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("[printer]"), "{}", r.stderr);
}

#[test]
fn check_reports_the_printer_state_from_its_status_bytes() {
    for (staged, mark, words) in [
        (Staged::Online, "OK", "online"),
        (Staged::PaperNearEnd, "WARN", "nearly out"),
        (Staged::Silent, "WARN", "no status"),
        (Staged::PaperOut, "FAIL", "out of paper"),
        (Staged::CoverOpen, "FAIL", "cover open"),
        (Staged::Offline, "FAIL", "offline"),
    ] {
        let h = Harness::new();
        let p = VirtualPrinter::tcp(staged);
        tcp(&h, &p);
        let r = h.run(&["check"]);
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains(" printer "))
            .unwrap_or_else(|| panic!("no printer line:\n{}", r.stdout));
        assert!(
            line.starts_with(mark) && line.contains(words),
            "{staged:?}: {line}"
        );
        if mark == "FAIL" {
            assert_ne!(r.code, 0, "a failing printer fails check");
        }
    }
}

#[test]
fn a_bad_printer_section_is_refused_naming_the_key_and_the_fix() {
    for (lines, key, fix) in [
        ("width = 58", "[printer] device", "exactly one of"),
        (
            "tcp = \"127.0.0.1:9100\"\ndevice = \"/dev/usb/lp0\"",
            "[printer] tcp",
            "exactly one of",
        ),
        ("tcp = \"printer\"", "[printer] tcp", "host:port"),
        (
            "tcp = \"127.0.0.1:9100\"\nwidth = 57",
            "[printer] width",
            "58 (32 columns) or 80",
        ),
        (
            "tcp = \"127.0.0.1:9100\"\nencoding = \"latin1\"",
            "[printer] encoding",
            "gb18030",
        ),
        (
            "tcp = \"127.0.0.1:9100\"\nlanguage = \"fr\"",
            "[printer] language",
            "\"both\"",
        ),
        (
            "device = \"/dev/usb/lp0\"\nbaud = 9600",
            "[printer] baud",
            "serial",
        ),
        (
            "serial = \"/dev/ttyUSB0\"\nbaud = 1234",
            "[printer] baud",
            "19200",
        ),
        (
            "tcp = \"127.0.0.1:9100\"\ncolour = true",
            "[printer] colour",
            "",
        ),
    ] {
        let h = Harness::new();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(h.config_path())
            .unwrap();
        writeln!(f, "\n[printer]\n{lines}").unwrap();
        let r = h.run(&["config"]);
        assert_eq!(r.code, 3, "{lines}: {}", r.stdout);
        assert!(
            r.stderr.contains(key) && r.stderr.contains(fix),
            "{lines}: {}",
            r.stderr
        );
    }
    // The timeout is bounded like the other durations.
    for t in ["\"2m\"", "\"0s\"", "3"] {
        let h = Harness::new();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(h.config_path())
            .unwrap();
        writeln!(f, "\n[printer]\ntcp = \"127.0.0.1:9100\"\ntimeout = {t}").unwrap();
        let r = h.run(&["config"]);
        assert_eq!(r.code, 3, "{t}");
        assert!(r.stderr.contains("[printer] timeout"), "{t}: {}", r.stderr);
    }
}

#[test]
fn a_reversed_sale_prints_the_reversal_slip() {
    let h = Harness::new();
    let p = VirtualPrinter::tcp(Staged::Online);
    tcp(&h, &p);
    let (r, v) = h.pay("9.00", &h.code("password_never"));
    assert_eq!(v["status"], "reversed", "{}", r.stderr);
    let no = v["out_trade_no"].as_str().unwrap();
    let lines = read(&p.wait_jobs(1)[0]);
    let text = text_of(&lines);
    assert!(
        text.contains("REVERSED - not charged") && text.contains("已撤销"),
        "{text}"
    );
    assert!(text.contains(no));
    assert!(
        !lines.contains(&Printed::DrawerKick),
        "nothing was taken: no drawer"
    );
}
