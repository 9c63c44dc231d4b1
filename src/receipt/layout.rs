//! The printer's format (`[printer] width`, `encoding`, `language`, `cut`, `drawer_kick`) and
//! the slip laid out in its columns: every row fits the paper, CJK counted as two columns.

use super::slip::{Align, Item, Slip};
use super::text::{width, wrap};

/// Paper width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Width {
    /// 58 mm: 32 columns of the 12×24 font, 384 dots.
    #[default]
    Mm58,
    /// 80 mm: 48 columns, 576 dots.
    Mm80,
}

impl Width {
    /// Columns of the 12×24 font.
    pub fn columns(self) -> usize {
        match self {
            Self::Mm58 => 32,
            Self::Mm80 => 48,
        }
    }

    /// Printable dots across (for the barcode's module width).
    pub fn dots(self) -> usize {
        match self {
            Self::Mm58 => 384,
            Self::Mm80 => 576,
        }
    }

    /// Millimetres, as config.toml writes it.
    pub fn mm(self) -> u8 {
        match self {
            Self::Mm58 => 58,
            Self::Mm80 => 80,
        }
    }
}

/// How text goes to the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Chinese printers' native encoding (GB2312/GBK characters print; the rest as `?`).
    #[default]
    Gb18030,
    /// ASCII only: Chinese prints as `?`.
    Ascii,
}

impl Encoding {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gb18030 => "gb18030",
            Self::Ascii => "ascii",
        }
    }
}

/// Which languages a slip is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlipLanguage {
    Zh,
    En,
    /// Chinese first, then English.
    #[default]
    Both,
}

impl SlipLanguage {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
            Self::Both => "both",
        }
    }
}

/// Everything about the printer a slip's bytes depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub width: Width,
    pub encoding: Encoding,
    pub language: SlipLanguage,
    /// Partial cut after each slip.
    pub cut: bool,
    /// Pulse the drawer after a slip that opens it.
    pub drawer_kick: bool,
}

impl Default for Format {
    fn default() -> Self {
        Format {
            width: Width::Mm58,
            encoding: Encoding::Gb18030,
            language: SlipLanguage::Both,
            cut: true,
            drawer_kick: false,
        }
    }
}

/// One printed row: text that fits the paper, or a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Text {
        text: String,
        align: Align,
        bold: bool,
        big: bool,
    },
    Barcode(String),
    Qr(String),
    Feed(u8),
}

/// The slip in rows of `format`'s width.
pub fn rows(slip: &Slip, format: &Format) -> Vec<Row> {
    let cols = format.width.columns();
    let enc = format.encoding;
    let mut out = Vec::new();
    let text = |t: String, align, bold| Row::Text {
        text: t,
        align,
        bold,
        big: false,
    };
    for item in &slip.items {
        match item {
            Item::Text {
                text: t,
                align,
                bold,
                big,
            } => {
                let room = if *big { cols / 2 } else { cols };
                for line in wrap(t, room, enc) {
                    out.push(Row::Text {
                        text: line,
                        align: *align,
                        bold: *bold,
                        big: *big,
                    });
                }
            }
            Item::Pair { label, value } => {
                let (lw, vw) = (width(label, enc), width(value, enc));
                if lw + 1 + vw <= cols {
                    let pad = " ".repeat(cols - lw - vw);
                    out.push(text(format!("{label}{pad}{value}"), Align::Left, false));
                } else {
                    for l in wrap(label, cols, enc) {
                        out.push(text(l, Align::Left, false));
                    }
                    for v in wrap(value, cols, enc) {
                        out.push(text(v, Align::Right, false));
                    }
                }
            }
            Item::Rule => out.push(text("-".repeat(cols), Align::Left, false)),
            Item::Barcode(d) => out.push(Row::Barcode(d.clone())),
            Item::Qr(d) => out.push(Row::Qr(d.clone())),
            Item::Feed(n) => out.push(Row::Feed(*n)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_fills_the_line_or_takes_two() {
        let mut s = Slip::default();
        s.push(Item::Pair {
            label: "金额 Amount".into(),
            value: "￥12.34".into(),
        });
        s.push(Item::Pair {
            label: "微信支付单号 Transaction".into(),
            value: "4200000000202601011234567890".into(),
        });
        let f = Format::default();
        let r = rows(&s, &f);
        let Row::Text { text, .. } = &r[0] else {
            panic!("{r:?}")
        };
        assert_eq!(width(text, Encoding::Gb18030), 32, "{text}");
        assert!(text.starts_with("金额 Amount") && text.ends_with("￥12.34"));
        assert_eq!(r.len(), 3, "{r:?}");
        assert!(
            matches!(&r[2], Row::Text { align: Align::Right, text, .. } if text.starts_with("42"))
        );
    }

    #[test]
    fn big_text_wraps_at_half_the_columns() {
        let mut s = Slip::default();
        s.push(Item::Text {
            text: "结果未明 请勿交付商品".into(),
            align: Align::Center,
            bold: true,
            big: true,
        });
        let f = Format {
            width: Width::Mm80,
            ..Format::default()
        };
        for r in rows(&s, &f) {
            let Row::Text { text, .. } = r else { panic!() };
            assert!(width(&text, Encoding::Gb18030) <= 24, "{text}");
        }
    }
}
