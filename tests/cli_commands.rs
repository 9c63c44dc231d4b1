//! The other subcommands as subprocesses against the simulator: crash recovery after kill -9,
//! query, reverse, refund, history, check — exit codes and JSON of each.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests drive real time

mod checkout_support;

use checkout_support::{Harness, Opts, Timing, wait_for};
use paycode::journal::SaleState;

#[test]
fn kill_9_while_waiting_for_the_password_then_recover() {
    // Long password timeout: the pay process is surely still waiting when it is killed.
    let h = Harness::with(Timing {
        password_timeout: "60s",
        ..Timing::default()
    });
    for confirm in [true, false] {
        let code = h.code("password_never");
        let mut child = h.spawn(&["pay", "--amount", "21.00", "--code", &code, "--json"]);
        let mut no = String::new();
        wait_for("the USERPAYING reply to be journaled", || {
            let Ok(j) = paycode::journal::Journal::open(&h.journal_path()) else {
                return false;
            };
            let open = j.unfinished().unwrap_or_default();
            match open.iter().find(|s| s.state == SaleState::Submitted) {
                Some(s) => {
                    no = s.out_trade_no.clone();
                    true
                }
                None => false,
            }
        });
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(h.sale(&no).state, SaleState::Submitted);
        let want = if confirm {
            // The customer confirms while paycode is down.
            h.sim.confirm(&no).unwrap();
            ("paid", 0)
        } else {
            // Nobody pays: recovery (with a short timeout now) must reverse it.
            h.write_config(&Timing {
                password_timeout: "100ms",
                ..Timing::default()
            });
            ("reversed", 0)
        };
        let r = h.run(&["recover", "--json"]);
        assert_eq!(r.code, want.1, "{}\n{}", r.stdout, r.stderr);
        let v = r.json();
        assert_eq!(v["recovered"][0]["out_trade_no"], no.as_str());
        assert_eq!(v["recovered"][0]["was"], "submitted");
        assert_eq!(v["recovered"][0]["status"], want.0);
        let s = h.sale(&no);
        assert_eq!(s.state.as_str(), want.0);
        let order = h.order(&no);
        assert_eq!(
            order.requests.get("micropay"),
            Some(&1),
            "never a second charge"
        );
        h.assert_ledger_agrees();
        h.write_config(&Timing {
            password_timeout: "60s",
            ..Timing::default()
        });
    }
    let r = h.run(&["recover"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("nothing to recover"));
}

#[test]
fn query_reverse_refund_history_json_and_exit_codes() {
    let h = Harness::new();
    let (r, v) = h.pay("30.00", &h.code("normal"));
    assert_eq!(r.code, 0);
    let paid = v["out_trade_no"].as_str().unwrap().to_string();
    let (_, v) = h.pay("5.00", &h.code("notenough"));
    let failed = v["out_trade_no"].as_str().unwrap().to_string();

    // query
    let q = h.run(&["query", &paid, "--json"]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    let qv = q.json();
    assert_eq!(
        (qv["status"].as_str(), qv["wechat"].as_str()),
        (Some("paid"), Some("SUCCESS"))
    );
    assert_eq!(qv["journal"], "paid");
    let q = h.run(&["query", &failed, "--json"]);
    assert_eq!((q.code, q.json()["status"].as_str()), (1, Some("failed")));
    let q = h.run(&["query", "till-7nosuchorder", "--json"]);
    assert_eq!((q.code, q.json()["status"].as_str()), (3, Some("rejected")));

    // refund: partial, then the rest; the number is committed before sending
    let rf = h.run(&[
        "refund", &paid, "--amount", "10.00", "--reason", "damaged", "--json",
    ]);
    assert_eq!(rf.code, 0, "{}\n{}", rf.stdout, rf.stderr);
    let rv = rf.json();
    assert_eq!(rv["status"], "success");
    assert_eq!(rv["refund_fee"], 1000);
    assert_eq!(rv["out_refund_no"], format!("{paid}R1"));
    let rf = h.run(&["refund", &paid, "--no-wait", "--json"]);
    assert!(matches!(rf.code, 0 | 2), "{}", rf.stdout);
    let rv = rf.json();
    assert_eq!(
        (rv["refund_fee"].as_u64(), rv["out_refund_no"].as_str()),
        (Some(2000), Some(format!("{paid}R2").as_str()))
    );
    let rf = h.run(&["refund", &paid, "--amount", "1.00", "--json"]);
    assert_eq!(
        (rf.code, rf.json()["status"].as_str()),
        (3, Some("rejected")),
        "nothing left"
    );
    let rf = h.run(&["refund", &failed, "--json"]);
    assert_eq!(rf.code, 3, "a failed sale has nothing to refund");
    let refunds = h.journal().refunds_of(&paid).unwrap();
    assert_eq!(refunds.len(), 2);
    let ledger = h.ledger();
    let order = ledger.order(&paid).unwrap();
    assert_eq!(order.refunds.len(), 2);

    // reverse: refused for a not-charged sale; a recent paid sale is reversed (refunded)
    let rv = h.run(&["reverse", &failed, "--json"]);
    assert_eq!(
        (rv.code, rv.json()["status"].as_str()),
        (3, Some("rejected"))
    );
    let (_, v) = h.pay("2.50", &h.code("normal"));
    let recent = v["out_trade_no"].as_str().unwrap().to_string();
    let rv = h.run(&["reverse", &recent, "--json"]);
    assert_eq!(rv.code, 1, "{}\n{}", rv.stdout, rv.stderr);
    assert_eq!(rv.json()["status"], "reversed");
    assert_eq!(h.sale(&recent).state, SaleState::Reversed);

    // history: today's sales with totals by state, JSON and CSV
    let hi = h.run(&["history", "--json"]);
    assert_eq!(hi.code, 0, "{}", hi.stderr);
    let hv = hi.json();
    assert_eq!(hv["sales"].as_array().unwrap().len(), 3);
    assert_eq!(hv["paid_total"], 3000);
    // The 30.00 sale went back in full (10.00, then 20.00 accepted): the day took nothing
    // (issue 15: a refunded sale was counted as takings).
    assert_eq!(
        (hv["refunded_total"].as_u64(), hv["net_total"].as_i64()),
        (Some(3000), Some(0)),
        "{hv}"
    );
    assert_eq!(hv["refund_count"], 2);
    let sale = hv["sales"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["out_trade_no"] == paid.as_str())
        .unwrap();
    assert_eq!(
        (sale["standing"].as_str(), sale["refunded"].as_u64()),
        (Some("refunded"), Some(3000)),
        "{sale}"
    );
    let text = h.run(&["history"]);
    assert!(
        text.stdout.contains("net takings / 实收(扣除退款) ¥0.00"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("refunds made this day / 当日退款 2 · ¥30.00")
    );
    let totals = hv["totals"].as_array().unwrap();
    let paid_row = totals.iter().find(|t| t["state"] == "paid").unwrap();
    assert_eq!(
        (paid_row["count"].as_u64(), paid_row["total_fee"].as_u64()),
        (Some(1), Some(3000))
    );
    let csv = h.run(&["history", "--csv"]);
    assert_eq!(csv.code, 0);
    assert_eq!(csv.stdout.lines().count(), 4);
    assert!(
        csv.stdout.lines().next().unwrap().starts_with(
            "out_trade_no,created,total_fen,total_yuan,state,refunded_fen,refunded_yuan"
        )
    );
    let row = csv.stdout.lines().find(|l| l.starts_with(&paid)).unwrap();
    assert!(row.contains(",3000,30.00,refunded,3000,30.00,"), "{row}");
    assert!(!csv.stdout.contains(&h.code("normal")[..]));
    let empty = h.run(&["history", "--date", "2001-01-01", "--json"]);
    assert_eq!(empty.json()["sales"].as_array().unwrap().len(), 0);
    let bad = h.run(&["history", "--date", "31/01/2026"]);
    assert_eq!(bad.code, 3);
}

#[test]
fn check_reports_each_item_and_fails_on_a_bad_key() {
    let h = Harness::new();
    let ok = h.run(&["check"]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    for name in ["config", "secrets", "certificate", "api", "key", "clock"] {
        assert!(
            ok.stdout
                .lines()
                .any(|l| l.starts_with("OK") && l.contains(name)),
            "{name}: {}",
            ok.stdout
        );
    }
    let bad = h
        .command(&["check"])
        .env("PAYCODE_API_KEY", "0123456789abcdef0123456789abcdef")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("key")),
        "{out}"
    );
    assert!(!out.contains("0123456789abcdef0123456789abcdef"));
}

/// Issue 15: while the cashier screen runs (it holds the journal), `check` said "FAIL api:
/// another paycode process is using the journal". It probes WeChat without the journal and says
/// the journal is in use.
#[test]
fn check_while_another_paycode_holds_the_journal_still_probes_the_api() {
    let h = Harness::new();
    let journal = h.config().journal.path.clone();
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(std::path::PathBuf::from(name)).unwrap();
    lock.try_lock().unwrap();
    let out = h.run(&["check"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} line: {}", out.stdout))
            .to_string()
    };
    assert!(
        line("journal").starts_with("OK")
            && line("journal").contains("in use by a running paycode"),
        "{}",
        out.stdout
    );
    assert!(
        line("api").starts_with("OK") && line("api").contains("reachable"),
        "{}",
        out.stdout
    );
    assert!(line("key").starts_with("OK"), "{}", out.stdout);
    drop(lock);
    let free = h.run(&["check"]);
    assert!(free.stdout.contains("opens"), "{}", free.stdout);
}

#[test]
fn no_subcommand_names_the_commands_and_bad_usage_exits_3() {
    let h = Harness::new();
    // Without a terminal the cashier screen cannot open: the message names the headless commands.
    let r = h.run(&[]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("needs a terminal"), "{}", r.stderr);
    assert!(r.stderr.contains("pay") && r.stderr.contains("recover") && r.stderr.contains("收银"));
    let r = h.run(&["pay", "--amount", "1.00"]);
    assert_eq!(r.code, 3, "missing --code is refused before sending");
}

/// Issue 15: `paycode history | head` panicked ("failed printing to stdout: Broken pipe").
/// A reader that goes away never crashes a command; the exit status keeps its meaning.
#[test]
fn a_closed_pipe_never_crashes_a_command() {
    let h = Harness::new();
    let (r, _) = h.pay("1.00", &h.code("normal"));
    assert_eq!(r.code, 0);
    for args in [
        &["history"][..],
        &["history", "--csv"],
        &["history", "--json"],
    ] {
        let mut child = h
            .command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader closes before the command writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Issue 15: `check` says whether refunds have a manager PIN, and refuses a PIN file that is
/// readable by others or holds no keypad PIN (the digits never appear in the output).
#[test]
fn check_reports_the_manager_pin() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    let out = h.run(&["check"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("OK") && l.contains("manager-pin")),
        "{}",
        out.stdout
    );
    let pin = h.dir.path().join("manager.pin");
    let cfg = std::fs::read_to_string(h.config_path()).unwrap();
    let with_pin = cfg.replace(
        "[ui]\n",
        &format!("[ui]\nmanager_pin_file = \"{}\"\n", pin.display()),
    );
    std::fs::write(h.config_path(), with_pin).unwrap();
    for (text, mode, ok) in [
        ("735102\n", 0o600, true),
        ("735102\n", 0o644, false),
        ("73a5\n", 0o600, false),
    ] {
        std::fs::write(&pin, text).unwrap();
        std::fs::set_permissions(&pin, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = h.run(&["check"]);
        // A PIN file others can read fails the config itself; a bad PIN fails its own line.
        let failed = out.stdout.lines().any(|l| {
            l.starts_with("FAIL") && (l.contains("manager-pin") || l.contains("manager_pin_file"))
        });
        assert_eq!(!failed, ok, "{text:?} {mode:o}: {}", out.stdout);
        assert_eq!(out.code == 0, ok, "{}", out.stdout);
        assert!(!out.stdout.contains("735102"), "{}", out.stdout);
    }
}

/// Review of stop 20 (F5): `refund X --amount 5.00 --no-wait` (still processing at WeChat), then
/// `refund X` for the rest: it only followed the earlier refund, said "refunded", exited 0 and
/// sent nothing for the ¥15.00 asked for. An accepted refund is not resent; the rest is refunded
/// under a new number.
#[test]
fn refund_of_the_rest_while_a_partial_refund_is_processing_refunds_the_rest() {
    let h = Harness::with_sim(Timing::default(), |s| {
        s.refund_delay = std::time::Duration::from_secs(365 * 24 * 3600);
    });
    let (r, v) = h.pay("20.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let first = h.run(&["refund", &no, "--amount", "5.00", "--no-wait", "--json"]);
    assert_eq!(first.json()["refund_fee"], 500, "{}", first.stdout);
    let rest = h.run(&["refund", &no, "--no-wait", "--json"]);
    let v = rest.json();
    assert_eq!(
        (v["refund_fee"].as_u64(), v["out_refund_no"].as_str()),
        (Some(1500), Some(format!("{no}R2").as_str())),
        "{v}"
    );
    let order = h.order(&no);
    assert_eq!(order.refunds.len(), 2, "{order:?}");
    assert_eq!(order.refunded + order.refund_pending, 2000, "{order:?}");
}

/// Issue 15: `paycode backup FILE` makes a consistent copy of the journal, also while another
/// paycode process holds the till (here: a sale waiting for the password), never overwrites a
/// file, and the copy is private to its owner.
#[test]
fn backup_copies_the_journal_while_a_sale_runs() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    let (r, v) = h.pay("4.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let paid = v["out_trade_no"].as_str().unwrap().to_string();
    let mut waiting = h.spawn(&[
        "pay",
        "--amount",
        "2.00",
        "--code",
        &h.code("password_never"),
        "--json",
    ]);
    h.wait_for_open_sale(&mut waiting, paycode::journal::SaleState::Submitted);
    let file = h.dir.path().join("copy.db");
    let out = h.run(&["backup", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["sales"], 2, "{}", out.stdout);
    let copy = paycode::journal::Journal::open(&file).unwrap();
    assert_eq!(copy.sale(&paid).unwrap().unwrap().state, SaleState::Paid);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let again = h.run(&["backup", file.to_str().unwrap(), "--json"]);
    assert_eq!(again.code, 3, "{}", again.stdout);
    assert!(again.json()["message"].as_str().unwrap().contains("exists"));
    let _ = waiting.kill();
    let _ = waiting.wait();
}

/// `query` of a paid sale that was refunded said only "PAID ¥3.00" (WeChat: REFUND): it now
/// says how much went back, in part or in full, and JSON has `refunded` in fen.
#[test]
fn query_of_a_refunded_sale_says_what_went_back() {
    let h = Harness::new();
    let (r, v) = h.pay("3.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    h.run(&["refund", &no, "--amount", "1.00", "--json"]);
    let q = h.run(&["query", &no, "--json"]);
    let j = q.json();
    assert_eq!(
        (q.code, j["status"].as_str(), j["refunded"].as_u64()),
        (0, Some("paid"), Some(100)),
        "{j}"
    );
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("¥1.00 of it refunded"),
        "{j}"
    );
    h.run(&["refund", &no, "--json"]);
    let q = h.run(&["query", &no]);
    assert!(
        q.stdout.contains("refunded in full (¥3.00)"),
        "{}",
        q.stdout
    );
    assert!(q.stdout.contains("已全额退款"), "{}", q.stdout);
}

/// A usage error under `--json` printed clap's text only: a script that asked for JSON now gets
/// its one object (exit 3), and a payment code typed in the wrong place is masked in it.
#[test]
fn a_usage_error_under_json_is_one_json_object_with_codes_masked() {
    let h = Harness::new();
    let code = h.code("normal");
    let r = h.run(&["pay", "--amount", "1.00", "--json", &code]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let j = r.json();
    assert_eq!(j["status"], "rejected", "{j}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("invalid command line"),
        "{j}"
    );
    assert!(
        !r.stdout.contains(&code) && !r.stderr.contains(&code),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(h.ledger().orders.len(), 0, "nothing sent");
}

/// Issue 16: a payment code typed where an amount or an order number belongs was repeated
/// whole in the error (`pay --amount <code>`, `refund/query/reverse <code>`). It is masked like
/// the code everywhere else, on stdout and stderr, and nothing is sent.
#[test]
fn a_code_typed_in_the_wrong_place_is_never_echoed_whole() {
    let h = Harness::new();
    let code = h.code("normal");
    let other = h.code("normal");
    let masked = format!("{}************{}", &code[..2], &code[14..]);
    let runs = [
        h.run(&["pay", "--amount", &code, "--code", &other, "--json"]),
        h.run(&["refund", &code, "--json"]),
        h.run(&["refund", "till-1x", "--amount", &code, "--json"]),
        h.run(&["query", &code, "--json"]),
        h.run(&["reverse", &code, "--json"]),
    ];
    for r in &runs {
        assert_eq!(r.code, 3, "{}", r.stdout);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(!all.contains(&code), "{all}");
    }
    assert!(runs[0].stdout.contains(&masked), "{}", runs[0].stdout);
    assert!(runs[1].stdout.contains(&masked), "{}", runs[1].stdout);
    assert_eq!(h.ledger().orders.len(), 0, "nothing sent");
}

/// Issue 16: every file paycode created was 0644 and every directory 0755 (journal, WAL,
/// logs, the simulator's ledger, the lock). With umask 077 they are its user's only; and the
/// process writes no core dump (it would hold the key and, during a sale, a code).
#[test]
fn what_paycode_creates_is_private_and_it_dumps_no_core() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    // Everything below the data directory made by paycode itself (the harness pre-creates the
    // journal from the test process).
    let data = h.config().journal.path.parent().unwrap().to_path_buf();
    std::fs::remove_dir_all(&data).unwrap();
    let (r, v) = h.pay("2.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    h.run(&["refund", &no, "--amount", "1.00", "--json"]);
    let backup = h.dir.path().join("data").join("copy.db");
    h.run(&["backup", backup.to_str().unwrap()]);
    let mut seen = 0;
    let mut stack = vec![data.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            if p.is_dir() {
                assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
                stack.push(p);
            } else {
                assert_eq!(mode & 0o077, 0, "{} is {mode:o}", p.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "journal, log, ledger, lock at least: {seen}");

    // A running paycode has core dumps off.
    let mut sim = h
        .command(&["simulate", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let limits = format!("/proc/{}/limits", sim.id());
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let text = loop {
        let t = std::fs::read_to_string(&limits).unwrap_or_default();
        let core = t
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap_or("");
        let hard = core.split_whitespace().nth(5);
        if hard == Some("0") || std::time::Instant::now() > until {
            break t;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let _ = sim.kill();
    let _ = sim.wait();
    let core = text
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!((fields[4], fields[5]), ("0", "0"), "{core}");
}

/// Issue 16: a config or trust anchor others can write passed `paycode check` — whoever can
/// change `ca_file` can stand in for WeChat. `check` now fails on any file paycode trusts that
/// another user could change, naming it and the fix.
#[test]
fn check_fails_on_a_trusted_file_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    let cfg = h.config_path();
    let trust_line = |out: &str| {
        out.lines()
            .find(|l| l.contains("trust"))
            .unwrap_or_else(|| panic!("no trust line: {out}"))
            .to_string()
    };
    let ok = h.run(&["check"]);
    assert!(trust_line(&ok.stdout).starts_with("OK"), "{}", ok.stdout);
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o666)).unwrap();
    let bad = h.run(&["check"]);
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    let line = trust_line(&bad.stdout);
    assert!(
        line.starts_with("FAIL") && line.contains("config.toml") && line.contains("666"),
        "{line}"
    );
    assert!(line.contains("chmod go-w"), "{line}");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(h.run(&["check"]).code, 0);
}

/// The security issue "trust is never widened silently": `SSL_CERT_FILE` / `SSL_CERT_DIR`
/// replace the system roots paycode verifies WeChat Pay with, from the environment alone.
/// `check` names each one set and its path: WARN (exit 0) against the simulator, FAIL (exit 1)
/// for a live base_url.
#[test]
fn check_names_an_environment_that_replaces_the_system_roots() {
    let h = Harness::new();
    let lines = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains("SSL_CERT_"))
            .map(str::to_string)
            .collect()
    };
    let mut clean = h.command(&["check"]);
    clean.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    let out = clean_output(clean);
    assert!(lines(&out.1).is_empty(), "{}", out.1);

    let mut c = h.command(&["check"]);
    c.env("SSL_CERT_FILE", "/tmp/planted-roots.pem")
        .env_remove("SSL_CERT_DIR");
    let (code, stdout) = clean_output(c);
    let l = lines(&stdout);
    assert_eq!(code, 0, "a warning against the simulator: {stdout}");
    assert_eq!(l.len(), 1, "{stdout}");
    assert!(
        l[0].starts_with("WARN") && l[0].contains("trust"),
        "{}",
        l[0]
    );
    assert!(
        l[0].contains("SSL_CERT_FILE=\"/tmp/planted-roots.pem\""),
        "{}",
        l[0]
    );
    assert!(
        l[0].contains("unset it, or put the CA in [wechat] ca_file"),
        "{}",
        l[0]
    );
    assert!(l[0].contains("系统根证书"), "{}", l[0]);

    // Live: the same is a failure.
    let live = Harness::with_sim(Timing::default(), |s| s.tls = true);
    live.write_config_with(&Opts {
        base_url: Some("https://192.0.2.1:9".into()),
        identity: Some(live.client_identity_files()),
        connect_timeout: "200ms",
        ..Opts::default()
    });
    // Live timings (the harness's millisecond ones are for the simulator only).
    let cfg = std::fs::read_to_string(live.config_path()).unwrap();
    let mut in_checkout = false;
    let kept: Vec<&str> = cfg
        .lines()
        .filter(|l| {
            if l.starts_with('[') {
                in_checkout = *l == "[checkout]";
            }
            !in_checkout
        })
        .collect();
    std::fs::write(live.config_path(), kept.join("\n")).unwrap();
    let mut c = live.command(&["check"]);
    c.env("SSL_CERT_FILE", "/tmp/planted-roots.pem")
        .env("SSL_CERT_DIR", "/tmp/planted-certs");
    let (code, stdout) = clean_output(c);
    assert_eq!(code, 1, "{stdout}");
    let l = lines(&stdout);
    assert_eq!(l.len(), 2, "{stdout}");
    assert!(l.iter().all(|l| l.starts_with("FAIL")), "{l:?}");
    assert!(
        l[1].contains("SSL_CERT_DIR=\"/tmp/planted-certs\""),
        "{}",
        l[1]
    );
}

/// Exit code and stdout of a prepared command.
fn clean_output(mut c: std::process::Command) -> (i32, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
