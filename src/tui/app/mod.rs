//! The pure UI state: `App::update(msg, now) -> Vec<Cmd>`. No clock, no IO: the runtime turns
//! terminal keys, scanner events, sale progress and ticks into [`Msg`]s and performs the
//! returned [`Cmd`]s. `view` only reads an `App`.

mod entry;
mod history;
mod notice;
mod pending;
mod pos;
mod refund;
mod sale;
mod shift;
mod types;

pub use entry::{Entry, Field, Pole};
pub use history::{HistoryData, HistoryView, QueriedSale, Reconcile, beijing_clock};
pub use notice::{Level, Notice, NoticeText};
pub use pending::{Ask, Confirm, PendingAction, PendingView};
pub use pos::{PosView, PosWait};
pub use refund::{Reason, RefundStep, RefundUpdate, RefundView};
pub use sale::{Stage, WaitPhase, Waiting};
pub use shift::{ShiftPanel, ShiftView};
pub use types::{
    DiagInfo, Key, NetHealth, Pin, PrinterLight, RecoveryReport, Settings, SimInfo, Words,
};

use crate::authcode::AuthCode;
use crate::checkout::progress::{Outcome, Progress};
use crate::config::Language;
use crate::money::Fen;
use crate::scanner::{KeyDecision, ScanEvent, StatusEvent, Wedge};
use std::time::Instant;
use time::Date;

use super::i18n::{T, other};

/// How long an informational notice stays on screen; warnings and errors stay until replaced.
pub const NOTICE_LIFE: std::time::Duration = std::time::Duration::from_secs(8);

/// Everything the app reacts to.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key from the terminal (fed through the keyboard-wedge detector first).
    Key(Key),
    /// A scan from a serial or HID reader.
    Scan(ScanEvent),
    /// A scanner reader connected, disconnected or failed.
    ScannerStatus(StatusEvent),
    /// The running sale moved on.
    Sale(Progress),
    /// The result of a network probe: `Some(latency)` answered, `None` no answer.
    Network(NetHealth),
    /// How many sales are on the pending list (unresolved), for the status line.
    PendingCount(usize),
    /// The receipt printer's state and queue, for the status line and F5.
    Printer(PrinterLight),
    /// Start-up recovery finished (or reports progress).
    Recovery(RecoveryReport),
    /// A day of history, for the history and refund screens.
    History(HistoryData),
    /// A CSV export finished: the file written, or why not.
    Exported(Result<String, Words>),
    /// WeChat's answer about one sale asked from the history screen (F9).
    HistoryQueried {
        out_trade_no: String,
        result: Result<QueriedSale, Words>,
    },
    /// The day's reconciliation with WeChat's statement finished, or why it could not run.
    Reconciled(Date, Result<crate::checkout::reconcile::Report, Words>),
    /// The pending (unresolved) list.
    Pending(Vec<crate::journal::SaleRow>),
    /// The background retry settled pending sales (the cashier was told "do not hand over").
    PendingSettled {
        resolved: Vec<Outcome>,
        still_pending: usize,
    },
    /// A pending sale's query or reverse ended.
    PendingDone {
        out_trade_no: String,
        result: Result<Outcome, Words>,
    },
    /// The running refund moved on.
    Refund(RefundUpdate),
    /// Figures for the diagnostics screen.
    Diagnostics(DiagInfo),
    /// The journal cannot be written: new sales are refused until it is fixed.
    JournalFailed(Words),
    /// The runner refused to start the sale (nothing was sent): back to entry with the reason.
    SaleRefused(Words),
    /// The open shift's report, a handover recorded (`closed_id` set), or why not.
    Shift(Result<crate::shift::report::Report, Words>),
    /// The store's POS asked for a sale through the local API (`[api] listen`): its amount and
    /// order id (`ref`, already checked), and the code when the POS read it itself.
    PosOrder {
        amount: Fen,
        pos_ref: String,
        code: Option<AuthCode>,
    },
    /// The POS asked to cancel its order (`POST /v1/sales/{ref}/cancel`).
    PosCancel(String),
    /// Whether the local API is served: the address, or why not.
    Api(Result<String, Words>),
    /// The POS's pole display showed a total, or its port changed state.
    Pole(crate::pole::PoleMsg),
    /// Time passed (wedge deadline or the countdown tick).
    Tick,
}

/// Effects for the runtime to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// Work for the till task (`tui::worker`), done one at a time in order.
    Till(TillCmd),
    /// The cashier confirmed cancel: stop waiting and reverse.
    CancelSale,
    /// Ring the terminal bell this many times, a moment apart (the kind of result by ear).
    Bell(u8),
    /// Leave the program (restoring the terminal).
    Quit,
    /// A line for the log that a manager should see later (a wrong manager PIN; never the PIN).
    Audit(String),
    /// Remember the screen language for the next start (F6).
    SaveLanguage(Language),
    /// Turn the POS's order down: nothing was written or sent; the POS is told why.
    PosRefuse { pos_ref: String, why: Words },
}

/// What the till task does for the app; results come back as `Msg`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TillCmd {
    /// Start a sale (journal first, then micropay); progress comes back as `Msg::Sale`.
    /// `pos_ref`: the POS order it is for (the local API); its answer goes back to the POS.
    StartSale {
        amount: Fen,
        code: AuthCode,
        pos_ref: Option<String>,
    },
    /// Load a day of history (`None`: today in Beijing time).
    LoadHistory(Option<Date>),
    /// Write that day's sales as CSV.
    ExportCsv(Date),
    /// Compare that day's journal with WeChat's statement.
    Reconcile(Date),
    /// Ask WeChat about one sale of the history screen (settles or corrects it in the journal).
    QuerySale(String),
    /// Load the pending list.
    LoadPending,
    /// Ask WeChat about a pending sale now.
    QueryPending(String),
    /// Reverse a pending sale.
    ReversePending(String),
    /// Keep a pending sale's late payment as paid (the manager's `paycode accept`).
    AcceptPending(String),
    /// Refund part or all of a paid sale.
    Refund {
        out_trade_no: String,
        total_fee: Fen,
        refund_fee: Fen,
        reason: String,
        /// The PIN was typed, or no PIN is configured (simulator only).
        authorised: crate::journal::Authority,
    },
    /// Collect diagnostics figures.
    LoadDiagnostics,
    /// The open shift's report.
    LoadShift,
    /// Hand over: close the open shift now (the report is kept in the journal).
    CloseShift,
    /// Print a sale's slip again (marked COPY).
    Reprint(String),
    /// Print a closed shift's report again.
    ReprintShift(i64),
}

/// Which screen fills the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Amount entry, waiting and result (the sale's `Stage` decides which).
    Sale,
    History,
    Pending,
    Refund,
    Diagnostics,
}

/// The whole UI state.
#[derive(Debug)]
pub struct App {
    /// Fixed settings from the configuration.
    pub settings: Settings,
    /// Screen language (F6 toggles).
    pub lang: Language,
    /// The screen in front.
    pub screen: Screen,
    /// The sale: entry, waiting or result.
    pub stage: Stage,
    /// Amount and code fields (kept while waiting so a rescan can reuse the amount).
    pub entry: Entry,
    /// The one-line message under the body.
    pub notice: Option<Notice>,
    /// When the notice on screen was set (an informational one clears after `NOTICE_LIFE`).
    notice_since: Instant,
    /// The key help / scenario table overlay.
    pub help: bool,
    /// Lines the help is scrolled down by (↑/↓ while it is open).
    pub help_scroll: u16,
    /// Start-up recovery report, shown until dismissed.
    pub recovery: Option<RecoveryReport>,
    /// A background settlement report held back until the running sale ends.
    pub settled_later: Option<RecoveryReport>,
    /// Latest status per scanner source.
    pub scanners: Vec<StatusEvent>,
    /// Latest network probe.
    pub network: NetHealth,
    /// Sales on the pending list, once the till task has counted them.
    pub pending_count: Option<usize>,
    /// The receipt printer, once the printer thread reported (never without `[printer]`).
    pub printer: Option<PrinterLight>,
    /// Set when the journal failed: no new sales.
    pub journal_error: Option<Words>,
    /// History screen state.
    pub history: HistoryView,
    /// Pending screen state.
    pub pending: PendingView,
    /// Refund screen state.
    pub refund: RefundView,
    /// Diagnostics figures.
    pub diagnostics: Option<DiagInfo>,
    /// The shift panel and the handover question on quitting.
    pub shift: ShiftView,
    /// The POS's order waiting for the scan, and the last POS sale's ref.
    pub pos: PosView,
    /// The local API's address, or why it is not served (`None`: not configured).
    pub api: Option<Result<String, Words>>,
    /// The POS's pole-display port and a total kept for the next sale.
    pub pole: Pole,
    /// The time of the last message (the view draws countdowns from it).
    pub now: Instant,
    wedge: Wedge,
}

impl App {
    /// A fresh app on the sale screen.
    pub fn new(settings: Settings, wedge: Wedge, now: Instant) -> App {
        App {
            lang: settings.language,
            settings,
            screen: Screen::Sale,
            stage: Stage::Entry,
            entry: Entry::default(),
            notice: None,
            notice_since: now,
            help: false,
            help_scroll: 0,
            recovery: None,
            settled_later: None,
            scanners: Vec::new(),
            network: NetHealth::Unknown,
            pending_count: None,
            printer: None,
            journal_error: None,
            history: HistoryView::default(),
            pending: PendingView::default(),
            refund: RefundView::default(),
            diagnostics: None,
            shift: ShiftView::default(),
            pos: PosView::default(),
            api: None,
            pole: Pole::default(),
            now,
            wedge,
        }
    }

    /// When the runtime must send a `Msg::Tick` at the latest (wedge release or countdown).
    pub fn deadline(&self) -> Option<Instant> {
        let wedge = self.wedge.deadline();
        // Redraw when the countdown's whole seconds change; no deadline, no timer.
        let countdown = match &self.stage {
            Stage::Waiting(w) => w.remaining(self.now).filter(|r| !r.is_zero()).map(|r| {
                let into_second = r.as_millis() % 1000;
                let ms = if into_second == 0 { 1000 } else { into_second };
                self.now + std::time::Duration::from_millis(ms as u64)
            }),
            _ => None,
        };
        let notice = self
            .notice
            .as_ref()
            .filter(|n| n.level == Level::Info)
            .map(|_| self.notice_since + NOTICE_LIFE);
        [wedge, countdown, notice].into_iter().flatten().min()
    }

    /// True while a sale is running (no navigation, no quitting).
    pub fn busy(&self) -> bool {
        matches!(self.stage, Stage::Waiting(_))
    }

    /// Pending sales settled in the background. A sale that turned out PAID was last shown as
    /// "do not hand over the goods", so it gets the modal report (after the running sale, if
    /// any); sales that ended not charged only confirm what the cashier was told.
    fn pending_settled(&mut self, resolved: Vec<Outcome>, still: usize, out: &mut Vec<Cmd>) {
        use crate::checkout::flow::Final;
        out.push(Cmd::Till(TillCmd::LoadPending));
        // A retry that left a sale unresolved settled nothing: it is not reported.
        let resolved: Vec<Outcome> = resolved
            .into_iter()
            .filter(|r| !matches!(r.result, Final::Unresolved { .. }))
            .collect();
        let paid = resolved
            .iter()
            .filter(|r| matches!(r.result, Final::Paid(_)))
            .count();
        if paid == 0 {
            let refunded = resolved
                .iter()
                .filter(|r| {
                    matches!(
                        r.result,
                        Final::Reversed { refunded: true } | Final::Refunded(_)
                    )
                })
                .count();
            let not_charged = resolved.len() - refunded;
            let text = match (not_charged, refunded) {
                (0, 0) => return,
                (n, 0) => NoticeText::Tf(T::SettledQuiet, vec![n.to_string()]),
                (0, r) => NoticeText::Tf(T::SettledRefunded, vec![r.to_string()]),
                (n, r) => NoticeText::Tf(T::SettledBoth, vec![n.to_string(), r.to_string()]),
            };
            self.notice = Some(Notice::info(text));
            return;
        }
        // A pending sale found charged: someone has to act on it.
        let n = self.settings.rings.attention;
        if n > 0 {
            out.push(Cmd::Bell(n));
        }
        let mut report = self.settled_later.take().unwrap_or(RecoveryReport {
            done: true,
            background: true,
            ..RecoveryReport::default()
        });
        report.resolved.extend(resolved);
        report.still_pending = still;
        self.settled_later = Some(report);
        self.show_settled();
    }

    /// Put a held-back settlement report in front once nothing else is.
    fn show_settled(&mut self) {
        if !self.busy() && self.recovery.is_none() {
            self.recovery = self.settled_later.take();
        }
    }

    /// Apply one message at time `now`; return the effects to perform.
    pub fn update(&mut self, msg: Msg, now: Instant) -> Vec<Cmd> {
        self.now = now;
        let before = self.notice.clone();
        let out = self.handle(msg, now);
        if self.notice != before {
            self.notice_since = now;
        } else if self
            .notice
            .as_ref()
            .is_some_and(|n| n.level == Level::Info && now >= self.notice_since + NOTICE_LIFE)
        {
            // "Cleared", "Exported to …", "Language: English": true once, stale later.
            self.notice = None;
        }
        if self.settled_later.is_some() {
            self.show_settled();
        }
        let receipts = self.receipt_scan_wanted();
        self.wedge.hold_text(receipts);
        out
    }

    /// Send a reprint to the printer thread, or say there is no printer.
    fn reprint(&mut self, cmd: TillCmd, what: String, out: &mut Vec<Cmd>) {
        if self.printer.is_none() {
            self.notice = Some(Notice::warn(NoticeText::Tf(T::NoPrinter, vec![what])));
            return;
        }
        out.push(Cmd::Till(cmd));
        self.notice = Some(Notice::info(NoticeText::Tf(T::ReprintSent, vec![what])));
    }

    /// The refund screen is picking a sale: a receipt's order number may be scanned.
    pub(super) fn receipt_scan_wanted(&self) -> bool {
        self.screen == Screen::Refund && self.refund.step == RefundStep::Pick && !self.busy()
    }

    fn handle(&mut self, msg: Msg, now: Instant) -> Vec<Cmd> {
        let mut out = Vec::new();
        match msg {
            Msg::Key(k) => self.wedge_key(k, now, &mut out),
            Msg::Tick => {
                if let Some(keys) = self.wedge.poll(now) {
                    for k in keys {
                        self.typed(Key::from_wedge(k, Key::Esc), &mut out);
                    }
                }
            }
            Msg::Scan(ev) => self.scan(ev, &mut out),
            Msg::ScannerStatus(ev) => self.scanner_status(ev),
            Msg::Pole(m) => self.pole(m),
            Msg::Sale(p) => self.progress(p, now, &mut out),
            Msg::Network(n) => self.network = n,
            Msg::PendingCount(n) => self.pending_count = Some(n),
            Msg::Printer(p) => self.printer = Some(p),
            Msg::Recovery(r) if r.done && r.resolved.is_empty() && r.still_pending == 0 => {
                // Nothing to show: a notice, not a dialog the cashier must dismiss — and
                // never over a warning already up (the POS API not served, a scanner away).
                self.recovery = None;
                if self.notice.as_ref().is_none_or(|n| n.level == Level::Info) {
                    self.notice = Some(Notice::info(NoticeText::T(T::RecoveryNone)));
                }
            }
            Msg::Recovery(r) => self.recovery = Some(r),
            Msg::PendingSettled {
                resolved,
                still_pending,
            } => self.pending_settled(resolved, still_pending, &mut out),
            Msg::History(h) => {
                self.refund.candidates_from(&h);
                self.history.load(h);
            }
            Msg::Reconciled(day, r) => self.history.reconciled(day, r),
            Msg::HistoryQueried {
                out_trade_no,
                result,
            } => {
                self.notice = Some(history::queried_notice(&out_trade_no, result));
                out.push(Cmd::Till(TillCmd::LoadHistory(self.history.date())));
            }
            Msg::Exported(r) => {
                self.notice = Some(match r {
                    Ok(path) => Notice::info(NoticeText::Tf(T::Exported, vec![path])),
                    Err(e) => Notice::error(NoticeText::Failed(T::ExportFailed, e)),
                })
            }
            Msg::Pending(list) => {
                self.pending_count = Some(list.len());
                self.pending.load(list);
            }
            Msg::PendingDone {
                out_trade_no,
                result,
            } => {
                self.pending.done(&out_trade_no, result);
                out.push(Cmd::Till(TillCmd::LoadPending));
            }
            Msg::Refund(u) => self.refund.update(u),
            Msg::Diagnostics(d) => self.diagnostics = Some(d),
            Msg::Shift(r) => {
                if let Some(n) = self.shift.answered(r, &mut out) {
                    self.notice = Some(n);
                }
            }
            Msg::PosOrder {
                amount,
                pos_ref,
                code,
            } => self.pos_order(amount, pos_ref, code, &mut out),
            Msg::PosCancel(r) => self.pos_cancelled(&r, &mut out),
            Msg::Api(r) => self.api_status(r),
            Msg::JournalFailed(e) => self.journal_error = Some(e),
            Msg::SaleRefused(why) => {
                if matches!(self.stage, Stage::Waiting(_)) {
                    self.stage = Stage::Entry;
                }
                // A POS sale refused: the POS was told; its amount must not stay to be
                // charged by the next scan outside its order (row 165).
                if self.pos.shown.take().is_some() {
                    self.entry.clear();
                }
                self.notice = Some(Notice::error(NoticeText::Words(why)));
            }
        }
        out
    }

    /// Feed a terminal key through the wedge detector; deliver typed keys or route a scan.
    fn wedge_key(&mut self, k: Key, now: Instant, out: &mut Vec<Cmd>) {
        // Keys the wedge cannot hold go straight through after releasing anything held.
        let Some(wk) = k.to_wedge() else {
            return self.typed(k, out);
        };
        match self.wedge.key(wk, now) {
            KeyDecision::Pending | KeyDecision::Duplicate => {}
            KeyDecision::Typed(keys) => {
                for held in keys {
                    self.typed(Key::from_wedge(held, k), out);
                }
            }
            KeyDecision::Scan(ev) => self.scan(ev, out),
        }
    }

    /// A key meant for the UI (manual typing, navigation).
    fn typed(&mut self, k: Key, out: &mut Vec<Cmd>) {
        // The recovery report is modal: no sale before recovery has finished and been seen.
        if let Some(r) = &self.recovery {
            if r.done && matches!(k, Key::Enter | Key::Esc) {
                self.recovery = None;
            }
            return;
        }
        if self.help {
            match k {
                Key::Esc | Key::Enter | Key::F(1) | Key::Char('?') => self.help = false,
                Key::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                Key::Down => self.help_scroll = self.help_scroll.saturating_add(1).min(40),
                _ => {}
            }
            return;
        }
        match k {
            Key::F(6) => {
                self.lang = other(self.lang);
                self.notice = Some(Notice::info(NoticeText::T(T::LanguageSwitched)));
                // Kept for the next start (the cashier's choice outlives a restart).
                out.push(Cmd::SaveLanguage(self.lang));
                return;
            }
            Key::F(1) | Key::Char('?') => {
                self.help = true;
                self.help_scroll = 0;
                return;
            }
            Key::CtrlC | Key::F(10) => {
                if self.busy() {
                    self.notice = Some(Notice::warn(NoticeText::T(T::QuitBlocked)));
                } else {
                    self.shift.ask_on_quit(out);
                }
                return;
            }
            _ if self.shift.quit_question => return self.shift.quit_key(k, out),
            Key::F(n @ 2..=5) if !self.busy() => {
                self.help = false;
                self.notice = None;
                self.shift.panel = None;
                let (screen, cmd) = match n {
                    // F2 always opens on today (Beijing); ←/→ move from there.
                    2 => (Screen::History, Cmd::Till(TillCmd::LoadHistory(None))),
                    3 => (Screen::Pending, Cmd::Till(TillCmd::LoadPending)),
                    4 => (Screen::Refund, Cmd::Till(TillCmd::LoadHistory(None))),
                    _ => (Screen::Diagnostics, Cmd::Till(TillCmd::LoadDiagnostics)),
                };
                if screen == Screen::Refund {
                    self.refund.reset();
                }
                self.screen = screen;
                out.push(cmd);
                return;
            }
            Key::F(2..=5) => {
                self.notice = Some(Notice::warn(NoticeText::T(T::BusyNoNewSale)));
                return;
            }
            _ => {}
        }
        match self.screen {
            Screen::Sale => self.sale_key(k, out),
            Screen::History => {
                if let (Some(ShiftPanel::Shown { report, .. }), Key::Char('p' | 'P')) =
                    (&self.shift.panel, k)
                {
                    if let Some(id) = report.closed_id {
                        self.reprint(TillCmd::ReprintShift(id), id.to_string(), out);
                    }
                    return;
                }
                if self.shift.key(k, out) {
                    return;
                }
                let plain = self.history.find.is_none() && self.history.reconcile.is_none();
                if let (Key::Char('p' | 'P'), true) = (k, plain) {
                    if let Some(no) = self.history.selected_sale().map(|s| s.out_trade_no.clone()) {
                        self.reprint(TillCmd::Reprint(no.clone()), no, out);
                    }
                    return;
                }
                if matches!(k, Key::Char('s' | 'S'))
                    && self.history.find.is_none()
                    && self.history.reconcile.is_none()
                {
                    self.history.detail = false;
                    self.shift.open(out);
                } else if k == Key::Esc
                    && !self.history.detail
                    && self.history.reconcile.is_none()
                    && self.history.find.is_none()
                {
                    self.screen = Screen::Sale;
                } else {
                    self.history.key(k, out);
                }
            }
            Screen::Pending => {
                if k == Key::Esc && self.pending.confirm.is_none() {
                    self.screen = Screen::Sale;
                } else {
                    self.pending.key(k, &self.settings, out);
                }
            }
            Screen::Refund => {
                if self.refund.key(k, &self.settings, self.now, out) {
                    self.screen = Screen::Sale;
                }
            }
            Screen::Diagnostics => {
                if k == Key::Esc {
                    self.screen = Screen::Sale;
                } else if k == Key::Enter {
                    out.push(Cmd::Till(TillCmd::LoadDiagnostics));
                }
            }
        }
    }

    fn scanner_status(&mut self, ev: StatusEvent) {
        if let Some(s) = self.scanners.iter_mut().find(|s| s.source == ev.source) {
            *s = ev.clone();
        } else {
            self.scanners.push(ev.clone());
        }
        let level = if ev.status.is_connected() {
            Level::Info
        } else {
            Level::Warn
        };
        self.notice = Some(Notice {
            text: NoticeText::Scanner(ev),
            level,
        });
    }
}
