//! The print queue on a thread of its own, for the cashier screen: the worker hands it order
//! numbers and never waits for the printer. It keeps its own journal connection (SQLite WAL:
//! beside the till's), drains after each slip and every half minute while slips wait, and
//! reports the printer's state for the status line.

use super::PrintError;
use super::queue::{drain, now_ms, probe};
use crate::config::PrinterConfig;
use crate::journal::{Journal, PrintKind};
use crate::receipt::PrinterState;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

/// How often the printer is asked again (state, and the queue when slips wait).
const EVERY: Duration = Duration::from_secs(30);

/// What the spooler tells the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The printer's state, or why it could not be reached.
    pub state: Result<PrinterState, PrintError>,
    /// Slips still queued.
    pub queued: usize,
}

enum Job {
    /// Queue a slip (`true`: a reprint, marked COPY), then drain.
    Queue(String, PrintKind, bool),
    Drain,
}

/// The handle the worker keeps; dropping it stops the thread.
pub struct Spooler {
    tx: Sender<Job>,
}

impl Spooler {
    /// Start the thread; `report` is called with every state it learns.
    pub fn start(
        cfg: PrinterConfig,
        journal: PathBuf,
        report: impl Fn(Report) + Send + 'static,
    ) -> Spooler {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("paycode-printer".into())
            .spawn(move || run(&cfg, &journal, &rx, &report))
            .map_or_else(
                |e| tracing::error!(error = %e, "printer thread did not start"),
                |_| (),
            );
        Spooler { tx }
    }

    /// Queue the slip of a sale that just ended.
    pub fn sale(&self, out_trade_no: &str) {
        let _ = self
            .tx
            .send(Job::Queue(out_trade_no.into(), PrintKind::Sale, false));
    }

    /// Queue the slip of a refund.
    pub fn refund(&self, out_trade_no: &str, out_refund_no: &str) {
        let _ = self.tx.send(Job::Queue(
            out_trade_no.into(),
            PrintKind::Refund(out_refund_no.into()),
            false,
        ));
    }

    /// Queue a closed shift's report (`reprint`: printed again, marked COPY).
    pub fn shift(&self, id: i64, reprint: bool) {
        let _ = self
            .tx
            .send(Job::Queue(String::new(), PrintKind::Shift(id), reprint));
    }

    /// Print a sale's slip again (history, P).
    pub fn reprint(&self, out_trade_no: &str) {
        let _ = self
            .tx
            .send(Job::Queue(out_trade_no.into(), PrintKind::Sale, true));
    }

    /// Try the queue now.
    pub fn flush(&self) {
        let _ = self.tx.send(Job::Drain);
    }
}

fn run(cfg: &PrinterConfig, path: &Path, rx: &Receiver<Job>, report: &dyn Fn(Report)) {
    let mut journal: Option<Journal> = None;
    let mut first = true;
    loop {
        let job = if first {
            first = false;
            Some(Job::Drain)
        } else {
            match rx.recv_timeout(EVERY) {
                Ok(j) => Some(j),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        if journal.is_none() {
            match Journal::open(path) {
                Ok(j) => journal = Some(j),
                Err(e) => {
                    tracing::error!(error = %e, "printer queue: journal not opened");
                    continue;
                }
            }
        }
        let Some(j) = journal.as_mut() else { continue };
        if let Some(Job::Queue(no, kind, reprint)) = &job
            && let Err(e) = j.enqueue_print(no, kind, *reprint, now_ms())
        {
            tracing::error!(error = %e, order = %no, "receipt not queued");
        }
        let drained = match drain(j, cfg, now_ms()) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "printer queue");
                continue;
            }
        };
        let queued = drained.left;
        let state = match drained.state {
            Some(s) => s,
            // Nothing was queued: ask the printer anyway for the status line.
            None => probe(cfg),
        };
        if let Err(e) = &state {
            tracing::warn!(error = %e, queued, "receipt printer");
        }
        report(Report { state, queued });
    }
}
