//! A virtual ESC/POS printer for the tests — a raw TCP 9100 server on 127.0.0.1:0, or the
//! master side of a pty pair for a serial printer — that keeps every byte it is sent and
//! answers DLE EOT with staged status bytes; and a small ESC/POS reader that turns the bytes
//! back into lines (GB18030 text with its alignment, bold and size, the CODE128 and QR data,
//! cuts and drawer kicks), so slips can be compared as text.
#![allow(clippy::disallowed_methods)] // tests drive real time
#![allow(clippy::unwrap_used, dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the virtual printer answers to DLE EOT n.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staged {
    Online,
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Offline for an error.
    Offline,
    /// Never answers (a USB lp device).
    Silent,
}

impl Staged {
    /// The reply byte to DLE EOT `n`, `None` for silence.
    fn reply(self, n: u8) -> Option<u8> {
        let fixed = 0x12;
        Some(match (self, n) {
            (Staged::Silent, _) => return None,
            (Staged::Offline | Staged::CoverOpen | Staged::PaperOut, 1) => fixed | 0x08,
            (Staged::CoverOpen, 2) => fixed | 0x04,
            (Staged::Offline, 2) => fixed | 0x40,
            (Staged::PaperOut, 2) => fixed | 0x20,
            (Staged::PaperOut, 4) => fixed | 0x60,
            (Staged::PaperNearEnd, 4) => fixed | 0x0C,
            _ => fixed,
        })
    }
}

/// Shared between the test and the printer's thread.
#[derive(Default)]
struct State {
    staged: Option<Staged>,
    /// The bytes of each connection after its status requests (the print jobs).
    jobs: Vec<Vec<u8>>,
    /// Status requests seen (n of each DLE EOT n).
    asked: Vec<u8>,
}

/// A printer the code under test can reach.
pub struct VirtualPrinter {
    state: Arc<Mutex<State>>,
    /// `host:port` for `[printer] tcp`, or the pty slave's path for `[printer] serial`.
    pub address: String,
    _keep: Option<serialport::TTYPort>,
}

impl VirtualPrinter {
    /// A raw TCP printer on a free loopback port.
    pub fn tcp(staged: Staged) -> VirtualPrinter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            staged: Some(staged),
            ..State::default()
        }));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                conn.set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                let s = s.clone();
                std::thread::spawn(move || {
                    let mut w = conn.try_clone().unwrap();
                    serve(&s, &mut conn, &mut w, Duration::from_secs(2));
                });
            }
        });
        VirtualPrinter {
            state,
            address: addr.to_string(),
            _keep: None,
        }
    }

    /// A serial printer on the master side of a pty pair; `address` is the slave's path.
    pub fn serial(staged: Staged) -> VirtualPrinter {
        let (master, slave) = serialport::TTYPort::pair().unwrap();
        let name = slave.name().unwrap();
        let state = Arc::new(Mutex::new(State {
            staged: Some(staged),
            ..State::default()
        }));
        let s = state.clone();
        let mut reader = master.try_clone_native().unwrap();
        let mut writer = master.try_clone_native().unwrap();
        use serialport::SerialPort;
        reader.set_timeout(Duration::from_millis(50)).unwrap();
        std::thread::spawn(move || {
            loop {
                // One serial line carries every job; a pause of 300 ms ends one.
                serve(&s, &mut reader, &mut writer, Duration::from_millis(300));
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        VirtualPrinter {
            state,
            address: name,
            // The slave stays open so the pty does not hang up between jobs.
            _keep: Some(slave),
        }
    }

    /// Answer the next status requests with `staged`.
    pub fn stage(&self, staged: Staged) {
        self.state.lock().unwrap().staged = Some(staged);
    }

    /// The print jobs received so far (connections that sent more than status requests).
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.state
            .lock()
            .unwrap()
            .jobs
            .iter()
            .filter(|j| !j.is_empty())
            .cloned()
            .collect()
    }

    /// The status requests seen.
    pub fn asked(&self) -> Vec<u8> {
        self.state.lock().unwrap().asked.clone()
    }

    /// Wait (bounded) until `n` jobs arrived; the jobs.
    pub fn wait_jobs(&self, n: usize) -> Vec<Vec<u8>> {
        for _ in 0..200 {
            let j = self.jobs();
            if j.len() >= n {
                // Let the last job's bytes finish arriving.
                std::thread::sleep(Duration::from_millis(100));
                return self.jobs();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.jobs()
    }
}

/// Read one job: status requests at the start are answered; everything after is the slip.
/// Ends after `idle` without bytes, or when the peer closes.
fn serve(state: &Arc<Mutex<State>>, r: &mut dyn Read, w: &mut dyn Write, idle: Duration) {
    let mut all: Vec<u8> = Vec::new();
    let mut in_job = false;
    let mut quiet = Duration::ZERO;
    let mut buf = [0u8; 4096];
    let mut slot: Option<usize> = None;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                quiet = Duration::ZERO;
                all.extend_from_slice(&buf[..n]);
                // Status requests are answered only before the job's first command.
                while !in_job && all.len() >= 3 && all[0] == 0x10 && all[1] == 0x04 {
                    let n = all[2];
                    all.drain(..3);
                    let staged = {
                        let mut s = state.lock().unwrap();
                        s.asked.push(n);
                        s.staged.unwrap_or(Staged::Online)
                    };
                    if let Some(b) = staged.reply(n) {
                        let _ = w.write_all(&[b]);
                        let _ = w.flush();
                    }
                }
                // A DLE EOT still arriving in pieces is not the job's start yet.
                let partial_status = all.first() == Some(&0x10) && all.len() < 3;
                if !all.is_empty() && !partial_status {
                    in_job = true;
                }
                if in_job {
                    let mut s = state.lock().unwrap();
                    let i = *slot.get_or_insert_with(|| {
                        s.jobs.push(Vec::new());
                        s.jobs.len() - 1
                    });
                    s.jobs[i].append(&mut all);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                quiet += Duration::from_millis(50);
                if quiet >= idle && (in_job || !all.is_empty() || slot.is_some()) {
                    break;
                }
                if quiet >= idle * 10 {
                    quiet = Duration::ZERO;
                }
            }
            Err(_) => break,
        }
    }
}

/// One line the printer would put on paper (or a command that does something).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    Text {
        text: String,
        align: u8,
        bold: bool,
        big: bool,
    },
    Barcode(String),
    Qr(String),
    Feed(u8),
    Cut,
    DrawerKick,
}

/// Read ESC/POS bytes back into lines. Panics on a command it does not know: the encoder must
/// send nothing else.
pub fn read(bytes: &[u8]) -> Vec<Printed> {
    let mut out = Vec::new();
    let (mut align, mut bold, mut big) = (0u8, false, false);
    let mut text: Vec<u8> = Vec::new();
    let mut qr_data = String::new();
    let mut i = 0;
    let at = |i: usize| {
        bytes
            .get(i)
            .copied()
            .unwrap_or_else(|| panic!("truncated at {i}"))
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0x0A => {
                let (s, _, errors) = encoding_rs::GB18030.decode(&text);
                assert!(!errors, "text not GB18030: {text:02x?}");
                out.push(Printed::Text {
                    text: s.into_owned(),
                    align,
                    bold,
                    big,
                });
                text.clear();
                i += 1;
            }
            0x10 if at(i + 1) == 0x04 => i += 3,
            0x1B => match at(i + 1) {
                b'@' => i += 2,
                b'a' => {
                    align = at(i + 2);
                    i += 3;
                }
                b'E' => {
                    bold = at(i + 2) != 0;
                    i += 3;
                }
                b'd' => {
                    out.push(Printed::Feed(at(i + 2)));
                    i += 3;
                }
                b'p' => {
                    out.push(Printed::DrawerKick);
                    i += 5;
                }
                c => panic!("unknown ESC {c:#x} at {i}"),
            },
            0x1C => match at(i + 1) {
                b'&' | b'.' => i += 2,
                c => panic!("unknown FS {c:#x}"),
            },
            0x1D => match at(i + 1) {
                b'!' => {
                    big = at(i + 2) == 0x11;
                    i += 3;
                }
                b'H' | b'h' | b'w' => i += 3,
                b'V' => {
                    out.push(Printed::Cut);
                    i += if at(i + 2) >= 65 { 4 } else { 3 };
                }
                b'k' => {
                    assert_eq!(at(i + 2), 73, "CODE128 only");
                    let n = usize::from(at(i + 3));
                    out.push(Printed::Barcode(code128_text(&bytes[i + 4..i + 4 + n])));
                    i += 4 + n;
                }
                b'(' => {
                    assert_eq!(at(i + 2), b'k');
                    let len = usize::from(at(i + 3)) + 256 * usize::from(at(i + 4));
                    let body = &bytes[i + 5..i + 5 + len];
                    match (body[0], body[1]) {
                        (49, 80) => {
                            qr_data = String::from_utf8(body[3..].to_vec()).unwrap();
                        }
                        (49, 81) => out.push(Printed::Qr(std::mem::take(&mut qr_data))),
                        (49, 65 | 67 | 69) => {}
                        other => panic!("unknown GS ( k {other:?}"),
                    }
                    i += 5 + len;
                }
                c => panic!("unknown GS {c:#x} at {i}"),
            },
            _ => {
                assert!(b >= 0x20, "control byte {b:#x} in text at {i}");
                text.push(b);
                i += 1;
            }
        }
    }
    assert!(text.is_empty(), "text without a line feed at the end");
    out
}

/// The characters a CODE128 `{B…{C…` symbol encodes.
fn code128_text(d: &[u8]) -> String {
    let mut s = String::new();
    let mut set = b'B';
    let mut i = 0;
    while i < d.len() {
        if d[i] == b'{' {
            match d[i + 1] {
                b'{' => s.push('{'),
                c => set = c,
            }
            i += 2;
            continue;
        }
        if set == b'C' {
            s.push_str(&format!("{:02}", d[i]));
        } else {
            s.push(d[i] as char);
        }
        i += 1;
    }
    s
}

/// The lines as text for snapshots: alignment marks, `**bold**`, `##big##`, codes labelled.
pub fn render(lines: &[Printed]) -> String {
    let mut o = String::new();
    for l in lines {
        let line = match l {
            Printed::Text {
                text,
                align,
                bold,
                big,
            } => {
                let a = ["<", "|", ">"][usize::from(*align).min(2)];
                let t = match (bold, big) {
                    (_, true) => format!("##{text}##"),
                    (true, false) => format!("**{text}**"),
                    _ => text.clone(),
                };
                format!("{a} {t}")
            }
            Printed::Barcode(d) => format!("[CODE128 {d}]"),
            Printed::Qr(d) => format!("[QR {d}]"),
            Printed::Feed(n) => format!("[feed {n}]"),
            Printed::Cut => "[cut]".into(),
            Printed::DrawerKick => "[drawer]".into(),
        };
        o.push_str(line.trim_end());
        o.push('\n');
    }
    o
}

/// The barcodes in a job.
pub fn barcodes(lines: &[Printed]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| match l {
            Printed::Barcode(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

/// All text of a job, one line each.
pub fn text_of(lines: &[Printed]) -> String {
    lines
        .iter()
        .filter_map(|l| match l {
            Printed::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
