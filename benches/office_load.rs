//! Load on one office PostgreSQL (issue 14; a measurement, not a test): N simulated tills,
//! each with its own journal, writing M sales (through the journal API, so the outbox
//! triggers fire as in a real sale) while a shipper per till ships every 100 ms over its own
//! role. Prints rows/s, shipping lag p50/p99 (office arrival − the change's time), the office's
//! CPU, then the same tills with the office down for the next M/2 sales each and the
//! catch-up time once it is back. Baseline in the same run: the same number of rows written
//! by one client into a plain table (no trigger, no RLS) in 500-row `jsonb_to_recordset`
//! inserts.
//!
//! `cargo bench --bench office_load` (20 × 200); `PAYCODE_OFFICE_TILLS=200
//! PAYCODE_OFFICE_SALES=1000 cargo bench --bench office_load` for the size.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

#[path = "../tests/pg_support/mod.rs"]
mod pg_support;

use paycode::journal::{Journal, NewSale, SaleState, Transition};
use paycode::money::Fen;
use paycode::office::ship::{Identity, round};
use pg_support::Pg;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// The office server's CPU so far (s): the postmaster with its reaped backends, plus the live
/// backends.
fn office_cpu(pg: &Pg) -> f64 {
    let pid_file = std::fs::read_to_string(pg.dir.path().join("data/postmaster.pid")).unwrap();
    let master: u32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
    let tick = 100.0; // USER_HZ on Linux
    let fields = |pid: u32| -> Option<Vec<String>> {
        let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = s.rsplit_once(')')?.1;
        Some(rest.split_whitespace().map(String::from).collect())
    };
    let mut total = 0.0;
    if let Some(f) = fields(master) {
        // After ")": state=0, ppid=1, … utime=11, stime=12, cutime=13, cstime=14.
        for i in [11, 12, 13, 14] {
            total += f[i].parse::<f64>().unwrap_or(0.0);
        }
    }
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(f) = fields(pid)
            && f[1] == master.to_string()
        {
            total += f[11].parse::<f64>().unwrap_or(0.0) + f[12].parse::<f64>().unwrap_or(0.0);
        }
    }
    total / tick
}

fn write_sales(path: &std::path::Path, device: &str, first: usize, n: usize) {
    let mut j = Journal::open(path).unwrap();
    for i in first..first + n {
        let no = format!("{device}{:017}", 20261203000000000u64 + i as u64);
        j.insert_intent(
            &NewSale {
                out_trade_no: no.clone(),
                total_fee: Fen(100 + (i % 900) as u64),
                code_fp: format!("fp{i}"),
                code_masked: "1345****".into(),
                device_info: device.into(),
                attach: None,
                pos_ref: None,
            },
            now_ms(),
        )
        .unwrap();
        j.transition(
            &no,
            SaleState::Paid,
            &Transition {
                transaction_id: Some(format!("42000{i:023}")),
                ..Transition::default()
            },
            now_ms(),
        )
        .unwrap();
    }
}

async fn shipped_total(admin: &tokio_postgres::Client) -> i64 {
    admin
        .query_one("SELECT count(*) FROM paycode.journal", &[])
        .await
        .unwrap()
        .get(0)
}

async fn wait_all(admin: &tokio_postgres::Client, want: i64) -> Duration {
    let start = Instant::now();
    while shipped_total(admin).await < want {
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            start.elapsed() < Duration::from_secs(3600),
            "never caught up"
        );
    }
    start.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env("PAYCODE_OFFICE_TILLS", 20);
    let m = env("PAYCODE_OFFICE_SALES", 200);
    let mut pg = Pg::start();
    pg_support::init(&pg);
    let mut admin = pg.admin().await;
    let dirs = tempfile::tempdir().unwrap();
    let mut tills = Vec::new();
    for i in 0..n {
        let device = format!("L{i:04}");
        let pw = paycode::office::admin::new_password();
        paycode::office::admin::add_till(&mut admin, &device, "bench", &pw)
            .await
            .unwrap();
        tills.push((device.clone(), dirs.path().join(format!("{device}.db")), pw));
    }
    // Shippers: one task per till, its own journal connection and office role.
    let stop = Arc::new(AtomicBool::new(false));
    let mut shippers = Vec::new();
    for (device, path, pw) in &tills {
        drop(Journal::open(path).unwrap());
        let (device, path, pw, stop) = (device.clone(), path.clone(), pw.clone(), stop.clone());
        let port = pg.port;
        shippers.push(tokio::spawn(async move {
            let me = Identity {
                device_info: device.clone(),
                mch_id: "1000000001".into(),
            };
            let mut journal = Journal::open(&path).unwrap();
            let mut client: Option<tokio_postgres::Client> = None;
            while !stop.load(Ordering::Relaxed) {
                if client.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
                    client = tokio_postgres::connect(
                        &format!(
                            "host=127.0.0.1 port={port} user=paycode_till_{device} password={pw} dbname=paycode"
                        ),
                        tokio_postgres::NoTls,
                    )
                    .await
                    .ok()
                    .map(|(c, conn)| {
                        tokio::spawn(conn);
                        c
                    });
                }
                if let Some(c) = &client
                    && round(c, &mut journal, &me, 500).await.is_err()
                {
                    client = None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }

    // Phase 1: the office up, every till selling at once.
    let cpu0 = office_cpu(&pg);
    let start = Instant::now();
    let writers: Vec<_> = tills
        .iter()
        .map(|(d, p, _)| {
            let (d, p) = (d.clone(), p.clone());
            std::thread::spawn(move || write_sales(&p, &d, 0, m))
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let written = start.elapsed();
    let want: i64 = tills
        .iter()
        .map(|(_, p, _)| pg_support::outbox_last(p))
        .sum();
    wait_all(&admin, want).await;
    let elapsed = start.elapsed();
    let cpu = office_cpu(&pg) - cpu0;
    let lag = admin
        .query_one(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY received_ms - at_ms)::float8,
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY received_ms - at_ms)::float8
             FROM paycode.journal",
            &[],
        )
        .await
        .unwrap();
    let (p50, p99): (f64, f64) = (lag.get(0), lag.get(1));
    let rows_per_s = want as f64 / elapsed.as_secs_f64();

    // Phase 2: the office down while every till sells M/2 more, then back.
    pg.stop();
    let writers: Vec<_> = tills
        .iter()
        .map(|(d, p, _)| {
            let (d, p) = (d.clone(), p.clone());
            std::thread::spawn(move || write_sales(&p, &d, m, m / 2))
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let want2: i64 = tills
        .iter()
        .map(|(_, p, _)| pg_support::outbox_last(p))
        .sum();
    pg.start_again();
    let back = Instant::now();
    let admin = pg.admin().await;
    wait_all(&admin, want2).await;
    let catch_up = back.elapsed();
    stop.store(true, Ordering::Relaxed);
    for s in shippers {
        let _ = s.await;
    }

    // Baseline: the same rows by one client into a plain table, 500 rows a statement.
    admin
        .batch_execute(
            "CREATE TABLE bench_plain (till_id text, seq bigint, journal_id text, kind text,
                 key text, row jsonb, at_ms bigint, PRIMARY KEY (till_id, seq))",
        )
        .await
        .unwrap();
    let mut batches = Vec::new();
    for (device, path, _) in &tills {
        let j = Journal::open(path).unwrap();
        let rows = j.outbox_after(0, usize::MAX >> 1).unwrap();
        for chunk in rows.chunks(500) {
            batches.push((
                device.clone(),
                paycode::office::batch::payload(chunk).unwrap(),
            ));
        }
    }
    let base_start = Instant::now();
    let mut base_rows = 0u64;
    for (device, payload) in &batches {
        base_rows += admin
            .execute(
                "INSERT INTO bench_plain SELECT $1, x.seq, 'j', x.kind, x.key, x.row, x.at_ms
                 FROM jsonb_to_recordset($2::jsonb)
                      AS x(seq bigint, kind text, key text, row jsonb, at_ms bigint)",
                &[device, payload],
            )
            .await
            .unwrap();
    }
    let base_s = base_start.elapsed().as_secs_f64();
    let base_rate = base_rows as f64 / base_s;

    println!(
        "office_load: {n} tills × {m} sales (+{} each with the office down)",
        m / 2
    );
    println!(
        "  online: {want} rows shipped in {:.1} s ({:.1} s writing) = {rows_per_s:.0} rows/s; lag p50 {p50:.0} ms, p99 {p99:.0} ms; office CPU {cpu:.1} s ({:.0} % of one core)",
        elapsed.as_secs_f64(),
        written.as_secs_f64(),
        100.0 * cpu / elapsed.as_secs_f64()
    );
    println!(
        "  office down then back: {} rows caught up in {:.1} s ({:.0} rows/s)",
        want2 - want,
        catch_up.as_secs_f64(),
        (want2 - want) as f64 / catch_up.as_secs_f64()
    );
    println!(
        "  baseline (one client, plain table, no trigger/RLS): {base_rows} rows in {base_s:.1} s = {base_rate:.0} rows/s"
    );
    println!(
        "  ratios: shipping online / baseline = {:.2}; catch-up / baseline = {:.2}",
        rows_per_s / base_rate,
        ((want2 - want) as f64 / catch_up.as_secs_f64()) / base_rate
    );
}
