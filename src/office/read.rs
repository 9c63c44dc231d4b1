//! The office tables read back (IO edge) for `office report` and `office reconcile`, as the
//! plain rows the pure cores take.

use super::OfficeError;
use super::report::{OfficeRefund, OfficeSale, OfficeShift, TillSeen};
use crate::journal::{Refund, RefundState, SaleRow, SaleState};
use crate::money::Fen;
use tokio_postgres::Client;

/// A text column as it may be shown: the office holds what tills sent, so control characters
/// and direction marks never reach a terminal (`untrusted::plain`; nothing else changes, so
/// order numbers still compare). `Option<String>` columns too.
fn text<T: Plain>(r: &tokio_postgres::Row, i: usize) -> T {
    T::plain(r.get(i))
}

trait Plain: for<'a> tokio_postgres::types::FromSql<'a> {
    fn plain(self) -> Self;
}

impl Plain for String {
    fn plain(self) -> Self {
        crate::untrusted::plain(&self)
    }
}

impl Plain for Option<String> {
    fn plain(self) -> Self {
        self.map(|s| crate::untrusted::plain(&s))
    }
}

fn fen(v: i64) -> Fen {
    Fen(u64::try_from(v).unwrap_or(0))
}

fn sale_of(r: &tokio_postgres::Row) -> OfficeSale {
    OfficeSale {
        till_id: text(r, 0),
        store: text(r, 1),
        out_trade_no: text(r, 2),
        total_fee: fen(r.get(3)),
        // A state this build does not know reads as unresolved: someone looks at it.
        state: SaleState::from_db(r.get(4)).unwrap_or(SaleState::Unresolved),
        created_ms: r.get(5),
        updated_ms: r.get(6),
    }
}

const SALE_COLUMNS: &str =
    "s.till_id, t.store, s.out_trade_no, s.total_fee, s.state, s.created_ms, s.updated_ms";

/// Sales created in `[from, to)`.
pub async fn sales(c: &Client, from: i64, to: i64) -> Result<Vec<OfficeSale>, OfficeError> {
    let rows = c
        .query(
            &format!(
                "SELECT {SALE_COLUMNS} FROM paycode.sales s JOIN paycode.tills t USING (till_id)
                 WHERE s.created_ms >= $1 AND s.created_ms < $2"
            ),
            &[&from, &to],
        )
        .await?;
    Ok(rows.iter().map(sale_of).collect())
}

/// Every sale of the chain that is not final, any day.
pub async fn open_sales(c: &Client) -> Result<Vec<OfficeSale>, OfficeError> {
    let rows = c
        .query(
            &format!(
                "SELECT {SALE_COLUMNS} FROM paycode.sales s JOIN paycode.tills t USING (till_id)
                 WHERE s.state NOT IN ('paid', 'failed', 'reversed')"
            ),
            &[],
        )
        .await?;
    Ok(rows.iter().map(sale_of).collect())
}

/// Refunds asked for in `[from, to)`.
pub async fn refunds(c: &Client, from: i64, to: i64) -> Result<Vec<OfficeRefund>, OfficeError> {
    let rows = c
        .query(
            "SELECT f.till_id, t.store, f.out_refund_no, coalesce(f.out_trade_no, ''), f.refund_fee,
                    f.state, f.created_ms
             FROM paycode.refunds f JOIN paycode.tills t USING (till_id)
             WHERE f.created_ms >= $1 AND f.created_ms < $2",
            &[&from, &to],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| OfficeRefund {
            till_id: text(r, 0),
            store: text(r, 1),
            out_refund_no: text(r, 2),
            out_trade_no: text(r, 3),
            refund_fee: fen(r.get(4)),
            state: RefundState::from_db(r.get(5)),
            created_ms: r.get(6),
        })
        .collect())
}

/// Shifts closed in `[from, to)`.
pub async fn shifts(c: &Client, from: i64, to: i64) -> Result<Vec<OfficeShift>, OfficeError> {
    let rows = c
        .query(
            "SELECT h.till_id, t.store, h.shift_id, h.opened_ms, h.closed_ms
             FROM paycode.shifts h JOIN paycode.tills t USING (till_id)
             WHERE h.closed_ms >= $1 AND h.closed_ms < $2",
            &[&from, &to],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| OfficeShift {
            till_id: text(r, 0),
            store: text(r, 1),
            shift_id: r.get(2),
            opened_ms: r.get(3),
            closed_ms: r.get(4),
        })
        .collect())
}

/// Every registered till with how far its records have arrived.
pub async fn tills(c: &Client) -> Result<Vec<TillSeen>, OfficeError> {
    let rows = c
        .query(
            "SELECT t.till_id, t.store, t.mch_id, t.last_seen_ms,
                    (SELECT max(j.at_ms) FROM paycode.journal j WHERE j.till_id = t.till_id),
                    t.refused_ms, t.refused_kind
             FROM paycode.tills t ORDER BY t.store, t.till_id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TillSeen {
            till_id: text(r, 0),
            store: text(r, 1),
            mch_id: text(r, 2),
            last_seen_ms: r.get(3),
            newest_ms: r.get(4),
            refused: r
                .get::<_, Option<i64>>(5)
                .map(|at| (at, text::<Option<String>>(r, 6).unwrap_or_default())),
        })
        .collect())
}

/// The journal's shapes of a merchant's records, for the till's reconcile core: sales created
/// in `[from, to)` of the tills paid to `mch_id`, the sales of other days among `others`, and
/// the refunds asked for in the window. Each sale with its till.
pub async fn merchant_records(
    c: &Client,
    mch_id: &str,
    from: i64,
    to: i64,
) -> Result<(Vec<(String, SaleRow)>, Vec<Refund>), OfficeError> {
    let rows = c
        .query(
            "SELECT s.till_id, s.out_trade_no, s.total_fee, coalesce(s.code_fp, ''), s.device_info,
                    s.created_ms, s.updated_ms, s.state, s.transaction_id, s.bank_type, s.cash_fee,
                    s.err_code, s.message, s.attach, s.pos_ref
             FROM paycode.sales s JOIN paycode.tills t USING (till_id)
             WHERE t.mch_id = $1 AND s.created_ms >= $2 AND s.created_ms < $3",
            &[&mch_id, &from, &to],
        )
        .await?;
    let sales = rows.iter().map(sale_row).collect();
    let rows = c
        .query(
            "SELECT coalesce(f.out_trade_no, ''), f.out_refund_no, f.refund_fee, f.reason, f.state,
                    f.refund_id, f.err_code, f.created_ms, f.updated_ms
             FROM paycode.refunds f JOIN paycode.tills t USING (till_id)
             WHERE t.mch_id = $1 AND f.created_ms >= $2 AND f.created_ms < $3",
            &[&mch_id, &from, &to],
        )
        .await?;
    let refunds = rows
        .iter()
        .map(|r| Refund {
            out_trade_no: text(r, 0),
            out_refund_no: text(r, 1),
            refund_fee: fen(r.get(2)),
            reason: text(r, 3),
            state: RefundState::from_db(r.get(4)),
            refund_id: text(r, 5),
            err_code: text(r, 6),
            created_ms: r.get(7),
            updated_ms: r.get(8),
            authorised: None,
        })
        .collect();
    Ok((sales, refunds))
}

/// Sales of a merchant by number (any day): those the statement names that were made on
/// another day.
pub async fn merchant_sales_named(
    c: &Client,
    mch_id: &str,
    numbers: &[String],
) -> Result<Vec<(String, SaleRow)>, OfficeError> {
    let rows = c
        .query(
            "SELECT s.till_id, s.out_trade_no, s.total_fee, coalesce(s.code_fp, ''), s.device_info,
                    s.created_ms, s.updated_ms, s.state, s.transaction_id, s.bank_type, s.cash_fee,
                    s.err_code, s.message, s.attach, s.pos_ref
             FROM paycode.sales s JOIN paycode.tills t USING (till_id)
             WHERE t.mch_id = $1 AND s.out_trade_no = ANY($2)",
            &[&mch_id, &numbers],
        )
        .await?;
    Ok(rows.iter().map(sale_row).collect())
}

fn sale_row(r: &tokio_postgres::Row) -> (String, SaleRow) {
    (
        text(r, 0),
        SaleRow {
            out_trade_no: text(r, 1),
            total_fee: fen(r.get(2)),
            code_fp: text(r, 3),
            code_masked: String::new(),
            device_info: text(r, 4),
            created_ms: r.get(5),
            updated_ms: r.get(6),
            state: SaleState::from_db(r.get(7)).unwrap_or(SaleState::Unresolved),
            transaction_id: text(r, 8),
            bank_type: text(r, 9),
            cash_fee: r.get::<_, Option<i64>>(10).map(fen),
            err_code: text(r, 11),
            message: text(r, 12),
            attach: text(r, 13),
            pos_ref: text(r, 14),
        },
    )
}
