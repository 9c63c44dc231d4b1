//! Keyboard wedge: tell a scanner's keystroke burst from a cashier typing, using only key
//! order and arrival times (pure; `now` is a parameter, the TUI feeds it crossterm keys).
//!
//! Digits are held back while they arrive faster than `gap` apart. A held burst that ends with
//! Enter/Tab within the gap and has at least `min_len` digits is a scan, wherever the focus is.
//! Anything else is released to the focused field unchanged: a slower key, a non-digit, or the
//! gap passing with no terminator ([`Wedge::deadline`] / [`Wedge::poll`], as in quinn).

use super::{DecodeSettings, Decoder, ScanEvent, Source};
use std::time::{Duration, Instant};

/// A key as the wedge needs it (independent of crossterm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WedgeKey {
    /// A printable character.
    Char(char),
    /// Enter / Return (a scanner's CR suffix).
    Enter,
    /// Tab (a scanner's Tab suffix).
    Tab,
    /// Backspace.
    Backspace,
    /// Any other key (arrows, function keys, Esc…): never part of a scan.
    Other,
}

/// What the TUI should do after a key or a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDecision {
    /// Keys are held back; call [`Wedge::poll`] at [`Wedge::deadline`].
    Pending,
    /// Deliver these keys, in order, to the focused field (manual entry).
    Typed(Vec<WedgeKey>),
    /// A scan: route it to payment wherever the focus is.
    Scan(ScanEvent),
    /// A repeat of the last scan within the duplicate window: nothing to do.
    Duplicate,
}

/// The most digits a burst keeps: a payment code is 18, a scanner's prefix and suffix a few.
const MAX_HELD: usize = 64;

/// Keyboard-wedge burst detector.
#[derive(Debug)]
pub struct Wedge {
    gap: Duration,
    min_len: usize,
    held: Vec<char>,
    /// Hold every printable character, not only digits: on the refund screen a receipt's
    /// order number (letters, `-`) arrives as a burst too.
    text: bool,
    first: Option<Instant>,
    last: Option<Instant>,
    decoder: Decoder,
}

impl Wedge {
    /// `gap`: the longest pause between a scanner's keys; `min_len`: digits a scan needs.
    pub fn new(gap: Duration, min_len: usize, settings: DecodeSettings) -> Self {
        // The wedge does its own timing; the decoder only validates and de-duplicates frames.
        let settings = DecodeSettings {
            idle_end: None,
            ..settings
        };
        Self {
            gap,
            min_len: min_len.max(1),
            held: Vec::with_capacity(32),
            text: false,
            first: None,
            last: None,
            decoder: Decoder::new(settings, Source::Wedge),
        }
    }

    /// From the `[scanner]` configuration.
    pub fn from_config(cfg: &super::ScannerConfig) -> Self {
        Self::new(cfg.wedge_gap.0, cfg.wedge_min_len, cfg.decode_settings())
    }

    /// Hold letters and `-`/`_` in bursts too (the refund screen's receipt scan), or digits only.
    pub fn hold_text(&mut self, on: bool) {
        self.text = on;
    }

    fn holds(&self, c: char) -> bool {
        c.is_ascii_digit() || (self.text && (c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    }

    /// When held keys must be released if nothing else arrives.
    pub fn deadline(&self) -> Option<Instant> {
        self.last
            .filter(|_| !self.held.is_empty())
            .map(|t| t + self.gap)
    }

    /// Once the gap has passed, release the held keys for the focused field (manual entry).
    pub fn poll(&mut self, now: Instant) -> Option<Vec<WedgeKey>> {
        match self.deadline() {
            Some(d) if now >= d => Some(self.release(None)),
            _ => None,
        }
    }

    /// Feed one key press received at `now`.
    pub fn key(&mut self, key: WedgeKey, now: Instant) -> KeyDecision {
        let in_burst = self
            .last
            .is_some_and(|t| !self.held.is_empty() && now.saturating_duration_since(t) < self.gap);
        if !self.held.is_empty() && !in_burst {
            // The held keys were typed by hand; a digit may start a new burst.
            let mut typed = self.release(None);
            match key {
                WedgeKey::Char(c) if self.holds(c) => self.hold(c, now),
                _ => typed.push(key),
            }
            return KeyDecision::Typed(typed);
        }
        match key {
            WedgeKey::Char(c) if self.holds(c) => {
                self.hold(c, now);
                KeyDecision::Pending
            }
            WedgeKey::Enter | WedgeKey::Tab if self.held.len() >= self.min_len => self.scan(now),
            _ => KeyDecision::Typed(self.release(Some(key))),
        }
    }

    fn hold(&mut self, c: char, now: Instant) {
        if self.held.is_empty() {
            self.first = Some(now);
        }
        // A paste of megabytes is no scan: past the cap the burst is only timed, not kept, and
        // ends as a code that is too long (issue 16: a 10 MB paste held 40 MB).
        if self.held.len() < MAX_HELD {
            self.held.push(c);
        }
        self.last = Some(now);
    }

    fn release(&mut self, then: Option<WedgeKey>) -> Vec<WedgeKey> {
        let mut keys: Vec<WedgeKey> = self.held.drain(..).map(WedgeKey::Char).collect();
        keys.extend(then);
        self.first = None;
        self.last = None;
        keys
    }

    fn scan(&mut self, now: Instant) -> KeyDecision {
        let started = self.first.unwrap_or(now);
        let text: String = self.held.drain(..).collect();
        self.first = None;
        self.last = None;
        match self.decoder.frame(text.as_bytes(), started, now) {
            Some(ev) => KeyDecision::Scan(ev),
            None => KeyDecision::Duplicate,
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests start the virtual clock anywhere
mod tests {
    use super::*;
    use crate::authcode::AuthCodeError;

    const CODE: &str = "134567890123456789";

    #[test]
    fn a_huge_paste_is_capped_and_ends_as_a_code_too_long() {
        let mut w = wedge();
        let t0 = Instant::now();
        for i in 0..100_000u64 {
            let d = w.key(WedgeKey::Char('1'), t0 + Duration::from_micros(i * 10));
            assert!(matches!(d, KeyDecision::Pending));
        }
        assert_eq!(w.held.len(), MAX_HELD);
        assert!(w.held.capacity() <= 4 * MAX_HELD, "{}", w.held.capacity());
        match w.key(WedgeKey::Enter, t0 + Duration::from_millis(1001)) {
            KeyDecision::Scan(ev) => assert!(ev.result.is_err(), "{ev:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_receipt_burst_is_one_scan_only_where_text_is_held() {
        let receipt = "till-120261203023518729";
        let burst = |w: &mut Wedge| {
            let t0 = Instant::now();
            let mut last = KeyDecision::Pending;
            for (i, c) in receipt.chars().enumerate() {
                last = w.key(WedgeKey::Char(c), t0 + Duration::from_millis(i as u64 * 5));
            }
            let end = t0 + Duration::from_millis(receipt.len() as u64 * 5);
            (last, w.key(WedgeKey::Enter, end))
        };
        let mut w = wedge();
        w.hold_text(true);
        match burst(&mut w).1 {
            KeyDecision::Scan(ev) => {
                let e = ev.result.unwrap_err();
                assert_eq!(e.order_no.as_deref(), Some(receipt));
            }
            other => panic!("{other:?}"),
        }
        // Elsewhere letters are typed keys as before: no scan carries the order number.
        let mut w = wedge();
        let (first, _) = burst(&mut w);
        assert!(!matches!(first, KeyDecision::Scan(_)));
    }

    fn wedge() -> Wedge {
        Wedge::new(Duration::from_millis(50), 8, DecodeSettings::default())
    }

    /// Feed `(key, ms since start)` and collect every non-pending decision, polling the deadline
    /// the way the runtime does before each key.
    fn run(w: &mut Wedge, t0: Instant, keys: &[(WedgeKey, u64)], end_ms: u64) -> Vec<KeyDecision> {
        let mut out = Vec::new();
        let mut push = |d: KeyDecision| {
            if d != KeyDecision::Pending {
                out.push(d);
            }
        };
        for &(k, ms) in keys {
            let now = t0 + Duration::from_millis(ms);
            if let Some(keys) = w.poll(now) {
                push(KeyDecision::Typed(keys));
            }
            push(w.key(k, now));
        }
        if let Some(keys) = w.poll(t0 + Duration::from_millis(end_ms)) {
            push(KeyDecision::Typed(keys));
        }
        out
    }

    fn burst(s: &str, start: u64, step: u64) -> Vec<(WedgeKey, u64)> {
        s.chars()
            .enumerate()
            .map(|(i, c)| (WedgeKey::Char(c), start + i as u64 * step))
            .collect()
    }

    fn chars(s: &str) -> Vec<WedgeKey> {
        s.chars().map(WedgeKey::Char).collect()
    }

    fn scanned(d: &KeyDecision) -> Result<String, AuthCodeError> {
        match d {
            KeyDecision::Scan(ev) => ev
                .result
                .as_ref()
                .map(|c| c.reveal().to_string())
                .map_err(|e| e.reason.clone()),
            other => panic!("not a scan: {other:?}"),
        }
    }

    #[test]
    fn fast_burst_with_enter_is_a_scan() {
        let t0 = Instant::now();
        for (step, term) in [
            (0, WedgeKey::Enter),
            (2, WedgeKey::Enter),
            (49, WedgeKey::Tab),
        ] {
            let mut w = wedge();
            let mut keys = burst(CODE, 0, step);
            keys.push((term, 17 * step + step.max(5)));
            let out = run(&mut w, t0, &keys, 10_000);
            assert_eq!(out.len(), 1, "step {step}: {out:?}");
            assert_eq!(scanned(&out[0]), Ok(CODE.to_string()));
            if let KeyDecision::Scan(ev) = &out[0] {
                assert_eq!(ev.source, Source::Wedge);
                assert_eq!(ev.started, t0);
            }
        }
    }

    #[test]
    fn slow_typing_is_manual_entry() {
        let t0 = Instant::now();
        let mut w = wedge();
        let mut keys = burst("1234", 0, 150);
        keys.push((WedgeKey::Enter, 700));
        let out = run(&mut w, t0, &keys, 10_000);
        let typed: Vec<WedgeKey> = out
            .iter()
            .flat_map(|d| match d {
                KeyDecision::Typed(k) => k.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        let mut want = chars("1234");
        want.push(WedgeKey::Enter);
        assert_eq!(typed, want);
        // Each digit is released one gap after it was typed, not held for the whole entry.
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn burst_without_terminator_is_typed_after_the_gap() {
        let t0 = Instant::now();
        let mut w = wedge();
        let keys = burst(CODE, 0, 1);
        for &(k, ms) in &keys {
            assert_eq!(
                w.key(k, t0 + Duration::from_millis(ms)),
                KeyDecision::Pending
            );
        }
        assert_eq!(w.deadline(), Some(t0 + Duration::from_millis(17 + 50)));
        assert_eq!(w.poll(t0 + Duration::from_millis(66)), None);
        assert_eq!(w.poll(t0 + Duration::from_millis(67)), Some(chars(CODE)));
        assert_eq!(w.deadline(), None);
        // A late Enter is then just an Enter for the focused field.
        assert_eq!(
            w.key(WedgeKey::Enter, t0 + Duration::from_millis(90)),
            KeyDecision::Typed(vec![WedgeKey::Enter])
        );
    }

    #[test]
    fn late_enter_after_fast_digits_releases_everything_as_typed() {
        let t0 = Instant::now();
        let mut w = wedge();
        let mut keys = burst(CODE, 0, 1);
        keys.push((WedgeKey::Enter, 200)); // no poll in between: the key itself detects the gap
        let mut out = Vec::new();
        for (k, ms) in keys {
            out.push(w.key(k, t0 + Duration::from_millis(ms)));
        }
        let mut want = chars(CODE);
        want.push(WedgeKey::Enter);
        assert_eq!(out.last(), Some(&KeyDecision::Typed(want)));
    }

    #[test]
    fn burst_mixed_into_amount_entry() {
        let t0 = Instant::now();
        let mut w = wedge();
        // Cashier types "12.5" slowly, a scan arrives, then types Backspace.
        let mut keys = vec![
            (WedgeKey::Char('1'), 0),
            (WedgeKey::Char('2'), 180),
            (WedgeKey::Char('.'), 400),
            (WedgeKey::Char('5'), 600),
        ];
        keys.extend(burst(CODE, 2000, 3));
        keys.push((WedgeKey::Enter, 2000 + 17 * 3 + 4));
        keys.push((WedgeKey::Backspace, 4000));
        let out = run(&mut w, t0, &keys, 10_000);
        let mut typed = Vec::new();
        let mut scans = Vec::new();
        for d in &out {
            match d {
                KeyDecision::Typed(k) => typed.extend(k.iter().copied()),
                KeyDecision::Scan(_) => scans.push(scanned(d)),
                other => panic!("{other:?}"),
            }
        }
        let mut want = chars("12.5");
        want.push(WedgeKey::Backspace);
        assert_eq!(typed, want);
        assert_eq!(scans, vec![Ok(CODE.to_string())]);
    }

    #[test]
    fn short_fast_bursts_and_non_digits_are_typed() {
        let t0 = Instant::now();
        // Fast "12" + Enter (below min_len 8) → typed, Enter included.
        let mut w = wedge();
        let mut keys = burst("12", 0, 1);
        keys.push((WedgeKey::Enter, 3));
        let out = run(&mut w, t0, &keys, 1000);
        let mut want = chars("12");
        want.push(WedgeKey::Enter);
        assert_eq!(out, vec![KeyDecision::Typed(want)]);
        // A letter inside a fast burst releases the burst with the letter.
        let mut w = wedge();
        let keys = [
            (WedgeKey::Char('1'), 0),
            (WedgeKey::Char('2'), 1),
            (WedgeKey::Char('a'), 2),
            (WedgeKey::Other, 3),
        ];
        let out = run(&mut w, t0, &keys, 1000);
        assert_eq!(
            out,
            vec![
                KeyDecision::Typed(vec![
                    WedgeKey::Char('1'),
                    WedgeKey::Char('2'),
                    WedgeKey::Char('a')
                ]),
                KeyDecision::Typed(vec![WedgeKey::Other])
            ]
        );
    }

    #[test]
    fn invalid_and_repeated_scans() {
        let t0 = Instant::now();
        let mut w = wedge();
        let alipay = "281234567890123456";
        let mut keys = burst(alipay, 0, 1);
        keys.push((WedgeKey::Enter, 18));
        keys.extend(burst(alipay, 500, 1));
        keys.push((WedgeKey::Enter, 518));
        let out = run(&mut w, t0, &keys, 10_000);
        assert_eq!(
            scanned(&out[0]),
            Err(AuthCodeError::Alipay {
                len: 18,
                prefix: "28".into()
            })
        );
        assert_eq!(out[1], KeyDecision::Duplicate);
        assert_eq!(out.len(), 2);
    }
}
