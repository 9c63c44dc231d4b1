//! The till's side of the runtime: one task owns the `Till` and performs the app's commands in
//! order (sale, history, pending, refund, diagnostics), sending results back as `Msg`s. It runs
//! start-up recovery before anything else and retries the pending list while idle.
#![allow(clippy::disallowed_methods)] // IO edge: the worker runs sales and diagnostics against the clock.

use super::app::{
    DiagInfo, HistoryData, Msg, NetHealth, PrinterLight, QueriedSale, RecoveryReport, RefundUpdate,
    TillCmd, Words,
};
use crate::api::Hub;
use crate::api::admin::{AdminJob, Done};
use crate::api::job::{Held, TillAnswer};
use crate::checkout::pos_ref::PosRef;
use crate::checkout::progress::{Outcome, Progress, Status};
use crate::checkout::recovery::park;
use crate::checkout::refund::{RefundProgress, refund};
use crate::checkout::settle::{accept_sale, query_sale, reverse_sale};
use crate::checkout::statement::{StatementError, check_day, compare_day};
use crate::checkout::{
    CancelToken, RetrySchedule, SaleError, Till, failures_to_close, pending, recover,
    run_sale_for_ref_cancellable,
};
use crate::journal::RefundState;
use crate::journal::export;
use crate::words::Bilingual;
use std::time::{Duration, Instant};
use time::Date;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// How often the idle worker probes the network and retries pending sales.
const IDLE_EVERY: Duration = Duration::from_secs(30);
/// How long a refund is followed with refundquery before the screen gives up waiting.
const REFUND_WAIT: Duration = Duration::from_secs(60);

/// A command for the till task, with the token that stops it if it is a sale (the runtime keeps
/// the running sale's to answer `Cmd::CancelSale`).
pub type Job = (TillCmd, CancelToken);

/// Messages to the UI loop, stamped with when they happened.
pub type Outbox = UnboundedSender<(Msg, Instant)>;

/// A pending-screen query or accept, as the screen shows it: the outcome, or why there is none.
fn pending_result(
    asked: Result<crate::checkout::settle::QueryAnswer, crate::checkout::settle::SettleError>,
) -> Result<crate::checkout::Outcome, Words> {
    match asked {
        Ok(a) => a.outcome.ok_or_else(|| {
            Words::new(
                format!("still open: WeChat says {}", a.wechat),
                format!("仍未结束:微信返回 {}", a.wechat),
            )
        }),
        Err(e) => Err(e.words()),
    }
}

fn send(tx: &Outbox, msg: Msg) {
    // The UI loop is gone only when the program is quitting.
    let _ = tx.send((msg, Instant::now()));
}

/// A runner progress event for the waiting screen (`None`: not about the running sale).
pub fn progress_of(p: Progress) -> Option<Progress> {
    // The outcome itself is sent once, when the sale returns (it was sent twice).
    (!matches!(p, Progress::Recovering { .. } | Progress::Done(_))).then_some(p)
}

fn today() -> Date {
    let ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    crate::beijing::day_of(ms)
}

/// Run the till task until the job channel closes; `held` is the POS order being served and
/// `hub` where every sale's progress is published (the event stream, the customer display).
pub async fn run(
    till: Till,
    (jobs, admin): (UnboundedReceiver<Job>, UnboundedReceiver<AdminJob>),
    tx: Outbox,
    held: Held,
    hub: Hub,
) {
    run_serving(till, (jobs, Some(admin)), tx, IDLE_EVERY, held, hub).await;
}

/// [`run`] with the idle pause between background retries as a parameter.
pub async fn run_every(till: Till, jobs: UnboundedReceiver<Job>, tx: Outbox, idle: Duration) {
    run_serving(till, (jobs, None), tx, idle, Held::default(), Hub::new(16)).await;
}

/// [`run_every`] for a screen that serves the local API: a sale for a POS order answers the
/// order `held` keeps.
pub async fn run_serving(
    mut till: Till,
    (mut jobs, mut admin): (UnboundedReceiver<Job>, Option<UnboundedReceiver<AdminJob>>),
    tx: Outbox,
    idle: Duration,
    held: Held,
    hub: Hub,
) {
    // The printer works on its own thread: a slip never holds the next sale.
    let spool = till.config().printer.clone().map(|p| {
        let out = tx.clone();
        crate::printer::Spooler::start(p, till.config().journal.path.clone(), move |r| {
            send(&out, Msg::Printer(printer_light(&r)));
        })
    });
    send(&tx, Msg::Recovery(RecoveryReport::default()));
    let report = match recover(&mut till, |_| {}).await {
        Ok(list) => RecoveryReport {
            resolved: list.into_iter().map(|r| r.outcome).collect(),
            still_pending: pending(&till).map_or(0, |p| p.len()),
            done: true,
            background: false,
        },
        Err(e) => {
            send(&tx, Msg::JournalFailed(e.words()));
            RecoveryReport {
                done: true,
                ..RecoveryReport::default()
            }
        }
    };
    send(&tx, Msg::Recovery(report));
    if let Some(d) = till.payments_disabled() {
        send(&tx, Msg::JournalFailed(d.clone()));
    }
    probe(&till, &tx).await;
    count_pending(&till, &tx);
    let mut schedule = RetrySchedule::new(idle, Duration::from_secs(600));
    // The idle pass asks about unconfirmed refunds on its first run and then once an hour.
    let mut passes: u64 = 0;
    // The rounds keep their own clock: commands more often than `idle` must not put them off
    // for ever (row 147).
    let mut next_round = tokio::time::Instant::now() + idle;
    loop {
        let job = tokio::select! {
            job = jobs.recv() => job,
            Some(a) = next_admin(&mut admin) => {
                // Between sales, one at a time: a POS refund or a handed-over command.
                let since = Instant::now();
                if let Some(Done::Refunded { out_trade_no, out_refund_no }) = a.run(&mut till).await
                    && let Some(s) = spool.as_ref().filter(|_| till.config().printer.as_ref().is_some_and(|p| p.print_on_payment))
                {
                    s.refund(&out_trade_no, &out_refund_no);
                }
                light_after(&till, since, &tx);
                count_pending(&till, &tx);
                continue;
            }
            () = tokio::time::sleep_until(next_round) => {
                // Background work yields to the cashier: a command that arrives meanwhile
                // drops it at once (a scan never waits behind a retry, network down or not),
                // and the sales it left open go back to the pending list.
                // The failures being closed too: a reverse of one may be cut short.
                let retrying: Vec<String> = pending(&till)
                    .unwrap_or_default()
                    .into_iter()
                    .chain(failures_to_close(&till).unwrap_or_default())
                    .map(|r| r.out_trade_no)
                    .collect();
                let interrupted = tokio::select! {
                    biased;
                    job = jobs.recv() => Some(job),
                    () = background(&mut till, &mut schedule, passes, &tx) => None,
                };
                passes += 1;
                next_round = tokio::time::Instant::now() + idle;
                match interrupted {
                    None => continue,
                    Some(job) => {
                        if let Err(e) = park(&mut till, &retrying) {
                            send(&tx, Msg::JournalFailed(e.words()));
                        }
                        job
                    }
                }
            }
        };
        let Some(job) = job else { return };
        let (cmd, cancel) = job;
        let since = Instant::now();
        perform(&mut till, cmd, &cancel, &tx, spool.as_ref(), (&held, &hub)).await;
        light_after(&till, since, &tx);
        count_pending(&till, &tx);
    }
}

/// The next handed-over command; never, when the screen serves no API.
async fn next_admin(admin: &mut Option<UnboundedReceiver<AdminJob>>) -> Option<AdminJob> {
    match admin {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The idle work: probe the network, retry the pending sales that are due, report those whose
/// state changed.
async fn background(till: &mut Till, schedule: &mut RetrySchedule, pass: u64, tx: &Outbox) {
    probe(till, tx).await;
    let now = till.clock().now();
    let mut done = crate::checkout::retry_pending(till, schedule, now, |_| {})
        .await
        .unwrap_or_default();
    // A definite failure WeChat has not confirmed closed: asked about, reversed if need be.
    done.extend(
        crate::checkout::close_failures(till, schedule, now, |_| {})
            .await
            .unwrap_or_default(),
    );
    // Accepted refunds nobody waited for are followed to their end; unconfirmed ones are
    // asked about on the first pass and then once an hour.
    let hourly = pass.is_multiple_of(3600 / IDLE_EVERY.as_secs().max(1));
    let _ = crate::checkout::refund::follow_open(till, hourly).await;
    if done
        .iter()
        .any(|r| r.outcome.status() != Status::Unresolved)
    {
        // Only sales whose state changed are reported.
        let list = pending(till).unwrap_or_default();
        send(
            tx,
            Msg::PendingSettled {
                resolved: done
                    .into_iter()
                    .map(|r| r.outcome)
                    .filter(|o| o.status() != Status::Unresolved)
                    .collect(),
                still_pending: list.len(),
            },
        );
        send(tx, Msg::Pending(list));
    }
    count_pending(till, tx);
}

/// The spooler's report as the status line shows it.
pub fn printer_light(r: &crate::printer::spooler::Report) -> PrinterLight {
    match &r.state {
        Ok(s) => PrinterLight {
            ok: s.can_print() && r.queued == 0,
            text: s.short(),
            detail: s.words(),
            queued: r.queued,
        },
        Err(e) => PrinterLight {
            ok: false,
            text: e.short(),
            detail: e.words(),
            queued: r.queued,
        },
    }
}

async fn perform(
    till: &mut Till,
    cmd: TillCmd,
    cancel: &CancelToken,
    tx: &Outbox,
    spool: Option<&crate::printer::Spooler>,
    (held, hub): (&Held, &Hub),
) {
    // Reprints and handover reports go to any configured printer.
    let printer = spool;
    // Slips are queued after the journal has the ending, and only when asked for.
    let spool = spool.filter(|_| {
        till.config()
            .printer
            .as_ref()
            .is_some_and(|p| p.print_on_payment)
    });
    match cmd {
        TillCmd::StartSale {
            amount,
            code,
            pos_ref: None,
        } => {
            let progress_tx = tx.clone();
            let res = crate::checkout::run_sale_cancellable(till, amount, code, cancel, |p| {
                hub.progress(None, &p);
                if let Some(p) = progress_of(p) {
                    send(&progress_tx, Msg::Sale(p));
                }
            })
            .await;
            match res {
                Ok(c) => sale_done(till, &c.outcome, &c.closed, tx, spool),
                Err(e) => sale_error(till, &e, tx),
            }
        }
        TillCmd::StartSale {
            amount,
            code,
            pos_ref: Some(r),
        } => {
            // The POS may have hung up meanwhile: the sale is still its ref's, answered on
            // its next ask (GET /v1/sales/{ref}, or the same POST again).
            let (pos_ref, reply, pos_cancel) = match held.take(&r) {
                Some(o) => (o.pos_ref, Some(o.reply), Some(o.cancel)),
                None => match PosRef::parse(&r) {
                    Ok(p) => (p, None, None),
                    Err(e) => return send(tx, Msg::SaleRefused(e.words())),
                },
            };
            // The POS's cancel (POST /v1/sales/{ref}/cancel) stops it as the cashier's Esc does.
            let link = pos_cancel.map(|pc| {
                let screen = cancel.clone();
                tokio::spawn(async move {
                    pc.cancelled().await;
                    screen.cancel();
                })
            });
            let progress_tx = tx.clone();
            let res = run_sale_for_ref_cancellable(till, amount, code, &pos_ref, cancel, |p| {
                hub.progress(Some(pos_ref.as_str()), &p);
                if let Some(p) = progress_of(p) {
                    send(&progress_tx, Msg::Sale(p));
                }
            })
            .await;
            if let Some(l) = link {
                l.abort();
            }
            match &res {
                // An earlier sale of the ref answers again: its slip was printed then, and the
                // stream told its end then (a retry publishes nothing).
                Ok(s) if s.existing => send(tx, Msg::Sale(Progress::Done(s.outcome.clone()))),
                Ok(s) => sale_done(till, &s.outcome, &s.closed, tx, spool),
                Err(e) => sale_error(till, e, tx),
            }
            if let Some(reply) = reply {
                reply.send(TillAnswer::Sale(res));
            }
        }
        TillCmd::LoadHistory(date) => {
            let day = date.unwrap_or_else(today);
            let (from, to) = crate::beijing::day_bounds(day);
            let j = till.journal();
            match j
                .sales_between(from, to)
                .and_then(|sales| Ok((sales, j.refunds_for_day(from, to)?)))
            {
                Ok((sales, refunds)) => send(
                    tx,
                    Msg::History(HistoryData {
                        date: day,
                        sales,
                        refunds,
                    }),
                ),
                Err(e) => send(tx, Msg::Exported(Err(e.words()))),
            }
        }
        TillCmd::ExportCsv(day) => send(tx, Msg::Exported(export_day(till, day))),
        TillCmd::Reconcile(day) => {
            let words = |e: StatementError| e.words();
            let r = match check_day(day, today(), till.is_simulated()) {
                Ok(()) => compare_day(till, day).await.map_err(words),
                Err(e) => Err(words(e)),
            };
            send(tx, Msg::Reconciled(day, r));
        }
        TillCmd::QuerySale(no) => {
            let result = query_sale(till, &no)
                .await
                .map(|a| QueriedSale {
                    wechat: a.wechat,
                    before: a.before,
                    after: a.after,
                    returned: a.returned,
                })
                .map_err(|e| e.words());
            send(
                tx,
                Msg::HistoryQueried {
                    out_trade_no: no,
                    result,
                },
            );
        }
        TillCmd::LoadPending => send(tx, Msg::Pending(pending(till).unwrap_or_default())),
        TillCmd::QueryPending(no) => {
            let result = pending_result(query_sale(till, &no).await);
            send(
                tx,
                Msg::PendingDone {
                    out_trade_no: no,
                    result,
                },
            );
        }
        TillCmd::AcceptPending(no) => {
            let result = pending_result(accept_sale(till, &no).await);
            send(
                tx,
                Msg::PendingDone {
                    out_trade_no: no,
                    result,
                },
            );
        }
        TillCmd::ReversePending(no) => {
            let result = reverse_sale(till, &no, |_| {}).await.map_err(|e| e.words());
            send(
                tx,
                Msg::PendingDone {
                    out_trade_no: no,
                    result,
                },
            );
        }
        TillCmd::Refund {
            out_trade_no,
            refund_fee,
            reason,
            authorised,
            ..
        } => {
            let progress_tx = tx.clone();
            let res = refund(
                till,
                &out_trade_no,
                Some(refund_fee),
                &reason,
                authorised,
                Some(REFUND_WAIT),
                |p| {
                    if let RefundProgress::Processing { .. } = p {
                        send(&progress_tx, Msg::Refund(RefundUpdate::Accepted));
                    }
                },
            )
            .await;
            if let (Some(s), Ok(o)) = (spool, &res)
                && o.refund.state.may_hold_money()
            {
                s.refund(&o.refund.out_trade_no, &o.refund.out_refund_no);
            }
            let update = match res {
                Ok(o) if o.refund.state == RefundState::Success => {
                    RefundUpdate::Succeeded(o.refund.refund_fee)
                }
                Ok(o) => {
                    let r = &o.refund;
                    let said = r.words();
                    let code = r
                        .err_code
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default();
                    let no = &r.out_refund_no;
                    RefundUpdate::Failed(Words::new(
                        format!("refund {no}: {}{code}", said.en),
                        format!("退款 {no}:{}{code}", said.zh),
                    ))
                }
                Err(e) => RefundUpdate::Failed(e.words()),
            };
            send(tx, Msg::Refund(update));
        }
        TillCmd::LoadDiagnostics => {
            let info = diagnostics(till, tx).await;
            send(tx, Msg::Diagnostics(info));
        }
        TillCmd::LoadShift => send(tx, Msg::Shift(till.shift_report().map_err(|e| e.words()))),
        TillCmd::CloseShift => {
            let closed = till.hand_over();
            if let Ok(r) = &closed {
                tracing::info!(
                    shift = r.closed_id,
                    paid = r.paid.0,
                    refunded = r.refunded.0,
                    "shift handed over"
                );
                // The handover report is printed (queued first, so a printer away keeps it).
                if let (Some(p), Some(id)) = (printer, r.closed_id) {
                    p.shift(id, false);
                }
            }
            send(tx, Msg::Shift(closed.map_err(|e| e.words())));
        }
        TillCmd::Reprint(no) => {
            if let Some(p) = printer {
                p.reprint(&no);
            }
        }
        TillCmd::ReprintShift(id) => {
            if let Some(p) = printer {
                p.shift(id, true);
            }
        }
    }
}

/// A refused or stopped sale: back to entry with the reason, or unresolved if it was sent.
/// A sale returned: the result on screen, its slip queued, and the recent declines it closed
/// first (a refusal that had hid a payment, now returned) reported.
fn sale_done(
    till: &Till,
    o: &Outcome,
    closed: &[crate::checkout::Recovered],
    tx: &Outbox,
    spool: Option<&crate::printer::Spooler>,
) {
    send(tx, Msg::Sale(Progress::Done(o.clone())));
    if let Some(s) = spool.filter(|_| o.status() != Status::Failed) {
        s.sale(&o.out_trade_no);
    }
    if !closed.is_empty() {
        send(
            tx,
            Msg::PendingSettled {
                resolved: closed.iter().map(|r| r.outcome.clone()).collect(),
                still_pending: pending(till).map(|l| l.len()).unwrap_or(0),
            },
        );
    }
}

fn sale_error(till: &Till, e: &SaleError, tx: &Outbox) {
    let words = e.words();
    if let SaleError::Stopped {
        out_trade_no,
        total_fee,
        ..
    } = e
    {
        send(tx, Msg::JournalFailed(words.clone()));
        send(
            tx,
            Msg::Sale(Progress::Done(Outcome {
                out_trade_no: out_trade_no.clone(),
                total_fee: *total_fee,
                result: crate::checkout::flow::Final::Unresolved { why: words.en },
                transaction_id: None,
                bank_type: None,
                cash_fee: None,
                note: None,
            })),
        );
        return;
    }
    if matches!(e, SaleError::Journal(_) | SaleError::PaymentsDisabled(_))
        || till.payments_disabled().is_some()
    {
        send(tx, Msg::JournalFailed(words.clone()));
    }
    send(tx, Msg::SaleRefused(words));
}

fn export_day(till: &Till, day: Date) -> Result<String, Words> {
    let (from, to) = crate::beijing::day_bounds(day);
    let j = till.journal();
    let sales = j.sales_between(from, to).map_err(|e| e.words())?;
    let refunds = j.refunds_for_day(from, to).map_err(|e| e.words())?;
    let lang = till.config().ui.language;
    let dir = till.config().journal.log_dir.with_file_name("exports");
    let path = dir.join(format!("paycode-{day}.csv"));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, export::csv(&sales, &refunds, lang)))
        .map_err(|e| {
            Words::new(
                format!("cannot write {}: {e}", path.display()),
                format!("无法写入 {}:{e}", path.display()),
            )
        })?;
    Ok(path.display().to_string())
}

/// Time a HEAD to the API host (also keeps the connection warm); the light it sends also
/// weighs the latest real call (`NetHealth::of`).
async fn probe(till: &Till, tx: &Outbox) -> Option<Duration> {
    let start = Instant::now();
    let ok = till.client().warm_up().await.is_ok();
    let took = ok.then(|| start.elapsed());
    send(tx, Msg::Network(NetHealth::of(last_call(till), Some(took))));
    took
}

/// The latest call to WeChat as the light reads it: (how long ago, how long it took, ok).
fn last_call(till: &Till) -> Option<(Duration, Duration, bool)> {
    till.client()
        .last_call()
        .map(|c| (c.at.elapsed(), c.took, c.ok))
}

/// The pending list's length, for the status line.
fn count_pending(till: &Till, tx: &Outbox) {
    if let Ok(p) = pending(till) {
        send(tx, Msg::PendingCount(p.len()));
    }
}

/// After a command: the light from its calls, if it made any.
fn light_after(till: &Till, since: Instant, tx: &Outbox) {
    if till.client().last_call().is_some_and(|c| c.at >= since) {
        send(tx, Msg::Network(NetHealth::of(last_call(till), None)));
    }
}

async fn diagnostics(till: &Till, tx: &Outbox) -> DiagInfo {
    let now_unix = time::OffsetDateTime::now_utc().unix_timestamp();
    let health = crate::checkout::health::probe(till.link(), till.config(), now_unix).await;
    let api_latency = health.api.map_err(|e| e.words());
    let clock_skew_secs = health.clock_skew_secs;
    send(
        tx,
        Msg::Network(NetHealth::of(
            last_call(till),
            Some(api_latency.as_ref().ok().copied()),
        )),
    );
    let cfg = till.config();
    let api_host = till
        .simulator()
        .map(|s| s.base_url.clone())
        .unwrap_or_else(|| match &cfg.wechat.base_url {
            crate::config::BaseUrl::Url(u) => u.clone(),
            crate::config::BaseUrl::Simulator => "simulator".into(),
        });
    let cert_days = health
        .certificate
        .map(|(file, days)| days.map_err(|e| format!("{}: {e}", file.display())));
    DiagInfo {
        api_latency: Some(api_latency),
        api_host,
        journal_path: till.journal().path().display().to_string(),
        journal_bytes: till.journal().size_bytes(),
        cert_days,
        clock_skew_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::flow::Final;
    use crate::money::Fen;

    #[test]
    fn runner_progress_maps_to_the_waiting_screen() {
        let no = || "till-1-1".to_string();
        assert_eq!(
            progress_of(Progress::Recovering {
                out_trade_no: no(),
                total_fee: Fen(1)
            }),
            None
        );
        assert_eq!(
            progress_of(Progress::WaitingForPassword {
                out_trade_no: no(),
                remaining: Duration::from_secs(7),
                queries: 3,
                reverses: true,
            }),
            Some(Progress::WaitingForPassword {
                out_trade_no: no(),
                remaining: Duration::from_secs(7),
                queries: 3,
                reverses: true,
            })
        );
        assert_eq!(
            progress_of(Progress::Reversing {
                out_trade_no: no(),
                attempt: 2,
                remaining: None,
            }),
            Some(Progress::Reversing {
                out_trade_no: no(),
                attempt: 2,
                remaining: None,
            })
        );
        let outcome = Outcome {
            out_trade_no: no(),
            total_fee: Fen(1250),
            result: Final::Reversed { refunded: true },
            transaction_id: Some("42".into()),
            bank_type: None,
            cash_fee: Some(Fen(1000)),
            note: None,
        };
        assert_eq!(
            progress_of(Progress::Done(outcome)),
            None,
            "sent once, by perform"
        );
    }
}
