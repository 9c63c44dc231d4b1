//! Door 2: config.toml. Every key of the schema (src/config/schema.rs, validate.rs,
//! src/scanner/config.rs) with a wrong type, an out-of-range, zero, negative or huge value, and
//! unknown keys and sections: `pay` refuses at load (exit 3) naming the key in both languages,
//! with nothing journaled or sent.
#![allow(clippy::unwrap_used)]

use crate::checkout_support::Harness;
use crate::checks::{all, mark, refused, untouched};
use crate::tally::Door;

/// `base` with `line` (`key = value`, or several lines) in `[section]`: an existing setting of
/// that key is replaced; a missing section is appended.
pub fn set(base: &str, section: &str, line: &str) -> String {
    let keys: Vec<&str> = line
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let header = format!("[{section}]");
    let mut out = String::new();
    let mut current = String::new();
    let mut placed = false;
    for l in base.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            current = t.to_string();
        } else if current == header
            && l.split_once('=')
                .is_some_and(|(k, _)| keys.contains(&k.trim()))
        {
            continue;
        }
        out.push_str(l);
        out.push('\n');
        if t == header && !placed {
            out.push_str(line);
            out.push('\n');
            placed = true;
        }
    }
    if !placed {
        out.push_str(&format!("\n{header}\n{line}\n"));
    }
    out
}

/// (case, section, `key = value` lines, what the message must name).
type Case = (&'static str, &'static str, String, &'static str);

fn c(name: &'static str, section: &'static str, line: &str, names: &'static str) -> Case {
    (name, section, line.to_string(), names)
}

fn cases() -> Vec<Case> {
    let long = |n: usize| "a".repeat(n);
    vec![
        // [merchant]
        c(
            "appid integer",
            "merchant",
            "appid = 123",
            "[merchant] appid",
        ),
        c(
            "appid empty",
            "merchant",
            "appid = \"\"",
            "[merchant] appid",
        ),
        c(
            "appid punctuation",
            "merchant",
            "appid = \"wx-bad!\"",
            "[merchant] appid",
        ),
        c(
            "appid 33 characters",
            "merchant",
            &format!("appid = \"wx{}\"", long(31)),
            "[merchant] appid",
        ),
        c(
            "appid escape",
            "merchant",
            "appid = \"wx\\u001b[2J\"",
            "[merchant] appid",
        ),
        c(
            "mch_id letters",
            "merchant",
            "mch_id = \"10000abc\"",
            "[merchant] mch_id",
        ),
        c(
            "mch_id integer",
            "merchant",
            "mch_id = 1000000001",
            "[merchant] mch_id",
        ),
        c(
            "mch_id empty",
            "merchant",
            "mch_id = \"\"",
            "[merchant] mch_id",
        ),
        c(
            "mch_id 33 digits",
            "merchant",
            &format!("mch_id = \"{}\"", "1".repeat(33)),
            "[merchant] mch_id",
        ),
        c(
            "sub_appid space",
            "merchant",
            "sub_appid = \"wx a\"\nsub_mch_id = \"1\"",
            "[merchant] sub_appid",
        ),
        c(
            "sub_mch_id letters",
            "merchant",
            "sub_mch_id = \"12a\"",
            "[merchant] sub_mch_id",
        ),
        c(
            "sub_appid without sub_mch_id",
            "merchant",
            "sub_appid = \"wxsub\"",
            "[merchant] sub_appid",
        ),
        c(
            "sign_type unknown",
            "merchant",
            "sign_type = \"SHA1\"",
            "[merchant] sign_type",
        ),
        c(
            "sign_type integer",
            "merchant",
            "sign_type = 5",
            "[merchant] sign_type",
        ),
        c(
            "api_key inline",
            "merchant",
            "api_key = \"PaycodeSimulatorDemoKey-NotReal1\"",
            "[merchant] api_key",
        ),
        c(
            "api_key_file missing",
            "merchant",
            "api_key_file = \"no-such.key\"",
            "[merchant] api_key_file",
        ),
        c(
            "api_key_file integer",
            "merchant",
            "api_key_file = 7",
            "[merchant] api_key_file",
        ),
        c(
            "device_info empty",
            "merchant",
            "device_info = \"\"",
            "[merchant] device_info",
        ),
        c(
            "device_info 16 characters",
            "merchant",
            "device_info = \"till-0123456789a\"",
            "[merchant] device_info",
        ),
        c(
            "device_info space",
            "merchant",
            "device_info = \"till 1\"",
            "[merchant] device_info",
        ),
        c(
            "device_info escape",
            "merchant",
            "device_info = \"till-\\u001b\"",
            "[merchant] device_info",
        ),
        c(
            "device_info chinese",
            "merchant",
            "device_info = \"收银台1\"",
            "[merchant] device_info",
        ),
        c("body empty", "merchant", "body = \"\"", "[merchant] body"),
        c(
            "body 128 characters",
            "merchant",
            &format!("body = \"{}\"", long(128)),
            "[merchant] body",
        ),
        c(
            "body newline",
            "merchant",
            "body = \"a\\nb\"",
            "[merchant] body",
        ),
        c(
            "body escape",
            "merchant",
            "body = \"Goods\\u001b[2J\"",
            "[merchant] body",
        ),
        c(
            "body direction override",
            "merchant",
            "body = \"Goods\\u202eSDOOG\"",
            "[merchant] body",
        ),
        c(
            "body isolate",
            "merchant",
            "body = \"Goods\\u2066x\\u2069\"",
            "[merchant] body",
        ),
        c("body integer", "merchant", "body = 5", "[merchant] body"),
        c(
            "spbill_create_ip bad octet",
            "merchant",
            "spbill_create_ip = \"999.1.1.1\"",
            "[merchant] spbill_create_ip",
        ),
        c(
            "spbill_create_ip unspecified",
            "merchant",
            "spbill_create_ip = \"0.0.0.0\"",
            "[merchant] spbill_create_ip",
        ),
        c(
            "spbill_create_ip host name",
            "merchant",
            "spbill_create_ip = \"localhost\"",
            "[merchant] spbill_create_ip",
        ),
        c(
            "merchant unknown key",
            "merchant",
            "api_secret = \"x\"",
            "[merchant] api_secret",
        ),
        // [wechat]
        c(
            "base_url empty",
            "wechat",
            "base_url = \"\"",
            "[wechat] base_url",
        ),
        c(
            "base_url ftp",
            "wechat",
            "base_url = \"ftp://api.mch.weixin.qq.com\"",
            "[wechat] base_url",
        ),
        c(
            "base_url plain http remote",
            "wechat",
            "base_url = \"http://api.mch.weixin.qq.com\"",
            "[wechat] base_url",
        ),
        c(
            "base_url no host",
            "wechat",
            "base_url = \"https://\"",
            "[wechat] base_url",
        ),
        c(
            "base_url typo",
            "wechat",
            "base_url = \"simulatorr\"",
            "[wechat] base_url",
        ),
        c(
            "base_url integer",
            "wechat",
            "base_url = 5",
            "[wechat] base_url",
        ),
        c(
            "base_url space",
            "wechat",
            "base_url = \"https://api.mch weixin.qq.com\"",
            "[wechat] base_url",
        ),
        c(
            "base_url escape",
            "wechat",
            "base_url = \"https://\\u001b[2J\"",
            "[wechat] base_url",
        ),
        c(
            "base_url credentials",
            "wechat",
            "base_url = \"https://user:pass@api.mch.weixin.qq.com\"",
            "[wechat] base_url",
        ),
        c(
            "backup_url with the simulator",
            "wechat",
            "base_url = \"simulator\"\nbackup_url = \"https://api2.mch.weixin.qq.com\"",
            "[wechat] backup_url",
        ),
        c(
            "backup_url simulator",
            "wechat",
            "backup_url = \"simulator\"",
            "[wechat] backup_url",
        ),
        c(
            "backup_url ftp",
            "wechat",
            "backup_url = \"ftp://x\"",
            "[wechat] backup_url",
        ),
        c(
            "connect_timeout zero",
            "wechat",
            "connect_timeout = \"0s\"",
            "[wechat] connect_timeout",
        ),
        c(
            "connect_timeout negative",
            "wechat",
            "connect_timeout = \"-1s\"",
            "[wechat] connect_timeout",
        ),
        c(
            "connect_timeout huge",
            "wechat",
            "connect_timeout = \"1000h\"",
            "[wechat] connect_timeout",
        ),
        c(
            "connect_timeout bare number",
            "wechat",
            "connect_timeout = 5",
            "[wechat] connect_timeout",
        ),
        c(
            "connect_timeout no unit",
            "wechat",
            "connect_timeout = \"5\"",
            "[wechat] connect_timeout",
        ),
        c(
            "connect_timeout overflow",
            "wechat",
            "connect_timeout = \"99999999999999999999999s\"",
            "[wechat] connect_timeout",
        ),
        c(
            "read_timeout zero",
            "wechat",
            "read_timeout = \"0ms\"",
            "[wechat] read_timeout",
        ),
        c(
            "read_timeout 61s",
            "wechat",
            "read_timeout = \"61s\"",
            "[wechat] read_timeout",
        ),
        c(
            "read_timeout words",
            "wechat",
            "read_timeout = \"ten seconds\"",
            "[wechat] read_timeout",
        ),
        c(
            "max_reply_bytes zero",
            "wechat",
            "max_reply_bytes = 0",
            "[wechat] max_reply_bytes",
        ),
        c(
            "max_reply_bytes small",
            "wechat",
            "max_reply_bytes = 100",
            "[wechat] max_reply_bytes",
        ),
        c(
            "max_reply_bytes huge",
            "wechat",
            "max_reply_bytes = 1000000000000",
            "[wechat] max_reply_bytes",
        ),
        c(
            "max_reply_bytes negative",
            "wechat",
            "max_reply_bytes = -1",
            "[wechat] max_reply_bytes",
        ),
        c(
            "max_reply_bytes string",
            "wechat",
            "max_reply_bytes = \"64k\"",
            "[wechat] max_reply_bytes",
        ),
        c(
            "ca_file missing",
            "wechat",
            "ca_file = \"no-such-ca.pem\"",
            "[wechat] ca_file",
        ),
        c(
            "cert_file missing",
            "wechat",
            "cert_file = \"no-such.pem\"\nkey_file = \"no-such-key.pem\"",
            "[wechat]",
        ),
        c(
            "p12_file missing",
            "wechat",
            "p12_file = \"no-such.p12\"",
            "[wechat] p12_file",
        ),
        c(
            "wechat unknown key",
            "wechat",
            "verify_tls = false",
            "[wechat] verify_tls",
        ),
        // [checkout]
        c(
            "max_amount zero",
            "checkout",
            "max_amount = \"0\"",
            "[checkout] max_amount",
        ),
        c(
            "max_amount negative",
            "checkout",
            "max_amount = \"-1\"",
            "[checkout] max_amount",
        ),
        c(
            "max_amount letters",
            "checkout",
            "max_amount = \"lots\"",
            "[checkout] max_amount",
        ),
        c(
            "max_amount bare number",
            "checkout",
            "max_amount = 100",
            "[checkout] max_amount",
        ),
        c(
            "max_amount three decimals",
            "checkout",
            "max_amount = \"1.234\"",
            "[checkout] max_amount",
        ),
        c(
            "max_amount u64 overflow",
            "checkout",
            "max_amount = \"18446744073709551616\"",
            "[checkout] max_amount",
        ),
        c(
            "max_amount u64 max fen",
            "checkout",
            "max_amount = \"184467440737095516.15\"",
            "[checkout] max_amount",
        ),
        c(
            "max_amount above wechat limit",
            "checkout",
            "max_amount = \"1000000000.00\"",
            "[checkout] max_amount",
        ),
        c(
            "first_query_after past password_timeout",
            "checkout",
            "first_query_after = \"30s\"",
            "[checkout] first_query_after",
        ),
        c(
            "query_interval zero",
            "checkout",
            "query_interval = \"0s\"",
            "[checkout] query_interval",
        ),
        c(
            "query_interval past password_timeout",
            "checkout",
            "query_interval = \"10s\"",
            "[checkout] query_interval",
        ),
        c(
            "password_timeout zero",
            "checkout",
            "password_timeout = \"0s\"",
            "[checkout] password_timeout",
        ),
        c(
            "password_timeout 121s",
            "checkout",
            "password_timeout = \"121s\"",
            "[checkout] password_timeout",
        ),
        c(
            "password_timeout huge",
            "checkout",
            "password_timeout = \"1000000h\"",
            "[checkout] password_timeout",
        ),
        c(
            "reverse_not_before past password_timeout",
            "checkout",
            "reverse_not_before = \"6s\"",
            "[checkout] reverse_not_before",
        ),
        c(
            "reverse_max_attempts zero",
            "checkout",
            "reverse_max_attempts = 0",
            "[checkout] reverse_max_attempts",
        ),
        c(
            "reverse_max_attempts 101",
            "checkout",
            "reverse_max_attempts = 101",
            "[checkout] reverse_max_attempts",
        ),
        c(
            "reverse_max_attempts negative",
            "checkout",
            "reverse_max_attempts = -1",
            "[checkout] reverse_max_attempts",
        ),
        c(
            "reverse_max_attempts string",
            "checkout",
            "reverse_max_attempts = \"5\"",
            "[checkout] reverse_max_attempts",
        ),
        c(
            "reverse_max_attempts u32 overflow",
            "checkout",
            "reverse_max_attempts = 4294967296",
            "[checkout] reverse_max_attempts",
        ),
        c(
            "reverse_backoff zero",
            "checkout",
            "reverse_backoff = \"0s\"",
            "[checkout] reverse_backoff",
        ),
        c(
            "reverse_backoff 11s",
            "checkout",
            "reverse_backoff = \"11s\"",
            "[checkout] reverse_backoff",
        ),
        c(
            "unknown_query_after at password_timeout",
            "checkout",
            "unknown_query_after = \"5s\"",
            "[checkout] unknown_query_after",
        ),
        c(
            "notexist_rounds zero",
            "checkout",
            "notexist_rounds = 0",
            "[checkout] notexist_rounds",
        ),
        c(
            "notexist_rounds 1000",
            "checkout",
            "notexist_rounds = 1000",
            "[checkout] notexist_rounds",
        ),
        c(
            "unproven_wait 301s",
            "checkout",
            "unproven_wait = \"301s\"",
            "[checkout] unproven_wait",
        ),
        c(
            "duplicate_scan_window 2h",
            "checkout",
            "duplicate_scan_window = \"2h\"",
            "[checkout] duplicate_scan_window",
        ),
        c(
            "checkout unknown key",
            "checkout",
            "max_amout = \"10.00\"",
            "[checkout] max_amout",
        ),
        // [journal]
        c(
            "journal path empty",
            "journal",
            "path = \"\"",
            "[journal] path",
        ),
        c(
            "journal log_dir empty",
            "journal",
            "log_dir = \"\"",
            "[journal] log_dir",
        ),
        c(
            "journal path integer",
            "journal",
            "path = 5",
            "[journal] path",
        ),
        c(
            "journal unknown key",
            "journal",
            "wal = true",
            "[journal] wal",
        ),
        // [ui]
        c(
            "language unknown",
            "ui",
            "language = \"fr\"",
            "[ui] language",
        ),
        c("language integer", "ui", "language = 1", "[ui] language"),
        c("bell string", "ui", "bell = \"yes\"", "[ui] bell"),
        c("bell_paid 10", "ui", "bell_paid = 10", "[ui] bell_paid"),
        c(
            "bell_paid u8 overflow",
            "ui",
            "bell_paid = 256",
            "[ui] bell_paid",
        ),
        c(
            "bell_not_charged negative",
            "ui",
            "bell_not_charged = -1",
            "[ui] bell_not_charged",
        ),
        c(
            "bell_attention 100",
            "ui",
            "bell_attention = 100",
            "[ui] bell_attention",
        ),
        c(
            "manager_pin_file missing",
            "ui",
            "manager_pin_file = \"no-such.pin\"",
            "[ui] manager_pin_file",
        ),
        c("ui unknown key", "ui", "theme = \"dark\"", "[ui] theme"),
        // [scanner]
        c(
            "scanner wedge_gap 2s",
            "scanner",
            "wedge_gap = \"2s\"",
            "[scanner]",
        ),
        c(
            "scanner idle_end 11s",
            "scanner",
            "idle_end = \"11s\"",
            "[scanner]",
        ),
        c(
            "scanner duplicate_window words",
            "scanner",
            "duplicate_window = \"a while\"",
            "[scanner] duplicate_window",
        ),
        c(
            "scanner wedge_min_len negative",
            "scanner",
            "wedge_min_len = -1",
            "[scanner] wedge_min_len",
        ),
        c(
            "scanner wedge_min_len string",
            "scanner",
            "wedge_min_len = \"8\"",
            "[scanner] wedge_min_len",
        ),
        c(
            "scanner strip_aim string",
            "scanner",
            "strip_aim = \"yes\"",
            "[scanner] strip_aim",
        ),
        c(
            "scanner unknown key",
            "scanner",
            "beep = true",
            "[scanner] beep",
        ),
        c(
            "serial data_bits 9",
            "scanner.serial",
            "port = \"/dev/ttyACM0\"\ndata_bits = 9",
            "[scanner",
        ),
        c(
            "serial stop_bits 3",
            "scanner.serial",
            "port = \"/dev/ttyACM0\"\nstop_bits = 3",
            "[scanner",
        ),
        c(
            "serial parity mark",
            "scanner.serial",
            "port = \"/dev/ttyACM0\"\nparity = \"mark\"",
            "[scanner.serial] parity",
        ),
        c(
            "serial baud negative",
            "scanner.serial",
            "port = \"/dev/ttyACM0\"\nbaud = -9600",
            "[scanner.serial] baud",
        ),
        c(
            "serial port empty",
            "scanner.serial",
            "port = \"\"",
            "scanner.serial.port",
        ),
        c(
            "serial port blank",
            "scanner.serial",
            "port = \"  \"",
            "scanner.serial.port",
        ),
        c(
            "serial usb_id not hex",
            "scanner.serial",
            "usb_id = \"zzzz:0001\"",
            "[scanner.serial] usb_id",
        ),
        c(
            "serial unknown key",
            "scanner.serial",
            "flow = \"rts\"",
            "[scanner.serial] flow",
        ),
        c(
            "hid mode unknown",
            "scanner.hid",
            "usb_id = \"1eab:8306\"\nmode = \"magic\"",
            "[scanner.hid] mode",
        ),
        c(
            "hid usage_page overflow",
            "scanner.hid",
            "usb_id = \"1eab:8306\"\nusage_page = 70000",
            "[scanner.hid] usage_page",
        ),
        // [simulator]
        c(
            "simulator tls string",
            "simulator",
            "tls = \"yes\"",
            "[simulator] tls",
        ),
        c(
            "simulator no_password_limit negative",
            "simulator",
            "no_password_limit = \"-1\"",
            "[simulator] no_password_limit",
        ),
        c(
            "simulator daily_no_password_count negative",
            "simulator",
            "daily_no_password_count = -1",
            "[simulator] daily_no_password_count",
        ),
        c(
            "simulator auto_revoke_after zero",
            "simulator",
            "auto_revoke_after = \"0s\"",
            "[simulator] auto_revoke_after",
        ),
        c(
            "simulator auto_revoke_after 2h",
            "simulator",
            "auto_revoke_after = \"2h\"",
            "[simulator] auto_revoke_after",
        ),
        c(
            "simulator auto_revoke_after huge",
            "simulator",
            "auto_revoke_after = \"100000000h\"",
            "[simulator] auto_revoke_after",
        ),
        c(
            "simulator reply_delay 61s",
            "simulator",
            "reply_delay = \"61s\"",
            "[simulator] reply_delay",
        ),
        c(
            "simulator reply_delay huge",
            "simulator",
            "reply_delay = \"100000000h\"",
            "[simulator] reply_delay",
        ),
        c(
            "simulator daily_no_password_count 1001",
            "simulator",
            "daily_no_password_count = 1001",
            "[simulator] daily_no_password_count",
        ),
        c(
            "simulator reply_delay words",
            "simulator",
            "reply_delay = \"soon\"",
            "[simulator] reply_delay",
        ),
        c(
            "simulator unknown key",
            "simulator",
            "money = \"real\"",
            "[simulator] money",
        ),
        // [api]
        c(
            "api listen not an address",
            "api",
            "listen = \"localhost\"",
            "[api] listen",
        ),
        c(
            "api listen a number",
            "api",
            "listen = 8765",
            "[api] listen",
        ),
        c(
            "api listen on every interface without a token",
            "api",
            "listen = \"0.0.0.0:8765\"",
            "[api] listen",
        ),
        c(
            "api listen on [::] without a token",
            "api",
            "listen = \"[::]:8765\"",
            "[api] listen",
        ),
        c(
            "api token_file empty",
            "api",
            "token_file = \"\"",
            "[api] token_file",
        ),
        c("api unknown key", "api", "cors = \"*\"", "[api] cors"),
        c(
            "api cors origin a wildcard",
            "api",
            "cors_origins = [\"*\"]",
            "[api] cors_origins",
        ),
        c(
            "api cors origin with a path",
            "api",
            "cors_origins = [\"http://pos.local/app\"]",
            "[api] cors_origins",
        ),
        c(
            "api cors origins not a list",
            "api",
            "cors_origins = \"http://a\"",
            "[api] cors_origins",
        ),
        c("api socket empty", "api", "socket = \"\"", "[api] socket"),
        c(
            "api socket a number",
            "api",
            "socket = 8765",
            "[api] socket",
        ),
        // [office]
        c(
            "office without url",
            "office",
            "sslmode = \"require\"",
            "[office] url",
        ),
        c(
            "office url not postgresql",
            "office",
            "url = \"http://office.example/paycode\"",
            "[office] url",
        ),
        c(
            "office url with a password",
            "office",
            "url = \"postgresql://paycode_till_T1:hunter2@office.example/paycode\"",
            "[office] url",
        ),
        c(
            "office url without a role",
            "office",
            "url = \"postgresql://office.example/paycode\"",
            "[office] url",
        ),
        c(
            "office url without a database",
            "office",
            "url = \"postgresql://paycode_till_T1@office.example\"",
            "[office] url",
        ),
        c(
            "office url a number",
            "office",
            "url = 5432",
            "[office] url",
        ),
        c(
            "office sslmode disable off this machine",
            "office",
            "url = \"postgresql://paycode_till_T1@office.example:5432/paycode\"\nsslmode = \"disable\"",
            "[office] sslmode",
        ),
        c(
            "office sslmode unknown",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\nsslmode = \"prefer\"",
            "[office] sslmode",
        ),
        c(
            "office password_file empty",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\npassword_file = \"\"",
            "[office] password_file",
        ),
        c(
            "office password_file missing",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\npassword_file = \"no-such-office-password\"",
            "[office] password_file",
        ),
        c(
            "office ca_file missing",
            "office",
            "url = \"postgresql://paycode_till_T1@office.example:5432/paycode\"\nca_file = \"no-such-ca.pem\"",
            "[office] ca_file",
        ),
        c(
            "office batch_rows zero",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\nbatch_rows = 0",
            "[office] batch_rows",
        ),
        c(
            "office batch_rows huge",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\nbatch_rows = 99999999999",
            "[office] batch_rows",
        ),
        c(
            "office batch_rows a string",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\nbatch_rows = \"many\"",
            "[office] batch_rows",
        ),
        c(
            "office interval zero",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\ninterval = \"0s\"",
            "[office] interval",
        ),
        c(
            "office interval not a duration",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\ninterval = \"soon\"",
            "[office] interval",
        ),
        c(
            "office unknown key",
            "office",
            "url = \"postgresql://paycode_till_T1@127.0.0.1:5432/paycode\"\nhost = \"office.example\"",
            "[office] host",
        ),
        // the file as a whole
        c("unknown section", "bogus", "x = 1", "[bogus]"),
    ]
}

pub fn run(d: &mut Door) {
    let h = Harness::new();
    let base = std::fs::read_to_string(h.config_path()).unwrap();
    for (name, section, line, names) in cases() {
        let text = set(&base, section, &line);
        pay_refused(d, &h, &format!("config: {name}"), text.as_bytes(), names);
    }
    let whole: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "top-level key",
            format!("debug = true\n{base}").into_bytes(),
            "debug",
        ),
        (
            "syntax error",
            format!("{base}\n[merchant\n").into_bytes(),
            "TOML",
        ),
        (
            "duplicate key",
            base.replace("[ui]\n", "[ui]\nbell = true\nbell = false\n")
                .into_bytes(),
            "[ui]",
        ),
        (
            "duplicate section",
            format!("{base}\n[ui]\nbell = true\n").into_bytes(),
            "ui",
        ),
        (
            "not utf-8",
            [base.as_bytes(), b"\n# \xff\xfe\n"].concat(),
            "UTF-8",
        ),
        (
            "nul byte",
            [base.as_bytes(), b"\n# \x00\n"].concat(),
            "config.toml",
        ),
    ];
    for (name, text, names) in whole {
        pay_refused(d, &h, &format!("config file: {name}"), &text, names);
    }
    // The built-in simulator with a merchant's live API key (the ids are public; the key is
    // the credential): refused naming where the key came from, and never echoing it.
    let simulated = set(&base, "wechat", "base_url = \"simulator\"");
    std::fs::write(h.config_path(), &simulated).unwrap();
    d.check("config file: simulator with a live API key", || {
        const LIVE: &str = "Zq8xV2mN4pL6rT0yU3wE5sD7fG9hJ1kA";
        let before = mark(&h);
        let code = h.code("normal");
        let out = h
            .command(&["pay", "--amount", "1.00", "--code", &code, "--json"])
            .env("PAYCODE_API_KEY", LIVE)
            .output()
            .unwrap();
        let r = crate::checkout_support::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        all([
            refused(&r, "PAYCODE_API_KEY", "PAYCODE_API_KEY", &[&code, LIVE]),
            untouched(&h, &before),
        ])
    });
    std::fs::write(h.config_path(), &base).unwrap();
    simulate_live(d, &h);
    // The file itself missing, a directory, or what cannot be a config: a FIFO (reading it
    // would block until someone writes), a device (/dev/zero never ends), 2 MiB of text.
    let big = h.dir.path().join("big.toml");
    let mut text = base.clone().into_bytes();
    text.resize(2 * 1024 * 1024, b'\n');
    std::fs::write(&big, text).unwrap();
    for (name, path) in [
        ("missing", h.dir.path().join("no-such.toml")),
        ("a directory", h.dir.path().join("data")),
        ("a fifo", crate::files::fifo(h.dir.path(), "fifo.toml")),
        ("/dev/zero", std::path::PathBuf::from("/dev/zero")),
        ("2 MiB", big),
    ] {
        d.check(format!("config file: {name}"), || {
            let before = mark(&h);
            let code = h.code("normal");
            let out = h
                .command_wrapped(
                    &["timeout", "20"],
                    &[
                        "--config",
                        path.to_str().unwrap(),
                        "pay",
                        "--amount",
                        "1.00",
                        "--code",
                        &code,
                        "--json",
                    ],
                )
                .output()
                .unwrap();
            let r = crate::checkout_support::Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            let shown = path.display().to_string();
            all([
                refused(&r, &shown, &shown, &[&code]),
                untouched(&h, &before),
            ])
        });
    }
}

/// `pay` with this config text: refused naming `names` in both languages, nothing done.
fn pay_refused(d: &mut Door, h: &Harness, name: &str, text: &[u8], names: &str) {
    std::fs::write(h.config_path(), text).unwrap();
    let code = h.code("normal");
    d.check(name, || {
        let before = mark(h);
        let r = h.run(&["pay", "--amount", "1.00", "--code", &code, "--json"]);
        all([refused(&r, names, names, &[&code]), untouched(h, &before)])
    });
}

/// `paycode simulate --config` with a live till's config (WeChat's host, the merchant's key):
/// the simulator would sign with the live API key and keep its fingerprint. Refused, exit 3,
/// naming where the key came from and never echoing it; the server never starts.
fn simulate_live(d: &mut Door, h: &Harness) {
    use std::os::unix::fs::PermissionsExt;
    const LIVE: &str = "Zq8xV2mN4pL6rT0yU3wE5sD7fG9hJ1kA";
    let dir = h.dir.path().join("live");
    std::fs::create_dir_all(&dir).unwrap();
    let pki = crate::support::Pki::new();
    let cert = dir.join("apiclient_cert.pem");
    let key = dir.join("apiclient_key.pem");
    std::fs::write(&cert, &pki.client_cert_pem).unwrap();
    std::fs::write(&key, &pki.client_key_pem).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = dir.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[merchant]\nappid = \"wx8888888888888888\"\nmch_id = \"1900000109\"\n\
             device_info = \"till-1\"\n[wechat]\nbase_url = \"https://api.mch.weixin.qq.com\"\n\
             cert_file = \"{}\"\nkey_file = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    d.check("config file: simulate with a live config", || {
        let out = h
            .command_wrapped(
                &["timeout", "10"],
                &[
                    "--config",
                    cfg.to_str().unwrap(),
                    "simulate",
                    "--listen",
                    "127.0.0.1:0",
                ],
            )
            .env("PAYCODE_API_KEY", LIVE)
            .output()
            .unwrap();
        let r = crate::checkout_support::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        if r.stdout.contains("base_url") {
            return Err(format!("the simulator started: {}", r.stdout));
        }
        crate::checks::refused_text(&r, "PAYCODE_API_KEY", "PAYCODE_API_KEY", &[LIVE])
    });
}
