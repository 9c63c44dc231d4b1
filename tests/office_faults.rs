//! Head-office faults (FAULTS.md rows 180–186): a real PostgreSQL, real tills' journals and the
//! real `paycode office ship`. After each: the office's tables equal the union of the tills'
//! journals — no row lost, none doubled (`pg_support::assert_office_is_union`).
#![allow(clippy::disallowed_methods)] // tests drive real time
#![allow(clippy::unwrap_used)]

mod pg_support;

use pg_support::{Pg, TillDir, assert_union, init, outbox_last, shipped, write_sales};
use std::time::{Duration, Instant};

const T0: i64 = 1_796_000_000_000;

async fn wait_for(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Row 180: the shipper is killed (SIGKILL) while its batch waits at the office. Whatever
/// the office did with that batch, it is all or nothing; the next ship resumes from the
/// office's last seq.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_180_shipper_killed_mid_batch() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "K1", "store-1");
    t.set_office("batch_rows", "100");
    write_sales(&t.journal(), "K1", 0, 50, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    let before = shipped(&admin, "K1").await;
    write_sales(&t.journal(), "K1", 50, 200, T0 + 60_000, 1000);

    // Hold the shipped journal's table so the next INSERT waits inside the office.
    let mut locker = pg.admin().await;
    let tx = locker.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE paycode.journal IN SHARE ROW EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut child = t
        .command(&["office", "ship"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let role = t.role();
    wait_for("the batch to wait at the office", Duration::from_secs(20), async || {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'",
                &[&role],
            )
            .await
            .unwrap()
            .get(0);
        n > 0
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    tx.rollback().await.unwrap();
    // Nothing half-done: the office holds a prefix (the old rows, or one more whole batch).
    let after = shipped(&admin, "K1").await;
    assert!(
        after == before || after == before + 100,
        "{before} → {after}"
    );
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    assert_union(&admin, &[&t]).await;
}

/// Row 181: PostgreSQL is restarted (immediate stop) while the background shipper runs and
/// the till goes on selling: the shipper reconnects and catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_181_office_restarted_mid_stream() {
    let mut pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "R1", "store-1");
    t.set_office("batch_rows", "50");
    t.set_office("interval", "\"100ms\"");
    let mut follow = t
        .command(&["office", "ship", "--follow"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for round in 0..30u64 {
        write_sales(
            &t.journal(),
            "R1",
            round * 10,
            10,
            T0 + round as i64 * 10_000,
            100,
        );
        if round == 10 {
            pg.restart();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = outbox_last(&t.journal());
    let admin = pg.admin().await;
    wait_for(
        "the shipper to catch up",
        Duration::from_secs(90),
        async || shipped(&admin, "R1").await == last,
    )
    .await;
    follow.kill().unwrap();
    follow.wait().unwrap();
    assert_union(&admin, &[&t]).await;
}

/// Row 182: the office is away for a (simulated) day: sales go on — a real `paycode pay` is
/// paid at once — the outbox grows, `office ship` says the office is unreachable (exit 2), and
/// everything arrives once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_182_office_away_for_a_day() {
    let mut pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "D1", "store-1");
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    pg.stop();
    let start = Instant::now();
    let (code, v, out) = t.pay("3.00", "normal");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{out}");
    assert!(start.elapsed() < Duration::from_secs(20));
    // A day of sales, one every 43 s.
    write_sales(&t.journal(), "D1", 0, 2000, T0, 43_200);
    let (code, _, out) = t.ship();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("office"), "{out}");
    assert!(outbox_last(&t.journal()) > 8000);
    pg.start_again();
    let (code, v, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    assert!(v["rows"].as_u64().unwrap() > 8000, "{out}");
    let admin = pg.admin().await;
    assert_union(&admin, &[&t]).await;
}

/// Row 183: a till's role tries to read and write another till's rows: PostgreSQL refuses
/// (row-level security, no grants beyond its own rows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_183_a_till_cannot_touch_another_tills_rows() {
    let pg = Pg::start();
    init(&pg);
    let a = TillDir::new(&pg, "A1", "store-1");
    let b = TillDir::new(&pg, "B1", "store-2");
    write_sales(&a.journal(), "A1", 0, 5, T0, 1000);
    write_sales(&b.journal(), "B1", 0, 5, T0, 1000);
    for t in [&a, &b] {
        let (code, _, out) = t.ship();
        assert_eq!(code, 0, "{out}");
    }
    let admin = pg.admin().await;
    let b_journal: String = admin
        .query_one(
            "SELECT journal_id FROM paycode.tills WHERE till_id = 'B1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let ca = a.client(&pg).await;
    // Write a row as B: refused by the policy.
    let e = ca
        .execute(
            "INSERT INTO paycode.journal (till_id, journal_id, seq, kind, key, row, at_ms)
             VALUES ('B1', $1, 999999, 'sale', 'x', '{}'::jsonb, 0)",
            &[&b_journal],
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{e}"
    );
    // B's sales are invisible to A and cannot be changed by it.
    let seen: i64 = ca
        .query_one(
            "SELECT count(*) FROM paycode.sales WHERE till_id = 'B1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
    let changed = ca
        .execute(
            "UPDATE paycode.sales SET state = 'failed' WHERE till_id = 'B1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(changed, 0);
    // Moving its own sale to B is refused too.
    let e = ca
        .execute(
            "UPDATE paycode.sales SET till_id = 'B1' WHERE till_id = 'A1'",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    for sql in [
        "DELETE FROM paycode.journal",
        "UPDATE paycode.tills SET journal_id = NULL",
        "UPDATE paycode.journal SET kind = 'sale'",
    ] {
        let e = ca.execute(sql, &[]).await.unwrap_err();
        assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {e}"
        );
    }
    // Presenting B's device_info is refused by the registry.
    let e = ca
        .query_one("SELECT paycode.register('j', 'B1', '1', 0)", &[])
        .await
        .unwrap_err();
    assert!(
        e.as_db_error()
            .unwrap()
            .message()
            .contains("paycode:device_taken"),
        "{e}"
    );
    assert_union(&admin, &[&a, &b]).await;
}

/// Row 184: a batch sent again (a lost acknowledgement, a replay), and an old snapshot of a
/// sale sent after its newer one: nothing doubles, nothing goes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_184_a_replayed_batch_changes_nothing() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "P1", "store-1");
    write_sales(&t.journal(), "P1", 0, 30, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    let before = shipped(&admin, "P1").await;
    let c = t.client(&pg).await;
    let j = paycode::journal::Journal::open(&t.journal()).unwrap();
    let jid = j.journal_id().unwrap();
    let all = j.outbox_after(0, 10_000).unwrap();
    let new = paycode::office::ship::send(&c, "P1", &jid, &all)
        .await
        .unwrap();
    assert_eq!(new, 0);
    // The first snapshot of the first sale (its intent) alone, long after it was paid.
    let intent: Vec<_> = all.iter().take(1).cloned().collect();
    assert_eq!(intent[0].kind, "sale");
    let new = paycode::office::ship::send(&c, "P1", &jid, &intent)
        .await
        .unwrap();
    assert_eq!(new, 0);
    assert_eq!(shipped(&admin, "P1").await, before);
    let paid: i64 = admin
        .query_one(
            "SELECT count(*) FROM paycode.sales WHERE till_id = 'P1' AND state = 'paid'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(paid, 30);
    assert_union(&admin, &[&t]).await;
}

/// Row 185: a till's config copied onto a second machine (the same role, password and
/// device_info, another journal): that machine sells on, but the office refuses its journal —
/// in both languages — and PostgreSQL refuses its rows even from a client that skips the
/// registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_185_a_copied_config_is_refused_centrally() {
    let pg = Pg::start();
    init(&pg);
    let a = TillDir::new(&pg, "C1", "store-1");
    let (code, _, out) = a.pay("1.00", "normal");
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = a.ship();
    assert_eq!(code, 0, "{out}");
    let copy = TillDir::copied_from(&a);
    let (code, v, out) = copy.pay("2.00", "normal");
    assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{out}");
    let (code, v, out) = copy.ship();
    assert_eq!(code, 3, "{out}");
    let msg = format!("{} {}", v["message"], v["message_zh"]);
    assert!(msg.contains("copied") && msg.contains("复制"), "{out}");
    // Rows under the copy's journal id, sent without registering: refused by the policy.
    let c = copy.client(&pg).await;
    let j = paycode::journal::Journal::open(&copy.journal()).unwrap();
    let rows = j.outbox_after(0, 1000).unwrap();
    let e = paycode::office::ship::send(&c, "C1", &j.journal_id().unwrap(), &rows)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("row-level security"), "{e}");
    // The original till ships on.
    let (code, _, out) = a.pay("1.50", "normal");
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = a.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    assert_union(&admin, &[&a]).await;
}

/// Row 186: a second till presenting a device_info another till is registered under (its own
/// role, the other's `[merchant] device_info`): refused, naming the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_186_a_second_till_with_the_same_device_info_is_refused() {
    let pg = Pg::start();
    init(&pg);
    let a = TillDir::new(&pg, "E1", "store-1");
    let b = TillDir::new(&pg, "E2", "store-1");
    let cfg = b.dir.path().join("config.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("device_info = \"E2\"", "device_info = \"E1\"");
    std::fs::write(&cfg, text).unwrap();
    write_sales(&b.journal(), "E1", 0, 3, T0, 1000);
    let (code, v, out) = b.ship();
    assert_eq!(code, 3, "{out}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("another till is registered as device_info E1"),
        "{out}"
    );
    assert!(
        v["message_zh"].as_str().unwrap().contains("device_info"),
        "{out}"
    );
    let (code, _, out) = a.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    assert_eq!(shipped(&admin, "E2").await, 0);
}
