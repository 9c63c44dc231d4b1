//! config.toml loading: the shipped default, fixture files (valid and invalid), secret files
//! with real modes in a temp dir, and the relations between checkout timings.
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-unwrap-in-tests.
#![allow(clippy::unwrap_used)]

use paycode::config::{
    self, BaseUrl, ClientIdentity, Config, ConfigError, Language, SIMULATOR_APPID,
    SIMULATOR_DEMO_KEY, SIMULATOR_MCH_ID, SecretEnv, SecretSource,
};
use paycode::money::Fen;
use paycode::wxpay::sign::SignType;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "0123456789abcdefABCDEF0123456789";

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

fn no_env() -> SecretEnv {
    SecretEnv::default()
}

/// Load a fixture in place (it needs no neighbouring files).
fn load_fixture(name: &str, env: &SecretEnv) -> Result<Config, ConfigError> {
    config::from_str_with_env(&fixture(name), &fixture_path(name), env)
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A temp dir holding the production fixture, a real PEM pair, the key file and a PIN file.
fn production_dir(key_mode: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["till.example".to_string()]).unwrap();
    write(
        &dir.path().join("config.toml"),
        &fixture("production.toml"),
        0o644,
    );
    write(
        &dir.path().join("certs/apiclient_cert.pem"),
        &ck.cert.pem(),
        0o644,
    );
    write(
        &dir.path().join("certs/apiclient_key.pem"),
        &ck.signing_key.serialize_pem(),
        key_mode,
    );
    write(
        &dir.path().join("secrets/apikey"),
        &format!("{KEY}\n"),
        0o600,
    );
    write(&dir.path().join("secrets/manager.pin"), "1234\n", 0o600);
    dir
}

#[test]
fn shipped_config_is_simulator_mode() {
    let text = include_str!("../config.toml");
    let cfg =
        config::from_str_with_env(text, Path::new("/opt/paycode/config.toml"), &no_env()).unwrap();
    assert!(cfg.is_simulator());
    assert_eq!(cfg.wechat.base_url, BaseUrl::Simulator);
    assert_eq!(cfg.merchant.appid, SIMULATOR_APPID);
    assert_eq!(cfg.merchant.mch_id, SIMULATOR_MCH_ID);
    assert_eq!(cfg.merchant.api_key_source, SecretSource::SimulatorDemo);
    assert_eq!(cfg.checkout, config::CheckoutConfig::default());
    assert_eq!(cfg.simulator, config::SimulatorConfig::default());
    assert_eq!(cfg.journal.path, Path::new("/opt/paycode/data/paycode.db"));
    // And the real file on disk through `load`.
    let loaded = config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")).unwrap();
    assert!(loaded.is_simulator());
}

#[test]
fn minimal_file_gets_every_documented_default() {
    let cfg = load_fixture("minimal.toml", &no_env()).unwrap();
    let m = &cfg.merchant;
    assert_eq!(m.sign_type, SignType::Md5);
    assert_eq!(m.device_info, "till-1");
    assert_eq!(m.body, "Store-Goods");
    assert_eq!(m.spbill_create_ip, None);
    assert_eq!(cfg.wechat.connect_timeout, Duration::from_secs(5));
    assert_eq!(cfg.wechat.read_timeout, Duration::from_secs(10));
    assert_eq!(cfg.wechat.max_reply_bytes, 65_536);
    assert!(cfg.wechat.identity.is_none());
    let c = &cfg.checkout;
    assert_eq!(c.max_amount, Fen(1_000_000));
    assert_eq!(c.policy.first_query_after, Duration::from_secs(5));
    assert_eq!(c.policy.query_interval, Duration::from_secs(5));
    assert_eq!(c.policy.password_timeout, Duration::from_secs(30));
    assert_eq!(c.policy.reverse_not_before, Duration::from_secs(15));
    assert_eq!(c.policy.reverse_max_attempts, 10);
    assert_eq!(c.policy.reverse_backoff, Duration::from_secs(2));
    assert_eq!(c.policy.unknown_query_after, Duration::from_secs(2));
    assert_eq!(c.policy.notexist_rounds, 3);
    assert_eq!(c.policy.unproven_wait, Duration::from_secs(60));
    assert_eq!(c.duplicate_scan_window, Duration::from_secs(3));
    assert_eq!(cfg.ui.language, Language::Zh);
    assert!(cfg.ui.bell);
    assert_eq!(cfg.ui.rings, paycode::config::Rings::DEFAULT);
    let s = &cfg.simulator;
    assert!(!s.tls);
    assert_eq!(s.no_password_limit, Fen(100_000));
    assert_eq!(s.daily_no_password_count, 10);
    assert_eq!(s.auto_revoke_after, Duration::from_secs(45));
    assert_eq!(s.reply_delay, Duration::ZERO);
    assert_eq!(cfg.journal.log_dir, fixture_path("data/logs"));
}

#[test]
fn simulator_mode_takes_its_demo_key_from_the_environment() {
    // Any other key is refused (the_built_in_simulator_refuses_a_live_api_key).
    let env = SecretEnv {
        api_key: Some(paycode::config::SIMULATOR_DEMO_KEY.into()),
        p12_password: None,
    };
    let cfg = load_fixture("minimal.toml", &env).unwrap();
    assert_eq!(
        cfg.merchant.api_key_source,
        SecretSource::Env("PAYCODE_API_KEY")
    );
    assert_eq!(cfg.merchant.api_key, demo_key());
    let demo = load_fixture("minimal.toml", &no_env()).unwrap();
    assert_eq!(demo.merchant.api_key, demo_key());
}

fn demo_key() -> paycode::wxpay::sign::ApiKey {
    paycode::wxpay::sign::ApiKey::new(SIMULATOR_DEMO_KEY).unwrap()
}

#[test]
fn production_config_resolves_every_section() {
    let dir = production_dir(0o600);
    let d = dir.path();
    let cfg = config::load(&d.join("config.toml")).unwrap();
    assert!(!cfg.is_simulator());
    let m = &cfg.merchant;
    assert_eq!(m.appid, "wx1234567890abcdef");
    assert_eq!(m.mch_id, "1230000109");
    assert_eq!(m.sign_type, SignType::HmacSha256);
    assert_eq!(
        m.api_key_source,
        SecretSource::File(d.join("secrets/apikey"))
    );
    assert_eq!(m.device_info, "store7-till2");
    assert_eq!(m.spbill_create_ip, Some("192.0.2.10".parse().unwrap()));
    let w = &cfg.wechat;
    assert_eq!(
        w.base_url,
        BaseUrl::Url("https://api.mch.weixin.qq.com".into())
    );
    assert_eq!(
        w.backup_url.as_deref(),
        Some("https://api2.mch.weixin.qq.com")
    );
    assert_eq!(w.connect_timeout, Duration::from_secs(3));
    assert_eq!(w.ca_file, Some(d.join("certs/apiclient_cert.pem")));
    match &w.identity {
        Some(ClientIdentity::Pem {
            cert_file,
            key_file,
        }) => {
            assert_eq!(cert_file, &d.join("certs/apiclient_cert.pem"));
            assert_eq!(key_file, &d.join("certs/apiclient_key.pem"));
        }
        other => panic!("expected the PEM pair, got {other:?}"),
    }
    assert_eq!(cfg.checkout.max_amount, Fen(200_050));
    assert_eq!(
        cfg.checkout.policy.reverse_backoff,
        Duration::from_millis(1500)
    );
    assert_eq!(cfg.checkout.duplicate_scan_window, Duration::ZERO);
    assert_eq!(cfg.journal.path, Path::new("/var/lib/paycode/paycode.db"));
    assert_eq!(cfg.journal.log_dir, d.join("logs"));
    assert_eq!(cfg.ui.language, Language::En);
    assert_eq!(cfg.ui.manager_pin_file, Some(d.join("secrets/manager.pin")));

    // The key is loaded but appears neither in Debug nor in the rendered settings.
    let debug = format!("{cfg:?}");
    let shown = cfg.render();
    for text in [&debug, &shown] {
        assert!(!text.contains(KEY), "secret leaked: {text}");
    }
    assert!(shown.contains("api_key = <hidden, from "), "{shown}");
}

#[test]
fn p12_identity_takes_its_password_from_the_environment_or_the_mch_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "[merchant]\nappid = \"wx1\"\nmch_id = \"1230000109\"\ndevice_info = \"till-1\"\n\
                [wechat]\nbase_url = \"https://api.mch.weixin.qq.com\"\np12_file = \"c.p12\"\n";
    write(&d.join("c.p12"), "\u{30}\u{82}binary", 0o600);
    let file = d.join("config.toml");
    let env = SecretEnv {
        api_key: Some(KEY.into()),
        p12_password: None,
    };
    let cfg = config::from_str_with_env(text, &file, &env).unwrap();
    let Some(ClientIdentity::P12 {
        password_source, ..
    }) = &cfg.wechat.identity
    else {
        panic!("expected a p12 identity");
    };
    assert_eq!(password_source, &SecretSource::MchId);
    let env = SecretEnv {
        api_key: Some(KEY.into()),
        p12_password: Some("p12-secret-pw".into()),
    };
    let cfg = config::from_str_with_env(text, &file, &env).unwrap();
    let Some(ClientIdentity::P12 {
        password_source, ..
    }) = &cfg.wechat.identity
    else {
        panic!("expected a p12 identity");
    };
    assert_eq!(password_source, &SecretSource::Env("PAYCODE_P12_PASSWORD"));
    assert!(!format!("{cfg:?}").contains("p12-secret-pw"));
    assert!(!cfg.render().contains("p12-secret-pw"));
}

/// Each invalid fixture: the key the error must name and words its message must contain.
#[test]
fn invalid_fixtures_name_the_key_and_the_fix() {
    let table: &[(&str, &str, &[&str])] = &[
        (
            "unknown_key.toml",
            "[checkout] query_intervall",
            &[
                "unknown key `query_intervall` in [checkout]",
                "query_interval",
                "spelling",
            ],
        ),
        (
            "bad_duration.toml",
            "[checkout] password_timeout",
            &["30 seconds", "\"5s\""],
        ),
        (
            "bad_amount.toml",
            "[checkout] max_amount",
            &["1,000.00", "not an amount in yuan"],
        ),
        (
            "http_public.toml",
            "[wechat] base_url",
            &["loopback", "https://"],
        ),
        (
            "api_key_inline.toml",
            "[merchant] api_key",
            &["mode 600", "api_key_file"],
        ),
        (
            "live_no_key.toml",
            "[merchant] api_key_file",
            &["no API key", "PAYCODE_API_KEY"],
        ),
        (
            "bad_sign_type.toml",
            "[merchant] sign_type",
            &["SHA256", "HMAC-SHA256", "MD5"],
        ),
        (
            "bad_language.toml",
            "[ui] language",
            &["zh-CN", "`zh` or `en`"],
        ),
        (
            "huge_read_timeout.toml",
            "[wechat] read_timeout",
            &["longer than", "use 10s"],
        ),
        (
            "huge_query_interval.toml",
            "[checkout] query_interval",
            &["shorter than password_timeout"],
        ),
        (
            "bad_bell.toml",
            "[ui] bell_attention",
            &["9 rings", "0 (silent) to 5"],
        ),
        (
            "bad_device_info.toml",
            "[merchant] device_info",
            &["'#'", "letters, digits"],
        ),
    ];
    for (name, key, words) in table {
        let e = load_fixture(name, &no_env()).expect_err(name);
        let line = e.to_string();
        assert_eq!(&e.key, key, "{name}: {line}");
        assert!(
            line.starts_with(&fixture_path(name).display().to_string()),
            "{line}"
        );
        assert!(!line.contains('\n'), "{name}: not one line: {line}");
        for w in *words {
            assert!(line.contains(w), "{name}: {line:?} lacks {w:?}");
        }
        assert!(e.position.is_some(), "{name}: no position: {line}");
    }
}

#[test]
fn the_inline_api_key_is_never_echoed() {
    let e = load_fixture("api_key_inline.toml", &no_env()).unwrap_err();
    assert!(!e.to_string().contains("192006250b4c"), "{e}");
    assert_eq!(e.position, Some((4, 1)));
}

#[test]
fn syntax_errors_keep_line_and_column() {
    let text = "[checkout]\nquery_interval = \"5s\"\nmax_amount = \"12\n";
    let e = config::from_str_with_env(text, Path::new("/x/c.toml"), &no_env()).unwrap_err();
    assert_eq!(e.position.map(|p| p.0), Some(3), "{e}");
    assert!(e.to_string().starts_with("/x/c.toml:3:"), "{e}");
    assert!(e.problem.starts_with("TOML syntax"), "{e}");
}

fn loopback_dir(key_mode: Option<u32>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("config.toml"),
        &fixture("loopback_keyfile.toml"),
        0o644,
    );
    if let Some(mode) = key_mode {
        write(&dir.path().join("apikey"), KEY, mode);
    }
    dir
}

#[test]
fn key_file_readable_by_others_is_refused_with_the_chmod_fix() {
    let dir = loopback_dir(Some(0o644));
    let path = dir.path().join("apikey");
    let e = config::load(&dir.path().join("config.toml")).unwrap_err();
    let p = path.display();
    let want = format!("{p} is readable by other users (mode 0644); run: chmod 600 {p}");
    assert!(e.to_string().ends_with(&want), "{e}");
    assert_eq!(e.key, "[merchant] api_key_file");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = config::load(&dir.path().join("config.toml")).unwrap();
    assert_eq!(cfg.merchant.api_key_source, SecretSource::File(path));
    assert_eq!(
        cfg.wechat.base_url,
        BaseUrl::Url("http://127.0.0.1:18080".into())
    );
}

#[test]
fn private_key_readable_by_group_is_refused() {
    let dir = production_dir(0o640);
    let e = config::load(&dir.path().join("config.toml")).unwrap_err();
    assert_eq!(e.key, "[wechat] key_file");
    assert!(e.to_string().contains("(mode 0640); run: chmod 600"), "{e}");
}

#[test]
fn missing_key_file_names_the_key_and_the_path() {
    let dir = loopback_dir(None);
    let e = config::load(&dir.path().join("config.toml")).unwrap_err();
    assert_eq!(e.key, "[merchant] api_key_file");
    let msg = e.to_string();
    assert!(
        msg.contains(&dir.path().join("apikey").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("does not exist"), "{msg}");
}

#[test]
fn https_without_a_client_certificate_is_refused() {
    let text = "[merchant]\nappid = \"wx1\"\nmch_id = \"1\"\n\
                [wechat]\nbase_url = \"https://api.mch.weixin.qq.com\"\n";
    let env = SecretEnv {
        api_key: Some(KEY.into()),
        p12_password: None,
    };
    let e = config::from_str_with_env(text, Path::new("/x/c.toml"), &env).unwrap_err();
    assert_eq!(e.key, "[wechat] cert_file");
    assert!(e.fix.contains("key_file"), "{e}");
}

#[test]
fn wrong_length_or_doubled_api_key_is_refused() {
    let env = SecretEnv {
        api_key: Some("short".into()),
        p12_password: None,
    };
    let e = load_fixture("minimal.toml", &env).unwrap_err();
    assert!(
        e.to_string()
            .contains("has 5 characters; an APIv2 key has 32"),
        "{e}"
    );
    assert!(!e.to_string().contains("short"), "{e}");

    let dir = loopback_dir(Some(0o600));
    let env = SecretEnv {
        api_key: Some(KEY.into()),
        p12_password: None,
    };
    let text = fixture("loopback_keyfile.toml");
    let e = config::from_str_with_env(&text, &dir.path().join("config.toml"), &env).unwrap_err();
    assert!(
        e.problem.contains("both PAYCODE_API_KEY and api_key_file"),
        "{e}"
    );
}

/// Checkout timing relations: each row overrides some keys and expects the named key refused.
#[test]
fn checkout_relations_table() {
    let rows: &[(&str, Option<&str>)] = &[
        ("query_interval = \"0s\"", Some("query_interval")),
        ("reverse_backoff = \"0ms\"", Some("reverse_backoff")),
        ("reverse_backoff = \"100h\"", Some("reverse_backoff")),
        ("reverse_backoff = \"10s\"", None),
        ("password_timeout = \"0s\"", Some("password_timeout")),
        ("password_timeout = \"3m\"", Some("password_timeout")),
        ("first_query_after = \"30s\"", Some("first_query_after")),
        ("unknown_query_after = \"31s\"", Some("unknown_query_after")),
        ("reverse_not_before = \"31s\"", Some("reverse_not_before")),
        ("reverse_not_before = \"30s\"", None),
        ("reverse_max_attempts = 0", Some("reverse_max_attempts")),
        ("notexist_rounds = 101", Some("notexist_rounds")),
        ("unproven_wait = \"6m\"", Some("unproven_wait")),
        ("unproven_wait = \"5m\"", None),
        ("unproven_wait = \"0s\"", None),
        ("unproven_wait = \"soon\"", Some("unproven_wait")),
        (
            "first_query_after = \"0ms\"\nunknown_query_after = \"0ms\"",
            None,
        ),
        (
            "password_timeout = \"300ms\"\nreverse_not_before = \"150ms\"\nfirst_query_after = \
             \"50ms\"\nquery_interval = \"20ms\"\nunknown_query_after = \"10ms\"",
            None,
        ),
        ("password_timeout = \"2m\"", None),
        // WeChat's total_fee is an Int of fen; amounts above ¥10 000 000 are refused by it.
        ("max_amount = \"10000000.00\"", None),
        ("max_amount = \"10000000.01\"", Some("max_amount")),
        ("max_amount = \"184467440737095516.15\"", Some("max_amount")),
        ("max_amount = \"99999999999999999999\"", Some("max_amount")),
    ];
    for (body, refused) in rows {
        let text = format!("[checkout]\n{body}\n");
        let got = config::from_str_with_env(&text, Path::new("/x/c.toml"), &no_env());
        match (refused, got) {
            (None, Ok(_)) => {}
            (Some(key), Err(e)) => {
                assert_eq!(e.key, format!("[checkout] {key}"), "{body}: {e}");
                assert!(e.position.is_some(), "{body}: {e}");
            }
            (want, got) => panic!("{body}: wanted refusal of {want:?}, got {got:?}"),
        }
    }
}

/// Live mode (a real WeChat host): reversing sooner than WeChat's 15 s floor is refused, the
/// simulator (built in or on loopback) keeps test-speed timings (FAULTS.md row 33).
#[test]
fn live_mode_refuses_a_reverse_before_fifteen_seconds() {
    let dir = production_dir(0o600);
    let path = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    for (value, refused) in [("0s", true), ("14999ms", true), ("15s", false)] {
        let edited = text.replace(
            "reverse_not_before = \"15s\"",
            &format!("reverse_not_before = \"{value}\""),
        );
        std::fs::write(&path, edited).unwrap();
        match config::load(&path) {
            Ok(_) => assert!(!refused, "{value} accepted in live mode"),
            Err(e) => {
                assert!(refused, "{value}: {e}");
                assert_eq!(e.key, "[checkout] reverse_not_before", "{e}");
                assert!(e.to_string().contains("15s"), "{e}");
            }
        }
    }
}

/// Live mode: a till without its own `device_info` is refused (two such tills would share the
/// default and so their order numbers); the simulator keeps the default (review finding).
#[test]
fn live_mode_needs_an_explicit_device_info() {
    let dir = production_dir(0o600);
    let path = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("device_info = \"store7-till2\"\n"));
    std::fs::write(&path, text.replace("device_info = \"store7-till2\"\n", "")).unwrap();
    let e = config::load(&path).unwrap_err();
    assert_eq!(e.key, "[merchant] device_info", "{e}");
    assert!(e.to_string().contains("every till"), "{e}");
    let sim = config::from_str_with_env("[merchant]\n", Path::new("/x/c.toml"), &no_env()).unwrap();
    assert_eq!(sim.merchant.device_info, "till-1");
}

/// Merchant and wechat values other than the fixtures above.
#[test]
fn merchant_and_wechat_value_table() {
    let rows: &[(&str, Option<&str>)] = &[
        ("[merchant]\nmch_id = \"12a\"", Some("[merchant] mch_id")),
        ("[merchant]\nappid = \"wx-1\"", Some("[merchant] appid")),
        (
            "[merchant]\nsub_appid = \"wx2\"",
            Some("[merchant] sub_appid"),
        ),
        (
            "[merchant]\nsub_appid = \"wx2\"\nsub_mch_id = \"1900000109\"",
            None,
        ),
        (
            "[merchant]\ndevice_info = \"\"",
            Some("[merchant] device_info"),
        ),
        ("[merchant]\ndevice_info = \"t_1-A\"", None),
        // Order numbers keep 15 characters of it: two tills must not share a prefix.
        (
            "[merchant]\ndevice_info = \"store-0001-till-1\"",
            Some("[merchant] device_info"),
        ),
        ("[merchant]\ndevice_info = \"store-001-till1\"", None),
        (
            "[merchant]\ndevice_info = \"123456789012345678901234567890123\"",
            Some("[merchant] device_info"),
        ),
        ("[merchant]\nbody = \"\"", Some("[merchant] body")),
        ("[merchant]\nbody = \"品牌-门店-商品\"", None),
        // A direction override makes the customer's bill read differently from what was sent.
        (
            "[merchant]\nbody = \"Store-\u{202e}goods\"",
            Some("[merchant] body"),
        ),
        (
            "[merchant]\nbody = \"Store-\u{2067}goods\"",
            Some("[merchant] body"),
        ),
        (
            "[merchant]\nbody = \"Store-\u{200f}goods\"",
            Some("[merchant] body"),
        ),
        (
            "[merchant]\nspbill_create_ip = \"10.0.0.300\"",
            Some("[merchant] spbill_create_ip"),
        ),
        ("[merchant]\nspbill_create_ip = \"2001:db8::7\"", None),
        (
            "[wechat]\nbackup_url = \"https://api2.mch.weixin.qq.com\"",
            Some("[wechat] backup_url"),
        ),
        (
            "[wechat]\nread_timeout = \"0s\"",
            Some("[wechat] read_timeout"),
        ),
        (
            "[wechat]\nmax_reply_bytes = 10",
            Some("[wechat] max_reply_bytes"),
        ),
        ("[wechat]\ncert_file = \"c.pem\"", Some("[wechat] key_file")),
        (
            "[wechat]\nbase_url = \"http://[::1]:9\"",
            Some("[merchant] appid"),
        ),
        (
            "[simulator]\nauto_revoke_after = \"0s\"",
            Some("[simulator] auto_revoke_after"),
        ),
        (
            "[simulator]\nno_password_limit = \"0\"",
            Some("[simulator] no_password_limit"),
        ),
        ("[journal]\npath = \"\"", Some("[journal] path")),
        (
            "[ui]\nmanager_pin_file = \"nope.pin\"",
            Some("[ui] manager_pin_file"),
        ),
        ("[merchnt]\nappid = \"wx1\"", Some("[merchnt]")),
    ];
    for (text, refused) in rows {
        let got = config::from_str_with_env(text, Path::new("/nonexistent/c.toml"), &no_env());
        match (refused, got) {
            (None, Ok(_)) => {}
            (Some(key), Err(e)) => assert_eq!(&e.key, key, "{text}: {e}"),
            (want, got) => panic!("{text}: wanted refusal of {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn scanner_section_is_validated_by_the_full_loader() {
    let text = "[scanner]\nwedge_gap = \"0ms\"\n";
    let e = config::from_str_with_env(text, Path::new("/x/c.toml"), &no_env()).unwrap_err();
    assert_eq!(e.key, "[scanner]");
    assert!(e.to_string().contains("wedge_gap"), "{e}");
    assert_eq!(e.position.map(|p| p.0), Some(1));
    let ok = "[scanner]\nwedge_gap = \"40ms\"\n";
    let cfg = config::from_str_with_env(ok, Path::new("/x/c.toml"), &no_env()).unwrap();
    assert_eq!(
        cfg.scanner.wedge_gap.0,
        std::time::Duration::from_millis(40)
    );
}

/// Issue 15: `paycode config` printed `[scanner]` as a Rust debug dump; it is TOML that reads
/// back to the same settings.
#[test]
fn the_scanner_section_renders_as_toml() {
    let text = "[scanner]\nprefix = \"]Q\"\nwedge_min_len = 10\n\n[scanner.serial]\nport = \"/dev/scanner\"\nbaud = 115200\nparity = \"even\"\n\n[scanner.hid]\nusb_id = \"1eab:8306\"\nusage_page = 140\nmode = \"pos\"\n";
    let cfg = config::from_str_with_env(text, Path::new("/x/c.toml"), &no_env()).unwrap();
    let shown = cfg.render();
    assert!(!shown.contains("ScannerConfig"), "{shown}");
    let start = shown.find("[scanner]").unwrap();
    let end = shown.find("[simulator]").unwrap();
    let again = shown[start..end].to_string();
    let back = config::from_str_with_env(&again, Path::new("/x/c.toml"), &no_env()).unwrap();
    assert_eq!(back.scanner, cfg.scanner, "{again}");
    assert!(
        again.contains("baud = 115200") && again.contains("mode = \"pos\""),
        "{again}"
    );
}

#[test]
fn the_built_in_simulator_refuses_a_live_api_key() {
    // The simulator would keep a fingerprint of the key in its ledger and `check` would call the
    // key verified: a live key belongs only with WeChat's address.
    let text = "[wechat]\nbase_url = \"simulator\"\n";
    let env = SecretEnv {
        api_key: Some(KEY.into()),
        p12_password: None,
    };
    let e = config::from_str_with_env(text, Path::new("/x/c.toml"), &env).unwrap_err();
    assert_eq!(e.key, "[merchant] api key (PAYCODE_API_KEY)", "{e}");
    assert!(e.to_string().contains("simulator"), "{e}");
    assert!(!e.to_string().contains(KEY), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("apikey");
    std::fs::write(&key, KEY).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let text = format!(
        "{text}[merchant]\napi_key_file = {:?}\n",
        key.display().to_string()
    );
    let e = config::from_str_with_env(&text, &dir.path().join("c.toml"), &no_env()).unwrap_err();
    assert_eq!(e.key, "[merchant] api_key_file", "{e}");

    // The demo key itself (the test harness passes it in the environment) stays allowed.
    let env = SecretEnv {
        api_key: Some(paycode::config::SIMULATOR_DEMO_KEY.into()),
        p12_password: None,
    };
    config::from_str_with_env(
        "[wechat]\nbase_url = \"simulator\"\n",
        Path::new("/x/c.toml"),
        &env,
    )
    .unwrap();
}

/// The security issue "trust is never widened silently": the simulator CA (its key sits
/// beside it on disk) as `[wechat] ca_file` of a live till would let whoever reads that key
/// stand in for WeChat. Refused at load for a live base_url, naming the key, the problem and
/// the fix in both languages; a loopback simulator with it stays allowed, and a real root in
/// `ca_file` stays allowed for a live till.
#[test]
fn the_simulator_ca_is_refused_as_a_live_trust_anchor() {
    let sim_ca = paycode::simulator::CertAuthority::generate().unwrap();
    let dir = production_dir(0o600);
    let cfg = dir.path().join("config.toml");
    write(&dir.path().join("certs/ca.pem"), sim_ca.cert_pem(), 0o644);
    let text = fixture("production.toml").replace(
        "ca_file = \"certs/apiclient_cert.pem\"",
        "ca_file = \"certs/ca.pem\"",
    );
    write(&cfg, &text, 0o644);
    let e = config::load(&cfg).unwrap_err();
    assert_eq!(e.key, "[wechat] ca_file", "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("paycode simulator CA") && msg.contains("certs/ca.pem"),
        "{msg}"
    );
    assert!(msg.contains("模拟器 CA"), "{msg}");
    assert!(e.fix.contains("remove ca_file"), "{e}");

    // A real root beside the simulator's in one bundle is still the simulator's trust.
    let other = rcgen::generate_simple_self_signed(vec!["root.example".to_string()]).unwrap();
    let bundle = format!("{}{}", other.cert.pem(), sim_ca.cert_pem());
    write(&dir.path().join("certs/ca.pem"), &bundle, 0o644);
    assert_eq!(config::load(&cfg).unwrap_err().key, "[wechat] ca_file");
    write(&dir.path().join("certs/ca.pem"), &other.cert.pem(), 0o644);
    assert!(config::load(&cfg).is_ok());

    // A simulator on this machine may be trusted through its own CA.
    let dir = loopback_dir(Some(0o600));
    write(&dir.path().join("ca.pem"), sim_ca.cert_pem(), 0o644);
    let text = format!("{}ca_file = \"ca.pem\"\n", fixture("loopback_keyfile.toml"));
    write(&dir.path().join("config.toml"), &text, 0o644);
    let cfg = config::load(&dir.path().join("config.toml")).unwrap();
    assert!(cfg.wechat.ca_file.is_some());
}
