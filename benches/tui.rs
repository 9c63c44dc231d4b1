//! TUI frame figures (a measurement, not a test): `cargo bench --bench tui`.
//!
//! Time of one `Terminal::draw` (layout + widgets + buffer diff) into ratatui's TestBackend at
//! 80×24 and 200×60, for the busiest screens in both languages; p50 / p99 / max over 2 000
//! frames each, in microseconds (integers, no floats).
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

use paycode::checkout::flow::{Final, Payment};
use paycode::checkout::{Outcome, Progress};
use paycode::config::Language;
use paycode::money::Fen;
use paycode::scanner::{DecodeSettings, Wedge};
use paycode::tui::app::{App, Key, Msg, Settings};
use paycode::tui::view::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

const FRAMES: usize = 2_000;

fn app(lang: Language) -> (App, Instant) {
    let t0 = Instant::now();
    let settings = Settings {
        language: lang,
        rings: paycode::config::Rings::OFF,
        max_amount: Fen(100_000),
        password_timeout: Duration::from_secs(30),
        simulator: None,
        manager_pin: None,
    };
    let wedge = Wedge::new(Duration::from_millis(50), 8, DecodeSettings::default());
    (App::new(settings, wedge, t0), t0)
}

fn typed(app: &mut App, t0: Instant, s: &str) {
    for (i, c) in s.chars().enumerate() {
        let at = t0 + Duration::from_millis(200 * (i as u64 + 1));
        app.update(Msg::Key(Key::Char(c)), at);
        app.update(Msg::Tick, at + Duration::from_millis(60));
    }
}

fn waiting(lang: Language) -> App {
    let (mut a, t0) = app(lang);
    typed(&mut a, t0, "128.5");
    let mut at = t0 + Duration::from_secs(2);
    for c in "134567890123456789".chars() {
        a.update(Msg::Key(Key::Char(c)), at);
        at += Duration::from_millis(2);
    }
    a.update(Msg::Key(Key::Enter), at);
    a.update(
        Msg::Sale(Progress::WaitingForPassword {
            out_trade_no: "till-1-20260102101500001".into(),
            remaining: Duration::from_secs(21),
            queries: 2,
            reverses: true,
        }),
        at,
    );
    a
}

fn paid(lang: Language) -> App {
    let mut a = waiting(lang);
    let now = a.now;
    a.update(
        Msg::Sale(Progress::Done(Outcome {
            out_trade_no: "till-1-20260102101500001".into(),
            total_fee: Fen(12_850),
            result: Final::Paid(Payment {
                transaction_id: "4200000001202601021234567890".into(),
                total_fee: Fen(12_850),
                time_end: "20260102101512".into(),
            }),
            transaction_id: None,
            bank_type: None,
            cash_fee: Some(Fen(12_000)),
            note: None,
        })),
        now,
    );
    a
}

fn measure(name: &str, app: &App, w: u16, h: u16) {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let mut times = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES {
        // Alternate with a cleared buffer so every frame has a real diff to compute.
        if i % 2 == 0 {
            t.clear().expect("clear");
        }
        let start = Instant::now();
        t.draw(|f| view(app, f)).expect("draw");
        times.push(start.elapsed());
    }
    times.sort();
    let us = |d: Duration| d.as_micros();
    println!(
        "{name:<22} {w:>3}x{h:<3} p50 {:>5} µs  p99 {:>5} µs  max {:>6} µs",
        us(times[FRAMES / 2]),
        us(times[FRAMES * 99 / 100]),
        us(times[FRAMES - 1])
    );
}

fn main() {
    for (lang, tag) in [(Language::En, "en"), (Language::Zh, "zh")] {
        let (entry, _) = app(lang);
        let w = waiting(lang);
        let p = paid(lang);
        for (w_, h_) in [(80, 24), (200, 60)] {
            measure(&format!("sale entry {tag}"), &entry, w_, h_);
            measure(&format!("waiting countdown {tag}"), &w, w_, h_);
            measure(&format!("result paid {tag}"), &p, w_, h_);
        }
    }
}
