//! After a scripted day no file paycode wrote holds a whole payment code, the API key or the
//! manager PIN, and none is open to group or others (issue 16). The day: paid, USERPAYING then
//! paid, declined, never confirmed (reversed), a gateway 500 page echoing the request (code
//! included), a refund with the PIN, `kill -9` of a `pay` mid-sale, `recover`, `history`,
//! `backup`, `reconcile`; then the same on the built-in simulator, whose shared ledger is a file.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use checkout_support::proxy::Tamper;
use checkout_support::{Harness, Opts, kill_9};
use paycode::authcode::mask_digit_runs;
use paycode::config::SIMULATOR_DEMO_KEY;
use paycode::journal::SaleState;

/// 12 digits: a shorter PIN could turn up by chance among timestamps and order numbers.
const PIN: &str = "918273645546";

/// Every file below `dir` (symlinks not followed).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            files(&p, out);
        }
        out.push(p);
    }
}

fn offsets(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// A paid sale's order number.
fn pay(h: &Harness, codes: &mut Vec<String>, scenario: &str, amount: &str) -> serde_json::Value {
    let code = h.code(scenario);
    let (r, v) = h.pay(amount, &code);
    codes.push(code);
    assert!(
        ["paid", "failed", "reversed"].contains(&v["status"].as_str().unwrap()),
        "{}",
        r.stderr
    );
    v
}

fn run_ok(h: &Harness, args: &[&str]) {
    let r = h.run(args);
    assert!(
        [0, 1].contains(&r.code),
        "{args:?}: {}\n{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn no_file_paycode_wrote_holds_a_code_the_key_or_the_pin() {
    let h = Harness::new();
    let dir = h.dir.path().to_path_buf();
    // What the test itself wrote before paycode ran is made private, so what is left open
    // below was created by paycode.
    let mut mine = Vec::new();
    files(&dir, &mut mine);
    for p in &mine {
        let mode = if p.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let p = h.proxy(Opts {
        password_timeout: "1s",
        ..Opts::default()
    });
    let pin_file = dir.join("manager.pin");
    let given = dir.join("given.pin");
    for f in [&pin_file, &given] {
        std::fs::write(f, format!("{PIN}\n")).unwrap();
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let with_pin = |h: &Harness| {
        let cfg = std::fs::read_to_string(h.config_path()).unwrap();
        let line = format!("[ui]\nmanager_pin_file = \"{}\"\n", pin_file.display());
        std::fs::write(h.config_path(), cfg.replace("[ui]\n", &line)).unwrap();
    };
    with_pin(&h);
    let given_s = given.to_str().unwrap();
    let mut codes = Vec::new();

    // The day, through the proxy in front of the test's simulator.
    let paid = pay(&h, &mut codes, "normal", "12.00");
    assert_eq!(paid["status"], "paid");
    pay(&h, &mut codes, "password_confirms", "13.00");
    pay(&h, &mut codes, "notenough", "14.00");
    let reversed = pay(&h, &mut codes, "password_never", "15.00");
    assert_eq!(reversed["status"], "reversed");
    p.tamper("/pay/micropay", Tamper::EchoStatus(500), 1);
    let echoed = pay(&h, &mut codes, "normal", "16.00");
    assert_eq!(echoed["status"], "paid", "settled by a query");
    let no = paid["out_trade_no"].as_str().unwrap();
    run_ok(
        &h,
        &[
            "refund",
            no,
            "--amount",
            "2.00",
            "--pin-file",
            given_s,
            "--json",
        ],
    );
    // kill -9 while the customer types the password, then recovery.
    h.write_config_with(&Opts {
        base_url: Some(p.url()),
        password_timeout: "60s",
        ..Opts::default()
    });
    with_pin(&h);
    let code = h.code("password_never");
    let mut child = h.spawn(&["pay", "--amount", "17.00", "--code", &code, "--json"]);
    codes.push(code);
    h.wait_for_open_sale(&mut child, SaleState::Submitted);
    kill_9(&mut child);
    h.write_config_with(&Opts {
        base_url: Some(p.url()),
        password_timeout: "1s",
        ..Opts::default()
    });
    with_pin(&h);
    run_ok(&h, &["recover", "--json"]);
    run_ok(&h, &["history", "--json"]);
    run_ok(&h, &["history", "--csv"]);
    let backup = dir.join("data/backup.db");
    run_ok(&h, &["backup", backup.to_str().unwrap(), "--json"]);
    run_ok(&h, &["reconcile", "--json"]);

    // The built-in simulator keeps its ledger in the data directory.
    let cfg = std::fs::read_to_string(h.config_path()).unwrap();
    let base = cfg
        .lines()
        .find(|l| l.starts_with("base_url"))
        .unwrap()
        .to_string();
    std::fs::write(
        h.config_path(),
        cfg.replace(&base, "base_url = \"simulator\""),
    )
    .unwrap();
    let sim_paid = pay(&h, &mut codes, "normal", "18.00");
    pay(&h, &mut codes, "notenough", "19.00");
    let no = sim_paid["out_trade_no"].as_str().unwrap();
    run_ok(&h, &["refund", no, "--pin-file", given_s, "--json"]);
    run_ok(&h, &["recover", "--json"]);
    run_ok(&h, &["reconcile", "--json"]);

    // Every file under the directory, bytes, except the PIN files and the config the test wrote.
    let mut all = Vec::new();
    files(&dir, &mut all);
    let ours = [pin_file.clone(), given.clone(), h.config_path()];
    let mut secrets: Vec<(String, &[u8])> = codes
        .iter()
        .map(|c| (mask_digit_runs(c), c.as_bytes()))
        .collect();
    secrets.push(("the API key".into(), SIMULATOR_DEMO_KEY.as_bytes()));
    secrets.push(("the manager PIN".into(), PIN.as_bytes()));
    let mut found = Vec::new();
    let mut open = Vec::new();
    let mut read = 0;
    for f in all.iter().filter(|f| !ours.contains(f)) {
        let mode = std::fs::symlink_metadata(f).unwrap().permissions().mode();
        if mode & 0o077 != 0 {
            open.push(format!("{} mode {:o}", f.display(), mode & 0o777));
        }
        if f.is_dir() {
            continue;
        }
        let bytes = std::fs::read(f).unwrap();
        read += 1;
        for (name, s) in &secrets {
            for at in offsets(&bytes, s) {
                found.push(format!("{} at byte {at}: {name}", f.display()));
            }
        }
    }
    // The journal (its WAL is checkpointed on close), the backup, the simulator's ledger, a
    // day's log and the lock file at least.
    for want in ["paycode.db", "backup.db", "ledger.log", "paycode.db.lock"] {
        assert!(all.iter().any(|f| f.ends_with(want)), "no {want}: {all:?}");
    }
    let logs = all
        .iter()
        .filter(|f| f.starts_with(h.log_dir()) && f.is_file());
    assert!(logs.count() >= 1, "no log file: {all:?}");
    assert!(read >= 5, "{all:?}");
    assert!(
        found.is_empty(),
        "secrets left in files:\n{}",
        found.join("\n")
    );
    assert!(
        open.is_empty(),
        "open to group or others:\n{}",
        open.join("\n")
    );
}
