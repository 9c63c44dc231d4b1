//! Two tills with one `device_info` (a copied config) on one simulator (issue 11 §3). Their
//! sales start at the same instant, so their order numbers often collide; WeChat then holds one
//! till's order under a number the other also used. Neither till may adopt, reverse, refund or
//! accept the other's order, and each till's money agrees with WeChat for the orders it owns.

use std::collections::BTreeMap;
use std::time::Duration;

use paycode::authcode::AuthCode;
use paycode::checkout::reconcile::number_taken;
use paycode::checkout::{
    RetrySchedule, Till, close_failures, failures_to_close, pending, recover, retry_pending,
    run_sale,
};
use paycode::journal::{SaleRow, SaleState};
use paycode::money::Fen;
use paycode::simulator::scenario::Fault;
use paycode::simulator::{Endpoint, OrderView};

use super::rng::Rng;
use super::world::{Timing, Variants, World, code, rows_of};

/// The customer scenarios the pair draws (each till's customer is a different person).
/// `password_confirms` pays at a set simulated moment; at this world's time scale (×500) that
/// lands anywhere in a till's query and reverse steps, the race a till that reversed orders it
/// could not prove its own lost (FAULTS.md rows 68, 72).
const SCENARIOS: [&str; 8] = [
    "normal",
    "normal",
    "password_never",
    "password_never",
    "password_confirms",
    "password_confirms",
    "notenough",
    "systemerror_paid",
];

/// What one pair seed found.
#[derive(Debug, Default)]
pub struct PairReport {
    pub seed: u64,
    pub sales: u32,
    /// Sales whose order number the other till had used too.
    pub collisions: u32,
    pub violations: Vec<String>,
}

/// Run the pair seed `seed`.
pub async fn run_pair(seed: u64) -> PairReport {
    let mut rng = Rng::new(seed ^ 0x7a11_7a11);
    let variants = Variants {
        unknown_reverse_succeeds: rng.chance(1, 2),
        bare_refund_state: rng.chance(1, 2),
        reversed_paid_revoked: rng.chance(1, 2),
        reverse_userpaying: false,
    };
    let auto_revoke = rng.chance(1, 2);
    let variants = Variants {
        reverse_userpaying: rng.chance(1, 2) && auto_revoke,
        ..variants
    };
    let world = World::start(Timing::chaos(auto_revoke, variants)).await;
    let twin = world.twin_dir();
    let mut a = world.open_till().await.unwrap();
    let mut b = world.open_twin(twin.path()).await.unwrap();
    let mut report = PairReport {
        seed,
        ..PairReport::default()
    };
    for i in 0..rng.range(2, 6) {
        let serial = |k: u64| (seed.wrapping_mul(1000) + i * 10 + k) % 1_000_000_000_000;
        let (sa, sb) = (
            SCENARIOS[rng.below(SCENARIOS.len() as u64) as usize],
            SCENARIOS[rng.below(SCENARIOS.len() as u64) as usize],
        );
        let ca = AuthCode::parse(&code(sa, serial(1))).unwrap();
        let cb = AuthCode::parse(&code(sb, serial(2))).unwrap();
        // Half the time the same amount: only the sale's tag tells the two orders apart then.
        let fa = Fen(rng.range(1, 5000));
        let fb = if rng.chance(1, 2) {
            fa
        } else {
            Fen(rng.range(1, 5000))
        };
        // A third of the time the next one or two micropay answers are lost after WeChat
        // applied them: a till whose duplicate answer is lost cannot tell the other till's
        // order from its own (no tag before it is paid).
        if rng.chance(1, 3) {
            let lost = rng.range(1, 3) as u32;
            world
                .sim
                .add_fault(Fault::Drop, lost, Some(Endpoint::Micropay));
        }
        let (ra, rb) = tokio::join!(
            run_sale(&mut a, fa, ca, |_| {}),
            run_sale(&mut b, fb, cb, |_| {})
        );
        report.sales += 2;
        for (till, r) in [("A", ra), ("B", rb)] {
            if let Err(e) = r {
                report
                    .violations
                    .push(format!("till {till} sale {i} refused: {e}"));
            }
        }
    }
    for _ in 0..12 {
        let open = settle(&mut a).await + settle(&mut b).await;
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    drop((a, b));
    let ledger = world.ledger();
    let rows_a = world.rows();
    let rows_b = rows_of(&twin.path().join("data/paycode.db"));
    let by_no: BTreeMap<&str, &OrderView> = ledger
        .orders
        .iter()
        .map(|o| (o.out_trade_no.as_str(), o))
        .collect();
    let nos_b: Vec<&str> = rows_b.iter().map(|r| r.out_trade_no.as_str()).collect();
    report.collisions = rows_a
        .iter()
        .filter(|r| nos_b.contains(&r.out_trade_no.as_str()))
        .count() as u32;
    for (till, rows) in [("A", &rows_a), ("B", &rows_b)] {
        for r in rows {
            if let Some(v) = check_row(r, by_no.get(r.out_trade_no.as_str()).copied()) {
                report.violations.push(format!("till {till}: {v}"));
            }
        }
    }
    for o in &ledger.orders {
        let micropays = o.requests.get("micropay").copied().unwrap_or(0);
        if micropays > 2 {
            bad_order(
                &mut report,
                o,
                &format!("{micropays} micropays from two tills"),
            );
        }
        let owners = rows_a.iter().chain(&rows_b).filter(|r| owns(r, o)).count();
        if owners != 1 {
            bad_order(&mut report, o, &format!("{owners} tills own it"));
        }
    }
    report
}

fn bad_order(report: &mut PairReport, o: &OrderView, why: &str) {
    report
        .violations
        .push(format!("{}: {why} ({})", o.out_trade_no, o.state));
}

/// One round of what a till does in the background; the number of sales still open after it.
async fn settle(t: &mut Till) -> usize {
    let _ = recover(t, |_| {}).await;
    let mut schedule = RetrySchedule::new(Duration::ZERO, Duration::ZERO);
    let now = t.clock().now();
    let _ = retry_pending(t, &mut schedule, now, |_| {}).await;
    let _ = close_failures(t, &mut schedule, now, |_| {}).await;
    pending(t).map_or(1, |p| p.len()) + failures_to_close(t).map_or(1, |f| f.len())
}

/// The order WeChat holds under `r`'s number is `r`'s own (its tag came with the micropay).
fn owns(r: &SaleRow, o: &OrderView) -> bool {
    r.out_trade_no == o.out_trade_no && r.attach.as_deref() == Some(o.attach.as_str())
}

/// What is wrong with one till's row, given WeChat's order under its number (if any).
fn check_row(r: &SaleRow, order: Option<&OrderView>) -> Option<String> {
    let no = &r.out_trade_no;
    let Some(o) = order else {
        // WeChat never saw it: it cannot have been charged.
        return (r.state == SaleState::Paid).then(|| format!("{no}: paid but WeChat has no order"));
    };
    let net = o.charged.saturating_sub(o.refunded);
    if !owns(r, o) {
        // The other till's order: this sale was not charged (its micropay never made an
        // order), and it never reversed that order (nothing proved it its own): "number taken",
        // a state WeChat itself closed the order in, or unresolved — never "reversed". The
        // owner's rows must still agree with WeChat (checked in their turn).
        let ok = matches!(r.state, SaleState::Failed | SaleState::Unresolved)
            && (r.state != SaleState::Failed
                || number_taken(r.err_code.as_deref())
                || o.state != "SUCCESS");
        return (!ok).then(|| {
            format!(
                "{no}: another till's order ({}, net {net}) but this till's sale is {} ({:?})",
                o.state,
                r.state.as_str(),
                r.err_code
            )
        });
    }
    match r.state {
        SaleState::Paid if o.state != "SUCCESS" || net != o.amount => Some(format!(
            "{no}: paid but WeChat says {} (net {net} of {})",
            o.state, o.amount
        )),
        SaleState::Paid if r.transaction_id != o.transaction_id => {
            Some(format!("{no}: paid under another transaction id"))
        }
        SaleState::Failed | SaleState::Reversed if net != 0 => Some(format!(
            "{no}: {} but the customer is out {net} fen",
            r.state.as_str()
        )),
        SaleState::Intent | SaleState::Submitted | SaleState::Reversing => {
            Some(format!("{no}: left {}", r.state.as_str()))
        }
        _ => None,
    }
}
