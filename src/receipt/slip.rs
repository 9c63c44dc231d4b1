//! The slip as a document: what is printed, in order, before any column layout.

use crate::words::Words;

/// Where a line of text sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One element of a slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A paragraph, wrapped to the paper width.
    Text {
        text: String,
        align: Align,
        bold: bool,
        /// Double width and height (half the columns).
        big: bool,
    },
    /// A label on the left and its value on the right (the value on a line of its own when
    /// both do not fit).
    Pair { label: String, value: String },
    /// A dashed line across the paper.
    Rule,
    /// A CODE128 barcode of printable ASCII (the order number), its text printed below.
    Barcode(String),
    /// A QR code (model 2, error level M).
    Qr(String),
    /// Blank lines.
    Feed(u8),
}

/// A whole slip. The cut and the drawer kick are the printer format's business (`Format`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Slip {
    pub items: Vec<Item>,
    /// Open the cash drawer after this slip (a paid sale's, when `[printer] drawer_kick`).
    pub opens_drawer: bool,
}

impl Slip {
    /// Append an item.
    pub fn push(&mut self, item: Item) -> &mut Slip {
        self.items.push(item);
        self
    }

    /// A plain slip of text lines under a title, for reports printed through the same path
    /// (the shift report): the title in both languages, then each line as given.
    pub fn report(title: &Words, lines: Vec<String>) -> Slip {
        let mut s = Slip::default();
        for t in [&title.zh, &title.en] {
            s.push(Item::Text {
                text: t.clone(),
                align: Align::Center,
                bold: true,
                big: false,
            });
        }
        s.push(Item::Rule);
        for l in lines {
            s.push(Item::Text {
                text: l,
                align: Align::Left,
                bold: false,
                big: false,
            });
        }
        s.push(Item::Rule);
        s.push(Item::Feed(1));
        s
    }
}
