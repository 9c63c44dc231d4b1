//! The outbox for the head office (migration 9): rows the triggers copied from every change, read
//! in `seq` order by the shipper (`office::ship`), and this journal's id.

use super::{Journal, JournalError};
use rusqlite::{OptionalExtension, params};

/// One change as the outbox holds it: `row` is the record after the change, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Only grows; the shipping order and, with the till, the office's key.
    pub seq: i64,
    /// `sale`, `event`, `refund` or `shift`.
    pub kind: String,
    /// The record's key in its kind (order number, refund number, event or shift id).
    pub key: String,
    /// The record after the change (JSON object text).
    pub row: String,
    /// When the change happened (Unix ms, the record's own time).
    pub at_ms: i64,
}

impl Journal {
    /// The id made once for this journal (migration 9).
    pub fn journal_id(&self) -> Result<String, JournalError> {
        let id: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'journal_id'", [], |r| {
                r.get(0)
            })
            .optional()?;
        id.ok_or_else(|| JournalError::Write(rusqlite::Error::QueryReturnedNoRows))
    }

    /// Up to `limit` outbox rows after `seq`, oldest first.
    pub fn outbox_after(&self, seq: i64, limit: usize) -> Result<Vec<OutboxRow>, JournalError> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, kind, key, row, at_ms FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![seq, limit as i64], |r| {
                Ok(OutboxRow {
                    seq: r.get(0)?,
                    kind: r.get(1)?,
                    key: r.get(2)?,
                    row: r.get(3)?,
                    at_ms: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The newest outbox `seq` (0 when empty).
    pub fn outbox_last(&self) -> Result<i64, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{NewSale, SaleState, Transition};
    use crate::money::Fen;

    fn sale(no: &str) -> NewSale {
        NewSale {
            out_trade_no: no.into(),
            total_fee: Fen(100),
            code_fp: "fp".into(),
            code_masked: "1345********1234".into(),
            device_info: "T1".into(),
            attach: None,
            pos_ref: None,
        }
    }

    #[test]
    fn every_write_lands_in_the_outbox_without_the_masked_code() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let id = j.journal_id().unwrap();
        assert_eq!(id.len(), 32);
        j.insert_intent(&sale("T1001"), 10).unwrap();
        j.transition("T1001", SaleState::Paid, &Transition::default(), 20)
            .unwrap();
        let rows = j.outbox_after(0, 100).unwrap();
        assert!(rows.len() >= 2, "{rows:?}");
        assert!(rows.iter().all(|r| !r.row.contains("1345")));
        assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
        let last = rows.iter().rfind(|r| r.kind == "sale").unwrap();
        assert!(last.row.contains("\"state\":\"paid\""), "{}", last.row);
        assert_eq!(j.outbox_last().unwrap(), rows.last().unwrap().seq);
        drop(j);
        // Reopened: the same id.
        let j = Journal::open(&dir.path().join("j.db")).unwrap();
        assert_eq!(j.journal_id().unwrap(), id);
    }

    #[test]
    fn rows_written_before_migration_9_are_backfilled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut j = Journal::open(&path).unwrap();
            j.insert_intent(&sale("T1002"), 10).unwrap();
        }
        // Back to schema 8 without the outbox, as an older paycode left it.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TABLE outbox; DROP TABLE meta;
             DROP TRIGGER IF EXISTS outbox_sale_insert; DROP TRIGGER IF EXISTS outbox_sale_update;
             DROP TRIGGER IF EXISTS outbox_event_insert; DROP TRIGGER IF EXISTS outbox_refund_insert;
             DROP TRIGGER IF EXISTS outbox_refund_update; DROP TRIGGER IF EXISTS outbox_shift_insert;
             PRAGMA user_version = 8;",
        )
        .unwrap();
        drop(c);
        let j = Journal::open(&path).unwrap();
        let rows = j.outbox_after(0, 100).unwrap();
        assert!(rows.iter().any(|r| r.kind == "sale" && r.key == "T1002"));
        assert!(rows.iter().any(|r| r.kind == "event"), "{rows:?}");
    }
}
