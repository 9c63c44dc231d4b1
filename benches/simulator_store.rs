//! Cost of sharing the embedded simulator through its log (src/simulator/store.rs): one
//! request applied in memory vs through the log (lock, catch up, append), and the replay a new
//! process does at start-up, against applying the same operations in memory.
//! Run: `cargo bench --bench simulator_store`.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

use paycode::config::SIMULATOR_DEMO_KEY;
use paycode::simulator::oplog::{Op, apply};
use paycode::simulator::store::Store;
use paycode::simulator::{Endpoint, SimSettings, code_for, scenarios};
use paycode::wxpay::sign::{ApiKey, SignType, sign};
use paycode::wxpay::xml::{Fields, encode};
use std::time::{Duration, Instant};

fn key() -> ApiKey {
    ApiKey::new(SIMULATOR_DEMO_KEY).unwrap_or_else(|e| panic!("{e}"))
}

fn body(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut f: Fields = [
        ("appid", paycode::config::SIMULATOR_APPID),
        ("mch_id", paycode::config::SIMULATOR_MCH_ID),
        ("nonce_str", "benchnonce"),
    ]
    .into_iter()
    .chain(pairs.iter().copied())
    .collect();
    let s = sign(&f, &key(), SignType::Md5);
    f.push("sign", s);
    encode(&f).into_bytes()
}

/// A paid sale: micropay and one orderquery, as they arrive (the store scrubs them).
fn sale(i: u64) -> [Op; 2] {
    let no = format!("bench{i:08}");
    let code = code_for(&scenarios()[0], i);
    let pay = body(&[
        ("body", "Store-Goods"),
        ("out_trade_no", &no),
        ("total_fee", "1234"),
        ("spbill_create_ip", "127.0.0.1"),
        ("auth_code", &code),
        ("device_info", "till-1"),
    ]);
    let query = body(&[("out_trade_no", &no)]);
    let request = |ep, body| Op::Request {
        ep,
        post: true,
        body,
    };
    [
        request(Endpoint::Micropay, pay),
        request(Endpoint::OrderQuery, query),
    ]
}

fn settings() -> SimSettings {
    SimSettings::demo().unwrap_or_else(|e| panic!("{e}"))
}

fn per_op(total: Duration, ops: u64) -> f64 {
    total.as_nanos() as f64 / ops as f64 / 1000.0
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for sales in [1_000u64, 10_000] {
        let ops: Vec<Op> = (0..sales).flat_map(sale).collect();
        let n = ops.len() as u64;

        // Baseline: the same operations on an in-memory simulator.
        let mut mem = paycode::simulator::Sim::new(settings().core(0));
        let t = Instant::now();
        for (i, op) in ops.iter().enumerate() {
            apply(&mut mem, op, Duration::from_millis(i as u64));
        }
        let in_memory = t.elapsed();

        // Through the log, as a running process answers requests.
        let path = dir.path().join(format!("ledger-{sales}.log"));
        let mut s = settings();
        s.store = Some(path.clone());
        let (mut store, mut sim) = Store::open(&path, &s).unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        for op in &ops {
            store.run(&mut sim, op.clone(), 1);
        }
        let logged = t.elapsed();

        // A new process: open and replay the whole log.
        let t = Instant::now();
        let (_store, _sim) = Store::open(&path, &s).unwrap_or_else(|e| panic!("{e}"));
        let replay = t.elapsed();
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());

        println!(
            "{sales:>6} sales ({n} requests, log {:.1} MB): in memory {:.1} µs/op; \
             through the log {:.1} µs/op (×{:.1}); start-up replay {:.0} ms = {:.1} µs/op (×{:.1} of in memory)",
            size as f64 / 1e6,
            per_op(in_memory, n),
            per_op(logged, n),
            logged.as_secs_f64() / in_memory.as_secs_f64(),
            replay.as_secs_f64() * 1000.0,
            per_op(replay, n),
            replay.as_secs_f64() / in_memory.as_secs_f64(),
        );
    }
}
