//! Orders from the store's POS through the local API (`[api] listen`, docs/api.md). The POS
//! sends the amount and its order id (`ref`); the cashier's scan completes the sale, or the POS
//! sent the code itself and the sale starts at once. One order at a time: while a sale runs,
//! or the refund screen is mid-refund, the POS is turned down at once (nothing written or
//! sent) and asks again with the same ref.

use super::notice::{Notice, NoticeText};
use super::refund::RefundStep;
use super::{App, Cmd, Screen, Stage, Words};
use crate::authcode::AuthCode;
use crate::money::Fen;
use crate::tui::i18n::{T, both, tr};

/// A POS order shown on the sale screen, waiting for the customer's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosWait {
    pub pos_ref: String,
    pub amount: Fen,
}

/// The POS side of the sale screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PosView {
    /// The order waiting for the scan.
    pub waiting: Option<PosWait>,
    /// The ref of the sale running or last shown, when it was the POS's: its result screen
    /// does not take a rescan (the POS asks again, under its ref).
    pub shown: Option<String>,
}

impl App {
    /// The POS asked for a sale.
    pub(super) fn pos_order(
        &mut self,
        amount: Fen,
        pos_ref: String,
        code: Option<AuthCode>,
        out: &mut Vec<Cmd>,
    ) {
        let busy = if self.journal_error.is_some() {
            Some(T::PosJournalDown)
        } else if self.busy() {
            Some(T::PosBusySale)
        } else if self.pos.waiting.is_some() {
            Some(T::PosBusyOrder)
        } else if self.screen == Screen::Refund && self.refund.step != RefundStep::Pick {
            Some(T::PosBusyRefund)
        } else if matches!(self.stage, Stage::Entry)
            && !self.entry.from_pos
            && (!self.entry.amount.is_empty() || !self.entry.code.is_empty())
        {
            // The cashier's own sale is on the screen: never replaced without a word.
            Some(T::PosBusyTyping)
        } else {
            None
        };
        if let Some(t) = busy {
            self.notice = Some(Notice::warn(NoticeText::Tf(
                T::PosTurnedDown,
                vec![pos_ref.clone(), tr(self.lang, t).to_string()],
            )));
            out.push(Cmd::PosRefuse {
                pos_ref,
                why: both(t),
            });
            return;
        }
        self.screen = Screen::Sale;
        self.help = false;
        self.stage = Stage::Entry;
        self.pos.shown = None;
        self.entry.clear();
        match code {
            Some(code) => self.start(amount, code, Some(pos_ref), out),
            None => {
                self.entry.amount = amount.to_string();
                self.entry.focus = super::Field::Code;
                self.notice = Some(Notice::info(NoticeText::Tf(
                    T::PosScanNow,
                    vec![pos_ref.clone(), amount.to_string()],
                )));
                self.pos.waiting = Some(PosWait { pos_ref, amount });
            }
        }
    }

    /// The cashier pressed Esc on a POS order waiting for the scan: the POS is told.
    pub(super) fn pos_decline(&mut self, out: &mut Vec<Cmd>) {
        if let Some(w) = self.pos.waiting.take() {
            self.entry.clear();
            self.notice = Some(Notice::info(NoticeText::Tf(
                T::PosDeclinedHere,
                vec![w.pos_ref.clone()],
            )));
            out.push(Cmd::PosRefuse {
                pos_ref: w.pos_ref,
                why: both(T::PosDeclined),
            });
        }
    }

    /// The POS cancelled its order: one still waiting for the scan is turned down (nothing was
    /// sent); a running sale is stopped by the worker, as by Esc, and ends on screen.
    pub(super) fn pos_cancelled(&mut self, pos_ref: &str, out: &mut Vec<Cmd>) {
        if self
            .pos
            .waiting
            .as_ref()
            .is_some_and(|w| w.pos_ref == pos_ref)
        {
            self.pos.waiting = None;
            self.entry.clear();
            self.notice = Some(Notice::info(NoticeText::Tf(
                T::PosCancelledByPos,
                vec![pos_ref.to_string()],
            )));
            out.push(Cmd::PosRefuse {
                pos_ref: pos_ref.to_string(),
                why: both(T::PosCancelledAnswer),
            });
        }
    }

    /// The local API's state from the runtime.
    pub(super) fn api_status(&mut self, r: Result<String, Words>) {
        if let Err(e) = &r {
            self.notice = Some(Notice::error(NoticeText::Failed(
                T::ApiNotServed,
                e.clone(),
            )));
        }
        self.api = Some(r);
    }
}
