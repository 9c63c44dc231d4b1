//! Helpers shared by the TUI tests: an app on virtual time, key typing and wedge bursts.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time
#![allow(dead_code)]

use paycode::config::Language;
use paycode::money::Fen;
use paycode::scanner::{DecodeSettings, Wedge};
use paycode::tui::app::{App, Cmd, Key, Msg, Pin, Settings, SimInfo};
use std::time::{Duration, Instant};

pub const CODE: &str = "134567890123456789";
pub const CODE2: &str = "134567890123450000";

/// An app in `lang`, on virtual time starting at `t0`.
pub struct Harness {
    pub app: App,
    pub t0: Instant,
    /// Milliseconds since `t0` of the next event.
    pub ms: u64,
}

pub fn settings(lang: Language, sim: bool) -> Settings {
    Settings {
        language: lang,
        rings: paycode::config::Rings::DEFAULT,
        max_amount: Fen(100_000),
        password_timeout: Duration::from_secs(30),
        simulator: sim.then(|| SimInfo {
            scenarios_en: vec![
                "10 0000 …  normal: paid at once".into(),
                "10 1001 …  password: customer confirms after 5 s".into(),
            ],
            scenarios_zh: vec![
                "10 0000 …  正常:立即支付成功".into(),
                "10 1001 …  输密码:顾客 5 秒后确认".into(),
            ],
        }),
        manager_pin: Some(Pin("2468".into())),
    }
}

impl Harness {
    pub fn new(lang: Language) -> Harness {
        Harness::with(settings(lang, false))
    }

    pub fn with(settings: Settings) -> Harness {
        let t0 = Instant::now();
        let wedge = Wedge::new(Duration::from_millis(50), 8, DecodeSettings::default());
        Harness {
            app: App::new(settings, wedge, t0),
            t0,
            ms: 0,
        }
    }

    pub fn now(&self) -> Instant {
        self.t0 + Duration::from_millis(self.ms)
    }

    /// Send a message `step` ms after the previous one, firing the tick the runtime would send
    /// at the app's deadline in between.
    pub fn send_after(&mut self, step: u64, msg: Msg) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        let target = self.ms + step;
        while let Some(d) = self.app.deadline() {
            let d_ms = d.saturating_duration_since(self.t0).as_millis() as u64;
            if d_ms > target {
                break;
            }
            self.ms = d_ms.max(self.ms);
            cmds.extend(self.app.update(Msg::Tick, self.now()));
            if self.app.deadline() == Some(d) {
                // The deadline did not move (countdown tick): step past it.
                self.ms += 1;
            }
        }
        self.ms = target;
        cmds.extend(self.app.update(msg, self.now()));
        cmds
    }

    /// A key typed by hand (200 ms after the previous event), plus the wedge's hold time, so
    /// a held digit has reached the app when this returns.
    pub fn key(&mut self, k: Key) -> Vec<Cmd> {
        let mut cmds = self.send_after(200, Msg::Key(k));
        cmds.extend(self.idle(60));
        cmds
    }

    /// Type `s` by hand, one key every 200 ms.
    pub fn type_str(&mut self, s: &str) -> Vec<Cmd> {
        let mut out = Vec::new();
        for c in s.chars() {
            out.extend(self.key(Key::Char(c)));
        }
        out
    }

    /// A keyboard-wedge scan: the digits 2 ms apart, then Enter.
    pub fn wedge_scan(&mut self, code: &str) -> Vec<Cmd> {
        let mut out = Vec::new();
        let mut first = true;
        for c in code.chars() {
            let step = if first { 300 } else { 2 };
            first = false;
            out.extend(self.send_after(step, Msg::Key(Key::Char(c))));
        }
        out.extend(self.send_after(2, Msg::Key(Key::Enter)));
        out
    }

    /// Let time pass with ticks only.
    pub fn idle(&mut self, ms: u64) -> Vec<Cmd> {
        self.send_after(ms, Msg::Tick)
    }
}
