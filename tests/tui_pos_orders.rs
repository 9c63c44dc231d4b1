//! `App::update` for orders from the store's POS (the local API served by the cashier screen):
//! the amount comes from the POS, the scan completes it; a busy screen turns the order down
//! at once; Esc turns it down; a POS sale's result screen takes no rescan.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod tui_common;

use paycode::authcode::AuthCode;
use paycode::checkout::flow::Final;
use paycode::checkout::{Outcome, Progress};
use paycode::config::Language;
use paycode::money::Fen;
use paycode::tui::app::{Cmd, Field, Key, Msg, NoticeText, Stage, TillCmd};
use paycode::tui::i18n::T;
use tui_common::{CODE, CODE2, Harness};

fn order(amount: u64, pos_ref: &str, code: Option<&str>) -> Msg {
    Msg::PosOrder {
        amount: Fen(amount),
        pos_ref: pos_ref.into(),
        code: code.map(|c| AuthCode::parse(c).unwrap()),
    }
}

fn start(amount: u64, code: &str, pos_ref: Option<&str>) -> Cmd {
    Cmd::Till(TillCmd::StartSale {
        amount: Fen(amount),
        code: AuthCode::parse(code).unwrap(),
        pos_ref: pos_ref.map(str::to_string),
    })
}

fn refused(cmds: &[Cmd]) -> Option<(&str, &str)> {
    cmds.iter().find_map(|c| match c {
        Cmd::PosRefuse { pos_ref, why } => Some((pos_ref.as_str(), why.en.as_str())),
        _ => None,
    })
}

fn failed(rescan: bool) -> Outcome {
    Outcome {
        out_trade_no: "till-1-20260101120000001".into(),
        total_fee: Fen(1250),
        result: Final::Failed {
            err_code: "AUTHCODEEXPIRE".into(),
            rescan,
        },
        transaction_id: None,
        bank_type: None,
        cash_fee: None,
        note: None,
    }
}

#[test]
fn the_pos_amount_waits_for_the_scan_and_the_scan_starts_the_ref_sale() {
    let mut h = Harness::new(Language::En);
    let cmds = h.send_after(100, order(1250, "POS-1001", None));
    assert!(cmds.is_empty(), "nothing is sent before the scan: {cmds:?}");
    assert_eq!(h.app.entry.amount, "12.50", "the POS amount");
    assert_eq!(h.app.entry.focus, Field::Code);
    assert!(matches!(
        h.app.notice.as_ref().map(|n| &n.text),
        Some(NoticeText::Tf(T::PosScanNow, v)) if v[0] == "POS-1001"
    ));
    // Digits typed now go to the code field: the POS's amount stands.
    h.type_str("9");
    assert_eq!(
        (h.app.entry.amount.as_str(), h.app.entry.code.as_str()),
        ("12.50", "9")
    );
    h.key(Key::Backspace);
    let cmds = h.wedge_scan(CODE);
    assert_eq!(cmds, vec![start(1250, CODE, Some("POS-1001"))]);
    assert!(matches!(h.app.stage, Stage::Waiting(_)));
    assert!(h.app.pos.waiting.is_none());
}

#[test]
fn a_code_typed_by_hand_completes_the_pos_order_too() {
    let mut h = Harness::new(Language::Zh);
    h.send_after(100, order(500, "R-7", None));
    h.type_str(CODE);
    let cmds = h.key(Key::Enter);
    assert_eq!(cmds, vec![start(500, CODE, Some("R-7"))]);
}

#[test]
fn an_order_with_its_code_starts_at_once() {
    let mut h = Harness::new(Language::En);
    let cmds = h.send_after(100, order(880, "R-8", Some(CODE)));
    assert_eq!(cmds, vec![start(880, CODE, Some("R-8"))]);
}

#[test]
fn a_busy_screen_turns_the_order_down_with_nothing_sent() {
    let mut h = Harness::new(Language::En);
    h.type_str("1");
    h.wedge_scan(CODE);
    assert!(matches!(h.app.stage, Stage::Waiting(_)));
    let cmds = h.send_after(100, order(100, "R-9", None));
    let (r, why) = refused(&cmds).expect("turned down");
    assert_eq!(r, "R-9");
    assert!(why.contains("same ref"), "{why}");
    assert!(!cmds.iter().any(|c| matches!(c, Cmd::Till(_))), "{cmds:?}");
    assert!(h.app.pos.waiting.is_none());

    // A second order while the first waits for its scan is turned down too.
    let mut h = Harness::new(Language::En);
    h.send_after(100, order(100, "R-1", None));
    let cmds = h.send_after(100, order(200, "R-2", None));
    assert_eq!(refused(&cmds).map(|x| x.0), Some("R-2"));
    assert_eq!(h.app.pos.waiting.as_ref().map(|w| w.amount), Some(Fen(100)));
}

#[test]
fn esc_turns_the_waiting_order_down_and_the_pos_is_told() {
    let mut h = Harness::new(Language::En);
    h.send_after(100, order(1250, "R-3", None));
    let cmds = h.key(Key::Esc);
    let (r, why) = refused(&cmds).expect("the POS is told");
    assert_eq!(r, "R-3");
    assert!(why.contains("nothing was charged"), "{why}");
    assert!(h.app.pos.waiting.is_none());
    assert_eq!(h.app.entry.amount, "");
    // The next scan is an ordinary sale that needs an amount.
    let cmds = h.wedge_scan(CODE);
    assert!(cmds.is_empty(), "{cmds:?}");
}

#[test]
fn a_pos_sale_result_takes_no_rescan_the_pos_asks_again() {
    let mut h = Harness::new(Language::En);
    h.send_after(100, order(1250, "R-4", Some(CODE)));
    h.send_after(100, Msg::Sale(Progress::Done(failed(true))));
    assert!(matches!(h.app.stage, Stage::Result(_)));
    let cmds = h.wedge_scan(CODE2);
    assert!(
        cmds.is_empty(),
        "a rescan would charge outside the POS's order: {cmds:?}"
    );
    assert!(matches!(
        h.app.notice.as_ref().map(|n| &n.text),
        Some(NoticeText::T(T::PosAskAgain))
    ));
    // The POS asks again under its ref (seconds later): taken, and the scan completes it.
    h.send_after(5_000, order(1250, "R-4", None));
    let cmds = h.wedge_scan(CODE2);
    assert_eq!(cmds, vec![start(1250, CODE2, Some("R-4"))]);
}

#[test]
fn a_journal_that_cannot_be_written_turns_the_order_down() {
    let mut h = Harness::new(Language::En);
    h.send_after(
        100,
        Msg::JournalFailed(paycode::tui::app::Words::new("disk full", "磁盘已满")),
    );
    let cmds = h.send_after(100, order(100, "R-5", Some(CODE)));
    assert_eq!(refused(&cmds).map(|x| x.0), Some("R-5"));
    assert!(!cmds.iter().any(|c| matches!(c, Cmd::Till(_))), "{cmds:?}");
}

/// Row 165 (review 2 of stop 25, F1): a POS sale the runner refused at the scan (the code was
/// just used, a ref of another amount) left the POS's amount on screen without its order: the
/// next scan charged it as the cashier's own sale while the POS was told nothing was sent. The
/// refusal now clears the order; the POS asks again.
#[test]
fn a_refused_pos_sale_leaves_nothing_to_charge_outside_the_order() {
    let mut h = Harness::new(Language::En);
    h.send_after(100, order(330, "E1", None));
    h.wedge_scan(CODE);
    let refused = paycode::tui::app::Words::new("the same code was just used", "同一付款码");
    h.send_after(100, Msg::SaleRefused(refused));
    assert!(matches!(h.app.stage, Stage::Entry));
    assert_eq!(
        h.app.entry.amount, "",
        "the POS's amount is gone with its order"
    );
    let cmds = h.wedge_scan(CODE2);
    assert!(cmds.is_empty(), "no sale outside the POS's order: {cmds:?}");
}

/// Row 166 (review 2 of stop 25, F3): a POS order arriving while the cashier has a sale of
/// their own on the screen (an amount typed, a code half typed) replaced it without a word.
/// It is turned down now, as for any busy screen.
#[test]
fn a_cashiers_own_sale_in_entry_turns_a_pos_order_down() {
    let mut h = Harness::new(Language::En);
    h.type_str("5");
    h.key(Key::Enter);
    let cmds = h.send_after(100, order(910, "MS1", None));
    assert_eq!(refused(&cmds).map(|x| x.0), Some("MS1"), "{cmds:?}");
    assert_eq!(h.app.entry.amount, "5", "the cashier's amount stands");
    let cmds = h.wedge_scan(CODE);
    assert_eq!(cmds, vec![start(500, CODE, None)]);
}

/// Row 145: the POS API could not be served (the port in use): the notice names why and the
/// status line knows it; the start-up "no unfinished sales" notice never covers it.
#[test]
fn an_api_that_cannot_be_served_stays_in_sight_and_sales_go_on() {
    let mut h = Harness::new(Language::En);
    let why = paycode::tui::app::Words::new("cannot listen on 127.0.0.1:8765", "无法监听");
    h.send_after(100, Msg::Api(Err(why)));
    h.send_after(
        100,
        Msg::Recovery(paycode::tui::app::RecoveryReport {
            done: true,
            ..Default::default()
        }),
    );
    assert!(matches!(
        h.app.notice.as_ref().map(|n| &n.text),
        Some(NoticeText::Failed(T::ApiNotServed, w)) if w.en.contains("8765")
    ));
    assert!(matches!(h.app.api, Some(Err(_))));
    h.type_str("1");
    let cmds = h.wedge_scan(CODE);
    assert_eq!(cmds, vec![start(100, CODE, None)], "the till sells as ever");
}
