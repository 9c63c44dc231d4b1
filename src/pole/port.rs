//! The pole-display port's reader thread: open the serial port or pty raw (the scanner's
//! opening, the POS's line speed), feed the decoder, send each total shown, and reopen with
//! backoff when the port goes away and comes back.
#![allow(clippy::disallowed_methods)] // IO edge: the reader stamps bytes with the clock for the decoder's settle time.

use super::{Decoder, PoleMsg, PortEvent};
use crate::config::PoleConfig;
use crate::money::Fen;
use crate::scanner::ScannerStatus;
use crate::scanner::config::SerialConfig;
use crate::scanner::reader::{Backoff, ReaderHandle, StopSignal};
use serialport::SerialPort;
use std::io::{self, Read};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// Read timeout: also how late a line without an end is read after it settled.
const READ_TIMEOUT: Duration = Duration::from_millis(50);
/// Reconnect delays: a replugged USB adapter is back within a second or two.
const RECONNECT_MIN: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// Start the reader for `[pos_display]`; totals above `ceiling` are not totals.
pub fn spawn(cfg: &PoleConfig, ceiling: Fen, tx: Sender<PoleMsg>) -> io::Result<ReaderHandle> {
    let cfg = cfg.clone();
    ReaderHandle::spawn("pole-display", move |stop| run(&cfg, ceiling, &tx, &stop))
}

/// Open the port once and close it: `paycode check`'s question.
pub fn probe(cfg: &PoleConfig) -> Result<String, PortEvent> {
    let path = cfg.port.to_string_lossy().into_owned();
    open(cfg, &path).map(|_| path).map_err(PortEvent)
}

fn open(cfg: &PoleConfig, path: &str) -> Result<Box<dyn SerialPort>, ScannerStatus> {
    let serial = SerialConfig {
        port: Some(path.to_string()),
        baud: cfg.baud,
        ..SerialConfig::default()
    };
    let mut port = crate::scanner::serial::open(&serial, path)?;
    let _ = port.set_timeout(READ_TIMEOUT);
    Ok(port)
}

fn run(cfg: &PoleConfig, ceiling: Fen, tx: &Sender<PoleMsg>, stop: &StopSignal) {
    let path = cfg.port.to_string_lossy().into_owned();
    let mut backoff = Backoff::new(RECONNECT_MIN, RECONNECT_MAX);
    let mut last: Option<ScannerStatus> = None;
    // A status only when it changed; false once the screen is gone.
    let mut status = |s: ScannerStatus| -> bool {
        if last.as_ref() == Some(&s) {
            return true;
        }
        let ev = PortEvent(s.clone());
        match &s {
            ScannerStatus::Connected { .. } => tracing::info!("{ev}"),
            _ => tracing::warn!("{ev}"),
        }
        last = Some(s);
        tx.send(PoleMsg::Status(ev)).is_ok()
    };
    while !stop.stopped() {
        let port = match open(cfg, &path) {
            Ok(p) => p,
            Err(s) => {
                if !status(s) || stop.sleep(backoff.next_delay()) {
                    return;
                }
                continue;
            }
        };
        backoff.reset();
        if !status(ScannerStatus::Connected { path: path.clone() }) {
            return;
        }
        // A fresh screen per connection: half a command from before the unplug means nothing.
        let mut decoder = Decoder::new(cfg.command_set, ceiling);
        let Some(reason) = read_until_gone(port, &mut decoder, tx, stop) else {
            return;
        };
        // Wait before reopening: right after an unplug the stale node may still exist.
        if !status(ScannerStatus::Disconnected { reason }) || stop.sleep(backoff.next_delay()) {
            return;
        }
    }
}

/// Read until the port is gone (returns why) or the reader must stop (returns `None`).
fn read_until_gone(
    mut port: Box<dyn SerialPort>,
    decoder: &mut Decoder,
    tx: &Sender<PoleMsg>,
    stop: &StopSignal,
) -> Option<String> {
    let mut buf = [0u8; 1024];
    loop {
        if stop.stopped() {
            return None;
        }
        let shown = match port.read(&mut buf) {
            // A real unplug can return Ok(0) forever: treating it as "no data" would spin.
            Ok(0) => return Some("end of file (unplugged?)".into()),
            Ok(n) => decoder.push(&buf[..n], Instant::now()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) =>
            {
                decoder.poll(Instant::now())
            }
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                return Some("the device hung up (unplugged?)".into());
            }
            Err(e) => return Some(format!("read error: {e}")),
        };
        if let Some(total) = shown {
            tracing::info!(fen = total.0, "the POS display showed a total");
            if tx.send(PoleMsg::Total(total)).is_err() {
                return None;
            }
        }
    }
}
