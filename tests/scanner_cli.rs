//! `paycode scanners` and `paycode scan-test` as the installer runs them (the real binary).

use serialport::{SerialPort, TTYPort};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(30);
const BIN: &str = env!("CARGO_BIN_EXE_paycode");

#[test]
fn scanners_lists_and_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[scanner.serial]\nusb_id = \"fffe:fffd\"\n[scanner.hid]\nusb_id = \"fffe:fffc\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "scanners"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // No USB and no hidraw on the test machines.
    assert!(
        text.contains("none found (no /dev/hidraw* devices)"),
        "{text}"
    );
    assert!(
        text.contains("serial: USB serial fffe:fffd at 9600 baud — NOT PRESENT"),
        "{text}"
    );
    assert!(
        text.contains("hid: USB HID fffe:fffc — NOT PRESENT"),
        "{text}"
    );
}

#[test]
fn scanners_refuses_a_bad_scanner_section_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[scanner]\nbaudrate = 9600\n").unwrap();
    let out = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "scanners"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[scanner]") && err.contains("baudrate"),
        "{err}"
    );
}

/// Kills the child if the test fails, so an orphan never holds the test's output pipes open.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn scan_test_prints_scans_masked_and_ends_on_ctrl_c() {
    // The config names a link that appears only after the child started: a pty master opened
    // before the spawn would be inherited (serialport does not set CLOEXEC on it) and the
    // child itself would keep the "scanner" from ever hanging up.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[scanner]\nidle_end = \"0ms\"\n[scanner.serial]\nport = \"{}\"\n\
             reconnect_min = \"20ms\"\nreconnect_max = \"100ms\"\n",
            link.display()
        ),
    )
    .unwrap();
    let mut child = KillOnDrop(
        Command::new(BIN)
            .args(["--config", cfg.to_str().unwrap(), "scan-test"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (tx, rx) = channel();
    let stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| loop {
        let line = rx
            .recv_timeout(GUARD)
            .unwrap_or_else(|_| panic!("no {needle:?} in {seen:#?}"));
        seen.push(line.clone());
        if line.contains(needle) {
            return line;
        }
    };
    wait_for("status: scanner not found");
    let (mut master, slave) = TTYPort::pair().unwrap();
    std::os::unix::fs::symlink(slave.name().unwrap(), &link).unwrap();
    drop(slave);
    master.set_timeout(GUARD).unwrap();
    wait_for("status: scanner connected (serial");
    master.write_all(b"134567890123454321\r").unwrap();
    let line = wait_for("scan via serial");
    assert!(
        line.contains("13************4321  VALID  wallet: WeChat Pay"),
        "{line}"
    );
    assert!(line.contains("delivered after"), "{line}");
    master.write_all(b"\x00281234567890123456\r\n").unwrap();
    let line = wait_for("scan via serial");
    assert!(line.contains("NOT VALID  wallet: Alipay"), "{line}");
    assert!(line.contains("支付宝"), "{line}");
    // Unplug: the status change is printed.
    drop(master);
    wait_for("scanner disconnected");
    let kill = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let summary = wait_for("scans:");
    assert_eq!(summary, "2 scans: 1 valid, 1 not valid");
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        !seen.iter().any(|l| l.contains("3456789012345")),
        "a full code was printed: {seen:#?}"
    );
}

/// No serial or HID scanner and no terminal: nothing could be read, so it says so and exits
/// instead of waiting for a Ctrl-C that a script never sends.
#[test]
fn scan_test_with_no_scanner_and_no_terminal_says_so_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "").unwrap();
    let out = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "scan-test"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no scanner to test") && err.contains("[scanner.serial]"),
        "{err}"
    );
    assert!(err.contains("没有可测试的扫码枪"), "{err}");
    assert!(out.stdout.is_empty(), "nothing started");
}
