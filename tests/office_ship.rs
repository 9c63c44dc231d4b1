//! The head office end to end (issue 14): a real PostgreSQL started by the test, `paycode
//! office init` and `add-till`, several tills — each its own directory, config, journal and
//! `device_info`, the built-in simulator — making sales with the real binary, `paycode office
//! ship`, and the office's tables equal to the union of the tills' journals.
#![allow(clippy::unwrap_used)]

mod pg_support;

use pg_support::{Pg, TillDir, assert_office_is_union, init};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tills_ship_and_the_office_holds_the_union_of_their_journals() {
    let pg = Pg::start();
    init(&pg);
    // A second init is a no-op.
    init(&pg);
    let tills = [
        TillDir::new(&pg, "S1-T1", "store-1"),
        TillDir::new(&pg, "S1-T2", "store-1"),
        TillDir::new(&pg, "S2-T1", "store-2"),
    ];
    let mut day = String::new();
    for (i, t) in tills.iter().enumerate() {
        let (code, v, out) = t.pay(&format!("1.{i}0"), "normal");
        assert_eq!(code, 0, "{out}");
        day = pg_support::day_of_order(&t.device, v["out_trade_no"].as_str().unwrap());
        assert_eq!(v["status"], "paid");
        let (code, _, out) = t.pay("2.00", "notenough");
        assert_eq!(code, 1, "{out}");
    }
    for t in &tills {
        let (code, v, out) = t.ship();
        assert_eq!(code, 0, "{out}");
        assert!(v["rows"].as_u64().unwrap() > 0, "{out}");
        assert_eq!(v["acked"], v["last"], "{out}");
    }
    let admin = pg.admin().await;
    let list: Vec<(&str, std::path::PathBuf)> = tills
        .iter()
        .map(|t| (t.device.as_str(), t.journal()))
        .collect();
    let refs: Vec<(&str, &std::path::Path)> = list.iter().map(|(d, p)| (*d, p.as_path())).collect();
    assert_office_is_union(&admin, &refs).await;

    // More sales on one till, a refund, then ship again: only the new rows go.
    let (code, v, out) = tills[0].pay("5.00", "normal");
    assert_eq!(code, 0, "{out}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let (code, _, out) = tills[0].run(&["refund", &no, "--amount", "1.00", "--json"]);
    assert_eq!(code, 0, "{out}");
    let (code, v, out) = tills[0].ship();
    assert_eq!(code, 0, "{out}");
    assert!(v["rows"].as_u64().unwrap() > 0);
    // Nothing new: a round ships nothing.
    let (code, v, out) = tills[1].ship();
    assert_eq!((code, v["rows"].as_u64()), (0, Some(0)), "{out}");
    assert_office_is_union(&admin, &refs).await;

    // Nothing about the code but its fingerprint reached the office.
    let masked: i64 = admin
        .query_one(
            "SELECT count(*) FROM paycode.journal WHERE row ? 'code_masked' OR row ? 'flow'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(masked, 0);
    // The chain's day, as the office reports it.
    let out = pg_support::office(&pg, &["report", "--json", "--date", &day]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["totals"]["sales"], 7, "{r}");
    assert_eq!(r["totals"]["paid"], 100 + 110 + 120 + 500, "{r}");
    assert_eq!(r["totals"]["refunded"], 100, "{r}");
    assert_eq!(r["by_store"]["store-1"]["paid_count"], 3, "{r}");
    assert_eq!(r["by_store"]["store-2"]["paid"], 120, "{r}");
    assert_eq!(r["by_state"]["failed"]["count"], 3, "{r}");
    assert_eq!(r["unsettled"].as_array().unwrap().len(), 0, "{r}");
    let out = pg_support::office(
        &pg,
        &["report", "--csv", "--store", "store-1", "--date", &day],
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains("store-1,S1-T1,3,2,600,100,500,0"), "{csv}");
    let out = pg_support::office(&pg, &["report"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("连锁日报") && text.contains("chain report"),
        "{text}"
    );

    let stores: i64 = admin
        .query_one("SELECT count(DISTINCT store) FROM paycode.tills", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stores, 2);
}

/// `paycode serve` (a till process) ships in the background: sales written while it runs
/// reach the office without any `office ship`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::disallowed_methods)] // real time
async fn serve_ships_in_the_background() {
    let pg = Pg::start();
    init(&pg);
    let t = TillDir::new(&pg, "BG1", "store-1");
    t.set_office("interval", "\"100ms\"");
    let said = t.dir.path().join("serve.stderr");
    let mut serve = t
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&said).unwrap())
        .spawn()
        .unwrap();
    // Once it is up: its start-up recovery would otherwise settle a sale this test is still
    // writing behind its back (intent, then paid) — two writers on one journal, which no
    // till has — leaving a paid sale written back to an earlier state, which the office
    // rightly refuses (row 202). The pipe stays open while serve runs.
    let mut out = std::io::BufReader::new(serve.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");
    pg_support::write_sales(&t.journal(), "BG1", 0, 20, 1_796_000_000_000, 1000);
    let last = pg_support::outbox_last(&t.journal());
    let admin = pg.admin().await;
    let start = std::time::Instant::now();
    while pg_support::shipped(&admin, "BG1").await < last {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "serve did not ship: {}",
            std::fs::read_to_string(&said).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    serve.kill().unwrap();
    serve.wait().unwrap();
    drop(out);
    pg_support::assert_union(&admin, &[&t]).await;
}

/// `paycode office reconcile`: one statement for the merchant number (every terminal) against
/// all its tills' records; a till that has not shipped yet is "not shipped yet", never an
/// unknown order; once it ships, everything agrees. The till's own reconcile names the
/// office's as the authoritative one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_reconcile_attributes_every_order_to_its_till() {
    let pg = Pg::start();
    init(&pg);
    let shared = tempfile::tempdir().unwrap();
    let t1 = TillDir::new_in(&pg, "M-T1", "store-1", Some(shared.path()));
    let t2 = TillDir::new_in(&pg, "M-T2", "store-2", Some(shared.path()));
    let mut day = String::new();
    for (t, amount) in [(&t1, "1.00"), (&t1, "2.00"), (&t2, "3.00")] {
        let (code, v, out) = t.pay(amount, "normal");
        assert_eq!((code, v["status"].as_str()), (0, Some("paid")), "{out}");
        day = pg_support::day_of_order(&t.device, v["out_trade_no"].as_str().unwrap());
    }
    // T2 registers (so the office knows its numbers) but its sale has not arrived.
    t2.set_office("batch_rows", "1");
    let c2 = t2.client(&pg).await;
    let j2 = paycode::journal::Journal::open(&t2.journal()).unwrap();
    paycode::office::ship::register(
        &c2,
        &j2.journal_id().unwrap(),
        &paycode::office::ship::Identity {
            device_info: "M-T2".into(),
            mch_id: paycode::config::SIMULATOR_MCH_ID.into(),
        },
    )
    .await
    .unwrap();
    let (code, _, out) = t1.ship();
    assert_eq!(code, 0, "{out}");

    let merchant = shared.path().join("merchant.toml");
    let text = pg_support::till_config("OFFICE").replace(
        "path = \"data/paycode.db\"",
        &format!("path = \"{}\"", shared.path().join("office.db").display()),
    );
    std::fs::write(&merchant, text).unwrap();
    let reconcile = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paycode"))
            .args([
                "--config",
                merchant.to_str().unwrap(),
                "office",
                "reconcile",
                "--json",
                "--date",
                &day,
            ])
            .env("PAYCODE_OFFICE_ADMIN_URL", pg.admin_url())
            .env("PAYCODE_OFFICE_ADMIN_PASSWORD", pg_support::ADMIN_PASSWORD)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), v)
    };
    let (code, v) = reconcile();
    assert_eq!(code, 1, "{v}");
    let orders = v["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 3, "{v}");
    let of = |till: &str, finding: &str| {
        orders
            .iter()
            .filter(|o| o["till"] == till && o["finding"] == finding)
            .count()
    };
    assert_eq!(of("M-T1", "agrees"), 2, "{v}");
    assert_eq!(of("M-T2", "not_shipped_yet"), 1, "{v}");
    assert!(
        !v.to_string().contains("unknown_order"),
        "an unshipped till's order read as unknown: {v}"
    );
    let (code, _, out) = t2.ship();
    assert_eq!(code, 0, "{out}");
    let (code, v) = reconcile();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["wechat_paid"], 600, "{v}");
    assert_eq!(v["office_paid"], 600, "{v}");
    // Row 216 (third review of issue 14, F5): a till released (restored, moved, retired) kept
    // its shipped sales out of its merchant's reconcile — "not shipped yet" — until it shipped
    // again, and for ever once retired. The merchant number stays with the till's records.
    let out = pg_support::office(&pg, &["release-till", "M-T1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, v) = reconcile();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["office_paid"], 600, "{v}");

    let (_, _, out) = t1.run(&["reconcile"]);
    assert!(
        out.contains("office reconcile") && out.contains("以总部结果为准"),
        "{out}"
    );
}

/// `[office] sslmode = "require"`: the journal goes over TLS (rustls), the office's
/// certificate checked against `ca_file`; without that CA the connection is refused and
/// nothing is shipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ships_over_tls_checking_the_offices_certificate() {
    let pg = Pg::start();
    init(&pg);
    let ca = pg.enable_tls();
    let t = TillDir::new(&pg, "TLS1", "store-1");
    t.set_office("sslmode", "\"require\"");
    pg_support::write_sales(&t.journal(), "TLS1", 0, 3, 1_796_000_000_000, 1000);
    let (code, _, out) = t.ship();
    // The handshake fails on the unknown CA: proof the connection was TLS and checked.
    assert_ne!(code, 0, "shipped without trusting the office's CA: {out}");
    assert!(out.contains("office"), "{out}");
    std::fs::write(t.dir.path().join("office-ca.pem"), ca).unwrap();
    t.set_office("ca_file", "\"office-ca.pem\"");
    let (code, v, out) = t.ship();
    assert_eq!(code, 0, "{out}");
    assert!(v["rows"].as_u64().unwrap() > 0);
    let admin = pg.admin().await;
    pg_support::assert_union(&admin, &[&t]).await;
}

/// A reporting login (`office add-reader`): the owner's accountant runs `office report` with
/// it and sees every till, but can change nothing and cannot add or release tills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporting_login_reads_every_till_and_changes_nothing() {
    let pg = Pg::start();
    pg_support::init(&pg);
    let a = pg_support::TillDir::new(&pg, "V1", "store-1");
    let b = pg_support::TillDir::new(&pg, "V2", "store-2");
    for t in [&a, &b] {
        let (code, _, out) = t.pay("1.00", "normal");
        assert_eq!(code, 0, "{out}");
        let (code, _, out) = t.ship();
        assert_eq!(code, 0, "{out}");
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("reader.pw");
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
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(printed.contains("paycode_reader_books@"), "{printed}");
    let password = std::fs::read_to_string(&pw).unwrap().trim().to_string();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&pw).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let reader = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paycode"))
            .arg("office")
            .args(args)
            .env(
                "PAYCODE_OFFICE_ADMIN_URL",
                pg.url_for("paycode_reader_books"),
            )
            .env("PAYCODE_OFFICE_ADMIN_PASSWORD", &password)
            .env_remove("PAYCODE_CONFIG")
            .output()
            .unwrap()
    };
    let out = reader(&["report", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["totals"]["sales"], 2, "both tills' sales: {r}");
    // It cannot add or release tills.
    let out = reader(&["release-till", "V1"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = pg.client("paycode_reader_books", &password).await;
    for sql in [
        "DELETE FROM paycode.sales",
        "UPDATE paycode.sales SET state = 'refunded'",
        "INSERT INTO paycode.tills (till_id, store, role) VALUES ('X', 'x', 'x')",
        "UPDATE paycode.tills SET journal_id = NULL",
        "DELETE FROM paycode.journal",
    ] {
        let e = c.batch_execute(sql).await.unwrap_err();
        assert_eq!(
            e.as_db_error().map(|d| d.code().code()),
            Some("42501"),
            "{sql}: {e:?}"
        );
    }
    let n: i64 = c
        .query_one("SELECT count(*) FROM paycode.sales", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    // A till's role still sees only its own rows.
    let ca = a.client(&pg).await;
    let n: i64 = ca
        .query_one("SELECT count(*) FROM paycode.sales", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

/// The admin's mistakes at the office, from the review of issue 14 (F6, F7, F9, F10): the
/// printed `[office]` lines name the password file actually written; a till added twice, or
/// again in other letter case, is refused naming the registered one; a second release of a
/// till that has not shipped since changes nothing; a report of a store the office does not
/// have says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offices_own_commands_name_the_admins_mistakes() {
    let pg = Pg::start();
    init(&pg);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pt1");
    let out = pg_support::office(
        &pg,
        &[
            "add-till",
            "K1",
            "--store",
            "S1",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8_lossy(&out.stdout);
    assert!(lines.contains("password_file = \"pt1\""), "{lines}");
    for again in ["K1", "k1"] {
        let pw2 = dir.path().join(format!("again-{again}"));
        let out = pg_support::office(
            &pg,
            &[
                "add-till",
                again,
                "--store",
                "S2",
                "--password-file",
                pw2.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("K1")
                && err.contains("S1")
                && err.contains("已在总部登记")
                && !err.contains("SQLSTATE"),
            "{again}: {err}"
        );
        assert!(!pw2.exists(), "no password file for a till not added");
    }
    // A store name that would reach the admin's terminal as an escape sequence.
    let pw3 = dir.path().join("pt3");
    let out = pg_support::office(
        &pg,
        &[
            "add-till",
            "K3",
            "--store",
            "S\u{1b}[2J",
            "--password-file",
            pw3.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--store") && !err.contains('\u{1b}'), "{err}");
    let out = pg_support::office(&pg, &["release-till", "K1"]);
    assert!(out.status.success());
    let out = pg_support::office(&pg, &["release-till", "K1"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("already") && said.contains("已"), "{said}");
    let admin = pg.admin().await;
    let g: i32 = admin
        .query_one(
            "SELECT generation FROM paycode.tills WHERE till_id = 'K1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        g, 1,
        "a till that has shipped nothing is not moved on a generation"
    );
    let out = pg_support::office(&pg, &["report", "--store", "NOPE"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("NOPE") && err.contains("S1") && err.contains("门店"),
        "{err}"
    );
}

/// Connecting to the office, as the review of issue 14 (F7) met it: a wrong or missing admin
/// password and an office that is not there are said in words that name the fix (not the
/// driver's "password missing"), in both languages, with the right exit status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_to_reach_the_office_is_said_in_words() {
    let pg = Pg::start();
    let run = |url: String, password: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_paycode"));
        c.args(["office", "init"])
            .env("PAYCODE_OFFICE_ADMIN_URL", url)
            .env_remove("PAYCODE_OFFICE_ADMIN_PASSWORD")
            .env_remove("PAYCODE_CONFIG");
        if let Some(p) = password {
            c.env("PAYCODE_OFFICE_ADMIN_PASSWORD", p);
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    for password in [None, Some("wrong")] {
        let (code, err) = run(pg.admin_url(), password);
        assert_eq!(code, Some(3), "{err}");
        assert!(
            err.contains("PAYCODE_OFFICE_ADMIN_PASSWORD")
                && err.contains("密码")
                && err.contains("postgres"),
            "{password:?}: {err}"
        );
        assert!(!err.contains("wrong"), "the password is never shown: {err}");
    }
    let closed = format!(
        "postgresql://postgres@127.0.0.1:{}/paycode",
        pg_support::free_port()
    );
    let (code, err) = run(closed, Some("x"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot reach") && err.contains("无法连接总部数据库"),
        "{err}"
    );
}
