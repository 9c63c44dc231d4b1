//! The cashier screen with the POS's pole display (`App::update` on virtual time): a total
//! fills the idle amount field marked as the POS's; a scan or Enter confirms it; typing
//! replaces it; one arriving during a sale waits for the next sale and never changes the
//! running one; the port's state is told in both languages.
#![allow(clippy::unwrap_used)]

mod tui_common;

use paycode::authcode::AuthCode;
use paycode::checkout::flow::{Final, Payment};
use paycode::checkout::{Outcome, Progress};
use paycode::config::Language;
use paycode::money::Fen;
use paycode::pole::{PoleMsg, PortEvent};
use paycode::scanner::ScannerStatus;
use paycode::tui::app::{Cmd, Field, Key, Msg, NoticeText, Stage, TillCmd};
use tui_common::{CODE, CODE2, Harness};

fn start_cmd(amount: u64, code: &str) -> Cmd {
    Cmd::Till(TillCmd::StartSale {
        amount: Fen(amount),
        code: AuthCode::parse(code).unwrap(),
        pos_ref: None,
    })
}

fn total(fen: u64) -> Msg {
    Msg::Pole(PoleMsg::Total(Fen(fen)))
}

fn paid(amount: u64) -> Msg {
    Msg::Sale(Progress::Done(Outcome {
        out_trade_no: "till-1-20260101120000001".into(),
        total_fee: Fen(amount),
        result: Final::Paid(Payment {
            transaction_id: "4200000001".into(),
            total_fee: Fen(amount),
            time_end: "20260101120000".into(),
        }),
        transaction_id: None,
        bank_type: None,
        cash_fee: None,
        note: None,
    }))
}

#[test]
fn a_pos_total_fills_the_idle_field_and_a_scan_charges_it() {
    let mut h = Harness::new(Language::En);
    h.send_after(10, total(1250));
    assert_eq!(h.app.entry.amount, "12.50");
    assert!(h.app.entry.from_pos);
    // A later total replaces an earlier one still unconfirmed.
    h.send_after(10, total(1399));
    assert_eq!(h.app.entry.amount, "13.99");
    let cmds = h.wedge_scan(CODE);
    assert_eq!(cmds, vec![start_cmd(1399, CODE)]);
    assert!(matches!(h.app.stage, Stage::Waiting(_)));
}

#[test]
fn enter_confirms_it_then_the_scan_charges_it() {
    let mut h = Harness::new(Language::Zh);
    h.send_after(10, total(880));
    assert!(h.key(Key::Enter).is_empty());
    assert_eq!(h.app.entry.focus, Field::Code);
    assert_eq!(h.app.entry.amount, "8.80");
    assert_eq!(h.wedge_scan(CODE), vec![start_cmd(880, CODE)]);
}

#[test]
fn typing_replaces_it_and_a_typed_amount_is_never_overwritten() {
    let mut h = Harness::new(Language::En);
    h.send_after(10, total(1250));
    h.type_str("3");
    assert_eq!(h.app.entry.amount, "3");
    assert!(!h.app.entry.from_pos);
    // The POS's next total does not touch what the cashier typed.
    h.send_after(10, total(4000));
    assert_eq!(h.app.entry.amount, "3");
    assert_eq!(h.wedge_scan(CODE), vec![start_cmd(300, CODE)]);
    // The total that arrived before this sale started is not kept for the next one.
    h.send_after(10, paid(300));
    h.key(Key::Enter);
    assert_eq!(h.app.entry.amount, "");

    // Backspace takes the POS's amount whole; Esc clears it.
    h.send_after(10, total(1250));
    h.key(Key::Backspace);
    assert_eq!(
        (h.app.entry.amount.as_str(), h.app.entry.from_pos),
        ("", false)
    );
    h.send_after(10, total(1250));
    h.key(Key::Esc);
    assert_eq!(h.app.entry.amount, "");
}

#[test]
fn a_total_during_a_sale_waits_for_the_next_sale() {
    let mut h = Harness::new(Language::En);
    h.send_after(10, total(1250));
    assert_eq!(h.wedge_scan(CODE), vec![start_cmd(1250, CODE)]);
    // The next customer's total arrives while this sale runs: the running sale is untouched.
    h.send_after(10, total(500));
    match &h.app.stage {
        Stage::Waiting(w) => assert_eq!(w.amount, Fen(1250)),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.app.entry.amount, "12.50");
    // A scan meanwhile starts nothing.
    assert!(h.wedge_scan(CODE2).is_empty());
    h.send_after(10, paid(1250));
    // Still held on the result screen, shown once the cashier moves on.
    h.send_after(10, total(600));
    assert!(matches!(h.app.stage, Stage::Result(_)));
    h.key(Key::Enter);
    assert_eq!(h.app.entry.amount, "6.00");
    assert!(h.app.entry.from_pos);
    // (Another customer's code: the wedge drops a repeat of CODE2 within its window.)
    let code3 = "134567890123451111";
    assert_eq!(h.wedge_scan(code3), vec![start_cmd(600, code3)]);
}

#[test]
fn the_port_state_is_told_in_both_languages() {
    let mut h = Harness::new(Language::Zh);
    let missing = PortEvent(ScannerStatus::NotFound {
        wanted: "/dev/ttyUSB1".into(),
    });
    h.send_after(10, Msg::Pole(PoleMsg::Status(missing.clone())));
    assert_eq!(h.app.pole.status, Some(missing));
    match h.app.notice.as_ref().map(|n| n.text.clone()) {
        Some(NoticeText::Words(w)) => {
            assert!(w.zh.contains("未找到收银机客显口"), "{w:?}");
            assert!(w.en.contains("type the amount meanwhile"), "{w:?}");
        }
        other => panic!("{other:?}"),
    }
    // Sales still work by typing.
    h.type_str("2");
    assert_eq!(h.wedge_scan(CODE), vec![start_cmd(200, CODE)]);
}
