//! The print queue: slips rendered from the journal and sent while the printer answers.

use super::PrintError;
use super::port::Port;
use crate::config::{Config, PrinterConfig};
use crate::journal::{Journal, JournalError, PrintKind, QueuedPrint};
use crate::receipt::build::{self, Header, NotPrintable};
use crate::receipt::escpos::{encode, status_request};
use crate::receipt::{Format, PrinterState, Slip, SlipLanguage};
use crate::words::{Bilingual, Language, Words};

/// A claim this old was left by a process that stopped while printing.
const CLAIM_STALE_MS: i64 = 60_000;

/// What one pass over the queue did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drained {
    pub printed: usize,
    /// Slips that can never print (their sale was not charged, or is not in the journal).
    pub skipped: usize,
    /// Still queued.
    pub left: usize,
    /// What the printer said, if it was asked (`None`: nothing was queued).
    pub state: Option<Result<PrinterState, PrintError>>,
}

/// Ask the printer for its state (DLE EOT 1, then 2 when offline, and 4).
fn status(port: &mut Port, cfg: &PrinterConfig) -> PrinterState {
    let mut ask = |n: u8| {
        port.send(&status_request(n), cfg.timeout).ok()?;
        port.reply_byte(cfg.timeout)
    };
    let printer = ask(1);
    if printer.is_none() {
        // A device that does not answer the first question answers none.
        return PrinterState::NoReply;
    }
    let offline = printer.filter(|b| b & 0x08 != 0).and_then(|_| ask(2));
    let paper = ask(4);
    PrinterState::from_replies(printer, offline, paper)
}

/// Connect and ask the printer's state (for `paycode check`, the status line, F5).
pub fn probe(cfg: &PrinterConfig) -> Result<PrinterState, PrintError> {
    let mut port = Port::open(&cfg.transport, cfg.timeout)?;
    Ok(status(&mut port, cfg))
}

/// Send one slip now, outside the queue (a report: nothing in the journal to render it from).
pub fn print_slip(cfg: &PrinterConfig, slip: &Slip) -> Result<PrinterState, PrintError> {
    let mut port = Port::open(&cfg.transport, cfg.timeout)?;
    let state = status(&mut port, cfg);
    if !state.can_print() {
        return Err(PrintError::NotReady(state));
    }
    port.send(&encode(slip, &cfg.format), cfg.timeout)
        .map_err(|e| PrintError::Write {
            printer: cfg.transport.to_string(),
            why: e.to_string(),
        })?;
    Ok(state)
}

/// A queued slip as it prints now: from the sale (and refund) the journal holds.
pub fn render(
    journal: &Journal,
    store_name: &str,
    format: &Format,
    job: &QueuedPrint,
) -> Result<Result<Slip, NotPrintable>, JournalError> {
    let header = Header {
        store_name: store_name.to_string(),
        reprint: job.reprint,
    };
    let refund_no = match &job.kind {
        PrintKind::Shift(id) => return shift_slip(journal, *id, format, job.reprint),
        PrintKind::Sale => None,
        PrintKind::Refund(no) => Some(no),
    };
    let Some(sale) = journal.sale(&job.out_trade_no)? else {
        return Ok(Err(NotPrintable(Words::new(
            format!("no sale {} in the journal", job.out_trade_no),
            format!("账本中没有订单 {}", job.out_trade_no),
        ))));
    };
    Ok(match refund_no {
        None => build::sale_slip(&sale, &header, format),
        Some(no) => match journal
            .refunds_of(&sale.out_trade_no)?
            .into_iter()
            .find(|r| &r.out_refund_no == no)
        {
            Some(r) => build::refund(&sale, &r, &header, format),
            None => Err(NotPrintable(Words::new(
                format!(
                    "no refund {no} of sale {} in the journal",
                    sale.out_trade_no
                ),
                format!("账本中没有订单 {} 的退款 {no}", sale.out_trade_no),
            ))),
        },
    })
}

/// A closed shift's report as a slip, in the printer's language(s).
fn shift_slip(
    journal: &Journal,
    id: i64,
    format: &Format,
    reprint: bool,
) -> Result<Result<Slip, NotPrintable>, JournalError> {
    let report = match crate::shift::closed(journal, id) {
        Ok(r) => r,
        Err(crate::shift::ShiftError::Journal(e)) => return Err(e),
        Err(e) => return Ok(Err(NotPrintable(e.words()))),
    };
    Ok(Ok(report_slip(&report, format, reprint)))
}

/// A shift's report as a slip, in the printer's language(s) (`reprint`: marked as a copy).
pub fn report_slip(report: &crate::shift::Report, format: &Format, reprint: bool) -> Slip {
    let langs: &[Language] = match format.language {
        SlipLanguage::Zh => &[Language::Zh],
        SlipLanguage::En => &[Language::En],
        SlipLanguage::Both => &[Language::Zh, Language::En],
    };
    // The report's "¥" is not in a thermal printer's GB18030 font: the slips' own sign instead.
    let sign = crate::receipt::build::amount(crate::money::Fen(0), format.encoding);
    let sign = sign.trim_end_matches("0.00");
    let lines = crate::shift::text::lines(report, langs)
        .into_iter()
        .map(|l| l.replace('¥', sign))
        .collect();
    let mut slip = Slip::report(&report.title(), lines);
    if reprint {
        slip.items.insert(
            0,
            crate::receipt::Item::Text {
                text: "重印副本 / COPY (reprint)".into(),
                align: crate::receipt::Align::Center,
                bold: true,
                big: false,
            },
        );
    }
    slip
}

/// Print what is queued, oldest first, while the printer takes it. A failure leaves the slip
/// (and those after it) queued with the reason.
pub fn drain(
    journal: &mut Journal,
    cfg: &PrinterConfig,
    now_ms: i64,
) -> Result<Drained, JournalError> {
    let mut done = Drained::default();
    let mut ready = Vec::new();
    // Claimed, so a `paycode receipt` beside the cashier screen never prints a slip twice; a
    // claim older than a minute belongs to a process that died printing.
    for job in journal.claim_prints(now_ms, CLAIM_STALE_MS)? {
        match render(journal, &cfg.store_name, &cfg.format, &job)? {
            Ok(slip) => ready.push((job.id, encode(&slip, &cfg.format))),
            Err(why) => {
                journal.print_skipped(job.id, &why.to_string(), now_ms)?;
                done.skipped += 1;
            }
        }
    }
    if ready.is_empty() {
        return Ok(done);
    }
    let fail_all = |journal: &mut Journal, ids: &[i64], e: &PrintError| {
        ids.iter()
            .try_for_each(|id| journal.print_failed(*id, &e.to_string()))
    };
    let ids: Vec<i64> = ready.iter().map(|(id, _)| *id).collect();
    let mut port = match Port::open(&cfg.transport, cfg.timeout) {
        Ok(p) => p,
        Err(e) => {
            fail_all(journal, &ids, &e)?;
            done.left = ids.len();
            done.state = Some(Err(e));
            return Ok(done);
        }
    };
    let state = status(&mut port, cfg);
    if !state.can_print() {
        let e = PrintError::NotReady(state);
        fail_all(journal, &ids, &e)?;
        done.left = ids.len();
        done.state = Some(Err(e));
        return Ok(done);
    }
    for (i, (id, bytes)) in ready.iter().enumerate() {
        if let Err(e) = port.send(bytes, cfg.timeout) {
            let e = PrintError::Write {
                printer: cfg.transport.to_string(),
                why: e.to_string(),
            };
            fail_all(journal, &ids[i..], &e)?;
            done.left = ids.len() - i;
            done.state = Some(Err(e));
            return Ok(done);
        }
        journal.print_done(*id, now_ms)?;
        done.printed += 1;
    }
    done.state = Some(Ok(state));
    Ok(done)
}

/// Unix milliseconds now.
#[allow(clippy::disallowed_methods)] // IO edge: the queue stamps when slips printed
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Queue a slip whatever `print_on_payment` says (a handover report, a reprint) and print what
/// is queued. Returns why it did not print, for the operator; `None`: printed, or no printer.
pub fn print_now(
    cfg: &Config,
    out_trade_no: &str,
    kind: &PrintKind,
    reprint: bool,
) -> Option<Words> {
    let p = cfg.printer.as_ref()?;
    let failed = |e: &dyn Bilingual| {
        Words::new(
            format!("receipt not queued: {e} (the record itself is kept in the journal)"),
            format!("小票未能排队:{}(记录本身已保存在账本中)", e.zh()),
        )
    };
    let mut journal = match Journal::open(&cfg.journal.path) {
        Ok(j) => j,
        Err(e) => return Some(failed(&e)),
    };
    if let Err(e) = journal.enqueue_print(out_trade_no, kind, reprint, now_ms()) {
        return Some(failed(&e));
    }
    match drain(&mut journal, p, now_ms()) {
        Err(e) => Some(failed(&e)),
        Ok(d) => d.state.and_then(|s| s.err()).map(|e| e.queued_words()),
    }
}

/// After a sale or refund was committed (`pay`, `refund`): queue its slip and print what is
/// queued. Returns lines for the operator (stderr); never an error, so a printer or a queue
/// write can never fail the sale. `None`: printed, no printer, or `print_on_payment = false`.
pub fn after_commit(cfg: &Config, out_trade_no: &str, kind: &PrintKind) -> Option<Words> {
    cfg.printer.as_ref().filter(|p| p.print_on_payment)?;
    print_now(cfg, out_trade_no, kind, false)
}
