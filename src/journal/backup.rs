//! A consistent copy of the journal while paycode runs: SQLite's `VACUUM INTO` reads one
//! snapshot (WAL readers never block the writer) and writes a compact, self-contained file.

use super::{Journal, JournalError};
use std::path::Path;

impl Journal {
    /// Write a consistent copy of the whole journal to `to`, which must not exist yet.
    pub fn backup_to(&self, to: &Path) -> Result<(), JournalError> {
        let target = to.to_string_lossy();
        self.conn.execute("VACUUM INTO ?1", [target.as_ref()])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::journal::{Journal, NewSale, SaleState, Transition};
    use crate::money::Fen;

    #[test]
    fn the_copy_is_a_journal_with_every_sale() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let sale = NewSale {
            out_trade_no: "T1".into(),
            total_fee: Fen(100),
            code_fp: "fp".into(),
            code_masked: "13************6789".into(),
            device_info: "d".into(),
            attach: None,
            pos_ref: None,
        };
        j.insert_intent(&sale, 1).unwrap();
        j.transition("T1", SaleState::Paid, &Transition::default(), 2)
            .unwrap();
        let copy = dir.path().join("copy.db");
        j.backup_to(&copy).unwrap();
        // Refused rather than overwritten.
        assert!(j.backup_to(&copy).is_err());
        let b = Journal::open(&copy).unwrap();
        assert_eq!(b.sale("T1").unwrap().unwrap().state, SaleState::Paid);
    }
}
