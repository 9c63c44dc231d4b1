//! What a POS sends its customer pole display, decoded byte by byte into a two-line screen, and
//! the total shown on it (docs/pole-display.md). Pure: time is a parameter, no IO.
//!
//! The screen model is the CD5220 / Epson ESC/POS customer display's: two lines, a cursor,
//! text written at the cursor. Both command sets are understood together (they barely
//! overlap); every sequence's parameters are consumed by count, so an unknown or broken one
//! costs at most its own bytes. A line is "shown" when the POS ends it (CR, LF, the end of an
//! `ESC Q A … CR` string), moves the cursor to a place, clears the screen, or goes quiet for
//! [`SETTLE`]; the lines written since the last time are then read for a total.

use super::total;
use crate::money::Fen;
use std::time::{Duration, Instant};

/// Which commands the POS sends (`[pos_display] command_set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommandSet {
    /// CD5220 and ESC/POS together on a 2×40 screen (a 20-column POS fits; longer lines wrap
    /// onto the second line and are read across it).
    #[default]
    Auto,
    /// CD5220 on its 2×20 screen.
    Cd5220,
    /// Epson ESC/POS customer display on its 2×20 screen.
    Escpos,
    /// Plain text lines ended by CR or LF, each read on its own (escape sequences skipped).
    Lines,
}

impl CommandSet {
    /// The config-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cd5220 => "cd5220",
            Self::Escpos => "escpos",
            Self::Lines => "lines",
        }
    }

    /// From the config-file spelling.
    pub fn parse(s: &str) -> Option<CommandSet> {
        [Self::Auto, Self::Cd5220, Self::Escpos, Self::Lines]
            .into_iter()
            .find(|c| c.as_str() == s)
    }

    /// Columns of one line: the display's, or the longest plain line kept.
    fn width(self) -> usize {
        match self {
            Self::Auto => 40,
            Self::Cd5220 | Self::Escpos => 20,
            Self::Lines => LINE_MAX,
        }
    }
}

/// The longest plain line kept; the rest of a longer one is dropped (a flood of garbage
/// without line ends costs this much and no more).
pub const LINE_MAX: usize = 256;
/// Quiet time after which written lines count as shown (ESC/POS `US $ x y` text has no end).
pub const SETTLE: Duration = Duration::from_millis(100);

/// The most parameter bytes of one `US ( …` command skipped.
const SKIP_MAX: u32 = 1024;

const ESC: u8 = 0x1b;
const US: u8 = 0x1f;

/// Where in a command the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    /// After ESC.
    Esc,
    /// After `ESC [` (CD5220 cursor moves).
    EscBracket,
    /// After `ESC Q`: A (upper line), B (lower line) or D (upper line scrolling).
    EscQ,
    /// Inside `ESC Q A/B/D … CR`: text for `row` until CR.
    Text {
        row: usize,
    },
    /// After US (ESC/POS display commands).
    Us,
    /// After `US (`: the function letter, then a two-byte length.
    UsParen,
    UsParenLen {
        low: Option<u8>,
    },
    /// Parameter bytes still to skip.
    Skip(u32),
    /// `ESC l x y` / `US $ x y`: the column, then the line (1-based).
    Place {
        x: Option<u8>,
    },
    /// `ESC & s n m` then (m − n + 1) glyphs of `a` bytes each, `a` first.
    Define(Define),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Define {
    /// Header bytes read so far (s, n, m).
    got: u8,
    first: u8,
    glyphs_left: u16,
    /// Pattern bytes left of the current glyph; `None`: its `a` comes next.
    bytes_left: Option<u8>,
}

/// The pole display as the POS drives it.
#[derive(Debug, Clone)]
pub struct Decoder {
    set: CommandSet,
    ceiling: Fen,
    width: usize,
    rows: [Vec<u8>; 2],
    /// Lines written since they were last read.
    dirty: [bool; 2],
    row: usize,
    col: usize,
    state: State,
    /// When the last byte arrived while lines were unread.
    since: Option<Instant>,
}

impl Decoder {
    /// A blank screen; totals above `ceiling` (`[checkout] max_amount`) are not totals.
    pub fn new(set: CommandSet, ceiling: Fen) -> Decoder {
        let width = set.width();
        Decoder {
            set,
            ceiling,
            width,
            rows: [vec![b' '; width], vec![b' '; width]],
            dirty: [false; 2],
            row: 0,
            col: 0,
            state: State::Ground,
            since: None,
        }
    }

    /// Feed bytes that arrived at `now`; the last total shown while reading them, if any.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Option<Fen> {
        let mut shown = None;
        for &b in bytes {
            if let Some(t) = self.byte(b) {
                shown = Some(t);
            }
        }
        self.since = self.unread().then_some(now);
        shown
    }

    /// Time passed: lines left unended for [`SETTLE`] count as shown.
    pub fn poll(&mut self, now: Instant) -> Option<Fen> {
        let due = self.deadline().is_some_and(|d| now >= d);
        if due { self.settle() } else { None }
    }

    /// When [`Decoder::poll`] has something to read (`None`: nothing unread).
    pub fn deadline(&self) -> Option<Instant> {
        self.since.filter(|_| self.unread()).map(|t| t + SETTLE)
    }

    /// The screen's lines as text (trailing blanks trimmed): what the customer would see.
    pub fn lines(&self) -> [String; 2] {
        self.rows
            .clone()
            .map(|r| String::from_utf8_lossy(&r).trim_end().to_string())
    }

    fn unread(&self) -> bool {
        self.dirty.iter().any(|d| *d)
    }

    fn byte(&mut self, b: u8) -> Option<Fen> {
        match self.state {
            State::Ground => self.ground(b),
            State::Esc => self.esc(b),
            State::EscBracket => {
                self.state = State::Ground;
                self.bracket(b)
            }
            State::EscQ => {
                self.state = match b {
                    b'A' | b'D' => State::Text { row: 0 },
                    b'B' => State::Text { row: 1 },
                    // Not a string command after all: its byte is dropped.
                    _ => State::Ground,
                };
                if let State::Text { row } = self.state {
                    self.clear_row(row);
                    self.row = row;
                    self.col = 0;
                }
                None
            }
            State::Text { row } => match b {
                b'\r' => {
                    self.state = State::Ground;
                    self.settle()
                }
                // The manual allows only CLR and CAN inside a string; ESC ends it too, so a
                // string left open by garbage cannot swallow the next ESC @.
                0x0c | 0x18 | ESC => {
                    self.state = State::Ground;
                    let shown = self.settle();
                    self.ground(b).or(shown)
                }
                c if c >= 0x20 => {
                    self.row = row;
                    self.put_clipped(c);
                    None
                }
                _ => None,
            },
            State::Us => self.us(b),
            State::UsParen => {
                self.state = State::UsParenLen { low: None };
                None
            }
            State::UsParenLen { low: None } => {
                self.state = State::UsParenLen { low: Some(b) };
                None
            }
            State::UsParenLen { low: Some(lo) } => {
                // Bounded: a garbage length must not swallow the next transaction.
                let n = (u32::from(lo) + 256 * u32::from(b)).min(SKIP_MAX);
                self.state = if n == 0 {
                    State::Ground
                } else {
                    State::Skip(n)
                };
                None
            }
            State::Skip(n) => {
                self.state = if n <= 1 {
                    State::Ground
                } else {
                    State::Skip(n - 1)
                };
                None
            }
            State::Place { x: None } => {
                self.state = State::Place { x: Some(b) };
                None
            }
            State::Place { x: Some(x) } => {
                self.state = State::Ground;
                let shown = self.settle();
                self.row = usize::from(b.clamp(1, 2)) - 1;
                self.col = (usize::from(x.max(1)) - 1).min(self.width - 1);
                shown
            }
            State::Define(d) => {
                self.define(d, b);
                None
            }
        }
    }

    fn ground(&mut self, b: u8) -> Option<Fen> {
        match b {
            ESC => self.state = State::Esc,
            US => self.state = State::Us,
            0x08 => self.col = self.col.saturating_sub(1),
            0x09 => self.col = (self.col + 1).min(self.width - 1),
            b'\r' | b'\n' if self.set == CommandSet::Lines => {
                let shown = self.settle();
                self.clear_row(0);
                self.col = 0;
                return shown;
            }
            b'\r' => {
                let shown = self.settle();
                self.col = 0;
                return shown;
            }
            b'\n' => {
                let shown = self.settle();
                self.down();
                return shown;
            }
            // HOM
            0x0b => return self.place(0, 0),
            // CLR: what was on the screen was shown; then it is blank.
            0x0c => {
                let shown = self.settle();
                self.clear_row(0);
                self.clear_row(1);
                self.row = 0;
                self.col = 0;
                return shown;
            }
            // CAN: the cursor's line.
            0x18 => {
                let shown = self.settle();
                self.clear_row(self.row);
                self.col = 0;
                return shown;
            }
            0x7f => {}
            c if c >= 0x20 => self.put(c),
            _ => {}
        }
        None
    }

    fn esc(&mut self, b: u8) -> Option<Fen> {
        self.state = match b {
            b'@' => {
                let shown = self.settle();
                *self = Decoder::new(self.set, self.ceiling);
                return shown;
            }
            b'Q' => State::EscQ,
            b'[' => State::EscBracket,
            b'l' => State::Place { x: None },
            b'W' => State::Skip(4),
            b'&' => State::Define(Define {
                got: 0,
                first: 0,
                glyphs_left: 0,
                bytes_left: None,
            }),
            // One parameter byte: brightness, glyph set, cursor, fonts, peripheral, code table,
            // international set, EEPROM store/load, command type.
            b'*' | b'?' | b'%' | b'_' | b'f' | b'c' | b'=' | b's' | b'd' | b't' | b'R' | b'#' => {
                State::Skip(1)
            }
            // Modes (DC1–DC3) and anything unknown: the command byte alone.
            _ => State::Ground,
        };
        None
    }

    fn bracket(&mut self, b: u8) -> Option<Fen> {
        match b {
            b'A' => self.row = 0,
            // Down without scrolling (LF scrolls).
            b'B' => self.row = 1,
            b'C' => self.col = (self.col + 1).min(self.width - 1),
            b'D' => self.col = self.col.saturating_sub(1),
            b'H' => return self.place(0, 0),
            b'L' => return self.place(self.row, 0),
            b'R' => return self.place(self.row, self.width - 1),
            b'K' => return self.place(1, self.col),
            _ => {}
        }
        None
    }

    fn us(&mut self, b: u8) -> Option<Fen> {
        self.state = State::Ground;
        match b {
            b'\n' => self.row = 0,
            b'\r' => return self.place(self.row, self.width - 1),
            b'B' => return self.place(1, self.col),
            b'$' => self.state = State::Place { x: None },
            b'(' => self.state = State::UsParen,
            b'#' => self.state = State::Skip(2),
            // One parameter byte: cursor, brightness, blink, reverse, period/comma/semicolon
            // glyphs, timer and the like.
            b'C' | b'X' | b'E' | b'r' | b'.' | b',' | b';' | b'v' | b'T' => {
                self.state = State::Skip(1)
            }
            // Modes (MD1–MD3), self test, and anything unknown: the command byte alone.
            _ => {}
        }
        None
    }

    fn define(&mut self, mut d: Define, b: u8) {
        self.state = State::Ground;
        match d.got {
            0 => d.got = 1,
            1 => {
                d.first = b;
                d.got = 2;
            }
            2 => {
                if b < d.first {
                    return;
                }
                d.glyphs_left = u16::from(b - d.first) + 1;
                d.got = 3;
            }
            _ => match d.bytes_left {
                None if b == 0 => {
                    d.glyphs_left -= 1;
                    if d.glyphs_left == 0 {
                        return;
                    }
                }
                // At most 5 pattern bytes a glyph (5×7 dots); more is not this command.
                None if b > 5 => return,
                None => d.bytes_left = Some(b),
                Some(n) => {
                    if n <= 1 {
                        d.bytes_left = None;
                        d.glyphs_left -= 1;
                        if d.glyphs_left == 0 {
                            return;
                        }
                    } else {
                        d.bytes_left = Some(n - 1);
                    }
                }
            },
        }
        self.state = State::Define(d);
    }

    /// Move the cursor to a place: what was written before was shown.
    fn place(&mut self, row: usize, col: usize) -> Option<Fen> {
        let shown = self.settle();
        self.row = row.min(1);
        self.col = col.min(self.width - 1);
        shown
    }

    /// Write at the cursor; past the line's end the cursor wraps to the next line.
    fn put(&mut self, c: u8) {
        if self.col >= self.width {
            if self.set == CommandSet::Lines {
                return;
            }
            self.col = 0;
            self.down();
        }
        self.put_clipped(c);
    }

    /// Write at the cursor; past the line's end the byte is dropped.
    fn put_clipped(&mut self, c: u8) {
        if let Some(cell) = self.rows[self.row].get_mut(self.col) {
            *cell = c;
            self.col += 1;
            self.dirty[self.row] = true;
        }
    }

    /// LF: the next line; on the lower line the screen scrolls up.
    fn down(&mut self) {
        if self.row == 0 {
            self.row = 1;
        } else {
            self.rows.swap(0, 1);
            self.dirty.swap(0, 1);
            self.clear_row(1);
        }
    }

    fn clear_row(&mut self, row: usize) {
        self.rows[row].fill(b' ');
        self.dirty[row] = false;
    }

    /// Read the lines written since the last time for a total (across both when both were
    /// written: a long line wraps onto the second).
    fn settle(&mut self) -> Option<Fen> {
        if !self.unread() {
            return None;
        }
        let mut text = Vec::with_capacity(2 * self.width);
        for (row, dirty) in self.rows.iter().zip(self.dirty) {
            if dirty {
                text.extend_from_slice(row);
            }
        }
        self.dirty = [false; 2];
        self.since = None;
        total::find(&text, self.ceiling)
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
