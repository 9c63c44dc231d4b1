//! The sale: entry → waiting (countdown, cancel with confirm) → result.

use super::{App, Cmd, Field, Key, Notice, NoticeText, Screen, TillCmd};
use crate::authcode::AuthCode;
use crate::checkout::flow::Final;
use crate::checkout::progress::{Outcome, Progress};
use crate::money::{Fen, MoneyError};
use crate::scanner::ScanEvent;
use crate::tui::i18n::T;
use std::time::{Duration, Instant};

/// Where the sale screen is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Typing the amount / code.
    Entry,
    /// A sale is running.
    Waiting(Waiting),
    /// The last sale's result, until the cashier moves on.
    Result(Outcome),
}

/// What the waiting screen says is happening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitPhase {
    Submitting,
    Password,
    Querying,
    Reversing {
        attempt: u32,
    },
    /// Not reversed: the order is not proven this till's; WeChat is asked until it settles it.
    Confirming,
}

/// The running sale as the waiting screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub amount: Fen,
    /// Masked payment code.
    pub code: String,
    pub out_trade_no: Option<String>,
    pub phase: WaitPhase,
    /// When the waiting ends if nothing changes (drives the countdown gauge).
    pub deadline: Option<Instant>,
    /// The end of the waiting is a reverse (the order is proven this sale's); else WeChat is
    /// asked on (the micropay's answer was lost).
    pub reverses: bool,
    pub queries: u32,
    /// Esc was pressed: asking "cancel this sale?".
    pub confirm_cancel: bool,
    /// Cancel confirmed; waiting for the reverse to finish.
    pub cancelling: bool,
}

impl Waiting {
    /// Time left until the reverse at `now`.
    pub fn remaining(&self, now: Instant) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(now))
    }
}

impl App {
    /// A key on the sale screen.
    pub(super) fn sale_key(&mut self, k: Key, out: &mut Vec<Cmd>) {
        match &mut self.stage {
            Stage::Waiting(w) => match (k, w.confirm_cancel) {
                (Key::Esc, false) if !w.cancelling => w.confirm_cancel = true,
                (Key::Esc | Key::Backspace, true) => w.confirm_cancel = false,
                (Key::Enter, true) => {
                    w.confirm_cancel = false;
                    w.cancelling = true;
                    out.push(Cmd::CancelSale);
                }
                _ => {}
            },
            Stage::Result(r) => {
                let rescan = matches!(r.result, Final::Failed { rescan: true, .. });
                match k {
                    Key::Enter | Key::Esc => self.next_sale(rescan),
                    Key::Char(c) if c.is_ascii_digit() || c == '.' => {
                        self.next_sale(false);
                        self.entry_key(k, out);
                    }
                    _ => {}
                }
            }
            Stage::Entry => self.entry_key(k, out),
        }
    }

    /// Leave the result screen; a rescan keeps the amount and waits for the new code.
    fn next_sale(&mut self, keep_amount: bool) {
        self.stage = Stage::Entry;
        self.notice = None;
        self.pos.shown = None;
        if keep_amount {
            self.entry.code.clear();
            self.entry.focus = Field::Code;
        } else {
            self.entry.clear();
            self.pole_next_sale();
        }
    }

    fn entry_key(&mut self, k: Key, out: &mut Vec<Cmd>) {
        // A POS order fixes the amount: only the code is typed, Esc turns the order down.
        if self.pos.waiting.is_some() {
            match k {
                Key::Esc => return self.pos_decline(out),
                Key::Char(c) if c.is_ascii_digit() || c == '.' => {
                    if self.entry.focus == Field::Amount {
                        self.entry.focus = Field::Code;
                    }
                    if c == '.' {
                        self.notice = Some(Notice::warn(NoticeText::T(T::PosAmountFixed)));
                        return;
                    }
                }
                Key::Tab | Key::Down | Key::Up => {
                    self.notice = Some(Notice::warn(NoticeText::T(T::PosAmountFixed)));
                    return;
                }
                _ => {}
            }
        }
        match k {
            Key::Char(c) if self.entry.push(c) => self.notice = None,
            Key::Backspace => self.entry.backspace(),
            Key::Tab | Key::Down | Key::Up => self.entry.toggle(),
            Key::Esc => {
                if self.entry != super::Entry::default() {
                    self.notice = Some(Notice::info(NoticeText::T(T::Cleared)));
                }
                self.entry.clear();
            }
            Key::Enter => match self.entry.focus {
                Field::Amount => match self.entry.amount(self.settings.max_amount) {
                    Ok(_) => {
                        self.entry.focus = Field::Code;
                        self.notice = None;
                    }
                    Err(e) => self.notice = Some(Notice::error(NoticeText::Money(e))),
                },
                Field::Code => {
                    let amount = match self.entry.amount(self.settings.max_amount) {
                        Ok(a) => a,
                        Err(e) => {
                            self.entry.focus = Field::Amount;
                            self.notice = Some(Notice::error(NoticeText::Money(e)));
                            return;
                        }
                    };
                    let pos_ref = self.pos.waiting.as_ref().map(|w| w.pos_ref.clone());
                    match self.entry.code() {
                        Ok(code) => self.start(amount, code, pos_ref, out),
                        Err(e) => self.notice = Some(Notice::error(NoticeText::Code(e))),
                    }
                }
            },
            _ => {}
        }
    }

    /// A scan from any source, whatever the focus.
    pub(super) fn scan(&mut self, ev: ScanEvent, out: &mut Vec<Cmd>) {
        if let Some(r) = &self.recovery {
            let why = if r.done {
                T::ReportFirst
            } else {
                T::RecoveryRunning
            };
            self.notice = Some(Notice::warn(NoticeText::T(why)));
            return;
        }
        // A receipt's barcode picks its sale on the refund screen, and only there.
        let receipt = ev.result.as_ref().err().and_then(|e| e.order_no.clone());
        if let Some(no) = receipt.filter(|_| !self.busy()) {
            if self.receipt_scan_wanted() {
                self.refund.scanned(&no, &self.settings, self.now);
            } else {
                self.notice = Some(Notice::warn(NoticeText::Tf(T::ReceiptElsewhere, vec![no])));
            }
            return;
        }
        let amount = match &self.stage {
            Stage::Waiting(_) => {
                self.notice = Some(Notice::warn(NoticeText::T(T::BusyNoNewSale)));
                return;
            }
            Stage::Result(_) if self.pos.shown.is_some() => {
                // The POS was told this order failed: it asks again, under its ref.
                self.notice = Some(Notice::warn(NoticeText::T(T::PosAskAgain)));
                return;
            }
            Stage::Result(r) if matches!(r.result, Final::Failed { rescan: true, .. }) => {
                Ok(r.total_fee)
            }
            Stage::Result(_) => Err(MoneyError::Empty),
            Stage::Entry => match &self.pos.waiting {
                Some(w) => Ok(w.amount),
                None => self.entry.amount(self.settings.max_amount),
            },
        };
        let code = match ev.result {
            Ok(code) => code,
            Err(e) => {
                self.notice = Some(Notice::error(NoticeText::Code(e.reason)));
                return;
            }
        };
        match amount {
            Ok(amount) => {
                self.screen = Screen::Sale;
                let pos_ref = self.pos.waiting.as_ref().map(|w| w.pos_ref.clone());
                self.start(amount, code, pos_ref, out);
            }
            Err(MoneyError::Empty) => {
                self.notice = Some(Notice::warn(NoticeText::T(T::ScanNeedsAmount)));
            }
            Err(e) => self.notice = Some(Notice::error(NoticeText::Money(e))),
        }
    }

    pub(super) fn start(
        &mut self,
        amount: Fen,
        code: AuthCode,
        pos_ref: Option<String>,
        out: &mut Vec<Cmd>,
    ) {
        if let Some(e) = &self.journal_error {
            self.notice = Some(Notice::error(NoticeText::Failed(T::JournalDown, e.clone())));
            if let Some(pos_ref) = pos_ref {
                self.pos.waiting = None;
                out.push(Cmd::PosRefuse {
                    pos_ref,
                    why: e.clone(),
                });
            }
            return;
        }
        self.pos.waiting = None;
        self.pos.shown = pos_ref.clone();
        self.entry.amount = amount.to_string();
        self.entry.from_pos = false;
        // A total shown before this sale is this sale's (or was overridden): never the next's.
        self.pole.held = None;
        self.entry.code.clear();
        self.entry.focus = Field::Code;
        self.notice = None;
        self.help = false;
        self.stage = Stage::Waiting(Waiting {
            amount,
            code: code.masked(),
            out_trade_no: None,
            phase: WaitPhase::Submitting,
            deadline: None,
            reverses: true,
            queries: 0,
            confirm_cancel: false,
            cancelling: false,
        });
        out.push(Cmd::Till(TillCmd::StartSale {
            amount,
            code,
            pos_ref,
        }));
    }

    /// The runner reported progress of the running sale.
    pub(super) fn progress(&mut self, p: Progress, now: Instant, out: &mut Vec<Cmd>) {
        if let Progress::Done(result) = p {
            let rings = &self.settings.rings;
            let n = match &result.result {
                Final::Paid(_) => rings.paid,
                Final::Unresolved { .. } => rings.attention,
                Final::Failed { .. } | Final::Reversed { .. } | Final::Refunded(_) => {
                    rings.not_charged
                }
            };
            if n > 0 {
                out.push(Cmd::Bell(n));
            }
            self.stage = Stage::Result(result);
            self.screen = Screen::Sale;
            return;
        }
        let Stage::Waiting(w) = &mut self.stage else {
            return;
        };
        match p {
            Progress::Submitting {
                out_trade_no,
                total_fee,
            } => {
                w.out_trade_no = Some(out_trade_no);
                w.amount = total_fee;
                w.phase = WaitPhase::Submitting;
            }
            Progress::WaitingForPassword {
                remaining,
                queries,
                reverses,
                ..
            } => {
                w.phase = WaitPhase::Password;
                w.deadline = Some(now + remaining);
                w.queries = queries;
                w.reverses = reverses;
            }
            Progress::Querying {
                remaining,
                queries,
                reverses,
                ..
            } => {
                w.phase = WaitPhase::Querying;
                w.deadline = remaining.map(|r| now + r);
                w.queries = queries;
                w.reverses = reverses;
            }
            Progress::Reversing {
                attempt, remaining, ..
            } => {
                w.phase = WaitPhase::Reversing { attempt };
                w.deadline = remaining.map(|r| now + r);
                w.confirm_cancel = false;
            }
            Progress::Confirming { remaining, .. } => {
                w.phase = WaitPhase::Confirming;
                w.deadline = Some(now + remaining);
                w.confirm_cancel = false;
            }
            // The worker never forwards `Recovering`: it is not about the running sale.
            Progress::Recovering { .. } | Progress::Done(_) => {}
        }
    }
}
