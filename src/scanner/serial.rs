//! Serial / USB virtual COM reader thread: resolve the port (path, by-id link or USB VID:PID,
//! on every reconnect), open it raw, read with a timeout, feed the decoder, and reconnect with
//! backoff when the port goes away.
#![allow(clippy::disallowed_methods)] // IO edge: the serial reader thread stamps bytes with the clock.

use super::config::{Parity, SerialConfig};
use super::reader::{Backoff, Outbox, READ_TIMEOUT, ReaderHandle, StopSignal, supervise};
use super::status::{NodeKind, ScannerStatus};
use super::{DecodeSettings, Decoder, ScannerMsg, Source};
use serialport::{ClearBuffer, DataBits, FlowControl, SerialPort, StopBits};
use std::io::{self, Read};
use std::sync::mpsc::Sender;
use std::time::Instant;

/// Start the serial reader for `cfg`; scans and status changes go to `tx`.
pub fn spawn(
    cfg: &SerialConfig,
    decode: DecodeSettings,
    tx: Sender<ScannerMsg>,
) -> io::Result<ReaderHandle> {
    let cfg = cfg.clone();
    ReaderHandle::spawn("scanner-serial", move |stop| run(&cfg, decode, tx, &stop))
}

/// What the configuration asks for, for messages ("/dev/scanner" or "USB 1eab:8306").
pub fn wanted(cfg: &SerialConfig) -> String {
    match (&cfg.port, &cfg.usb_id) {
        (Some(p), _) => p.clone(),
        (None, Some(id)) => format!("USB serial {id}"),
        (None, None) => "no port configured".into(),
    }
}

/// Find the port path now: the configured path as is, or the tty of the USB VID:PID.
pub fn resolve(cfg: &SerialConfig) -> Result<String, ScannerStatus> {
    if let Some(p) = &cfg.port {
        return Ok(p.clone());
    }
    let not_found = || ScannerStatus::NotFound {
        wanted: wanted(cfg),
    };
    let id = cfg.usb_id.ok_or_else(not_found)?;
    let ports = serialport::available_ports().map_err(|e| ScannerStatus::Failed {
        path: "/sys/class/tty".into(),
        message: e.to_string(),
    })?;
    ports
        .into_iter()
        .find(|p| {
            matches!(&p.port_type, serialport::SerialPortType::UsbPort(u)
                if u.vid == id.vid && u.pid == id.pid)
        })
        .map(|p| p.port_name)
        .ok_or_else(not_found)
}

/// Open `path` raw with the configured line settings and the reader's timeout.
pub fn open(cfg: &SerialConfig, path: &str) -> Result<Box<dyn SerialPort>, ScannerStatus> {
    let data_bits = match cfg.data_bits {
        5 => DataBits::Five,
        6 => DataBits::Six,
        7 => DataBits::Seven,
        _ => DataBits::Eight,
    };
    let parity = match cfg.parity {
        Parity::None => serialport::Parity::None,
        Parity::Odd => serialport::Parity::Odd,
        Parity::Even => serialport::Parity::Even,
    };
    let stop_bits = if cfg.stop_bits == 2 {
        StopBits::Two
    } else {
        StopBits::One
    };
    let port = serialport::new(path, cfg.baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(FlowControl::None)
        .timeout(READ_TIMEOUT)
        .open()
        .map_err(|e| open_error_status(&e, path))?;
    // Bytes queued before we opened are a stale (possibly expired, single-use) code: drop them.
    let _ = port.clear(ClearBuffer::Input);
    Ok(port)
}

/// Map a serialport open error to a status (pure, so it is testable as root).
pub fn open_error_status(e: &serialport::Error, path: &str) -> ScannerStatus {
    match e.kind() {
        serialport::ErrorKind::Io(kind) => {
            ScannerStatus::from_open_error(kind, path, &e.description)
        }
        serialport::ErrorKind::NoDevice => ScannerStatus::Busy { path: path.into() },
        _ => ScannerStatus::from_open_error(io::ErrorKind::Other, path, &e.description),
    }
}

fn run(cfg: &SerialConfig, decode: DecodeSettings, tx: Sender<ScannerMsg>, stop: &StopSignal) {
    let mut out = Outbox::new(tx, Source::Serial, NodeKind::Tty);
    let mut decoder = Decoder::new(decode, Source::Serial);
    supervise(
        &mut out,
        Backoff::new(cfg.reconnect_min.0, cfg.reconnect_max.0),
        stop,
        // The USB VID:PID is resolved again on every reconnect: a replugged scanner can come
        // back as another ttyACM.
        |_| resolve(cfg).and_then(|path| open(cfg, &path).map(|p| (path, p))),
        |port, out| {
            let gone = read_until_gone(port, &mut decoder, out, stop);
            decoder.discard_partial();
            gone
        },
    );
}

/// Read until the port is gone (returns why) or the reader must stop (returns None).
fn read_until_gone(
    mut port: Box<dyn SerialPort>,
    decoder: &mut Decoder,
    out: &mut Outbox,
    stop: &StopSignal,
) -> Option<String> {
    let mut buf = [0u8; 512];
    loop {
        if stop.stopped() {
            return None;
        }
        let sent = match port.read(&mut buf) {
            // A real unplug can return Ok(0) forever: treating it as "no data" would spin.
            Ok(0) => return Some("end of file (unplugged?)".into()),
            Ok(n) => out.scans(decoder.push(&buf[..n], Instant::now())),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) =>
            {
                out.scans(decoder.poll(Instant::now()).into_iter().collect())
            }
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                return Some("the device hung up (unplugged?)".into());
            }
            Err(e) => return Some(format!("read error: {e}")),
        };
        if !sent {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::Bilingual;

    #[test]
    fn open_errors_map_to_statuses_with_fixes() {
        let p = "/dev/ttyACM0";
        let cases = [
            (
                serialport::Error::new(
                    serialport::ErrorKind::Io(io::ErrorKind::PermissionDenied),
                    "Permission denied",
                ),
                ScannerStatus::PermissionDenied { path: p.into() },
            ),
            (
                serialport::Error::new(
                    serialport::ErrorKind::Io(io::ErrorKind::NotFound),
                    "No such file",
                ),
                ScannerStatus::NotFound { wanted: p.into() },
            ),
            (
                serialport::Error::new(
                    serialport::ErrorKind::NoDevice,
                    "Unable to acquire exclusive lock on serial port",
                ),
                ScannerStatus::Busy { path: p.into() },
            ),
            (
                serialport::Error::new(serialport::ErrorKind::Unknown, "Settings did not apply"),
                ScannerStatus::Failed {
                    path: p.into(),
                    message: "Settings did not apply".into(),
                },
            ),
        ];
        for (e, want) in cases {
            assert_eq!(open_error_status(&e, p), want, "{e:?}");
        }
        let ev = super::super::StatusEvent {
            source: Source::Serial,
            node: NodeKind::Tty,
            status: ScannerStatus::PermissionDenied { path: p.into() },
            at: Instant::now(),
        };
        assert!(ev.to_string().contains("dialout"), "{ev}");
        assert!(ev.zh().contains("dialout"));
    }

    #[test]
    fn resolve_by_path_and_missing_usb_id() {
        let cfg = SerialConfig {
            port: Some("/dev/scanner".into()),
            ..SerialConfig::default()
        };
        assert_eq!(resolve(&cfg), Ok("/dev/scanner".into()));
        // No USB on this machine (and none with this id anywhere): not found, naming the id.
        let cfg = SerialConfig {
            usb_id: Some(super::super::config::UsbId {
                vid: 0xfffe,
                pid: 0xfffd,
            }),
            ..SerialConfig::default()
        };
        assert_eq!(
            resolve(&cfg),
            Err(ScannerStatus::NotFound {
                wanted: "USB serial fffe:fffd".into()
            })
        );
    }
}
