//! The embedded simulator's shared log: with `base_url = "simulator"` every paycode process (the
//! TUI, each CLI command) runs its own in-process simulator, and they share one state through an
//! append-only file of operations (`oplog.rs`) in the data directory. Each operation runs under
//! an exclusive file lock: catch up on what other processes appended, apply, append. So `paycode
//! query` finds the order `paycode pay` made, and recovery after a crash sees what the simulated
//! WeChat really did. The IO edge; the log holds no API key and no full payment code.
//!
//! The log starts over (the old one kept as `*.old`) when the merchant, key or `[simulator]`
//! behaviour changed, when this build cannot read it, or once it is `MAX_AGE` old.
#![allow(clippy::disallowed_methods)] // IO edge: the shared log maps wall time to simulated time.

use super::ledger::{Sim, SimTime};
use super::oplog::{Op, Outcome, apply, from_line, to_line};
use super::{SimError, SimSettings};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Format version of the log; a different one starts a new log.
const VERSION: u32 = 1;

/// A simulated week: after it the log starts over, so replay at start-up stays short.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The first line of a log.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Header {
    paycode_simulator_log: u32,
    /// Wall time (Unix ms) of simulated time zero.
    epoch_ms: u64,
    /// Hash of the merchant, key and behaviour the log was written with.
    settings: String,
}

/// A simulator state shared with other processes through the log at `path`.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    settings: SimSettings,
    file: File,
    ino: u64,
    /// Bytes of the log already applied to our `Sim`.
    offset: u64,
    epoch_ms: u64,
    /// The latest simulated time in the log; our own operations never go back before it.
    last: SimTime,
    /// The log ends in a torn line (a writer died mid-line); our next line starts after a newline.
    torn: bool,
}

impl Store {
    /// Open (or start) the log at `path` and rebuild the simulator from it.
    pub fn open(path: &Path, settings: &SimSettings) -> Result<(Store, Sim), SimError> {
        let io = |source| SimError::Store {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = open_file(path).map_err(io)?;
        file.lock().map_err(io)?;
        let result = Self::adopt(path, settings, file);
        result.map_err(io)
    }

    /// With `file` locked: keep it if its header fits, else start a new log; then replay it.
    fn adopt(path: &Path, settings: &SimSettings, file: File) -> std::io::Result<(Store, Sim)> {
        let want = fingerprint(settings);
        let now_ms = wall_ms();
        let mut file = file;
        let header = read_header(&mut file)?;
        let fits = header.as_ref().is_some_and(|h| {
            h.paycode_simulator_log == VERSION
                && h.settings == want
                && now_ms.saturating_sub(h.epoch_ms) < MAX_AGE.as_millis() as u64
        });
        let epoch_ms = match header {
            Some(h) if fits => h.epoch_ms,
            old => {
                if old.is_some() || file.metadata()?.len() > 0 {
                    // Other processes still holding the old file notice the new inode and reload.
                    std::fs::rename(path, path.with_extension("log.old"))?;
                    tracing::info!("simulator log {} started over", path.display());
                    let fresh = open_file(path)?;
                    fresh.lock()?;
                    file = fresh; // dropping the old handle releases its lock
                }
                let h = Header {
                    paycode_simulator_log: VERSION,
                    epoch_ms: now_ms,
                    settings: want,
                };
                let mut line = serde_json::to_string(&h).map_err(std::io::Error::other)?;
                line.push('\n');
                file.write_all(line.as_bytes())?;
                now_ms
            }
        };
        let ino = file.metadata()?.ino();
        let mut store = Store {
            path: path.to_path_buf(),
            settings: settings.clone(),
            file,
            ino,
            offset: 0,
            epoch_ms,
            last: Duration::ZERO,
            torn: false,
        };
        let mut sim = store.fresh_sim();
        store.catch_up_locked(&mut sim)?;
        store.file.unlock()?;
        Ok((store, sim))
    }

    /// An empty simulator on this log's epoch.
    fn fresh_sim(&self) -> Sim {
        Sim::new(
            self.settings
                .core(i64::try_from(self.epoch_ms / 1000).unwrap_or(0)),
        )
    }

    /// Simulated time now, by the wall clock: shared by every process on the log.
    fn now(&self, scale: u32) -> SimTime {
        let since = Duration::from_millis(wall_ms().saturating_sub(self.epoch_ms));
        since.saturating_mul(scale.max(1)).max(self.last)
    }

    /// Catch up, apply `op` at the shared simulated time, append it. A request is scrubbed first
    /// (no full payment code on disk) and handled as scrubbed, so every process sees the same
    /// stand-in. An IO failure is logged and the answer still given: the simulator serves this
    /// process even if the log is unwritable.
    pub fn run(&mut self, sim: &mut Sim, op: Op, scale: u32) -> Outcome {
        let op = op.scrubbed(&self.settings.key);
        if let Err(e) = self.sync(sim) {
            tracing::warn!("simulator log {}: {e}", self.path.display());
        }
        let now = self.now(scale);
        let out = apply(sim, &op, now);
        if let Err(e) = self.append(&op, now) {
            tracing::warn!("simulator log {}: cannot append: {e}", self.path.display());
        }
        let _ = self.file.unlock();
        out
    }

    /// Catch up with other processes and return the shared simulated time (for read-only views).
    pub fn refresh(&mut self, sim: &mut Sim, scale: u32) -> SimTime {
        if let Err(e) = self.sync(sim) {
            tracing::warn!("simulator log {}: {e}", self.path.display());
        }
        let now = self.now(scale);
        let _ = self.file.unlock();
        now
    }

    /// Lock the log (left locked) and apply what others appended; reload if it started over.
    fn sync(&mut self, sim: &mut Sim) -> std::io::Result<()> {
        self.file.lock()?;
        let current = std::fs::metadata(&self.path).map(|m| m.ino()).ok();
        if current != Some(self.ino) {
            let _ = self.file.unlock();
            let (store, fresh) = Self::reopen(&self.path, &self.settings)?;
            *self = store;
            *sim = fresh;
            self.file.lock()?;
        }
        self.catch_up_locked(sim)
    }

    fn reopen(path: &Path, settings: &SimSettings) -> std::io::Result<(Store, Sim)> {
        let file = open_file(path)?;
        file.lock()?;
        Self::adopt(path, settings, file)
    }

    /// Apply every complete line after `offset`. The caller holds the lock.
    fn catch_up_locked(&mut self, sim: &mut Sim) -> std::io::Result<()> {
        self.file.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        self.file.read_to_end(&mut buf)?;
        let mut used = 0;
        for raw in buf.split_inclusive(|b| *b == b'\n') {
            if raw.last() != Some(&b'\n') {
                // Under the lock nobody is mid-write: an unterminated tail is a torn line.
                self.torn = true;
                break;
            }
            used += raw.len();
            let line = String::from_utf8_lossy(raw);
            let line = line.trim_end();
            if self.offset == 0 && used == raw.len() {
                continue; // the header
            }
            match from_line(line) {
                Some((op, t)) => {
                    let _ = apply(sim, &op, t);
                    self.last = self.last.max(t);
                }
                None => tracing::warn!("simulator log: skipped a line this build cannot read"),
            }
        }
        self.offset += used as u64;
        Ok(())
    }

    fn append(&mut self, op: &Op, now: SimTime) -> std::io::Result<()> {
        let Some(line) = to_line(op, now) else {
            return Ok(());
        };
        let mut bytes = Vec::with_capacity(line.len() + 2);
        if self.torn {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.file.seek(SeekFrom::End(0))?;
        self.file.write_all(&bytes)?;
        self.offset = self.file.stream_position()?;
        self.torn = false;
        self.last = now;
        Ok(())
    }
}

fn open_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

/// The header, if the first line is one.
fn read_header(file: &mut File) -> std::io::Result<Option<Header>> {
    file.seek(SeekFrom::Start(0))?;
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while file.read(&mut byte)? == 1 && byte[0] != b'\n' && first.len() < 4096 {
        first.push(byte[0]);
    }
    Ok(serde_json::from_slice(&first).ok())
}

/// A hash of what must not change under a log (the key only as part of the hash).
fn fingerprint(s: &SimSettings) -> String {
    let mut h = Sha256::new();
    for part in [
        s.appid.as_str(),
        s.mch_id.as_str(),
        s.key.expose(),
        &format!("{:?}", s.behaviour),
        &format!("{:?}/{}", s.refund_delay, s.time_scale),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..12])
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimulatorConfig;
    use crate::simulator::rules::Endpoint;
    use crate::simulator::scenario::{Fault, code_for, scenarios};
    use crate::simulator::testkit::{KEY, req};
    use crate::wxpay::sign::ApiKey;
    use crate::wxpay::xml::encode;

    /// xorshift64*: a seeded stream without a dependency on rand's API.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
        }
    }

    fn settings(path: &Path) -> SimSettings {
        let mut s = SimSettings::new(ApiKey::new(KEY).unwrap(), &SimulatorConfig::default());
        s.store = Some(path.to_path_buf());
        s
    }

    /// One random change: requests of every endpoint (some garbage), trainer actions, faults.
    fn random_op(rng: &mut Rng) -> Op {
        let no = format!("T{}", rng.below(12));
        let fee = (1 + rng.below(3) * 50_000).to_string();
        let table = scenarios();
        let code = code_for(&table[rng.below(table.len() as u64) as usize], rng.below(6));
        let (ep, pairs): (Endpoint, Vec<(&str, String)>) = match rng.below(9) {
            0..=2 => (
                Endpoint::Micropay,
                vec![
                    ("body", "Goods".into()),
                    ("out_trade_no", no),
                    ("total_fee", fee),
                    ("spbill_create_ip", "127.0.0.1".into()),
                    ("auth_code", code),
                ],
            ),
            3 => (Endpoint::OrderQuery, vec![("out_trade_no", no)]),
            4 => (Endpoint::Reverse, vec![("out_trade_no", no)]),
            5 => (
                Endpoint::Refund,
                vec![
                    ("out_trade_no", no.clone()),
                    ("out_refund_no", format!("{no}R{}", rng.below(3))),
                    ("total_fee", fee),
                    ("refund_fee", (1 + rng.below(200)).to_string()),
                ],
            ),
            6 => {
                return match rng.below(4) {
                    0 => Op::Confirm(no),
                    1 => Op::Cancel(no),
                    2 => Op::Noise {
                        ep: Endpoint::OrderQuery,
                    },
                    _ => Op::Fault {
                        fault: [
                            Fault::Drop,
                            Fault::SystemError,
                            Fault::WrongSign,
                            Fault::Recall,
                            Fault::Http500,
                        ][rng.below(5) as usize],
                        count: 1 + rng.below(2) as u32,
                        endpoint: [None, Some(Endpoint::Micropay), Some(Endpoint::Reverse)]
                            [rng.below(3) as usize],
                    },
                };
            }
            7 => (Endpoint::RefundQuery, vec![("out_trade_no", no)]),
            _ => (
                Endpoint::DownloadBill,
                vec![("bill_date", "20261124".into())],
            ),
        };
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = encode(req(&borrowed).iter());
        Op::Request {
            ep,
            post: true,
            body: body.into_bytes(),
        }
    }

    /// Whatever the mix of requests, faults and trainer actions, a simulator rebuilt from the log
    /// alone is the simulator that wrote it.
    #[test]
    fn replay_rebuilds_the_same_simulator_for_many_seeds() {
        let (mut orders, mut charged, mut refunded) = (0, 0, 0);
        for seed in 1..=60u64 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ledger.log");
            let s = settings(&path);
            let (mut store, mut live) = Store::open(&path, &s).unwrap();
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            for _ in 0..80 {
                let op = random_op(&mut rng);
                store.run(&mut live, op, 1);
            }
            let (_, mut rebuilt) = Store::open(&path, &s).unwrap();
            let later = store.last + Duration::from_secs(3600);
            let a = serde_json::to_string(&live.ledger(later)).unwrap();
            let b = serde_json::to_string(&rebuilt.ledger(later)).unwrap();
            assert_eq!(a, b, "seed {seed}: replay differs");
            assert_eq!(
                live.pending_faults(),
                rebuilt.pending_faults(),
                "seed {seed}"
            );
            let view = live.ledger(later);
            orders += view.orders.len();
            charged += view.orders.iter().filter(|o| o.charged > 0).count();
            refunded += view.orders.iter().filter(|o| o.refunded > 0).count();
        }
        // The mix really moves money, so the comparison covers paid, refunded and reversed orders.
        assert!(
            orders > 200 && charged > 50 && refunded > 10,
            "{orders} {charged} {refunded}"
        );
        errln!("replayed {orders} orders, {charged} charged, {refunded} refunded");
    }
}
