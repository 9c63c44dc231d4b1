//! Closed shifts (handovers): append-only rows, each with the report as it stood at closing.

use super::sales::{SALE_COLUMNS, SaleRow, sale_from_row};
use super::{Journal, JournalError};
use rusqlite::{OptionalExtension, params};

/// One closed shift as stored: `[opened_ms, closed_ms)` and its report (JSON, `shift::Report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedShift {
    pub id: i64,
    pub device_info: String,
    pub opened_ms: i64,
    pub closed_ms: i64,
    pub report: String,
}

fn closed_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClosedShift> {
    Ok(ClosedShift {
        id: r.get(0)?,
        device_info: r.get(1)?,
        opened_ms: r.get(2)?,
        closed_ms: r.get(3)?,
        report: r.get(4)?,
    })
}

const SHIFT_COLUMNS: &str = "id, device_info, opened_ms, closed_ms, report";

impl Journal {
    /// The newest closed shift, if any: the open shift starts where it ended.
    pub fn last_shift(&self) -> Result<Option<ClosedShift>, JournalError> {
        let sql = format!("SELECT {SHIFT_COLUMNS} FROM shifts ORDER BY id DESC LIMIT 1");
        Ok(self.conn.query_row(&sql, [], closed_from_row).optional()?)
    }

    /// One closed shift by its number.
    pub fn shift(&self, id: i64) -> Result<Option<ClosedShift>, JournalError> {
        let sql = format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = ?1");
        Ok(self
            .conn
            .query_row(&sql, [id], closed_from_row)
            .optional()?)
    }

    /// The shifts closed in `[from_ms, to_ms)`, oldest first (a day's handovers).
    pub fn shifts_closed_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ClosedShift>, JournalError> {
        let sql = format!(
            "SELECT {SHIFT_COLUMNS} FROM shifts WHERE closed_ms >= ?1 AND closed_ms < ?2 ORDER BY id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([from_ms, to_ms], closed_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the till first did anything (its first sale or refund): where the first shift opens.
    pub fn first_activity_ms(&self) -> Result<Option<i64>, JournalError> {
        Ok(self.conn.query_row(
            "SELECT MIN(t) FROM (SELECT MIN(created_ms) AS t FROM sales
                                 UNION ALL SELECT MIN(created_ms) FROM refunds)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Sales made before `before_ms` whose state changed in `[from_ms, to_ms)`: an earlier
    /// shift's sale settled during this one.
    pub fn sales_changed_between(
        &self,
        before_ms: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SaleRow>, JournalError> {
        let sql = format!(
            "SELECT {SALE_COLUMNS} FROM sales
             WHERE created_ms < ?1 AND updated_ms >= ?2 AND updated_ms < ?3
             ORDER BY updated_ms, id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([before_ms, from_ms, to_ms], sale_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record a handover. `opened_ms` must be where the last shift closed (or there is none),
    /// so two closings computed from the same open shift cannot both be written: the second
    /// is refused and nothing is recorded twice.
    pub fn close_shift(
        &mut self,
        device_info: &str,
        opened_ms: i64,
        closed_ms: i64,
        report: &str,
    ) -> Result<i64, JournalError> {
        let tx = self.write_tx()?;
        let last: Option<i64> = tx
            .query_row(
                "SELECT closed_ms FROM shifts ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if last.is_some_and(|l| l != opened_ms) {
            return Err(JournalError::ShiftMoved);
        }
        tx.execute(
            "INSERT INTO shifts (device_info, opened_ms, closed_ms, report) VALUES (?1, ?2, ?3, ?4)",
            params![device_info, opened_ms, closed_ms, report],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_shift_cannot_be_edited_removed_or_closed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        assert_eq!(j.last_shift().unwrap(), None);
        let id = j.close_shift("till-1", 100, 200, "{}").unwrap();
        assert_eq!(j.last_shift().unwrap().map(|s| s.closed_ms), Some(200));
        // A second closing of the same open shift (it opened at 100, the last close is 200).
        assert!(matches!(
            j.close_shift("till-1", 100, 300, "{}"),
            Err(JournalError::ShiftMoved)
        ));
        let next = j.close_shift("till-1", 200, 300, "{}").unwrap();
        assert!(next > id);
        // The triggers hold against anyone with the file, not only this module.
        let edit = j
            .conn
            .execute("UPDATE shifts SET report = 'x' WHERE id = ?1", [id]);
        assert!(edit.unwrap_err().to_string().contains("cannot be edited"));
        let gone = j.conn.execute("DELETE FROM shifts WHERE id = ?1", [id]);
        assert!(gone.unwrap_err().to_string().contains("cannot be removed"));
        let day = j.shifts_closed_between(0, 250).unwrap();
        assert_eq!(day.iter().map(|s| s.id).collect::<Vec<_>>(), [id]);
    }
}
