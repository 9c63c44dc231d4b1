//! The refund screen: pick a paid sale, amount (full or partial, at most what is left of it),
//! reason, "refund ¥X to the customer?", manager PIN, progress. Refunds move money out of the
//! store: on a live till they need a manager PIN, and three wrong PINs lock them for a while.

use crate::journal::Authority;
use std::time::{Duration, Instant};

use super::{Cmd, Key, Notice, NoticeText, Settings, TillCmd};
use crate::config::Language;
use crate::journal::{SaleRow, SaleState};
use crate::money::{Fen, MoneyError};
use crate::tui::i18n::{T, tr};

/// Wrong PINs in a row before refunds are locked.
pub const PIN_TRIES: u32 = 3;

/// How long refunds stay locked after `PIN_TRIES` wrong PINs.
pub const PIN_LOCKOUT: Duration = Duration::from_secs(5 * 60);

/// Why the money goes back (keys 1–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Returned,
    WrongAmount,
    ChargedTwice,
    Other,
}

impl Reason {
    fn from_key(c: char) -> Option<Reason> {
        Some(match c {
            '1' => Reason::Returned,
            '2' => Reason::WrongAmount,
            '3' => Reason::ChargedTwice,
            '4' => Reason::Other,
            _ => return None,
        })
    }

    /// The reason's text key.
    pub fn text(self) -> T {
        match self {
            Reason::Returned => T::ReasonReturned,
            Reason::WrongAmount => T::ReasonWrongAmount,
            Reason::ChargedTwice => T::ReasonChargedTwice,
            Reason::Other => T::ReasonOtherRefund,
        }
    }
}

/// Where the refund is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RefundStep {
    #[default]
    Pick,
    Amount,
    Reason,
    /// "Refund ¥X of sale … to the customer?" (Enter: yes, Esc: back).
    Confirm,
    Pin,
    /// Sent; `accepted` once WeChat took the request.
    Sending {
        accepted: bool,
    },
    /// Finished: refunded amount, or why not.
    Done(Result<Fen, super::Words>),
}

/// Progress of a refund from the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundUpdate {
    /// WeChat accepted the request; waiting for it to complete.
    Accepted,
    /// WeChat confirmed the refund of this amount.
    Succeeded(Fen),
    /// Refused or failed, in the cashier's words.
    Failed(super::Words),
}

/// Refund screen state.
#[derive(Debug, Clone, Default)]
pub struct RefundView {
    /// Paid sales with something left to refund.
    pub candidates: Vec<SaleRow>,
    /// What is left to refund of each candidate (its amount minus its accepted refunds).
    pub left: Vec<Fen>,
    pub selected: usize,
    pub step: RefundStep,
    /// Refund amount as typed (empty: full).
    pub amount: String,
    pub reason: Option<Reason>,
    /// PIN digits typed (shown as dots).
    pub pin: String,
    pub notice: Option<Notice>,
    /// Wrong PINs in a row; kept when the screen is left.
    pub pin_failures: u32,
    /// Refunds are locked until then after too many wrong PINs; kept when the screen is left.
    pub locked_until: Option<Instant>,
}

impl RefundView {
    pub(super) fn reset(&mut self) {
        *self = RefundView {
            candidates: std::mem::take(&mut self.candidates),
            left: std::mem::take(&mut self.left),
            pin_failures: self.pin_failures,
            locked_until: self.locked_until,
            ..RefundView::default()
        };
    }

    pub(super) fn candidates_from(&mut self, h: &super::HistoryData) {
        let open: Vec<(SaleRow, Fen)> = h
            .sales
            .iter()
            .filter(|s| s.state == SaleState::Paid)
            .map(|s| (s.clone(), s.total_fee.saturating_sub(h.refunded(s))))
            .filter(|(_, left)| left.0 > 0)
            .collect();
        (self.candidates, self.left) = open.into_iter().unzip();
        self.selected = self.selected.min(self.candidates.len().saturating_sub(1));
    }

    /// What is left to refund of the chosen sale.
    pub fn chosen_left(&self) -> Fen {
        self.left.get(self.selected).copied().unwrap_or(Fen(0))
    }

    /// Why no refund may start now, if one may not: a live till without a manager PIN, or
    /// refunds locked after wrong PINs.
    pub fn blocked(&self, settings: &Settings, now: Instant) -> Option<NoticeText> {
        if settings.simulator.is_none() && settings.manager_pin.is_none() {
            return Some(NoticeText::T(T::RefundNeedsPin));
        }
        let until = self.locked_until.filter(|u| *u > now)?;
        let mins = until.duration_since(now).as_secs().div_ceil(60).max(1);
        Some(NoticeText::Tf(T::RefundLocked, vec![mins.to_string()]))
    }

    /// The chosen sale.
    pub fn chosen(&self) -> Option<&SaleRow> {
        self.candidates.get(self.selected)
    }

    /// The refund amount: typed, or all that is left (`left`, which also caps it).
    pub fn refund_fee(&self, left: Fen) -> Result<Fen, MoneyError> {
        if self.amount.is_empty() {
            Ok(left)
        } else {
            Fen::parse(&self.amount, left)
        }
    }

    pub(super) fn update(&mut self, u: RefundUpdate) {
        self.step = match u {
            RefundUpdate::Accepted => RefundStep::Sending { accepted: true },
            RefundUpdate::Succeeded(fee) => RefundStep::Done(Ok(fee)),
            RefundUpdate::Failed(why) => RefundStep::Done(Err(why)),
        };
    }

    /// A receipt scanned while a sale is picked: select its sale and go on as Enter would.
    pub(super) fn scanned(&mut self, no: &str, settings: &Settings, now: Instant) {
        let Some(i) = self.candidates.iter().position(|s| s.out_trade_no == no) else {
            self.notice = Some(Notice::warn(NoticeText::Tf(
                T::ReceiptNotRefundable,
                vec![no.to_string()],
            )));
            return;
        };
        self.selected = i;
        match self.blocked(settings, now) {
            Some(why) => self.notice = Some(Notice::error(why)),
            None => {
                self.notice = None;
                self.step = RefundStep::Amount;
            }
        }
    }

    /// Handle a key at `now`; true when the cashier leaves the screen.
    pub(super) fn key(
        &mut self,
        k: Key,
        settings: &Settings,
        now: Instant,
        out: &mut Vec<Cmd>,
    ) -> bool {
        match (&self.step, k) {
            (RefundStep::Pick, Key::Esc) => return true,
            (RefundStep::Pick, Key::Up) if self.selected > 0 => self.selected -= 1,
            (RefundStep::Pick, Key::Down) if self.selected + 1 < self.candidates.len() => {
                self.selected += 1
            }
            (RefundStep::Pick, Key::Enter) if self.chosen().is_some() => {
                match self.blocked(settings, now) {
                    Some(why) => self.notice = Some(Notice::error(why)),
                    None => {
                        self.notice = None;
                        self.step = RefundStep::Amount;
                    }
                }
            }
            (RefundStep::Amount, Key::Esc) => self.step = RefundStep::Pick,
            (RefundStep::Amount, Key::Char(c))
                if (c.is_ascii_digit() || (c == '.' && !self.amount.contains('.')))
                    && self.amount.len() < 11 =>
            {
                self.amount.push(c)
            }
            (RefundStep::Amount, Key::Backspace) => {
                self.amount.pop();
            }
            (RefundStep::Amount, Key::Enter) => {
                let left = self.chosen_left();
                match self.refund_fee(left) {
                    Ok(_) => {
                        self.notice = None;
                        self.step = RefundStep::Reason;
                    }
                    Err(MoneyError::OverCeiling { .. }) => {
                        self.notice = Some(Notice::error(NoticeText::Tf(
                            T::RefundTooMuch,
                            vec![left.to_string()],
                        )))
                    }
                    Err(e) => self.notice = Some(Notice::error(NoticeText::Money(e))),
                }
            }
            (RefundStep::Reason, Key::Esc) => self.step = RefundStep::Amount,
            (RefundStep::Reason, Key::Char(c)) => {
                if let Some(r) = Reason::from_key(c) {
                    self.reason = Some(r);
                    self.step = RefundStep::Confirm;
                }
            }
            (RefundStep::Confirm, Key::Esc) => self.step = RefundStep::Reason,
            (RefundStep::Confirm, Key::Enter) => match self.blocked(settings, now) {
                Some(why) => self.notice = Some(Notice::error(why)),
                None if settings.manager_pin.is_some() => self.step = RefundStep::Pin,
                None => self.send(Authority::SimulatorNoPin, out),
            },
            (RefundStep::Pin, Key::Esc) => {
                self.pin.clear();
                self.step = RefundStep::Confirm;
            }
            (RefundStep::Pin, Key::Char(c)) if c.is_ascii_digit() && self.pin.len() < 12 => {
                self.pin.push(c)
            }
            (RefundStep::Pin, Key::Backspace) => {
                self.pin.pop();
            }
            (RefundStep::Pin, Key::Enter) => {
                if let Some(why) = self.blocked(settings, now) {
                    self.pin.clear();
                    self.notice = Some(Notice::error(why));
                    return false;
                }
                let ok = settings
                    .manager_pin
                    .as_ref()
                    .is_none_or(|p| p.matches(&self.pin));
                self.pin.clear();
                if ok {
                    self.pin_failures = 0;
                    self.notice = None;
                    self.send(Authority::PinOnScreen, out);
                } else {
                    self.wrong_pin(now, out);
                }
            }
            (RefundStep::Done(_), Key::Enter | Key::Esc) => {
                self.reset();
                return true;
            }
            _ => {}
        }
        false
    }

    /// A wrong PIN: counted, written to the log (never the digits), and after `PIN_TRIES` in
    /// a row refunds are locked for `PIN_LOCKOUT`.
    fn wrong_pin(&mut self, now: Instant, out: &mut Vec<Cmd>) {
        self.pin_failures += 1;
        let locked = self.pin_failures >= PIN_TRIES;
        let sale = self.chosen().map_or("", |s| s.out_trade_no.as_str());
        out.push(Cmd::Audit(format!(
            "refund screen: wrong manager PIN ({} in a row) for sale {sale}{}",
            self.pin_failures,
            if locked { "; refunds locked" } else { "" }
        )));
        self.notice = Some(Notice::error(if locked {
            self.pin_failures = 0;
            self.locked_until = Some(now + PIN_LOCKOUT);
            self.step = RefundStep::Pick;
            let mins = PIN_LOCKOUT.as_secs() / 60;
            NoticeText::Tf(T::RefundLocked, vec![mins.to_string()])
        } else {
            NoticeText::T(T::RefundPinWrong)
        }));
    }

    fn send(&mut self, authorised: Authority, out: &mut Vec<Cmd>) {
        let Some(sale) = self.chosen() else { return };
        let Ok(refund_fee) = self.refund_fee(self.chosen_left()) else {
            return;
        };
        // WeChat shows refund_desc to the customer, so it goes in Chinese.
        let reason = tr(
            Language::Zh,
            self.reason.map_or(T::ReasonOtherRefund, Reason::text),
        );
        out.push(Cmd::Till(TillCmd::Refund {
            out_trade_no: sale.out_trade_no.clone(),
            total_fee: sale.total_fee,
            refund_fee,
            reason: reason.to_string(),
            authorised,
        }));
        self.step = RefundStep::Sending { accepted: false };
    }
}
