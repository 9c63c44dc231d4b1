//! Figure 2: from the simulated customer's confirmation (`RunningSim::confirm`) to the runner's
//! `Done(Paid)`, and orderqueries per sale, for a query schedule.
//!
//! Scaled runs: every checkout timing is divided by `scale` and the simulator's clock runs
//! `scale` times faster, so a 5 s interval takes 5/scale s. A sale's latency is converted back
//! as `(last query sent − confirm) × scale + (Done − last query sent)`: the wait for the schedule
//! scales, the round trip and journal commits after the send do not. The journal commit just
//! before each send is inside the scaled part, so the conversion overstates by up to
//! (scale − 1) × that commit; the real-time subset (same seeds, scale 1) measures the error.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paycode::authcode::AuthCode;
use paycode::checkout::{Progress, Status, run_sale};
use paycode::money::Fen;
use paycode::simulator::{RunningSim, code_for, scenario};

use crate::setup::{self, HANG_GUARD};
use crate::stats::mix;

/// A query schedule (real seconds).
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub first: Duration,
    pub interval: Duration,
}

/// The customer confirms uniformly between these (real-equivalent) times after the micropay;
/// the upper end leaves every schedule at least one query before the 30 s reverse.
const CONFIRM_MIN_MS: u64 = 1_000;
const CONFIRM_SPAN_MS: u64 = 23_000;

/// When sale `i` of a run seeded `seed` confirms, after the micropay (real-equivalent).
pub fn confirm_after(seed: u64, i: u64) -> Duration {
    Duration::from_millis(CONFIRM_MIN_MS + mix(seed, i) % CONFIRM_SPAN_MS)
}

/// The wait a zero-cost runner would give: to the first scheduled query at or after `d`.
pub fn ideal_wait(s: Schedule, d: Duration) -> Duration {
    if d <= s.first {
        return s.first - d;
    }
    let iv = s.interval.as_millis().max(1);
    let since = (d - s.first).as_millis();
    let k = since.div_ceil(iv);
    Duration::from_millis(u64::try_from(k * iv - since).unwrap_or(0))
}

/// One sale's measurements.
#[derive(Debug, Clone)]
pub struct SaleResult {
    pub index: u64,
    pub paid: bool,
    /// Confirmation → Done, converted to real-equivalent time.
    pub latency: Duration,
    /// From the last send (or the confirmation, if later) to Done: not scaled.
    pub fixed: Duration,
    pub queries: u32,
    pub confirm_after: Duration,
}

/// Run `sales` password sales for `schedule`, spread over `tills` parallel tills.
pub fn run(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    schedule: Schedule,
    scale: u32,
    sales: u64,
    tills: u64,
    seed: u64,
) -> Vec<SaleResult> {
    // A sale's future is not Send (it holds the till's SQLite connection across awaits), so
    // the tills run as local tasks on this thread; the simulator serves from the workers.
    let local = tokio::task::LocalSet::new();
    rt.block_on(local.run_until(async {
        let sim = Arc::new(setup::simulator(scale).await);
        let mut tasks = Vec::new();
        for t in 0..tills {
            let tdir = dir.join(format!("till{t}"));
            std::fs::create_dir_all(&tdir).expect("till dir");
            let sched = Some((schedule.first, schedule.interval));
            let mut till = setup::till(&sim, &tdir, &format!("bench{t}"), scale, sched).await;
            let sim = sim.clone();
            let mine: Vec<u64> = (0..sales).filter(|i| i % tills == t).collect();
            tasks.push(tokio::task::spawn_local(async move {
                let mut out = Vec::new();
                for i in mine {
                    out.push(one_sale(&mut till, &sim, i, seed, scale).await);
                }
                out
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            let r = tokio::time::timeout(HANG_GUARD, t).await;
            results.extend(r.expect("hang guard").expect("till task"));
        }
        let ledger = sim.ledger();
        let queries: HashMap<String, u32> = ledger
            .orders
            .iter()
            .map(|o| {
                let q = o.requests.get("orderquery").copied().unwrap_or(0);
                (o.out_trade_no.clone(), q)
            })
            .collect();
        results.sort_by_key(|(r, _)| r.index);
        results
            .into_iter()
            .map(|(mut r, no)| {
                r.queries = queries.get(&no).copied().unwrap_or(0);
                r
            })
            .collect()
    }))
}

async fn one_sale(
    till: &mut paycode::checkout::Till,
    sim: &RunningSim,
    i: u64,
    seed: u64,
    scale: u32,
) -> (SaleResult, String) {
    let sc = scenario::by_key("password_never").expect("scenario");
    let code = AuthCode::parse(&code_for(sc, 500_000 + i)).expect("code");
    let d = confirm_after(seed, i);
    let (tx, rx) = tokio::sync::oneshot::channel::<(String, Instant)>();
    let mut tx = Some(tx);
    let mut events: Vec<(Instant, bool)> = Vec::new();
    let sale = run_sale(till, Fen(100 + i), code, |p| {
        let now = Instant::now();
        if let Progress::Submitting { out_trade_no, .. } = &p
            && let Some(tx) = tx.take()
        {
            let _ = tx.send((out_trade_no.clone(), now));
        }
        events.push((now, matches!(p, Progress::Done(_))));
    });
    let customer = async {
        let (no, submitted) = rx.await.expect("submitted");
        let at = submitted + d / scale.max(1);
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        let ok = sim.confirm(&no).is_ok();
        (no, Instant::now(), ok)
    };
    let (outcome, (no, confirmed, ok)) = tokio::join!(sale, customer);
    let paid = ok && outcome.is_ok_and(|o| o.outcome.status() == Status::Paid);
    let done = events
        .iter()
        .rfind(|e| e.1)
        .map_or(confirmed, |e| e.0)
        .max(confirmed);
    let last_send = events
        .iter()
        .rev()
        .find(|e| !e.1)
        .map_or(confirmed, |e| e.0);
    let raw = done - confirmed;
    let (latency, fixed) = if last_send > confirmed {
        let fixed = done - last_send;
        ((last_send - confirmed) * scale.max(1) + fixed, fixed)
    } else {
        (raw, raw)
    };
    let r = SaleResult {
        index: i,
        paid,
        latency,
        fixed,
        queries: 0,
        confirm_after: d,
    };
    (r, no)
}
