//! One open connection to the printer. Every wait is bounded: connecting and writing by the
//! `[printer] timeout`, a status reply by at most a second (a printer answers DLE EOT at once;
//! a USB lp device often never does).

use super::PrintError;
use crate::config::Transport;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Longest wait for one status byte.
const STATUS_WAIT: Duration = Duration::from_secs(1);

pub(super) enum Port {
    Tcp(TcpStream),
    Serial(Box<dyn serialport::SerialPort>),
    Device(std::fs::File),
}

fn unreachable(t: &Transport, why: impl std::fmt::Display) -> PrintError {
    PrintError::Unreachable {
        printer: t.to_string(),
        why: why.to_string(),
    }
}

impl Port {
    /// Open the configured connection within `timeout`.
    pub(super) fn open(t: &Transport, timeout: Duration) -> Result<Port, PrintError> {
        match t {
            Transport::Tcp(addr) => {
                let addrs: Vec<_> = addr
                    .to_socket_addrs()
                    .map_err(|e| unreachable(t, e))?
                    .collect();
                let mut last = None;
                for a in addrs {
                    match TcpStream::connect_timeout(&a, timeout) {
                        Ok(s) => {
                            s.set_write_timeout(Some(timeout))
                                .map_err(|e| unreachable(t, e))?;
                            let _ = s.set_nodelay(true);
                            return Ok(Port::Tcp(s));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(unreachable(
                    t,
                    last.map_or_else(|| "no address".to_string(), |e| e.to_string()),
                ))
            }
            Transport::Serial { path, baud } => serialport::new(path.to_string_lossy(), *baud)
                .timeout(timeout)
                .open()
                .map(Port::Serial)
                .map_err(|e| unreachable(t, e)),
            Transport::Device(path) => {
                use std::os::unix::fs::OpenOptionsExt;
                // Non-blocking, so a printer that stops taking bytes cannot hang the till.
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(path)
                    .map(Port::Device)
                    .map_err(|e| unreachable(t, e))
            }
        }
    }

    /// Write all of `bytes` within `timeout`.
    #[allow(clippy::disallowed_methods)] // IO edge: the write deadline of a non-blocking device
    pub(super) fn send(&mut self, bytes: &[u8], timeout: Duration) -> std::io::Result<()> {
        match self {
            Port::Tcp(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Port::Serial(s) => s.write_all(bytes).and_then(|()| s.flush()),
            Port::Device(f) => {
                let deadline = Instant::now() + timeout;
                let mut rest = bytes;
                while !rest.is_empty() {
                    match f.write(rest) {
                        Ok(0) => return Err(ErrorKind::WriteZero.into()),
                        Ok(n) => rest = &rest[n..],
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            if Instant::now() >= deadline {
                                return Err(ErrorKind::TimedOut.into());
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
        }
    }

    /// One reply byte, or `None` within the status wait.
    #[allow(clippy::disallowed_methods)] // IO edge: the status wait of a non-blocking device
    pub(super) fn reply_byte(&mut self, timeout: Duration) -> Option<u8> {
        let wait = timeout.min(STATUS_WAIT);
        let mut b = [0u8; 1];
        match self {
            Port::Tcp(s) => {
                s.set_read_timeout(Some(wait)).ok()?;
                matches!(s.read(&mut b), Ok(1)).then_some(b[0])
            }
            Port::Serial(s) => {
                s.set_timeout(wait).ok()?;
                matches!(s.read(&mut b), Ok(1)).then_some(b[0])
            }
            Port::Device(f) => {
                let deadline = Instant::now() + wait;
                loop {
                    match f.read(&mut b) {
                        Ok(1) => return Some(b[0]),
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(_) => return None,
                    }
                    if Instant::now() >= deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
}
