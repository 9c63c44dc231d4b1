//! Scanner figures (a measurement, not a test): `cargo bench --bench scanner`.
//!
//! 1. pty → ScanEvent latency through the real serial reader thread, p50/p99 over 10 000 scans,
//!    against a baseline bare reader thread (same pty, same read timeout, no decoding) in the
//!    same run.
//! 2. Pure decode throughput against a baseline that only counts terminators.
//! 3. CPU used by an idle reader thread over 10 s (PAYCODE_BENCH_IDLE_SECS), from
//!    /proc/self/stat, against the same process with no reader.
//!
//! No floats: ratios are printed as integer percent.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

use paycode::scanner::config::SerialConfig;
use paycode::scanner::{DecodeSettings, Decoder, ScannerMsg, Source, serial};
use serialport::{SerialPort, TTYPort};
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const SCANS: u32 = 10_000;

fn code(i: u32) -> String {
    format!("13{i:016}\r")
}

fn pty() -> (TTYPort, String) {
    let (mut master, slave) = TTYPort::pair().expect("pty");
    let name = slave.name().expect("name");
    drop(slave);
    master
        .set_timeout(Duration::from_secs(10))
        .expect("timeout");
    (master, name)
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let at = |p: usize| v[(v.len() * p / 100).min(v.len() - 1)];
    (at(50), at(99), v[v.len() - 1])
}

fn pct(a: Duration, b: Duration) -> u128 {
    a.as_nanos() * 100 / b.as_nanos().max(1)
}

fn measure(master: &mut TTYPort, next: &mut dyn FnMut()) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(SCANS as usize);
    for i in 0..SCANS {
        let bytes = code(i);
        let t = Instant::now();
        master.write_all(bytes.as_bytes()).expect("write");
        next();
        lat.push(t.elapsed());
    }
    lat
}

fn reader_latency() -> Vec<Duration> {
    let (mut master, name) = pty();
    let (tx, rx) = channel();
    let cfg = SerialConfig {
        port: Some(name),
        ..SerialConfig::default()
    };
    let settings = DecodeSettings {
        idle_end: None,
        ..DecodeSettings::default()
    };
    let reader = serial::spawn(&cfg, settings, tx).expect("spawn");
    match rx.recv().expect("status") {
        ScannerMsg::Status(s) if s.status.is_connected() => {}
        other => panic!("reader did not connect: {other:?}"),
    }
    let lat = measure(&mut master, &mut || match rx.recv().expect("scan") {
        ScannerMsg::Scan(ev) => assert!(ev.result.is_ok()),
        ScannerMsg::Status(s) => panic!("{s}"),
    });
    reader.stop();
    lat
}

fn baseline_latency() -> Vec<Duration> {
    let (mut master, name) = pty();
    let (tx, rx): (_, Receiver<Vec<u8>>) = channel();
    let (ready_tx, ready_rx) = channel();
    let t = std::thread::spawn(move || {
        let mut port = serialport::new(&name, 9600)
            .timeout(Duration::from_millis(200))
            .open()
            .expect("open");
        ready_tx.send(()).expect("ready");
        let mut buf = [0u8; 512];
        let mut line = Vec::new();
        loop {
            match port.read(&mut buf) {
                Ok(n) => {
                    for &b in &buf[..n] {
                        if b == b'\r' {
                            if tx.send(std::mem::take(&mut line)).is_err() {
                                return;
                            }
                        } else {
                            line.push(b);
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
    });
    ready_rx.recv().expect("ready");
    let lat = measure(&mut master, &mut || {
        rx.recv().expect("line");
    });
    drop(master);
    drop(rx);
    let _ = t.join();
    lat
}

fn decode_throughput() -> (Duration, Duration, usize) {
    let mut data = Vec::new();
    for i in 0..200_000u32 {
        data.extend_from_slice(code(i).as_bytes());
    }
    let now = Instant::now();
    let t = Instant::now();
    let mut count = 0usize;
    for chunk in data.chunks(512) {
        count += chunk.iter().filter(|&&b| b == b'\r').count();
    }
    let base = t.elapsed();
    let mut d = Decoder::new(DecodeSettings::default(), Source::Serial);
    let t = Instant::now();
    let mut scans = 0usize;
    for chunk in data.chunks(512) {
        scans += d.push(chunk, now).len();
    }
    let dec = t.elapsed();
    assert_eq!(scans, count);
    (base, dec, data.len())
}

/// utime + stime of this process in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

fn idle_cpu(secs: u64, with_reader: bool) -> u64 {
    let (_master, name) = pty();
    let (tx, rx) = channel();
    let reader = with_reader.then(|| {
        let cfg = SerialConfig {
            port: Some(name),
            ..SerialConfig::default()
        };
        serial::spawn(&cfg, DecodeSettings::default(), tx).expect("spawn")
    });
    if reader.is_some() {
        let _ = rx.recv();
    }
    let before = cpu_ticks();
    std::thread::sleep(Duration::from_secs(secs));
    let used = cpu_ticks() - before;
    drop(reader);
    used
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes bench binaries with --list
    }
    println!("scanner bench: {SCANS} scans per latency run");
    // Alternate the two so load from other processes hits both alike.
    for round in 1..=3 {
        let base = percentiles(baseline_latency());
        let ours = percentiles(reader_latency());
        println!(
            "round {round}: pty -> event  baseline (bare reader thread): p50 {:?}  p99 {:?}  max {:?}",
            base.0, base.1, base.2
        );
        println!(
            "round {round}: pty -> event  serial reader + Decoder:       p50 {:?}  p99 {:?}  max {:?}",
            ours.0, ours.1, ours.2
        );
        println!(
            "round {round}: ratio to baseline: p50 {}%  p99 {}%",
            pct(ours.0, base.0),
            pct(ours.1, base.1)
        );
    }
    let (b, d, n) = decode_throughput();
    println!(
        "decode {n} bytes: baseline CR count {b:?}, Decoder {d:?} ({}% of baseline time; {} MB/s)",
        pct(d, b),
        (n as u128) * 1000 / d.as_micros().max(1) / 1000
    );
    let secs = std::env::var("PAYCODE_BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let idle_base = idle_cpu(secs, false);
    let idle_reader = idle_cpu(secs, true);
    println!(
        "idle {secs} s: CPU ticks (1/100 s) without reader {idle_base}, with reader {idle_reader}"
    );
}
