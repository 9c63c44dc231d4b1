//! Seeded chaos (issue 7 item 2, docs/reliability.md §10): every seed is a schedule of sales
//! with faults, cancels, customer actions, in-process kills and restarts from the journal; after
//! each seed the simulator's ledger, the journal, the pending list and what the cashier was told
//! must agree (tests/chaos_support/invariants.rs).
//!
//! `PAYCODE_CHAOS_SEEDS=100000` runs more seeds; `PAYCODE_CHAOS_SEED=N` replays one.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time
#![allow(clippy::unwrap_used)]

mod chaos_support;

use std::collections::BTreeSet;
use std::time::Instant;

use chaos_support::invariants::{Claim, check};
use chaos_support::plan::Plan;
use chaos_support::run::{SeedReport, run};
use chaos_support::stats::Stats;
use paycode::checkout::Status;
use paycode::journal::{SaleRow, SaleState};
use paycode::money::Fen;
use paycode::simulator::scenario::Fault;
use paycode::simulator::{LedgerView, OrderView, Totals, scenarios};

/// Seeds in a default `cargo test` run.
const DEFAULT_SEEDS: u64 = 2500;

/// Threads (one current-thread runtime each: a sale's future borrows the till across awaits,
/// so it is not `Send`) and seeds in flight per thread (a seed mostly waits on timers and
/// sockets, so several per core keep the cores busy).
const THREADS: u64 = 2;
const LANES: usize = 6;

/// `LANES`, or `PAYCODE_CHAOS_LANES` (for tuning on other machines).
fn lanes() -> usize {
    std::env::var("PAYCODE_CHAOS_LANES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LANES)
}

/// `(first, count)` of the seeds to run, from the environment.
fn seeds() -> (u64, u64) {
    let var = |name: &str| {
        std::env::var(name).ok().map(|v| {
            v.trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
    };
    if let Some(one) = var("PAYCODE_CHAOS_SEED") {
        return (one, 1);
    }
    let first = var("PAYCODE_CHAOS_FIRST_SEED").unwrap_or(0);
    (first, var("PAYCODE_CHAOS_SEEDS").unwrap_or(DEFAULT_SEEDS))
}

/// The seeds `first + k` for `k ≡ lane (mod THREADS)`, `LANES` at a time.
fn run_lane(first: u64, count: u64, lane: u64) -> Vec<SeedReport> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let mut set = tokio::task::JoinSet::new();
        let mut seeds = (first..first + count).filter(|s| (s - first) % THREADS == lane);
        let mut out = Vec::new();
        loop {
            while set.len() < lanes() {
                let Some(seed) = seeds.next() else { break };
                let plan = Plan::of(seed);
                set.spawn_local(async move { run(&plan).await });
            }
            match set.join_next().await {
                Some(r) => {
                    out.push(r.unwrap());
                    if out.len() % 5000 == 0 {
                        eprintln!("chaos: lane {lane}: {} seeds done", out.len());
                    }
                }
                None => break,
            }
        }
        out
    })
}

fn run_all(first: u64, count: u64) -> Vec<SeedReport> {
    let lanes: Vec<_> = (0..THREADS)
        .map(|lane| std::thread::spawn(move || run_lane(first, count, lane)))
        .collect();
    lanes.into_iter().flat_map(|h| h.join().unwrap()).collect()
}

#[test]
fn seeded_chaos_keeps_the_invariants() {
    let (first, count) = seeds();
    let started = Instant::now();
    let reports = run_all(first, count);
    let elapsed = started.elapsed();
    let mut total = Stats::default();
    for r in &reports {
        total.add(&r.stats);
    }
    eprintln!(
        "chaos: {} seeds from {first} in {} ms: {total:?}",
        reports.len(),
        elapsed.as_millis()
    );
    if count == 1 || std::env::var_os("PAYCODE_CHAOS_VERBOSE").is_some() {
        for r in &reports {
            eprintln!(
                "seed {} ({} ms): {:?}\n  plan: {:?}\n  shown: {:?}",
                r.seed,
                r.elapsed.as_millis(),
                r.stats,
                Plan::of(r.seed),
                r.claims
            );
        }
    }
    let mut failed: Vec<&SeedReport> = reports
        .iter()
        .filter(|r| !r.violations.is_empty())
        .collect();
    failed.sort_by_key(|r| r.seed);
    for r in &failed {
        eprintln!(
            "\nSEED {} FAILED — replay: PAYCODE_CHAOS_SEED={} cargo test --test chaos -- --nocapture\nplan: {:#?}",
            r.seed,
            r.seed,
            Plan::of(r.seed)
        );
        for v in &r.violations {
            eprintln!("  - {v}");
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} seeds broke an invariant: {:?}",
        failed.len(),
        reports.len(),
        failed.iter().map(|r| r.seed).collect::<Vec<_>>()
    );
    assert_eq!(total.seeds, count);
    if count >= 500 {
        // The run really exercised what it claims to (not a vacuous pass).
        for (what, n) in [
            ("paid", total.paid),
            ("failed", total.failed),
            ("reversed", total.reversed),
            ("reversed after a charge", total.reversed_refunded),
            ("crashes", total.crashes),
            ("recovery crashes", total.recovery_crashes),
            ("recovered", total.recovered),
            ("unresolved shown", total.unresolved_shown),
            ("busy refusals", total.busy_refusals),
            ("duplicate refusals", total.duplicate_refusals),
        ] {
            assert!(n > 0, "no {what} in {count} seeds: {total:?}");
        }
    }
}

#[test]
fn plans_are_a_function_of_the_seed_and_cover_the_schedule_space() {
    assert_eq!(Plan::of(42), Plan::of(42));
    assert_ne!(Plan::of(42), Plan::of(43));
    let mut scenario_keys = BTreeSet::new();
    let mut fault_kinds = BTreeSet::new();
    let (mut crashes, mut cancels, mut eager, mut recovery_crashes) = (0, 0, 0, 0);
    for seed in 0..DEFAULT_SEEDS {
        let plan = Plan::of(seed);
        for s in &plan.sales {
            scenario_keys.insert(s.scenario.key);
            for f in s
                .faults
                .iter()
                .chain(s.restart.iter().flat_map(|r| &r.faults))
            {
                fault_kinds.insert(match f.fault {
                    Fault::Delay(_) => "delay",
                    Fault::Drop => "drop",
                    Fault::Http500 => "http500",
                    Fault::Html => "html",
                    Fault::SystemError => "systemerror",
                    Fault::BankError => "bankerror",
                    Fault::WrongSign => "wrong_sign",
                    Fault::Recall => "recall",
                    Fault::DropBefore => "drop_before",
                    Fault::FalseDecline => "false_decline",
                    Fault::Decline => "decline",
                });
            }
            crashes += u32::from(s.crash_at.is_some());
            cancels += u32::from(s.cancel_at.is_some());
            if let Some(r) = &s.restart {
                eager += u32::from(r.eager_sale);
                recovery_crashes += r.crash_recovery_at.len();
            }
        }
    }
    assert_eq!(
        scenario_keys.len(),
        scenarios().len(),
        "every customer scenario"
    );
    assert_eq!(fault_kinds.len(), 11, "every fault kind: {fault_kinds:?}");
    assert!(crashes > 0 && cancels > 0 && eager > 0 && recovery_crashes > 0);
}

fn order(no: &str, amount: u64, state: &str, charged: u64, refunded: u64) -> OrderView {
    OrderView {
        out_trade_no: no.into(),
        transaction_id: (charged > 0).then(|| format!("tx-{no}")),
        code: format!("13************{}", &no[no.len() - 4..]),
        scenario: "normal".into(),
        device_info: "till-chaos".into(),
        attach: String::new(),
        amount,
        state: state.into(),
        err_code: None,
        charged,
        refunded,
        refund_pending: 0,
        created_ms: 0,
        created_at: String::new(),
        paid_ms: None,
        paid_at: None,
        closed_ms: None,
        refunds: Vec::new(),
        requests: [("micropay".to_string(), 1)].into_iter().collect(),
    }
}

fn ledger(orders: Vec<OrderView>) -> LedgerView {
    LedgerView {
        orders,
        totals: Totals {
            orders: 0,
            paid_orders: 0,
            charged: 0,
            refunded: 0,
            net: 0,
            requests: Default::default(),
            pending_faults: 0,
        },
    }
}

fn row(no: &str, amount: u64, state: SaleState) -> SaleRow {
    SaleRow {
        out_trade_no: no.into(),
        total_fee: Fen(amount),
        code_fp: String::new(),
        code_masked: String::new(),
        device_info: "till-chaos".into(),
        created_ms: 0,
        updated_ms: 0,
        state,
        transaction_id: (state == SaleState::Paid).then(|| format!("tx-{no}")),
        bank_type: None,
        cash_fee: None,
        err_code: None,
        message: None,
        attach: None,
        pos_ref: None,
    }
}

fn said(no: &str, status: Status, refunded: bool) -> Claim {
    Claim {
        out_trade_no: no.into(),
        status,
        transaction_id: (status == Status::Paid).then(|| format!("tx-{no}")),
        refunded,
        by_refund: false,
        definite: false,
    }
}

/// A `said` of WeChat's own signed refusal (NOTENOUGH and the like).
fn declined(no: &str) -> Claim {
    Claim {
        definite: true,
        ..said(no, Status::Failed, false)
    }
}

/// The checker itself: a consistent record passes, and each kind of lie is named.
#[test]
fn the_checker_passes_agreement_and_names_each_violation() {
    let good_ledger = ledger(vec![
        order("A0001", 100, "SUCCESS", 100, 0),
        order("B0002", 200, "REFUND", 200, 200),
        order("C0003", 300, "REVOKED", 0, 0),
        order("D0004", 400, "USERPAYING", 0, 0),
    ]);
    let good_rows = vec![
        row("A0001", 100, SaleState::Paid),
        row("B0002", 200, SaleState::Reversed),
        row("C0003", 300, SaleState::Failed),
        row("D0004", 400, SaleState::Unresolved),
        row("E0005", 500, SaleState::Failed), // never reached WeChat
    ];
    let pend = vec!["D0004".to_string()];
    let good_claims = vec![
        said("A0001", Status::Paid, false),
        said("B0002", Status::Reversed, true),
        said("C0003", Status::Failed, false),
        said("D0004", Status::Unresolved, false),
    ];
    assert_eq!(
        check(&good_ledger, &good_rows, &pend, &good_claims),
        Vec::<String>::new()
    );
    // A signed refusal that hid a payment, returned when the order was closed later: the
    // later report stands.
    assert_eq!(
        check(
            &ledger(vec![order("F0006", 100, "REFUND", 100, 100)]),
            &[row("F0006", 100, SaleState::Reversed)],
            &[],
            &[declined("F0006"), said("F0006", Status::Reversed, true)],
        ),
        Vec::<String>::new()
    );

    type Case = (
        &'static str,
        LedgerView,
        Vec<SaleRow>,
        Vec<String>,
        Vec<Claim>,
    );
    let cases: Vec<Case> = vec![
        (
            "2 micropays",
            ledger(vec![{
                let mut o = order("A0001", 100, "SUCCESS", 100, 0);
                o.requests.insert("micropay".into(), 2);
                o
            }]),
            vec![row("A0001", 100, SaleState::Paid)],
            vec![],
            vec![],
        ),
        (
            "not in the journal",
            ledger(vec![order("A0001", 100, "SUCCESS", 100, 0)]),
            vec![],
            vec![],
            vec![],
        ),
        (
            "journal Paid but WeChat says",
            ledger(vec![order("A0001", 100, "REVOKED", 0, 0)]),
            vec![row("A0001", 100, SaleState::Paid)],
            vec![],
            vec![],
        ),
        (
            "journal Paid but WeChat never saw",
            ledger(vec![]),
            vec![row("A0001", 100, SaleState::Paid)],
            vec![],
            vec![],
        ),
        (
            "customer is out 100 fen",
            ledger(vec![order("A0001", 100, "SUCCESS", 100, 0)]),
            vec![row("A0001", 100, SaleState::Failed)],
            vec![],
            vec![],
        ),
        (
            "still open",
            ledger(vec![order("A0001", 100, "USERPAYING", 0, 0)]),
            vec![row("A0001", 100, SaleState::Reversed)],
            vec![],
            vec![],
        ),
        (
            "not on the pending list",
            ledger(vec![]),
            vec![row("A0001", 100, SaleState::Unresolved)],
            vec![],
            vec![],
        ),
        (
            "left submitted",
            ledger(vec![]),
            vec![row("A0001", 100, SaleState::Submitted)],
            vec![],
            vec![],
        ),
        (
            "journal amount",
            ledger(vec![order("A0001", 100, "SUCCESS", 100, 0)]),
            vec![row("A0001", 99, SaleState::Paid)],
            vec![],
            vec![],
        ),
        (
            "net charge 200",
            ledger(vec![
                order("A0001", 100, "SUCCESS", 100, 0),
                order("B0001", 100, "SUCCESS", 100, 0), // same masked code
            ]),
            vec![
                row("A0001", 100, SaleState::Paid),
                row("B0001", 100, SaleState::Paid),
            ],
            vec![],
            vec![],
        ),
        (
            "cashier told PAID",
            ledger(vec![order("A0001", 100, "USERPAYING", 0, 0)]),
            vec![row("A0001", 100, SaleState::Unresolved)],
            vec!["A0001".into()],
            vec![said("A0001", Status::Paid, false)],
        ),
        (
            "(not charged) but the customer was charged and refunded",
            ledger(vec![order("A0001", 100, "REFUND", 100, 100)]),
            vec![row("A0001", 100, SaleState::Reversed)],
            vec![],
            vec![said("A0001", Status::Reversed, false)],
        ),
        (
            "cashier told failed and later paid",
            ledger(vec![order("A0001", 100, "SUCCESS", 100, 0)]),
            vec![row("A0001", 100, SaleState::Paid)],
            vec![],
            vec![
                said("A0001", Status::Failed, false),
                said("A0001", Status::Paid, false),
            ],
        ),
        (
            "cashier told failed but the journal says",
            ledger(vec![order("A0001", 100, "REFUND", 100, 100)]),
            vec![row("A0001", 100, SaleState::Reversed)],
            vec![],
            vec![declined("A0001")],
        ),
    ];
    for (want, l, rows, pend, claims) in cases {
        let got = check(&l, &rows, &pend, &claims);
        assert!(
            got.iter().any(|v| v.contains(want)),
            "expected a violation containing {want:?}, got {got:?}"
        );
    }
}

/// Pair seeds in a default run; `PAYCODE_CHAOS_PAIR_SEEDS` runs more.
const DEFAULT_PAIR_SEEDS: u64 = 200;

/// Two tills sharing one `device_info` (a copied config) on one simulator, their sales started
/// together so that their order numbers collide (tests/chaos_support/pair.rs): no till
/// touches the other's order, and each till's money agrees with WeChat for its own orders.
#[test]
fn two_tills_with_one_device_info_never_touch_each_others_orders() {
    let count = std::env::var("PAYCODE_CHAOS_PAIR_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_PAIR_SEEDS);
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let reports = local.block_on(&rt, async {
        let mut set = tokio::task::JoinSet::new();
        let mut seeds = 0..count;
        let mut out = Vec::new();
        loop {
            while set.len() < lanes() {
                let Some(seed) = seeds.next() else { break };
                set.spawn_local(chaos_support::pair::run_pair(seed));
            }
            match set.join_next().await {
                Some(r) => out.push(r.unwrap()),
                None => break,
            }
        }
        out
    });
    let sales: u32 = reports.iter().map(|r| r.sales).sum();
    let collisions: u32 = reports.iter().map(|r| r.collisions).sum();
    eprintln!(
        "chaos pairs: {count} seeds, {sales} sales, {collisions} shared order numbers, in {} ms",
        started.elapsed().as_millis()
    );
    let failed: Vec<_> = reports
        .iter()
        .filter(|r| !r.violations.is_empty())
        .collect();
    for r in &failed {
        eprintln!("\nPAIR SEED {} FAILED", r.seed);
        for v in &r.violations {
            eprintln!("  - {v}");
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {count} pair seeds broke an invariant",
        failed.len()
    );
    assert!(
        collisions > 0,
        "the pairs never shared an order number: the test tests nothing"
    );
}
