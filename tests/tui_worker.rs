//! The cashier screen's till task in process against the simulator (through a proxy): a new sale
//! never waits behind the background retry of a pending sale (FAULTS.md row 34), and the
//! cashier's cancel survives a crash before the reverse (row 38).
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests drive real time

mod checkout_support;

use checkout_support::proxy::Tamper;
use checkout_support::{Harness, Opts, Timing};
use paycode::authcode::AuthCode;
use paycode::checkout::{CancelToken, Progress, Status, Till};
use paycode::journal::SaleState;
use paycode::money::Fen;
use paycode::tui::app::{Msg, NetHealth, TillCmd};
use paycode::tui::worker;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const REVERSE: &str = "/secapi/pay/reverse";

#[test]
fn a_scan_is_not_held_behind_a_black_holed_background_retry() {
    let h = Harness::with(Timing {
        password_timeout: "1s",
        reverse_max_attempts: 2,
    });
    let p = h.proxy(Opts {
        password_timeout: "1s",
        reverse_max_attempts: 2,
        ..Opts::default()
    });
    // A pending sale: its reverse never reached WeChat.
    p.tamper(REVERSE, Tamper::Unreached(502), 10_000);
    let (r, v) = h.pay("6.60", &h.code("password_never"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (2, Some("unresolved")),
        "{v}"
    );
    let pending = v["out_trade_no"].as_str().unwrap().to_string();
    p.clear();
    // Now the network to WeChat black-holes the retry's reverse.
    p.tamper(REVERSE, Tamper::Hang, 10_000);

    let cfg = h.config();
    let reverses = || p.seen().iter().filter(|s| s.ends_with(REVERSE)).count();
    let before = reverses();
    let code = AuthCode::parse(&h.code("normal")).unwrap();

    let (paid, reverses_then) = h.rt.block_on(async {
        let till = Till::open(cfg).await.unwrap();
        let (job_tx, job_rx) = mpsc::unbounded_channel();
        let (tx, mut rx) = mpsc::unbounded_channel::<(Msg, Instant)>();
        let w = worker::run_every(till, job_rx, tx, Duration::from_millis(10));
        let cashier = async {
            // The background retry is under way: its reverse hangs at the proxy.
            while reverses() == before {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let sale = TillCmd::StartSale {
                amount: Fen(880),
                code,
                pos_ref: None,
            };
            job_tx.send((sale, CancelToken::new())).unwrap();
            let done = loop {
                match rx.recv().await.unwrap().0 {
                    Msg::Sale(Progress::Done(o)) => break o,
                    _ => continue,
                }
            };
            let seen = reverses();
            drop(job_tx);
            (done, seen)
        };
        let ((), out) = tokio::join!(w, cashier);
        out
    });
    assert_eq!(paid.status(), Status::Paid, "{paid:?}");
    assert_eq!(
        reverses_then,
        before + 1,
        "the sale ran while the retry's first reverse still hung"
    );
    // The interrupted retry left its sale on the pending list, to be retried later.
    let j = h.journal();
    assert_eq!(
        j.sale(&pending).unwrap().unwrap().state,
        SaleState::Unresolved
    );
    assert!(
        j.events(&pending)
            .unwrap()
            .iter()
            .any(|e| e.detail.contains("unresolved")),
        "parked with an event"
    );
}

/// Row 38 (adversarial review F3): the cashier presses Esc ("cancelling"), and paycode dies
/// before the reverse is due (WeChat's 15 s floor); the customer then confirms. Restarted, the
/// sale is still reversed — the customer is refunded, as without the crash.
#[test]
fn a_cancel_survives_a_crash_before_the_reverse() {
    let h = Harness::with(Timing {
        password_timeout: "60s",
        ..Timing::default()
    });
    let text = std::fs::read_to_string(h.config_path()).unwrap().replace(
        "reverse_not_before = \"50ms\"",
        "reverse_not_before = \"2s\"",
    );
    std::fs::write(h.config_path(), &text).unwrap();
    let cfg = h.config();
    let code = AuthCode::parse(&h.code("password_never")).unwrap();
    let journal = h.journal_path();
    let state_of_open = move || {
        let j = paycode::journal::Journal::open(&journal).ok()?;
        j.unfinished()
            .ok()?
            .first()
            .map(|s| (s.out_trade_no.clone(), s.state))
    };
    let no = h.rt.block_on(async {
        let mut till = Till::open(cfg).await.unwrap();
        let cancel = CancelToken::new();
        let sale =
            paycode::checkout::run_sale_cancellable(&mut till, Fen(3100), code, &cancel, |_| {});
        let cashier = async {
            // The customer sees the password box: the USERPAYING reply is journaled.
            let no = loop {
                if let Some((no, SaleState::Submitted)) = state_of_open() {
                    break no;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            cancel.cancel();
            // "Cancelling…" is on screen; paycode dies before the reverse is due.
            for _ in 0..200 {
                if matches!(state_of_open(), Some((_, SaleState::Reversing))) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            no
        };
        // Dropping the sale future is the in-process kill.
        tokio::select! {
            _ = sale => panic!("the sale must still be waiting for the reverse"),
            no = cashier => no,
        }
    });
    assert_eq!(
        h.order(&no).requests.get("reverse"),
        None,
        "killed before it"
    );
    h.sim.confirm(&no).unwrap();
    assert_eq!(h.order(&no).charged, 3100);
    let r = h.run(&["recover", "--json"]);
    let v = r.json();
    assert_eq!(v["recovered"][0]["status"], "reversed", "{v}");
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (3100, 3100), "{order:?}");
    h.assert_ledger_agrees();
}

/// The pending screen's accept (key 3): a sale left unresolved, then paid by the customer, is
/// kept as paid by the till task (the manager's `paycode accept`), before the background retry
/// would have returned it.
#[test]
fn the_pending_screens_accept_keeps_a_late_payment() {
    let h = Harness::with(Timing {
        password_timeout: "1s",
        reverse_max_attempts: 2,
    });
    let p = h.proxy(Opts {
        password_timeout: "1s",
        reverse_max_attempts: 2,
        ..Opts::default()
    });
    p.tamper(REVERSE, Tamper::Unreached(502), 10_000);
    let (_, v) = h.pay("3.30", &h.code("password_never"));
    assert_eq!(v["status"], "unresolved", "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    p.clear();
    h.sim.confirm(&no).unwrap();

    let cfg = h.config();
    let result = h.rt.block_on(async {
        let till = Till::open(cfg).await.unwrap();
        let (job_tx, job_rx) = mpsc::unbounded_channel();
        let (tx, mut rx) = mpsc::unbounded_channel::<(Msg, Instant)>();
        // Background retries an hour apart: only the manager's action runs.
        let w = worker::run_every(till, job_rx, tx, Duration::from_secs(3600));
        let manager = async {
            job_tx
                .send((TillCmd::AcceptPending(no.clone()), CancelToken::new()))
                .unwrap();
            let done = loop {
                if let Msg::PendingDone { result, .. } = rx.recv().await.unwrap().0 {
                    break result;
                }
            };
            drop(job_tx);
            done
        };
        let ((), out) = tokio::join!(w, manager);
        out
    });
    let outcome = result.unwrap();
    assert_eq!(outcome.status(), Status::Paid, "{outcome:?}");
    assert_eq!(h.sale(&no).state, SaleState::Paid);
    let order = h.order(&no);
    assert_eq!((order.charged, order.refunded), (330, 0), "{order:?}");
}

/// Issue 15: the network light said OK (its probe reaches the host) while every call to WeChat
/// failed. The latest real call decides: a sale whose calls all get HTTP 502 turns it red, and
/// a later successful call turns it green again.
#[test]
fn the_network_light_follows_the_calls_not_only_the_probe() {
    let h = Harness::with(Timing {
        password_timeout: "300ms",
        reverse_max_attempts: 2,
    });
    let p = h.proxy(Opts {
        password_timeout: "300ms",
        reverse_max_attempts: 2,
        ..Opts::default()
    });
    for path in ["/pay/micropay", "/pay/orderquery", REVERSE] {
        p.tamper(path, Tamper::Status(502), 10_000);
    }
    let cfg = h.config();
    let codes = [h.code("normal"), h.code("normal")];
    let lights = h.rt.block_on(async {
        let till = Till::open(cfg).await.unwrap();
        let (job_tx, job_rx) = mpsc::unbounded_channel();
        let (tx, mut rx) = mpsc::unbounded_channel::<(Msg, Instant)>();
        let w = worker::run_every(till, job_rx, tx, Duration::from_millis(10));
        let cashier = async {
            let mut lights = Vec::new();
            for (i, code) in codes.iter().enumerate() {
                if i == 1 {
                    p.clear();
                }
                let sale = TillCmd::StartSale {
                    amount: Fen(100),
                    code: AuthCode::parse(code).unwrap(),
                    pos_ref: None,
                };
                job_tx.send((sale, CancelToken::new())).unwrap();
                // The light after the sale: the first message about the network once it ended.
                let mut done = false;
                loop {
                    match rx.recv().await.unwrap().0 {
                        Msg::Sale(Progress::Done(_)) => done = true,
                        Msg::Network(n) if done => {
                            lights.push(n);
                            break;
                        }
                        _ => {}
                    }
                }
            }
            drop(job_tx);
            lights
        };
        let ((), out) = tokio::join!(w, cashier);
        out
    });
    assert_eq!(lights[0], NetHealth::Down, "every call failed: {lights:?}");
    assert!(matches!(lights[1], NetHealth::Ok(_)), "{lights:?}");
}

/// Row 125 on the cashier screen: a signed decline that hid a payment, then the customer scans
/// a fresh code at once. The screen's sale closes the decline first (returns the hidden
/// payment), charges once, and tells the cashier the earlier sale was refunded.
#[test]
fn a_scan_after_a_decline_that_hid_a_payment_returns_it_before_charging() {
    use paycode::checkout::flow::Final;
    use paycode::simulator::scenario::Fault;
    use paycode::wxpay::endpoint::Endpoint;
    let h = Harness::new();
    h.sim
        .add_fault(Fault::FalseDecline, 1, Some(Endpoint::Micropay));
    let (_, v) = h.pay("7.00", &h.code("normal"));
    assert_eq!(v["err_code"], "NOTENOUGH", "{v}");
    let hidden = v["out_trade_no"].as_str().unwrap().to_string();
    let cfg = h.config();
    let code = AuthCode::parse(&h.code("normal")).unwrap();
    let (paid, settled) = h.rt.block_on(async {
        let till = Till::open(cfg).await.unwrap();
        let (job_tx, job_rx) = mpsc::unbounded_channel();
        let (tx, mut rx) = mpsc::unbounded_channel::<(Msg, Instant)>();
        // No background pass before the scan: the sale itself must close the decline.
        let w = worker::run_every(till, job_rx, tx, Duration::from_secs(600));
        let cashier = async {
            let sale = TillCmd::StartSale {
                amount: Fen(700),
                code,
                pos_ref: None,
            };
            job_tx.send((sale, CancelToken::new())).unwrap();
            let mut paid = None;
            let wait = async {
                loop {
                    match rx.recv().await.unwrap().0 {
                        Msg::Sale(Progress::Done(o)) => paid = Some(o),
                        Msg::PendingSettled { resolved, .. } => break resolved,
                        _ => continue,
                    }
                }
            };
            let settled = tokio::time::timeout(Duration::from_secs(30), wait)
                .await
                .unwrap_or_default();
            drop(job_tx);
            (paid, settled)
        };
        let ((), out) = tokio::join!(w, cashier);
        out
    });
    let paid = paid.expect("the sale's outcome came before the notice");
    assert_eq!(paid.status(), Status::Paid, "{paid:?}");
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert_eq!(settled[0].out_trade_no, hidden);
    assert_eq!(settled[0].result, Final::Reversed { refunded: true });
    let l = h.ledger();
    assert_eq!((l.totals.charged, l.totals.net), (1400, 700), "{l:?}");
}

/// Row 147 (review of stop 25, F3): the idle rounds ran only after a full quiet interval with
/// no command at all — a screen (or a POS polling `serve`) busy more often than that never
/// retried its pending sales nor closed its declines. The rounds keep their own clock now: a
/// command every third of the interval does not hold them back.
#[test]
fn commands_more_often_than_the_idle_interval_do_not_starve_the_background_rounds() {
    let h = Harness::with(Timing {
        password_timeout: "1s",
        reverse_max_attempts: 2,
    });
    let p = h.proxy(Opts {
        password_timeout: "1s",
        reverse_max_attempts: 2,
        ..Opts::default()
    });
    p.tamper(REVERSE, Tamper::Unreached(502), 10_000);
    let (_, v) = h.pay("4.40", &h.code("password_never"));
    assert_eq!(v["status"], "unresolved", "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    // Start-up recovery cannot settle it either: only the rounds can, once the network is back.
    p.tamper("/pay/orderquery", Tamper::Unreached(502), 10_000);

    let cfg = h.config();
    let settled = h.rt.block_on(async {
        let till = Till::open(cfg).await.unwrap();
        let (job_tx, job_rx) = mpsc::unbounded_channel();
        let (tx, mut rx) = mpsc::unbounded_channel::<(Msg, Instant)>();
        let w = worker::run_every(till, job_rx, tx, Duration::from_millis(300));
        let cashier = async {
            loop {
                let m = rx.recv().await.unwrap().0;
                if let Msg::Recovery(r) = m
                    && r.done
                {
                    assert!(r.resolved.is_empty(), "{r:?}");
                    break;
                }
            }
            p.clear();
            let until = Instant::now() + Duration::from_secs(20);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let found = loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if Instant::now() > until {
                            break false;
                        }
                        job_tx.send((TillCmd::LoadPending, CancelToken::new())).unwrap();
                    }
                    m = rx.recv() => {
                        if let Msg::PendingSettled { resolved, .. } = m.unwrap().0
                            && resolved.iter().any(|o| o.out_trade_no == no)
                        {
                            break true;
                        }
                    }
                }
            };
            drop(job_tx);
            found
        };
        let ((), found) = tokio::join!(w, cashier);
        found
    });
    assert!(settled, "the rounds never ran: {:?}", h.sale(&no).state);
    assert!(h.sale(&no).state.is_final());
}
