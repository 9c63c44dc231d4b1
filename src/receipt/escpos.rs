//! The ESC/POS bytes of a laid-out slip (Epson's command set, which Chinese thermal printers
//! follow): ESC @ init, FS & / FS . Chinese mode on or off, ESC a align, ESC E bold, GS ! size,
//! text in GB18030, GS k CODE128, GS ( k QR (model 2, level M), GS V partial cut with feed,
//! ESC p drawer pulse. Written here rather than taken from a crate: the slip model is ours, the
//! printer crates bring their own drivers (libusb, HID) and we need only these few commands.

use super::layout::{Format, Row, rows};
use super::slip::{Align, Slip};
use super::text::glyph;

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const LF: u8 = 0x0A;

/// The whole slip, ready to write to the printer.
pub fn encode(slip: &Slip, format: &Format) -> Vec<u8> {
    let mut out = vec![ESC, b'@'];
    match format.encoding {
        // Chinese mode: double-byte GB characters print as full-width glyphs.
        super::layout::Encoding::Gb18030 => out.extend([FS, b'&']),
        super::layout::Encoding::Ascii => out.extend([FS, b'.']),
    }
    for row in rows(slip, format) {
        match row {
            Row::Text {
                text,
                align,
                bold,
                big,
            } => {
                out.extend([ESC, b'a', align_byte(align)]);
                out.extend([ESC, b'E', u8::from(bold)]);
                out.extend([GS, b'!', if big { 0x11 } else { 0x00 }]);
                for c in text.chars() {
                    out.extend(glyph(c, format.encoding).0);
                }
                out.push(LF);
            }
            Row::Barcode(data) => barcode(&mut out, &data, format),
            Row::Qr(data) => qr(&mut out, &data),
            Row::Feed(n) => out.extend([ESC, b'd', n]),
        }
    }
    // Back to plain text for whatever prints next.
    out.extend([ESC, b'a', 0, ESC, b'E', 0, GS, b'!', 0]);
    if format.cut {
        // Function B: feed to the cutter (plus 3 lines of margin), then a partial cut.
        out.extend([GS, b'V', 66, 3]);
    } else {
        out.extend([ESC, b'd', 4]);
    }
    if format.drawer_kick && slip.opens_drawer {
        // Pin 2, 50 ms on (25 × 2 ms), 500 ms off.
        out.extend([ESC, b'p', 0, 25, 250]);
    }
    out
}

fn align_byte(a: Align) -> u8 {
    match a {
        Align::Left => 0,
        Align::Center => 1,
        Align::Right => 2,
    }
}

/// The CODE128 symbol data: code set B (`{B`), switching to code set C (`{C`) for a trailing
/// run of digits (pairs print in half the width: a 32-character order number fits 58 mm).
/// Only printable ASCII is kept; a `{` is written `{{` as the command requires.
pub fn code128_data(data: &str) -> Vec<u8> {
    let clean: Vec<u8> = data.bytes().filter(|b| (0x20..0x7F).contains(b)).collect();
    let digits = clean
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    // Code C pays for its switch only from 4 digits on; an odd run leaves one digit in B.
    let c_len = if digits >= 4 { digits - digits % 2 } else { 0 };
    let (b_part, c_part) = clean.split_at(clean.len() - c_len);
    let mut out = Vec::new();
    if !b_part.is_empty() {
        out.extend(b"{B");
        for &b in b_part {
            out.push(b);
            if b == b'{' {
                out.push(b'{');
            }
        }
    }
    if !c_part.is_empty() {
        out.extend(b"{C");
        for pair in c_part.chunks(2) {
            out.push((pair[0] - b'0') * 10 + (pair[1] - b'0'));
        }
    }
    out
}

/// Modules of a CODE128 symbol of `data` (start, symbols, check, stop, quiet zones of 10).
fn code128_modules(data: &[u8]) -> usize {
    // Each `{X` pair is one symbol (start or switch), `{{` one `{`, every other byte one symbol.
    let mut symbols = 0;
    let mut i = 0;
    while i < data.len() {
        i += if data[i] == b'{' { 2 } else { 1 };
        symbols += 1;
    }
    (symbols + 1) * 11 + 13 + 20
}

fn barcode(out: &mut Vec<u8>, data: &str, format: &Format) {
    let symbol = code128_data(data);
    if symbol.is_empty() {
        return;
    }
    // Two dots a module when it fits the paper, else one.
    let module = if code128_modules(&symbol) * 2 <= format.width.dots() {
        2
    } else {
        1
    };
    out.extend([ESC, b'a', 1]);
    out.extend([GS, b'H', 2]); // human-readable text below
    out.extend([GS, b'h', 80]); // 80 dots high (10 mm)
    out.extend([GS, b'w', module]);
    let n = u8::try_from(symbol.len()).unwrap_or(u8::MAX);
    out.extend([GS, b'k', 73, n]);
    out.extend(&symbol[..usize::from(n)]);
    out.push(LF);
}

fn qr(out: &mut Vec<u8>, data: &str) {
    let bytes: Vec<u8> = data
        .bytes()
        .filter(|b| (0x20..0x7F).contains(b))
        .take(512)
        .collect();
    out.extend([ESC, b'a', 1]);
    out.extend([GS, b'(', b'k', 4, 0, 49, 65, 50, 0]); // model 2
    out.extend([GS, b'(', b'k', 3, 0, 49, 67, 6]); // module size 6 dots
    out.extend([GS, b'(', b'k', 3, 0, 49, 69, 49]); // error correction level M
    let len = bytes.len() + 3;
    out.extend([
        GS,
        b'(',
        b'k',
        (len % 256) as u8,
        (len / 256) as u8,
        49,
        80,
        48,
    ]);
    out.extend(&bytes);
    out.extend([GS, b'(', b'k', 3, 0, 49, 81, 48]); // print the stored symbol
    out.push(LF);
}

/// DLE EOT n: the real-time status request (1 printer, 2 offline cause, 4 paper sensor).
pub fn status_request(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::layout::{Encoding, Width};
    use crate::receipt::slip::Item;

    #[test]
    fn code128_switches_to_set_c_for_the_stamp() {
        assert_eq!(code128_data("ab1234"), b"{Bab{C\x0c\x22".to_vec());
        // An odd run keeps one digit in set B.
        assert_eq!(code128_data("t-12345"), b"{Bt-1{C\x17\x2d".to_vec());
        assert_eq!(code128_data("123"), b"{B123".to_vec());
        assert_eq!(code128_data("a{b"), b"{Ba{{b".to_vec());
        // A whole 32-character order number fits 58 mm paper.
        let d = code128_data("till-1234567890a20260101120000123");
        assert!(code128_modules(&d) <= Width::Mm58.dots(), "{d:?}");
    }

    #[test]
    fn text_is_framed_by_its_commands_and_the_slip_ends_with_a_cut() {
        let mut s = Slip::default();
        s.push(Item::Text {
            text: "金额".into(),
            align: Align::Right,
            bold: true,
            big: false,
        });
        s.opens_drawer = true;
        let f = Format {
            drawer_kick: true,
            ..Format::default()
        };
        let b = encode(&s, &f);
        assert!(b.starts_with(&[ESC, b'@', FS, b'&']));
        let text = [
            ESC, b'a', 2, ESC, b'E', 1, GS, b'!', 0, 0xBD, 0xF0, 0xB6, 0xEE, LF,
        ];
        assert!(b.windows(text.len()).any(|w| w == text), "{b:02x?}");
        assert!(b.ends_with(&[GS, b'V', 66, 3, ESC, b'p', 0, 25, 250]));
        let plain = encode(
            &s,
            &Format {
                cut: false,
                encoding: Encoding::Ascii,
                ..Format::default()
            },
        );
        assert!(plain.ends_with(&[ESC, b'd', 4]), "no cut, no kick");
        assert!(plain.windows(3).any(|w| w == b"??\n"));
    }

    #[test]
    fn qr_store_length_counts_the_three_header_bytes() {
        let mut out = Vec::new();
        qr(&mut out, "abc");
        let store = [GS, b'(', b'k', 6, 0, 49, 80, 48, b'a', b'b', b'c'];
        assert!(out.windows(store.len()).any(|w| w == store), "{out:02x?}");
    }
}
