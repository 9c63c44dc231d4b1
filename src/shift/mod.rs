//! The shift: from one handover to the next. `report` is the pure core; this file reads the
//! journal for it and records a handover (closing), which cannot be edited afterwards.

pub mod report;
pub mod text;

pub use report::{Attention, AttentionKind, Report};

use crate::journal::{ClosedShift, Journal, JournalError};
use crate::words::Bilingual;

/// Why a shift could not be shown or closed.
#[derive(Debug, thiserror::Error)]
pub enum ShiftError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(
        "there is no closed shift {0} in this journal; `paycode shift --date YYYY-MM-DD` lists a day's shifts"
    )]
    NoSuchShift(i64),
    #[error(
        "the report of shift {0} in the journal cannot be read (written by hand or a newer paycode?)"
    )]
    Unreadable(i64),
}

impl Bilingual for ShiftError {
    fn zh(&self) -> String {
        match self {
            Self::Journal(e) => e.zh(),
            Self::NoSuchShift(id) => format!(
                "账本中没有已交班的班次 {id};`paycode shift --date YYYY-MM-DD` 可列出某天的班次"
            ),
            Self::Unreadable(id) => {
                format!("账本中班次 {id} 的报表无法读取(被手工改写或由更新版本写入?)")
            }
        }
    }
}

/// Where the open shift starts: at the last handover, or at the till's first sale or refund.
fn opened_at(journal: &Journal, now_ms: i64) -> Result<i64, JournalError> {
    Ok(match journal.last_shift()? {
        Some(last) => last.closed_ms,
        None => journal.first_activity_ms()?.unwrap_or(now_ms).min(now_ms),
    })
}

/// The open shift of `till` as it stands at `now_ms`.
pub fn current(journal: &Journal, till: &str, now_ms: i64) -> Result<Report, ShiftError> {
    let opened = opened_at(journal, now_ms)?;
    let until = now_ms.max(opened);
    let sales = journal.sales_between(opened, until)?;
    let refunds = journal.refunds_between(opened, until)?;
    let unfinished = journal.unfinished()?;
    let changed = journal.sales_changed_between(opened, opened, until)?;
    Ok(Report::of(
        till,
        (opened, until),
        &report::Rows {
            sales: &sales,
            refunds: &refunds,
            unfinished: &unfinished,
            changed: &changed,
        },
    ))
}

/// Close the open shift at `now_ms` (the handover): its report is kept in the journal as it
/// stands and the next shift opens here.
pub fn close(journal: &mut Journal, till: &str, now_ms: i64) -> Result<Report, ShiftError> {
    let mut report = current(journal, till, now_ms)?;
    // Plain fields always serialize; if that ever failed, nothing would be recorded.
    let kept = serde_json::to_string(&report).map_err(|_| ShiftError::Unreadable(0))?;
    let id = journal.close_shift(till, report.opened_ms, report.until_ms, &kept)?;
    report.closed_id = Some(id);
    Ok(report)
}

fn read(row: ClosedShift) -> Result<Report, ShiftError> {
    let mut report: Report =
        serde_json::from_str(&row.report).map_err(|_| ShiftError::Unreadable(row.id))?;
    report.closed_id = Some(row.id);
    Ok(report)
}

/// A closed shift's report as it was at its handover.
pub fn closed(journal: &Journal, id: i64) -> Result<Report, ShiftError> {
    match journal.shift(id)? {
        Some(row) => read(row),
        None => Err(ShiftError::NoSuchShift(id)),
    }
}

/// The shifts handed over in `[from_ms, to_ms)` (a Beijing day), oldest first.
pub fn closed_between(
    journal: &Journal,
    (from_ms, to_ms): (i64, i64),
) -> Result<Vec<Report>, ShiftError> {
    journal
        .shifts_closed_between(from_ms, to_ms)?
        .into_iter()
        .map(read)
        .collect()
}
