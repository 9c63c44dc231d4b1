//! What serial and HID reader threads share: the stop signal, backoff, and status de-duplication.
#![allow(clippy::disallowed_methods)] // IO edge: reader threads stamp what they read with the clock.

use super::status::{NodeKind, ScannerStatus, StatusEvent};
use super::{ScanEvent, ScannerMsg, Source};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Read timeout of reader threads: short enough to notice a stop request quickly, long enough
/// that an idle reader costs nothing.
pub const READ_TIMEOUT: Duration = Duration::from_millis(200);

/// A running reader thread; dropping it (or [`ReaderHandle::stop`]) stops the thread.
#[derive(Debug)]
pub struct ReaderHandle {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ReaderHandle {
    /// Start `body` on a named thread with a stop signal.
    pub(crate) fn spawn(
        name: &str,
        body: impl FnOnce(StopSignal) + Send + 'static,
    ) -> std::io::Result<ReaderHandle> {
        let (stop_tx, stop_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(StopSignal(stop_rx)))?;
        Ok(ReaderHandle {
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Ask the thread to stop and wait for it (at most one read timeout or backoff step).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ReaderHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The reader's side of the stop signal: a closed channel means stop.
#[derive(Debug)]
pub(crate) struct StopSignal(Receiver<()>);

impl StopSignal {
    /// True once stop was requested.
    pub(crate) fn stopped(&self) -> bool {
        !matches!(self.0.try_recv(), Err(TryRecvError::Empty))
    }

    /// Sleep for `d` unless stop is requested first; returns true if stopped.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        !matches!(self.0.recv_timeout(d), Err(RecvTimeoutError::Timeout))
    }
}

/// The life of a reader thread, shared by serial and HID: `connect` (resolve and open; it may
/// set the reported source), report Connected, `read` until the device is gone (returns why;
/// `None`: stop), report Disconnected, back off, again — until stopped or the receiver is gone.
/// Every failed connect is reported (statuses are de-duplicated) and waited out with backoff.
pub(crate) fn supervise<C>(
    out: &mut Outbox,
    mut backoff: Backoff,
    stop: &StopSignal,
    mut connect: impl FnMut(&mut Outbox) -> Result<(String, C), ScannerStatus>,
    mut read: impl FnMut(C, &mut Outbox) -> Option<String>,
) {
    while !stop.stopped() {
        let (path, conn) = match connect(out) {
            Ok(x) => x,
            Err(status) => {
                if !out.status(status) || stop.sleep(backoff.next_delay()) {
                    return;
                }
                continue;
            }
        };
        backoff.reset();
        if !out.status(ScannerStatus::Connected { path }) {
            return;
        }
        let Some(reason) = read(conn, out) else {
            return;
        };
        // Wait before reopening: right after an unplug the stale node may still exist.
        if !out.status(ScannerStatus::Disconnected { reason }) || stop.sleep(backoff.next_delay()) {
            return;
        }
    }
}

/// Exponential reconnect delay: `min`, doubling up to `max`; reset on a successful connect.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        let max = max.max(min);
        Self {
            min,
            max,
            next: min,
        }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }
}

/// Sends scans and status changes; remembers the last status so repeats are not re-sent.
pub(crate) struct Outbox {
    tx: Sender<ScannerMsg>,
    source: Source,
    node: NodeKind,
    last: Option<ScannerStatus>,
}

impl Outbox {
    pub(crate) fn new(tx: Sender<ScannerMsg>, source: Source, node: NodeKind) -> Self {
        Self {
            tx,
            source,
            node,
            last: None,
        }
    }

    /// Send a status if it differs from the last one; false if the receiver is gone.
    pub(crate) fn status(&mut self, status: ScannerStatus) -> bool {
        if self.last.as_ref() == Some(&status) {
            return true;
        }
        let ev = StatusEvent {
            source: self.source,
            node: self.node,
            status: status.clone(),
            at: Instant::now(),
        };
        match &status {
            ScannerStatus::Connected { .. } => tracing::info!("{ev}"),
            _ => tracing::warn!("{ev}"),
        }
        self.last = Some(status);
        self.tx.send(ScannerMsg::Status(ev)).is_ok()
    }

    /// Send scans; false if the receiver is gone.
    pub(crate) fn scans(&mut self, evs: Vec<ScanEvent>) -> bool {
        evs.into_iter()
            .all(|ev| self.tx.send(ScannerMsg::Scan(ev)).is_ok())
    }

    /// Change the source reported from now on (HID: decided once the device is found).
    pub(crate) fn set_source(&mut self, source: Source) {
        self.source = source;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(1000), ms(5000));
        let got: Vec<_> = (0..5).map(|_| b.next_delay()).collect();
        assert_eq!(got, vec![ms(1000), ms(2000), ms(4000), ms(5000), ms(5000)]);
        b.reset();
        assert_eq!(b.next_delay(), ms(1000));
    }

    /// Not found twice (reported once), connected, unplugged, reconnected; the reader ends when
    /// the receiver goes away. The statuses tell the cashier each step.
    #[test]
    fn supervise_reports_each_step_and_reconnects() {
        let (tx, rx) = mpsc::channel::<ScannerMsg>();
        let (_keep, stop_rx) = mpsc::channel::<()>();
        let stop = StopSignal(stop_rx);
        let mut out = Outbox::new(tx, Source::Serial, NodeKind::Tty);
        let mut attempts = 0;
        let mut reads = 0;
        let handle = std::thread::spawn(move || {
            supervise(
                &mut out,
                Backoff::new(Duration::from_millis(1), Duration::from_millis(2)),
                &stop,
                |_| {
                    attempts += 1;
                    if attempts <= 2 {
                        Err(ScannerStatus::NotFound {
                            wanted: "/dev/scanner".into(),
                        })
                    } else {
                        Ok((format!("/dev/ttyACM{attempts}"), attempts))
                    }
                },
                |conn, _| {
                    reads += 1;
                    // The second connection's reader is told the receiver went away.
                    (reads == 1).then(|| format!("unplugged #{conn}"))
                },
            );
        });
        let statuses: Vec<ScannerStatus> = rx
            .iter()
            .map(|m| match m {
                ScannerMsg::Status(ev) => ev.status,
                ScannerMsg::Scan(ev) => panic!("no scans here: {ev:?}"),
            })
            .collect();
        handle.join().unwrap();
        assert_eq!(
            statuses,
            vec![
                ScannerStatus::NotFound {
                    wanted: "/dev/scanner".into()
                },
                ScannerStatus::Connected {
                    path: "/dev/ttyACM3".into()
                },
                ScannerStatus::Disconnected {
                    reason: "unplugged #3".into()
                },
                ScannerStatus::Connected {
                    path: "/dev/ttyACM4".into()
                },
            ]
        );
    }

    #[test]
    fn stop_signal_wakes_a_sleeping_reader() {
        let (tx, rx) = mpsc::channel::<ScannerMsg>();
        let h = ReaderHandle::spawn("test-reader", move |stop| {
            // Would sleep an hour if the stop signal did not wake it.
            let stopped = stop.sleep(Duration::from_secs(3600));
            let mut out = Outbox::new(tx, Source::Serial, NodeKind::Tty);
            out.status(ScannerStatus::Disconnected {
                reason: format!("stopped={stopped}"),
            });
        })
        .unwrap();
        h.stop();
        match rx.recv().unwrap() {
            ScannerMsg::Status(ev) => assert_eq!(
                ev.status,
                ScannerStatus::Disconnected {
                    reason: "stopped=true".into()
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn repeated_statuses_are_sent_once() {
        let (tx, rx) = mpsc::channel();
        let mut out = Outbox::new(tx, Source::HidPos, NodeKind::Hidraw);
        let nf = ScannerStatus::NotFound {
            wanted: "1eab:0d10".into(),
        };
        assert!(out.status(nf.clone()));
        assert!(out.status(nf.clone()));
        assert!(out.status(ScannerStatus::Connected {
            path: "/dev/hidraw0".into()
        }));
        assert!(out.status(nf));
        assert_eq!(rx.try_iter().count(), 3);
    }
}
