//! The slip as plain text, for `paycode receipt --preview` and the tests: the same rows the
//! printer gets, aligned in its columns, codes as labelled placeholder lines with their data.

use super::layout::{Format, Row, rows};
use super::slip::{Align, Slip};
use super::text::{printable, width};

/// The slip's lines as the paper shows them.
pub fn lines(slip: &Slip, format: &Format) -> Vec<String> {
    let cols = format.width.columns();
    let enc = format.encoding;
    let mut out = Vec::new();
    let place = |text: String, align: Align, w: usize| -> String {
        let room = cols.saturating_sub(w);
        match align {
            Align::Left => text,
            Align::Center => format!("{}{text}", " ".repeat(room / 2)),
            Align::Right => format!("{}{text}", " ".repeat(room)),
        }
    };
    for row in rows(slip, format) {
        match row {
            Row::Text {
                text, align, big, ..
            } => {
                let t = printable(&text, enc);
                let w = width(&t, enc);
                // Big text takes two columns a character on paper.
                out.push(place(t, align, if big { w * 2 } else { w }));
            }
            Row::Barcode(d) => {
                let label = format!("|||| CODE128 {d} ||||");
                let w = label.chars().count();
                out.push(place(label, Align::Center, w));
            }
            Row::Qr(d) => {
                let label = format!("[QR {d}]");
                let w = label.chars().count();
                out.push(place(label, Align::Center, w));
            }
            Row::Feed(n) => out.extend(std::iter::repeat_n(String::new(), usize::from(n))),
        }
    }
    if format.cut {
        out.push(format!("{:-^cols$}", " cut / 切纸 "));
    }
    out
}
