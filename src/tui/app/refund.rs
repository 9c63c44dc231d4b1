//! The refund screen: pick a paid sale, amount (full or partial), reason, manager PIN, progress.

use super::{Cmd, Key, Notice, NoticeText, Settings, TillCmd};
use crate::config::Language;
use crate::journal::{SaleRow, SaleState};
use crate::money::{Fen, MoneyError};
use crate::tui::i18n::{T, tr};

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
    /// Paid sales that can be refunded.
    pub candidates: Vec<SaleRow>,
    pub selected: usize,
    pub step: RefundStep,
    /// Refund amount as typed (empty: full).
    pub amount: String,
    pub reason: Option<Reason>,
    /// PIN digits typed (shown as dots).
    pub pin: String,
    pub notice: Option<Notice>,
}

impl RefundView {
    pub(super) fn reset(&mut self) {
        *self = RefundView {
            candidates: std::mem::take(&mut self.candidates),
            ..RefundView::default()
        };
    }

    pub(super) fn candidates_from(&mut self, h: &super::HistoryData) {
        self.candidates = h
            .sales
            .iter()
            .filter(|s| s.state == SaleState::Paid)
            .cloned()
            .collect();
        self.selected = self.selected.min(self.candidates.len().saturating_sub(1));
    }

    /// The chosen sale.
    pub fn chosen(&self) -> Option<&SaleRow> {
        self.candidates.get(self.selected)
    }

    /// The refund amount: typed, or the full sale.
    fn refund_fee(&self, total: Fen) -> Result<Fen, MoneyError> {
        if self.amount.is_empty() {
            Ok(total)
        } else {
            Fen::parse(&self.amount, total)
        }
    }

    pub(super) fn update(&mut self, u: RefundUpdate) {
        self.step = match u {
            RefundUpdate::Accepted => RefundStep::Sending { accepted: true },
            RefundUpdate::Succeeded(fee) => RefundStep::Done(Ok(fee)),
            RefundUpdate::Failed(why) => RefundStep::Done(Err(why)),
        };
    }

    /// Handle a key; true when the cashier leaves the screen.
    pub(super) fn key(&mut self, k: Key, settings: &Settings, out: &mut Vec<Cmd>) -> bool {
        match (&self.step, k) {
            (RefundStep::Pick, Key::Esc) => return true,
            (RefundStep::Pick, Key::Up) if self.selected > 0 => self.selected -= 1,
            (RefundStep::Pick, Key::Down) if self.selected + 1 < self.candidates.len() => {
                self.selected += 1
            }
            (RefundStep::Pick, Key::Enter) if self.chosen().is_some() => {
                self.step = RefundStep::Amount
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
                let total = self.chosen().map_or(Fen(0), |s| s.total_fee);
                match self.refund_fee(total) {
                    Ok(_) => {
                        self.notice = None;
                        self.step = RefundStep::Reason;
                    }
                    Err(MoneyError::OverCeiling { .. }) => {
                        self.notice = Some(Notice::error(NoticeText::Tf(
                            T::RefundTooMuch,
                            vec![total.to_string()],
                        )))
                    }
                    Err(e) => self.notice = Some(Notice::error(NoticeText::Money(e))),
                }
            }
            (RefundStep::Reason, Key::Esc) => self.step = RefundStep::Amount,
            (RefundStep::Reason, Key::Char(c)) => {
                if let Some(r) = Reason::from_key(c) {
                    self.reason = Some(r);
                    if settings.manager_pin.is_some() {
                        self.step = RefundStep::Pin;
                    } else {
                        self.send(out);
                    }
                }
            }
            (RefundStep::Pin, Key::Esc) => {
                self.pin.clear();
                self.step = RefundStep::Reason;
            }
            (RefundStep::Pin, Key::Char(c)) if c.is_ascii_digit() && self.pin.len() < 16 => {
                self.pin.push(c)
            }
            (RefundStep::Pin, Key::Backspace) => {
                self.pin.pop();
            }
            (RefundStep::Pin, Key::Enter) => {
                let ok = settings
                    .manager_pin
                    .as_ref()
                    .is_none_or(|p| p.matches(&self.pin));
                self.pin.clear();
                if ok {
                    self.notice = None;
                    self.send(out);
                } else {
                    self.notice = Some(Notice::error(NoticeText::T(T::RefundPinWrong)));
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

    fn send(&mut self, out: &mut Vec<Cmd>) {
        let Some(sale) = self.chosen() else { return };
        let Ok(refund_fee) = self.refund_fee(sale.total_fee) else {
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
        }));
        self.step = RefundStep::Sending { accepted: false };
    }
}
