//! The amount and payment-code fields of the sale screen, and the amount the POS's pole
//! display showed (docs/pole-display.md): it fills an idle amount field, marked as the POS's;
//! Enter or a scan confirms it, typing replaces it, and one that arrives while a sale runs
//! waits for the next sale.

use super::{App, Level, Notice, NoticeText, Stage};
use crate::authcode::{AuthCode, AuthCodeError};
use crate::money::{Fen, MoneyError};
use crate::pole::{PoleMsg, PortEvent};
use crate::words::Bilingual;

/// Longest amount text accepted ("99999999.99").
const AMOUNT_MAX_CHARS: usize = 11;
/// Longest code text accepted (longer than any wallet's code, so the refusal can name it).
const CODE_MAX_CHARS: usize = 24;

/// Which field takes typed digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    Amount,
    Code,
}

/// The two fields of the sale screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The amount as typed, in yuan.
    pub amount: String,
    /// A manually typed code (scans never land here).
    pub code: String,
    /// Where typing goes.
    pub focus: Field,
    /// `amount` is the total the POS showed, not typed: the next digit replaces it.
    pub from_pos: bool,
}

/// The pole-display port and a total kept for the next sale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pole {
    /// The port's latest state (`None`: no `[pos_display]`, or not reported yet).
    pub status: Option<PortEvent>,
    /// A total that arrived while the amount field was busy (a sale running, its result
    /// shown, or an amount typed): shown when the next sale starts from an empty field.
    pub held: Option<Fen>,
}

impl Entry {
    /// The amount if it is valid under `ceiling`.
    pub fn amount(&self, ceiling: Fen) -> Result<Fen, MoneyError> {
        Fen::parse(&self.amount, ceiling)
    }

    /// The typed code, validated.
    pub fn code(&self) -> Result<AuthCode, AuthCodeError> {
        AuthCode::parse(&self.code)
    }

    /// Type one character into the focused field; false if the field does not take it.
    pub fn push(&mut self, c: char) -> bool {
        match self.focus {
            Field::Amount => {
                if self.from_pos && (c.is_ascii_digit() || c == '.') {
                    self.amount.clear();
                    self.from_pos = false;
                }
                let ok = (c.is_ascii_digit() || (c == '.' && !self.amount.contains('.')))
                    && self.amount.chars().count() < AMOUNT_MAX_CHARS;
                if ok {
                    self.amount.push(c);
                }
                ok
            }
            Field::Code => {
                let ok = c.is_ascii_digit() && self.code.len() < CODE_MAX_CHARS;
                if ok {
                    self.code.push(c);
                }
                ok
            }
        }
    }

    /// Delete the last character; an empty code field hands focus back to the amount.
    pub fn backspace(&mut self) {
        match self.focus {
            // The POS's amount goes whole: half of it would be neither the POS's nor typed.
            Field::Amount if self.from_pos => {
                self.amount.clear();
                self.from_pos = false;
            }
            Field::Amount => {
                self.amount.pop();
            }
            Field::Code if self.code.is_empty() => self.focus = Field::Amount,
            Field::Code => {
                self.code.pop();
            }
        }
    }

    /// Switch between the fields.
    pub fn toggle(&mut self) {
        self.focus = match self.focus {
            Field::Amount => Field::Code,
            Field::Code => Field::Amount,
        };
    }

    /// Empty both fields, focus on the amount.
    pub fn clear(&mut self) {
        *self = Entry::default();
    }
}

impl App {
    /// The pole-display reader reported a total or the port's state.
    pub(super) fn pole(&mut self, m: PoleMsg) {
        match m {
            PoleMsg::Total(total) if self.pole_fills_entry() => self.show_pole(total),
            PoleMsg::Total(total) => self.pole.held = Some(total),
            PoleMsg::Status(ev) => {
                let level = if ev.is_open() {
                    Level::Info
                } else {
                    Level::Warn
                };
                self.notice = Some(Notice {
                    text: NoticeText::Words(ev.words()),
                    level,
                });
                self.pole.status = Some(ev);
            }
        }
    }

    /// The amount field is idle: no sale running or shown, nothing typed (an earlier POS
    /// total may be replaced), no code being typed.
    fn pole_fills_entry(&self) -> bool {
        self.stage == Stage::Entry
            && self.entry.code.is_empty()
            && (self.entry.amount.is_empty() || self.entry.from_pos)
    }

    fn show_pole(&mut self, total: Fen) {
        self.entry.amount = total.to_string();
        self.entry.from_pos = true;
        self.pole.held = None;
    }

    /// A new sale starts from an empty field: a total kept meanwhile fills it.
    pub(super) fn pole_next_sale(&mut self) {
        if let Some(total) = self.pole.held.take() {
            self.show_pole(total);
        }
    }
}
