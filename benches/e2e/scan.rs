//! Figure 3: scan-to-request. Bytes written on a scanner pty → the serial reader's `ScanEvent` →
//! `run_sale` (guards, write-ahead intent commit, signing) → the micropay request complete at
//! the simulator, against a bare pipeline in the same process: a plain reader thread on a pty
//! that hands the line to a std-socket keep-alive POST to a bare HTTP server.
//!
//! The hook: the simulator stamps each order with its simulated clock when the request body is
//! in; run at time_scale 1000, the ledger's `created_ms` is real microseconds since the
//! simulator started, and `RunningSim::now()` read beside `Instant::now()` anchors that clock.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use paycode::checkout::{Progress, Status, Till, run_sale};
use paycode::money::Fen;
use paycode::scanner::config::SerialConfig;
use paycode::scanner::{DecodeSettings, ReaderHandle, ScannerMsg, serial};
use paycode::simulator::{RunningSim, code_for, scenario};
use serialport::{SerialPort, TTYPort};

use crate::setup::{self, BareClient, BareServer};

/// Simulated ms per real ms: the ledger's simulated milliseconds are real microseconds.
const SCALE: u32 = 1000;

fn pty() -> (TTYPort, String) {
    let (mut master, slave) = TTYPort::pair().expect("pty");
    let name = slave.name().expect("pty name");
    drop(slave);
    master
        .set_timeout(Duration::from_secs(10))
        .expect("timeout");
    (master, name)
}

/// Per scan: write → request complete, and its two halves.
#[derive(Debug, Default)]
pub struct Samples {
    pub total: Vec<Duration>,
    /// write → line/event in hand.
    pub read: Vec<Duration>,
    /// line/event in hand → request complete at the server.
    pub send: Vec<Duration>,
}

impl Samples {
    fn push(&mut self, t0: Instant, line: Instant, req: Instant) {
        self.total.push(req.saturating_duration_since(t0));
        self.read.push(line.saturating_duration_since(t0));
        self.send.push(req.saturating_duration_since(line));
    }
}

/// paycode's path: serial reader thread + Decoder, then a real sale against the simulator.
pub struct Ours {
    sim: RunningSim,
    till: Till,
    master: TTYPort,
    rx: Receiver<ScannerMsg>,
    _reader: ReaderHandle,
    serial: u64,
    /// (out_trade_no, write instant, event instant)
    rows: Vec<(String, Instant, Instant)>,
}

impl Ours {
    pub fn start(rt: &tokio::runtime::Runtime, dir: &Path) -> Ours {
        let sim = rt.block_on(setup::simulator(SCALE));
        let till = rt.block_on(setup::till(&sim, dir, "scan0", 1, None));
        let (master, name) = pty();
        let (tx, rx) = channel();
        let cfg = SerialConfig {
            port: Some(name),
            ..SerialConfig::default()
        };
        let reader = serial::spawn(&cfg, DecodeSettings::default(), tx).expect("reader");
        match rx.recv_timeout(Duration::from_secs(30)).expect("status") {
            ScannerMsg::Status(s) if s.status.is_connected() => {}
            other => panic!("reader did not connect: {other:?}"),
        }
        Ours {
            sim,
            till,
            master,
            rx,
            _reader: reader,
            serial: 1_000,
            rows: Vec::new(),
        }
    }

    /// `n` scans; `keep` says whether they count (warm-up otherwise).
    pub fn scans(&mut self, rt: &tokio::runtime::Runtime, n: u64, keep: bool) {
        let normal = scenario::by_key("normal").expect("scenario");
        for _ in 0..n {
            // Distinct serials below 10 000 are distinct customers: no daily no-password limit.
            self.serial += 1;
            let bytes = format!("{}\r", code_for(normal, self.serial));
            let t0 = Instant::now();
            self.master.write_all(bytes.as_bytes()).expect("pty write");
            let ev = match self.rx.recv_timeout(Duration::from_secs(60)).expect("scan") {
                ScannerMsg::Scan(ev) => ev,
                ScannerMsg::Status(s) => panic!("scanner status instead of a scan: {s}"),
            };
            let code = ev.result.expect("valid code");
            let mut no = String::new();
            let outcome = rt
                .block_on(run_sale(&mut self.till, Fen(1), code, |p| {
                    if let Progress::Submitting { out_trade_no, .. } = p {
                        no = out_trade_no;
                    }
                }))
                .expect("sale");
            assert_eq!(outcome.outcome.status(), Status::Paid, "{outcome:?}");
            if keep {
                self.rows.push((no, t0, ev.at));
            }
        }
    }

    /// Turn the rows into samples with the simulator's request stamps.
    pub fn samples(&self) -> Samples {
        let a = Instant::now();
        let sim_now = self.sim.now();
        let b = Instant::now();
        let anchor = (a + (b - a) / 2)
            .checked_sub(sim_now / SCALE)
            .expect("anchor");
        let created: HashMap<String, u64> = self
            .sim
            .ledger()
            .orders
            .into_iter()
            .map(|o| (o.out_trade_no, o.created_ms))
            .collect();
        let mut s = Samples::default();
        for (no, t0, at) in &self.rows {
            let us = created.get(no).copied().expect("order in the ledger");
            s.push(*t0, *at, anchor + Duration::from_micros(us));
        }
        s
    }
}

/// The bare pipeline: a reader thread that only splits lines, and a raw keep-alive POST.
pub struct Bare {
    master: TTYPort,
    lines: Receiver<Instant>,
    server: BareServer,
    client: BareClient,
    pub samples: Samples,
}

impl Bare {
    pub fn start() -> Bare {
        let (master, name) = pty();
        let (tx, lines) = channel();
        let (ready_tx, ready_rx) = channel();
        std::thread::spawn(move || {
            let mut port = serialport::new(&name, 9600)
                .timeout(Duration::from_millis(200))
                .open()
                .expect("open pty");
            let _ = ready_tx.send(());
            let mut buf = [0u8; 512];
            loop {
                match port.read(&mut buf) {
                    Ok(n) => {
                        for _ in buf[..n].iter().filter(|&&b| b == b'\r') {
                            if tx.send(Instant::now()).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => return,
                }
            }
        });
        ready_rx.recv().expect("bare reader ready");
        let server = BareServer::start();
        let client = BareClient::connect(server.addr);
        Bare {
            master,
            lines,
            server,
            client,
            samples: Samples::default(),
        }
    }

    pub fn scans(&mut self, n: u64, keep: bool) {
        for i in 0..n {
            let bytes = format!("13{i:016}\r");
            let t0 = Instant::now();
            self.master.write_all(bytes.as_bytes()).expect("pty write");
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .expect("line");
            self.client.post();
            let req = self.server.received.recv().expect("server stamp");
            if keep {
                self.samples.push(t0, line, req);
            }
        }
    }
}
