//! Fault matrix, bad setup and bad input (FAULTS.md): a world-readable key file, and codes and
//! amounts that must be refused before anything is journaled or sent (exit 3), with a message
//! that names the problem in English and Chinese and never echoes a full code.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use std::os::unix::fs::PermissionsExt;

use checkout_support::{Harness, Opts, Run};

/// Nothing journaled, nothing sent.
fn untouched(h: &Harness) {
    assert!(h.journal().sales_between(0, i64::MAX).unwrap().is_empty());
    let ledger = h.ledger();
    assert!(
        ledger.totals.requests.values().all(|n| *n == 0),
        "{ledger:?}"
    );
}

/// A refusal: exit 3, JSON `rejected`, the message contains `en` and `zh`.
fn refused(r: &Run, v: &serde_json::Value, en: &str, zh: &str) {
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(v["status"], "rejected", "{v}");
    let (m, mz) = (
        v["message"].as_str().unwrap(),
        v["message_zh"].as_str().unwrap(),
    );
    assert!(m.contains(en), "{m}");
    assert!(mz.contains(zh), "{mz}");
}

#[test]
fn key_file_readable_by_others_is_refused_at_start() {
    let h = Harness::new();
    let key = h.dir.path().join("apikey");
    std::fs::write(&key, paycode::config::SIMULATOR_DEMO_KEY).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    h.write_config_with(&Opts {
        api_key_file: Some(key.clone()),
        ..Opts::default()
    });
    let run = |args: &[&str]| {
        let out = h
            .command(args)
            .env_remove("PAYCODE_API_KEY")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let code = h.code("normal");
    let (status, stdout, stderr) = run(&["pay", "--amount", "1.00", "--code", &code, "--json"]);
    assert_eq!(status, Some(3), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["status"], "rejected");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("readable by other users (mode 0644)"), "{msg}");
    assert!(
        msg.contains(&format!("chmod 600 {}", key.display())),
        "{msg}"
    );
    assert!(!stdout.contains(paycode::config::SIMULATOR_DEMO_KEY));
    assert!(!stderr.contains(paycode::config::SIMULATOR_DEMO_KEY));
    untouched(&h);

    // Fixed as the message says: the same command goes through.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (status, stdout, stderr) = run(&["pay", "--amount", "1.00", "--code", &code, "--json"]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    h.assert_invariants(&[&v]);
}

#[test]
fn junk_short_long_and_other_wallet_codes_are_refused_before_anything() {
    let h = Harness::new();
    let cases: [(&str, &str, &str); 9] = [
        ("", "no payment code", "未输入付款码"),
        (
            "13\u{7}345678901234567",
            "character 3 is not a digit",
            "第 3 个字符不是数字",
        ),
        ("1334567890123456\r\n", "is not a digit", "不是数字"),
        ("13345678901234567", "too short: 17 digits", "太短"),
        ("1334567890123456789", "too long: 19 digits", "太长"),
        ("193456789012345678", "it starts 19", "19"),
        (
            "283456789012345678",
            "Alipay code (18 digits starting 28)",
            "支付宝",
        ),
        ("6234567890123456789", "UnionPay", "银联"),
        ("00000000000000000000", "too long: 20 digits", "太长"),
    ];
    for (code, en, zh) in cases {
        let (r, v) = h.pay("1.00", code);
        refused(&r, &v, en, zh);
        assert_eq!(v["total_fee"], 100, "{code:?}: the amount was fine");
        if code.len() >= 16 {
            let digits: String = code.chars().filter(char::is_ascii_digit).collect();
            assert!(
                !r.stdout.contains(&digits) && !r.stderr.contains(&digits),
                "{code:?} echoed in full"
            );
        }
    }
    untouched(&h);
    h.assert_invariants(&[]);
}

#[test]
fn zero_negative_and_over_ceiling_amounts_are_refused_before_anything() {
    let h = Harness::new();
    h.write_config_with(&Opts {
        max_amount: "500.00",
        ..Opts::default()
    });
    let code = h.code("normal");
    let cases: [(&str, &str, &str); 7] = [
        ("0", "must be above zero", "0"),
        ("0.00", "must be above zero", "0"),
        ("-1", "negative amounts are not accepted", "负"),
        ("-0.01", "negative amounts are not accepted", "负"),
        ("500.01", "above this till's ceiling of 500.00", "500.00"),
        ("1000000000000000000000", "ceiling", "500.00"),
        ("1e3", "not an amount", "1e3"),
    ];
    for (amount, en, zh) in cases {
        let (r, v) = h.pay(amount, &code);
        refused(&r, &v, en, zh);
        // Echoed as typed, except a run of 16+ digits, masked like a code (issue 16).
        let echoed = paycode::authcode::mask_digit_runs(amount);
        assert!(v["message"].as_str().unwrap().contains(&echoed), "{v}");
        assert!(!r.stderr.contains(&code), "full code echoed");
    }
    untouched(&h);
    // The ceiling itself is allowed.
    let (r, v) = h.pay("500.00", &code);
    assert_eq!(
        (r.code, v["status"].as_str()),
        (0, Some("paid")),
        "{}",
        r.stderr
    );
    h.assert_invariants(&[&v]);
}
