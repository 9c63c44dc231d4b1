//! The shipped config.toml (`base_url = "simulator"`): every `paycode` process runs its own
//! in-process simulator, and they share one simulated WeChat through the log in the data
//! directory. A later `query`, `refund` or `recover` sees what an earlier `pay` did; a killed
//! `pay` is recovered against the same orders; a used code stays used.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time
#![allow(clippy::unwrap_used)]

use paycode::journal::{Journal, SaleState};
use paycode::simulator::{SimSettings, scenario::by_key};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The shipped config with quick checkout timings and this password timeout.
fn write_config(dir: &Path, password_timeout: &str) {
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    let mut text = shipped;
    for (from, to) in [
        (
            "first_query_after = \"5s\"",
            "first_query_after = \"100ms\"",
        ),
        ("query_interval = \"5s\"", "query_interval = \"100ms\""),
        (
            "reverse_not_before = \"15s\"",
            "reverse_not_before = \"200ms\"",
        ),
        ("reverse_backoff = \"2s\"", "reverse_backoff = \"50ms\""),
        (
            "unknown_query_after = \"2s\"",
            "unknown_query_after = \"50ms\"",
        ),
    ] {
        assert!(text.contains(from), "config.toml no longer has {from}");
        text = text.replace(from, to);
    }
    let pt = "password_timeout = \"30s\"";
    assert!(text.contains(pt));
    text = text.replace(pt, &format!("password_timeout = \"{password_timeout}\""));
    assert!(text.contains("base_url = \"simulator\""));
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

fn paycode(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_paycode"));
    c.current_dir(dir)
        .args(args)
        .env_remove("PAYCODE_CONFIG")
        .stdin(Stdio::null());
    c
}

fn run(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out: Output = paycode(dir, args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        format!("{stdout}\n{stderr}"),
    )
}

fn code(scenario: &str, serial: u64) -> String {
    paycode::simulator::code_for(by_key(scenario).unwrap(), serial)
}

/// `paycode pay --json` of `amount` with a fresh code of `scenario`.
fn pay(d: &Path, amount: &str, scenario: &str, serial: u64) -> (i32, serde_json::Value, String) {
    run(
        d,
        &[
            "pay",
            "--amount",
            amount,
            "--code",
            &code(scenario, serial),
            "--json",
        ],
    )
}

/// Start a password sale that is never confirmed, wait until WeChat's USERPAYING is journaled,
/// then SIGKILL the process; the sale's order number.
fn kill_while_waiting(d: &Path, serial: u64) -> String {
    let journal = d.join("data/paycode.db");
    let pay_code = code("password_never", serial);
    let mut child = paycode(d, &["pay", "--amount", "21.00", "--code", &pay_code])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let no = loop {
        let open = Journal::open(&journal)
            .ok()
            .and_then(|j| j.unfinished().ok())
            .unwrap_or_default();
        if let Some(s) = open.iter().find(|s| s.state == SaleState::Submitted) {
            break s.out_trade_no.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "hang guard: no USERPAYING sale journaled"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    no
}

#[test]
fn later_processes_see_the_orders_of_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_config(d, "30s");

    let paid_code = code("normal", 7_001);
    let (rc, v, all) = run(
        d,
        &["pay", "--amount", "30.00", "--code", &paid_code, "--json"],
    );
    assert_eq!((rc, v["status"].as_str()), (0, Some("paid")), "{all}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();

    // Another process asks the (shared) simulated WeChat about it.
    let (rc, q, all) = run(d, &["query", &no, "--json"]);
    assert_eq!(
        (rc, q["wechat"].as_str(), q["status"].as_str()),
        (0, Some("SUCCESS"), Some("paid")),
        "{all}"
    );

    // And refunds part of it.
    let (rc, r, all) = run(
        d,
        &["refund", &no, "--amount", "10.00", "--no-wait", "--json"],
    );
    assert!(matches!(rc, 0 | 2), "{all}");
    assert_eq!(r["refund_fee"], 1000, "{all}");

    // The same code in a new process (the till's own duplicate-scan guard switched off) is a
    // used code at the simulated WeChat, not a second charge.
    let shipped_window = "duplicate_scan_window = \"3s\"";
    let cfg = std::fs::read_to_string(d.join("config.toml")).unwrap();
    assert!(cfg.contains(shipped_window));
    let cfg = cfg.replace(shipped_window, "duplicate_scan_window = \"0ms\"");
    std::fs::write(d.join("config.toml"), cfg).unwrap();
    let (rc, again, all) = run(
        d,
        &["pay", "--amount", "30.00", "--code", &paid_code, "--json"],
    );
    assert_eq!((rc, again["status"].as_str()), (1, Some("failed")), "{all}");
    assert_eq!(again["err_code"], "AUTHCODEEXPIRE");

    // The simulated WeChat, rebuilt here from the same log, agrees with the journal.
    let ledger = ledger_of(d);
    let order = ledger.order(&no).unwrap();
    assert_eq!((order.charged, order.refunds.len()), (3000, 1));
    let charged: u64 = ledger.orders.iter().map(|o| o.charged).sum();
    assert_eq!(charged, 3000, "one charge in all");

    let log = std::fs::read_to_string(d.join("data/simulator/ledger.log")).unwrap();
    assert!(
        !log.contains(&paid_code),
        "no full code in the simulator log"
    );
}

#[test]
fn a_killed_pay_is_recovered_against_the_same_simulated_wechat() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_config(d, "60s");

    let no = kill_while_waiting(d, 7_002);

    // The customer never pays; recovery with a short timeout reverses the same order.
    write_config(d, "1s");
    let (rc, v, all) = run(d, &["recover", "--json"]);
    assert_eq!(rc, 0, "{all}");
    assert_eq!(v["recovered"][0]["out_trade_no"], no.as_str(), "{all}");
    assert_eq!(v["recovered"][0]["status"], "reversed", "{all}");

    let ledger = ledger_of(d);
    let order = ledger.order(&no).unwrap();
    assert_eq!(order.state, "REVOKED");
    assert_eq!(order.charged, 0);
    assert_eq!(
        order.requests.get("micropay"),
        Some(&1),
        "never a second charge"
    );
    assert!(order.requests.get("reverse").is_some_and(|n| *n >= 1));
}

/// Run `f` on the data directory's simulator, opened on its log like another process would.
fn at_the_simulator<R>(d: &Path, f: impl FnOnce(&paycode::simulator::RunningSim) -> R) -> R {
    let cfg = paycode::config::load(&d.join("config.toml")).unwrap();
    let mut s = SimSettings::from_config(&cfg);
    s.store = Some(d.join("data/simulator/ledger.log"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(paycode::simulator::start(s)).unwrap();
    f(&sim)
}

/// The ledger of the data directory's simulator.
fn ledger_of(d: &Path) -> paycode::simulator::LedgerView {
    at_the_simulator(d, |sim| sim.ledger())
}

/// The Beijing date of a journal sale, for `--date` (the test may straddle midnight).
fn day_of(d: &Path, no: &str) -> String {
    let j = Journal::open(&d.join("data/paycode.db")).unwrap();
    let ms = j.sale(no).unwrap().unwrap().created_ms;
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    t.date().to_string()
}

#[test]
fn reconcile_finds_what_the_journal_missed_and_agrees_after_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_config(d, "60s");

    // A paid sale with a partial refund, and a declined one.
    let (rc, v, all) = pay(d, "30.00", "normal", 7_101);
    assert_eq!(rc, 0, "{all}");
    let paid = v["out_trade_no"].as_str().unwrap().to_string();
    let (rc, _, all) = run(d, &["refund", &paid, "--amount", "5.00", "--json"]);
    assert_eq!(rc, 0, "{all}");
    let (rc, _, all) = pay(d, "8.00", "notenough", 7_102);
    assert_eq!(rc, 1, "{all}");
    let day = day_of(d, &paid);

    let (rc, r, all) = run(d, &["reconcile", "--date", &day, "--json"]);
    assert_eq!((rc, r["status"].as_str()), (0, Some("agrees")), "{all}");
    assert_eq!(
        (r["journal_paid"].as_u64(), r["wechat_paid"].as_u64()),
        (Some(3000), Some(3000))
    );
    assert_eq!(
        (
            r["journal_refunded"].as_u64(),
            r["wechat_refunded"].as_u64()
        ),
        (Some(500), Some(500))
    );

    // The customer pays while paycode is down: WeChat has the money, the journal does not know.
    let waiting = kill_while_waiting(d, 7_103);
    confirm_at_the_simulator(d, &waiting);

    let (rc, r, all) = run(d, &["reconcile", "--date", &day, "--json"]);
    assert_eq!(
        (rc, r["status"].as_str()),
        (1, Some("differences")),
        "{all}"
    );
    let first = &r["orders"][0];
    assert_eq!(first["out_trade_no"], waiting.as_str(), "{all}");
    assert_eq!(first["finding"], "charged_not_paid");
    assert!(
        first["message"].as_str().unwrap().contains("paycode query"),
        "{first}"
    );

    // Recovery settles it; then both sides agree again.
    let (rc, v, all) = run(d, &["recover", "--json"]);
    assert_eq!(
        (rc, v["recovered"][0]["status"].as_str()),
        (0, Some("paid")),
        "{all}"
    );
    let (rc, r, all) = run(d, &["reconcile", "--date", &day]);
    assert_eq!(rc, 0, "{all}");
    assert!(
        all.contains("all agree") && all.contains("全部一致"),
        "{all}"
    );
    assert_eq!(r, serde_json::Value::Null, "text output without --json");
}

/// The trainer confirms the password at the data directory's simulator (another process's view).
fn confirm_at_the_simulator(d: &Path, no: &str) {
    at_the_simulator(d, |sim| sim.confirm(no).unwrap());
}

#[test]
fn reconcile_refuses_a_bad_date() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "30s");
    let (rc, v, all) = run(dir.path(), &["reconcile", "--date", "27.11.2026", "--json"]);
    assert_eq!((rc, v["status"].as_str()), (3, Some("rejected")), "{all}");
    assert!(v["message"].as_str().unwrap().contains("YYYY-MM-DD"));
}

/// A sale the journal wrongly holds as not charged while WeChat has the money: reconcile names
/// it, `query` corrects it to paid (the customer was charged), and it can then be refunded.
#[test]
fn a_failed_sale_that_wechat_reports_paid_is_returned_by_query_or_kept_by_accept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_config(d, "30s");
    let (rc, v, all) = pay(d, "12.00", "normal", 7_201);
    assert_eq!(rc, 0, "{all}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let day = day_of(d, &no);
    // The wrong inference, written the way the runner writes a final state.
    let mut j = Journal::open(&d.join("data/paycode.db")).unwrap();
    j.transition(&no, SaleState::Failed, &Default::default(), 0)
        .unwrap();
    drop(j);

    let (rc, r, all) = run(d, &["reconcile", "--date", &day, "--json"]);
    assert_eq!(rc, 1, "{all}");
    assert_eq!(r["orders"][0]["finding"], "charged_not_paid", "{all}");

    // The manager keeps it: the customer is still there (paycode accept).
    let (rc, q, all) = run(d, &["accept", &no, "--json"]);
    assert_eq!(rc, 0, "{all}");
    assert_eq!(
        (
            q["journal_before"].as_str(),
            q["journal"].as_str(),
            q["corrected"].as_bool()
        ),
        (Some("failed"), Some("paid"), Some(true)),
        "{all}"
    );
    assert!(
        q["message"]
            .as_str()
            .unwrap()
            .contains("Hand over the goods")
    );
    let (rc, _, all) = run(d, &["reconcile", "--date", &day]);
    assert_eq!(rc, 0, "{all}");
    let (rc, r, all) = run(d, &["refund", &no, "--no-wait", "--json"]);
    assert!(matches!(rc, 0 | 2), "{all}");
    assert_eq!(r["refund_fee"], 1200);

    // Without the manager: `query` follows the late-payment rule and returns the money.
    let (rc, v, all) = pay(d, "9.00", "normal", 7_203);
    assert_eq!(rc, 0, "{all}");
    let back = v["out_trade_no"].as_str().unwrap().to_string();
    let mut j = Journal::open(&d.join("data/paycode.db")).unwrap();
    j.transition(&back, SaleState::Failed, &Default::default(), 0)
        .unwrap();
    drop(j);
    let (rc, q, all) = run(d, &["query", &back, "--json"]);
    assert_eq!(rc, 1, "{all}");
    assert_eq!(
        (q["journal"].as_str(), q["returned"].as_bool()),
        (Some("reversed"), Some(true)),
        "{all}"
    );

    // A sale that really was not charged stays as it is.
    let (rc, v, all) = pay(d, "8.00", "notenough", 7_202);
    assert_eq!(rc, 1, "{all}");
    let failed = v["out_trade_no"].as_str().unwrap();
    let (rc, q, all) = run(d, &["query", failed, "--json"]);
    assert_eq!((rc, q["journal"].as_str()), (1, Some("failed")), "{all}");
    assert!(q.get("corrected").is_none());
}

/// `[simulator] tls = true` writes its certificates into `data/simulator-tls`: a link planted
/// there is refused (exit 3, the path named, both languages), never written through.
#[test]
fn a_link_planted_in_the_simulator_tls_directory_is_refused() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_config(d, "30s");
    let cfg = d.join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("tls = false"));
    std::fs::write(&cfg, text.replace("tls = false", "tls = true")).unwrap();
    let tls = d.join("data/simulator-tls");
    std::fs::create_dir_all(&tls).unwrap();
    let victim = d.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = tls.join("apiclient_cert.pem");
    symlink(&victim, &link).unwrap();
    let (code, _, out) = pay(d, "1.00", "normal", 1);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(&format!("{} is a symbolic link", link.display())) && out.contains("符号链接"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}
