//! The embedded simulator's shared log (src/simulator/store.rs): two simulators on one log are
//! one simulated WeChat, over real HTTP; the log holds no full code; it survives a torn line and
//! starts over when the merchant settings change.
#![allow(clippy::unwrap_used)]

mod simulator_support;

use paycode::simulator::{RunningSim, SimSettings, start};
use simulator_support::*;
use std::path::Path;

async fn on_log(path: &Path) -> RunningSim {
    let mut s = settings(false);
    s.store = Some(path.to_path_buf());
    start(s).await.unwrap()
}

#[tokio::test]
async fn two_simulators_on_one_log_are_one_wechat() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim").join("ledger.log");
    let a = on_log(&log).await;
    let b = on_log(&log).await;
    let (ha, hb) = (client(&a, false), client(&b, false));

    // Paid at A, seen at B; the same code at B is already used; the same order number at B
    // with the same parameters is the same answer (idempotent across processes).
    let no = order_no("store");
    let c = code("normal");
    let paid = micropay(&ha, &a, &no, &c, "1500").await;
    assert_eq!(paid.get("result_code"), Some("SUCCESS"));
    assert_eq!(trade_state(&hb, &b, &no).await, "SUCCESS");
    let again = micropay(&hb, &b, &no, &c, "1500").await;
    assert_eq!(again.get("transaction_id"), paid.get("transaction_id"));
    let other = micropay(&hb, &b, &order_no("store"), &c, "1500").await;
    assert_eq!(
        other.get("err_code"),
        Some("AUTHCODEEXPIRE"),
        "a used code: {other:?}"
    );

    // A password sale started at B is confirmed by the trainer at A, and B's query sees it.
    let wait_no = order_no("store");
    let waiting = micropay(&hb, &b, &wait_no, &code("password_never"), "2000").await;
    assert_eq!(waiting.get("err_code"), Some("USERPAYING"));
    a.confirm(&wait_no).unwrap();
    assert_eq!(trade_state(&hb, &b, &wait_no).await, "SUCCESS");

    // A fault queued at A strikes B's next micropay (the admin call is shared too).
    a.add_fault(
        paycode::simulator::scenario::Fault::SystemError,
        1,
        Some(paycode::simulator::Endpoint::Micropay),
    );
    let hit = micropay(&hb, &b, &order_no("store"), &code("normal"), "100").await;
    assert_eq!(hit.get("err_code"), Some("SYSTEMERROR"));

    // A third simulator opened later rebuilds the same ledger from the log alone.
    let c3 = on_log(&log).await;
    let (la, l3) = (a.ledger(), c3.ledger());
    assert_eq!(
        la.orders.len(),
        4,
        "paid, used code, confirmed, SYSTEMERROR"
    );
    assert_eq!(la.totals, l3.totals);
    for (x, y) in la.orders.iter().zip(&l3.orders) {
        assert_eq!(
            (&x.out_trade_no, &x.state, x.charged, &x.transaction_id),
            (&y.out_trade_no, &y.state, y.charged, &y.transaction_id)
        );
    }

    // The log never holds a full payment code or the API key.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(&c), "full code in the log");
    assert!(!text.contains(paycode::config::SIMULATOR_DEMO_KEY));
    assert!(text.contains(&c[..6]) && text.contains(&c[14..]));
}

#[tokio::test]
async fn a_torn_line_is_skipped_and_the_log_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ledger.log");
    let a = on_log(&log).await;
    let ha = client(&a, false);
    let first = order_no("torn");
    micropay(&ha, &a, &first, &code("normal"), "100").await;
    drop(a);

    // A writer that died mid-line.
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"{\"t\":99999,\"op\":\"requ").unwrap();
    drop(f);

    let b = on_log(&log).await;
    let hb = client(&b, false);
    assert_eq!(trade_state(&hb, &b, &first).await, "SUCCESS");
    let second = order_no("torn");
    micropay(&hb, &b, &second, &code("normal"), "200").await;
    let c = on_log(&log).await;
    let states: Vec<_> = c.ledger().orders.into_iter().map(|o| o.state).collect();
    assert_eq!(states, ["SUCCESS", "SUCCESS"]);
}

#[tokio::test]
async fn new_merchant_settings_start_a_new_log_and_keep_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ledger.log");
    let a = on_log(&log).await;
    let ha = client(&a, false);
    micropay(&ha, &a, &order_no("rot"), &code("normal"), "100").await;
    assert_eq!(a.ledger().orders.len(), 1);

    let mut s: SimSettings = settings(false);
    s.store = Some(log.clone());
    s.mch_id = "1000000002".into();
    let b = start(s).await.unwrap();
    assert!(
        b.ledger().orders.is_empty(),
        "another merchant, another ledger"
    );
    assert!(
        log.with_extension("log.old").exists(),
        "the old log is kept"
    );

    // The first simulator notices the new log and follows it instead of writing to the old one.
    assert!(a.ledger().orders.is_empty());
}

#[tokio::test]
async fn an_unwritable_log_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let mut s = settings(false);
    s.store = Some(blocker.join("ledger.log"));
    let err = start(s).await.unwrap_err().to_string();
    assert!(
        err.contains("ledger.log") && err.contains("data directory"),
        "{err}"
    );
}

/// Issue 15: a fault queued in an earlier training run is kept in the log and would silently
/// strike a later run; trainers can list it and drop it (`GET`/`DELETE /__sim/fault`; `simulate
/// --reset` calls the same), and a simulator opened after the drop has none either.
#[tokio::test]
async fn queued_faults_can_be_listed_and_dropped_and_the_drop_is_kept() {
    use paycode::simulator::Endpoint;
    use paycode::simulator::scenario::Fault;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ledger.log");
    let a = on_log(&log).await;
    a.add_fault(Fault::Drop, 2, Some(Endpoint::Micropay));
    // Next day's run opens the same log: the fault is still queued.
    let b = on_log(&log).await;
    let http = client(&b, false);
    let url = format!("{}/__sim/fault", b.base_url);
    let body = |r: reqwest::Response| async move {
        serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).unwrap()
    };
    let listed = body(http.get(&url).send().await.unwrap()).await;
    let queued = listed["queued"].as_array().unwrap();
    assert_eq!(queued.len(), 1, "{listed}");
    assert_eq!(queued[0]["remaining"], 2, "{listed}");
    let cleared = body(http.delete(&url).send().await.unwrap()).await;
    assert_eq!(cleared["queued"].as_array().unwrap().len(), 0, "{cleared}");
    // The drop is in the log: a simulator opened later has no fault, and a micropay goes through.
    let c = on_log(&log).await;
    assert!(c.queued_faults().is_empty());
    let h = client(&c, false);
    let paid = micropay(&h, &c, &order_no("store"), &code("normal"), "100").await;
    assert_eq!(paid.get("result_code"), Some("SUCCESS"), "{paid:?}");
}
