//! Head-office faults (FAULTS.md rows 180–196): a real PostgreSQL, real tills' journals and the
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
    let e = ca
        .execute(
            "UPDATE paycode.sales SET state = 'failed' WHERE till_id = 'B1'",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{e}"
    );
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
        .query_one(
            "SELECT paycode.register('0123456789abcdef0123456789abcdef', 'B1', '1', 0)",
            &[],
        )
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
    let me = paycode::office::ship::Registered {
        till: "P1".into(),
        generation: 1,
    };
    use paycode::office::ship::{Sent, send};
    let last = before;
    assert_eq!(
        send(&c, &me, &jid, None, &all).await.unwrap(),
        Sent::NotNext(last),
        "a replay is told where the office is, and nothing is taken"
    );
    // The first snapshot of the first sale (its intent) alone, long after it was paid.
    let intent: Vec<_> = all.iter().take(1).cloned().collect();
    assert_eq!(intent[0].kind, "sale");
    assert_eq!(
        send(&c, &me, &jid, None, &intent).await.unwrap(),
        Sent::NotNext(last)
    );
    // Written straight into the table, past `paycode.ship`: refused.
    let e = c
        .execute(
            "INSERT INTO paycode.journal (till_id, journal_id, seq, kind, key, row, at_ms)
             VALUES ('P1', $1, 1, 'sale', 'x', '{}'::jsonb, 0)",
            &[&jid],
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{e}"
    );
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
/// in both languages — and `paycode.ship` refuses its rows even from a client that skips the
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
    // Rows under the copy's journal id, sent without registering: refused by the office.
    let c = copy.client(&pg).await;
    let j = paycode::journal::Journal::open(&copy.journal()).unwrap();
    let rows = j.outbox_after(0, 1000).unwrap();
    let me = paycode::office::ship::Registered {
        till: "C1".into(),
        generation: 1,
    };
    let e = paycode::office::ship::send(&c, &me, &j.journal_id().unwrap(), None, &rows)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("copied"), "{e}");
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

/// Copy a journal file as a backup would (the journal closed, so it is all in the main file).
fn copy_journal(from: &std::path::Path, to: &std::path::Path) {
    for ext in ["-wal", "-shm"] {
        let side = std::path::PathBuf::from(format!("{}{ext}", to.display()));
        let _ = std::fs::remove_file(side);
    }
    std::fs::copy(from, to).unwrap();
}

/// The office's sales of `till` by number.
async fn office_sales(
    admin: &tokio_postgres::Client,
    till: &str,
) -> std::collections::BTreeSet<String> {
    admin
        .query(
            "SELECT out_trade_no FROM paycode.sales WHERE till_id = $1",
            &[&till],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A till moved to another journal: the office's current generation is exactly that journal's
/// outbox, and its tables hold every record of it (besides those of the earlier journal).
async fn assert_holds_journal(admin: &tokio_postgres::Client, t: &TillDir) {
    let j = pg_support::journal_records(&t.journal());
    let o = pg_support::office_records(admin, &t.device).await;
    assert_eq!(
        o.rows, j.rows,
        "the current generation is the journal's outbox"
    );
    assert!(o.sales.is_superset(&j.sales), "{o:?} {j:?}");
    assert!(o.refunds.is_superset(&j.refunds), "{o:?} {j:?}");
    assert!(o.events.is_superset(&j.events), "{o:?} {j:?}");
    assert!(o.shifts.is_superset(&j.shifts), "{o:?} {j:?}");
}

/// Row 187: a till's journal restored from last night's backup. Its outbox seqs go back and
/// are used again by new sales; the office already holds those seqs of the lost timeline, so
/// before, the new sales were skipped as "already shipped" and never reached the office. Now
/// the shipper sees the office's last row is not in its journal, ships nothing and says what
/// happened and what to do; after `office release-till` the till ships its journal again
/// under a new generation, and the office keeps the sales the till lost as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_187_a_journal_restored_from_a_backup_is_caught_and_shipped_again() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "R1", "store-1");
    write_sales(&t.journal(), "R1", 0, 5, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let backup = t.dir.path().join("backup.db");
    copy_journal(&t.journal(), &backup);
    write_sales(&t.journal(), "R1", 5, 5, T0 + 60_000, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    assert_eq!(office_sales(&admin, "R1").await.len(), 10);

    // The disk dies; last night's backup goes back in, and the till sells on.
    copy_journal(&backup, &t.journal());
    write_sales(&t.journal(), "R1", 100, 3, T0 + 3_600_000, 1000);
    let (code, v, out) = t.ship();
    assert_eq!(
        code, 3,
        "the rewound journal must be refused, not skipped: {out}"
    );
    assert_eq!(v["status"].as_str(), Some("rejected"), "{out}");
    let msg = v["message"].as_str().unwrap();
    let zh = v["message_zh"].as_str().unwrap();
    assert!(
        msg.contains("backup") && msg.contains("office release-till R1"),
        "{out}"
    );
    assert!(
        zh.contains("备份") && zh.contains("office release-till R1"),
        "{out}"
    );
    // Nothing of the new timeline was taken under the old one's seqs.
    assert_eq!(office_sales(&admin, "R1").await.len(), 10);

    let out = pg_support::office(&pg, &["release-till", "R1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let sales = office_sales(&admin, "R1").await;
    assert_eq!(
        sales.len(),
        13,
        "10 sold before the restore, 3 after: {sales:?}"
    );
    assert_holds_journal(&admin, &t).await;
    // The shipper keeps shipping the new timeline.
    write_sales(&t.journal(), "R1", 200, 2, T0 + 7_200_000, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    assert_eq!(office_sales(&admin, "R1").await.len(), 15);
}

/// Row 188: the same journal on two machines (a journal file and config copied whole), both
/// selling: the second to ship is refused (its rows would have taken the first's seqs),
/// naming the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_188_one_journal_selling_on_two_machines_is_refused() {
    let pg = Pg::start();
    init(&pg);
    let a = TillDir::new(&pg, "D1", "store-1");
    write_sales(&a.journal(), "D1", 0, 3, T0, 1000);
    let copy = TillDir::copied_from(&a);
    std::fs::create_dir_all(copy.journal().parent().unwrap()).unwrap();
    copy_journal(&a.journal(), &copy.journal());
    write_sales(&a.journal(), "D1", 3, 3, T0 + 10_000, 1000);
    write_sales(&copy.journal(), "D1", 50, 4, T0 + 20_000, 1000);
    let (code, _, out) = a.ship();
    assert_eq!(code, 0, "{out}");
    let (code, v, out) = copy.ship();
    assert_eq!(code, 3, "{out}");
    assert!(v["message"].as_str().unwrap().contains("copied"), "{out}");
    let admin = pg.admin().await;
    assert_union(&admin, &[&a]).await;
}

/// Row 189: a till moved to a new machine with a fresh journal. Before, the office refused
/// it as a copied config, and once the registry was cleared by hand, skipped its rows (their
/// seqs start at 1 again, below what the office held). `office release-till` lets the new
/// journal in under a new generation; the old machine's sales stay at the office, and the old
/// machine, should it come back, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_189_a_till_moved_to_a_fresh_journal_ships_after_release() {
    let pg = Pg::start();
    init(&pg);
    let old = TillDir::new(&pg, "N1", "store-1");
    write_sales(&old.journal(), "N1", 0, 5, T0, 1000);
    let (code, _, out) = old.ship();
    assert_eq!(code, 0, "{out}");
    let new = TillDir::copied_from(&old);
    write_sales(&new.journal(), "N1", 100, 2, T0 + 86_400_000, 1000);
    let (code, v, out) = new.ship();
    assert_eq!(code, 3, "{out}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("office release-till N1"),
        "the refusal names the way for a till really moved: {out}"
    );
    let out = pg_support::office(&pg, &["release-till", "N1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, _, out) = new.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    assert_eq!(office_sales(&admin, "N1").await.len(), 7);
    assert_holds_journal(&admin, &new).await;
    let (code, _, out) = old.ship();
    assert_eq!(code, 3, "{out}");
    // A till the office never added.
    let out = pg_support::office(&pg, &["release-till", "NOPE"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NOPE") && err.contains("add-till"), "{err}");
}

/// Row 190: `office add-till` with the server logging every statement: the till's password
/// never reaches the office's log (the role gets a SCRAM verifier made here, not the password).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_190_add_till_keeps_the_password_out_of_the_office_log() {
    let pg = Pg::start();
    init(&pg);
    pg.psql("postgres", "ALTER SYSTEM SET log_statement = 'all'");
    pg.psql("postgres", "SELECT pg_reload_conf()");
    let t = TillDir::new(&pg, "L1", "store-1");
    let password = t.password();
    assert_eq!(password.len(), 32);
    let log = pg.log();
    assert!(log.contains("CREATE ROLE"), "statements are logged: {log}");
    assert!(
        !log.contains(&password),
        "the password reached the office log"
    );
    // And the role logs in with it.
    write_sales(&t.journal(), "L1", 0, 2, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
}

/// Row 191 (review of issue 14, F2): a till's role rewrote its own materialised rows — a paid
/// ¥1.00 sale made ¥0.01 with a seq no later snapshot could beat — and the office reported
/// what the till's operator wrote. The tables are now written only by the materialising
/// trigger (SECURITY DEFINER); a till may only add journal rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_191_a_till_cannot_rewrite_its_own_materialised_rows() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "W1", "store-1");
    write_sales(&t.journal(), "W1", 0, 3, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let c = t.client(&pg).await;
    for sql in [
        "UPDATE paycode.sales SET total_fee = 1, seq = 999999999, generation = 999 WHERE till_id = 'W1'",
        "UPDATE paycode.refunds SET state = 'failed' WHERE till_id = 'W1'",
        "UPDATE paycode.shifts SET report = '' WHERE till_id = 'W1'",
        "UPDATE paycode.events SET detail = '' WHERE till_id = 'W1'",
        "INSERT INTO paycode.sales (till_id, out_trade_no, seq, total_fee, device_info, created_ms, updated_ms, state, generation)
         VALUES ('W1', 'W1x', 999999999, 1, 'W1', 0, 0, 'paid', 999)",
        "INSERT INTO paycode.events (till_id, event_id, seq, at_ms, kind, detail, generation)
         VALUES ('W1', 999999, 999999, 0, 'x', 'x', 999)",
    ] {
        let e = c.execute(sql, &[]).await.unwrap_err();
        assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {e}"
        );
    }
    // Shipping (the trigger writing those tables) goes on, and the office is the journal.
    write_sales(&t.journal(), "W1", 3, 2, T0 + 60_000, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    assert_union(&admin, &[&t]).await;
}

/// Row 192 (review of issue 14, F1): `register` called by hand with no journal id (NULL or
/// '') cleared the till's binding, so the next journal presented — a copy's — took the till
/// and the real till was refused as the copy; and the client's clock set `last_seen_ms`.
/// Now a journal id must be 32 hex digits, and the office's own clock is used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_192_register_refuses_a_missing_journal_id_and_keeps_its_own_clock() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "G1", "store-1");
    write_sales(&t.journal(), "G1", 0, 2, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    let bound = || async {
        admin
            .query_one(
                "SELECT journal_id FROM paycode.tills WHERE till_id = 'G1'",
                &[],
            )
            .await
            .unwrap()
            .get::<_, Option<String>>(0)
    };
    let before = bound().await;
    assert!(before.is_some());
    let c = t.client(&pg).await;
    for sql in [
        "SELECT paycode.register(NULL, 'G1', '1900000109', 0)",
        "SELECT paycode.register('', 'G1', '1900000109', 0)",
        "SELECT paycode.register('not-a-journal', 'G1', '1900000109', 0)",
    ] {
        let e = c.query_one(sql, &[]).await.unwrap_err();
        assert!(
            e.as_db_error()
                .unwrap()
                .message()
                .contains("paycode:bad_journal"),
            "{sql}: {e}"
        );
    }
    assert_eq!(bound().await, before, "the till's journal stays bound");
    let j = paycode::journal::Journal::open(&t.journal()).unwrap();
    let id = j.journal_id().unwrap();
    let mch = paycode::config::SIMULATOR_MCH_ID;
    c.query_one(
        "SELECT paycode.register($1, 'G1', $2, 4102444800000)",
        &[&id, &mch],
    )
    .await
    .unwrap();
    let seen: i64 = admin
        .query_one(
            "SELECT last_seen_ms FROM paycode.tills WHERE till_id = 'G1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (seen - now).abs() < 600_000,
        "last_seen_ms {seen} is the office's clock, not the till's"
    );
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
}

/// Row 193 (review of issue 14, F3): a till changed the merchant number it is registered
/// under at every round, so it dropped out of its merchant's `office reconcile`. The office
/// keeps the number of first contact and refuses another, naming the fix; `release-till`
/// lets it change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_193_a_till_cannot_move_itself_to_another_merchant() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "H1", "store-1");
    write_sales(&t.journal(), "H1", 0, 2, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let cfg = t.dir.path().join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let mch = paycode::config::SIMULATOR_MCH_ID;
    assert!(text.contains("\n[merchant]\n"), "{text}");
    std::fs::write(
        &cfg,
        text.replace("\n[merchant]\n", "\n[merchant]\nmch_id = \"1900000999\"\n"),
    )
    .unwrap();
    let (code, v, out) = t.ship();
    assert_eq!(code, 3, "{out}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains(mch) && msg.contains("1900000999") && msg.contains("release-till H1"),
        "{out}"
    );
    assert!(
        v["message_zh"].as_str().unwrap().contains("商户号"),
        "{out}"
    );
    let admin = pg.admin().await;
    let registered: String = admin
        .query_one("SELECT mch_id FROM paycode.tills WHERE till_id = 'H1'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(registered, mch);
    let out = pg_support::office(&pg, &["release-till", "H1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
}

/// Row 194 (review of issue 14, F4): one journal copied whole onto a second machine, both
/// selling and both shipping at the same moment. The check that the office's last row is this
/// journal's ran once per round, and `ON CONFLICT DO NOTHING` dropped whichever copy's row
/// lost each race: both said "shipped", and the office held an interleaving equal to neither
/// journal. Each batch is now taken by the office only as the next rows after a last row the
/// till proves is its own, under the till's lock: one copy ships, the other is refused, and
/// the office is exactly the first one's journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_194_two_copies_shipping_at_once_never_interleave() {
    let pg = Pg::start();
    init(&pg);
    let a = TillDir::new(&pg, "I1", "store-1");
    a.set_office("batch_rows", "1");
    write_sales(&a.journal(), "I1", 0, 2, T0, 1000);
    let (code, _, out) = a.ship();
    assert_eq!(code, 0, "{out}");
    let b = TillDir::copied_from(&a);
    std::fs::create_dir_all(b.journal().parent().unwrap()).unwrap();
    copy_journal(&a.journal(), &b.journal());
    write_sales(&a.journal(), "I1", 100, 25, T0 + 10_000, 1000);
    write_sales(&b.journal(), "I1", 500, 25, T0 + 20_000, 700);
    let spawn = |t: &TillDir| {
        t.command(&["office", "ship", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (ca, cb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    let codes = (oa.status.code().unwrap(), ob.status.code().unwrap());
    let admin = pg.admin().await;
    let winner = match codes {
        (0, 3) => &a,
        (3, 0) => &b,
        other => panic!(
            "one copy ships and the other is refused, got {other:?}: {} / {}",
            String::from_utf8_lossy(&oa.stdout),
            String::from_utf8_lossy(&ob.stdout)
        ),
    };
    assert_union(&admin, &[winner]).await;
    // And it stays so: the refused copy is refused again, the winner ships on.
    let loser = if std::ptr::eq(winner, &a) { &b } else { &a };
    let (code, _, out) = loser.ship();
    assert_eq!(code, 3, "{out}");
    // The office sees it (second review, F3): the report names the till a machine of which
    // was refused, so the sales made there are looked for, not silently missing.
    let out = pg_support::office(&pg, &["report", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let till = r["tills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["till"] == "I1")
        .unwrap();
    assert_eq!(till["refused"]["kind"], "journal_behind", "{r}");
    let out = pg_support::office(&pg, &["report"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("refused") && text.contains("拒收"), "{text}");
    write_sales(&winner.journal(), "I1", 900, 2, T0 + 90_000, 1000);
    let (code, _, out) = winner.ship();
    assert_eq!(code, 0, "{out}");
    assert_union(&admin, &[winner]).await;
}

/// Row 194's other side: two shippers of the same journal on the same machine at once (the
/// cashier screen's background shipper and an `office ship` typed by hand) both finish, each
/// going on from wherever the other left the office, and every row arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_194_two_shippers_of_one_journal_both_finish() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "J1", "store-1");
    t.set_office("batch_rows", "1");
    write_sales(&t.journal(), "J1", 0, 30, T0, 1000);
    let spawn = || {
        t.command(&["office", "ship", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(
        (oa.status.code(), ob.status.code()),
        (Some(0), Some(0)),
        "{} / {}",
        String::from_utf8_lossy(&oa.stdout),
        String::from_utf8_lossy(&ob.stdout)
    );
    let rows = |o: &std::process::Output| -> u64 {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["rows"].as_u64().unwrap()
    };
    // Each counts the rows the office took from it: together, the outbox once.
    assert_eq!(rows(&oa) + rows(&ob), outbox_last(&t.journal()) as u64);
    let admin = pg.admin().await;
    assert_union(&admin, &[&t]).await;
}

/// Row 195 (second review of issue 14): a journal restored from a backup and shipped again as
/// a new generation overwrote what the office held of the lost timeline: the events and the
/// shift handover with the same ids, the refund whose number the restored till gave again,
/// and the sale's newer state with the backup's older snapshot. Now a later generation
/// replaces a record only with a newer one (by its own time), and events, shifts and refunds
/// made again under an old id are kept beside the old ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_195_a_restored_journal_never_overwrites_the_lost_timeline() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "Z1", "store-1");
    let (code, v, out) = t.pay("5.00", "normal");
    assert_eq!(code, 0, "{out}");
    let a = v["out_trade_no"].as_str().unwrap().to_string();
    let backup = t.dir.path().join("bk1.db");
    let (code, _, out) = t.run(&["backup", backup.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = t.pay("7.00", "normal");
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = t.run(&["refund", &a, "--amount", "2.00", "--json"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = t.run(&["shift", "--close", "--json"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let admin = pg.admin().await;
    let snapshot = |sql: &'static str| {
        let admin = &admin;
        async move {
            admin
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<std::collections::BTreeSet<String>>()
        }
    };
    const EVENTS: &str = "SELECT event_id || ' ' || at_ms || ' ' || kind FROM paycode.events";
    const SHIFTS: &str = "SELECT shift_id || ' ' || closed_ms FROM paycode.shifts";
    const REFUNDS: &str =
        "SELECT out_refund_no || ' ' || refund_fee || ' ' || state FROM paycode.refunds";
    const SALES: &str =
        "SELECT out_trade_no || ' ' || state || ' ' || updated_ms FROM paycode.sales";
    let (events, shifts, refunds, sales) = (
        snapshot(EVENTS).await,
        snapshot(SHIFTS).await,
        snapshot(REFUNDS).await,
        snapshot(SALES).await,
    );
    assert_eq!(shifts.len(), 1, "{shifts:?}");
    assert_eq!(refunds.len(), 1, "{refunds:?}");

    copy_journal(&backup, &t.journal());
    let (code, _, out) = t.pay("3.00", "normal");
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = t.ship();
    assert_eq!(code, 3, "{out}");
    let out = pg_support::office(&pg, &["release-till", "Z1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, _, out) = t.run(&["shift", "--close", "--json"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");

    // Nothing the office held of the lost timeline was replaced.
    let after = (
        snapshot(EVENTS).await,
        snapshot(SHIFTS).await,
        snapshot(REFUNDS).await,
        snapshot(SALES).await,
    );
    assert!(
        after.0.is_superset(&events),
        "events lost: {:?}",
        events.difference(&after.0)
    );
    assert!(
        after.1.is_superset(&shifts),
        "shift handover lost: {:?}",
        after.1
    );
    assert_eq!(after.1.len(), 2, "both handovers: {:?}", after.1);
    assert!(after.2.is_superset(&refunds), "refund lost: {:?}", after.2);
    let old_a = sales.iter().find(|s| s.starts_with(&a)).unwrap();
    assert!(
        after.3.contains(old_a),
        "sale {a}'s newer state was replaced by the backup's: {:?}",
        after.3
    );
    // And the current generation is the restored journal.
    assert_holds_journal(&admin, &t).await;
}

/// Row 196 (second review of issue 14, F2): whoever holds a till's password can call
/// `paycode.ship` by hand with a proper `prev` and a forged next row — a ¥7.00 paid sale
/// shipped again as ¥0.01 "refunded" under another till's device_info. The office cannot tell
/// a forger from the till, but it refuses every row a real till never writes: a sale whose
/// total or creation time changes, a state no till has, another till's device_info, a key that
/// is not the row's own, a refund of a sale the till never shipped. The till ships on after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_196_rows_no_till_would_write_are_refused() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "F1", "store-1");
    write_sales(&t.journal(), "F1", 0, 2, T0, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    let c = t.client(&pg).await;
    let sale: String = c
        .query_one(
            "SELECT key FROM paycode.journal WHERE kind = 'sale' ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let forge = |kind: &str, key: &str, patch: &str| {
        format!(
            "SELECT paycode.ship(1, paycode.my_journal(),
               (SELECT jsonb_build_object('seq', seq, 'kind', kind, 'key', key, 'row', row, 'at_ms', at_ms)
                  FROM paycode.journal ORDER BY seq DESC LIMIT 1),
               jsonb_build_array(jsonb_build_object(
                  'seq', (SELECT max(seq) + 1 FROM paycode.journal), 'kind', '{kind}', 'key', '{key}',
                  'row', (SELECT row FROM paycode.journal WHERE kind = 'sale' AND key = '{sale}' ORDER BY seq DESC LIMIT 1)
                         || '{patch}'::jsonb,
                  'at_ms', 1)))"
        )
    };
    for (what, sql) in [
        (
            "a changed total",
            forge("sale", &sale, r#"{"total_fee": 1}"#),
        ),
        (
            "a changed creation time",
            forge("sale", &sale, r#"{"created_ms": 1}"#),
        ),
        (
            "a state no till has",
            forge("sale", &sale, r#"{"state": "refunded"}"#),
        ),
        (
            "another till's device_info",
            forge("sale", &sale, r#"{"device_info": "F2"}"#),
        ),
        ("a key that is not the row's", forge("sale", "F1x", "{}")),
        (
            "an order number WeChat would not take (an escape sequence)",
            // The key spliced into the SQL as 'F1' || chr(27) || '[2J', equal to the row's.
            forge(
                "sale",
                "F1' || chr(27) || '[2J",
                r#"{"out_trade_no": "F1\u001b[2J"}"#,
            ),
        ),
        (
            "a row of 100 KB",
            forge(
                "sale",
                &sale,
                &format!(r#"{{"message": "{}"}}"#, "x".repeat(100_000)),
            ),
        ),
        // Third review (F2, F3; row 202).
        (
            "another till's order number",
            forge(
                "sale",
                "F220261203000000099",
                r#"{"out_trade_no": "F220261203000000099"}"#,
            ),
        ),
        (
            "a number no till gives",
            forge("sale", "F1X", r#"{"out_trade_no": "F1X"}"#),
        ),
        (
            "a total WeChat cannot have",
            forge(
                "sale",
                "F120261203000000077",
                r#"{"out_trade_no": "F120261203000000077", "total_fee": 9223372036854775807}"#,
            ),
        ),
        (
            "a negative cash_fee",
            forge(
                "sale",
                "F120261203000000078",
                r#"{"out_trade_no": "F120261203000000078", "cash_fee": -5}"#,
            ),
        ),
        (
            "a paid sale sent again",
            forge("sale", &sale, r#"{"state": "submitted"}"#),
        ),
        (
            "a refund above the sale's total",
            forge(
                "refund",
                &format!("{sale}R1"),
                &format!(
                    r#"{{"out_refund_no": "{sale}R1", "out_trade_no": "{sale}", "refund_fee": 99999999, "reason": "", "state": "success", "created_ms": 1, "updated_ms": 1}}"#
                ),
            ),
        ),
        (
            "a refund number no till gives",
            forge(
                "refund",
                &format!("{sale}X1"),
                &format!(
                    r#"{{"out_refund_no": "{sale}X1", "out_trade_no": "{sale}", "refund_fee": 1, "reason": "", "state": "success", "created_ms": 1, "updated_ms": 1}}"#
                ),
            ),
        ),
        (
            "a refund of a sale never shipped",
            forge(
                "refund",
                "F1nR1",
                r#"{"out_refund_no": "F1nR1", "out_trade_no": "F1n", "refund_fee": 100, "reason": "", "state": "success", "created_ms": 1, "updated_ms": 1}"#,
            ),
        ),
    ] {
        let e = c.query_one(&sql, &[]).await.unwrap_err();
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(msg.starts_with("paycode:bad_row:"), "{what}: {e:?}");
    }
    let admin = pg.admin().await;
    let total: i64 = admin
        .query_one(
            "SELECT total_fee FROM paycode.sales WHERE out_trade_no = $1",
            &[&sale],
        )
        .await
        .unwrap()
        .get(0);
    assert!(total > 1, "the sale kept its total");
    write_sales(&t.journal(), "F1", 2, 2, T0 + 60_000, 1000);
    let (code, _, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    assert_union(&admin, &[&t]).await;
}

/// Row 201 (third review of issue 14, F1): `paycode.materialise()` runs as the office's owner
/// and anyone could call it: a till's login, or a reporting login, made a temporary table with
/// a trigger calling it and wrote any till's sales and refunds (another till's ¥3.00 paid sale
/// made ¥0.01 "failed", a ¥400.00 refund). Now only the office's own trigger runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_201_no_login_can_run_the_offices_trigger_functions_itself() {
    let pg = Pg::start();
    init(&pg);
    let victim = TillDir::new(&pg, "M2", "store-1");
    write_sales(&victim.journal(), "M2", 0, 2, T0, 1000);
    let (code, _, out) = victim.ship();
    assert_eq!(code, 0, "{out}");
    let forger = TillDir::new(&pg, "M1", "store-1");
    let (code, _, out) = forger.ship();
    assert_eq!(code, 0, "{out}");
    let pw = forger.dir.path().join("reader.pw");
    let out = pg_support::office(
        &pg,
        &[
            "add-reader",
            "books",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reader_pw = std::fs::read_to_string(&pw).unwrap().trim().to_string();
    let admin = pg.admin().await;
    let held = async |admin: &tokio_postgres::Client| -> (String, i64, String) {
        let r = admin
            .query_one(
                "SELECT out_trade_no, total_fee, state FROM paycode.sales
                 WHERE till_id = 'M2' ORDER BY out_trade_no LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    let before = held(&admin).await;
    let sale = before.0.clone();
    let logins = [
        ("a till's login", forger.client(&pg).await),
        (
            "a reporting login",
            pg.client("paycode_reader_books", &reader_pw).await,
        ),
    ];
    for (who, c) in &logins {
        for function in ["paycode.materialise()", "paycode.check_row()"] {
            let sql = format!(
                "CREATE TEMP TABLE IF NOT EXISTS j (till_id text, generation int, seq bigint,
                     kind text, key text, row jsonb, at_ms bigint);
                 CREATE OR REPLACE TRIGGER x AFTER INSERT ON j FOR EACH ROW
                     EXECUTE FUNCTION {function};
                 INSERT INTO j VALUES ('M2', 99, 999999999, 'sale', '{sale}',
                     '{{\"out_trade_no\": \"{sale}\", \"total_fee\": 1, \"device_info\": \"M2\",
                       \"created_ms\": 1, \"updated_ms\": 9999999999999, \"state\": \"failed\"}}', 0)"
            );
            let e = c.batch_execute(&sql).await.unwrap_err();
            assert_eq!(
                e.code(),
                Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
                "{who}, {function}: {e:?}"
            );
        }
    }
    assert_eq!(
        held(&admin).await,
        before,
        "the sale is as the till shipped it"
    );
    // The tills ship on: the trigger still runs for the office's own journal.
    write_sales(&victim.journal(), "M2", 2, 2, T0 + 60_000, 1000);
    let (code, _, out) = victim.ship();
    assert_eq!(code, 0, "{out}");
    assert_union(&admin, &[&victim]).await;
}

/// How many of `role`'s sessions wait for a lock in a statement naming `call`.
async fn waiting(admin: &tokio_postgres::Client, role: &str, call: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE usename = $1 AND wait_event_type = 'Lock' AND query LIKE $2",
            &[&role, &format!("%{call}%")],
        )
        .await
        .unwrap()
        .get(0)
}

/// Row 204 (third review of issue 14, F9): two copies of one journal with as many new rows
/// each, shipping at the same moment. Both read the office's last seq, one batch was taken,
/// and the other was told `not_next`: it went on from the office's new last seq, found no rows
/// after it and said "shipped", exit 0, with none of its rows at the office and no mark in the
/// report. The locks below hold both at that very moment, every time. Now the loser checks the
/// office's row is its own, and is refused `journal_behind`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_204_the_copy_that_loses_the_race_is_refused_not_shipped() {
    let pg = Pg::start();
    init(&pg);
    let a = TillDir::new(&pg, "K1", "store-1");
    write_sales(&a.journal(), "K1", 0, 2, T0, 1000);
    let (code, _, out) = a.ship();
    assert_eq!(code, 0, "{out}");
    let b = TillDir::copied_from(&a);
    std::fs::create_dir_all(b.journal().parent().unwrap()).unwrap();
    copy_journal(&a.journal(), &b.journal());
    write_sales(&a.journal(), "K1", 10, 1, T0 + 10_000, 1000);
    write_sales(&b.journal(), "K1", 20, 1, T0 + 20_000, 700);
    assert_eq!(outbox_last(&a.journal()), outbox_last(&b.journal()));

    // One session holds the registry (both wait to register), another the journal (both
    // then read the office's last seq and wait inside `paycode.ship`).
    let mut registry = pg.admin().await;
    let mut journal = pg.admin().await;
    let hold_registry = registry.transaction().await.unwrap();
    hold_registry
        .batch_execute("LOCK TABLE paycode.tills IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let hold_journal = journal.transaction().await.unwrap();
    hold_journal
        .batch_execute("LOCK TABLE paycode.journal IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let spawn = |t: &TillDir| {
        t.command(&["office", "ship", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (ca, cb) = (spawn(&a), spawn(&b));
    let watch = pg.admin().await;
    let role = a.role();
    wait_for(
        "both wait to register",
        Duration::from_secs(20),
        async || waiting(&watch, &role, "paycode.register").await == 2,
    )
    .await;
    hold_registry.commit().await.unwrap();
    wait_for(
        "both wait inside ship",
        Duration::from_secs(20),
        async || waiting(&watch, &role, "paycode.ship").await == 2,
    )
    .await;
    hold_journal.commit().await.unwrap();
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    let codes = (oa.status.code().unwrap(), ob.status.code().unwrap());
    let said = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let winner = match codes {
        (0, 3) => &a,
        (3, 0) => &b,
        other => panic!(
            "one copy ships and the other is refused, got {other:?}: {} / {}",
            said(&oa),
            said(&ob)
        ),
    };
    let admin = pg.admin().await;
    assert_union(&admin, &[winner]).await;
    let loser = if std::ptr::eq(winner, &a) { &ob } else { &oa };
    assert!(
        said(loser).contains("differs from this journal")
            && said(loser).contains("release-till K1"),
        "{}",
        said(loser)
    );
    let out = pg_support::office(&pg, &["report", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let till = r["tills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["till"] == "K1")
        .unwrap();
    assert_eq!(till["refused"]["kind"], "journal_behind", "{r}");
}
