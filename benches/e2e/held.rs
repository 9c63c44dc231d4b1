//! Figure 4: the till is never held by the past. A scan handed to the cashier screen's till task
//! (`tui::worker`) → its micropay complete at the simulator, on two till tasks side by side:
//! one with nothing pending (the baseline), one whose pending sale is being retried in the
//! background against a black-holed network (its orderquery and reverse hang at a proxy) at
//! the moment the scan arrives. Samples alternate between the two.
//!
//! The request stamp is the simulator's: run at time scale 1000, an order's `created_ms` is real
//! microseconds since the simulator started (as in figure 3).
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

#[path = "../../tests/checkout_support/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use paycode::authcode::AuthCode;
use paycode::checkout::{CancelToken, Outcome, Progress, Status, Till};
use paycode::config::{SIMULATOR_APPID, SIMULATOR_DEMO_KEY, SIMULATOR_MCH_ID, SecretEnv};
use paycode::money::Fen;
use paycode::simulator::{RunningSim, code_for, scenario};
use paycode::tui::app::{Msg, TillCmd};
use paycode::tui::worker;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::setup;

const SCALE: u32 = 1000;
const QUERY: &str = "/pay/orderquery";
const REVERSE: &str = "/secapi/pay/reverse";

type Jobs = UnboundedSender<(TillCmd, CancelToken)>;
type Inbox = UnboundedReceiver<(Msg, Instant)>;

/// Scan → micropay at the simulator, per sample, for each till task.
#[derive(Debug, Default)]
pub struct Samples {
    pub idle: Vec<Duration>,
    pub held: Vec<Duration>,
}

async fn open(base_url: &str, dir: &Path, device: &str) -> Till {
    std::fs::create_dir_all(dir).expect("dir");
    // Short timeouts so a pending sale forms quickly; the background retry then hangs on them.
    let text = format!(
        r#"[merchant]
appid = "{SIMULATOR_APPID}"
mch_id = "{SIMULATOR_MCH_ID}"
device_info = "{device}"
spbill_create_ip = "127.0.0.1"

[wechat]
base_url = "{base_url}"
connect_timeout = "300ms"
read_timeout = "300ms"

[checkout]
first_query_after = "20ms"
query_interval = "20ms"
password_timeout = "300ms"
reverse_not_before = "50ms"
reverse_max_attempts = 1
reverse_backoff = "10ms"
unknown_query_after = "20ms"
duplicate_scan_window = "0s"

[journal]
path = "paycode.db"
log_dir = "logs"
"#
    );
    let env = SecretEnv {
        api_key: Some(SIMULATOR_DEMO_KEY.to_string()),
        p12_password: None,
    };
    let cfg = paycode::config::from_str_with_env(&text, &dir.join("config.toml"), &env)
        .expect("bench config");
    Till::open(cfg).await.expect("till")
}

/// Send one sale to a till task and wait for its outcome.
async fn sale(jobs: &Jobs, inbox: &mut Inbox, code: AuthCode, fen: u64) -> Outcome {
    let cmd = TillCmd::StartSale {
        amount: Fen(fen),
        code,
        pos_ref: None,
    };
    jobs.send((cmd, CancelToken::new())).expect("till task");
    loop {
        let (msg, _) = inbox.recv().await.expect("till task alive");
        if let Msg::Sale(Progress::Done(o)) = msg {
            return o;
        }
    }
}

/// `n` samples on each till task; returns them with the simulator's request stamps applied.
pub fn figures(rt: &tokio::runtime::Runtime, dir: &Path, n: u64) -> Samples {
    let sim: RunningSim = rt.block_on(setup::simulator(SCALE));
    let proxy = rt.block_on(proxy::Proxy::start(sim.addr));
    let base = sim.base_url.clone();
    let (idle_till, held_till) = rt.block_on(async {
        (
            open(&base, &dir.join("idle"), "idle").await,
            open(&proxy.url(), &dir.join("held"), "held").await,
        )
    });
    // The black hole: every orderquery and reverse through the proxy hangs.
    proxy.tamper(QUERY, proxy::Tamper::Hang, u32::MAX);
    proxy.tamper(REVERSE, proxy::Tamper::Hang, u32::MAX);
    let normal = scenario::by_key("normal").expect("scenario");
    let never = scenario::by_key("password_never").expect("scenario");
    let hung = || {
        proxy
            .seen()
            .iter()
            .filter(|p| p.ends_with(QUERY) || p.ends_with(REVERSE))
            .count()
    };
    let rows = rt.block_on(async {
        let (idle_jobs, idle_rx) = unbounded_channel();
        let (idle_tx, mut idle_in) = unbounded_channel();
        let (held_jobs, held_rx) = unbounded_channel();
        let (held_tx, mut held_in) = unbounded_channel();
        let tick = Duration::from_millis(5);
        let w1 = worker::run_every(idle_till, idle_rx, idle_tx, tick);
        let w2 = worker::run_every(held_till, held_rx, held_tx, tick);
        let driver = async {
            let mut rows: Vec<(bool, String, Instant)> = Vec::new();
            let mut serial = 10_000;
            for i in 0..n + 4 {
                let keep = i >= 4; // warm-up
                serial += 1;
                // A new pending sale, then wait until the background retry of it hangs.
                let p = sale(&held_jobs, &mut held_in, code(never, serial), 100).await;
                assert_eq!(p.status(), Status::Unresolved, "{p:?}");
                let before = hung();
                while hung() == before {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                serial += 1;
                let t0 = Instant::now();
                let o = sale(&held_jobs, &mut held_in, code(normal, serial), 1).await;
                assert_eq!(o.status(), Status::Paid, "{o:?}");
                if keep {
                    rows.push((true, o.out_trade_no, t0));
                }
                serial += 1;
                let t0 = Instant::now();
                let o = sale(&idle_jobs, &mut idle_in, code(normal, serial), 1).await;
                assert_eq!(o.status(), Status::Paid, "{o:?}");
                if keep {
                    rows.push((false, o.out_trade_no, t0));
                }
            }
            drop((idle_jobs, held_jobs));
            rows
        };
        let ((), (), rows) = tokio::join!(w1, w2, driver);
        rows
    });
    // Anchor the simulator's clock to `Instant`.
    let a = Instant::now();
    let sim_now = sim.now();
    let b = Instant::now();
    let anchor = (a + (b - a) / 2)
        .checked_sub(sim_now / SCALE)
        .expect("anchor");
    let created: HashMap<String, u64> = sim
        .ledger()
        .orders
        .into_iter()
        .map(|o| (o.out_trade_no, o.created_ms))
        .collect();
    let mut s = Samples::default();
    for (held, no, t0) in rows {
        let at = anchor + Duration::from_micros(created.get(&no).copied().expect("order"));
        let d = at.saturating_duration_since(t0);
        if held {
            s.held.push(d);
        } else {
            s.idle.push(d);
        }
    }
    s
}

fn code(sc: &paycode::simulator::Scenario, serial: u64) -> AuthCode {
    AuthCode::parse(&code_for(sc, serial)).expect("code")
}
