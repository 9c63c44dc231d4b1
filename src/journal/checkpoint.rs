//! What the checkout runner needs beyond plain transitions: the flow summary stored with every
//! state change (so a crash can resume exactly), order-number seeding and duplicate-scan lookups.

use super::sales::{SALE_COLUMNS, SaleRow, SaleState, Transition, sale_from_row, sale_id};
use super::{Journal, JournalError};
use rusqlite::{OptionalExtension, params};

/// One line for the event log, written in the same transaction as the checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct EventLine<'a> {
    /// `request`, `reply`, `state`, `recover`, …
    pub kind: &'a str,
    /// What happened (never the code, the key or a request body).
    pub detail: &'a str,
    /// WeChat's err_code, if the line is about one.
    pub err_code: Option<&'a str>,
}

impl Journal {
    /// Move a sale to `state`, store the flow summary (JSON) and log `event`, all in one
    /// transaction: after a crash the journal holds either all of it or none.
    pub fn checkpoint(
        &mut self,
        out_trade_no: &str,
        state: SaleState,
        t: &Transition,
        flow: &str,
        event: EventLine<'_>,
        at_ms: i64,
    ) -> Result<(), JournalError> {
        self.write_state(out_trade_no, state, t, Some(flow), event, at_ms)
    }

    /// The one place a sale's state changes: the row (keeping the flow summary when `flow` is
    /// `None`) and its event line in a single transaction.
    pub(super) fn write_state(
        &mut self,
        out_trade_no: &str,
        state: SaleState,
        t: &Transition,
        flow: Option<&str>,
        event: EventLine<'_>,
        at_ms: i64,
    ) -> Result<(), JournalError> {
        let tx = self.write_tx()?;
        let id = sale_id(&tx, out_trade_no)?;
        tx.execute(
            "UPDATE sales SET state = ?2, updated_ms = ?3, flow = COALESCE(?4, flow),
                transaction_id = COALESCE(?5, transaction_id),
                bank_type = COALESCE(?6, bank_type),
                cash_fee = COALESCE(?7, cash_fee),
                err_code = COALESCE(?8, err_code),
                message = COALESCE(?9, message)
             WHERE id = ?1",
            params![
                id,
                state.as_str(),
                at_ms,
                flow,
                t.transaction_id,
                t.bank_type,
                t.cash_fee,
                t.err_code,
                t.message
            ],
        )?;
        tx.execute(
            "INSERT INTO events (sale_id, at_ms, kind, detail, err_code)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, at_ms, event.kind, event.detail, event.err_code],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The flow summary (JSON) last stored for a sale; `None` for a sale that never got one.
    pub fn flow(&self, out_trade_no: &str) -> Result<Option<String>, JournalError> {
        let v: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT flow FROM sales WHERE out_trade_no = ?1",
                [out_trade_no],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.flatten())
    }

    /// The highest order number this device ever used (numbers of one device sort by time).
    pub fn newest_order_no(&self, device_info: &str) -> Result<Option<String>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT MAX(out_trade_no) FROM sales WHERE device_info = ?1",
                [device_info],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The newest sale of this code fingerprint created at or after `since_ms`.
    pub fn recent_with_fp(
        &self,
        code_fp: &str,
        since_ms: i64,
    ) -> Result<Option<SaleRow>, JournalError> {
        let sql = format!(
            "SELECT {SALE_COLUMNS} FROM sales WHERE code_fp = ?1 AND created_ms >= ?2
             ORDER BY created_ms DESC, id DESC LIMIT 1"
        );
        Ok(self
            .conn
            .query_row(&sql, params![code_fp, since_ms], sale_from_row)
            .optional()?)
    }

    /// Cheap health probe: the database answers a read. (Write failures show up at commit.)
    pub fn probe(&self) -> Result<(), JournalError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM sales WHERE 0", [], |r| {
                r.get::<_, i64>(0)
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::NewSale;
    use crate::money::Fen;

    fn sale(no: &str, fp: &str) -> NewSale {
        NewSale {
            out_trade_no: no.into(),
            total_fee: Fen(100),
            code_fp: fp.into(),
            code_masked: "13************4321".into(),
            device_info: "till-1".into(),
            attach: None,
            pos_ref: None,
        }
    }

    #[test]
    fn checkpoint_is_one_transaction_with_flow_and_event() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        j.insert_intent(&sale("till-120260101000000001", "fpA"), 10)
            .unwrap();
        let ev = EventLine {
            kind: "reply",
            detail: "micropay USERPAYING",
            err_code: Some("USERPAYING"),
        };
        j.checkpoint(
            "till-120260101000000001",
            SaleState::Submitted,
            &Transition::default(),
            "{\"x\":1}",
            ev,
            20,
        )
        .unwrap();
        assert_eq!(
            j.flow("till-120260101000000001").unwrap().as_deref(),
            Some("{\"x\":1}")
        );
        let evs = j.events("till-120260101000000001").unwrap();
        assert_eq!(evs.last().unwrap().err_code.as_deref(), Some("USERPAYING"));
        assert!(
            j.checkpoint("nope", SaleState::Paid, &Transition::default(), "{}", ev, 1)
                .is_err()
        );
        assert_eq!(j.flow("nope").unwrap(), None);
    }

    #[test]
    fn newest_number_and_recent_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        assert_eq!(j.newest_order_no("till-1").unwrap(), None);
        j.insert_intent(&sale("till-120260101000000002", "fpA"), 100)
            .unwrap();
        j.insert_intent(&sale("till-120260101000000001", "fpB"), 200)
            .unwrap();
        assert_eq!(
            j.newest_order_no("till-1").unwrap().as_deref(),
            Some("till-120260101000000002")
        );
        assert_eq!(j.newest_order_no("till-2").unwrap(), None);
        assert!(j.recent_with_fp("fpA", 50).unwrap().is_some());
        assert!(j.recent_with_fp("fpA", 150).unwrap().is_none());
        assert!(j.recent_with_fp("fpC", 0).unwrap().is_none());
        j.probe().unwrap();
    }
}
