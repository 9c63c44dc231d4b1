//! Start-up recovery and the pending list. Before any new sale, every open sale in the journal
//! (intent, submitted, reversing) is resumed with `Sale::resume`: an orderquery first, then a
//! reverse by the rules — never a second micropay. Unresolved sales stay on the pending list and
//! are retried with backoff (`retry_pending`) until WeChat settles them.

use std::collections::HashMap;
use std::time::Duration;

use super::flow::closing::{self, Closing};
use super::flow::{Millis, Request, ResumePoint, Sale, Summary};
use super::progress::{Outcome, Progress};
use super::runner::{CancelToken, SaleCtx, SaleError, drive, exchange, stop};
use super::till::Till;
use crate::journal::{JournalError, SaleRow, SaleState, Transition};

/// One sale recovery settled (or left unresolved), and the state it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub was: SaleState,
    pub outcome: Outcome,
    /// The POS order id the sale was made for (`pay --ref`), if any.
    pub pos_ref: Option<String>,
}

/// Resume every open sale (intent, submitted, reversing), oldest first. Unresolved sales are
/// left to [`retry_pending`]. Call before accepting a new sale.
pub async fn recover(
    till: &mut Till,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Recovered>, SaleError> {
    let open = till.journal.unfinished().map_err(SaleError::Journal)?;
    let mut out = Vec::new();
    for row in open
        .into_iter()
        .filter(|r| r.state != SaleState::Unresolved)
    {
        out.push(resume(till, &row, &mut progress).await?);
    }
    Ok(out)
}

/// Sales on the pending list: unresolved, do not hand over goods, retried in the background.
pub fn pending(till: &Till) -> Result<Vec<SaleRow>, JournalError> {
    Ok(till
        .journal
        .unfinished()?
        .into_iter()
        .filter(|s| s.state == SaleState::Unresolved)
        .collect())
}

/// Retry the pending sales that are due at `now` by `schedule`; those still unresolved are
/// rescheduled with a longer pause. For the TUI's background task and `paycode recover`.
pub async fn retry_pending(
    till: &mut Till,
    schedule: &mut RetrySchedule,
    now: Millis,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Recovered>, SaleError> {
    let rows = pending(till).map_err(SaleError::Journal)?;
    let nos: Vec<String> = rows.iter().map(|r| r.out_trade_no.clone()).collect();
    let due = schedule.due(&nos, now);
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| due.contains(&r.out_trade_no)) {
        let r = resume(till, row, &mut progress).await?;
        if r.outcome.status() == super::Status::Unresolved {
            schedule.failed_again(&row.out_trade_no, till.clock.now());
        } else {
            schedule.settled(&row.out_trade_no);
        }
        out.push(r);
    }
    Ok(out)
}

/// After a background retry was dropped for a new sale: the sales among `retried` it left open
/// go back to the pending list (unresolved, resumed by reversing later, like any pending sale);
/// final ones are not touched. An interrupted request may have reached WeChat, which the
/// reverse answers: it is idempotent.
pub fn park(till: &mut Till, retried: &[String]) -> Result<(), JournalError> {
    for no in retried {
        let Some(row) = till.journal.sale(no)? else {
            continue;
        };
        if row.state.is_final() || row.state == SaleState::Unresolved {
            continue;
        }
        let t = Transition {
            message: Some("background retry interrupted by a new sale; retried later".into()),
            ..Transition::default()
        };
        let at = till.clock.unix_ms();
        till.journal.transition(no, SaleState::Unresolved, &t, at)?;
        tracing::info!(out_trade_no = %no, "background retry interrupted: back on the pending list");
    }
    Ok(())
}

/// How far back definite failures are closed: a year, as long as WeChat refunds an order. A
/// payment found past the 7-day reverse window goes back through the refund API (the flow's
/// `Final::Refunded`); a 7-day look-back left a hidden payment unreturned when nobody ran
/// `recover` that week (FAULTS.md row 74).
const CLOSE_WITHIN_MS: i64 = 365 * 24 * 3600 * 1000;

/// The sales that ended not charged on the micropay's own answer and are not closed yet (no
/// verified query since), of the last 7 days: [`close_failures`] asks WeChat about them.
pub fn failures_to_close(till: &Till) -> Result<Vec<SaleRow>, JournalError> {
    let now = till.clock.unix_ms();
    let mut out = Vec::new();
    for row in till
        .journal
        .sales_between(now.saturating_sub(CLOSE_WITHIN_MS), i64::MAX)?
    {
        if needs_closing(till, &row)? {
            out.push(row);
        }
    }
    Ok(out)
}

/// How far back a new charge first closes the definite failures (FAULTS.md row 125): a
/// customer told "declined" pays again within minutes; older ones are left to the rounds, so
/// a till with many never costs a sale more than these few queries.
const CLOSE_BEFORE_CHARGE_MS: i64 = 10 * 60 * 1000;

/// The definite failures of the last [`CLOSE_BEFORE_CHARGE_MS`] not closed yet, newest first.
pub fn recent_failures(till: &Till) -> Result<Vec<SaleRow>, JournalError> {
    let now = till.clock.unix_ms();
    let mut out = Vec::new();
    for row in till
        .journal
        .sales_between(now.saturating_sub(CLOSE_BEFORE_CHARGE_MS), i64::MAX)?
    {
        if needs_closing(till, &row)? {
            out.push(row);
        }
    }
    out.reverse();
    Ok(out)
}

/// The event that marks a definite failure closed.
const CLOSED: &str = "closed";

/// Close the definite failures due at `now` by `schedule` (docs/protocol.md §5): see
/// [`close_one`]. Returns the sales whose state changed. Never holds the till: the cashier
/// screen runs it in its interruptible background retry.
pub async fn close_failures(
    till: &mut Till,
    schedule: &mut RetrySchedule,
    now: Millis,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Recovered>, SaleError> {
    let rows = failures_to_close(till).map_err(SaleError::Journal)?;
    let nos: Vec<String> = rows.iter().map(|r| r.out_trade_no.clone()).collect();
    let due = schedule.due(&nos, now);
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| due.contains(&r.out_trade_no)) {
        match close_one(till, row, false, &mut progress).await? {
            Closed::Yes => schedule.settled(&row.out_trade_no),
            Closed::Changed(r) => {
                schedule.settled(&row.out_trade_no);
                out.push(*r);
            }
            Closed::NotYet | Closed::Open | Closed::Watching => {
                schedule.failed_again(&row.out_trade_no, till.clock.now())
            }
        }
    }
    Ok(out)
}

/// How closing one definite failure went.
#[derive(Debug)]
pub enum Closed {
    /// WeChat verified it closed and not charged.
    Yes,
    /// It was paid or still open, and was reversed: its new state.
    Changed(Box<Recovered>),
    /// No verified answer yet, or WeChat's 15 s floor has not passed (when not waiting for it).
    NotYet,
    /// Still open at WeChat (the customer may be typing the password): never reversed as
    /// unproven; asked about again until it ends paid or closed.
    Open,
    /// Still no such order, within the day a late micropay could still create it: not charged
    /// now; asked about again later.
    Watching,
}

/// Close one definite failure: one orderquery; verified not charged closes it as it is; paid or
/// still open is reversed by the flow (the late-payment rule: the cashier was told "not
/// charged"), once WeChat's 15 s floor has passed — `wait` sleeps until then, else it is left
/// for the next round.
pub async fn close_one(
    till: &mut Till,
    row: &SaleRow,
    wait: bool,
    progress: &mut impl FnMut(Progress),
) -> Result<Closed, SaleError> {
    let no = row.out_trade_no.as_str();
    let ctx = SaleCtx::of(row);
    let (reply, _) = exchange(till, &ctx, Request::OrderQuery).await;
    let (line, err_code) = super::adapter::describe(&reply);
    let at = till.clock.unix_ms();
    let young = at < row.created_ms.saturating_add(closing::NOTEXIST_WATCH_MS);
    match closing::after_query(&reply, young) {
        Closing::Closed => {
            let detail = format!("closing query {line}: verified closed");
            if let Err(e) = till
                .journal
                .record_event(no, CLOSED, &detail, err_code.as_deref(), at)
            {
                return Err(stop(till, &ctx, e));
            }
            Ok(Closed::Yes)
        }
        Closing::Later => Ok(Closed::NotYet),
        Closing::Open => Ok(Closed::Open),
        Closing::Watch => Ok(Closed::Watching),
        Closing::Reverse if at < row.created_ms + floor_ms(till) && !wait => Ok(Closed::NotYet),
        Closing::Reverse => {
            let floor_at = row.created_ms + floor_ms(till);
            if at < floor_at {
                let pause = u64::try_from(floor_at - at).unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            let at = till.clock.unix_ms();
            let detail = format!(
                "closing query {line}: the order is not closed although the cashier was told not charged; reversing it"
            );
            tracing::warn!(out_trade_no = no, %line, "a definite failure is not closed at WeChat: reversing");
            if let Err(e) =
                till.journal
                    .record_event(no, "closing", &detail, err_code.as_deref(), at)
            {
                return Err(stop(till, &ctx, e));
            }
            let why = "reverse: closing a definite failure";
            match super::settle::drive_reverse(till, row, why, progress).await {
                Ok(outcome) => Ok(Closed::Changed(Box::new(Recovered {
                    was: row.state,
                    outcome,
                    pos_ref: row.pos_ref.clone(),
                }))),
                Err(super::settle::SettleError::Sale(e)) => Err(e),
                Err(e) => {
                    tracing::warn!(out_trade_no = no, error = %e, "closing reverse refused");
                    Ok(Closed::NotYet)
                }
            }
        }
    }
}

/// True when `row` is a definite failure WeChat has not confirmed closed yet.
pub fn needs_closing(till: &Till, row: &SaleRow) -> Result<bool, JournalError> {
    if row.state != SaleState::Failed {
        return Ok(false);
    }
    let summary = till.summary(&row.out_trade_no)?;
    let open = summary.as_ref().is_some_and(closing::needs_closing);
    Ok(open
        && !till
            .journal
            .events(&row.out_trade_no)?
            .iter()
            .any(|e| e.kind == CLOSED))
}

/// WeChat's floor before a reverse, as the till's policy has it.
fn floor_ms(till: &Till) -> i64 {
    i64::try_from(till.policy.reverse_not_before.as_millis()).unwrap_or(i64::MAX)
}

/// Resume one open or unresolved sale from the journal.
pub async fn resume(
    till: &mut Till,
    row: &SaleRow,
    progress: &mut impl FnMut(Progress),
) -> Result<Recovered, SaleError> {
    let summary = till
        .summary(&row.out_trade_no)
        .map_err(SaleError::Journal)?;
    let point = resume_point(row.state, summary.as_ref());
    let submitted_at = summary
        .as_ref()
        .map_or(Millis(u64::try_from(row.created_ms).unwrap_or(0)), |s| {
            s.submitted_at
        });
    tracing::info!(out_trade_no = %row.out_trade_no, state = row.state.as_str(), ?point, "resuming sale");
    let at = till.clock.unix_ms();
    let detail = format!("resume from {} ({point:?})", row.state.as_str());
    if let Err(e) = till
        .journal
        .record_event(&row.out_trade_no, "recover", &detail, None, at)
    {
        return Err(stop(till, &SaleCtx::of(row), e));
    }
    progress(Progress::Recovering {
        out_trade_no: row.out_trade_no.clone(),
        total_fee: row.total_fee,
    });
    let sale = Sale::resume(
        till.policy.clone(),
        row.total_fee,
        submitted_at,
        point,
        summary.as_ref().map(|s| s.proof).unwrap_or_default(),
        till.clock.now(),
    );
    let ctx = SaleCtx::of(row);
    let outcome = drive(till, &ctx, sale, &CancelToken::new(), &mut *progress).await?;
    Ok(Recovered {
        was: row.state,
        outcome,
        pos_ref: row.pos_ref.clone(),
    })
}

/// Where to pick a sale up. An unresolved sale was given up while reversing: it goes back to
/// reversing (query first; a paid order found then is reversed, i.e. refunded, since the cashier
/// was told not to hand over the goods).
pub fn resume_point(state: SaleState, summary: Option<&Summary>) -> ResumePoint {
    let attempts = summary.map_or(0, |s| s.reverse_attempts);
    match (state, summary.and_then(|s| s.resume)) {
        (SaleState::Unresolved, _) => ResumePoint::Reversing { attempts },
        (_, Some(p)) => p,
        (SaleState::Reversing, None) => ResumePoint::Reversing { attempts },
        _ => ResumePoint::Submitted,
    }
}

/// Backoff for background retries of pending sales: `base`, doubling, at most `max`.
#[derive(Debug, Clone)]
pub struct RetrySchedule {
    base: Duration,
    max: Duration,
    next: HashMap<String, (Millis, u32)>,
}

impl RetrySchedule {
    /// A schedule where every pending sale is due at once.
    pub fn new(base: Duration, max: Duration) -> RetrySchedule {
        RetrySchedule {
            base,
            max,
            next: HashMap::new(),
        }
    }

    /// The order numbers among `pending` whose retry is due at `now` (never tried: due).
    pub fn due(&self, pending: &[String], now: Millis) -> Vec<String> {
        pending
            .iter()
            .filter(|no| self.next.get(*no).is_none_or(|(at, _)| *at <= now))
            .cloned()
            .collect()
    }

    /// The retry left it unresolved: try again later, twice as late as last time.
    pub fn failed_again(&mut self, out_trade_no: &str, now: Millis) {
        let tries = self.next.get(out_trade_no).map_or(0, |(_, n)| *n);
        let pause = self
            .base
            .saturating_mul(1u32 << tries.min(16))
            .min(self.max);
        self.next
            .insert(out_trade_no.to_string(), (now + pause, tries + 1));
    }

    /// Settled: forget it.
    pub fn settled(&mut self, out_trade_no: &str) {
        self.next.remove(out_trade_no);
    }

    /// When the next retry of this sale is due, if it was tried before.
    pub fn next_at(&self, out_trade_no: &str) -> Option<Millis> {
        self.next.get(out_trade_no).map(|(at, _)| *at)
    }
}

/// `paycode recover` as one step, for the command line and the local API: resume open sales,
/// retry every pending one once, close the definite failures WeChat has not confirmed closed,
/// and follow open refunds. Err: why it stopped, and the exit status.
pub async fn recover_now(
    till: &mut Till,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Recovered>, (crate::words::Words, u8)> {
    use crate::words::Bilingual;
    let stop = |e: SaleError| (e.words(), e.exit_code());
    let mut done = recover(till, &mut progress).await.map_err(stop)?;
    let mut schedule = RetrySchedule::new(
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(600),
    );
    let now = till.clock().now();
    done.extend(
        retry_pending(till, &mut schedule, now, &mut progress)
            .await
            .map_err(stop)?,
    );
    done.extend(
        close_failures(till, &mut schedule, now, &mut progress)
            .await
            .map_err(stop)?,
    );
    super::refund::follow_open(till, true)
        .await
        .map_err(|e| (e.words(), 3))?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(resume: Option<ResumePoint>, attempts: u32) -> Summary {
        Summary {
            submitted_at: Millis(5),
            resume,
            queries: 0,
            reverse_attempts: attempts,
            cancelled: false,
            problem: None,
            outcome: None,
            proof: Default::default(),
        }
    }

    #[test]
    fn resume_points() {
        use ResumePoint::*;
        assert_eq!(resume_point(SaleState::Intent, None), Submitted);
        assert_eq!(resume_point(SaleState::Submitted, None), Submitted);
        assert_eq!(
            resume_point(SaleState::Reversing, None),
            Reversing { attempts: 0 }
        );
        let s = summary(Some(Reversing { attempts: 3 }), 3);
        assert_eq!(
            resume_point(SaleState::Reversing, Some(&s)),
            Reversing { attempts: 3 }
        );
        let done = summary(None, 10);
        assert_eq!(
            resume_point(SaleState::Unresolved, Some(&done)),
            Reversing { attempts: 10 }
        );
        let polling = summary(Some(Submitted), 0);
        assert_eq!(resume_point(SaleState::Intent, Some(&polling)), Submitted);
    }

    #[test]
    fn retry_schedule_backs_off_and_caps() {
        let mut s = RetrySchedule::new(Duration::from_secs(30), Duration::from_secs(100));
        let p = vec!["A".to_string(), "B".to_string()];
        assert_eq!(s.due(&p, Millis(0)), p);
        s.failed_again("A", Millis(0));
        assert_eq!(s.next_at("A"), Some(Millis(30_000)));
        assert_eq!(s.due(&p, Millis(29_999)), ["B"]);
        assert_eq!(s.due(&p, Millis(30_000)), p);
        s.failed_again("A", Millis(30_000));
        assert_eq!(s.next_at("A"), Some(Millis(90_000)));
        s.failed_again("A", Millis(90_000));
        assert_eq!(s.next_at("A"), Some(Millis(190_000)), "capped at max");
        s.settled("A");
        assert_eq!(s.next_at("A"), None);
    }
}
