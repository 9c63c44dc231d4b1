//! Read-only queries for history screens, exports and day totals.

use super::refunds::Refund;
use super::sales::{SALE_COLUMNS, SaleRow, SaleState, sale_from_row};
use super::{Journal, JournalError};
use crate::money::{Fen, NetFen};

/// Count and amount of the sales in one state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateTotal {
    pub state: SaleState,
    pub count: u64,
    pub total_fee: Fen,
}

/// Totals of a period (usually one Beijing-time day): the sales made in it by state, and the
/// refunds made in it that WeChat accepted. Takings are net of those refunds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayTotals {
    pub by_state: Vec<StateTotal>,
    /// Accepted refunds (processing or done) made in the period, of any day's sales.
    pub refunded: Fen,
    pub refund_count: u64,
}

impl DayTotals {
    /// Count and amount per state of `sales`, one row per state present, by state name, and
    /// the accepted refunds among `refunds` made in `[from_ms, to_ms)` (the history screen and
    /// `paycode history` both show these).
    pub fn of(sales: &[SaleRow], refunds: &[Refund], (from_ms, to_ms): (i64, i64)) -> DayTotals {
        let mut by_state: Vec<StateTotal> = Vec::new();
        for s in sales {
            match by_state.iter_mut().find(|t| t.state == s.state) {
                Some(t) => {
                    t.count += 1;
                    t.total_fee += s.total_fee;
                }
                None => by_state.push(StateTotal {
                    state: s.state,
                    count: 1,
                    total_fee: s.total_fee,
                }),
            }
        }
        by_state.sort_by_key(|t| t.state.as_str());
        let made = refunds
            .iter()
            .filter(|r| r.state.accepted() && (from_ms..to_ms).contains(&r.created_ms));
        let (refund_count, refunded) =
            made.fold((0, Fen(0)), |(n, sum), r| (n + 1, sum + r.refund_fee));
        DayTotals {
            by_state,
            refunded,
            refund_count,
        }
    }

    /// The sum of the paid sales, before refunds.
    pub fn paid(&self) -> Fen {
        self.by_state
            .iter()
            .filter(|t| t.state == SaleState::Paid)
            .map(|t| t.total_fee)
            .sum()
    }

    /// Money actually taken: paid sales minus the refunds made in the period.
    pub fn net(&self) -> NetFen {
        NetFen::of(self.paid(), self.refunded)
    }
}

/// The accepted refunds of one sale (any day), from `refunds`.
pub fn refunded_of(out_trade_no: &str, refunds: &[Refund]) -> Fen {
    refunds
        .iter()
        .filter(|r| r.out_trade_no == out_trade_no && r.state.accepted())
        .map(|r| r.refund_fee)
        .sum()
}

/// How a sale reads once its refunds are counted: a paid sale refunded in full is "refunded",
/// in part "partly refunded"; every other sale reads as its journal state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    State(SaleState),
    PartlyRefunded,
    Refunded,
}

impl Standing {
    /// `sale` with `refunded` of it returned.
    pub fn of(sale: &SaleRow, refunded: Fen) -> Standing {
        match sale.state {
            SaleState::Paid if refunded.0 >= sale.total_fee.0 => Standing::Refunded,
            SaleState::Paid if refunded.0 > 0 => Standing::PartlyRefunded,
            state => Standing::State(state),
        }
    }

    /// The stored spelling of the state, or `refunded` / `partly_refunded`.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::State(s) => s.as_str(),
            Standing::PartlyRefunded => "partly_refunded",
            Standing::Refunded => "refunded",
        }
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
    use crate::journal::{NewSale, RefundState, Transition};

    fn refund(no: &str, fee: u64, state: RefundState, at: i64) -> Refund {
        Refund {
            out_trade_no: no.into(),
            out_refund_no: format!("R{no}{at}"),
            refund_fee: Fen(fee),
            reason: String::new(),
            state,
            refund_id: None,
            err_code: None,
            created_ms: at,
            updated_ms: at,
            authorised: None,
        }
    }

    fn paid(no: &str, fee: u64) -> SaleRow {
        SaleRow::paid_for_tests(no, fee)
    }

    #[test]
    fn takings_are_net_of_the_refunds_made_in_the_period() {
        let sales = [paid("A", 100), paid("B", 250)];
        let refunds = [
            refund("A", 100, RefundState::Success, 20),
            // An earlier day's sale refunded today, still processing at WeChat: counted.
            refund("OLD", 50, RefundState::Processing, 30),
            // Not accepted (yet): not counted.
            refund("B", 30, RefundState::Requested, 40),
            refund("B", 30, RefundState::Refused, 41),
            // Made on another day.
            refund("B", 70, RefundState::Success, 5_000),
        ];
        let t = DayTotals::of(&sales, &refunds, (0, 1_000));
        assert_eq!(t.paid(), Fen(350));
        assert_eq!((t.refund_count, t.refunded), (2, Fen(150)));
        assert_eq!(t.net(), NetFen(200));
        // A day of refunds only: the net is negative, and reads so.
        let t = DayTotals::of(&[], &refunds, (0, 1_000));
        assert_eq!(t.net(), NetFen(-150));
        assert_eq!(t.net().to_string(), "-1.50");
        // Each sale shows its own accepted refunds, whatever day they were made.
        assert_eq!(refunded_of("A", &refunds), Fen(100));
        assert_eq!(refunded_of("B", &refunds), Fen(70));
        assert_eq!(Standing::of(&sales[0], Fen(100)), Standing::Refunded);
        assert_eq!(Standing::of(&sales[1], Fen(70)), Standing::PartlyRefunded);
        assert_eq!(
            Standing::of(&sales[1], Fen(0)),
            Standing::State(SaleState::Paid)
        );
    }

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
        let t = DayTotals::of(&j.sales_between(0, 1_000).unwrap(), &[], (0, 1_000));
        assert_eq!(t.paid(), Fen(350));
        let failed = t.by_state.iter().find(|x| x.state == SaleState::Failed);
        assert_eq!(failed.map(|x| (x.count, x.total_fee)), Some((1, Fen(999))));
        assert_eq!(t.by_state.len(), 3);
        let list = j.sales_between(0, 1_000).unwrap();
        let nos: Vec<&str> = list.iter().map(|s| s.out_trade_no.as_str()).collect();
        assert_eq!(nos, ["A", "B", "C", "D"]);
    }
}
