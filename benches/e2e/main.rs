//! End-to-end figures for BENCHMARKS.md (a measurement, not a test): `cargo bench --bench e2e`,
//! or `cargo bench --bench e2e -- confirm` / `-- scan` for one part.
//!
//! 2. Customer confirmation → `Done(Paid)` and orderqueries per sale, for three query schedules,
//!    over PAYCODE_BENCH_SALES (200) sales each at PAYCODE_BENCH_SCALE (10) × speed on
//!    PAYCODE_BENCH_TILLS (8) parallel tills, plus PAYCODE_BENCH_REAL_SALES (16) of the same
//!    seeded sales in real time to check the conversion; against a bare loopback round trip.
//! 3. Scan-to-request over PAYCODE_BENCH_SCANS (1000) scans against a bare pty + POST pipeline,
//!    alternated in rounds so load from other processes hits both alike.
//! 4. Held by the past: scan → micropay through the cashier screen's till task while a pending
//!    sale's background retry hangs on a black-holed network, against the same with nothing
//!    pending, PAYCODE_BENCH_HELD (40) samples each, alternating.
//!
//! Every figure prints its absolute values, its ratio to a baseline measured in this process,
//! and the load average. No floats: ratios are integer percent.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

mod api;
mod confirm;
mod held;
mod scan;
mod setup;
mod stats;

use std::time::{Duration, Instant};

use confirm::{SaleResult, Schedule, ideal_wait};
use stats::{Dist, count_dist, env_u64, loadavg, pct, times};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo test --benches` probes bench binaries with --list
    }
    let want = |part: &str| {
        !args
            .iter()
            .any(|a| a == "confirm" || a == "scan" || a == "held" || a == "api")
            || args.iter().any(|a| a == part)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // On the real disk (not tmpfs), so the journal's fsyncs cost what they cost at a till.
    let dir = tempfile::Builder::new()
        .prefix("paycode-e2e-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir");
    println!("e2e bench, load average at start: {}", loadavg());
    if want("confirm") {
        confirm_figures(&rt, dir.path());
    }
    if want("scan") {
        scan_figures(&rt, &dir.path().join("scan"));
    }
    if want("held") {
        held_figures(&rt, &dir.path().join("held"));
    }
    if want("api") {
        let n = env_u64("PAYCODE_BENCH_API_CALLS", 1000) as usize;
        let sales = env_u64("PAYCODE_BENCH_API_SALES", 100) as usize;
        api::figures(&rt, &dir.path().join("api"), n, sales);
    }
    println!("load average at end: {}", loadavg());
}

fn confirm_figures(rt: &tokio::runtime::Runtime, dir: &std::path::Path) {
    let sales = env_u64("PAYCODE_BENCH_SALES", 200);
    let scale = u32::try_from(env_u64("PAYCODE_BENCH_SCALE", 10))
        .unwrap_or(10)
        .max(1);
    let tills = env_u64("PAYCODE_BENCH_TILLS", 8).max(1);
    let real = env_u64("PAYCODE_BENCH_REAL_SALES", 16);
    let seed = env_u64("PAYCODE_BENCH_SEED", 1);
    let secs = Duration::from_secs;
    let (_, round) = setup::bare_post(2000);
    let bare = Dist::of(round);
    println!(
        "\n== confirm -> Done(Paid): {sales} sales per schedule, scale {scale}, {tills} tills, seed {seed}"
    );
    println!(
        "customer confirms uniformly 1..24 s after the micropay; password scenario; journal fsync on"
    );
    println!(
        "baseline: bare loopback keep-alive POST round trip (std sockets): {}",
        bare.us()
    );
    for (name, s) in [
        (
            "default 5 s / every 5 s",
            Schedule {
                first: secs(5),
                interval: secs(5),
            },
        ),
        (
            "5 s / every 3 s",
            Schedule {
                first: secs(5),
                interval: secs(3),
            },
        ),
        (
            "5 s / every 10 s",
            Schedule {
                first: secs(5),
                interval: secs(10),
            },
        ),
    ] {
        let load = loadavg();
        let t = Instant::now();
        let sub = std::fs::create_dir_all(dir.join(format!("s{}", s.interval.as_secs())));
        sub.expect("dir");
        let r = confirm::run(
            rt,
            &dir.join(format!("s{}", s.interval.as_secs())),
            s,
            scale,
            sales,
            tills,
            seed,
        );
        report_schedule(name, s, &r, &bare, t.elapsed(), &load);
    }
    if real > 0 {
        let s = Schedule {
            first: secs(5),
            interval: secs(5),
        };
        let load = loadavg();
        let t = Instant::now();
        let d = dir.join("real");
        std::fs::create_dir_all(&d).expect("dir");
        let scaled = confirm::run(rt, &dir.join("real-scaled"), s, scale, real, tills, seed);
        let actual = confirm::run(rt, &d, s, 1, real, tills, seed);
        println!(
            "\n-- validation: the first {real} sales of the default schedule, scale {scale} vs real time (same seeds), load {load}, took {:?}",
            t.elapsed()
        );
        let mut diffs = Vec::new();
        for (a, b) in scaled.iter().zip(&actual) {
            diffs.push(a.latency.abs_diff(b.latency));
        }
        println!(
            "   scaled (converted): {}",
            Dist::of(scaled.iter().map(|r| r.latency).collect()).ms()
        );
        println!(
            "   real time:          {}",
            Dist::of(actual.iter().map(|r| r.latency).collect()).ms()
        );
        println!("   |scaled - real| per sale: {}", Dist::of(diffs).ms());
        let q_same = scaled
            .iter()
            .zip(&actual)
            .filter(|(a, b)| a.queries == b.queries)
            .count();
        println!(
            "   same number of orderqueries: {q_same} of {}",
            actual.len()
        );
    }
}

fn report_schedule(
    name: &str,
    s: Schedule,
    r: &[SaleResult],
    bare: &Dist,
    took: Duration,
    load: &str,
) {
    let paid: Vec<&SaleResult> = r.iter().filter(|x| x.paid).collect();
    let lat = Dist::of(paid.iter().map(|x| x.latency).collect());
    let fixed = Dist::of(paid.iter().map(|x| x.fixed).collect());
    let ideal = Dist::of(
        paid.iter()
            .map(|x| ideal_wait(s, x.confirm_after))
            .collect(),
    );
    println!(
        "\n-- schedule {name}: {} of {} paid, load before {load}, took {took:?}",
        paid.len(),
        r.len()
    );
    println!("   confirm -> Done(Paid), real-equivalent: {}", lat.ms());
    println!("   zero-cost runner on this schedule:       {}", ideal.ms());
    println!(
        "   measured / zero-cost: p50 {}%  p90 {}%",
        pct(lat.p50, ideal.p50),
        pct(lat.p90, ideal.p90)
    );
    println!(
        "   last send -> Done (round trip + journal, unscaled): {}",
        fixed.ms()
    );
    println!(
        "   that vs bare loopback round trip: p50 {}  p99 {}",
        times(fixed.p50, bare.p50),
        times(fixed.p99, bare.p99)
    );
    println!(
        "   confirm -> Done p50 vs bare round trip: {}",
        times(lat.p50, bare.p50)
    );
    println!(
        "   orderqueries per sale: {}",
        count_dist(r.iter().map(|x| x.queries).collect())
    );
    if paid.len() < r.len() {
        let bad: Vec<String> = r
            .iter()
            .filter(|x| !x.paid)
            .map(|x| format!("#{} ({} ms)", x.index, x.confirm_after.as_millis()))
            .collect();
        println!("   NOT PAID: {}", bad.join(", "));
    }
}

fn scan_figures(rt: &tokio::runtime::Runtime, dir: &std::path::Path) {
    let n = env_u64("PAYCODE_BENCH_SCANS", 1000).max(4);
    std::fs::create_dir_all(dir).expect("dir");
    println!(
        "\n== scan-to-request: {n} scans (after 20 warm-up), 4 alternating rounds, load {}",
        loadavg()
    );
    let t = Instant::now();
    let mut ours = scan::Ours::start(rt, dir);
    let mut bare = scan::Bare::start();
    ours.scans(rt, 20, false);
    bare.scans(20, false);
    for _ in 0..4 {
        bare.scans(n / 4, true);
        ours.scans(rt, n / 4, true);
    }
    let o = ours.samples();
    let b = &bare.samples;
    let (ot, bt) = (Dist::of(o.total.clone()), Dist::of(b.total.clone()));
    println!("   took {:?}, load at end {}", t.elapsed(), loadavg());
    println!(
        "   paycode  pty write -> micropay at simulator: {}",
        ot.us()
    );
    println!(
        "   bare     pty write -> POST at bare server:   {}",
        bt.us()
    );
    println!(
        "   ratio: p50 {}  p99 {}",
        times(ot.p50, bt.p50),
        times(ot.p99, bt.p99)
    );
    println!(
        "   paycode  pty write -> ScanEvent:              {}",
        Dist::of(o.read.clone()).us()
    );
    println!(
        "   bare     pty write -> line read:              {}",
        Dist::of(b.read.clone()).us()
    );
    println!(
        "   paycode  ScanEvent -> micropay at simulator:  {}",
        Dist::of(o.send.clone()).us()
    );
    println!(
        "   bare     line -> POST at bare server:         {}",
        Dist::of(b.send.clone()).us()
    );
}

fn held_figures(rt: &tokio::runtime::Runtime, dir: &std::path::Path) {
    let n = env_u64("PAYCODE_BENCH_HELD", 40).max(1);
    println!(
        "\n== held by the past: {n} scans per till task (after 4 warm-up), alternating, load {}",
        loadavg()
    );
    let t = Instant::now();
    let s = held::figures(rt, dir, n);
    let (h, i) = (Dist::of(s.held), Dist::of(s.idle));
    println!("   took {:?}, load at end {}", t.elapsed(), loadavg());
    println!(
        "   retry hanging   StartSale -> micropay at simulator: {}",
        h.ms()
    );
    println!(
        "   nothing pending StartSale -> micropay at simulator: {}",
        i.ms()
    );
    println!(
        "   ratio: p50 {}  p99 {}",
        times(h.p50, i.p50),
        times(h.p99, i.p99)
    );
}
