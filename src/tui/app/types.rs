//! The app's input and settings types (independent of crossterm and of the runner).

use crate::checkout::progress::Outcome;
use crate::config::Language;
use crate::money::Fen;
use crate::scanner;
use std::time::Duration;

pub use crate::words::Words;

/// A terminal key press as the app sees it; the wedge's narrower view is [`scanner::WedgeKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Tab,
    Backspace,
    Esc,
    Up,
    Down,
    Left,
    Right,
    /// Function key F1–F12.
    F(u8),
    /// Ctrl+C.
    CtrlC,
    /// Anything else (ignored).
    Other,
}

impl Key {
    /// The wedge detector's view of this key; `None` for keys it never holds (navigation).
    pub(super) fn to_wedge(self) -> Option<scanner::WedgeKey> {
        Some(match self {
            Key::Char(c) => scanner::WedgeKey::Char(c),
            Key::Enter => scanner::WedgeKey::Enter,
            Key::Tab => scanner::WedgeKey::Tab,
            Key::Backspace => scanner::WedgeKey::Backspace,
            _ => return None,
        })
    }

    /// A key released by the wedge; `current` stands for its `Other` (only ever the key just fed).
    pub(super) fn from_wedge(k: scanner::WedgeKey, current: Key) -> Key {
        match k {
            scanner::WedgeKey::Char(c) => Key::Char(c),
            scanner::WedgeKey::Enter => Key::Enter,
            scanner::WedgeKey::Tab => Key::Tab,
            scanner::WedgeKey::Backspace => Key::Backspace,
            scanner::WedgeKey::Other => current,
        }
    }
}

pub use crate::manager::Pin;

/// The simulator's scenario table, shown one key away in simulator mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimInfo {
    /// One line per scenario, English.
    pub scenarios_en: Vec<String>,
    /// One line per scenario, Chinese.
    pub scenarios_zh: Vec<String>,
}

/// Fixed settings taken from the configuration at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Language at start-up.
    pub language: Language,
    /// Rings of the bell per kind of result (`Rings::OFF`: silent).
    pub rings: crate::config::Rings,
    /// Largest amount one sale may charge.
    pub max_amount: Fen,
    /// How long the customer gets for the password (the countdown gauge's full length).
    pub password_timeout: Duration,
    /// `Some` in simulator mode.
    pub simulator: Option<SimInfo>,
    /// Manager PIN for refunds; `None`: refunds need no PIN.
    pub manager_pin: Option<Pin>,
}

/// The receipt printer as the printer thread last saw it (none without `[printer]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterLight {
    /// It can print and nothing waits in the queue.
    pub ok: bool,
    /// Its state in a few words, for the status line.
    pub text: Words,
    /// The state, or why it could not be reached, in full (F5).
    pub detail: Words,
    /// Slips still queued.
    pub queued: usize,
}

/// Health of the WeChat API host as last probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetHealth {
    /// Not probed yet.
    Unknown,
    /// Answered in this time.
    Ok(Duration),
    /// No answer.
    Down,
}

/// How long a failed call keeps the light red although the probe reaches the host.
pub const CALL_FAILURE_SHOWN: Duration = Duration::from_secs(60);

impl NetHealth {
    /// The light from the latest call to WeChat (`(age, took, ok)`) and, when one was made
    /// just now, the probe (`Some(None)`: it failed). A host that answers the probe while its
    /// calls fail is not OK: a call that failed less than [`CALL_FAILURE_SHOWN`] ago decides.
    pub fn of(
        last_call: Option<(Duration, Duration, bool)>,
        probe: Option<Option<Duration>>,
    ) -> NetHealth {
        match (last_call, probe) {
            (Some((age, _, false)), _) if age < CALL_FAILURE_SHOWN => NetHealth::Down,
            (_, Some(Some(latency))) => NetHealth::Ok(latency),
            (_, Some(None)) => NetHealth::Down,
            (Some((_, took, true)), None) => NetHealth::Ok(took),
            (Some((_, _, false)), None) => NetHealth::Down,
            (None, None) => NetHealth::Unknown,
        }
    }
}

/// What start-up recovery did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecoveryReport {
    /// Sales it settled.
    pub resolved: Vec<Outcome>,
    /// Sales still unresolved (on the pending list).
    pub still_pending: usize,
    /// False while recovery is still running.
    pub done: bool,
    /// Settled later by the background retry of the pending list, not at start-up.
    pub background: bool,
}

/// Figures for the diagnostics screen (collected by the runtime).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiagInfo {
    /// Round trip of a probe to the API host, or why it failed.
    pub api_latency: Option<Result<Duration, Words>>,
    /// The API host probed.
    pub api_host: String,
    /// Journal file and its size.
    pub journal_path: String,
    pub journal_bytes: u64,
    /// Days until the merchant certificate expires (negative: expired), or why it could not be
    /// read; `None` when no certificate is configured.
    pub cert_days: Option<Result<i64, String>>,
    /// Seconds the server's clock is ahead of ours (from its `Date` header).
    pub clock_skew_secs: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_light_is_red_while_a_recent_call_failed() {
        let ms = Duration::from_millis;
        let failed = |age| Some((age, ms(900), false));
        // The probe answers, but the last call failed 5 s ago: red.
        assert_eq!(
            NetHealth::of(failed(ms(5000)), Some(Some(ms(3)))),
            NetHealth::Down
        );
        // A minute later the probe decides again.
        assert_eq!(
            NetHealth::of(failed(CALL_FAILURE_SHOWN), Some(Some(ms(3)))),
            NetHealth::Ok(ms(3))
        );
        assert_eq!(NetHealth::of(None, Some(None)), NetHealth::Down);
        // After a command: its last call's outcome.
        assert_eq!(
            NetHealth::of(Some((ms(1), ms(40), true)), None),
            NetHealth::Ok(ms(40))
        );
        assert_eq!(NetHealth::of(failed(ms(1)), None), NetHealth::Down);
        assert_eq!(NetHealth::of(None, None), NetHealth::Unknown);
    }
}
