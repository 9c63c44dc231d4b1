//! Shared harness for the checkout/CLI integration tests: a real simulator on a loopback port
//! (sped up), a temp config/data directory, and `paycode` run as a subprocess against both.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use paycode::config::{SIMULATOR_APPID, SIMULATOR_DEMO_KEY, SIMULATOR_MCH_ID};
use paycode::journal::{Journal, Sale, SaleState};
use paycode::simulator::{self, LedgerView, RunningSim, SimSettings};

/// Simulated milliseconds per real millisecond: a 10 s password takes 10 ms.
pub const TIME_SCALE: u32 = 1000;

pub struct Harness {
    pub rt: tokio::runtime::Runtime,
    pub sim: RunningSim,
    pub dir: tempfile::TempDir,
    serial: std::cell::Cell<u64>,
}

/// Per-test checkout timings (milliseconds so tests are quick).
pub struct Timing {
    pub password_timeout: &'static str,
    pub reverse_max_attempts: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            password_timeout: "5s",
            reverse_max_attempts: 5,
        }
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(Timing::default())
    }

    pub fn with(t: Timing) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut s = SimSettings::demo().unwrap();
        s.time_scale = TIME_SCALE;
        // Never let "WeChat" revoke on its own inside a test: the terminal must do it.
        s.behaviour.auto_revoke_after = Duration::from_secs(365 * 24 * 3600);
        s.refund_delay = Duration::from_secs(5);
        let sim = rt.block_on(simulator::start(s)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let h = Harness {
            rt,
            sim,
            dir,
            serial: std::cell::Cell::new(1),
        };
        h.write_config(&t);
        h
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.path().join("data/paycode.db")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.path().join("data/logs")
    }

    /// (Re)write the config with these timings.
    pub fn write_config(&self, t: &Timing) {
        let text = format!(
            r#"[merchant]
appid = "{SIMULATOR_APPID}"
mch_id = "{SIMULATOR_MCH_ID}"
device_info = "till-7"
spbill_create_ip = "127.0.0.1"

[wechat]
base_url = "{base}"
connect_timeout = "1s"
read_timeout = "2s"

[checkout]
first_query_after = "20ms"
query_interval = "20ms"
password_timeout = "{pt}"
reverse_not_before = "50ms"
reverse_max_attempts = {attempts}
reverse_backoff = "10ms"
unknown_query_after = "10ms"
notexist_rounds = 2
duplicate_scan_window = "3s"

[journal]
path = "data/paycode.db"
log_dir = "data/logs"

[ui]
language = "en"
"#,
            base = self.sim.base_url,
            pt = t.password_timeout,
            attempts = t.reverse_max_attempts,
        );
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// A fresh code for the scenario with this key (each call a new customer).
    pub fn code(&self, scenario: &str) -> String {
        let sc = simulator::scenarios()
            .iter()
            .find(|s| s.key == scenario)
            .unwrap();
        let n = self.serial.get();
        self.serial.set(n + 1);
        simulator::code_for(sc, n * 7919 + 1)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_paycode"));
        c.args(args)
            .env("PAYCODE_CONFIG", self.config_path())
            .env("PAYCODE_API_KEY", SIMULATOR_DEMO_KEY)
            .env_remove("PAYCODE_P12_PASSWORD")
            .env_remove("PAYCODE_LOG")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        c
    }

    /// Run `paycode ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = self.command(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Start `paycode ARGS` in the background.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `paycode pay --amount A --code C --json`, parsed.
    pub fn pay(&self, amount: &str, code: &str) -> (Run, serde_json::Value) {
        let amount = format!("--amount={amount}");
        let r = self.run(&["pay", &amount, "--code", code, "--json"]);
        let v = r.json();
        (r, v)
    }

    pub fn ledger(&self) -> LedgerView {
        self.sim.ledger()
    }

    pub fn journal(&self) -> Journal {
        Journal::open(&self.journal_path()).unwrap()
    }

    pub fn sale(&self, no: &str) -> Sale {
        self.journal().sale(no).unwrap().unwrap()
    }

    /// The invariants: every order the simulator saw is in the journal; money agrees with the
    /// journal state; no order charged more than once or more than its amount.
    pub fn assert_ledger_agrees(&self) {
        let ledger = self.ledger();
        let j = self.journal();
        for o in &ledger.orders {
            let s = j
                .sale(&o.out_trade_no)
                .unwrap()
                .unwrap_or_else(|| panic!("{} in the ledger but not the journal", o.out_trade_no));
            assert_eq!(s.total_fee.0, o.amount, "{}", o.out_trade_no);
            assert!(
                o.charged <= o.amount,
                "{} charged over its amount",
                o.out_trade_no
            );
            let micropays = o.requests.get("micropay").copied().unwrap_or(0);
            assert!(
                micropays <= 1,
                "{} got {micropays} micropays",
                o.out_trade_no
            );
            let net = o.charged.saturating_sub(o.refunded);
            match s.state {
                SaleState::Paid => {
                    assert_eq!(net, o.amount, "{} paid in the journal", o.out_trade_no);
                    assert_eq!(s.transaction_id, o.transaction_id, "{}", o.out_trade_no);
                }
                SaleState::Failed | SaleState::Reversed => {
                    assert_eq!(net, 0, "{} {:?} but money kept", o.out_trade_no, s.state)
                }
                other => panic!("{} left {other:?} after the command", o.out_trade_no),
            }
        }
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Wait (hang guard: 20 s) until `f` holds.
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(
            std::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every file below `dir`, concatenated.
pub fn read_tree(dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push_str(&read_tree(&p));
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                out.push_str(&t);
            }
        }
    }
    out
}
