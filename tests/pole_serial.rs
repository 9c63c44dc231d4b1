//! The pole-display reader end to end on pty pairs: a POS writing CD5220, ESC/POS display and
//! plain-line byte streams, garbage, split writes; the port unplugged and back; a port that
//! is not there. Each total shown arrives as `PoleMsg::Total` in fen.

use paycode::config::PoleConfig;
use paycode::money::Fen;
use paycode::pole::{CommandSet, PoleMsg, PortEvent, port};
use paycode::scanner::ScannerStatus;
use serialport::{SerialPort, TTYPort};
use std::io::Write;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// Hang guard only: the reader normally answers in milliseconds.
const GUARD: Duration = Duration::from_secs(30);
const MAX: Fen = Fen(1_000_000);

fn cfg(path: &str, set: CommandSet) -> PoleConfig {
    PoleConfig {
        port: path.into(),
        baud: 9600,
        command_set: set,
    }
}

/// A pty whose slave end is free for the reader to open by path.
fn pty() -> (TTYPort, String) {
    let (mut master, slave) = TTYPort::pair().expect("pty pair");
    let name = slave.name().expect("slave name");
    drop(slave);
    master.set_timeout(GUARD).expect("set master timeout");
    (master, name)
}

fn next(rx: &Receiver<PoleMsg>) -> PoleMsg {
    rx.recv_timeout(GUARD).expect("a message within the guard")
}

fn next_status(rx: &Receiver<PoleMsg>) -> ScannerStatus {
    match next(rx) {
        PoleMsg::Status(PortEvent(s)) => s,
        other => panic!("expected a status, got {other:?}"),
    }
}

fn next_total(rx: &Receiver<PoleMsg>) -> Fen {
    match next(rx) {
        PoleMsg::Total(f) => f,
        other => panic!("expected a total, got {other:?}"),
    }
}

fn gb(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

#[test]
fn cd5220_escpos_and_plain_lines_through_a_pty() {
    let (mut master, name) = pty();
    let (tx, rx) = channel();
    let reader = port::spawn(&cfg(&name, CommandSet::Auto), MAX, tx).unwrap();
    assert_eq!(
        next_status(&rx),
        ScannerStatus::Connected { path: name.clone() }
    );

    // CD5220: init, clear, item on the upper line, total on the lower.
    master
        .write_all(b"\x1b@\x0c\x1bQACola 3.50\r\x1bQBTOTAL 12.50\r")
        .unwrap();
    assert_eq!(next_total(&rx), Fen(1250));

    // ESC/POS display: cursor placed, no line end — read once the line goes quiet.
    master
        .write_all(b"\x1b@\x0c\x1f$\x01\x01Milk 2.00\x1f$\x01\x02\x18TOTAL 8.80")
        .unwrap();
    assert_eq!(next_total(&rx), Fen(880));

    // Plain lines, ASCII and GB18030, split across writes.
    for piece in [&b"Subtotal 10.00\r\nTo"[..], b"tal: 9", b".90\r\n"] {
        master.write_all(piece).unwrap();
        master.flush().unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(next_total(&rx), Fen(990));
    master.write_all(&gb("合计 ¥66.60\r\n")).unwrap();
    assert_eq!(next_total(&rx), Fen(6660));

    // Garbage and refused totals are no total; the next good one still arrives.
    master
        .write_all(b"\xff\xfe\x1b\x99\x1f\x7a\x00TOTAL -5.00\r\nTOTAL 99999.00\r\nTOTAL x\r\n")
        .unwrap();
    master.write_all(b"\x1b@\x1bQBTOTAL 1.00\r").unwrap();
    assert_eq!(next_total(&rx), Fen(100));
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing else"
    );
    reader.stop();
}

#[test]
fn a_flood_of_garbage_then_a_total() {
    let (mut master, name) = pty();
    let (tx, rx) = channel();
    let reader = port::spawn(&cfg(&name, CommandSet::Cd5220), MAX, tx).unwrap();
    assert!(next_status(&rx).is_connected());
    let writer = std::thread::spawn(move || {
        let mut seed = 1u64;
        let mut junk = Vec::with_capacity(1 << 20);
        while junk.len() < 1 << 20 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // No CR/LF/ESC/US: no line is ever ended, and no sequence starts.
            let b = (seed >> 56) as u8;
            if !matches!(b, b'\r' | b'\n' | 0x1b | 0x1f | 0x0c | 0x18 | 0x0b) {
                junk.push(b);
            }
        }
        master.write_all(&junk).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        master.write_all(b"\x1b@\x1bQBTOTAL 42.00\r").unwrap();
        master
    });
    assert_eq!(next_total(&rx), Fen(4200));
    let _master = writer.join().unwrap();
    reader.stop();
}

#[test]
fn unplug_and_reconnect_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("pole");
    let link_s = link.display().to_string();
    let (mut master, name) = pty();
    std::os::unix::fs::symlink(&name, &link).unwrap();
    let (tx, rx) = channel();
    let reader = port::spawn(&cfg(&link_s, CommandSet::Cd5220), MAX, tx).unwrap();
    assert_eq!(
        next_status(&rx),
        ScannerStatus::Connected {
            path: link_s.clone()
        }
    );
    master.write_all(b"\x1bQBTOTAL 3.00\r").unwrap();
    assert_eq!(next_total(&rx), Fen(300));

    // Unplugged with half a command in flight: it must not be glued to what comes after.
    master.write_all(b"\x1bQBTOTAL 7").unwrap();
    master.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    std::fs::remove_file(&link).unwrap();
    drop(master);
    assert!(matches!(
        next_status(&rx),
        ScannerStatus::Disconnected { .. }
    ));
    assert_eq!(
        next_status(&rx),
        ScannerStatus::NotFound {
            wanted: link_s.clone()
        }
    );

    let (mut master2, name2) = pty();
    std::os::unix::fs::symlink(&name2, &link).unwrap();
    assert_eq!(next_status(&rx), ScannerStatus::Connected { path: link_s });
    master2.write_all(b".00\r\x1bQBTOTAL 4.00\r").unwrap();
    assert_eq!(next_total(&rx), Fen(400));
    reader.stop();
}

#[test]
fn a_missing_port_is_reported_and_probed() {
    let (tx, rx) = channel();
    let c = cfg("/dev/paycode-no-such-pole", CommandSet::Auto);
    let reader = port::spawn(&c, MAX, tx).unwrap();
    assert_eq!(
        next_status(&rx),
        ScannerStatus::NotFound {
            wanted: "/dev/paycode-no-such-pole".into()
        }
    );
    reader.stop();
    let e = port::probe(&c).unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
    let (_master, name) = pty();
    assert_eq!(port::probe(&cfg(&name, CommandSet::Auto)).unwrap(), name);
}
