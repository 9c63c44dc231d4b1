//! The receipt print queue (migration 7): which slips are still to print. Only references are
//! kept (the sale's order number, the refund's number); the slip is rendered from the journal
//! when it prints, so it says what the journal knows then.

use super::{Journal, JournalError};
use rusqlite::params;

/// What a queued slip is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintKind {
    /// The sale's slip as its state is when printed (paid, reversed, unresolved).
    Sale,
    /// The slip of one refund of the sale.
    Refund(String),
    /// A closed shift's report (`out_trade_no` is empty).
    Shift(i64),
}

/// One slip waiting to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPrint {
    pub id: i64,
    pub kind: PrintKind,
    pub out_trade_no: String,
    /// A copy asked for with `paycode receipt`.
    pub reprint: bool,
    pub created_ms: i64,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When a drain claimed it (`None`: nobody is printing it).
    pub claimed_ms: Option<i64>,
}

impl Journal {
    /// Queue a slip; its id.
    pub fn enqueue_print(
        &mut self,
        out_trade_no: &str,
        kind: &PrintKind,
        reprint: bool,
        at_ms: i64,
    ) -> Result<i64, JournalError> {
        let (k, refund, shift) = match kind {
            PrintKind::Sale => ("sale", None, None),
            PrintKind::Refund(r) => ("refund", Some(r.as_str()), None),
            PrintKind::Shift(id) => ("shift", None, Some(*id)),
        };
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO print_queue (kind, out_trade_no, out_refund_no, reprint, created_ms,
                                      shift_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![k, out_trade_no, refund, reprint, at_ms, shift],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Slips not printed yet, oldest first.
    pub fn print_queue(&self) -> Result<Vec<QueuedPrint>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, out_trade_no, out_refund_no, reprint, created_ms, attempts, last_error,
                    claimed_ms, shift_id
             FROM print_queue WHERE printed_ms IS NULL AND skipped_ms IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(1)?;
            let refund: Option<String> = r.get(3)?;
            let shift: Option<i64> = r.get(9)?;
            Ok(QueuedPrint {
                id: r.get(0)?,
                kind: match (kind.as_str(), refund, shift) {
                    ("refund", Some(no), _) => PrintKind::Refund(no),
                    ("shift", _, Some(id)) => PrintKind::Shift(id),
                    _ => PrintKind::Sale,
                },
                out_trade_no: r.get(2)?,
                reprint: r.get(4)?,
                created_ms: r.get(5)?,
                attempts: r.get(6)?,
                last_error: r.get(7)?,
                claimed_ms: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Claim the slips not printed yet, oldest first, for this drain: none that another
    /// process claimed less than `stale_ms` ago (it is printing them now, or died doing so).
    pub fn claim_prints(
        &mut self,
        now_ms: i64,
        stale_ms: i64,
    ) -> Result<Vec<QueuedPrint>, JournalError> {
        let tx = self.write_tx()?;
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare(
                "UPDATE print_queue SET claimed_ms = ?1
                 WHERE printed_ms IS NULL AND skipped_ms IS NULL
                   AND (claimed_ms IS NULL OR claimed_ms < ?2)
                 RETURNING id",
            )?;
            let rows = stmt.query_map(params![now_ms, now_ms.saturating_sub(stale_ms)], |r| {
                r.get(0)
            })?;
            rows.collect::<Result<_, _>>()?
        };
        tx.commit()?;
        Ok(self
            .print_queue()?
            .into_iter()
            .filter(|p| ids.contains(&p.id))
            .collect())
    }

    /// The slip came out of the printer.
    pub fn print_done(&mut self, id: i64, at_ms: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE print_queue SET printed_ms = ?2, attempts = attempts + 1, last_error = NULL
             WHERE id = ?1",
            params![id, at_ms],
        )?;
        Ok(())
    }

    /// A try failed (the printer is away): the slip stays queued with why.
    pub fn print_failed(&mut self, id: i64, error: &str) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE print_queue SET attempts = attempts + 1, last_error = ?2, claimed_ms = NULL
             WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// The slip can never print (its sale was not charged, or is gone): off the queue, with why.
    pub fn print_skipped(&mut self, id: i64, why: &str, at_ms: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE print_queue SET skipped_ms = ?2, last_error = ?3 WHERE id = ?1",
            params![id, at_ms, why],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_stays_queued_until_printed_or_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let a = j.enqueue_print("o1", &PrintKind::Sale, false, 10).unwrap();
        let b = j
            .enqueue_print("o1", &PrintKind::Refund("r1".into()), true, 11)
            .unwrap();
        let c = j.enqueue_print("o2", &PrintKind::Sale, false, 12).unwrap();
        j.print_failed(a, "connection refused").unwrap();
        let q = j.print_queue().unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].attempts, 1);
        assert_eq!(q[0].last_error.as_deref(), Some("connection refused"));
        assert_eq!(q[1].kind, PrintKind::Refund("r1".into()));
        assert!(q[1].reprint);
        j.print_done(a, 20).unwrap();
        j.print_skipped(c, "not charged", 21).unwrap();
        let q = j.print_queue().unwrap();
        assert_eq!(q.iter().map(|p| p.id).collect::<Vec<_>>(), vec![b]);
    }

    #[test]
    fn a_slip_claimed_by_one_drain_is_not_printed_by_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut screen = Journal::open(&path).unwrap();
        let mut reprint = Journal::open(&path).unwrap();
        let a = screen
            .enqueue_print("o1", &PrintKind::Sale, false, 10)
            .unwrap();
        let mine = screen.claim_prints(100, 60_000).unwrap();
        assert_eq!(mine.iter().map(|p| p.id).collect::<Vec<_>>(), vec![a]);
        // The other process finds nothing to print while the claim is fresh.
        assert!(reprint.claim_prints(101, 60_000).unwrap().is_empty());
        // A failed try gives it back; a claim left by a process that died goes stale.
        screen.print_failed(a, "offline").unwrap();
        assert_eq!(reprint.claim_prints(102, 60_000).unwrap().len(), 1);
        assert!(screen.claim_prints(103, 60_000).unwrap().is_empty());
        assert_eq!(screen.claim_prints(60_200, 60_000).unwrap().len(), 1);
    }
}
