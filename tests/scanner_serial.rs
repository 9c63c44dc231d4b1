//! The serial reader thread end to end on pty pairs: terminators, split writes, junk, 1000 scans
//! in a row, unplug and reconnect, and a real permission error (as a non-root user).

use paycode::scanner::config::SerialConfig;
use paycode::scanner::{DecodeSettings, ScanEvent, ScannerMsg, ScannerStatus, serial};
use serialport::{SerialPort, TTYPort};
use std::io::Write;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// Hang guard only: the reader normally answers in milliseconds.
const GUARD: Duration = Duration::from_secs(30);

fn settings() -> DecodeSettings {
    DecodeSettings {
        // No idle completion: split writes must not depend on scheduling luck.
        idle_end: None,
        ..DecodeSettings::default()
    }
}

fn cfg(path: &str) -> SerialConfig {
    SerialConfig {
        port: Some(path.to_string()),
        reconnect_min: paycode::duration::HumanDuration::from_millis(20),
        reconnect_max: paycode::duration::HumanDuration::from_millis(100),
        ..SerialConfig::default()
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

fn next_status(rx: &Receiver<ScannerMsg>) -> ScannerStatus {
    match rx.recv_timeout(GUARD).expect("status within the guard") {
        ScannerMsg::Status(s) => s.status,
        ScannerMsg::Scan(ev) => panic!("unexpected scan {ev:?}"),
    }
}

fn next_scan(rx: &Receiver<ScannerMsg>) -> ScanEvent {
    match rx.recv_timeout(GUARD).expect("scan within the guard") {
        ScannerMsg::Scan(ev) => ev,
        ScannerMsg::Status(s) => panic!("unexpected status {s:?}"),
    }
}

fn code(i: u32) -> String {
    format!("13{i:016}")
}

fn revealed(ev: &ScanEvent) -> String {
    // Tests compare the masked form plus the length: the full code never leaves AuthCode.
    match &ev.result {
        Ok(c) => c.masked(),
        Err(e) => format!("error: {}", e.reason),
    }
}

fn masked(s: &str) -> String {
    paycode::authcode::AuthCode::parse(s)
        .expect("test code is valid")
        .masked()
}

#[test]
fn every_terminator_split_writes_and_junk() {
    let (mut master, name) = pty();
    let (tx, rx) = channel();
    let reader = serial::spawn(&cfg(&name), settings(), tx).unwrap();
    assert_eq!(
        next_status(&rx),
        ScannerStatus::Connected { path: name.clone() }
    );

    let terms = ["\r", "\n", "\r\n", "\t"];
    for (i, t) in terms.iter().enumerate() {
        let c = code(1000 + i as u32);
        master.write_all(format!("{c}{t}").as_bytes()).unwrap();
        let ev = next_scan(&rx);
        assert_eq!(revealed(&ev), masked(&c), "terminator {t:?}");
    }
    // CRLF must not produce an empty second scan: the next event is the next code.
    // Split writes, including between CR and LF.
    let c = code(2000);
    for piece in [&c[..3], &c[3..11], &c[11..], "\r", "\n"] {
        master.write_all(piece.as_bytes()).unwrap();
        master.flush().unwrap();
        std::thread::sleep(Duration::from_millis(15));
    }
    let c2 = code(2001);
    master.write_all(format!("{c2}\r").as_bytes()).unwrap();
    assert_eq!(revealed(&next_scan(&rx)), masked(&c));
    assert_eq!(revealed(&next_scan(&rx)), masked(&c2));
    // Junk between frames: noise bytes dropped, a printable junk line is an invalid scan.
    let c3 = code(2002);
    master
        .write_all(format!("\x00\x7f\u{1b}\x02{c3}\r\n").as_bytes())
        .unwrap();
    master.write_all(b"\xff\xfe281234567890123456\r").unwrap();
    assert_eq!(revealed(&next_scan(&rx)), masked(&c3));
    let ev = next_scan(&rx);
    assert!(revealed(&ev).contains("Alipay"), "{ev:?}");
    reader.stop();
}

#[test]
fn a_thousand_scans_in_a_row() {
    let (mut master, name) = pty();
    let (tx, rx) = channel();
    let reader = serial::spawn(&cfg(&name), settings(), tx).unwrap();
    assert_eq!(next_status(&rx), ScannerStatus::Connected { path: name });
    let writer = std::thread::spawn(move || {
        let mut all = Vec::new();
        for i in 0..1000u32 {
            all.extend_from_slice(format!("{}\r\n", code(i)).as_bytes());
        }
        // One big write: the reader sees arbitrary chunk boundaries.
        master.write_all(&all).unwrap();
        master
    });
    for i in 0..1000u32 {
        let ev = next_scan(&rx);
        assert_eq!(revealed(&ev), masked(&code(i)), "scan {i}");
    }
    let _master = writer.join().unwrap();
    assert!(rx.try_recv().is_err(), "no extra events");
    reader.stop();
}

#[test]
fn unplug_and_reconnect_through_a_symlink() {
    // The config names a stable link (like /dev/serial/by-id/... or /dev/scanner); a replugged
    // scanner comes back as a different node.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let link_s = link.display().to_string();
    let (mut master, name) = pty();
    std::os::unix::fs::symlink(&name, &link).unwrap();
    let (tx, rx) = channel();
    let reader = serial::spawn(&cfg(&link_s), settings(), tx).unwrap();
    assert_eq!(
        next_status(&rx),
        ScannerStatus::Connected {
            path: link_s.clone()
        }
    );
    master
        .write_all(format!("{}\r", code(1)).as_bytes())
        .unwrap();
    assert_eq!(revealed(&next_scan(&rx)), masked(&code(1)));

    // Unplug, with half a code in flight: it must not be glued to the next scan.
    master.write_all(&code(2).as_bytes()[..9]).unwrap();
    master.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    // As on a real unplug, udev removes the link and the node goes away. (Removing the link
    // first also keeps the reader away from a reused /dev/pts number of a concurrent test.)
    std::fs::remove_file(&link).unwrap();
    drop(master);
    assert!(matches!(
        next_status(&rx),
        ScannerStatus::Disconnected { .. }
    ));
    // The old node is gone: not found (retrying with backoff, reported once).
    assert_eq!(
        next_status(&rx),
        ScannerStatus::NotFound {
            wanted: link_s.clone()
        }
    );

    // Replug as a new pty (possibly another number); udev recreates the link.
    let (mut master2, name2) = pty();
    std::os::unix::fs::symlink(&name2, &link).unwrap();
    assert_eq!(next_status(&rx), ScannerStatus::Connected { path: link_s });
    master2
        .write_all(format!("{}\r", code(3)).as_bytes())
        .unwrap();
    assert_eq!(revealed(&next_scan(&rx)), masked(&code(3)));
    reader.stop();
}

#[test]
fn missing_port_is_not_found_and_reader_stops_promptly() {
    let (tx, rx) = channel();
    let mut c = cfg("/dev/paycode-no-such-scanner");
    c.reconnect_min = paycode::duration::HumanDuration::from_secs(3600);
    c.reconnect_max = c.reconnect_min;
    let reader = serial::spawn(&c, settings(), tx).unwrap();
    assert_eq!(
        next_status(&rx),
        ScannerStatus::NotFound {
            wanted: "/dev/paycode-no-such-scanner".into()
        }
    );
    // Stop wakes the hour-long backoff sleep (this would hang otherwise; GUARD-free by design).
    reader.stop();
    assert!(rx.recv().is_err(), "reader exited and dropped its sender");
}

/// Env var naming the node the unprivileged child must fail to open.
const CHILD_ENV: &str = "PAYCODE_TEST_DENIED_PATH";

/// Runs inside the child process (as uid nobody when the suite runs as root).
#[test]
#[ignore = "helper: run by permission_denied_is_reported_with_the_fix in a child process"]
fn permission_child() {
    let path = std::env::var(CHILD_ENV).expect("run by the parent test");
    let (tx, rx) = channel();
    let reader = serial::spawn(&cfg(&path), settings(), tx).unwrap();
    let status = next_status(&rx);
    reader.stop();
    assert_eq!(
        status,
        ScannerStatus::PermissionDenied { path: path.clone() }
    );
    assert_eq!(
        paycode::scanner::list::check_access(&path),
        Err(ScannerStatus::PermissionDenied { path })
    );
}

#[test]
fn permission_denied_is_reported_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let (_master, name) = pty();
    // Root bypasses file modes, so as root the check runs in a child process as `nobody`;
    // otherwise the node is made unreadable for its owner (us) and the child runs as we are.
    let root = std::fs::metadata("/proc/self").unwrap().uid_is_root();
    std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)).unwrap();
    if !root {
        std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "permission_child",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, &name);
    if root {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().expect("spawn the child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

trait UidIsRoot {
    fn uid_is_root(&self) -> bool;
}

impl UidIsRoot for std::fs::Metadata {
    fn uid_is_root(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.uid() == 0
    }
}

#[test]
fn shipped_sample_config_section_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/config.scanner.example.toml"
    ))
    .expect("sample config");
    let table: toml::Table = toml::from_str(&text).expect("toml");
    let cfg: paycode::scanner::ScannerConfig = table["scanner"]
        .clone()
        .try_into()
        .expect("[scanner] section");
    cfg.validate().expect("valid");
    assert!(cfg.serial.is_some());
}
