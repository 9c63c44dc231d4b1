//! Every screen and state drawn into ratatui's TestBackend (80×24) in both languages and
//! compared with the committed insta snapshots in tests/snapshots/.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

mod tui_common;

use paycode::checkout::flow::{Final, Payment};
use paycode::checkout::{Outcome, Progress};
use paycode::config::Language;
use paycode::journal::{SaleRow, SaleState};
use paycode::money::Fen;
use paycode::scanner::status::NodeKind;
use paycode::scanner::{ScannerStatus, Source, StatusEvent};
use paycode::tui::app::Words;
use paycode::tui::app::{
    App, DiagInfo, HistoryData, Key, Msg, NetHealth, RecoveryReport, RefundUpdate,
};
use paycode::tui::view::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use tui_common::{CODE, Harness, settings};

fn render(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| view(app, f)).unwrap();
    t.backend().to_string()
}

/// Build the state with `setup` in each language and snapshot it as `name_en` / `name_zh`.
fn snap(name: &str, sim: bool, setup: impl Fn(&mut Harness)) {
    for (lang, tag) in [(Language::En, "en"), (Language::Zh, "zh")] {
        let mut h = Harness::with(settings(lang, sim));
        setup(&mut h);
        insta::assert_snapshot!(format!("{name}_{tag}"), render(&h.app));
    }
}

fn waiting(h: &mut Harness) {
    h.type_str("12.5");
    h.wedge_scan(CODE);
    h.send_after(
        5,
        Msg::Sale(Progress::Submitting {
            out_trade_no: "till-1-20260102101500001".into(),
            total_fee: Fen(1250),
        }),
    );
}

/// The password wait of a sale whose micropay answer was lost (nothing proves the order its
/// own, so the countdown does not end in a reverse).
fn password_unproven(h: &mut Harness) {
    waiting(h);
    h.send_after(
        5,
        Msg::Sale(Progress::WaitingForPassword {
            out_trade_no: "till-1-20260102101500001".into(),
            remaining: Duration::from_secs(21),
            queries: 2,
            reverses: false,
        }),
    );
}

fn password(h: &mut Harness) {
    waiting(h);
    h.send_after(
        5,
        Msg::Sale(Progress::WaitingForPassword {
            out_trade_no: "till-1-20260102101500001".into(),
            remaining: Duration::from_secs(21),
            queries: 2,
            reverses: true,
        }),
    );
}

fn done(h: &mut Harness, result: Final, cash: Option<Fen>) {
    waiting(h);
    let tx = matches!(result, Final::Paid(_)).then(|| "4200000001202601021234567890".to_string());
    h.send_after(
        5,
        Msg::Sale(Progress::Done(Outcome {
            out_trade_no: "till-1-20260102101500001".into(),
            total_fee: Fen(1250),
            result,
            transaction_id: tx,
            bank_type: None,
            cash_fee: cash,
            note: None,
        })),
    );
}

fn paid() -> Final {
    Final::Paid(Payment {
        transaction_id: "4200000001202601021234567890".into(),
        total_fee: Fen(1250),
        time_end: "20260102101512".into(),
    })
}

fn sale(no: &str, fee: u64, state: SaleState, created_ms: i64) -> SaleRow {
    SaleRow {
        out_trade_no: no.into(),
        total_fee: Fen(fee),
        code_fp: "fp".into(),
        code_masked: "13************6789".into(),
        device_info: "till-1".into(),
        created_ms,
        updated_ms: created_ms,
        state,
        transaction_id: (state == SaleState::Paid).then(|| format!("4200000001{no}")),
        bank_type: None,
        cash_fee: None,
        err_code: (state == SaleState::Failed).then(|| "NOTENOUGH".into()),
        message: (state == SaleState::Unresolved).then(|| "reverse: no answer".into()),
        attach: None,
        pos_ref: None,
    }
}

fn day() -> HistoryData {
    let t = 1_767_320_100_000; // 2026-01-02 10:15 Beijing
    HistoryData {
        date: time::macros::date!(2026 - 01 - 02),
        sales: vec![
            sale("till-1-20260102101500001", 1250, SaleState::Paid, t),
            sale(
                "till-1-20260102101600001",
                800,
                SaleState::Failed,
                t + 60_000,
            ),
            sale(
                "till-1-20260102111500001",
                3000,
                SaleState::Paid,
                t + 3_600_000,
            ),
            sale(
                "till-1-20260102111900001",
                45_000,
                SaleState::Reversed,
                t + 3_840_000,
            ),
        ],
        // The 11:15 sale refunded in full at 11:30: the day nets 12.50.
        refunds: vec![paycode::journal::Refund {
            out_trade_no: "till-1-20260102111500001".into(),
            out_refund_no: "R1".into(),
            refund_fee: Fen(3000),
            reason: String::new(),
            state: paycode::journal::RefundState::Success,
            refund_id: None,
            err_code: None,
            created_ms: t + 4_500_000,
            updated_ms: t + 4_500_000,
            authorised: None,
        }],
    }
}

fn scanner(h: &mut Harness, status: ScannerStatus) {
    let at = h.now();
    h.send_after(
        1,
        Msg::ScannerStatus(StatusEvent {
            source: Source::Serial,
            node: NodeKind::Tty,
            status,
            at,
        }),
    );
}

/// The POS's pole display (docs/pole-display.md): its total in the amount field, marked as
/// the POS's, and the port on the status line.
#[test]
fn pole_display() {
    use paycode::pole::{PoleMsg, PortEvent};
    snap("sale_pole_total", false, |h| {
        let open = PortEvent(ScannerStatus::Connected {
            path: "/dev/ttyUSB1".into(),
        });
        h.send_after(1, Msg::Pole(PoleMsg::Status(open)));
        h.send_after(1, Msg::Pole(PoleMsg::Total(Fen(1250))));
    });
    snap("sale_pole_missing", false, |h| {
        let missing = PortEvent(ScannerStatus::NotFound {
            wanted: "/dev/ttyUSB1".into(),
        });
        h.send_after(1, Msg::Pole(PoleMsg::Status(missing)));
    });
}

#[test]
fn sale_entry() {
    snap("sale_empty", false, |_| {});
    snap("sale_amount_typed", false, |h| {
        h.type_str("128.5");
    });
    snap("sale_scan_step", false, |h| {
        h.type_str("128.5");
        h.key(Key::Enter);
        scanner(
            h,
            ScannerStatus::Connected {
                path: "/dev/ttyACM0".into(),
            },
        );
        h.send_after(1, Msg::Network(NetHealth::Ok(Duration::from_millis(42))));
    });
    snap("sale_manual_code", false, |h| {
        h.type_str("9");
        h.key(Key::Tab);
        h.type_str("13456789");
    });
    snap("sale_bad_amount", false, |h| {
        h.type_str("12.");
        h.key(Key::Enter);
    });
    snap("sale_alipay_code", false, |h| {
        h.type_str("9");
        h.wedge_scan("281234567890123456");
    });
    snap("sale_scanner_unplugged", false, |h| {
        scanner(
            h,
            ScannerStatus::Disconnected {
                reason: "device went away".into(),
            },
        );
        h.send_after(1, Msg::Network(NetHealth::Down));
    });
    snap("sale_simulator", true, |h| {
        h.type_str("3");
    });
    snap("sale_journal_failed", false, |h| {
        h.send_after(
            1,
            Msg::JournalFailed(Words::new(
                "journal write failed: disk full",
                "账本写入失败:磁盘已满",
            )),
        );
    });
}

#[test]
fn waiting_screens() {
    snap("waiting_submitting", false, waiting);
    snap("waiting_password", false, password);
    snap("waiting_password_later", false, |h| {
        password(h);
        h.idle(9_400);
    });
    snap("waiting_querying", false, |h| {
        waiting(h);
        h.send_after(
            5,
            Msg::Sale(Progress::Querying {
                out_trade_no: "till-1-20260102101500001".into(),
                remaining: Some(Duration::from_secs(12)),
                queries: 4,
                reverses: true,
            }),
        );
    });
    snap("waiting_confirm_cancel", false, |h| {
        password(h);
        h.key(Key::Esc);
    });
    snap("waiting_cancelling", false, |h| {
        password(h);
        h.key(Key::Esc);
        h.key(Key::Enter);
    });
    snap("waiting_reversing", false, |h| {
        password(h);
        h.send_after(
            5,
            Msg::Sale(Progress::Reversing {
                out_trade_no: "till-1-20260102101500001".into(),
                attempt: 2,
                remaining: None,
            }),
        );
    });
    // Issue 15: the pending count is on the main screen, in the status line.
    snap("entry_with_pending", false, |h| {
        h.send_after(5, Msg::PendingCount(2));
    });
    // Issue 15: after Esc the screen says why it still waits (WeChat's 15 s floor) with a
    // timer, and the Esc hint is gone.
    snap("waiting_cancelling_floor", false, |h| {
        password(h);
        h.key(Key::Esc);
        h.key(Key::Enter);
        h.send_after(
            5,
            Msg::Sale(Progress::Reversing {
                out_trade_no: "till-1-20260102101500001".into(),
                attempt: 0,
                remaining: Some(Duration::from_secs(9)),
            }),
        );
    });
    // The micropay's answer was lost, the order shows USERPAYING: the countdown does not
    // promise a reverse.
    snap("waiting_password_unproven", false, password_unproven);
    // Esc there: the question does not promise a reverse either.
    snap("waiting_confirm_cancel_unproven", false, |h| {
        password_unproven(h);
        h.key(Key::Esc);
    });
    // The micropay's answer was lost: not reversed, WeChat is asked until it settles it.
    snap("waiting_confirming", false, |h| {
        password(h);
        h.send_after(
            5,
            Msg::Sale(Progress::Confirming {
                out_trade_no: "till-1-20260102101500001".into(),
                remaining: std::time::Duration::from_secs(42),
            }),
        );
    });
}

#[test]
fn result_screens() {
    snap("result_paid", false, |h| done(h, paid(), Some(Fen(1250))));
    snap("result_paid_coupon", false, |h| {
        done(h, paid(), Some(Fen(1050)))
    });
    snap("result_not_enough", false, |h| {
        done(
            h,
            Final::Failed {
                err_code: "NOTENOUGH".into(),
                rescan: true,
            },
            None,
        )
    });
    snap("result_code_expired", false, |h| {
        done(
            h,
            Final::Failed {
                err_code: "AUTHCODEEXPIRE".into(),
                rescan: true,
            },
            None,
        )
    });
    snap("result_unknown_failure", false, |h| {
        done(
            h,
            Final::Failed {
                err_code: "SOMETHING_NEW".into(),
                rescan: false,
            },
            None,
        )
    });
    snap("result_reversed_refunded", false, |h| {
        done(h, Final::Reversed { refunded: true }, None)
    });
    snap("result_refunded_too_late_to_reverse", false, |h| {
        let Final::Paid(p) = paid() else {
            unreachable!()
        };
        done(h, Final::Refunded(p), None)
    });
    snap("result_reversed_not_charged", false, |h| {
        done(h, Final::Reversed { refunded: false }, None)
    });
    snap("result_unresolved", false, |h| {
        done(
            h,
            Final::Unresolved {
                why: "reverse: no answer after 10 tries".into(),
            },
            None,
        )
    });
}

#[test]
fn other_screens() {
    snap("history", false, |h| {
        h.key(Key::F(2));
        h.send_after(5, Msg::History(day()));
    });
    snap("history_detail", false, |h| {
        h.key(Key::F(2));
        h.send_after(5, Msg::History(day()));
        h.key(Key::Down);
        h.key(Key::Enter);
    });
    snap("history_reconcile", false, |h| {
        use paycode::checkout::reconcile::{Finding, Line, Report};
        h.key(Key::F(2));
        h.send_after(5, Msg::History(day()));
        h.key(Key::F(8));
        let d = time::macros::date!(2026 - 01 - 02);
        let report = Report {
            lines: vec![
                Line {
                    out_trade_no: "till-1-20260102114500002".into(),
                    finding: Finding::ChargedNotPaid(SaleState::Unresolved),
                },
                Line {
                    out_trade_no: "till-1-20260102103000001".into(),
                    finding: Finding::Agrees,
                },
            ],
            journal_paid: Fen(1250),
            journal_refunded: Fen(0),
            wechat_paid: Fen(4250),
            wechat_refunded: Fen(0),
        };
        h.send_after(5, Msg::Reconciled(d, Ok(report)));
    });
    snap("history_shift", false, |h| {
        h.key(Key::F(2));
        let data = day();
        h.send_after(5, Msg::History(data.clone()));
        h.key(Key::Char('s'));
        let mut open = data.sales[0].clone();
        open.out_trade_no = "till-1-20260102115000001".into();
        open.state = SaleState::Unresolved;
        open.created_ms += 5_700_000;
        let mut sales = data.sales.clone();
        sales.push(open.clone());
        let rows = paycode::shift::report::Rows {
            sales: &sales,
            refunds: &data.refunds,
            unfinished: &[open],
            changed: &[],
        };
        let t = 1_767_320_100_000;
        let report = paycode::shift::Report::of("till-1", (t - 600_000, t + 7_200_000), &rows);
        h.send_after(5, Msg::Shift(Ok(report)));
        h.key(Key::Char('c'));
    });
    snap("quit_handover", false, |h| {
        h.key(Key::F(10));
    });
    snap("history_reconcile_failed", false, |h| {
        h.key(Key::F(2));
        h.send_after(5, Msg::History(day()));
        h.key(Key::F(8));
        let d = time::macros::date!(2026 - 01 - 02);
        h.send_after(
            5,
            Msg::Reconciled(
                d,
                Err(paycode::tui::app::Words::new(
                    "WeChat's statement for 2026-01-02 is not ready yet; try again later",
                    "微信 2026-01-02 的对账单尚未生成,请稍后再试",
                )),
            ),
        );
    });
    snap("history_empty", false, |h| {
        h.key(Key::F(2));
        h.send_after(
            5,
            Msg::History(HistoryData {
                date: time::macros::date!(2026 - 01 - 03),
                sales: vec![],
                refunds: vec![],
            }),
        );
    });
    let pending = || {
        vec![
            sale(
                "till-1-20260102093000001",
                9900,
                SaleState::Unresolved,
                1_767_317_400_000,
            ),
            sale(
                "till-1-20260102094500001",
                2000,
                SaleState::Reversing,
                1_767_318_300_000,
            ),
        ]
    };
    snap("pending", false, |h| {
        h.key(Key::F(3));
        h.send_after(5, Msg::Pending(pending()));
    });
    snap("pending_confirm_reverse", false, |h| {
        h.key(Key::F(3));
        h.send_after(5, Msg::Pending(pending()));
        h.key(Key::Char('2'));
    });
    snap("pending_confirm_accept_wrong_pin", false, |h| {
        h.key(Key::F(3));
        h.send_after(5, Msg::Pending(pending()));
        h.key(Key::Char('3'));
        h.type_str("13");
        h.key(Key::Enter);
        h.type_str("24");
    });
    snap("pending_empty", false, |h| {
        h.key(Key::F(3));
        h.send_after(5, Msg::Pending(vec![]));
    });
    snap("refund_pick", false, |h| {
        h.key(Key::F(4));
        h.send_after(5, Msg::History(day()));
    });
    snap("refund_reason", false, |h| {
        h.key(Key::F(4));
        h.send_after(5, Msg::History(day()));
        h.key(Key::Enter);
        h.type_str("5");
        h.key(Key::Enter);
    });
    snap("refund_confirm", false, |h| {
        h.key(Key::F(4));
        h.send_after(5, Msg::History(day()));
        h.key(Key::Enter);
        h.key(Key::Enter);
        h.key(Key::Char('3'));
    });
    snap("refund_pin", false, |h| {
        h.key(Key::F(4));
        h.send_after(5, Msg::History(day()));
        h.key(Key::Enter);
        h.key(Key::Enter);
        h.key(Key::Char('3'));
        h.key(Key::Enter);
        h.type_str("24");
    });
    snap("refund_locked", false, |h| {
        h.key(Key::F(4));
        h.send_after(5, Msg::History(day()));
        h.key(Key::Enter);
        h.key(Key::Enter);
        h.key(Key::Char('3'));
        h.key(Key::Enter);
        for _ in 0..3 {
            h.type_str("0000");
            h.key(Key::Enter);
        }
    });
    snap("refund_done", false, |h| {
        h.key(Key::F(4));
        h.send_after(5, Msg::History(day()));
        h.key(Key::Enter);
        h.key(Key::Enter);
        h.key(Key::Char('3'));
        h.key(Key::Enter);
        h.type_str("2468");
        h.key(Key::Enter);
        h.send_after(5, Msg::Refund(RefundUpdate::Succeeded(Fen(1250))));
    });
    snap("diagnostics", true, |h| {
        scanner(
            h,
            ScannerStatus::PermissionDenied {
                path: "/dev/ttyACM0".into(),
            },
        );
        h.key(Key::F(5));
        h.send_after(
            5,
            Msg::Diagnostics(DiagInfo {
                api_latency: Some(Ok(Duration::from_millis(3))),
                api_host: "127.0.0.1:38211".into(),
                journal_path: "/var/lib/paycode/paycode.db".into(),
                journal_bytes: 81_920,
                cert_days: Some(Ok(87)),
                clock_skew_secs: Some(-2),
            }),
        );
    });
    snap("help_simulator_scenarios", true, |h| {
        h.key(Key::Char('?'));
    });
    snap("settled_in_the_background", false, |h| {
        h.send_after(
            1,
            Msg::PendingSettled {
                resolved: vec![Outcome {
                    out_trade_no: "till-1-20260101180000001".into(),
                    total_fee: Fen(1250),
                    result: paid(),
                    transaction_id: None,
                    bank_type: None,
                    cash_fee: None,
                    note: None,
                }],
                still_pending: 0,
            },
        );
    });
    snap("recovery_running", false, |h| {
        h.send_after(1, Msg::Recovery(RecoveryReport::default()));
    });
    snap("recovery_done", false, |h| {
        h.send_after(
            1,
            Msg::Recovery(RecoveryReport {
                resolved: vec![
                    Outcome {
                        out_trade_no: "till-1-20260101180000001".into(),
                        total_fee: Fen(1250),
                        result: paid(),
                        transaction_id: None,
                        bank_type: None,
                        cash_fee: None,
                        note: None,
                    },
                    Outcome {
                        out_trade_no: "till-1-20260101180500001".into(),
                        total_fee: Fen(800),
                        result: Final::Reversed { refunded: false },
                        transaction_id: None,
                        bank_type: None,
                        cash_fee: None,
                        note: None,
                    },
                ],
                still_pending: 1,
                done: true,
                background: false,
            }),
        );
    });
}

/// Issue 15: a day longer than the screen (a 30-sale day at 80×24): the list scrolls with its
/// selection on the history, refund and pending screens, so Enter opens the row the cashier sees.
#[test]
fn long_lists_scroll_with_the_selection() {
    let t = 1_767_320_100_000;
    let no = |i: usize| format!("till-1-202601021015{i:05}");
    let sales: Vec<SaleRow> = (0..30)
        .map(|i| {
            sale(
                &no(i),
                100 + i as u64,
                SaleState::Paid,
                t + i as i64 * 60_000,
            )
        })
        .collect();
    let last = no(29);
    let tail = &last[last.len() - 11..];
    let mut h = Harness::with(settings(Language::En, false));
    h.key(Key::F(2));
    h.send_after(
        5,
        Msg::History(HistoryData {
            date: time::macros::date!(2026 - 01 - 02),
            sales: sales.clone(),
            refunds: vec![],
        }),
    );
    assert!(
        !render(&h.app).contains(tail),
        "the last sale is below the fold at first"
    );
    for _ in 0..29 {
        h.key(Key::Down);
    }
    let screen = render(&h.app);
    assert!(screen.contains(tail), "history: {screen}");
    h.key(Key::Enter);
    assert!(
        render(&h.app).contains(&last),
        "the detail is the row shown"
    );
    // The refund screen's pick list.
    h.key(Key::Esc);
    h.key(Key::Esc);
    h.key(Key::F(4));
    h.send_after(
        5,
        Msg::History(HistoryData {
            date: time::macros::date!(2026 - 01 - 02),
            sales: sales.clone(),
            refunds: vec![],
        }),
    );
    for _ in 0..29 {
        h.key(Key::Down);
    }
    assert!(render(&h.app).contains(&last), "refund: {}", render(&h.app));
    // The pending list (two lines per sale).
    h.key(Key::Esc);
    h.key(Key::F(3));
    let pending: Vec<SaleRow> = (0..30)
        .map(|i| sale(&no(i), 100, SaleState::Unresolved, t))
        .collect();
    h.send_after(5, Msg::Pending(pending));
    for _ in 0..29 {
        h.key(Key::Down);
    }
    assert!(
        render(&h.app).contains(&last),
        "pending: {}",
        render(&h.app)
    );
}

/// Issue 15: on a short terminal (80×12) the "do not hand over goods" line of the waiting
/// screen and of an unresolved result is never cut off the bottom.
#[test]
fn the_do_not_hand_over_line_survives_a_short_terminal() {
    let small = |app: &App, rows: u16| {
        let mut t = Terminal::new(TestBackend::new(80, rows)).unwrap();
        t.draw(|f| view(app, f)).unwrap();
        t.backend().to_string()
    };
    for (lang, waiting_line, unresolved_line) in [
        (
            Language::En,
            "Do not hand over goods yet",
            "Do NOT hand over goods",
        ),
        (Language::Zh, "请勿交付商品", "请勿交付商品。"),
    ] {
        for rows in [10, 12, 16] {
            let mut h = Harness::with(settings(lang, false));
            waiting(&mut h);
            let screen = small(&h.app, rows);
            assert!(screen.contains(waiting_line), "{rows} rows:\n{screen}");
            let mut h = Harness::with(settings(lang, false));
            done(
                &mut h,
                Final::Unresolved {
                    why: "no answer".into(),
                },
                None,
            );
            let screen = small(&h.app, rows);
            assert!(screen.contains(unresolved_line), "{rows} rows:\n{screen}");
        }
    }
}
