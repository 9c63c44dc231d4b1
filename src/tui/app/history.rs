//! The history screen: a day's sales, totals, detail and CSV export.

use super::{Cmd, Key, Notice, NoticeText, TillCmd, Words};
use crate::checkout::reconcile::Report;
use crate::journal::{DayTotals, Refund, SaleRow, SaleState, Standing, refunded_of};
use crate::money::{Fen, NetFen};
use crate::tui::i18n::T;
use time::Date;

/// Beijing time is UTC+8 all year (no daylight saving).
const BEIJING_OFFSET_MS: i64 = 8 * 3600 * 1000;

/// One day's sales as loaded from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryData {
    /// The Beijing-time day.
    pub date: Date,
    /// Its sales, oldest first.
    pub sales: Vec<SaleRow>,
    /// The refunds made that day and those of its sales (`Journal::refunds_for_day`).
    pub refunds: Vec<Refund>,
}

impl HistoryData {
    /// Count and amount per state, and the day's accepted refunds.
    pub fn totals(&self) -> DayTotals {
        DayTotals::of(
            &self.sales,
            &self.refunds,
            crate::beijing::day_bounds(self.date),
        )
    }

    /// The accepted refunds of one of the day's sales.
    pub fn refunded(&self, sale: &SaleRow) -> Fen {
        refunded_of(&sale.out_trade_no, &self.refunds)
    }

    /// How a sale reads with its refunds counted.
    pub fn standing(&self, sale: &SaleRow) -> Standing {
        Standing::of(sale, self.refunded(sale))
    }

    /// Per Beijing hour: paid sales (count) and the net taken (paid minus the accepted refunds
    /// made in that hour).
    pub fn takings_by_hour(&self) -> [(u64, NetFen); 24] {
        let mut paid = [(0u64, Fen(0)); 24];
        for s in self.sales.iter().filter(|s| s.state == SaleState::Paid) {
            let h = &mut paid[beijing_hour(s.created_ms)];
            h.0 += 1;
            h.1 += s.total_fee;
        }
        let (from, to) = crate::beijing::day_bounds(self.date);
        let mut back = [Fen(0); 24];
        for r in self
            .refunds
            .iter()
            .filter(|r| r.state.accepted() && (from..to).contains(&r.created_ms))
        {
            let h = &mut back[beijing_hour(r.created_ms)];
            *h += r.refund_fee;
        }
        std::array::from_fn(|h| (paid[h].0, NetFen::of(paid[h].1, back[h])))
    }
}

/// History screen state.
#[derive(Debug, Clone, Default)]
pub struct HistoryView {
    /// The loaded day (`None` until the first load answers).
    pub data: Option<HistoryData>,
    /// Selected row.
    pub selected: usize,
    /// The detail of the selected sale is open.
    pub detail: bool,
    /// The reconciliation panel (F8), while it runs and after.
    pub reconcile: Option<Reconcile>,
    /// Lines the reconciliation panel is scrolled down by (↑/↓ while it is open).
    pub reconcile_scroll: u16,
    /// The find field (`/`) while it is open, and whether the last search missed.
    pub find: Option<String>,
    pub find_missed: bool,
}

/// The first sale at or after `from` (wrapping round) that `query` names: part of its order
/// number or of its WeChat transaction number (the customer's 交易单号), or its amount in yuan.
pub fn find_sale(sales: &[SaleRow], query: &str, from: usize) -> Option<usize> {
    let q = query.trim();
    if q.is_empty() || sales.is_empty() {
        return None;
    }
    let amount = Fen::parse(q, Fen(u64::MAX)).ok();
    let hit = |s: &SaleRow| {
        s.out_trade_no.contains(q)
            || s.transaction_id.as_deref().is_some_and(|t| t.contains(q))
            || amount == Some(s.total_fee)
    };
    (0..sales.len())
        .map(|i| (from + i) % sales.len())
        .find(|&i| hit(&sales[i]))
}

/// WeChat's answer about one sale (F9 on the history screen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueriedSale {
    /// WeChat's trade_state, or why there was none.
    pub wechat: String,
    /// The journal state before and after the answer.
    pub before: SaleState,
    pub after: SaleState,
    /// A late payment the query returned to the customer (the late-payment rule).
    pub returned: bool,
}

/// The notice for a history query: a correction to PAID is a warning that says what to do.
pub(super) fn queried_notice(no: &str, r: Result<QueriedSale, Words>) -> Notice {
    match r {
        Err(why) => Notice::error(NoticeText::Failed(T::QueryFailed, why)),
        Ok(q) if q.returned => Notice::warn(NoticeText::Tf(T::QueryReturned, vec![no.to_string()])),
        Ok(q) if q.before == SaleState::Failed && q.after == SaleState::Paid => {
            Notice::warn(NoticeText::Tf(T::QueryCorrected, vec![no.to_string()]))
        }
        Ok(q) => {
            let zh = crate::journal::SaleState::zh;
            Notice::info(NoticeText::Words(Words::new(
                format!(
                    "{no}: WeChat {} — journal {} → {}",
                    q.wechat,
                    q.before.as_str(),
                    q.after.as_str()
                ),
                format!(
                    "{no}:微信 {} — 账本 {} → {}",
                    q.wechat,
                    zh(q.before),
                    zh(q.after)
                ),
            )))
        }
    }
}

/// The day's reconciliation with WeChat's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconcile {
    /// Fetching the statement of this day.
    Running(Date),
    /// Done: the report, or why there is none.
    Done(Date, Result<Report, Words>),
}

impl HistoryView {
    /// The day on screen (`None`: today).
    pub(super) fn date(&self) -> Option<Date> {
        self.data.as_ref().map(|d| d.date)
    }

    pub(super) fn load(&mut self, data: HistoryData) {
        self.selected = self.selected.min(data.sales.len().saturating_sub(1));
        self.detail = false;
        if self.date() != Some(data.date) {
            self.reconcile = None;
        }
        self.data = Some(data);
    }

    /// A reconciliation answered; kept only if it is still about the day on screen.
    pub(super) fn reconciled(&mut self, day: Date, r: Result<Report, Words>) {
        if self.reconcile == Some(Reconcile::Running(day)) {
            self.reconcile = Some(Reconcile::Done(day, r));
        }
    }

    /// The selected sale.
    pub fn selected_sale(&self) -> Option<&SaleRow> {
        self.data.as_ref()?.sales.get(self.selected)
    }

    pub(super) fn key(&mut self, k: Key, out: &mut Vec<Cmd>) {
        let Some(data) = &self.data else { return };
        let n = data.sales.len();
        if let Some(q) = &mut self.find {
            match k {
                Key::Esc => {
                    self.find = None;
                    self.find_missed = false;
                }
                Key::Backspace => {
                    q.pop();
                    self.find_missed = false;
                }
                Key::Char(c) if !c.is_control() && q.chars().count() < 32 => {
                    q.push(c);
                    self.find_missed = false;
                }
                Key::Enter => {
                    // From the row after the selection, so Enter again finds the next match.
                    match find_sale(&data.sales, q, self.selected + 1) {
                        Some(i) => {
                            self.selected = i;
                            self.find = None;
                            self.find_missed = false;
                        }
                        None => self.find_missed = true,
                    }
                }
                _ => {}
            }
            return;
        }
        if self.reconcile.is_some() {
            // The panel is in front: Esc closes it, F8 runs it again; nothing else reaches the list.
            match k {
                Key::Esc => {
                    self.reconcile = None;
                    self.reconcile_scroll = 0;
                }
                Key::Up => self.reconcile_scroll = self.reconcile_scroll.saturating_sub(1),
                Key::Down => {
                    let most = match &self.reconcile {
                        Some(Reconcile::Done(_, Ok(r))) => r.lines.len(),
                        _ => 0,
                    };
                    let most = u16::try_from(most).unwrap_or(u16::MAX);
                    self.reconcile_scroll = self.reconcile_scroll.saturating_add(1).min(most);
                }
                Key::F(8) if !matches!(self.reconcile, Some(Reconcile::Running(_))) => {
                    self.reconcile = Some(Reconcile::Running(data.date));
                    out.push(Cmd::Till(TillCmd::Reconcile(data.date)));
                }
                _ => {}
            }
            return;
        }
        match k {
            Key::Left | Key::Char('-') => {
                if let Some(d) = data.date.previous_day() {
                    self.selected = 0;
                    out.push(Cmd::Till(TillCmd::LoadHistory(Some(d))));
                }
            }
            Key::Right | Key::Char('+') => {
                if let Some(d) = data.date.next_day() {
                    self.selected = 0;
                    out.push(Cmd::Till(TillCmd::LoadHistory(Some(d))));
                }
            }
            Key::Up if self.selected > 0 => self.selected -= 1,
            Key::Down if self.selected + 1 < n => self.selected += 1,
            Key::Enter if n > 0 => self.detail = !self.detail,
            Key::Char('/') => {
                self.detail = false;
                self.find = Some(String::new());
            }
            Key::Esc => self.detail = false,
            Key::F(7) => out.push(Cmd::Till(TillCmd::ExportCsv(data.date))),
            Key::F(9) if n > 0 => {
                if let Some(s) = data.sales.get(self.selected) {
                    out.push(Cmd::Till(TillCmd::QuerySale(s.out_trade_no.clone())));
                }
            }
            Key::F(8) => {
                self.detail = false;
                self.reconcile = Some(Reconcile::Running(data.date));
                out.push(Cmd::Till(TillCmd::Reconcile(data.date)));
            }
            _ => {}
        }
    }
}

/// Hour of day (0–23, Beijing time) of a Unix-milliseconds instant.
pub fn beijing_hour(ms: i64) -> usize {
    ((ms + BEIJING_OFFSET_MS).rem_euclid(86_400_000) / 3_600_000) as usize
}

/// `HH:MM:SS` in Beijing time of a Unix-milliseconds instant.
pub fn beijing_clock(ms: i64) -> String {
    let s = (ms + BEIJING_OFFSET_MS).rem_euclid(86_400_000) / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(no: &str, fen: u64, tx: Option<&str>) -> SaleRow {
        SaleRow {
            transaction_id: tx.map(Into::into),
            ..SaleRow::paid_for_tests(no, fen)
        }
    }

    #[test]
    fn find_by_order_transaction_or_amount_from_the_selection_on() {
        let sales = [
            sale("till-120261202090000001", 1250, Some("4200000001")),
            sale("till-120261202091500002", 800, None),
            sale("till-120261202093000003", 1250, Some("4200000777")),
        ];
        assert_eq!(find_sale(&sales, "0002", 0), Some(1));
        assert_eq!(
            find_sale(&sales, "777", 0),
            Some(2),
            "the customer's 交易单号"
        );
        assert_eq!(find_sale(&sales, "12.50", 0), Some(0));
        assert_eq!(
            find_sale(&sales, "12.5", 1),
            Some(2),
            "the next one from the selection"
        );
        assert_eq!(find_sale(&sales, "12.50", 3), Some(0), "wraps round");
        assert_eq!(find_sale(&sales, "99.00", 0), None);
        assert_eq!(find_sale(&sales, "  ", 0), None);
    }

    #[test]
    fn beijing_hours_wrap_at_utc_16() {
        // 2026-01-01T15:59:59Z is 23:59:59 in Beijing; one second later is 00:00:00.
        let ms = 1_767_283_199_000;
        assert_eq!(beijing_clock(ms), "23:59:59");
        assert_eq!(beijing_hour(ms), 23);
        assert_eq!(beijing_clock(ms + 1000), "00:00:00");
        assert_eq!(beijing_hour(ms + 1000), 0);
    }
}
