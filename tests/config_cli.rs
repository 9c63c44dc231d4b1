//! `paycode config` as a subprocess: exit 0 with secrets hidden, exit 3 naming the bad key.
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-unwrap-in-tests.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const KEY: &str = "Zq8xV2mN4pL6rT0yU3wE5sD7fG9hJ1kA";

fn paycode(config: &Path, api_key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycode"));
    cmd.arg("--config").arg(config).arg("config");
    for var in ["PAYCODE_API_KEY", "PAYCODE_P12_PASSWORD", "PAYCODE_CONFIG"] {
        cmd.env_remove(var);
    }
    if let Some(k) = api_key {
        cmd.env("PAYCODE_API_KEY", k);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn valid_config_prints_settings_without_the_key_from_env() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, include_str!("../config.toml")).unwrap();
    // The simulator takes only its demo key (a live one is refused: config_load).
    const KEY: &str = paycode::config::SIMULATOR_DEMO_KEY;
    let out = paycode(&file, Some(KEY));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("api_key = <hidden, from PAYCODE_API_KEY>"),
        "{stdout}"
    );
    assert!(stdout.contains("base_url = \"simulator\""), "{stdout}");
    assert!(
        stdout.contains("[checkout]\nmax_amount = \"10000.00\""),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
}

#[test]
fn valid_config_hides_a_key_read_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("apikey");
    std::fs::write(&key, KEY).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        "[merchant]\nappid = \"wx1\"\nmch_id = \"1230000109\"\ndevice_info = \"till-1\"\n\
         api_key_file = \"apikey\"\n[wechat]\nbase_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let out = paycode(&file, None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want = format!("api_key = <hidden, from {}>", key.display());
    assert!(stdout.contains(&want), "{stdout}");
    assert!(!stdout.contains(KEY));
}

#[test]
fn invalid_config_exits_3_naming_file_and_key() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/unknown_key.toml");
    let out = paycode(&file, None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!("{}:3:1", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("[checkout] query_intervall"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn inline_api_key_exits_3_without_echoing_it() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/api_key_inline.toml");
    let out = paycode(&file, None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("[merchant] api_key"), "{stderr}");
    assert!(!stderr.contains("192006250b4c"), "{stderr}");
}

/// A live-mode config (an https:// WeChat host that does not answer: TEST-NET-1, not loopback,
/// which paycode would take for a local simulator) with the committed
/// legacy `.p12` merchant certificate (password: the mch_id); the config file's path.
fn live_config(dir: &Path) -> std::path::PathBuf {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/p12/apiclient_cert.p12");
    let p12 = dir.join("apiclient_cert.p12");
    std::fs::copy(fixture, &p12).unwrap();
    std::fs::set_permissions(&p12, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[merchant]\nappid = \"wx8888888888888888\"\nmch_id = \"1900000109\"\ndevice_info = \"till-9\"\n\
             [wechat]\nbase_url = \"https://192.0.2.1:9\"\nconnect_timeout = \"200ms\"\n\
             p12_file = \"{}\"\n[journal]\npath = \"{}\"\n",
            p12.display(),
            dir.join("data/paycode.db").display()
        ),
    )
    .unwrap();
    file
}

/// `paycode check` reads the expiry of a `.p12` certificate (WeChat's legacy RC2-40 format) and
/// names a wrong password without showing it.
#[test]
fn check_reads_the_expiry_of_a_p12_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let file = live_config(dir.path());
    let check = |password: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycode"));
        cmd.arg("--config").arg(&file).arg("check");
        // The roots variables get their own `trust` line (cli_commands), whose path may name
        // a "certificates" bundle.
        for var in [
            "PAYCODE_API_KEY",
            "PAYCODE_P12_PASSWORD",
            "PAYCODE_CONFIG",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("PAYCODE_API_KEY", KEY);
        if let Some(p) = password {
            cmd.env("PAYCODE_P12_PASSWORD", p);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), text(&out.stdout))
    };
    // The password defaults to the mch_id, as WeChat issues it.
    let (code, stdout) = check(None);
    let line = stdout
        .lines()
        .find(|l| l.contains("certificate"))
        .unwrap_or_else(|| panic!("no certificate line: {stdout}"));
    assert!(
        line.starts_with("OK") && line.contains("valid for"),
        "{line}"
    );
    assert_eq!(code, Some(1), "the API host is unreachable: {stdout}");

    let (_, stdout) = check(Some("not-the-password"));
    let line = stdout.lines().find(|l| l.contains("certificate")).unwrap();
    assert!(
        line.starts_with("FAIL") && line.contains("apiclient_cert.p12"),
        "{line}"
    );
    assert!(!stdout.contains("not-the-password"), "{stdout}");
}

/// Live mode: reconciling today is refused before anything is sent (WeChat has no statement
/// yet, and an empty one would read as "nothing was paid"); an unreachable host is exit 2 with
/// what to do; both in English and Chinese.
#[test]
#[allow(clippy::disallowed_methods)] // "today" must be the binary's real today
fn reconcile_in_live_mode_refuses_today_and_names_an_unreachable_host() {
    let dir = tempfile::tempdir().unwrap();
    let file = live_config(dir.path());
    let reconcile = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycode"));
        cmd.arg("--config").arg(&file).arg("reconcile").args(extra);
        for var in ["PAYCODE_P12_PASSWORD", "PAYCODE_CONFIG"] {
            cmd.env_remove(var);
        }
        cmd.env("PAYCODE_API_KEY", KEY);
        let out = cmd.output().unwrap();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date();
    let (code, stdout, stderr) = reconcile(&["--date", &today.to_string(), "--json"]);
    assert_eq!(code, Some(3), "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        v["message"].as_str().unwrap().contains("the next day"),
        "{v}"
    );
    assert!(v["message_zh"].as_str().unwrap().contains("次日"), "{v}");

    // Yesterday (the default) goes to WeChat, which does not answer.
    let (code, stdout, stderr) = reconcile(&["--json"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["status"], "unavailable", "{v}");
    assert!(
        stderr.contains("check the network and try again"),
        "{stderr}"
    );
    assert!(stderr.contains("请检查网络后重试"), "{stderr}");
}

/// `[api]` in `paycode check`: a free port is OK, one in use a warning (fine while this till's
/// paycode serves it), a token file others can read a failure naming `[api] token_file`, and
/// `paycode config` shows the section without the token.
#[test]
fn check_reports_the_pos_api_port_and_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let token = dir.path().join("api.token");
    std::fs::write(&token, "s3cr3t-token-0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let write = |listen: &str| {
        let base = include_str!("../config.toml");
        std::fs::write(
            &file,
            format!("{base}\n[api]\nlisten = \"{listen}\"\ntoken_file = \"api.token\"\n"),
        )
        .unwrap();
    };
    let check = || {
        let out = Command::new(env!("CARGO_BIN_EXE_paycode"))
            .arg("--config")
            .arg(&file)
            .arg("check")
            .env("PAYCODE_API_KEY", paycode::config::SIMULATOR_DEMO_KEY)
            .env_remove("PAYCODE_CONFIG")
            .output()
            .unwrap();
        let s = text(&out.stdout);
        s.lines()
            .find(|l| l.contains("api"))
            .unwrap_or_else(|| panic!("no api line: {s}"))
            .to_string()
    };
    write(&format!("127.0.0.1:{port}"));
    let line = check();
    assert!(
        line.starts_with("WARN") && line.contains("in use"),
        "{line}"
    );
    drop(taken);
    let line = check();
    assert!(
        line.starts_with("OK") && line.contains("token required"),
        "{line}"
    );

    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let line = check();
    assert!(
        line.starts_with("FAIL") && line.contains("[api] token_file"),
        "{line}"
    );
    assert!(!line.contains("s3cr3t"), "{line}");

    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = paycode(&file, Some(paycode::config::SIMULATOR_DEMO_KEY));
    let shown = text(&out.stdout);
    assert!(shown.contains("[api]\nlisten = \"127.0.0.1:"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

/// FAULTS row 203 (third review of issue 14, F7): a database URL holding a password was echoed
/// whole when it did not parse (one typo in the port), by `paycode config`, `check`, `office
/// ship` and the admin's `office` commands — on the screen and, under the units, in journald.
#[test]
fn an_office_url_that_does_not_parse_never_shows_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let base = include_str!("../config.toml");
    for url in [
        "postgresql://paycode_till_T1:Sup3rSecretPw@127.0.0.1:5x/paycode",
        "postgresql://paycode_till_T1:Sup3r/SecretPw@127.0.0.1:5x/paycode",
        "postgresql://paycode_till_T1@127.0.0.1:5x/paycode?password=Sup3rSecretPw",
    ] {
        std::fs::write(&file, format!("{base}\n[office]\nurl = \"{url}\"\n")).unwrap();
        for cmd in [&["config"][..], &["check"], &["office", "ship"]] {
            let out = Command::new(env!("CARGO_BIN_EXE_paycode"))
                .arg("--config")
                .arg(&file)
                .args(cmd)
                .env_remove("PAYCODE_CONFIG")
                .env("PAYCODE_API_KEY", paycode::config::SIMULATOR_DEMO_KEY)
                .output()
                .unwrap();
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert_ne!(out.status.code(), Some(0), "{cmd:?}: {all}");
            assert!(all.contains("[office] url"), "{cmd:?} names the key: {all}");
            assert!(!all.contains("SecretPw"), "{cmd:?} {url}: {all}");
        }
    }
    for url in [
        "postgresql://postgres:Sup3rSecretPw@127.0.0.1:5x/paycode",
        "host=127.0.0.1 port=5x user=postgres password=Sup3rSecretPw",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_paycode"))
            .args(["office", "report", "--url", url])
            .env_remove("PAYCODE_CONFIG")
            .output()
            .unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(3), "{all}");
        assert!(all.contains("--url"), "{all}");
        assert!(!all.contains("SecretPw"), "{url}: {all}");
    }
}
