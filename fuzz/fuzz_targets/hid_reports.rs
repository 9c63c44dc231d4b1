//! `scanner::hid_report::{BootKeyboard, HidPos}` fed arbitrary report sequences, then into the
//! shared decoder as the hidraw reader does: never panics, output stays bounded and well-formed.
//!
//! Input layout: `[mode, layout × 4, (len, report…)*]`; a length byte of 255 means "reset".
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use paycode::scanner::hid_report::{BootKeyboard, HidPos, PosLayout};
use paycode::scanner::{DecodeSettings, Decoder, Source};

/// Largest assembled HID-POS frame (`MAX_POS_FRAME` in hid_report.rs, private there).
const MAX_POS_FRAME: usize = 512;
/// Longest report fed (hidraw reads are 64/65 bytes; a little beyond to cover odd devices).
const MAX_REPORT: usize = 80;

/// The bytes a boot-keyboard report can type.
fn typable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'\r' | b'\t' | b' ' | b'-' | b']' | b'?')
}

fn reports(mut data: &[u8]) -> Vec<Option<&[u8]>> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        if len == 255 {
            out.push(None);
            data = rest;
            continue;
        }
        let len = usize::from(len) % (MAX_REPORT + 1);
        let (r, rest) = rest.split_at(len.min(rest.len()));
        out.push(Some(r));
        data = rest;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((lay, rest)) = rest.split_first_chunk::<4>() else {
        return;
    };
    let seq = reports(rest);
    let t0 = Instant::now();
    match mode % 4 {
        // Keyboard mode: unnumbered, numbered, and the reader's "9 bytes = numbered" rule.
        m @ (0 | 1 | 2) => {
            let mut kbd = BootKeyboard::new(m == 1);
            let mut dec = Decoder::new(DecodeSettings::default(), Source::HidKeyboard);
            for r in &seq {
                let Some(r) = r else {
                    kbd.reset();
                    dec.discard_partial();
                    continue;
                };
                let r = if m == 2 && r.len() == 9 { &r[1..] } else { r };
                let mut typed = Vec::new();
                kbd.report(r, &mut typed);
                assert!(typed.len() <= 6, "one report typed {} bytes", typed.len());
                assert!(
                    typed.iter().all(|&b| typable(b)),
                    "untypable byte in {typed:?}"
                );
                for ev in dec.push(&typed, t0) {
                    assert_eq!(ev.source, Source::HidKeyboard);
                }
                assert!(dec.pending_len() <= 6 * seq.len());
            }
        }
        // HID-POS: the standard layout, or a vendor layout with small offsets from the input.
        _ => {
            let layout = if lay[0] & 1 == 0 {
                PosLayout::STANDARD
            } else {
                PosLayout {
                    report_id: lay[0] >> 1,
                    len_at: usize::from(lay[1] % 72),
                    data_at: usize::from(lay[2] % 72),
                    continued_at: usize::from(lay[3] % 72),
                }
            };
            let mut pos = HidPos::new(layout);
            let mut dec = Decoder::new(DecodeSettings::default(), Source::HidPos);
            for r in &seq {
                let Some(r) = r else {
                    pos.reset();
                    continue;
                };
                if let Some(frame) = pos.report(r) {
                    assert!(
                        frame.len() <= MAX_POS_FRAME,
                        "frame of {} bytes",
                        frame.len()
                    );
                    assert!(!frame.last().is_some_and(|b| matches!(b, b'\r' | b'\n' | 0)));
                    if let Some(ev) = dec.frame(&frame, t0, t0) {
                        assert_eq!(ev.source, Source::HidPos);
                        if let Err(e) = &ev.result {
                            assert!(e.raw_len <= frame.len());
                        }
                    }
                    assert_eq!(dec.pending_len(), 0);
                }
            }
        }
    }
});
