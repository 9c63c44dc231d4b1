//! The amount and payment-code fields of the sale screen.

use crate::authcode::{AuthCode, AuthCodeError};
use crate::money::{Fen, MoneyError};

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
