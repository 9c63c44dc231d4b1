//! Sale rows and their append-only event log.

use super::{Journal, JournalError};
use crate::money::Fen;
use rusqlite::{OptionalExtension, params};

/// Where a sale stands. Everything but Paid, Failed and Reversed is unfinished and is resumed by
/// recovery; Unresolved sales also stay on the cashier's pending list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleState {
    /// Committed before sending: the micropay may or may not have left the till.
    Intent,
    /// Micropay sent; outcome not yet known (USERPAYING, timeout, SYSTEMERROR …).
    Submitted,
    /// Reverse requested and not yet confirmed.
    Reversing,
    Paid,
    /// Definitely not charged.
    Failed,
    /// Reversed: not charged, or charged and refunded by the reverse.
    Reversed,
    /// Could not be settled; retried in the background, never handed over as paid.
    Unresolved,
}

impl SaleState {
    /// The state's name in Chinese (the English one is [`SaleState::as_str`]).
    pub fn zh(self) -> &'static str {
        match self {
            Self::Intent => "待发送",
            Self::Submitted => "已提交",
            Self::Reversing => "撤销中",
            Self::Paid => "已支付",
            Self::Failed => "未扣款",
            Self::Reversed => "已撤销",
            Self::Unresolved => "结果未明",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Submitted => "submitted",
            Self::Reversing => "reversing",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Reversed => "reversed",
            Self::Unresolved => "unresolved",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "intent" => Self::Intent,
            "submitted" => Self::Submitted,
            "reversing" => Self::Reversing,
            "paid" => Self::Paid,
            "failed" => Self::Failed,
            "reversed" => Self::Reversed,
            "unresolved" => Self::Unresolved,
            _ => return None,
        })
    }

    /// True for the three states nothing can change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Paid | Self::Failed | Self::Reversed)
    }
}

/// The intent of a sale, written before anything is sent.
#[derive(Debug, Clone)]
pub struct NewSale {
    pub out_trade_no: String,
    pub total_fee: Fen,
    /// Keyed hash of the payment code; the code itself is never stored.
    pub code_fp: String,
    pub code_masked: String,
    pub device_info: String,
    /// The sale's tag, sent as `attach` (`None` for sales written before tags existed).
    pub attach: Option<String>,
    /// The POS's order id this sale is for (`pay --ref`), if it gave one.
    pub pos_ref: Option<String>,
}

/// A state change plus whatever the reply taught us.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    pub transaction_id: Option<String>,
    pub bank_type: Option<String>,
    pub cash_fee: Option<Fen>,
    pub err_code: Option<String>,
    pub message: Option<String>,
}

/// One line of a sale's append-only event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at_ms: i64,
    pub kind: String,
    pub detail: String,
    pub err_code: Option<String>,
}

/// One sale as stored in the journal; the sale being run is `checkout::flow::Sale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRow {
    pub out_trade_no: String,
    pub total_fee: Fen,
    pub code_fp: String,
    pub code_masked: String,
    pub device_info: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub state: SaleState,
    pub transaction_id: Option<String>,
    pub bank_type: Option<String>,
    pub cash_fee: Option<Fen>,
    pub err_code: Option<String>,
    pub message: Option<String>,
    /// The tag its micropay carried as `attach`, if any.
    pub attach: Option<String>,
    /// The POS's order id (`pay --ref`), if any.
    pub pos_ref: Option<String>,
}

#[cfg(test)]
impl SaleRow {
    /// A paid sale of `fen` under `no` with nothing else set, for unit tests.
    pub(crate) fn paid_for_tests(no: &str, fen: u64) -> SaleRow {
        SaleRow {
            out_trade_no: no.into(),
            total_fee: Fen(fen),
            code_fp: String::new(),
            code_masked: String::new(),
            device_info: String::new(),
            created_ms: 10,
            updated_ms: 10,
            state: SaleState::Paid,
            transaction_id: None,
            bank_type: None,
            cash_fee: None,
            err_code: None,
            message: None,
            attach: None,
            pos_ref: None,
        }
    }
}

pub(super) const SALE_COLUMNS: &str =
    "out_trade_no, total_fee, code_fp, code_masked, device_info, created_ms,
     updated_ms, state, transaction_id, bank_type, cash_fee, err_code, message, attach, pos_ref";

/// The row id of a sale, or `NoSuchSale`.
pub(super) fn sale_id(
    conn: &rusqlite::Connection,
    out_trade_no: &str,
) -> Result<i64, JournalError> {
    conn.query_row(
        "SELECT id FROM sales WHERE out_trade_no = ?1",
        [out_trade_no],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| JournalError::NoSuchSale(out_trade_no.to_string()))
}

pub(super) fn sale_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SaleRow> {
    let state: String = r.get(7)?;
    Ok(SaleRow {
        out_trade_no: r.get(0)?,
        total_fee: r.get(1)?,
        code_fp: r.get(2)?,
        code_masked: r.get(3)?,
        device_info: r.get(4)?,
        created_ms: r.get(5)?,
        updated_ms: r.get(6)?,
        // An unknown state string can only come from a newer build; treat it as unresolved so
        // the sale is looked at rather than silently trusted.
        state: SaleState::from_db(&state).unwrap_or(SaleState::Unresolved),
        transaction_id: r.get(8)?,
        bank_type: r.get(9)?,
        cash_fee: r.get(10)?,
        err_code: r.get(11)?,
        message: r.get(12)?,
        attach: r.get(13)?,
        pos_ref: r.get(14)?,
    })
}

impl Journal {
    /// Commit a sale's intent. Must succeed before the micropay request is sent.
    pub fn insert_intent(&mut self, s: &NewSale, at_ms: i64) -> Result<(), JournalError> {
        let tx = self.write_tx()?;
        let inserted = tx.execute(
            "INSERT INTO sales (out_trade_no, total_fee, code_fp, code_masked, device_info,
                                created_ms, updated_ms, state, attach, pos_ref)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 'intent', ?7, ?8)
             ON CONFLICT(out_trade_no) DO NOTHING",
            params![
                s.out_trade_no,
                s.total_fee,
                s.code_fp,
                s.code_masked,
                s.device_info,
                at_ms,
                s.attach,
                s.pos_ref
            ],
        )?;
        if inserted == 0 {
            return Err(JournalError::DuplicateOrder(s.out_trade_no.clone()));
        }
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO events (sale_id, at_ms, kind, detail) VALUES (?1, ?2, 'intent', ?3)",
            params![id, at_ms, format!("total_fee={}", s.total_fee.0)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Move a sale to `state`, keep what the reply taught us, and log it in the same transaction.
    pub fn transition(
        &mut self,
        out_trade_no: &str,
        state: SaleState,
        t: &Transition,
        at_ms: i64,
    ) -> Result<(), JournalError> {
        let event = super::EventLine {
            kind: "state",
            detail: state.as_str(),
            err_code: t.err_code.as_deref(),
        };
        self.write_state(out_trade_no, state, t, None, event, at_ms)
    }

    /// Append one request/outcome line to a sale's event log (never the code or the key).
    pub fn record_event(
        &mut self,
        out_trade_no: &str,
        kind: &str,
        detail: &str,
        err_code: Option<&str>,
        at_ms: i64,
    ) -> Result<(), JournalError> {
        let n = self.conn.execute(
            "INSERT INTO events (sale_id, at_ms, kind, detail, err_code)
             SELECT id, ?2, ?3, ?4, ?5 FROM sales WHERE out_trade_no = ?1",
            params![out_trade_no, at_ms, kind, detail, err_code],
        )?;
        if n == 0 {
            return Err(JournalError::NoSuchSale(out_trade_no.to_string()));
        }
        Ok(())
    }

    /// One sale by order number.
    pub fn sale(&self, out_trade_no: &str) -> Result<Option<SaleRow>, JournalError> {
        let sql = format!("SELECT {SALE_COLUMNS} FROM sales WHERE out_trade_no = ?1");
        Ok(self
            .conn
            .query_row(&sql, [out_trade_no], sale_from_row)
            .optional()?)
    }

    /// The sales made for one POS order id (`pay --ref`), oldest first.
    pub fn sales_with_ref(&self, pos_ref: &str) -> Result<Vec<SaleRow>, JournalError> {
        let sql = format!("SELECT {SALE_COLUMNS} FROM sales WHERE pos_ref = ?1 ORDER BY id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([pos_ref], sale_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every sale that is not final, oldest first: what recovery must resume.
    pub fn unfinished(&self) -> Result<Vec<SaleRow>, JournalError> {
        let sql = format!(
            "SELECT {SALE_COLUMNS} FROM sales
             WHERE state NOT IN ('paid', 'failed', 'reversed') ORDER BY created_ms, id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], sale_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The event log of one sale, oldest first.
    pub fn events(&self, out_trade_no: &str) -> Result<Vec<Event>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.at_ms, e.kind, e.detail, e.err_code FROM events e
             JOIN sales s ON s.id = e.sale_id WHERE s.out_trade_no = ?1 ORDER BY e.id",
        )?;
        let rows = stmt.query_map([out_trade_no], |r| {
            Ok(Event {
                at_ms: r.get(0)?,
                kind: r.get(1)?,
                detail: r.get(2)?,
                err_code: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_sale(no: &str, fen: u64) -> NewSale {
        NewSale {
            out_trade_no: no.into(),
            total_fee: Fen(fen),
            code_fp: "fp".into(),
            code_masked: "13************4321".into(),
            device_info: "till-1".into(),
            attach: None,
            pos_ref: None,
        }
    }

    fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.db")).unwrap();
        (dir, j)
    }

    #[test]
    fn intent_then_transitions_survive_reopen() {
        let (dir, mut j) = journal();
        j.insert_intent(&new_sale("T1", 1234), 1_000).unwrap();
        j.transition("T1", SaleState::Submitted, &Transition::default(), 1_100)
            .unwrap();
        let paid = Transition {
            transaction_id: Some("4200".into()),
            bank_type: Some("CMB_DEBIT".into()),
            cash_fee: Some(Fen(1234)),
            ..Default::default()
        };
        j.transition("T1", SaleState::Paid, &paid, 1_200).unwrap();
        drop(j);
        let j = Journal::open(&dir.path().join("j.db")).unwrap();
        let s = j.sale("T1").unwrap().unwrap();
        assert_eq!(s.state, SaleState::Paid);
        assert_eq!(s.transaction_id.as_deref(), Some("4200"));
        assert_eq!(s.cash_fee, Some(Fen(1234)));
        assert_eq!((s.created_ms, s.updated_ms), (1_000, 1_200));
        let kinds: Vec<String> = j
            .events("T1")
            .unwrap()
            .into_iter()
            .map(|e| e.detail)
            .collect();
        assert_eq!(kinds, ["total_fee=1234", "submitted", "paid"]);
    }

    #[test]
    fn order_numbers_are_never_reused() {
        let (_dir, mut j) = journal();
        j.insert_intent(&new_sale("T1", 1), 1).unwrap();
        let err = j.insert_intent(&new_sale("T1", 2), 2).unwrap_err();
        assert!(matches!(err, JournalError::DuplicateOrder(_)));
        assert_eq!(j.sale("T1").unwrap().unwrap().total_fee, Fen(1));
    }

    #[test]
    fn unfinished_lists_everything_not_final() {
        let (_dir, mut j) = journal();
        let states = [
            SaleState::Intent,
            SaleState::Submitted,
            SaleState::Reversing,
            SaleState::Paid,
            SaleState::Failed,
            SaleState::Reversed,
            SaleState::Unresolved,
        ];
        for (i, st) in states.iter().enumerate() {
            let no = format!("T{i}");
            j.insert_intent(&new_sale(&no, 100), i as i64).unwrap();
            if *st != SaleState::Intent {
                j.transition(&no, *st, &Transition::default(), i as i64)
                    .unwrap();
            }
        }
        let open: Vec<SaleState> = j.unfinished().unwrap().iter().map(|s| s.state).collect();
        assert_eq!(
            open,
            [
                SaleState::Intent,
                SaleState::Submitted,
                SaleState::Reversing,
                SaleState::Unresolved
            ]
        );
    }

    #[test]
    fn unknown_sale_is_an_error() {
        let (_dir, mut j) = journal();
        assert!(matches!(
            j.transition("nope", SaleState::Paid, &Transition::default(), 0),
            Err(JournalError::NoSuchSale(_))
        ));
        assert!(j.record_event("nope", "x", "y", None, 0).is_err());
    }

    #[test]
    fn read_only_journal_refuses_the_commit() {
        let (dir, mut j) = journal();
        j.insert_intent(&new_sale("T1", 1), 1).unwrap();
        drop(j);
        let path = dir.path().join("j.db");
        let ro = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut j = Journal {
            conn: ro,
            path: path.clone(),
        };
        let err = j.insert_intent(&new_sale("T2", 1), 2).unwrap_err();
        assert!(matches!(err, JournalError::Write(_)), "{err}");
        assert!(err.to_string().contains("payments are disabled"));
        assert!(j.sale("T2").unwrap().is_none());
    }
}
