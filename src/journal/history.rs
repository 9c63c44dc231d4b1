//! Read-only queries for history screens, exports and day totals.

use super::sales::{SALE_COLUMNS, SaleRow, SaleState, sale_from_row};
use super::{Journal, JournalError};
use crate::money::Fen;

/// Count and amount of the sales in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateTotal {
    pub state: SaleState,
    pub count: u64,
    pub total_fee: Fen,
}

/// Totals of a period (usually one Beijing-time day), one row per state present.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayTotals {
    pub by_state: Vec<StateTotal>,
}

impl DayTotals {
    /// Count and amount per state of `sales`, one row per state present, by state name (the
    /// history screen and `paycode history` both show these).
    pub fn of(sales: &[SaleRow]) -> DayTotals {
        let mut by_state: Vec<StateTotal> = Vec::new();
        for s in sales {
            match by_state.iter_mut().find(|t| t.state == s.state) {
                Some(t) => {
                    t.count += 1;
                    t.total_fee = Fen(t.total_fee.0 + s.total_fee.0);
                }
                None => by_state.push(StateTotal {
                    state: s.state,
                    count: 1,
                    total_fee: s.total_fee,
                }),
            }
        }
        by_state.sort_by_key(|t| t.state.as_str());
        DayTotals { by_state }
    }

    /// Money actually taken: the sum of paid sales.
    pub fn paid(&self) -> Fen {
        self.by_state
            .iter()
            .filter(|t| t.state == SaleState::Paid)
            .fold(Fen(0), |acc, t| Fen(acc.0 + t.total_fee.0))
    }
}

impl Journal {
    /// Sales created in `[from_ms, to_ms)`, oldest first.
    pub fn sales_between(&self, from_ms: i64, to_ms: i64) -> Result<Vec<SaleRow>, JournalError> {
        let sql = format!(
            "SELECT {SALE_COLUMNS} FROM sales WHERE created_ms >= ?1 AND created_ms < ?2
             ORDER BY created_ms, id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([from_ms, to_ms], sale_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{NewSale, Transition};

    #[test]
    fn totals_by_state_within_the_period() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let sales = [
            ("A", 100, 10, SaleState::Paid),
            ("B", 250, 20, SaleState::Paid),
            ("C", 999, 30, SaleState::Failed),
            ("D", 500, 40, SaleState::Unresolved),
            ("E", 700, 5_000, SaleState::Paid), // outside the period
        ];
        for (no, fen, at, st) in sales {
            let s = NewSale {
                out_trade_no: no.into(),
                total_fee: Fen(fen),
                code_fp: "fp".into(),
                code_masked: "m".into(),
                device_info: "d".into(),
                attach: None,
                pos_ref: None,
            };
            j.insert_intent(&s, at).unwrap();
            j.transition(no, st, &Transition::default(), at).unwrap();
        }
        let t = DayTotals::of(&j.sales_between(0, 1_000).unwrap());
        assert_eq!(t.paid(), Fen(350));
        let failed = t.by_state.iter().find(|x| x.state == SaleState::Failed);
        assert_eq!(failed.map(|x| (x.count, x.total_fee)), Some((1, Fen(999))));
        assert_eq!(t.by_state.len(), 3);
        let list = j.sales_between(0, 1_000).unwrap();
        let nos: Vec<&str> = list.iter().map(|s| s.out_trade_no.as_str()).collect();
        assert_eq!(nos, ["A", "B", "C", "D"]);
    }
}
