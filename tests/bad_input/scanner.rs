//! Door 4: scanner bytes, through the pure decoder every source feeds (serial, HID, wedge) and
//! the keyboard wedge: nothing that is not one WeChat code is ever a scan, the reason names no
//! digits, and an overlong frame is always reported.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // a fixed instant to feed the pure decoder

use std::time::{Duration, Instant};

use paycode::scanner::decoder::MAX_FRAME;
use paycode::scanner::{DecodeSettings, Decoder, KeyDecision, ScanEvent, Source, Wedge, WedgeKey};
use paycode::words::Bilingual;

use crate::checks::clean;
use crate::tally::Door;

/// Every event a refusal with a clean, digit-free reason; `bytes` never held whole.
fn refused(events: &[ScanEvent], bytes: &[u8]) -> Result<(), String> {
    let digits: String = bytes
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| *b as char)
        .collect();
    for e in events {
        match &e.result {
            Ok(code) => return Err(format!("taken as the code {code}")),
            Err(why) => {
                let (en, zh) = (why.reason.to_string(), why.reason.zh());
                if en.is_empty() || zh.is_empty() {
                    return Err("a refusal without words".into());
                }
                clean("reason", &en, &[&digits])?;
                clean("reason (zh)", &zh, &[&digits])?;
            }
        }
    }
    Ok(())
}

#[allow(clippy::disallowed_methods)] // an origin for the pure decoder's clock, not a measurement
fn decode(bytes: &[u8]) -> Result<(), String> {
    let t0 = Instant::now();
    let mut d = Decoder::new(DecodeSettings::default(), Source::Serial);
    let mut events = d.push(bytes, t0);
    // The idle gap completes an unterminated frame.
    events.extend(d.poll(t0 + Duration::from_secs(5)));
    let printable = bytes.iter().filter(|b| b.is_ascii_graphic()).count();
    if printable > MAX_FRAME && events.is_empty() {
        return Err("an overlong frame was never reported".into());
    }
    refused(&events, bytes)
}

#[allow(clippy::disallowed_methods)] // an origin for the pure decoder's clock, not a measurement
fn wedge(text: &str) -> Result<(), String> {
    let t0 = Instant::now();
    let mut w = Wedge::new(Duration::from_millis(50), 8, DecodeSettings::default());
    let mut at = t0;
    let mut events = Vec::new();
    let keys = text
        .chars()
        .map(|c| match c {
            '\r' => WedgeKey::Enter,
            '\t' => WedgeKey::Tab,
            '\u{1b}' => WedgeKey::Other,
            c => WedgeKey::Char(c),
        })
        .chain([WedgeKey::Enter]);
    for k in keys {
        at += Duration::from_millis(2);
        if let KeyDecision::Scan(e) = w.key(k, at) {
            events.push(e);
        }
    }
    refused(&events, text.as_bytes())
}

pub fn run(d: &mut Door) {
    let digits = |n: usize| "1".repeat(n).into_bytes();
    let with_cr = |mut v: Vec<u8>| {
        v.push(b'\r');
        v
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("65 digits", with_cr(digits(65))),
        ("100 digits", with_cr(digits(100))),
        ("30 000 digits", with_cr(digits(30_000))),
        ("10 MB of digits, no terminator", digits(10 << 20)),
        ("letters", b"ABCDEFGHIJKLMNOPQR\r".to_vec()),
        ("letter at the end", b"13456789012345678X\r".to_vec()),
        ("letters after a code", b"134567890123456789abc\r".to_vec()),
        ("ten digits", b"1345678901\r".to_vec()),
        ("seventeen digits, idle", b"13456789012345678".to_vec()),
        ("nineteen digits", b"1345678901234567890\r".to_vec()),
        (
            "alipay behind an AIM id",
            b"]Q1283456789012345678\r".to_vec(),
        ),
        ("unionpay", b"6234567890123456789\r".to_vec()),
        ("goods barcode", b"6901234567892\r".to_vec()),
        ("prefix 19", b"193456789012345678\r".to_vec()),
        ("prefix 00", b"003456789012345678\r".to_vec()),
        ("empty frames", b"\r\r\n\r\t".to_vec()),
        (
            "escape sequence before a code",
            b"\x1b[2J134567890123456789\r".to_vec(),
        ),
        ("OSC title sequence", b"\x1b]0;pwned\x07\r".to_vec()),
        ("STX resets a half code", b"1345678\x02901234567\r".to_vec()),
        ("ETX after a short code", b"1345\x03".to_vec()),
        (
            "full-width digits",
            "１３４５６７８９０１２３４５６７８９\r".as_bytes().to_vec(),
        ),
        ("bytes 0x80-0xff", (0x80..=0xffu8).chain([b'\r']).collect()),
        (
            "only control bytes",
            (0x00..0x20u8)
                .filter(|b| ![0x02, 0x03].contains(b))
                .collect(),
        ),
        ("two short codes CRLF", b"12345\r\n67890\r\n".to_vec()),
        ("space inside", b"134567 890123456789\r".to_vec()),
        ("dashes", b"13-4567-8901-2345-678\r".to_vec()),
        ("plus and minus", b"+134567890123456789\r".to_vec()),
        (
            "a code and a half",
            b"134567890123456789134567890\r".to_vec(),
        ),
    ];
    for (name, bytes) in cases {
        d.check(format!("decoder: {name}"), || decode(&bytes));
    }
    let bursts: Vec<(&str, String)> = vec![
        ("65 digits", "1".repeat(65)),
        ("a 10 MB paste", "1".repeat(10 << 20)),
        ("seventeen digits", "13456789012345678".into()),
        ("nineteen digits", "1345678901234567890".into()),
        ("alipay", "283456789012345678".into()),
        ("letter inside", "1345678901234a56789".into()),
        ("escape key inside", "134567890\u{1b}123456789".into()),
        ("tab-ended short burst", "13456789\t".into()),
    ];
    for (name, text) in bursts {
        d.check(format!("wedge burst: {name}"), || wedge(&text));
    }
}
