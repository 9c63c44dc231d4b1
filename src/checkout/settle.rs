//! Settling one sale by hand (`paycode query` / `paycode reverse`): one orderquery that records a
//! final answer, or a reverse driven by the same flow as every sale.

use super::flow::{
    Final, Millis, Reply, Request, ResumePoint, Sale, Summary, TradeState, settled_by_query,
};
use super::progress::{Outcome, Progress};
use super::reconcile::number_taken;
use super::runner::{CancelToken, SaleCtx, SaleError, drive, exchange, final_transition, stop};
use super::till::Till;
use crate::journal::{EventLine, JournalError, SaleRow, SaleState};
use crate::money::Fen;
use crate::words::Bilingual;

/// Reverse only within WeChat's window; older paid sales need a refund (docs/protocol.md §7).
pub const REVERSE_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Why a manual query or reverse was not done.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("no sale {0} in the journal; check the order number (paycode history)")]
    NotFound(String),
    #[error("{en}")]
    Refused { en: String, zh: String },
    #[error("{0}")]
    Sale(#[from] SaleError),
}

impl SettleError {
    /// No such sale: the number as typed, masked when it is shaped like a payment code (one
    /// typed where an order number belongs is never echoed whole).
    pub(super) fn not_found(out_trade_no: &str) -> Self {
        Self::NotFound(crate::untrusted::shown_arg(out_trade_no))
    }

    /// Exit status: 2 if a sale was left open mid-way, else 3 (nothing done).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Sale(e) => e.exit_code(),
            _ => 3,
        }
    }
}

impl Bilingual for SettleError {
    fn zh(&self) -> String {
        match self {
            Self::NotFound(no) => format!("账本中没有订单 {no};请核对订单号(paycode history)"),
            Self::Refused { zh, .. } => zh.clone(),
            Self::Sale(e) => e.zh(),
        }
    }
}

impl From<JournalError> for SettleError {
    fn from(e: JournalError) -> Self {
        SettleError::Sale(SaleError::Journal(e))
    }
}

/// What `query` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    /// The journal state before the query.
    pub before: SaleState,
    /// The journal state after it.
    pub after: SaleState,
    /// WeChat's trade_state, or the error/unknown line when there was none.
    pub wechat: String,
    /// The outcome when the sale is final (after the query).
    pub outcome: Option<Outcome>,
    /// WeChat had it paid after the cashier was told not to hand over goods, and the money was
    /// returned (the late-payment rule).
    pub returned: bool,
    /// The manager kept a late payment as paid (`paycode accept`, the pending screen's 3).
    pub accepted: bool,
}

/// What a query may do with the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// `query`, F9, the pending screen: settle an open sale; a late payment is returned.
    Settle,
    /// `accept`: the manager keeps a late payment (the customer took the goods after all).
    Accept,
}

/// Ask WeChat once about `out_trade_no`; a final answer settles an open sale in the journal.
/// Final sales keep their state (refunds are tracked on their own). A late payment — WeChat has
/// paid, verified and for the same amount, a sale the cashier was told is not charged or
/// unresolved ("do not hand over goods") — is returned to the customer, as `recover` and the
/// background retry do: reversed within WeChat's 7-day window. `accept_sale` keeps it instead.
pub async fn query_sale(till: &mut Till, out_trade_no: &str) -> Result<QueryAnswer, SettleError> {
    ask(till, out_trade_no, Use::Settle).await
}

/// `paycode accept`: the manager keeps a late payment of a sale held as not charged or
/// unresolved (the customer is still there and takes the goods). Refused unless WeChat's
/// verified answer is paid for the sale's amount.
pub async fn accept_sale(till: &mut Till, out_trade_no: &str) -> Result<QueryAnswer, SettleError> {
    ask(till, out_trade_no, Use::Accept).await
}

/// WeChat no longer reverses `row` (older than 7 days by the till's clock): a refund, then.
fn past_reverse_window(till: &Till, row: &SaleRow) -> bool {
    till.clock.unix_ms() - row.created_ms > REVERSE_WINDOW_MS
}

/// The late-payment rule for `query`: a sale the cashier was told not to hand over that WeChat
/// now has as paid goes back to the customer as `recover` does it: reversed, or past WeChat's
/// 7-day window (its reverse answers REVERSE_EXPIRE) refunded in full.
async fn return_late_payment(
    till: &mut Till,
    row: &SaleRow,
    line: &str,
    err_code: Option<&str>,
    wechat: String,
) -> Result<QueryAnswer, SettleError> {
    let out_trade_no = row.out_trade_no.as_str();
    let at = till.clock.unix_ms();
    let detail = format!(
        "query {line}: paid after the cashier was told not to hand over goods; returning it"
    );
    till.journal
        .record_event(out_trade_no, "query", &detail, err_code, at)?;
    tracing::warn!(out_trade_no, "late payment: returning it to the customer");
    let outcome = drive_reverse(till, row, "reverse: returning a late payment", |_| {}).await?;
    let after = till
        .journal
        .sale(out_trade_no)?
        .map_or(row.state, |r| r.state);
    // Said only when it happened: the reverse (or past WeChat's window, the refund) may not
    // have got through, and then the sale is still unresolved.
    let returned = outcome.status() == super::Status::Reversed;
    Ok(QueryAnswer {
        before: row.state,
        after,
        wechat,
        outcome: Some(outcome),
        returned,
        accepted: false,
    })
}

/// The sale was shown not charged or unresolved, or was being reversed.
fn told_not_to_hand_over(state: SaleState) -> bool {
    matches!(
        state,
        SaleState::Failed | SaleState::Unresolved | SaleState::Reversing
    )
}

async fn ask(till: &mut Till, out_trade_no: &str, usage: Use) -> Result<QueryAnswer, SettleError> {
    if let Some(d) = &till.disabled {
        return Err(SaleError::PaymentsDisabled(d.clone()).into());
    }
    let row = till
        .journal
        .sale(out_trade_no)?
        .ok_or_else(|| SettleError::not_found(out_trade_no))?;
    refuse_other_tills_order(&row)?;
    let ctx = SaleCtx::of(&row);
    let (reply, payment) = exchange(till, &ctx, Request::OrderQuery).await;
    let (line, err_code) = super::adapter::describe(&reply);
    let at = till.clock.unix_ms();
    let wechat = match &reply {
        Reply::QueryState { state, .. } => state.as_str().to_string(),
        _ => line.clone(),
    };
    let summary = till.summary(out_trade_no)?;
    let proven = summary.as_ref().is_some_and(|s| s.proof.proven());
    let settled = settled_by_query(&reply, row.total_fee, proven);
    let before = row.state;
    let mut after = row.state;
    let late = told_not_to_hand_over(row.state) && matches!(settled, Some(Final::Paid(_)));
    if usage == Use::Accept && !late {
        return Err(SettleError::Refused {
            en: format!(
                "sale {out_trade_no} cannot be accepted: WeChat says {wechat}, journal {} — only a sale held as not charged or unresolved that WeChat has as paid can be",
                row.state.as_str()
            ),
            zh: format!(
                "交易 {out_trade_no} 不能确认收款:微信返回 {wechat},账本为{} — 只有账本记为未扣款或结果未明、而微信已支付的交易才能确认",
                row.state.zh()
            ),
        });
    }
    if late && usage == Use::Settle {
        return return_late_payment(till, &row, &line, err_code.as_deref(), wechat).await;
    }
    match settled {
        Some(result) if !row.state.is_final() || late => {
            let outcome = Outcome {
                out_trade_no: row.out_trade_no.clone(),
                total_fee: row.total_fee,
                transaction_id: payment.as_ref().map(|p| p.transaction_id.clone()),
                bank_type: payment.as_ref().and_then(|p| p.bank_type.clone()),
                cash_fee: payment.as_ref().map(|p| p.cash_fee),
                note: Some(if late {
                    format!(
                        "accepted as paid by the manager (paycode accept): the journal said {}; WeChat: {line}",
                        row.state.as_str()
                    )
                } else {
                    format!("settled by paycode query: {line}")
                }),
                result: result.clone(),
            };
            let mut s = summary.unwrap_or(Summary {
                submitted_at: Millis(u64::try_from(row.created_ms).unwrap_or(0)),
                resume: None,
                queries: 0,
                reverse_attempts: 0,
                cancelled: false,
                problem: None,
                outcome: None,
                proof: Default::default(),
            });
            s.resume = None;
            s.outcome = Some(result);
            let flow = serde_json::to_string(&s).unwrap_or_else(|_| "{}".into());
            let (state, t) = final_transition(&outcome);
            let detail = format!("query {line}");
            let event = EventLine {
                kind: "query",
                detail: &detail,
                err_code: err_code.as_deref(),
            };
            if let Err(e) = till
                .journal
                .checkpoint(out_trade_no, state, &t, &flow, event, at)
            {
                return Err(stop(till, &ctx, e).into());
            }
            if late {
                tracing::warn!(out_trade_no, "late payment accepted as paid by the manager");
            } else {
                tracing::info!(out_trade_no, state = state.as_str(), "settled by query");
            }
            after = state;
        }
        _ => {
            till.journal.record_event(
                out_trade_no,
                "query",
                &format!("query {line}"),
                err_code.as_deref(),
                at,
            )?;
        }
    }
    let row = till
        .journal
        .sale(out_trade_no)?
        .ok_or_else(|| SettleError::not_found(out_trade_no))?;
    let summary = till.summary(out_trade_no)?;
    Ok(QueryAnswer {
        before,
        after,
        wechat,
        outcome: Outcome::from_journal(&row, summary.as_ref()),
        returned: false,
        // A late payment reaches this point only through `accept` (query returns it above).
        accepted: late,
    })
}

/// A sale that ended "number taken": what WeChat holds under the number is another till's order,
/// so this till never queries it into its journal, keeps, refunds or reverses it.
fn refuse_other_tills_order(row: &SaleRow) -> Result<(), SettleError> {
    if !(row.state == SaleState::Failed && number_taken(row.err_code.as_deref())) {
        return Ok(());
    }
    let no = &row.out_trade_no;
    Err(SettleError::Refused {
        en: format!(
            "sale {no} was not charged: WeChat answered that its order number is already used — the order under {no} is another till's (the same [merchant] device_info), so this till does not touch it; give every till its own device_info"
        ),
        zh: format!(
            "交易 {no} 未扣款:微信答复该订单号已被使用 — {no} 下的订单属于另一台收银机(相同的 [merchant] device_info),本收银台不会处理它;请为每台收银机设置不同的 device_info"
        ),
    })
}

/// A paid sale with a refund that may have moved money is never reversed: WeChat's `REFUND`
/// state only says that some refund exists, so the reverse's result could not be told apart
/// from a full refund. The rest goes back with the refund API.
fn refuse_after_refund(till: &Till, row: &SaleRow) -> Result<(), SettleError> {
    let refunded = crate::journal::held_by(&till.journal.refunds_of(&row.out_trade_no)?).0;
    if refunded == 0 {
        return Ok(());
    }
    let (no, total) = (&row.out_trade_no, row.total_fee);
    let left = Fen(total.0.saturating_sub(refunded));
    Err(SettleError::Refused {
        en: format!(
            "sale {no} already has refunds of ¥{} of its ¥{total}: it cannot be reversed; refund the rest (¥{left}) with `paycode refund {no}`",
            Fen(refunded)
        ),
        zh: format!(
            "交易 {no} 已退款 ¥{}(共 ¥{total}),不能再撤销;剩余 ¥{left} 请用 `paycode refund {no}` 退款",
            Fen(refunded)
        ),
    })
}

/// A paid sale that WeChat shows as `REFUND` has a refund made somewhere (the merchant platform,
/// another tool): how much is left cannot be known from the trade state, so no reverse.
async fn refuse_if_refunded_at_wechat(till: &Till, row: &SaleRow) -> Result<(), SettleError> {
    let ctx = SaleCtx::of(row);
    let (reply, _) = exchange(till, &ctx, Request::OrderQuery).await;
    if !matches!(
        reply,
        Reply::QueryState {
            state: TradeState::Refund,
            ..
        }
    ) {
        return Ok(());
    }
    let no = &row.out_trade_no;
    Err(SettleError::Refused {
        en: format!(
            "sale {no} already has a refund at WeChat that this till did not make (the merchant platform?): it cannot be reversed; check the refunds there, then refund the rest with `paycode refund {no} --amount …`"
        ),
        zh: format!(
            "交易 {no} 在微信已有一笔并非本收银台发起的退款(商户平台?):不能撤销;请先在商户平台核对退款,再用 `paycode refund {no} --amount …` 退还剩余金额"
        ),
    })
}

/// Reverse a sale by hand: open and unresolved sales, or a paid sale younger than 7 days (the
/// customer is refunded in full). Driven by the flow: query first, retries, confirm query.
pub async fn reverse_sale(
    till: &mut Till,
    out_trade_no: &str,
    progress: impl FnMut(Progress),
) -> Result<Outcome, SettleError> {
    if let Some(d) = &till.disabled {
        return Err(SaleError::PaymentsDisabled(d.clone()).into());
    }
    let row = till
        .journal
        .sale(out_trade_no)?
        .ok_or_else(|| SettleError::not_found(out_trade_no))?;
    match row.state {
        SaleState::Failed | SaleState::Reversed => {
            return Err(SettleError::Refused {
                en: format!(
                    "sale {out_trade_no} is already {}: the customer is not charged, nothing to reverse",
                    row.state.as_str()
                ),
                zh: format!(
                    "交易 {out_trade_no} 已是{}:顾客未被扣款,无需撤销",
                    row.state.zh()
                ),
            });
        }
        SaleState::Paid if past_reverse_window(till, &row) => {
            return Err(SettleError::Refused {
                en: format!(
                    "sale {out_trade_no} was paid more than 7 days ago; WeChat no longer reverses it — use `paycode refund {out_trade_no}`"
                ),
                zh: format!(
                    "交易 {out_trade_no} 支付已超过 7 天,微信不再受理撤销 — 请使用 `paycode refund {out_trade_no}`"
                ),
            });
        }
        SaleState::Paid => {
            refuse_after_refund(till, &row)?;
            refuse_if_refunded_at_wechat(till, &row).await?;
        }
        _ => {}
    }
    drive_reverse(till, &row, "reverse requested by hand", progress).await
}

/// Reverse `row` through the flow (query first, retries, confirm query), as `recover` does.
pub(super) async fn drive_reverse(
    till: &mut Till,
    row: &SaleRow,
    why: &str,
    progress: impl FnMut(Progress),
) -> Result<Outcome, SettleError> {
    let out_trade_no = row.out_trade_no.as_str();
    let summary = till.summary(out_trade_no)?;
    let attempts = summary.as_ref().map_or(0, |s| s.reverse_attempts);
    let submitted_at = summary
        .as_ref()
        .map_or(Millis(u64::try_from(row.created_ms).unwrap_or(0)), |s| {
            s.submitted_at
        });
    let at = till.clock.unix_ms();
    till.journal
        .record_event(out_trade_no, "reverse", why, None, at)?;
    let sale = Sale::resume(
        till.policy.clone(),
        row.total_fee,
        submitted_at,
        ResumePoint::Reversing { attempts },
        summary.as_ref().map(|s| s.proof).unwrap_or_default(),
        till.clock.now(),
    );
    let ctx = SaleCtx::of(row);
    Ok(drive(till, &ctx, sale, &CancelToken::new(), progress).await?)
}
