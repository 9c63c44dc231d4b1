//! One simulated shop: a simulator on a loopback port (sped up) and a data directory with a
//! config pointing at it. The in-process chaos opens tills on it; the crash loop runs the real
//! binary against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use paycode::checkout::{Till, TillError};
use paycode::config::{
    self, Config, SIMULATOR_APPID, SIMULATOR_DEMO_KEY, SIMULATOR_MCH_ID, SecretEnv,
};
use paycode::journal::{Journal, SaleRow};
use paycode::simulator::{self, LedgerView, RunningSim, SimSettings};

/// The timing of one world. Checkout durations are real time (the till runs on the wall
/// clock); the simulator's customers run `time_scale` times faster than real time.
#[derive(Debug, Clone)]
pub struct Timing {
    pub time_scale: u32,
    /// Whether "WeChat" revokes an unpaid order by itself after 45 simulated seconds.
    pub auto_revoke: bool,
    /// Which reading of WeChat's documentation the simulator follows where it has two.
    pub variants: Variants,
    pub connect_timeout: &'static str,
    pub read_timeout: &'static str,
    pub first_query_after: &'static str,
    pub query_interval: &'static str,
    pub password_timeout: &'static str,
    pub reverse_not_before: &'static str,
    pub reverse_max_attempts: u32,
    pub reverse_backoff: &'static str,
    pub unknown_query_after: &'static str,
    pub notexist_rounds: u32,
    pub unproven_wait: &'static str,
}

/// The simulator's answers where WeChat's documentation allows two (docs/simulator.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Variants {
    /// A reverse of an unknown order answers SUCCESS (else ORDERNOTEXIST).
    pub unknown_reverse_succeeds: bool,
    /// orderquery of a refunded order carries only the order and its state.
    pub bare_refund_state: bool,
    /// A reversed paid order is queried as REVOKED (else REFUND).
    pub reversed_paid_revoked: bool,
    /// A reverse while the password box is open answers USERPAYING.
    pub reverse_userpaying: bool,
}

impl Timing {
    /// In-process chaos: docs/protocol.md §8's default timings ÷500, and customers ×500 (a 30 s
    /// password timeout is 60 ms), so a sale takes tens of milliseconds of mostly waiting.
    pub fn chaos(auto_revoke: bool, variants: Variants) -> Timing {
        Timing {
            time_scale: 500,
            auto_revoke,
            variants,
            connect_timeout: "40ms",
            read_timeout: "40ms",
            first_query_after: "10ms",
            query_interval: "10ms",
            password_timeout: "60ms",
            reverse_not_before: "30ms",
            reverse_max_attempts: 4,
            reverse_backoff: "4ms",
            unknown_query_after: "4ms",
            notexist_rounds: 2,
            unproven_wait: "120ms",
        }
    }

    /// The crash loop: a child process, so slower steps that a kill can land between.
    pub fn crash_loop() -> Timing {
        Timing {
            time_scale: 200,
            auto_revoke: true,
            variants: Variants::default(),
            connect_timeout: "500ms",
            read_timeout: "300ms",
            first_query_after: "20ms",
            query_interval: "20ms",
            password_timeout: "150ms",
            reverse_not_before: "60ms",
            reverse_max_attempts: 4,
            reverse_backoff: "10ms",
            unknown_query_after: "10ms",
            notexist_rounds: 2,
            unproven_wait: "300ms",
        }
    }
}

/// A simulator and a data directory.
pub struct World {
    pub sim: RunningSim,
    pub dir: tempfile::TempDir,
    pub timing: Timing,
}

/// Prefer a RAM-backed directory: the journal fsyncs every step and the chaos run takes
/// thousands of them. Fall back to the system temp dir.
fn temp_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::Builder::new()
            .prefix("paycode-chaos")
            .tempdir_in(shm)
    {
        return d;
    }
    tempfile::Builder::new()
        .prefix("paycode-chaos")
        .tempdir()
        .unwrap()
}

impl World {
    /// Start a simulator and write the config (call inside a tokio runtime).
    pub async fn start(timing: Timing) -> World {
        let mut s = SimSettings::demo().unwrap();
        s.time_scale = timing.time_scale;
        if !timing.auto_revoke {
            s.behaviour.auto_revoke_after = Duration::from_secs(365 * 24 * 3600);
        }
        let v = timing.variants;
        s.behaviour.unknown_reverse_succeeds = v.unknown_reverse_succeeds;
        s.behaviour.bare_refund_state = v.bare_refund_state;
        s.behaviour.reversed_paid_revoked = v.reversed_paid_revoked;
        s.behaviour.reverse_userpaying = v.reverse_userpaying;
        let sim = simulator::start(s).await.unwrap();
        let dir = temp_dir();
        let w = World { sim, dir, timing };
        std::fs::write(w.config_path(), w.config_text()).unwrap();
        w
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.path().join("data/paycode.db")
    }

    fn config_text(&self) -> String {
        let t = &self.timing;
        format!(
            r#"[merchant]
appid = "{SIMULATOR_APPID}"
mch_id = "{SIMULATOR_MCH_ID}"
device_info = "till-chaos"
spbill_create_ip = "127.0.0.1"

[wechat]
base_url = "{base}"
connect_timeout = "{connect}"
read_timeout = "{read}"

[checkout]
first_query_after = "{first}"
query_interval = "{interval}"
password_timeout = "{password}"
reverse_not_before = "{not_before}"
reverse_max_attempts = {attempts}
reverse_backoff = "{backoff}"
unknown_query_after = "{unknown}"
notexist_rounds = {notexist}
unproven_wait = "{unproven}"
duplicate_scan_window = "10m"

[journal]
path = "data/paycode.db"
log_dir = "data/logs"

[ui]
language = "en"
"#,
            base = self.sim.base_url,
            connect = t.connect_timeout,
            read = t.read_timeout,
            first = t.first_query_after,
            interval = t.query_interval,
            password = t.password_timeout,
            not_before = t.reverse_not_before,
            attempts = t.reverse_max_attempts,
            backoff = t.reverse_backoff,
            unknown = t.unknown_query_after,
            notexist = t.notexist_rounds,
            unproven = t.unproven_wait,
        )
    }

    /// The resolved config (the demo key given as the environment would).
    pub fn config(&self) -> Config {
        let env = SecretEnv {
            api_key: Some(SIMULATOR_DEMO_KEY.to_string()),
            p12_password: None,
        };
        config::from_str_with_env(&self.config_text(), &self.config_path(), &env).unwrap()
    }

    /// Open a till on this world's journal (a process start, in-process).
    pub async fn open_till(&self) -> Result<Till, TillError> {
        Till::open(self.config()).await
    }

    pub fn ledger(&self) -> LedgerView {
        self.sim.ledger()
    }

    /// Every journal row, read through its own connection (as another process would).
    pub fn rows(&self) -> Vec<SaleRow> {
        rows_of(&self.journal_path())
    }

    /// A second till's data directory on this world's simulator, with a copy of this world's
    /// config (the same `device_info`: a copied config) and its own journal.
    pub fn twin_dir(&self) -> tempfile::TempDir {
        let d = temp_dir();
        std::fs::write(d.path().join("config.toml"), self.config_text()).unwrap();
        d
    }

    /// Open a till on a [`World::twin_dir`].
    pub async fn open_twin(&self, dir: &Path) -> Result<Till, TillError> {
        let env = SecretEnv {
            api_key: Some(SIMULATOR_DEMO_KEY.to_string()),
            p12_password: None,
        };
        let cfg =
            config::from_str_with_env(&self.config_text(), &dir.join("config.toml"), &env).unwrap();
        Till::open(cfg).await
    }

    /// `paycode ARGS` against this world, not yet started.
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
}

/// Every row of the journal at `path`, through its own connection.
pub fn rows_of(path: &Path) -> Vec<SaleRow> {
    let j = Journal::open(path).unwrap();
    j.sales_between(0, i64::MAX / 2).unwrap()
}

/// A fresh payment code for `scenario_key`; distinct `serial`s give distinct customers.
pub fn code(scenario_key: &str, serial: u64) -> String {
    let sc = simulator::scenarios()
        .iter()
        .find(|s| s.key == scenario_key)
        .unwrap();
    simulator::code_for(sc, serial)
}
