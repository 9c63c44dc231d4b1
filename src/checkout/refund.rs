//! Refunds of paid sales: the `out_refund_no` is committed before the request and reused on
//! every retry (WeChat's idempotency key for refunds), then refundquery follows it to the end.

use crate::words::{Bilingual, Words};
use std::time::Duration;

use super::till::Till;
use crate::journal::{
    Authority, JournalError, NUMBER_TAKEN, Refund, RefundState, SaleRow, SaleState,
};
use crate::money::Fen;
use crate::wxpay::api::{self, OrderRef, RefundQueryRequest, RefundRef, RefundRequest, ReplyError};
use crate::wxpay::call::CallError;

/// The refund err_codes that say no refund was made (WeChat's table for `/secapi/pay/refund`,
/// docs/protocol.md §9). Any other answer leaves the refund open under the same number.
const REFUSALS: [&str; 11] = [
    "TRADE_OVERDUE",
    "ERROR",
    "USER_ACCOUNT_ABNORMAL",
    "NOTENOUGH",
    "INVALID_TRANSACTIONID",
    "PARAM_ERROR",
    "APPID_NOT_EXIST",
    "MCHID_NOT_EXIST",
    "REQUIRE_POST_METHOD",
    "SIGNERROR",
    "XML_FORMAT_ERROR",
];

/// Outside WeChat's refusal table, but the answer to a refund WeChat will not make as asked:
/// more than is left of the order (a refund this journal does not know: made in the merchant
/// platform, or lost with a restored backup), or a number it holds for another amount ("订单金额
/// 或退款金额与之前请求不一致"). Sending it again meets the same answer, so it is refused like the
/// table's codes once refundquery confirms (FAULTS.md rows 199, 200). TRADE_STATE_ERROR: the
/// order is in a state that cannot be refunded (reversed, or refunded in full: a journal
/// restored from before that, row 210).
const NOT_AS_ASKED: [&str; 2] = ["INVALID_REQUEST", "TRADE_STATE_ERROR"];

/// Refund request attempts on retryable answers before leaving it for a later retry.
const SEND_ATTEMPTS: u32 = 5;

/// Why a refund was not started.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("no sale {0} in the journal; check the order number (paycode history)")]
    NotFound(String),
    #[error("{en}")]
    Refused { en: String, zh: String },
    /// A POS refund id already used for another sale or amount.
    #[error("{en}")]
    RefReused { en: String, zh: String },
    #[error("cannot build the refund request: {0}")]
    Request(#[from] api::RequestError),
    #[error("{0}")]
    Journal(#[from] JournalError),
}

impl RefundError {
    /// `key` is already the POS's refund `earlier` (another sale or amount): refused.
    pub(super) fn ref_reused(key: &str, earlier: &Refund) -> Self {
        let (no, fee, sale) = (
            &earlier.out_refund_no,
            earlier.refund_fee,
            &earlier.out_trade_no,
        );
        Self::RefReused {
            en: format!(
                "refund_ref {key} is already refund {no} (¥{fee} of sale {sale}): a refund_ref names one refund — give a new refund_ref for another refund; nothing was sent"
            ),
            zh: format!(
                "refund_ref {key} 已用于退款 {no}(订单 {sale} 的 ¥{fee}):一个 refund_ref 只对应一笔退款 — 另一笔退款请使用新的 refund_ref;未发送任何请求"
            ),
        }
    }

    /// No such sale, the number masked like [`super::settle::SettleError::not_found`].
    fn not_found(out_trade_no: &str) -> Self {
        Self::NotFound(crate::untrusted::shown_arg(out_trade_no))
    }
}

impl Bilingual for RefundError {
    fn zh(&self) -> String {
        match self {
            Self::NotFound(no) => format!("账本中没有订单 {no};请核对订单号(paycode history)"),
            Self::Refused { zh, .. } | Self::RefReused { zh, .. } => zh.clone(),
            Self::Request(e) => format!("无法生成退款请求:{}", e.zh()),
            Self::Journal(e) => e.zh(),
        }
    }
}

/// Where a refund ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    pub refund: Refund,
    /// The number was taken over from an earlier unfinished attempt.
    pub reused: bool,
    /// "Refund the rest": earlier unconfirmed refunds sent again first, under their numbers.
    pub resent: Vec<Refund>,
    /// "Refund the rest" not started because `refund` still has no verified answer: this much
    /// of the sale is left for a later run.
    pub rest_not_started: Option<Fen>,
}

impl RefundOutcome {
    /// The refunds still open at WeChat or unconfirmed: the money is not all back yet. A resent
    /// one that was refused or closed is covered by the rest's refund, so it does not count.
    pub fn any_open(&self) -> bool {
        self.rest_not_started.is_some()
            || self.refund.state.is_open()
            || self.resent.iter().any(|r| r.state.is_open())
    }
}

/// A step of a refund, for stderr / the TUI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundProgress {
    /// Sending (attempt n) with this refund number.
    Sending { out_refund_no: String, attempt: u32 },
    /// Accepted; waiting for WeChat to finish (refundquery n).
    Processing { out_refund_no: String, queries: u32 },
}

/// Refund `amount` (default: all that is left) of a paid sale, as `authorised` (recorded with a
/// new refund number). `wait`: follow it with refundquery up to that long; `None`: return once
/// WeChat accepted it.
pub async fn refund(
    till: &mut Till,
    out_trade_no: &str,
    amount: Option<Fen>,
    reason: &str,
    authorised: Authority,
    wait: Option<Duration>,
    progress: impl FnMut(RefundProgress),
) -> Result<RefundOutcome, RefundError> {
    let asked = RefundAsk {
        amount,
        reason,
        authorised,
        refund_ref: None,
        follow_open: false,
    };
    refund_as(till, out_trade_no, &asked, wait, progress).await
}

/// What a refund was asked with.
#[derive(Debug, Clone, Copy)]
pub struct RefundAsk<'a> {
    /// `None`: all that is left.
    pub amount: Option<Fen>,
    pub reason: &'a str,
    pub authorised: Authority,
    /// The POS's own id for the refund (`POST /v1/refunds`): its idempotency key.
    pub refund_ref: Option<&'a str>,
    /// `paycode refund` handed over: an open refund of the same amount is this one, as the
    /// command has it on its own (rows 208, 223); the ref still names the refund made.
    pub follow_open: bool,
}

/// A refund the POS asked for under its own id `refund_ref`: the refund already made under it
/// is answered again (sent again while unanswered, followed while open) and `true` says so —
/// never a second refund; the id used before for another sale or amount is refused. The API
/// serves one request at a time, so the look-up and the insert cannot race (the journal's
/// unique index backs it).
pub async fn refund_for_ref(
    till: &mut Till,
    out_trade_no: &str,
    asked: &RefundAsk<'_>,
    wait: Option<Duration>,
    mut progress: impl FnMut(RefundProgress),
) -> Result<(RefundOutcome, bool), RefundError> {
    let Some(key) = asked.refund_ref else {
        return refund_as(till, out_trade_no, asked, wait, progress)
            .await
            .map(|o| (o, false));
    };
    let Some(mut earlier) = till.journal.refund_with_ref(key)? else {
        return refund_as(till, out_trade_no, asked, wait, progress)
            .await
            .map(|o| (o, false));
    };
    let other_amount = asked.amount.is_some_and(|a| a != earlier.refund_fee);
    if earlier.out_trade_no != out_trade_no || other_amount {
        return Err(RefundError::ref_reused(key, &earlier));
    }
    if earlier.state == RefundState::Requested {
        let total = till
            .journal
            .sale(out_trade_no)?
            .map_or(earlier.refund_fee, |r| r.total_fee);
        send(till, &mut earlier, total, &mut progress).await?;
    }
    if let Some(limit) = wait {
        follow(till, &mut earlier, limit, &mut progress).await?;
    }
    let outcome = RefundOutcome {
        refund: earlier,
        reused: true,
        resent: Vec::new(),
        rest_not_started: None,
    };
    Ok((outcome, true))
}

/// [`refund`] as `asked`.
async fn refund_as(
    till: &mut Till,
    out_trade_no: &str,
    asked: &RefundAsk<'_>,
    wait: Option<Duration>,
    mut progress: impl FnMut(RefundProgress),
) -> Result<RefundOutcome, RefundError> {
    let amount = asked.amount;
    let row = till
        .journal
        .sale(out_trade_no)?
        .ok_or_else(|| RefundError::not_found(out_trade_no))?;
    if row.state != SaleState::Paid {
        return Err(not_paid(out_trade_no, row.state));
    }
    // A journal copied from another till holds that till's sales: never refunded here (row
    // 224). The late-payment return is of this till's own sale, so it needs no such check.
    let mine = &till.config().merchant.device_info;
    if &row.device_info != mine {
        let theirs = &row.device_info;
        return Err(RefundError::Refused {
            en: format!(
                "sale {out_trade_no} was made by till {theirs}, not this till ({mine}): refund it on that till; nothing was sent (is this journal a copy of that till's?)"
            ),
            zh: format!(
                "交易 {out_trade_no} 是收银台 {theirs} 的交易,不是本收银台({mine})的:请在那台收银台上退款;未发送任何请求(本账本是否复制自那台收银台?)"
            ),
        });
    }
    if amount.is_none() {
        return refund_the_rest(till, &row, asked, wait, &mut progress).await;
    }
    settle_unverified(till, &row, asked).await?;
    let (mut refund, reused) = open_or_new(till, &row, asked).await?;
    if refund.state == RefundState::Requested {
        send(till, &mut refund, row.total_fee, &mut progress).await?;
    }
    if let Some(limit) = wait {
        follow(till, &mut refund, limit, &mut progress).await?;
    }
    Ok(RefundOutcome {
        refund,
        reused,
        resent: Vec::new(),
        rest_not_started: None,
    })
}

/// Why a sale not held as paid is not refunded, and what settles it (FAULTS row 212: an
/// unresolved sale WeChat charged was "not paid: nothing to refund").
fn not_paid(no: &str, state: SaleState) -> RefundError {
    let Words { en, zh } = not_paid_words(no, state);
    RefundError::Refused { en, zh }
}

/// [`not_paid`]'s words (the API's refusal of a POS ref's unpaid sale says the same).
pub fn not_paid_words(no: &str, state: SaleState) -> Words {
    let (en, zh) = match state {
        SaleState::Failed => (
            format!("sale {no} was not charged: there is nothing to refund"),
            format!("交易 {no} 未扣款,无可退款项"),
        ),
        SaleState::Reversed => (
            format!("sale {no} was reversed: the money is already back with the customer"),
            format!("交易 {no} 已撤销:款项已退回顾客"),
        ),
        s => (
            format!(
                "sale {no} is {} — WeChat may have charged the customer; do not refund it by hand: `paycode query {no}` settles it from WeChat's answer (a payment found is returned, or a manager keeps it with `paycode accept {no}`)",
                s.as_str()
            ),
            format!(
                "交易 {no} {} — 微信可能已扣款;请勿手工退款:`paycode query {no}` 按微信的结果结清(查到的付款会退回,或由店长用 `paycode accept {no}` 保留)",
                s.zh()
            ),
        ),
    };
    Words::new(en, zh)
}

/// WeChat's limit of refunds of one order (docs/protocol.md §9).
const MAX_REFUNDS: usize = 50;

/// Refund all that is left of `row`. Each earlier refund without a verified answer is sent
/// again first under its own number (WeChat's idempotency key); only when every one of them has
/// an answer is the rest numbered and sent (FAULTS.md row 80: resending one and calling the sale
/// refunded left the rest with the customer's money unreturned).
async fn refund_the_rest(
    till: &mut Till,
    row: &SaleRow,
    asked: &RefundAsk<'_>,
    wait: Option<Duration>,
    progress: &mut impl FnMut(RefundProgress),
) -> Result<RefundOutcome, RefundError> {
    let mut resent: Vec<Refund> = till
        .journal
        .refunds_of(&row.out_trade_no)?
        .into_iter()
        .filter(|r| r.state == RefundState::Requested)
        .collect();
    for r in &mut resent {
        send(till, r, row.total_fee, progress).await?;
    }
    if let Some(i) = resent
        .iter()
        .position(|r| r.state == RefundState::Requested)
    {
        let refund = resent.remove(i);
        let left = left_to_refund(till, row)?;
        return Ok(RefundOutcome {
            refund,
            reused: true,
            resent,
            rest_not_started: (left.0 > 0).then_some(left),
        });
    }
    // The resent ones were all there was to refund: the last of them is the answer.
    let last = if left_to_refund(till, row)?.0 == 0 {
        resent.pop()
    } else {
        None
    };
    let (mut refund, reused) = match last {
        Some(last) => (last, true),
        None => {
            open_or_new(
                till,
                row,
                &RefundAsk {
                    amount: None,
                    ..*asked
                },
            )
            .await?
        }
    };
    if refund.state == RefundState::Requested {
        send(till, &mut refund, row.total_fee, progress).await?;
    }
    if let Some(limit) = wait {
        let start = till.clock.now();
        follow(till, &mut refund, limit, progress).await?;
        for r in &mut resent {
            let spent = till.clock.now().since(start);
            follow(till, r, limit.saturating_sub(spent), progress).await?;
        }
    }
    Ok(RefundOutcome {
        refund,
        reused,
        resent,
        rest_not_started: None,
    })
}

/// What of `row` no refund holds yet (refused and closed refunds hold nothing).
fn left_to_refund(till: &Till, row: &SaleRow) -> Result<Fen, RefundError> {
    let taken = crate::journal::held_by(&till.journal.refunds_of(&row.out_trade_no)?);
    Ok(row.total_fee.saturating_sub(taken))
}

/// The reason sent with the refund of a late payment (WeChat shows it to the customer).
const LATE_PAYMENT_REASON: &str = "收银台已取消该笔交易,款项原路退回";

/// A late payment past WeChat's reverse window (the flow's `Final::Refunded`): refund the whole
/// amount of `row`, a sale the cashier was told not to hand over and that WeChat verified paid.
/// Not a manager's refund, so `row` need not be paid in the journal. An open refund of it is
/// sent again under its own number; WeChat's answer is in the returned refund's state.
pub(super) async fn return_late_payment(
    till: &mut Till,
    row: &SaleRow,
) -> Result<Refund, RefundError> {
    // The whole amount, so an open refund of it (requested or processing) is the one followed.
    let asked = RefundAsk {
        amount: Some(row.total_fee),
        reason: LATE_PAYMENT_REASON,
        authorised: Authority::LatePayment,
        refund_ref: None,
        follow_open: false,
    };
    let (mut refund, _) = open_or_new(till, row, &asked).await?;
    if refund.state == RefundState::Requested {
        send(till, &mut refund, row.total_fee, &mut |_| {}).await?;
    }
    Ok(refund)
}

/// The refund to send for `row`: an open one for this amount (same number: WeChat's
/// idempotency key), else a new number for `amount` (default: all that is left), committed to
/// the journal before anything is sent. The flag says which.
async fn open_or_new(
    till: &mut Till,
    row: &SaleRow,
    asked: &RefundAsk<'_>,
) -> Result<(Refund, bool), RefundError> {
    let RefundAsk {
        amount,
        reason,
        authorised,
        refund_ref,
        follow_open,
    } = *asked;
    let out_trade_no = row.out_trade_no.as_str();
    let existing = till.journal.refunds_of(out_trade_no)?;
    let left = left_to_refund(till, row)?;
    // The same amount asked again follows the open refund of it under its own number (WeChat's
    // idempotency key). "The rest" (no amount) comes here only once every unconfirmed refund
    // has an answer (`refund_the_rest`); one still processing counts as taken, and the rest
    // gets a new number (FAULTS rows 76, 80).
    // A refund under the POS's own id is that refund alone, never another's open one.
    // Nor is a POS's refund (numbered from its refund_ref) a manager's (FAULTS row 218).
    let pos_numbered =
        |r: &Refund| super::refunds_at_wechat::from_a_ref(out_trade_no, &r.out_refund_no);
    let reuse = amount
        .filter(|_| refund_ref.is_none() || follow_open)
        .and_then(|a| {
            existing
                .iter()
                .find(|r| r.state.is_open() && a == r.refund_fee && !pos_numbered(r))
                .cloned()
        });
    Ok(match reuse {
        Some(r) => (r, true),
        None => {
            let fee = amount.unwrap_or(left);
            if fee.0 == 0 || fee > left {
                return Err(RefundError::Refused {
                    en: format!(
                        "cannot refund ¥{fee}: ¥{left} of the sale's ¥{} is left to refund",
                        row.total_fee
                    ),
                    zh: format!("无法退款 ¥{fee}:该笔 ¥{} 尚可退 ¥{left}", row.total_fee),
                });
            }
            // WeChat takes at most 50 refunds of an order: the 51st would be left open for
            // ever (FAULTS row 211). Those WeChat never made do not count.
            let made = existing
                .iter()
                .filter(|r| r.state != RefundState::Refused)
                .count();
            if made >= MAX_REFUNDS {
                return Err(RefundError::Refused {
                    en: format!(
                        "sale {out_trade_no} already has {made} refunds, and WeChat takes at most {MAX_REFUNDS} of one sale: nothing was sent; refund the rest in the merchant platform"
                    ),
                    zh: format!(
                        "交易 {out_trade_no} 已有 {made} 笔退款,微信每笔交易最多退款 {MAX_REFUNDS} 次:未发送任何请求;剩余金额请在商户平台退款"
                    ),
                });
            }
            // A number this till gives once, and WeChat does not hold (rows 213–214, 218). A
            // late payment's return is paycode's own, of a sale no manager refunded.
            // Handed over from `paycode refund` (a fresh ref per run), the number is counted
            // like the command's own, so the next run finds the refund open (row 208).
            let numbered_by = refund_ref.filter(|_| !follow_open);
            let no = super::refunds_at_wechat::next_number(out_trade_no, &existing, numbered_by);
            // Built before anything is asked or stored: a bad reason is refused, nothing sent.
            crate::wxpay::call::check(
                &till.link.merchant,
                &request(&row.out_trade_no, &no, row.total_fee, fee, reason),
            )?;
            if let Some(key) = numbered_by
                && let Some(k) = existing.iter().find(|k| k.out_refund_no == no)
            {
                // Made under this ref, the journal restored, and the refund learnt from WeChat
                // since without its ref (row 214).
                return super::refunds_at_wechat::this_refs(k, key, amount).map(|r| (r, true));
            }
            let elsewhere = if authorised == Authority::LatePayment {
                Fen(0)
            } else {
                use super::refunds_at_wechat::{Learned, learn, number_is_free};
                let f = match learn(till, row, numbered_by, amount).await? {
                    Learned::Elsewhere(f) => f,
                    Learned::This(r) => return Ok((r, true)),
                };
                if let Some(r) = number_is_free(till, row, &no, numbered_by, amount).await? {
                    return Ok((r, true));
                }
                f
            };
            // "The rest" is what WeChat has left (row 218).
            let left = left.saturating_sub(elsewhere);
            let fee = if amount.is_none() { left } else { fee };
            if fee.0 == 0 || fee > left {
                return Err(RefundError::Refused {
                    en: format!(
                        "cannot refund ¥{fee}: WeChat holds ¥{elsewhere} of the sale's ¥{} in refunds made outside this till (the merchant platform); ¥{left} is left to refund",
                        row.total_fee
                    ),
                    zh: format!(
                        "无法退款 ¥{fee}:该笔 ¥{} 中有 ¥{elsewhere} 已在本机之外(商户平台)退款;尚可退 ¥{left}",
                        row.total_fee
                    ),
                });
            }
            let at = till.clock.unix_ms();
            let new = crate::journal::NewRefund {
                out_refund_no: &no,
                refund_fee: fee,
                reason,
                authorised,
                pos_refund_ref: refund_ref,
            };
            till.journal.insert_refund_of(out_trade_no, &new, at)?;
            let r = till
                .journal
                .refunds_of(out_trade_no)?
                .into_iter()
                .find(|r| r.out_refund_no == no)
                .ok_or_else(|| JournalError::NoSuchSale(no.clone()))?;
            (r, false)
        }
    })
}

fn request(no: &str, refund_no: &str, total: Fen, fee: Fen, reason: &str) -> RefundRequest {
    RefundRequest {
        order: OrderRef::OutTradeNo(no.to_string()),
        out_refund_no: refund_no.to_string(),
        total_fee: total,
        refund_fee: fee,
        refund_desc: (!reason.is_empty()).then(|| reason.to_string()),
    }
}

/// Send (and resend, same number) until WeChat accepts or refuses it definitely.
async fn send(
    till: &mut Till,
    r: &mut Refund,
    total: Fen,
    progress: &mut impl FnMut(RefundProgress),
) -> Result<(), RefundError> {
    let req = request(
        &r.out_trade_no,
        &r.out_refund_no,
        total,
        r.refund_fee,
        &r.reason,
    );
    let backoff = till.policy.reverse_backoff;
    for attempt in 1..=SEND_ATTEMPTS {
        progress(RefundProgress::Sending {
            out_refund_no: r.out_refund_no.clone(),
            attempt,
        });
        let (state, refund_id, err_code) = match till.call(&req).await {
            Err(CallError::Request(e)) => return Err(e.into()),
            Err(CallError::Transport(e)) => {
                tracing::warn!(out_refund_no = %r.out_refund_no, error = %e, "refund: no reply");
                (None, None, None)
            }
            Ok(a) => match a.answer {
                Ok(reply) => match reply.result {
                    Ok(acc) => (Some(RefundState::Processing), Some(acc.refund_id), None),
                    Err(biz)
                        if REFUSALS.contains(&biz.err_code.as_str())
                            || NOT_AS_ASKED.contains(&biz.err_code.as_str()) =>
                    {
                        (Some(RefundState::Refused), None, Some(biz.err_code))
                    }
                    // Retry codes, and codes outside WeChat's table: the refund may exist.
                    Err(biz) => (None, None, Some(biz.err_code)),
                },
                // Unsigned: anyone on the path can write it, so it proves nothing.
                Err(ReplyError::ProtocolFail { return_msg }) => {
                    tracing::warn!(out_refund_no = %r.out_refund_no, %return_msg, "refund: unverified refusal");
                    (None, None, None)
                }
                Err(e) => {
                    tracing::warn!(out_refund_no = %r.out_refund_no, error = %e, "refund: untrusted reply");
                    (None, None, None)
                }
            },
        };
        tracing::info!(out_refund_no = %r.out_refund_no, attempt, state = ?state, err_code = err_code.as_deref().unwrap_or(""), "refund reply");
        // A refusal is believed only once WeChat confirms no refund exists under the number:
        // a signed decline can hide one that was made (FAULTS.md row 79). A number WeChat
        // holds for another refund is recorded refused by the query itself (row 199).
        if state == Some(RefundState::Refused) {
            match ask_once(till, r).await? {
                Asked::NoSuchRefund => {}
                Asked::Taken => return Ok(()),
                Asked::Named | Asked::Nothing => {
                    tracing::warn!(out_refund_no = %r.out_refund_no, "refund refusal not confirmed by refundquery");
                    return Ok(());
                }
            }
        }
        if let Some(state) = state {
            let at = till.clock.unix_ms();
            till.journal.update_refund(
                &r.out_refund_no,
                state,
                refund_id.as_deref(),
                err_code.as_deref(),
                at,
            )?;
            r.state = state;
            r.refund_id = refund_id.or(r.refund_id.take());
            r.err_code = err_code;
            return Ok(());
        }
        if attempt < SEND_ATTEMPTS {
            tokio::time::sleep(backoff.saturating_mul(attempt)).await;
        }
    }
    // Still `requested`: the next `paycode refund` reuses the same number.
    Ok(())
}

/// refundquery every `query_interval` until the refund is final or `limit` passes.
async fn follow(
    till: &mut Till,
    r: &mut Refund,
    limit: Duration,
    progress: &mut impl FnMut(RefundProgress),
) -> Result<(), RefundError> {
    let start = till.clock.now();
    let interval = till.policy.query_interval.max(Duration::from_millis(1));
    let mut queries = 0;
    while r.state.is_open() && till.clock.now().since(start) <= limit {
        queries += 1;
        progress(RefundProgress::Processing {
            out_refund_no: r.out_refund_no.clone(),
            queries,
        });
        ask_once(till, r).await?;
        if r.state.is_open() {
            tokio::time::sleep(interval).await;
        }
    }
    Ok(())
}

/// What one refundquery of a refund's number verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// WeChat named the refund (its state is recorded when it says more than the journal).
    Named,
    /// WeChat verified there is no refund under the number.
    NoSuchRefund,
    /// WeChat named another refund under the number: this one is recorded refused.
    Taken,
    /// No verified answer.
    Nothing,
}

/// One refundquery for `r`; a verified answer that names it is recorded. Anything else (no
/// reply, unsigned, REFUNDNOTEXIST) leaves it as it was; the answer says which.
async fn ask_once(till: &mut Till, r: &mut Refund) -> Result<Asked, RefundError> {
    let req = RefundQueryRequest {
        by: RefundRef::OutRefundNo(r.out_refund_no.clone()),
        offset: None,
    };
    let list = match till.call(&req).await {
        Err(CallError::Request(e)) => return Err(e.into()),
        Err(CallError::Transport(_)) => return Ok(Asked::Nothing),
        Ok(a) => match a.answer {
            Ok(reply) => match reply.result {
                Ok(list) => list,
                Err(biz) if biz.err_code == "REFUNDNOTEXIST" => return Ok(Asked::NoSuchRefund),
                Err(_) => return Ok(Asked::Nothing),
            },
            Err(_) => return Ok(Asked::Nothing),
        },
    };
    let Some(item) = list
        .refunds
        .iter()
        .find(|i| i.out_refund_no == r.out_refund_no)
    else {
        return Ok(Asked::Nothing);
    };
    if item.refund_fee != r.refund_fee {
        return number_taken(till, r, item.refund_fee);
    }
    // Still processing says more only of one never confirmed.
    let state = Some(super::refunds_at_wechat::state_of(&item.refund_status))
        .filter(|s| *s != RefundState::Processing || r.state == RefundState::Requested);
    if let Some(state) = state {
        let at = till.clock.unix_ms();
        till.journal
            .update_refund(&r.out_refund_no, state, Some(&item.refund_id), None, at)?;
        r.state = state;
        r.refund_id = Some(item.refund_id.clone());
    }
    Ok(Asked::Named)
}

/// WeChat verified that `r`'s number holds another refund (of `theirs`): it keeps one refund
/// per number, so `r` was never made and never will be under it (FAULTS.md row 199). Recorded
/// as refused, so the next refund of the sale gets a new number.
fn number_taken(till: &mut Till, r: &mut Refund, theirs: Fen) -> Result<Asked, RefundError> {
    tracing::warn!(
        out_refund_no = %r.out_refund_no,
        ours = r.refund_fee.0,
        theirs = theirs.0,
        "refund number holds another refund at WeChat: this one was not made"
    );
    let at = till.clock.unix_ms();
    till.journal.update_refund(
        &r.out_refund_no,
        RefundState::Refused,
        None,
        Some(NUMBER_TAKEN),
        at,
    )?;
    r.state = RefundState::Refused;
    r.err_code = Some(NUMBER_TAKEN.to_string());
    Ok(Asked::Taken)
}

/// Before a new `out_refund_no` of `row`: ask WeChat about each of its refunds whose answer was
/// never verified (still `requested`), so that no number is abandoned. One WeChat still does
/// not confirm refuses the new refund, naming it and how to send it again under its number.
async fn settle_unverified(
    till: &mut Till,
    row: &SaleRow,
    asked: &RefundAsk<'_>,
) -> Result<(), RefundError> {
    let amount = asked.amount;
    let unverified: Vec<Refund> = till
        .journal
        .refunds_of(&row.out_trade_no)?
        .into_iter()
        .filter(|r| r.state == RefundState::Requested)
        .collect();
    // This request resends one of them (same number): nothing new is numbered. Not under a
    // POS's refund_ref, which is never another's open refund (`open_or_new`).
    if (asked.refund_ref.is_none() || asked.follow_open)
        && unverified.iter().any(|r| amount == Some(r.refund_fee))
    {
        return Ok(());
    }
    // A POS's refund is sent again by the POS under its refund_ref: told to resend it with
    // `paycode refund --amount`, a manager made a second refund (row 225).
    let pos =
        |r: &Refund| super::refunds_at_wechat::from_a_ref(&row.out_trade_no, &r.out_refund_no);
    for mut r in unverified {
        ask_once(till, &mut r).await?;
        if r.state == RefundState::Requested && pos(&r) {
            let (rno, fee) = (&r.out_refund_no, r.refund_fee);
            return Err(RefundError::Refused {
                en: format!(
                    "the POS's refund {rno} of ¥{fee} has no verified answer from WeChat yet: the POS sends it again with its own refund_ref (never refunded twice); a new refund is not started while it is open"
                ),
                zh: format!(
                    "POS 发起的退款 {rno}(¥{fee})尚未得到微信确认:请由 POS 用其 refund_ref 重新发送(不会重复退款);在它完成前不会发起新的退款"
                ),
            });
        }
        if r.state == RefundState::Requested {
            let (no, rno, fee) = (&row.out_trade_no, &r.out_refund_no, r.refund_fee);
            return Err(RefundError::Refused {
                en: format!(
                    "refund {rno} of ¥{fee} has no verified answer from WeChat yet: send it again first with `paycode refund {no} --amount {fee}` (same refund number, never refunded twice); a new refund is not started while it is open"
                ),
                zh: format!(
                    "退款 {rno}(¥{fee})尚未得到微信确认:请先用 `paycode refund {no} --amount {fee}` 重新发送(同一退款单号,不会重复退款);在它完成前不会发起新的退款"
                ),
            });
        }
    }
    Ok(())
}

/// How far back open refunds are followed in the background.
const FOLLOW_WITHIN_MS: i64 = 7 * 24 * 3600 * 1000;

/// One refundquery for each open refund of the last 7 days — accepted but not finished
/// (`processing`), or never confirmed (`requested`: its answer was lost, or it never arrived) —
/// recording what WeChat verified (`recover` and the cashier screen's background pass: a refund
/// nobody waited for would otherwise stay open in the journal, FAULTS.md rows 71 and 83). An
/// unconfirmed refund is only asked about, never sent again: whether to send it is the
/// manager's call (`paycode refund`, same number). `unconfirmed`: ask about those too (a pass
/// that runs every few seconds asks only now and then: one that never reached WeChat stays
/// open for the 7 days). Returns how many are still open.
pub async fn follow_open(till: &mut Till, unconfirmed: bool) -> Result<usize, RefundError> {
    let now = till.clock.unix_ms();
    let open: Vec<Refund> = till
        .journal
        .refunds_between(now.saturating_sub(FOLLOW_WITHIN_MS), i64::MAX)?
        .into_iter()
        .filter(|r| r.state == RefundState::Processing || (unconfirmed && r.state.is_open()))
        .collect();
    let mut left = 0;
    for mut r in open {
        ask_once(till, &mut r).await?;
        left += usize::from(r.state.is_open());
    }
    Ok(left)
}
