//! Fault matrix, crashes and the journal disk (FAULTS.md): `paycode pay` is killed with SIGKILL
//! at a chosen point of the write-ahead protocol, then `paycode recover` settles the sale; and the
//! journal's disk fails at the intent commit. Every row ends with the invariant check.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use checkout_support::{Harness, Opts, Timing, kill_9, wait_for};
use paycode::journal::SaleState;
use paycode::simulator::Endpoint;
use paycode::simulator::scenario::Fault;

/// A loopback listener that accepts connections, reads what arrives and never answers.
/// Returns its URL and the number of request bytes received so far.
fn black_hole() -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    std::thread::spawn(move || {
        for tcp in l.incoming() {
            let Ok(mut tcp) = tcp else { return };
            let g = g.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = tcp.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    g.fetch_add(n, Ordering::SeqCst);
                }
            });
        }
    });
    (url, got)
}

/// `paycode recover --json`: its exit status and the entry for `no`.
fn recover(h: &Harness, no: &str) -> (i32, serde_json::Value) {
    let r = h.run(&["recover", "--json"]);
    let v = r.json();
    let item = v["recovered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["out_trade_no"] == no)
        .unwrap_or_else(|| panic!("{no} not recovered:\n{}\n{}", r.stdout, r.stderr))
        .clone();
    (r.code, item)
}

#[test]
fn kill_after_the_intent_commit_before_sending_recovers_not_charged() {
    let h = Harness::new();
    // "WeChat" is a black hole: the micropay never arrives anywhere that could charge.
    let (hole, received) = black_hole();
    h.write_config_with(&Opts {
        base_url: Some(hole),
        read_timeout: "60s",
        ..Opts::default()
    });
    let code = h.code("normal");
    let mut child = h.spawn(&["pay", "--amount", "21.00", "--code", &code, "--json"]);
    let no = h.wait_for_open_sale(&mut child, SaleState::Intent);
    wait_for("the request to leave the till", || {
        received.load(Ordering::SeqCst) > 0
    });
    kill_9(&mut child);
    assert_eq!(
        h.sale(&no).state,
        SaleState::Intent,
        "the intent survived the kill"
    );

    // Restart against the real (simulated) WeChat: it never saw the order.
    h.write_config(&Timing::default());
    let (code, item) = recover(&h, &no);
    assert_eq!(code, 0, "{item}");
    assert_eq!(item["was"], "intent");
    assert!(
        matches!(item["status"].as_str(), Some("failed" | "reversed")),
        "{item}"
    );
    assert!(
        item["message"].as_str().unwrap().contains("did not reach")
            || item["message"].as_str().unwrap().contains("not charged"),
        "{item}"
    );
    assert_eq!(h.requests("micropay"), 0, "recovery never sends a micropay");
    assert!(h.requests("orderquery") >= 1, "recovery asked WeChat first");
    h.assert_invariants(&[&item]);
}

#[test]
fn kill_after_wechat_applied_before_the_reply_is_journaled_recovers_paid_once() {
    let h = Harness::new();
    h.write_config_with(&Opts {
        read_timeout: "60s",
        ..Opts::default()
    });
    // WeChat charges at once and holds the reply for an hour of simulated time (3.6 s real).
    h.sim.add_fault(
        Fault::Delay(Duration::from_secs(3600)),
        1,
        Some(Endpoint::Micropay),
    );
    let code = h.code("normal");
    let mut child = h.spawn(&["pay", "--amount", "22.00", "--code", &code, "--json"]);
    let no = h.wait_for_open_sale(&mut child, SaleState::Intent);
    wait_for("WeChat to apply the micropay", || {
        h.ledger().orders.iter().any(|o| o.out_trade_no == no)
    });
    kill_9(&mut child);
    assert_eq!(
        h.order(&no).charged,
        2200,
        "charged while the till was down"
    );
    assert_eq!(
        h.sale(&no).state,
        SaleState::Intent,
        "the reply was never journaled"
    );

    let (code, item) = recover(&h, &no);
    assert_eq!(code, 0, "{item}");
    assert_eq!(item["was"], "intent");
    assert_eq!(item["status"], "paid", "{item}");
    let order = h.order(&no);
    assert_eq!(
        order.requests.get("micropay"),
        Some(&1),
        "never charged twice"
    );
    h.assert_invariants(&[&item]);
}

#[test]
fn kill_in_the_reverse_loop_resumes_the_reverse() {
    let h = Harness::with(Timing {
        password_timeout: "200ms",
        reverse_max_attempts: 10,
    });
    // The first reverse answers recall=Y and that answer is held (1 h simulated); two more
    // recall=Y answers wait for the restarted till.
    h.sim.add_fault(Fault::Recall, 3, Some(Endpoint::Reverse));
    h.sim.add_fault(
        Fault::Delay(Duration::from_secs(3600)),
        1,
        Some(Endpoint::Reverse),
    );
    h.write_config_with(&Opts {
        password_timeout: "200ms",
        reverse_max_attempts: 10,
        read_timeout: "60s",
        ..Opts::default()
    });
    let code = h.code("password_never");
    let mut child = h.spawn(&["pay", "--amount", "23.00", "--code", &code, "--json"]);
    let no = h.wait_for_open_sale(&mut child, SaleState::Reversing);
    wait_for("the first reverse to reach WeChat", || {
        h.order(&no).requests.get("reverse").copied().unwrap_or(0) >= 1
    });
    kill_9(&mut child);
    assert_eq!(h.sale(&no).state, SaleState::Reversing);

    let (code, item) = recover(&h, &no);
    assert_eq!(code, 0, "{item}");
    assert_eq!(item["was"], "reversing");
    assert_eq!(item["status"], "reversed", "{item}");
    let order = h.order(&no);
    assert_eq!(order.requests.get("reverse"), Some(&4), "{order:?}");
    assert_eq!(order.requests.get("micropay"), Some(&1));
    assert_eq!(order.charged, 0);
    h.assert_invariants(&[&item]);
}

#[test]
fn journal_disk_full_at_the_intent_commit_sends_nothing_and_disables_payments() {
    // Disk full at the commit, unprivileged: RLIMIT_FSIZE = 1 byte on the child (prlimit) with
    // SIGXFSZ ignored, so every write that would grow a file fails (a short write, which SQLite
    // reports as SQLITE_FULL). The test holds the journal open, so the WAL and its index exist
    // already and opening needs no write: the first write is the intent commit.
    // (Root ignores file modes, so a read-only journal cannot be staged this way.)
    let h = Harness::new();
    let keep = h.journal();
    let limited = [
        "sh",
        "-c",
        "trap '' XFSZ; exec prlimit --fsize=1 \"$0\" \"$@\"",
    ];
    // Everything up to the intent (lock, open, recovery reads) works under the limit …
    let rec = h
        .command_wrapped(&limited, &["recover", "--json"])
        .output()
        .unwrap();
    assert_eq!(rec.status.code(), Some(0), "{rec:?}");
    // … so the first write, the intent commit, is what fails.
    let code = h.code("normal");
    let out = h
        .command_wrapped(
            &limited,
            &["pay", "--amount=24.00", "--code", &code, "--json"],
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["status"], "rejected");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("journal write failed"), "{msg}");
    assert!(msg.contains("payments are disabled"), "{msg}");
    assert!(msg.contains("nothing was sent"), "{msg}");
    assert!(
        v["message_zh"].as_str().unwrap().contains("暂停收款"),
        "{v}"
    );
    let ledger = h.ledger();
    assert!(
        ledger.totals.requests.values().all(|n| *n == 0),
        "no network request after a failed intent commit: {ledger:?}"
    );
    assert!(keep.sales_between(0, i64::MAX).unwrap().is_empty());
    drop(keep);

    // The disk is fixed: nothing is pending and the next sale goes through.
    let (r, v2) = h.pay("24.00", &h.code("normal"));
    assert_eq!(
        (r.code, v2["status"].as_str()),
        (0, Some("paid")),
        "{}",
        r.stderr
    );
    h.assert_invariants(&[&v, &v2]);
}

/// Row 148 (review of stop 25, F4): the journal is locked by another process while the
/// customer types the password (a backup tool, `sqlite3` by hand), so the sale's next write
/// fails after the micropay was sent. `pay --json` said `"status":"rejected"` and
/// `"out_trade_no":null` — "refused before anything was sent" by the README's own words — for
/// a sale the customer then paid. A POS reading `status` would think nothing was charged. Now
/// it says `unresolved` with the sale's number (exit 2), and `recover` settles it.
#[test]
fn a_journal_locked_mid_sale_is_reported_unresolved_with_its_number() {
    let h = Harness::new();
    let mut child = h.spawn(&[
        "pay",
        "--amount=3.30",
        "--code",
        &h.code("password_confirms"),
        "--json",
    ]);
    let no = h.wait_for_open_sale(&mut child, SaleState::Submitted);
    let db = rusqlite::Connection::open(h.journal_path()).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let out = child.wait_with_output().unwrap();
    db.execute_batch("COMMIT;").unwrap();
    drop(db);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert_eq!(v["status"], "unresolved", "{v}");
    assert_eq!(v["out_trade_no"], no.as_str(), "{v}");
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(
        rec.json()["recovered"][0]["out_trade_no"],
        no.as_str(),
        "{}",
        rec.stdout
    );
    h.assert_ledger_agrees();
}
