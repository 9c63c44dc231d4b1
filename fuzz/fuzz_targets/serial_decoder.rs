//! `scanner::Decoder::push` with arbitrary chunking of arbitrary bytes: never panics, its
//! buffers stay bounded, and the events do not depend on how the stream was split into reads.
//!
//! Input layout: `[settings, n, split × n, stream…]`; split bytes pick cut points in the stream.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use paycode::scanner::decoder::MAX_FRAME;
use paycode::scanner::{DecodeSettings, Decoder, Source};

const PREFIXES: [&str; 4] = ["", "PAY:", "]", "13"];
const SUFFIXES: [&str; 4] = ["", "#!", "0", "END"];
const MAX_SPLITS: usize = 16;

fn settings(sel: u8) -> DecodeSettings {
    DecodeSettings {
        prefix: PREFIXES[usize::from(sel & 3)].into(),
        suffix: SUFFIXES[usize::from((sel >> 2) & 3)].into(),
        strip_aim: sel & 0x10 == 0,
        duplicate_window: if sel & 0x20 == 0 {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        },
        idle_end: (sel & 0x40 == 0).then_some(Duration::from_millis(300)),
    }
}

/// Upper bound on the Debug text of a decoder: two frames of at most MAX_FRAME bytes (≤ 5
/// characters each as a Debug list) plus fixed fields. Catches any buffer growing unbounded.
const DEBUG_BOUND: usize = 2 * MAX_FRAME * 5 + 1024;

fn feed(
    d: &mut Decoder,
    chunks: &[&[u8]],
    t0: Instant,
    step: Duration,
) -> Vec<paycode::scanner::ScanEvent> {
    let mut evs = Vec::new();
    let mut fed = 0usize;
    for (i, c) in chunks.iter().enumerate() {
        let now = t0 + step * u32::try_from(i).unwrap_or(u32::MAX);
        evs.extend(d.push(c, now));
        fed += c.len();
        assert!(d.pending_len() <= fed);
        let dbg = format!("{d:?}");
        assert!(
            dbg.len() <= DEBUG_BOUND,
            "decoder state grew to {} chars",
            dbg.len()
        );
        if let Some(&last) = c.last() {
            if matches!(last, b'\r' | b'\n' | b'\t' | 0x02 | 0x03) {
                assert_eq!(d.pending_len(), 0, "a terminator left bytes pending");
            }
        }
    }
    evs
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let n = usize::from(n).min(MAX_SPLITS).min(rest.len());
    let (splits, stream) = rest.split_at(n);
    let mut cuts: Vec<usize> = splits
        .iter()
        .map(|&b| usize::from(b) * stream.len() / 255)
        .collect();
    cuts.sort_unstable();
    let mut chunks: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    for c in cuts {
        chunks.push(&stream[at..c]); // empty chunks are allowed: a zero-byte read
        at = c;
    }
    chunks.push(&stream[at..]);

    let s = settings(sel);
    let t0 = Instant::now();
    let whole = feed(
        &mut Decoder::new(s.clone(), Source::Serial),
        &[stream],
        t0,
        Duration::ZERO,
    );
    for ev in &whole {
        assert_eq!(ev.source, Source::Serial);
        assert!(ev.started <= ev.at);
        match &ev.result {
            Ok(code) => assert_eq!(code.masked().len(), 18),
            Err(e) => {
                assert!(e.raw_len <= stream.len());
                let _ = (e.reason.to_string(), e.reason.zh());
            }
        }
    }

    // Same instant, any chunking: identical events, timestamps included.
    let chunked = feed(
        &mut Decoder::new(s.clone(), Source::Serial),
        &chunks,
        t0,
        Duration::ZERO,
    );
    assert_eq!(chunked, whole, "chunking changed the events");
    let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
    let one_by_one = feed(
        &mut Decoder::new(s.clone(), Source::Serial),
        &bytewise,
        t0,
        Duration::ZERO,
    );
    assert_eq!(one_by_one, whole, "byte-at-a-time reads changed the events");

    // Reads 1 ms apart: at most 16 ms in all, inside the 300 ms idle gap and the 2 s duplicate
    // window, so the scans (not their timestamps) are the same.
    let spaced = feed(
        &mut Decoder::new(s.clone(), Source::Serial),
        &chunks,
        t0,
        Duration::from_millis(1),
    );
    let results = |evs: &[paycode::scanner::ScanEvent]| {
        evs.iter().map(|e| e.result.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        results(&spaced),
        results(&whole),
        "read timing changed the scans"
    );

    // A whole frame (HID-POS / wedge path) equals the same bytes pushed with a terminator.
    let mut d = Decoder::new(s.clone(), Source::Wedge);
    let framed = d.frame(stream, t0, t0);
    assert_eq!(d.pending_len(), 0);
    let trimmed = stream
        .strip_suffix(b"\r\n")
        .or_else(|| stream.strip_suffix(b"\r"))
        .or_else(|| stream.strip_suffix(b"\n"))
        .or_else(|| stream.strip_suffix(b"\t"))
        .unwrap_or(stream);
    let mut pushed = trimmed.to_vec();
    pushed.push(b'\r');
    let mut expect = Decoder::new(s, Source::Wedge).push(&pushed, t0);
    assert_eq!(framed, expect.pop(), "frame() and push()+CR disagree");
});
