//! The pending screen: unresolved sales with query-now and reverse actions.

use super::{Cmd, Key, TillCmd};
use crate::checkout::progress::Outcome;
use crate::journal::SaleRow;

/// An action running on a pending sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingAction {
    Querying(String),
    Reversing(String),
}

/// Pending screen state.
#[derive(Debug, Clone, Default)]
pub struct PendingView {
    /// Unresolved sales (`None` until loaded).
    pub list: Option<Vec<SaleRow>>,
    pub selected: usize,
    /// Asking "reverse this order?".
    pub confirm: Option<String>,
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

    pub(super) fn key(&mut self, k: Key, out: &mut Vec<Cmd>) {
        if let Some(no) = &self.confirm {
            match k {
                Key::Enter => {
                    self.busy = Some(PendingAction::Reversing(no.clone()));
                    out.push(Cmd::Till(TillCmd::ReversePending(no.clone())));
                    self.confirm = None;
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
            Key::Char('2') if self.busy.is_none() => self.confirm = self.selected_no(),
            _ => {}
        }
    }
}
