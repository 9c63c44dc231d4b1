//! `paycode config`: the resolved settings as TOML-like text, every secret replaced by its source.

use super::{BaseUrl, ClientIdentity, Config};
use crate::duration::HumanDuration;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

/// Render `cfg`; the output never contains a secret.
pub(crate) fn render(cfg: &Config) -> String {
    let mut o = String::new();
    let m = &cfg.merchant;
    let w = &cfg.wechat;
    let c = &cfg.checkout;
    let _ = writeln!(o, "# paycode settings resolved from {}", cfg.file.display());
    let mode = match &w.base_url {
        BaseUrl::Simulator => "built-in simulator (no real money moves)".to_string(),
        BaseUrl::Url(u) => format!("live endpoint {u}"),
    };
    let _ = writeln!(o, "# mode: {mode}\n\n[merchant]");
    kv(&mut o, "appid", &quote(&m.appid));
    kv(&mut o, "mch_id", &quote(&m.mch_id));
    opt(&mut o, "sub_appid", m.sub_appid.as_deref().map(quote));
    opt(&mut o, "sub_mch_id", m.sub_mch_id.as_deref().map(quote));
    kv(&mut o, "sign_type", &quote(m.sign_type.as_str()));
    kv(
        &mut o,
        "api_key",
        &format!("<hidden, {}>", m.api_key_source),
    );
    kv(&mut o, "device_info", &quote(&m.device_info));
    kv(&mut o, "body", &quote(&m.body));
    let ip = m
        .spbill_create_ip
        .map_or_else(|| "auto".to_string(), |ip| ip.to_string());
    kv(&mut o, "spbill_create_ip", &quote(&ip));

    o.push_str("\n[wechat]\n");
    let base = match &w.base_url {
        BaseUrl::Simulator => "simulator",
        BaseUrl::Url(u) => u,
    };
    kv(&mut o, "base_url", &quote(base));
    opt(&mut o, "backup_url", w.backup_url.as_deref().map(quote));
    kv(&mut o, "connect_timeout", &dur(w.connect_timeout));
    kv(&mut o, "read_timeout", &dur(w.read_timeout));
    kv(&mut o, "max_reply_bytes", &w.max_reply_bytes.to_string());
    opt(&mut o, "ca_file", w.ca_file.as_deref().map(path));
    match &w.identity {
        None => o.push_str("# client certificate: not set\n"),
        Some(ClientIdentity::Pem {
            cert_file,
            key_file,
        }) => {
            kv(&mut o, "cert_file", &path(cert_file));
            kv(&mut o, "key_file", &path(key_file));
        }
        Some(ClientIdentity::P12 {
            file,
            password_source,
            ..
        }) => {
            kv(&mut o, "p12_file", &path(file));
            kv(
                &mut o,
                "p12_password",
                &format!("<hidden, {password_source}>"),
            );
        }
    }

    o.push_str("\n[checkout]\n");
    kv(&mut o, "max_amount", &quote(&c.max_amount.to_string()));
    kv(
        &mut o,
        "first_query_after",
        &dur(c.policy.first_query_after),
    );
    kv(&mut o, "query_interval", &dur(c.policy.query_interval));
    kv(&mut o, "password_timeout", &dur(c.policy.password_timeout));
    kv(
        &mut o,
        "reverse_not_before",
        &dur(c.policy.reverse_not_before),
    );
    kv(
        &mut o,
        "reverse_max_attempts",
        &c.policy.reverse_max_attempts.to_string(),
    );
    kv(&mut o, "reverse_backoff", &dur(c.policy.reverse_backoff));
    kv(
        &mut o,
        "unknown_query_after",
        &dur(c.policy.unknown_query_after),
    );
    kv(
        &mut o,
        "notexist_rounds",
        &c.policy.notexist_rounds.to_string(),
    );
    kv(&mut o, "unproven_wait", &dur(c.policy.unproven_wait));
    kv(
        &mut o,
        "duplicate_scan_window",
        &dur(c.duplicate_scan_window),
    );

    o.push_str("\n[journal]\n");
    kv(&mut o, "path", &path(&cfg.journal.path));
    kv(&mut o, "log_dir", &path(&cfg.journal.log_dir));

    o.push_str("\n[ui]\n");
    kv(&mut o, "language", &quote(cfg.ui.language.as_str()));
    kv(&mut o, "bell", &cfg.ui.bell.to_string());
    kv(&mut o, "bell_paid", &cfg.ui.rings.paid.to_string());
    kv(
        &mut o,
        "bell_not_charged",
        &cfg.ui.rings.not_charged.to_string(),
    );
    kv(
        &mut o,
        "bell_attention",
        &cfg.ui.rings.attention.to_string(),
    );
    match &cfg.ui.manager_pin_file {
        Some(p) => kv(&mut o, "manager_pin_file", &path(p)),
        None if cfg.wechat.base_url.is_simulated() => o.push_str(
            "# manager_pin_file: not set (the simulator allows refunds without a PIN, after a question)\n",
        ),
        None => o.push_str(
            "# manager_pin_file: not set — refunds are OFF on this live till until it is (F4, paycode refund, reverse of a paid sale)\n",
        ),
    }

    scanner(&mut o, &cfg.scanner);
    printer(&mut o, cfg.printer.as_ref());
    api(&mut o, cfg.api.as_ref());
    pos_display(&mut o, cfg.pos_display.as_ref());
    office(&mut o, cfg.office.as_ref());

    let s = &cfg.simulator;
    o.push_str("\n[simulator]\n");
    kv(&mut o, "tls", &s.tls.to_string());
    kv(
        &mut o,
        "no_password_limit",
        &quote(&s.no_password_limit.to_string()),
    );
    kv(
        &mut o,
        "daily_no_password_count",
        &s.daily_no_password_count.to_string(),
    );
    kv(&mut o, "auto_revoke_after", &dur(s.auto_revoke_after));
    kv(&mut o, "reply_delay", &dur(s.reply_delay));
    kv(
        &mut o,
        "unknown_reverse_succeeds",
        &s.unknown_reverse_succeeds.to_string(),
    );
    kv(
        &mut o,
        "bare_refund_state",
        &s.bare_refund_state.to_string(),
    );
    kv(
        &mut o,
        "reversed_paid_revoked",
        &s.reversed_paid_revoked.to_string(),
    );
    kv(
        &mut o,
        "reverse_userpaying",
        &s.reverse_userpaying.to_string(),
    );
    o
}

/// `[scanner]` and its `serial` / `hid` tables as TOML.
fn scanner(o: &mut String, s: &crate::scanner::ScannerConfig) {
    use crate::scanner::config::{HidMode, Parity};
    o.push_str("\n[scanner]\n");
    kv(o, "prefix", &quote(&s.prefix));
    kv(o, "suffix", &quote(&s.suffix));
    kv(o, "strip_aim", &s.strip_aim.to_string());
    kv(
        o,
        "duplicate_window",
        &quote(&s.duplicate_window.to_string()),
    );
    kv(o, "idle_end", &quote(&s.idle_end.to_string()));
    kv(o, "wedge_gap", &quote(&s.wedge_gap.to_string()));
    kv(o, "wedge_min_len", &s.wedge_min_len.to_string());
    match &s.serial {
        None => o.push_str("# [scanner.serial]: not set\n"),
        Some(p) => {
            o.push_str("\n[scanner.serial]\n");
            opt(o, "port", p.port.as_deref().map(quote));
            opt(o, "usb_id", p.usb_id.map(|u| quote(&u.to_string())));
            kv(o, "baud", &p.baud.to_string());
            kv(o, "data_bits", &p.data_bits.to_string());
            let parity = match p.parity {
                Parity::None => "none",
                Parity::Odd => "odd",
                Parity::Even => "even",
            };
            kv(o, "parity", &quote(parity));
            kv(o, "stop_bits", &p.stop_bits.to_string());
            kv(o, "reconnect_min", &quote(&p.reconnect_min.to_string()));
            kv(o, "reconnect_max", &quote(&p.reconnect_max.to_string()));
        }
    }
    match &s.hid {
        None => o.push_str("# [scanner.hid]: not set\n"),
        Some(h) => {
            o.push_str("\n[scanner.hid]\n");
            opt(o, "usb_id", h.usb_id.map(|u| quote(&u.to_string())));
            opt(o, "usage_page", h.usage_page.map(|p| format!("0x{p:02X}")));
            let mode = match h.mode {
                HidMode::Auto => "auto",
                HidMode::Keyboard => "keyboard",
                HidMode::Pos => "pos",
            };
            kv(o, "mode", &quote(mode));
            kv(o, "reconnect_min", &quote(&h.reconnect_min.to_string()));
            kv(o, "reconnect_max", &quote(&h.reconnect_max.to_string()));
        }
    }
}

fn kv(o: &mut String, key: &str, value: &str) {
    let _ = writeln!(o, "{key} = {value}");
}

fn opt(o: &mut String, key: &str, value: Option<String>) {
    match value {
        Some(v) => kv(o, key, &v),
        None => {
            let _ = writeln!(o, "# {key}: not set");
        }
    }
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn path(p: &Path) -> String {
    quote(&p.display().to_string())
}

fn dur(d: Duration) -> String {
    quote(&HumanDuration(d).to_string())
}

/// `[printer]` as TOML.
fn printer(o: &mut String, p: Option<&super::PrinterConfig>) {
    let Some(p) = p else {
        o.push_str("\n# [printer]: not set (no receipts)\n");
        return;
    };
    o.push_str("\n[printer]\n");
    match &p.transport {
        super::Transport::Device(d) => kv(o, "device", &path(d)),
        super::Transport::Serial { path: s, baud } => {
            kv(o, "serial", &path(s));
            kv(o, "baud", &baud.to_string());
        }
        super::Transport::Tcp(a) => kv(o, "tcp", &quote(a)),
    }
    let f = &p.format;
    kv(o, "width", &f.width.mm().to_string());
    kv(o, "encoding", &quote(f.encoding.as_str()));
    kv(o, "cut", &f.cut.to_string());
    kv(o, "drawer_kick", &f.drawer_kick.to_string());
    kv(o, "language", &quote(f.language.as_str()));
    kv(o, "print_on_payment", &p.print_on_payment.to_string());
    kv(o, "timeout", &dur(p.timeout));
    kv(o, "store_name", &quote(&p.store_name));
}

/// `[api]` as TOML (the token file's path only, never its contents).
fn api(o: &mut String, a: Option<&super::ApiConfig>) {
    let Some(a) = a else {
        o.push_str("\n# [api]: not set (the cashier screen serves no POS API)\n");
        return;
    };
    o.push_str("\n[api]\n");
    kv(o, "listen", &quote(&a.listen.to_string()));
    match &a.token_file {
        Some(t) => kv(o, "token_file", &path(t)),
        None => o.push_str("# token_file: not set (loopback only)\n"),
    }
    let origins: Vec<String> = a.cors_origins.iter().map(|x| quote(x)).collect();
    kv(o, "cors_origins", &format!("[{}]", origins.join(", ")));
    match &a.socket {
        Some(s) => kv(o, "socket", &path(s)),
        None => o.push_str("# socket: not set (TCP only)\n"),
    }
}

/// `[pos_display]` as TOML, when set (without it nothing is said: amounts are typed).
fn pos_display(o: &mut String, p: Option<&super::PoleConfig>) {
    let Some(p) = p else {
        return;
    };
    o.push_str("\n[pos_display]\n");
    kv(o, "port", &path(&p.port));
    kv(o, "baud", &p.baud.to_string());
    kv(o, "command_set", &quote(p.command_set.as_str()));
}

/// `[office]` as TOML, when set (the password file's path only, never the password).
fn office(o: &mut String, f: Option<&super::OfficeConfig>) {
    let Some(f) = f else {
        return;
    };
    o.push_str("\n[office]\n");
    kv(o, "url", &quote(&f.url));
    match &f.password_file {
        Some(p) => kv(o, "password_file", &path(p)),
        None => o.push_str("# password: from PAYCODE_OFFICE_PASSWORD when connecting\n"),
    }
    let mode = match f.sslmode {
        super::SslMode::Require => "require",
        super::SslMode::Disable => "disable",
    };
    kv(o, "sslmode", &quote(mode));
    if let Some(c) = &f.ca_file {
        kv(o, "ca_file", &path(c));
    }
    kv(o, "batch_rows", &f.batch_rows.to_string());
    kv(o, "interval", &dur(f.interval));
}
