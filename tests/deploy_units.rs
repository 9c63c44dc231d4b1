//! The systemd units in deploy/: `systemd-analyze verify` accepts them (when it is installed),
//! and the command each one runs is a paycode command line that works.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use checkout_support::Harness;
use std::path::Path;
use std::process::Command;

const UNITS: [&str; 3] = [
    "paycode-kiosk.service",
    "paycode-recover.service",
    "paycode-recover.timer",
];

fn unit(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy")
            .join(name),
    )
    .unwrap()
}

#[test]
fn systemd_accepts_the_units() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let Ok(out) = Command::new("systemd-analyze")
        .arg("verify")
        .args(UNITS.iter().map(|u| dir.join(u)))
        .output()
    else {
        eprintln!("systemd-analyze is not installed: unit syntax not checked here");
        return;
    };
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    // The binary is installed later, by the operator; anything else is a real complaint.
    let complaints: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("is not executable"))
        .collect();
    assert!(complaints.is_empty(), "{text}");
}

#[test]
fn the_recover_unit_runs_a_working_command_and_accepts_its_exit_codes() {
    let text = unit("paycode-recover.service");
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let args: Vec<&str> = exec.split_whitespace().skip(1).collect();
    assert_eq!(args[0], "--config", "{exec}");
    assert_eq!(args[2..], ["recover"], "{exec}");
    // The same command against a till: it runs (exit 0 with nothing to do).
    let h = Harness::new();
    let out = h.run(&["recover"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // 2 (still unresolved) and 3 (the journal is held by the cashier screen) are not failures.
    assert!(text.contains("SuccessExitStatus=2 3"), "{text}");
    assert!(unit("paycode-recover.timer").contains("OnUnitActiveSec="));
}

/// Issue 15: the kiosk ran on the bare Linux console, which cannot draw the default Chinese
/// screen. It runs inside fbterm with a CJK font, the command inside is a paycode that starts,
/// the framebuffer is allowed, and the unit says how to run without one.
#[test]
fn the_kiosk_draws_chinese_through_a_framebuffer_terminal() {
    let text = unit("paycode-kiosk.service");
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    assert!(exec.starts_with("/usr/bin/fbterm "), "{exec}");
    assert!(exec.contains("WenQuanYi"), "a CJK font: {exec}");
    let (_, inner) = exec.split_once(" -- ").unwrap();
    let args: Vec<&str> = inner.split_whitespace().collect();
    assert_eq!(args[0], "/usr/local/bin/paycode", "{exec}");
    assert_eq!(
        args[1..],
        ["--config", "/etc/paycode/config.toml"],
        "{exec}"
    );
    assert!(text.contains("DeviceAllow=/dev/fb0 rw"), "{text}");
    assert!(text.contains("video"), "the account reads /dev/fb0: {text}");
    assert!(
        text.contains("apt-get install fbterm fonts-wqy-microhei"),
        "{text}"
    );
    assert!(
        text.contains("language = \"en\""),
        "the fallback is named: {text}"
    );
    // The command inside runs the cashier: without a terminal it names the headless commands.
    let h = Harness::new();
    let out = h.run(&[]);
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("needs a terminal"), "{}", out.stderr);
}

/// Issue 16: the units keep what paycode writes private and switch core dumps off, as the
/// binary itself does.
#[test]
fn the_units_set_a_private_umask_and_no_core_dumps() {
    for name in ["paycode-kiosk.service", "paycode-recover.service"] {
        let text = unit(name);
        assert!(text.lines().any(|l| l == "UMask=0077"), "{name}");
        assert!(text.lines().any(|l| l == "LimitCORE=0"), "{name}");
    }
}
