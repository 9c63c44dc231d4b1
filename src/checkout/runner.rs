//! Drives one sale: guards, write-ahead intent, then the flow's poll → journal → send → on_reply
//! loop against the WeChat Pay client. The only place where the clock, the journal and the
//! network meet for a sale; the decisions are the flow's.

use crate::words::{Bilingual, Words};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::adapter;
use super::fingerprint::fingerprint;
use super::flow::{Final, Phase, Reply, Request, Sale, Step, Summary};
use super::pos_ref::{self, PosRef, RefCheck};
use super::progress::{
    NOT_CHARGED_NOTE, Outcome, Progress, REFUNDED_NOTE, RETURNED_BY_REFUND_NOTE,
};
use super::till::{Till, until};
use crate::authcode::AuthCode;
use crate::journal::{
    EventLine, JournalError, NewSale, RefundState, SaleRow, SaleState, Transition,
};
use crate::money::Fen;
use crate::wxpay::api::{
    self, Call, MicropayRequest, OrderQueryRequest, OrderRef, RequestError, ReverseRequest,
};
use crate::wxpay::call::{Answered, CallError};
use crate::wxpay::client::Endpoint;

/// A sale refused or stopped. Everything but `Stopped` happened before anything was sent.
#[derive(Debug, thiserror::Error)]
pub enum SaleError {
    #[error("{0}")]
    PaymentsDisabled(Words),
    #[error(
        "sale {out_trade_no} is still unfinished; it must be settled first (run `paycode recover`)"
    )]
    Busy { out_trade_no: String },
    #[error(
        "the same payment code was just used for sale {out_trade_no}; ignored as a duplicate scan — ask for a fresh code if the customer really pays again"
    )]
    DuplicateScan { out_trade_no: String },
    #[error(
        "amount ¥{amount} is not allowed: it must be between ¥0.01 and ¥{max} ([checkout] max_amount)"
    )]
    BadAmount { amount: Fen, max: Fen },
    #[error("cannot build the payment request: {0}; fix [merchant] in the config")]
    Request(#[from] RequestError),
    #[error(
        "--ref {pos_ref} is the POS order of sale {out_trade_no} for ¥{amount}: a ref is never charged for another amount; check the POS order, or give the new order its own ref; nothing was sent"
    )]
    RefAmount {
        pos_ref: String,
        out_trade_no: String,
        amount: Fen,
    },
    #[error(
        "--ref {pos_ref}: WeChat has not confirmed that the earlier attempt {out_trade_no} was not charged; no new charge was sent — try again in a minute, or check it with `paycode query {out_trade_no}`"
    )]
    RefUnsettled {
        pos_ref: String,
        out_trade_no: String,
    },
    #[error(
        "sale {out_trade_no}, refused a moment ago, was charged after all and returning the money has not finished (it is on the pending list); no new charge was sent — the customer has paid once: check it with `paycode query {out_trade_no}` before charging again"
    )]
    DeclineUnsettled { out_trade_no: String },
    #[error(
        "sale {out_trade_no}, refused a moment ago, is still open at WeChat — the customer's phone may be asking for the password for it; no new charge was sent: ask the customer to close that payment on the phone (or wait a minute for WeChat to close it), then scan again — if they pay it, paycode returns it before the next charge"
    )]
    DeclineOpen { out_trade_no: String },
    #[error("{0}; nothing was sent")]
    Journal(JournalError),
    #[error(
        "journal write failed during sale {out_trade_no}: {source}. Payments are disabled. The sale is NOT settled: do not hand over goods; fix the disk, then restart paycode — it resumes the sale"
    )]
    Stopped {
        out_trade_no: String,
        /// The sale's amount, so the screen shows what is at stake.
        total_fee: Fen,
        source: JournalError,
    },
}

impl SaleError {
    /// True when a request may have reached WeChat (the sale is open in the journal).
    pub fn sent_something(&self) -> bool {
        matches!(self, Self::Stopped { .. })
    }

    /// The sale this refusal is about: the one left open (`Stopped`), or the earlier one that
    /// holds the new charge back — for `paycode query`, and the JSON replies' fields.
    pub fn sale(&self) -> Option<&str> {
        match self {
            Self::Busy { out_trade_no }
            | Self::DuplicateScan { out_trade_no }
            | Self::RefAmount { out_trade_no, .. }
            | Self::RefUnsettled { out_trade_no, .. }
            | Self::DeclineUnsettled { out_trade_no }
            | Self::DeclineOpen { out_trade_no }
            | Self::Stopped { out_trade_no, .. } => Some(out_trade_no),
            Self::PaymentsDisabled(_)
            | Self::BadAmount { .. }
            | Self::Request(_)
            | Self::Journal(_) => None,
        }
    }

    /// The fields a JSON refusal carries beyond the message: a sale left open is `unresolved`
    /// with its number (never "rejected": something was sent); else the sale it is about.
    pub fn json_fields(&self) -> Vec<(&'static str, serde_json::Value)> {
        match (self.sent_something(), self.sale()) {
            (true, Some(no)) => vec![
                ("status", serde_json::json!("unresolved")),
                ("out_trade_no", serde_json::json!(no)),
            ],
            (true, None) => vec![("status", serde_json::json!("unresolved"))],
            (false, Some(no)) => vec![("sale", serde_json::json!(no))],
            (false, None) => Vec::new(),
        }
    }

    /// The headless CLI's exit status: 2 when the sale is open, else 3 (refused before sending).
    pub fn exit_code(&self) -> u8 {
        if self.sent_something() { 2 } else { 3 }
    }
}

impl Bilingual for SaleError {
    fn zh(&self) -> String {
        match self {
            Self::PaymentsDisabled(w) => w.zh.clone(),
            Self::Busy { out_trade_no } => {
                format!("交易 {out_trade_no} 尚未完成,须先处理(运行 `paycode recover`)")
            }
            Self::DuplicateScan { out_trade_no } => format!(
                "该付款码刚用于交易 {out_trade_no},已按重复扫码忽略;如顾客确需再次付款,请让其刷新付款码"
            ),
            Self::BadAmount { amount, max } => {
                format!("金额 ¥{amount} 不允许:须在 ¥0.01 与 ¥{max} 之间([checkout] max_amount)")
            }
            Self::Request(e) => format!("无法生成支付请求:{};请修正配置中的 [merchant]", e.zh()),
            Self::RefAmount {
                pos_ref,
                out_trade_no,
                amount,
            } => format!(
                "--ref {pos_ref} 是交易 {out_trade_no}(¥{amount})的 POS 订单:同一订单号不会按其他金额收款;请核对 POS 订单,或为新订单使用新的 ref;未发送任何请求"
            ),
            Self::RefUnsettled {
                pos_ref,
                out_trade_no,
            } => format!(
                "--ref {pos_ref}:微信尚未确认之前的尝试 {out_trade_no} 未扣款;未发送新的扣款 — 请稍后重试,或用 `paycode query {out_trade_no}` 核实"
            ),
            Self::DeclineUnsettled { out_trade_no } => format!(
                "刚被拒绝的交易 {out_trade_no} 实际已扣款,退回尚未完成(已列入待处理);未发送新的扣款 — 顾客已付过一次:请先用 `paycode query {out_trade_no}` 核实,再决定是否重新收款"
            ),
            Self::DeclineOpen { out_trade_no } => format!(
                "刚被拒绝的交易 {out_trade_no} 在微信仍未结束 — 顾客手机可能正在要求为其输入密码;未发送新的扣款:请顾客在手机上关闭该笔付款(或等待约一分钟由微信关闭),然后重新扫码 — 若顾客付了该笔,paycode 会在下一笔扣款前先退回"
            ),
            Self::Journal(e) => format!("{};未发送任何请求", e.zh()),
            Self::Stopped {
                out_trade_no,
                source,
                ..
            } => format!(
                "交易 {out_trade_no} 进行中账本写入失败:{}。已暂停收款。该笔结果未明:请勿交付商品;修复磁盘后重启 paycode,将自动恢复该笔交易",
                source.zh()
            ),
        }
    }
}

/// Lets the cashier give up waiting (TUI "cancel"): the runner then reverses as soon as the
/// rules allow. Cloning shares the token.
#[derive(Debug, Clone)]
pub struct CancelToken(Arc<watch::Sender<bool>>);

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    /// A token nobody has cancelled yet.
    pub fn new() -> CancelToken {
        CancelToken(Arc::new(watch::channel(false).0))
    }

    /// Ask the running sale to stop waiting and reverse.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Wait until `cancel` is called (to pass one token's cancel on to another).
    pub async fn cancelled(&self) {
        let mut rx = self.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

/// One sale, headless or from the TUI: see [`run_sale_cancellable`].
pub async fn run_sale(
    till: &mut Till,
    amount: Fen,
    code: AuthCode,
    progress: impl FnMut(Progress),
) -> Result<Charged, SaleError> {
    run_sale_cancellable(till, amount, code, &CancelToken::new(), progress).await
}

/// How a new charge answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charged {
    pub outcome: Outcome,
    /// Recent definite failures closed before the charge whose state changed (a refusal that
    /// hid a payment, now returned): the cashier is told.
    pub closed: Vec<super::Recovered>,
    /// Recent definite failures WeChat did not answer about before the charge went out: one
    /// may still hide a payment, returned by the next round (row 164) — the cashier is told.
    pub unchecked: Vec<String>,
}

/// How [`run_sale_for_ref`] answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSale {
    pub outcome: Outcome,
    /// The ref's earlier sale (paid, or unresolved), not a new charge.
    pub existing: bool,
    /// Earlier attempts of the ref, and recent definite failures, that were closed first and
    /// whose state changed (a refusal that hid a payment, now returned).
    pub closed: Vec<super::Recovered>,
    /// Recent failures that could not be checked first (see [`Charged::unchecked`]).
    pub unchecked: Vec<String>,
}

/// One sale for the POS's order id `pos_ref` (`pay --ref`): when the ref already has a paid or
/// unsettled sale, that sale is the answer and nothing is sent; a ref of another amount is
/// refused; otherwise a new charge under a new order number, recorded with the ref.
pub async fn run_sale_for_ref(
    till: &mut Till,
    amount: Fen,
    code: AuthCode,
    pos_ref: &PosRef,
    progress: impl FnMut(Progress),
) -> Result<RefSale, SaleError> {
    let cancel = CancelToken::new();
    run_sale_for_ref_cancellable(till, amount, code, pos_ref, &cancel, progress).await
}

/// [`run_sale_for_ref`] that `cancel` can stop waiting (the API's `POST /v1/sales/{ref}/cancel`):
/// the runner then reverses by the rules, so a customer already charged is refunded.
pub async fn run_sale_for_ref_cancellable(
    till: &mut Till,
    amount: Fen,
    code: AuthCode,
    pos_ref: &PosRef,
    cancel: &CancelToken,
    progress: impl FnMut(Progress),
) -> Result<RefSale, SaleError> {
    let earlier = till
        .journal
        .sales_with_ref(pos_ref.as_str())
        .map_err(SaleError::Journal)?;
    match pos_ref::check(&earlier, amount) {
        RefCheck::Charge => {
            let to_close = Earlier {
                pos_ref,
                rows: &earlier,
            };
            let c = start(till, amount, code, Some(to_close), cancel, progress).await?;
            Ok(RefSale {
                outcome: c.outcome,
                existing: false,
                closed: c.closed,
                unchecked: c.unchecked,
            })
        }
        RefCheck::Existing(row) => {
            let summary = till
                .summary(&row.out_trade_no)
                .map_err(SaleError::Journal)?;
            tracing::info!(out_trade_no = %row.out_trade_no, "ref already has a sale: answered with it");
            match Outcome::from_journal(&row, summary.as_ref()) {
                Some(outcome) => Ok(RefSale {
                    outcome,
                    existing: true,
                    closed: Vec::new(),
                    unchecked: Vec::new(),
                }),
                None => Err(SaleError::Busy {
                    out_trade_no: row.out_trade_no,
                }),
            }
        }
        RefCheck::OtherAmount(row) => Err(SaleError::RefAmount {
            pos_ref: pos_ref.as_str().to_string(),
            out_trade_no: row.out_trade_no,
            amount: row.total_fee,
        }),
    }
}

/// The POS order a new charge is for, with its earlier attempts.
struct Earlier<'a> {
    pos_ref: &'a PosRef,
    rows: &'a [SaleRow],
}

/// Before any new charge: each earlier attempt of the ref, and each definite failure of the
/// last minutes (the customer told "declined" pays again with a fresh code), that is not
/// confirmed closed is closed now — waiting for WeChat's 15 s floor if it must be reversed —
/// since a signed refusal can hide a payment. An attempt of the ref that cannot be confirmed
/// refuses the charge (the POS retries the same purchase); another recent failure refuses it
/// only when WeChat has it charged and returning it did not finish — without an answer the
/// sale goes ahead (a till is not stopped by a flaky network) and the rounds close it.
async fn close_earlier(
    till: &mut Till,
    earlier: Option<&Earlier<'_>>,
    progress: &mut impl FnMut(Progress),
) -> Result<(Vec<super::Recovered>, Vec<String>), SaleError> {
    use super::recovery::{Closed, close_one, needs_closing, recent_failures};
    let mut rows: Vec<SaleRow> = earlier.map(|e| e.rows.to_vec()).unwrap_or_default();
    for row in recent_failures(till).map_err(SaleError::Journal)? {
        if !rows.iter().any(|r| r.out_trade_no == row.out_trade_no) {
            rows.push(row);
        }
    }
    let mut closed = Vec::new();
    let mut unchecked = Vec::new();
    for row in &rows {
        if !needs_closing(till, row).map_err(SaleError::Journal)? {
            continue;
        }
        let this_ref = earlier
            .filter(|e| row.pos_ref.as_deref() == Some(e.pos_ref.as_str()))
            .map(|e| e.pos_ref.as_str().to_string());
        let out_trade_no = row.out_trade_no.clone();
        match (close_one(till, row, true, progress).await?, this_ref) {
            // Not charged now (no such order yet): the new attempt may go ahead; the closing
            // rounds keep asking and return a payment that lands late.
            (Closed::Yes | Closed::Watching, _) => {}
            (Closed::Changed(r), _) if r.outcome.status() != super::Status::Unresolved => {
                closed.push(*r);
            }
            (Closed::Changed(_), None) => {
                return Err(SaleError::DeclineUnsettled { out_trade_no });
            }
            (Closed::NotYet, None) => {
                tracing::warn!(out_trade_no = %out_trade_no, "a recent decline could not be checked before the new charge: the rounds close it");
                unchecked.push(out_trade_no);
            }
            // The customer may pay it any moment: a second charge now could be a second
            // payment for one purchase (row 146).
            (Closed::Open, None) => return Err(SaleError::DeclineOpen { out_trade_no }),
            (_, Some(pos_ref)) => {
                return Err(SaleError::RefUnsettled {
                    pos_ref,
                    out_trade_no,
                });
            }
        }
    }
    Ok((closed, unchecked))
}

/// Charge `code` for `amount`. Guards first (payments enabled, journal readable, no open sale,
/// not a duplicate scan, amount within limits, request buildable), then the intent is committed
/// and only then the micropay is sent.
pub async fn run_sale_cancellable(
    till: &mut Till,
    amount: Fen,
    code: AuthCode,
    cancel: &CancelToken,
    progress: impl FnMut(Progress),
) -> Result<Charged, SaleError> {
    start(till, amount, code, None, cancel, progress).await
}

/// [`run_sale_cancellable`], for the POS's order and its earlier attempts when there is one.
async fn start(
    till: &mut Till,
    amount: Fen,
    code: AuthCode,
    earlier: Option<Earlier<'_>>,
    cancel: &CancelToken,
    progress: impl FnMut(Progress),
) -> Result<Charged, SaleError> {
    let pos_ref = earlier.as_ref().map(|e| e.pos_ref);
    if let Some(d) = &till.disabled {
        return Err(SaleError::PaymentsDisabled(d.clone()));
    }
    let max = till.config.checkout.max_amount;
    if amount.0 == 0 || amount > max {
        return Err(SaleError::BadAmount { amount, max });
    }
    let open = till.journal.unfinished().map_err(SaleError::Journal)?;
    if let Some(s) = open.iter().find(|s| s.state != SaleState::Unresolved) {
        return Err(SaleError::Busy {
            out_trade_no: s.out_trade_no.clone(),
        });
    }
    let code_fp = fingerprint(&code, &till.link.merchant.key);
    let now_ms = till.clock.unix_ms();
    let window = till.config.checkout.duplicate_scan_window;
    if !window.is_zero() {
        let since = now_ms.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
        if let Some(s) = till
            .journal
            .recent_with_fp(&code_fp, since)
            .map_err(SaleError::Journal)?
        {
            tracing::warn!(out_trade_no = %s.out_trade_no, code = %code, "duplicate scan ignored");
            return Err(SaleError::DuplicateScan {
                out_trade_no: s.out_trade_no,
            });
        }
    }
    let tag = sale_tag();
    let c = &till.config.merchant;
    let mut req = MicropayRequest {
        out_trade_no: till.numbers.next(now_ms),
        total_fee: amount,
        auth_code: code.clone(),
        body: c.body.clone(),
        spbill_create_ip: till.link.ip,
        device_info: Some(c.device_info.clone()),
        attach: Some(tag.clone()),
        goods_tag: None,
        no_credit: false,
    };
    // Build once before the intent so a bad setting is refused with nothing journaled.
    crate::wxpay::call::check(&till.link.merchant, &req)?;
    let mut progress = progress;
    let (closed, unchecked) = close_earlier(till, earlier.as_ref(), &mut progress).await?;
    // Closing may have waited for WeChat's floor: the number and the intent (whose time the
    // reverse floor counts from) carry the moment the charge goes out.
    let now_ms = till.clock.unix_ms();
    let out_trade_no = till.numbers.next(now_ms);
    req.out_trade_no = out_trade_no.clone();
    let c = &till.config.merchant;
    let intent = NewSale {
        out_trade_no: out_trade_no.clone(),
        total_fee: amount,
        code_fp,
        code_masked: code.masked(),
        device_info: c.device_info.clone(),
        attach: Some(tag.clone()),
        pos_ref: pos_ref.map(|r| r.as_str().to_string()),
    };
    if let Err(e) = till.journal.insert_intent(&intent, now_ms) {
        till.disable(&e);
        return Err(SaleError::Journal(e));
    }
    tracing::info!(out_trade_no = %out_trade_no, total_fee = amount.0, code = %code, "sale started");
    let sale = Sale::new(till.policy.clone(), amount, till.clock.now());
    let ctx = SaleCtx {
        out_trade_no,
        total_fee: amount,
        micropay: Some(req),
        tag: Some(tag),
    };
    let outcome = drive(till, &ctx, sale, cancel, progress).await?;
    Ok(Charged {
        outcome,
        closed,
        unchecked,
    })
}

/// A fresh tag for one sale, sent as `attach` and stored with the intent: an order under the
/// same number that does not carry it is another till's (a copied config), never this sale's.
/// Two groups of 8 hex: 16 hex in a row were all digits about once in 1 800 tags, and such a
/// run can read as a payment code, which the request check refuses (a sale refused for "fix
/// [merchant]" about once in 30 000).
fn sale_tag() -> String {
    let n = crate::wxpay::call::nonce();
    format!(
        "paycode-{}-{}",
        n.get(..8).unwrap_or(""),
        n.get(8..16).unwrap_or("")
    )
}

/// What the loop needs to build requests for one sale.
pub(super) struct SaleCtx {
    pub out_trade_no: String,
    pub total_fee: Fen,
    /// `None` for a resumed sale: it can never send a micropay again.
    pub micropay: Option<MicropayRequest>,
    /// The sale's `attach` tag, checked on every paid query answer (`None`: an older sale).
    pub tag: Option<String>,
}

impl SaleCtx {
    /// A sale already in the journal: it never sends a micropay again.
    pub(super) fn of(row: &SaleRow) -> SaleCtx {
        SaleCtx {
            out_trade_no: row.out_trade_no.clone(),
            total_fee: row.total_fee,
            micropay: None,
            tag: row.attach.clone(),
        }
    }
}

/// The poll → checkpoint → send → on_reply loop until the flow is final.
pub(super) async fn drive(
    till: &mut Till,
    ctx: &SaleCtx,
    mut sale: Sale,
    cancel: &CancelToken,
    mut progress: impl FnMut(Progress),
) -> Result<Outcome, SaleError> {
    let mut cancel_rx = cancel.subscribe();
    let mut cancel_applied = false;
    // A resumed sale has been submitted already.
    let mut submitted = ctx.micropay.is_none();
    let mut paid: Option<api::Payment> = None;
    let mut committed_final = false;
    loop {
        let now = till.clock.now();
        if !cancel_applied && cancel.is_cancelled() {
            cancel_applied = true;
            tracing::info!(out_trade_no = %ctx.out_trade_no, "cashier cancelled: reversing when allowed");
            sale.cancel(now);
            // Journaled before the wait for the reverse: a crash in between still reverses.
            if sale.outcome().is_none() {
                let state = SaleState::Reversing;
                let t = Transition::default();
                checkpoint(till, ctx, &sale, state, &t, "cashier cancelled", None)?;
            }
        }
        match sale.poll(now) {
            Step::Done(result) => {
                let outcome = outcome_of(ctx, result, paid.as_ref(), sale.summary());
                if !committed_final {
                    commit_final(till, ctx, &sale, &outcome, "final")?;
                }
                tracing::info!(out_trade_no = %ctx.out_trade_no, status = outcome.status().as_str(),
                    err_code = outcome.err_code().unwrap_or(""), note = outcome.note.as_deref().unwrap_or(""),
                    "sale finished");
                progress(Progress::Done(outcome.clone()));
                return Ok(outcome);
            }
            Step::WaitUntil(at) => {
                if let Some(p) = progress_of(&sale, ctx, now) {
                    progress(p);
                }
                // Wake at least once a second for the countdown.
                let wait = until(at, now).min(Duration::from_secs(1));
                if cancel_applied {
                    tokio::time::sleep(wait).await;
                } else {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel_rx.changed() => {}
                    }
                }
            }
            Step::AwaitingReply => {
                // Every Send below is answered before the next poll; if that ever breaks, an
                // unknown outcome is the safe answer (the flow queries).
                sale.on_reply(
                    now,
                    Reply::Unknown {
                        why: "internal: no reply recorded".into(),
                    },
                );
            }
            Step::Send(request) => {
                let state = open_state(&sale, submitted);
                let detail = format!("send {}", request_name(request));
                checkpoint(
                    till,
                    ctx,
                    &sale,
                    state,
                    &Transition::default(),
                    &detail,
                    None,
                )?;
                if let Some(p) = progress_of(&sale, ctx, now) {
                    progress(p);
                }
                let started = till.clock.now();
                let (reply, payment) = exchange(till, ctx, request).await;
                let now = till.clock.now();
                let (line, err_code) = adapter::describe(&reply);
                tracing::info!(out_trade_no = %ctx.out_trade_no, endpoint = endpoint_of(request).path(),
                    elapsed_ms = now.since(started).as_millis() as u64, outcome = %line,
                    err_code = err_code.as_deref().unwrap_or(""), "reply");
                if payment.is_some() {
                    paid = payment;
                }
                sale.on_reply(now, reply);
                if request == Request::Micropay {
                    submitted = true;
                }
                let detail = format!("reply {line}");
                let t = Transition {
                    err_code: err_code.clone(),
                    ..Transition::default()
                };
                if matches!(sale.outcome(), Some(Final::Refunded(_))) {
                    send_late_refund(till, ctx, &mut sale).await?;
                }
                if let Some(result) = sale.outcome().cloned() {
                    let outcome = outcome_of(ctx, result, paid.as_ref(), sale.summary());
                    commit_final(till, ctx, &sale, &outcome, &detail)?;
                    committed_final = true;
                } else {
                    let state = open_state(&sale, submitted);
                    checkpoint(till, ctx, &sale, state, &t, &detail, err_code.as_deref())?;
                }
            }
        }
    }
}

/// The journal state of an open sale.
fn open_state(sale: &Sale, submitted: bool) -> SaleState {
    match sale.phase() {
        Phase::Reversing { .. } | Phase::Confirming { .. } => SaleState::Reversing,
        _ if submitted => SaleState::Submitted,
        _ => SaleState::Intent,
    }
}

fn request_name(r: Request) -> &'static str {
    match r {
        Request::Micropay => "micropay",
        Request::OrderQuery => "orderquery",
        Request::Reverse => "reverse",
    }
}

fn endpoint_of(r: Request) -> Endpoint {
    match r {
        Request::Micropay => MicropayRequest::ENDPOINT,
        Request::OrderQuery => OrderQueryRequest::ENDPOINT,
        Request::Reverse => ReverseRequest::ENDPOINT,
    }
}

/// Commit an open state with the flow summary; a failure disables payments and stops the sale.
fn checkpoint(
    till: &mut Till,
    ctx: &SaleCtx,
    sale: &Sale,
    state: SaleState,
    t: &Transition,
    detail: &str,
    err_code: Option<&str>,
) -> Result<(), SaleError> {
    let flow = summary_json(&sale.summary());
    let at = till.clock.unix_ms();
    let event = EventLine {
        kind: "flow",
        detail,
        err_code,
    };
    till.journal
        .checkpoint(&ctx.out_trade_no, state, t, &flow, event, at)
        .map_err(|e| stop(till, ctx, e))
}

/// Commit the final state with what the replies taught us.
fn commit_final(
    till: &mut Till,
    ctx: &SaleCtx,
    sale: &Sale,
    outcome: &Outcome,
    detail: &str,
) -> Result<(), SaleError> {
    let (state, t) = final_transition(outcome);
    let err_code = t.err_code.clone();
    checkpoint(till, ctx, sale, state, &t, detail, err_code.as_deref())
}

/// The flow found a late payment past WeChat's reverse window (`Final::Refunded`): refund the
/// whole amount (its number committed first). The outcome stands once WeChat accepted the
/// refund; otherwise the sale is unresolved and the next retry sends the same refund again.
async fn send_late_refund(
    till: &mut Till,
    ctx: &SaleCtx,
    sale: &mut Sale,
) -> Result<(), SaleError> {
    let row = till
        .journal
        .sale(&ctx.out_trade_no)
        .map_err(|e| stop(till, ctx, e))?
        .ok_or_else(|| {
            stop(
                till,
                ctx,
                JournalError::NoSuchSale(ctx.out_trade_no.clone()),
            )
        })?;
    tracing::warn!(out_trade_no = %ctx.out_trade_no, "late payment past the reverse window: refunding it");
    let why = match super::refund::return_late_payment(till, &row).await {
        Ok(r) if matches!(r.state, RefundState::Processing | RefundState::Success) => {
            let at = till.clock.unix_ms();
            let detail = format!("late payment returned by refund {}", r.out_refund_no);
            till.journal
                .record_event(&ctx.out_trade_no, "refund", &detail, None, at)
                .map_err(|e| stop(till, ctx, e))?;
            return Ok(());
        }
        Ok(r) => format!(
            "paid too late to reverse; refund {} is {} ({}): retried",
            r.out_refund_no,
            r.state.as_str(),
            r.err_code.as_deref().unwrap_or("no answer")
        ),
        Err(super::refund::RefundError::Journal(e)) => return Err(stop(till, ctx, e)),
        Err(e) => format!("paid too late to reverse; the refund was not sent: {e}"),
    };
    tracing::warn!(out_trade_no = %ctx.out_trade_no, %why, "late payment not refunded yet");
    sale.refund_not_accepted(why);
    Ok(())
}

/// A journal write failed while a sale was open: payments stop, and the error names the sale.
pub(super) fn stop(till: &mut Till, ctx: &SaleCtx, e: JournalError) -> SaleError {
    till.disable(&e);
    SaleError::Stopped {
        out_trade_no: ctx.out_trade_no.clone(),
        total_fee: ctx.total_fee,
        source: e,
    }
}

/// The journal row of a final outcome.
pub(super) fn final_transition(o: &Outcome) -> (SaleState, Transition) {
    match &o.result {
        Final::Paid(p) => (
            SaleState::Paid,
            Transition {
                transaction_id: Some(p.transaction_id.clone()),
                bank_type: o.bank_type.clone(),
                cash_fee: o.cash_fee,
                ..Transition::default()
            },
        ),
        Final::Refunded(p) => (
            SaleState::Paid,
            Transition {
                transaction_id: Some(p.transaction_id.clone()),
                bank_type: o.bank_type.clone(),
                cash_fee: o.cash_fee,
                message: Some(RETURNED_BY_REFUND_NOTE.into()),
                ..Transition::default()
            },
        ),
        Final::Failed { err_code, .. } => (
            SaleState::Failed,
            Transition {
                err_code: Some(err_code.clone()),
                ..Transition::default()
            },
        ),
        Final::Reversed { refunded } => (
            SaleState::Reversed,
            Transition {
                transaction_id: o.transaction_id.clone(),
                message: Some(
                    if *refunded {
                        REFUNDED_NOTE
                    } else {
                        NOT_CHARGED_NOTE
                    }
                    .into(),
                ),
                ..Transition::default()
            },
        ),
        Final::Unresolved { why } => (
            SaleState::Unresolved,
            Transition {
                message: Some(why.clone()),
                ..Transition::default()
            },
        ),
    }
}

fn outcome_of(
    ctx: &SaleCtx,
    result: Final,
    paid: Option<&api::Payment>,
    summary: Summary,
) -> Outcome {
    let tx = match &result {
        Final::Paid(p) => Some(p.transaction_id.clone()),
        _ => paid.map(|p| p.transaction_id.clone()),
    };
    // Payment details only from the reply that carried this very transaction.
    let details = paid.filter(|p| Some(&p.transaction_id) == tx.as_ref());
    Outcome {
        out_trade_no: ctx.out_trade_no.clone(),
        total_fee: ctx.total_fee,
        transaction_id: tx,
        bank_type: details.and_then(|p| p.bank_type.clone()),
        cash_fee: details.map(|p| p.cash_fee),
        note: summary.problem,
        result,
    }
}

fn summary_json(s: &Summary) -> String {
    // Serializing plain data cannot fail; an empty object would resume conservatively anyway.
    serde_json::to_string(s).unwrap_or_else(|_| "{}".into())
}

fn progress_of(sale: &Sale, ctx: &SaleCtx, now: super::flow::Millis) -> Option<Progress> {
    let no = ctx.out_trade_no.clone();
    Some(match sale.phase() {
        Phase::Submitting => Progress::Submitting {
            out_trade_no: no,
            total_fee: ctx.total_fee,
        },
        Phase::WaitingForPassword { deadline, queries } => Progress::WaitingForPassword {
            out_trade_no: no,
            remaining: until(deadline, now),
            queries,
            reverses: sale.proven(),
        },
        Phase::Querying => Progress::Querying {
            out_trade_no: no,
            remaining: sale.deadline().map(|d| until(d, now)),
            queries: sale.queries(),
            reverses: sale.proven(),
        },
        Phase::Reversing { attempt } => Progress::Reversing {
            out_trade_no: no,
            attempt,
            remaining: sale
                .deadline()
                .map(|d| until(d, now))
                .filter(|r| !r.is_zero()),
        },
        Phase::Confirming { until: end } => Progress::Confirming {
            out_trade_no: no,
            remaining: until(end, now),
        },
        Phase::Done => return None,
    })
}

/// Send one request and map the answer; also returns the verified payment of a paid answer.
pub(super) async fn exchange(
    till: &Till,
    ctx: &SaleCtx,
    request: Request,
) -> (Reply, Option<api::Payment>) {
    let order = OrderRef::OutTradeNo(ctx.out_trade_no.clone());
    match request {
        Request::Micropay => {
            let Some(req) = &ctx.micropay else {
                let why = "a resumed sale cannot send a micropay".into();
                return (Reply::Unknown { why }, None);
            };
            answer(till.call(req).await, |a| {
                let payment = a.as_ref().ok().and_then(|r| r.result.clone().ok());
                (adapter::micropay(a), payment)
            })
        }
        Request::OrderQuery => {
            let req = OrderQueryRequest {
                order,
                expect_total_fee: Some(ctx.total_fee),
                expect_attach: ctx.tag.clone(),
            };
            answer(till.call(&req).await, |a| {
                let payment = a
                    .as_ref()
                    .ok()
                    .and_then(|r| r.result.as_ref().ok())
                    .and_then(|s| s.payment.clone());
                (adapter::orderquery(a), payment)
            })
        }
        Request::Reverse => answer(till.call(&ReverseRequest { order }).await, |a| {
            (adapter::reverse(a), None)
        }),
    }
}

/// A call's result as a flow reply: no reply is unknown (the transport may have delivered it).
fn answer<T>(
    called: Result<Answered<T>, CallError>,
    verified: impl FnOnce(&Result<T, api::ReplyError>) -> (Reply, Option<api::Payment>),
) -> (Reply, Option<api::Payment>) {
    match called {
        Ok(a) => verified(&a.answer),
        Err(CallError::Transport(e)) => (adapter::transport(&e), None),
        Err(CallError::Request(e)) => (
            Reply::Unknown {
                why: format!("request not built: {e}"),
            },
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sale_tag_never_reads_as_a_payment_code() {
        for _ in 0..20_000 {
            let t = sale_tag();
            assert!(!crate::authcode::holds_code(&t), "{t}");
            assert_eq!(t.len(), "paycode-".len() + 17);
        }
    }

    #[test]
    fn cancel_token_is_shared_by_clones() {
        let t = CancelToken::new();
        let u = t.clone();
        assert!(!u.is_cancelled());
        t.cancel();
        assert!(u.is_cancelled());
    }

    #[test]
    fn sale_errors_have_exit_codes_and_both_languages() {
        let stopped = SaleError::Stopped {
            out_trade_no: "T".into(),
            total_fee: Fen(1),
            source: JournalError::NoSuchSale("T".into()),
        };
        assert_eq!(stopped.exit_code(), 2);
        assert!(stopped.to_string().contains("do not hand over goods"));
        assert!(stopped.zh().contains("请勿交付商品"));
        let busy = SaleError::Busy {
            out_trade_no: "T".into(),
        };
        assert_eq!(busy.exit_code(), 3);
        assert!(!busy.zh().is_empty());
    }
}
