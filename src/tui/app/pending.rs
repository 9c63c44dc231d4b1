//! The pending screen: unresolved sales with query-now, reverse and accept actions.

use super::{Cmd, Key, Settings, TillCmd};
use crate::checkout::progress::Outcome;
use crate::journal::SaleRow;

/// An action running on a pending sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingAction {
    Querying(String),
    Reversing(String),
    /// A manager keeps a late payment as paid (`paycode accept`).
    Accepting(String),
}

/// What the question on the pending screen asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// "Reverse this order?"
    Reverse,
    /// "Keep this late payment as paid?" (the manager PIN, when one is set).
    Accept,
}

/// The open question: which action, for which sale, and the PIN typed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub ask: Ask,
    pub no: String,
    pub pin: String,
    /// The last PIN typed was wrong.
    pub pin_wrong: bool,
}

/// Pending screen state.
#[derive(Debug, Clone, Default)]
pub struct PendingView {
    /// Unresolved sales (`None` until loaded).
    pub list: Option<Vec<SaleRow>>,
    pub selected: usize,
    /// The question being asked before an action.
    pub confirm: Option<Confirm>,
    /// The action in flight.
    pub busy: Option<PendingAction>,
    /// The last action's order number and result.
    pub last: Option<(String, Result<Outcome, super::Words>)>,
}

impl PendingView {
    pub(super) fn load(&mut self, list: Vec<SaleRow>) {
        self.selected = self.selected.min(list.len().saturating_sub(1));
        self.list = Some(list);
    }

    pub(super) fn done(&mut self, no: &str, result: Result<Outcome, super::Words>) {
        self.busy = None;
        self.last = Some((no.to_string(), result));
    }

    fn selected_no(&self) -> Option<String> {
        self.list
            .as_ref()?
            .get(self.selected)
            .map(|s| s.out_trade_no.clone())
    }

    fn ask(&mut self, ask: Ask) {
        self.confirm = self.selected_no().map(|no| Confirm {
            ask,
            no,
            pin: String::new(),
            pin_wrong: false,
        });
    }

    pub(super) fn key(&mut self, k: Key, settings: &Settings, out: &mut Vec<Cmd>) {
        if let Some(c) = &mut self.confirm {
            let needs_pin = c.ask == Ask::Accept && settings.manager_pin.is_some();
            match k {
                Key::Enter => {
                    if needs_pin {
                        let ok = settings
                            .manager_pin
                            .as_ref()
                            .is_none_or(|p| p.matches(&c.pin));
                        c.pin.clear();
                        if !ok {
                            c.pin_wrong = true;
                            return;
                        }
                    }
                    let no = c.no.clone();
                    let (busy, cmd) = match c.ask {
                        Ask::Reverse => (
                            PendingAction::Reversing(no.clone()),
                            TillCmd::ReversePending(no),
                        ),
                        Ask::Accept => (
                            PendingAction::Accepting(no.clone()),
                            TillCmd::AcceptPending(no),
                        ),
                    };
                    self.busy = Some(busy);
                    out.push(Cmd::Till(cmd));
                    self.confirm = None;
                }
                Key::Char(d) if needs_pin && d.is_ascii_digit() && c.pin.len() < 16 => {
                    c.pin.push(d);
                }
                Key::Backspace if needs_pin && !c.pin.is_empty() => {
                    c.pin.pop();
                }
                Key::Esc | Key::Backspace => self.confirm = None,
                _ => {}
            }
            return;
        }
        let n = self.list.as_ref().map_or(0, Vec::len);
        match k {
            Key::Up if self.selected > 0 => self.selected -= 1,
            Key::Down if self.selected + 1 < n => self.selected += 1,
            Key::Char('1') if self.busy.is_none() => {
                if let Some(no) = self.selected_no() {
                    self.busy = Some(PendingAction::Querying(no.clone()));
                    out.push(Cmd::Till(TillCmd::QueryPending(no)));
                }
            }
            Key::Char('2') if self.busy.is_none() => self.ask(Ask::Reverse),
            Key::Char('3') if self.busy.is_none() => self.ask(Ask::Accept),
            _ => {}
        }
    }
}
