//! The printer on the cashier screen: the printer thread asks a virtual printer for its state
//! (staged status bytes), and the status line and the diagnostics screen (F5) show it.
#![allow(clippy::unwrap_used)]

mod printer_support;
mod tui_common;

use paycode::config::Language;
use paycode::printer::Spooler;
use paycode::tui::app::{Key, Msg};
use paycode::tui::view::view;
use printer_support::{Staged, VirtualPrinter};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use tui_common::{Harness, settings};

/// The `[printer]` of a config pointing at `p`.
fn printer_config(p: &VirtualPrinter, dir: &std::path::Path) -> paycode::config::PrinterConfig {
    let text = format!(
        "[wechat]\nbase_url = \"simulator\"\n[journal]\npath = \"{}\"\n[printer]\ntcp = \"{}\"\ntimeout = \"1s\"\n",
        dir.join("j.db").display(),
        p.address
    );
    let env = paycode::config::SecretEnv {
        api_key: None,
        p12_password: None,
    };
    paycode::config::from_str_with_env(&text, &dir.join("config.toml"), &env)
        .unwrap()
        .printer
        .unwrap()
}

/// The first report of a spooler on a printer staged as `staged`.
fn first_report(staged: Staged) -> paycode::printer::spooler::Report {
    let dir = tempfile::tempdir().unwrap();
    let p = VirtualPrinter::tcp(staged);
    let cfg = printer_config(&p, dir.path());
    let (tx, rx) = std::sync::mpsc::channel();
    let _spool = Spooler::start(cfg, dir.path().join("j.db"), move |r| {
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

fn screen(h: &Harness) -> String {
    let mut t = Terminal::new(TestBackend::new(160, 24)).unwrap();
    t.draw(|f| view(&h.app, f)).unwrap();
    t.backend().to_string()
}

#[test]
fn paper_out_shows_on_the_status_line_and_f5_in_both_languages() {
    let report = first_report(Staged::PaperOut);
    assert_eq!(
        report.state.as_ref().unwrap(),
        &paycode::receipt::PrinterState::PaperOut
    );
    for (lang, short, words) in [
        (Language::En, "paper out", "out of paper: load a new roll"),
        (Language::Zh, "打印机缺纸", "请装入新纸卷"),
    ] {
        let mut h = Harness::with(settings(lang, true));
        let before = screen(&h);
        assert!(!before.contains(short), "no printer line before the report");
        h.send_after(
            1,
            Msg::Printer(paycode::tui::worker::printer_light(&report)),
        );
        let status = screen(&h);
        assert!(status.contains(short), "{status}");
        assert!(
            !status.contains(words),
            "the status line keeps it short: {status}"
        );
        h.key(Key::F(5));
        let diag = screen(&h);
        let line = if lang == Language::En {
            "Receipt printer"
        } else {
            "小票打印机"
        };
        assert!(diag.contains(line) && diag.contains(words), "{diag}");
    }
}

#[test]
fn an_online_printer_is_green_and_an_unreachable_one_says_why() {
    let ok = first_report(Staged::Online);
    let light = paycode::tui::worker::printer_light(&ok);
    assert!(light.ok && light.queued == 0, "{light:?}");

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = printer_config(&VirtualPrinter::tcp(Staged::Online), dir.path());
    cfg.transport = paycode::config::Transport::Tcp(addr.to_string());
    let (tx, rx) = std::sync::mpsc::channel();
    let _spool = Spooler::start(cfg, dir.path().join("j.db"), move |r| {
        let _ = tx.send(r);
    });
    let light =
        paycode::tui::worker::printer_light(&rx.recv_timeout(Duration::from_secs(10)).unwrap());
    assert!(!light.ok);
    assert!(
        light.text.en.contains("unreachable") && light.text.zh.contains("未连接"),
        "{light:?}"
    );
    assert!(
        light.detail.en.contains(&addr.to_string()) && light.detail.zh.contains("无法连接"),
        "F5 names the printer and why: {light:?}"
    );
}
