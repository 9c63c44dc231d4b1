//! Shared harness for the checkout/CLI integration tests: a real simulator on a loopback port
//! (sped up), a temp config/data directory, and `paycode` run as a subprocess against both.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time
#![allow(clippy::unwrap_used, dead_code)]

pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use paycode::config::{SIMULATOR_APPID, SIMULATOR_DEMO_KEY, SIMULATOR_MCH_ID};
use paycode::journal::{Journal, SaleRow, SaleState};
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

/// Every config setting a fault-matrix row varies; `Opts::default()` is the harness's usual
/// config (the simulator as `base_url`, millisecond timings).
#[derive(Clone)]
pub struct Opts {
    pub password_timeout: &'static str,
    pub reverse_max_attempts: u32,
    pub base_url: Option<String>,
    pub backup_url: Option<String>,
    pub connect_timeout: &'static str,
    pub read_timeout: &'static str,
    pub ca_file: Option<PathBuf>,
    pub api_key_file: Option<PathBuf>,
    /// The merchant client certificate and key files (`cert_file`, `key_file`).
    pub identity: Option<(PathBuf, PathBuf)>,
    pub max_amount: &'static str,
}

impl Default for Opts {
    fn default() -> Self {
        let t = Timing::default();
        Opts {
            password_timeout: t.password_timeout,
            reverse_max_attempts: t.reverse_max_attempts,
            base_url: None,
            backup_url: None,
            connect_timeout: "1s",
            read_timeout: "2s",
            ca_file: None,
            api_key_file: None,
            identity: None,
            max_amount: "10000.00",
        }
    }
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(Timing::default())
    }

    pub fn with(t: Timing) -> Harness {
        Harness::with_sim(t, |_| {})
    }

    /// Like `with`, after `edit` adjusted the simulator's settings (e.g. `tls = true`).
    pub fn with_sim(t: Timing, edit: impl FnOnce(&mut SimSettings)) -> Harness {
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
        edit(&mut s);
        let sim = rt.block_on(simulator::start(s)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let h = Harness {
            rt,
            sim,
            dir,
            serial: std::cell::Cell::new(1),
        };
        h.write_config(&t);
        // Create the journal before any paycode process or test reader opens it: two first
        // opens at once race in the schema migration (reported as a src bug).
        drop(Journal::open(&h.journal_path()).unwrap());
        h
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// The till's config as written, resolved with the demo key as the environment would give it.
    pub fn config(&self) -> paycode::config::Config {
        let text = std::fs::read_to_string(self.config_path()).unwrap();
        let env = paycode::config::SecretEnv {
            api_key: Some(SIMULATOR_DEMO_KEY.to_string()),
            p12_password: None,
        };
        paycode::config::from_str_with_env(&text, &self.config_path(), &env).unwrap()
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.path().join("data/paycode.db")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.path().join("data/logs")
    }

    /// (Re)write the config with these timings.
    pub fn write_config(&self, t: &Timing) {
        self.write_config_with(&Opts {
            password_timeout: t.password_timeout,
            reverse_max_attempts: t.reverse_max_attempts,
            ..Opts::default()
        });
    }

    /// (Re)write the config with these settings (`base_url` defaults to this simulator).
    pub fn write_config_with(&self, o: &Opts) {
        let base = o
            .base_url
            .clone()
            .unwrap_or_else(|| self.sim.base_url.clone());
        let mut wechat = format!(
            "base_url = \"{base}\"\nconnect_timeout = \"{}\"\nread_timeout = \"{}\"\n",
            o.connect_timeout, o.read_timeout
        );
        if let Some(b) = &o.backup_url {
            wechat.push_str(&format!("backup_url = \"{b}\"\n"));
        }
        if let Some(ca) = &o.ca_file {
            wechat.push_str(&format!("ca_file = \"{}\"\n", ca.display()));
        }
        if let Some((cert, key)) = &o.identity {
            wechat.push_str(&format!(
                "cert_file = \"{}\"\nkey_file = \"{}\"\n",
                cert.display(),
                key.display()
            ));
        }
        let mut merchant = String::new();
        if let Some(k) = &o.api_key_file {
            merchant.push_str(&format!("api_key_file = \"{}\"\n", k.display()));
        }
        let text = format!(
            r#"[merchant]
appid = "{SIMULATOR_APPID}"
mch_id = "{SIMULATOR_MCH_ID}"
device_info = "till-7"
spbill_create_ip = "127.0.0.1"
{merchant}
[wechat]
{wechat}
[checkout]
max_amount = "{max}"
first_query_after = "20ms"
query_interval = "20ms"
password_timeout = "{pt}"
reverse_not_before = "50ms"
reverse_max_attempts = {attempts}
reverse_backoff = "10ms"
unknown_query_after = "10ms"
notexist_rounds = 2
unproven_wait = "1s"
duplicate_scan_window = "3s"

[journal]
path = "data/paycode.db"
log_dir = "data/logs"

[ui]
language = "en"
"#,
            max = o.max_amount,
            pt = o.password_timeout,
            attempts = o.reverse_max_attempts,
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
        self.command_wrapped(&[], args)
    }

    /// `paycode ARGS` started through `wrapper` (e.g. `["sh", "-c", "…; exec \"$0\" \"$@\""]`),
    /// with the same environment as `command`.
    pub fn command_wrapped(&self, wrapper: &[&str], args: &[&str]) -> Command {
        let bin = env!("CARGO_BIN_EXE_paycode");
        let mut c = match wrapper.split_first() {
            None => Command::new(bin),
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(bin);
                c
            }
        };
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

    pub fn sale(&self, no: &str) -> SaleRow {
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

impl Harness {
    /// The fault matrix's invariants, checked after every row (docs/reliability.md §9):
    /// - the ledger and the journal agree: every order WeChat saw has a journal row with the same
    ///   amount, and every PAID row has a charge on WeChat's side with the same transaction id;
    /// - at most one net charge per sale: one micropay per order number at most, charged ≤
    ///   amount, refunded ≤ charged; net = amount for PAID, 0 for FAILED/REVERSED;
    /// - every sale is final or on the pending list (`Journal::unfinished`);
    /// - every message the cashier was shown (`shown`: outcome objects printed by `pay --json`
    ///   or in `recover --json`) matches the journal and the money, in English and Chinese.
    pub fn assert_invariants(&self, shown: &[&serde_json::Value]) {
        let ledger = self.ledger();
        let j = self.journal();
        let sales = j.sales_between(0, i64::MAX).unwrap();
        let pending: Vec<String> = j
            .unfinished()
            .unwrap()
            .into_iter()
            .map(|s| s.out_trade_no)
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for o in &ledger.orders {
            let no = &o.out_trade_no;
            assert!(seen.insert(no.clone()), "{no} twice in the ledger");
            let s = j
                .sale(no)
                .unwrap()
                .unwrap_or_else(|| panic!("{no} in the ledger but not the journal"));
            assert_eq!(s.total_fee.0, o.amount, "{no}: amount");
            let micropays = o.requests.get("micropay").copied().unwrap_or(0);
            assert!(micropays <= 1, "{no} got {micropays} micropays");
            assert!(o.charged <= o.amount, "{no} charged over its amount");
            assert!(o.refunded <= o.charged, "{no} refunded more than charged");
            let net = o.charged - o.refunded;
            match s.state {
                SaleState::Paid => {
                    assert_eq!(net, o.amount, "{no} PAID in the journal: {o:?}");
                    assert_eq!(s.transaction_id, o.transaction_id, "{no}: transaction id");
                }
                SaleState::Failed | SaleState::Reversed => {
                    assert_eq!(net, 0, "{no} {:?} but money kept: {o:?}", s.state);
                    assert_eq!(o.refund_pending, 0, "{no}: refund still pending");
                }
                open => assert!(
                    pending.contains(no),
                    "{no} left {open:?} and not on the pending list"
                ),
            }
        }
        for s in &sales {
            let no = &s.out_trade_no;
            let order = ledger.orders.iter().find(|o| &o.out_trade_no == no);
            if s.state == SaleState::Paid {
                let o = order.unwrap_or_else(|| panic!("{no} PAID but WeChat never saw it"));
                assert_eq!(o.charged, o.amount, "{no} PAID but not charged");
            }
            if !s.state.is_final() {
                assert!(
                    pending.contains(no),
                    "{no} {:?} off the pending list",
                    s.state
                );
            }
        }
        for v in shown {
            self.assert_message_matches(v, &ledger);
        }
    }

    /// One outcome object against the journal and the ledger.
    fn assert_message_matches(&self, v: &serde_json::Value, ledger: &LedgerView) {
        let status = v["status"]
            .as_str()
            .unwrap_or_else(|| panic!("no status: {v}"));
        let en = v["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message: {v}"));
        let zh = v["message_zh"]
            .as_str()
            .unwrap_or_else(|| panic!("no message_zh: {v}"));
        assert!(!en.is_empty() && !zh.is_empty(), "{v}");
        if status == "rejected" {
            assert_eq!(v["out_trade_no"], serde_json::Value::Null, "{v}");
            return;
        }
        let no = v["out_trade_no"].as_str().unwrap_or_else(|| panic!("{v}"));
        let s = self.sale(no);
        let fee = paycode::money::Fen(v["total_fee"].as_u64().unwrap());
        assert_eq!(fee, s.total_fee, "{no}: shown amount");
        let yuan = format!("¥{fee}");
        let order = ledger.order(no);
        let charged = order.map_or(0, |o| o.charged);
        let (state, en_start, zh_start) = match status {
            "paid" => (SaleState::Paid, "PAID ", "支付成功 "),
            "failed" => (SaleState::Failed, "NOT CHARGED ", "未扣款 "),
            "reversed" => (SaleState::Reversed, "REVERSED ", "已撤销 "),
            "unresolved" => (SaleState::Unresolved, "UNRESOLVED ", "结果未明 "),
            other => panic!("{no}: unknown status {other}"),
        };
        assert_eq!(s.state, state, "{no}: shown {status}");
        assert!(en.starts_with(&format!("{en_start}{yuan}")), "{no}: {en}");
        assert!(zh.starts_with(&format!("{zh_start}{yuan}")), "{no}: {zh}");
        match status {
            "paid" => {
                let tx = v["transaction_id"].as_str().unwrap();
                assert!(en.contains(tx) && zh.contains(tx), "{no}: {en}");
            }
            "reversed" if charged > 0 => {
                assert!(en.contains("has been refunded"), "{no}: {en}");
                assert!(zh.contains("已全额退回"), "{no}: {zh}");
            }
            "reversed" => {
                assert!(en.contains("not charged"), "{no}: {en}");
                assert!(zh.contains("未被扣款"), "{no}: {zh}");
            }
            "failed" => assert_eq!(charged, 0, "{no} shown NOT CHARGED but charged"),
            _ => {
                assert!(en.contains("do not hand over goods"), "{no}: {en}");
                assert!(zh.contains("请勿交付商品"), "{no}: {zh}");
            }
        }
    }

    /// The TLS simulator's merchant certificate and key written to files (key mode 0600).
    pub fn client_identity_files(&self) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let cert = self.dir.path().join("apiclient_cert.pem");
        let key = self.dir.path().join("apiclient_key.pem");
        std::fs::write(&cert, self.sim.client_cert_pem.as_ref().unwrap()).unwrap();
        std::fs::write(&key, self.sim.client_key_pem.as_ref().unwrap()).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        (cert, key)
    }

    /// A tampering proxy in front of this simulator, made the config's `base_url` with `o`.
    pub fn proxy(&self, o: Opts) -> proxy::Proxy {
        let p = self.rt.block_on(proxy::Proxy::start(self.sim.addr));
        self.write_config_with(&Opts {
            base_url: Some(p.url()),
            ..o
        });
        p
    }

    /// The ledger's entry for one order (panics if WeChat never saw it).
    pub fn order(&self, no: &str) -> paycode::simulator::OrderView {
        self.ledger()
            .order(no)
            .cloned()
            .unwrap_or_else(|| panic!("{no} not in the ledger"))
    }

    /// Requests of `endpoint` the simulator received in all (0 when none).
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.ledger()
            .totals
            .requests
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// Wait until the journal holds an unfinished sale in `state` while `child` runs; its order
    /// number. Fails at once, with the child's output, if the child exits first.
    pub fn wait_for_open_sale(&self, child: &mut Child, state: SaleState) -> String {
        let mut no = String::new();
        wait_for(&format!("a sale in state {state:?}"), || {
            if let Some(status) = child.try_wait().unwrap() {
                let mut out = String::new();
                if let Some(e) = child.stderr.as_mut() {
                    std::io::Read::read_to_string(e, &mut out).unwrap();
                }
                panic!("paycode exited ({status}) before reaching {state:?}:\n{out}");
            }
            let Ok(j) = Journal::open(&self.journal_path()) else {
                return false;
            };
            match j
                .unfinished()
                .unwrap_or_default()
                .into_iter()
                .find(|s| s.state == state)
            {
                Some(s) => {
                    no = s.out_trade_no;
                    true
                }
                None => false,
            }
        });
        no
    }
}

/// The exit status `paycode pay` must give for a status (docs/reliability.md §1).
pub fn exit_code_for(status: &str) -> i32 {
    match status {
        "paid" => 0,
        "failed" | "reversed" => 1,
        "unresolved" => 2,
        _ => 3,
    }
}

/// SIGKILL a child and reap it.
pub fn kill_9(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
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

/// Wait (hang guard: 60 s, generous for a loaded CI machine) until `f` holds.
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(60);
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
