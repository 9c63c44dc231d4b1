//! The one pure decoder every scanner source feeds: bytes in (with `now`), scan events out.
//!
//! Frames end at CR, LF, CRLF (one frame, not two), Tab, ETX or a configured suffix, or after
//! an idle gap when the scanner sends no terminator. Control and non-ASCII bytes are line noise
//! and are dropped; STX starts a fresh frame. The buffer is bounded: an overlong frame is
//! reported as too long, never grown without limit.

use super::{ScanError, ScanEvent, Source};
use crate::authcode::{AuthCode, AuthCodeError};
use std::time::{Duration, Instant};

/// Longest frame kept; anything longer is reported as too long (a payment code has 18 digits).
pub const MAX_FRAME: usize = 128;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;

/// Framing settings shared by every source (from [`super::ScannerConfig::decode_settings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeSettings {
    /// Stripped from the start of a frame when present.
    pub prefix: String,
    /// An extra terminator (empty = none).
    pub suffix: String,
    /// Strip a leading AIM symbology identifier (`]C0`, `]Q1`).
    pub strip_aim: bool,
    /// Identical frames within this window (measured from the last sighting) are reported once.
    pub duplicate_window: Duration,
    /// Complete an unterminated frame after this much silence.
    pub idle_end: Option<Duration>,
}

impl Default for DecodeSettings {
    fn default() -> Self {
        super::ScannerConfig::default().decode_settings()
    }
}

/// Incremental frame decoder for one source.
#[derive(Debug)]
pub struct Decoder {
    settings: DecodeSettings,
    source: Source,
    buf: Vec<u8>,
    /// Printable bytes dropped because the frame exceeded [`MAX_FRAME`].
    overflow: usize,
    started: Option<Instant>,
    last_byte: Option<Instant>,
    after_cr: bool,
    /// The last completed frame and when it was last seen, for duplicate suppression.
    last_frame: Option<(Vec<u8>, Instant)>,
    junk: u64,
}

impl Decoder {
    /// A decoder for `source` with the given framing.
    pub fn new(settings: DecodeSettings, source: Source) -> Self {
        Self {
            settings,
            source,
            buf: Vec::with_capacity(32),
            overflow: 0,
            started: None,
            last_byte: None,
            after_cr: false,
            last_frame: None,
            junk: 0,
        }
    }

    /// Feed bytes received at `now`; returns every frame they complete, in order.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<ScanEvent> {
        let mut out = Vec::new();
        if let Some(ev) = self.poll(now) {
            out.push(ev);
        }
        for &b in bytes {
            self.byte(b, now, &mut out);
        }
        out
    }

    /// Treat `text` as one whole frame that started at `started` and ended at `now`
    /// (HID-POS reports, keyboard-wedge bursts). Any partial frame is discarded first.
    pub fn frame(&mut self, text: &[u8], started: Instant, now: Instant) -> Option<ScanEvent> {
        self.discard_partial();
        let mut out = Vec::new();
        let text = text
            .strip_suffix(b"\r\n")
            .or_else(|| text.strip_suffix(b"\r"))
            .or_else(|| text.strip_suffix(b"\n"))
            .or_else(|| text.strip_suffix(b"\t"))
            .unwrap_or(text);
        for &b in text {
            self.byte(b, started, &mut out);
        }
        self.end_frame(now, &mut out);
        self.after_cr = false;
        // A frame with embedded terminators yields several events; the last one is the scan.
        out.pop()
    }

    /// When an unterminated partial frame will be completed by [`Decoder::poll`].
    pub fn deadline(&self) -> Option<Instant> {
        let idle = self.settings.idle_end?;
        if self.buf.is_empty() && self.overflow == 0 {
            return None;
        }
        self.last_byte.map(|t| t + idle)
    }

    /// Complete a partial frame whose idle gap has passed.
    pub fn poll(&mut self, now: Instant) -> Option<ScanEvent> {
        if self.deadline().is_some_and(|d| now >= d) {
            let mut out = Vec::new();
            self.end_frame(now, &mut out);
            return out.pop();
        }
        None
    }

    /// Drop a partial frame (e.g. after a disconnect: a half-received code is useless).
    pub fn discard_partial(&mut self) {
        self.buf.clear();
        self.overflow = 0;
        self.started = None;
        self.after_cr = false;
    }

    /// Characters held in the partial frame.
    pub fn pending_len(&self) -> usize {
        self.buf.len() + self.overflow
    }

    /// Control / non-ASCII bytes dropped so far (for diagnostics; their values are not kept).
    pub fn junk_dropped(&self) -> u64 {
        self.junk
    }

    /// The source this decoder reports.
    pub fn source(&self) -> Source {
        self.source
    }

    fn byte(&mut self, b: u8, now: Instant, out: &mut Vec<ScanEvent>) {
        let after_cr = std::mem::replace(&mut self.after_cr, false);
        match b {
            b'\r' => {
                self.end_frame(now, out);
                self.after_cr = true;
            }
            b'\n' if after_cr => {}
            b'\n' | b'\t' | ETX => self.end_frame(now, out),
            STX => self.discard_partial(),
            0x20..=0x7e => {
                if self.started.is_none() {
                    self.started = Some(now);
                }
                self.last_byte = Some(now);
                if self.buf.len() < MAX_FRAME {
                    self.buf.push(b);
                } else {
                    self.overflow += 1;
                }
                let suffix = self.settings.suffix.as_bytes();
                if !suffix.is_empty() && self.overflow == 0 && self.buf.ends_with(suffix) {
                    self.buf.truncate(self.buf.len() - suffix.len());
                    self.end_frame(now, out);
                }
            }
            _ => self.junk += 1,
        }
    }

    fn end_frame(&mut self, now: Instant, out: &mut Vec<ScanEvent>) {
        let started = self.started.unwrap_or(now);
        let overflow = self.overflow;
        let text = self.strip(&self.buf).to_vec();
        self.discard_partial();
        if text.is_empty() && overflow == 0 {
            return; // empty frame: a second terminator, or junk only
        }
        let duplicate = match &mut self.last_frame {
            Some((last, seen)) if *last == text && overflow == 0 => {
                let dup = now.saturating_duration_since(*seen) < self.settings.duplicate_window;
                *seen = now;
                dup
            }
            _ => false,
        };
        if duplicate {
            return;
        }
        let raw_len = text.len() + overflow;
        let result = if overflow > 0 {
            Err(ScanError {
                reason: AuthCodeError::TooLong { len: raw_len },
                raw_len,
                order_no: None,
            })
        } else {
            // Only printable ASCII reaches the buffer, so this is valid UTF-8.
            let s = String::from_utf8_lossy(&text);
            AuthCode::parse(&s).map_err(|reason| ScanError {
                reason,
                raw_len,
                order_no: super::receipt::order_no(&s).map(str::to_string),
            })
        };
        self.last_frame = (overflow == 0).then_some((text, now));
        out.push(ScanEvent {
            result,
            source: self.source,
            started,
            at: now,
        });
    }

    fn strip<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let mut t = frame.trim_ascii();
        let prefix = self.settings.prefix.as_bytes();
        if !prefix.is_empty() {
            t = t.strip_prefix(prefix).unwrap_or(t);
        }
        match t {
            [b']', kind, _modifier, rest @ ..]
                if self.settings.strip_aim && kind.is_ascii_alphabetic() =>
            {
                rest
            }
            _ => t,
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests start the virtual clock anywhere
mod tests {
    use super::*;

    const CODE: &str = "134567890123456789";

    fn dec() -> Decoder {
        Decoder::new(DecodeSettings::default(), Source::Serial)
    }

    fn codes(evs: &[ScanEvent]) -> Vec<Result<String, AuthCodeError>> {
        evs.iter()
            .map(|e| match &e.result {
                Ok(c) => Ok(c.reveal().to_string()),
                Err(e) => Err(e.reason.clone()),
            })
            .collect()
    }

    #[test]
    fn every_terminator_ends_a_frame_once() {
        let t = Instant::now();
        for term in ["\r", "\n", "\r\n", "\t", "\x03", "\r\r", "\n\n", "\r\n\r\n"] {
            let mut d = dec();
            let evs = d.push(format!("{CODE}{term}").as_bytes(), t);
            assert_eq!(codes(&evs), vec![Ok(CODE.to_string())], "{term:?}");
            assert_eq!(d.pending_len(), 0);
        }
    }

    #[test]
    fn split_reads_and_back_to_back_frames() {
        let t = Instant::now();
        let other = "104567890123450000";
        let stream = format!("{CODE}\r\n{other}\r");
        // Every split point of the stream gives the same two scans.
        for cut in 0..stream.len() {
            let mut d = dec();
            let (a, b) = stream.as_bytes().split_at(cut);
            let mut evs = d.push(a, t);
            evs.extend(d.push(b, t + Duration::from_millis(5)));
            assert_eq!(
                codes(&evs),
                vec![Ok(CODE.to_string()), Ok(other.to_string())],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn junk_between_frames_is_dropped_and_counted() {
        let t = Instant::now();
        let mut d = dec();
        let evs = d.push(
            format!("\x00\u{ff}\x1b{CODE}\x07\r\x00\x02xx\x02{CODE}\n").as_bytes(),
            t,
        );
        // Second is a duplicate of the first within the window: reported once.
        assert_eq!(codes(&evs), vec![Ok(CODE.to_string())]);
        assert!(d.junk_dropped() >= 5);
    }

    #[test]
    fn invalid_scans_become_events_with_the_reason_and_length() {
        let t = Instant::now();
        let mut d = dec();
        let evs = d.push(b"281234567890123456\r6212345678901234567\rabc\r", t);
        assert_eq!(
            codes(&evs),
            vec![
                Err(AuthCodeError::Alipay {
                    len: 18,
                    prefix: "28".into()
                }),
                Err(AuthCodeError::UnionPay),
                Err(AuthCodeError::NotDigits { position: 1 }),
            ]
        );
        assert_eq!(evs[1].result.as_ref().unwrap_err().raw_len, 19);
    }

    #[test]
    fn prefix_suffix_and_aim_are_stripped() {
        let t = Instant::now();
        let settings = DecodeSettings {
            prefix: "PAY:".into(),
            suffix: "#!".into(),
            ..DecodeSettings::default()
        };
        let mut d = Decoder::new(settings, Source::Serial);
        let evs = d.push(format!("PAY:{CODE}#!]Q1104567890123450000#!").as_bytes(), t);
        assert_eq!(
            codes(&evs),
            vec![Ok(CODE.to_string()), Ok("104567890123450000".to_string())]
        );
        // AIM stripping can be turned off; then the identifier is "not digits".
        let mut d = Decoder::new(
            DecodeSettings {
                strip_aim: false,
                ..DecodeSettings::default()
            },
            Source::Serial,
        );
        let evs = d.push(format!("]C0{CODE}\r").as_bytes(), t);
        assert_eq!(
            codes(&evs),
            vec![Err(AuthCodeError::NotDigits { position: 1 })]
        );
    }

    #[test]
    fn buffer_is_bounded_and_overlong_frames_are_reported() {
        let t = Instant::now();
        let mut d = dec();
        let junk = vec![b'7'; 10_000];
        let mut evs = d.push(&junk, t);
        assert_eq!(d.pending_len(), 10_000);
        evs.extend(d.push(format!("\r{CODE}\r").as_bytes(), t));
        assert_eq!(
            codes(&evs),
            vec![
                Err(AuthCodeError::TooLong { len: 10_000 }),
                Ok(CODE.to_string())
            ]
        );
    }

    #[test]
    fn duplicates_within_the_window_are_reported_once() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut d = dec(); // window 2 s
        let line = format!("{CODE}\r");
        assert_eq!(d.push(line.as_bytes(), t).len(), 1);
        assert_eq!(d.push(line.as_bytes(), t + ms(1500)).len(), 0);
        // The window slides from the last sighting: a code held in front of the scanner is once.
        assert_eq!(d.push(line.as_bytes(), t + ms(3000)).len(), 0);
        assert_eq!(d.push(line.as_bytes(), t + ms(5001)).len(), 1);
        // A different code in between resets it.
        assert_eq!(d.push(b"104567890123450000\r", t + ms(5002)).len(), 1);
        assert_eq!(d.push(line.as_bytes(), t + ms(5003)).len(), 1);
    }

    #[test]
    fn idle_gap_completes_an_unterminated_frame() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut d = dec(); // idle_end 300 ms
        assert!(d.push(&CODE.as_bytes()[..10], t).is_empty());
        assert!(d.push(&CODE.as_bytes()[10..], t + ms(100)).is_empty());
        assert_eq!(d.deadline(), Some(t + ms(400)));
        assert_eq!(d.poll(t + ms(399)), None);
        let ev = d.poll(t + ms(400)).unwrap();
        assert_eq!(ev.result.unwrap().reveal(), CODE);
        assert_eq!((ev.started, ev.at), (t, t + ms(400)));
        assert_eq!(d.deadline(), None);
        // Bytes after a missed poll first complete the stale frame.
        d.push(b"1045678901", t + ms(1000));
        let evs = d.push(b"99\r", t + ms(5000));
        assert_eq!(
            codes(&evs),
            vec![
                Err(AuthCodeError::TooShort { len: 10 }),
                Err(AuthCodeError::TooShort { len: 2 })
            ]
        );
    }

    #[test]
    fn whole_frames_carry_their_start_time() {
        let t = Instant::now();
        let mut d = Decoder::new(DecodeSettings::default(), Source::Wedge);
        d.push(b"12", t); // a stale partial is discarded by frame()
        let ev = d
            .frame(
                format!("]Q1{CODE}\r").as_bytes(),
                t,
                t + Duration::from_millis(9),
            )
            .unwrap();
        assert_eq!(ev.result.unwrap().reveal(), CODE);
        assert_eq!(ev.source, Source::Wedge);
        assert_eq!(ev.at - ev.started, Duration::from_millis(9));
    }
}
