//! What WeChat holds of a sale's refunds, asked before a new refund number is given (FAULTS
//! row 213). A journal restored from a backup has lost the refunds made since: its next
//! `<out_trade_no>R<n>` is a number WeChat already holds, and WeChat answers a request under it
//! for the same amount as the retry of that old refund — a refund shown as made that never was.
//! refundquery by `out_trade_no` lists every refund of the order (docs/protocol.md §9).

use super::till::Till;
use crate::journal::{Authority, NewRefund, Refund, RefundState, SaleRow};
use crate::money::Fen;
use crate::wxpay::api::{RefundItem, RefundQueryRequest, RefundRef, RefundStatus};
use crate::wxpay::call::CallError;

use super::refund::RefundError;

/// Learn `row`'s refunds from WeChat. Ours the journal lost (`<out_trade_no>R<n>`) are recorded
/// as they are at WeChat, and the new refund is refused naming them: the cashier decides with
/// what is really left whether the customer is owed another. Returns what refunds outside this
/// till's numbering (made in the merchant platform) hold, which is not left to refund. No
/// verified answer refuses the new refund: a number given blind may be WeChat's old one.
/// What the list of a sale's refunds at WeChat came to.
pub(super) enum Learned {
    /// This much is held by refunds outside this till's numbering (the merchant platform).
    Elsewhere(Fen),
    /// The refund asked for is already made: its number (from the POS's `refund_ref`) is
    /// WeChat's, lost from a restored journal; now recorded under that ref (FAULTS row 214).
    This(Refund),
}

/// The number of the refund a POS asks for under `refund_ref`: WeChat itself then keeps one
/// refund per ref, also when the journal that knew the ref is gone (restored from a backup).
/// Eighteen digits from [`REF_NUMBERS`] (60 bits: two refs of one sale never meet), above any
/// counted number.
pub(super) fn number_for_ref(out_trade_no: &str, refund_ref: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(refund_ref.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    let n = u64::from_be_bytes(first) % (10 * REF_NUMBERS - REF_NUMBERS) + REF_NUMBERS;
    format!("{out_trade_no}R{n}")
}

/// Numbers from a POS's refund id start here; counted ones (`R1`, `R2`, …) stay below.
pub(super) const REF_NUMBERS: u64 = 100_000_000_000_000_000;

pub(super) async fn learn(
    till: &mut Till,
    row: &SaleRow,
    asked: (Option<&str>, Option<Fen>),
) -> Result<Learned, RefundError> {
    let (refund_ref, amount) = asked;
    let mine = refund_ref.map(|r| number_for_ref(&row.out_trade_no, r));
    let no = row.out_trade_no.as_str();
    // Page by page: WeChat lists 10 refunds of an order at a time, with the order's count in
    // `total_refund_count` (at most 50 refunds: 5 pages).
    let mut items: Vec<RefundItem> = Vec::new();
    for _ in 0..5 {
        let req = RefundQueryRequest {
            by: RefundRef::OutTradeNo(no.to_string()),
            offset: (!items.is_empty()).then(|| u32::try_from(items.len()).unwrap_or(u32::MAX)),
        };
        let list = match till.call(&req).await {
            Err(CallError::Request(e)) => return Err(e.into()),
            Err(CallError::Transport(_)) => return Err(unasked(no)),
            Ok(a) => match a.answer {
                Ok(reply) => match reply.result {
                    Ok(list) => list,
                    Err(biz) if biz.err_code == "REFUNDNOTEXIST" && items.is_empty() => {
                        return Ok(Learned::Elsewhere(Fen(0)));
                    }
                    Err(_) => return Err(unasked(no)),
                },
                Err(_) => return Err(unasked(no)),
            },
        };
        let page = list.refunds.len();
        items.extend(list.refunds);
        if page == 0 || list.total.is_none_or(|t| items.len() >= t) {
            break;
        }
    }
    let known = till.journal.refunds_of(no)?;
    let unknown: Vec<&RefundItem> = items
        .iter()
        .filter(|i| !known.iter().any(|k| k.out_refund_no == i.out_refund_no))
        .collect();
    // Under a number of ours the journal holds for another amount (refused NUMBER_TAKEN, row
    // 199): WeChat's refund there is not the journal's, and holds money (FAULTS row 218).
    let shadowed = Fen(items
        .iter()
        .filter(|i| {
            holds(&i.refund_status)
                && known
                    .iter()
                    .any(|k| k.out_refund_no == i.out_refund_no && k.refund_fee != i.refund_fee)
        })
        .map(|i| i.refund_fee.0)
        .sum());
    let ours = |i: &RefundItem| {
        i.out_refund_no
            .strip_prefix(no)
            .and_then(|rest| rest.strip_prefix('R'))
            .is_some_and(|n| {
                !n.is_empty() && n.len() <= 18 && n.bytes().all(|b| b.is_ascii_digit())
            })
    };
    // Amounts are at most money::MAX_ORDER each, 50 refunds an order: no sum overflows.
    let elsewhere = Fen(unknown
        .iter()
        .filter(|i| !ours(i) && holds(&i.refund_status))
        .map(|i| i.refund_fee.0)
        .sum::<u64>()
        + shadowed.0);
    let lost: Vec<&RefundItem> = unknown.iter().copied().filter(|i| ours(i)).collect();
    if lost.is_empty() {
        return Ok(Learned::Elsewhere(elsewhere));
    }
    if let Some(i) = lost
        .iter()
        .find(|i| Some(&i.out_refund_no) == mine.as_ref())
        && amount.is_some_and(|a| a != i.refund_fee)
    {
        let (key, theirs) = (refund_ref.unwrap_or(""), &i.out_refund_no);
        return Err(RefundError::RefReused {
            en: format!(
                "refund_ref {key} is already refund {theirs} (¥{} of sale {no}) at WeChat: a refund_ref names one refund — give a new refund_ref for another refund; nothing was sent",
                i.refund_fee
            ),
            zh: format!(
                "refund_ref {key} 在微信已是退款 {theirs}(订单 {no} 的 ¥{}):一个 refund_ref 只对应一笔退款 — 另一笔退款请使用新的 refund_ref;未发送任何请求",
                i.refund_fee
            ),
        });
    }
    let at = till.clock.unix_ms();
    for i in &lost {
        let this = Some(&i.out_refund_no) == mine.as_ref();
        tracing::warn!(out_refund_no = %i.out_refund_no, refund_fee = i.refund_fee.0, "a refund WeChat holds that the journal lost: recorded");
        till.journal.insert_refund_of(
            no,
            &NewRefund {
                out_refund_no: &i.out_refund_no,
                refund_fee: i.refund_fee,
                reason: "",
                authorised: Authority::FoundAtWeChat,
                pos_refund_ref: if this { refund_ref } else { None },
            },
            at,
        )?;
        till.journal.update_refund(
            &i.out_refund_no,
            state_of(&i.refund_status),
            Some(&i.refund_id),
            None,
            at,
        )?;
    }
    let now = till.journal.refunds_of(no)?;
    if let Some(r) = now.iter().find(|r| Some(&r.out_refund_no) == mine.as_ref()) {
        return Ok(Learned::This(r.clone()));
    }
    let taken = Fen(crate::journal::held_by(&now).0 + elsewhere.0);
    let left = row.total_fee.saturating_sub(taken);
    let named: Vec<String> = lost
        .iter()
        .map(|i| format!("{} ¥{}", i.out_refund_no, i.refund_fee))
        .collect();
    let named = named.join(", ");
    Err(RefundError::Refused {
        en: format!(
            "WeChat already holds refunds of sale {no} this journal did not know: {named} (made before the journal was restored from a backup, or on a copy of it); they are recorded now and ¥{left} is left. Nothing was sent: if the customer is owed another refund, run it again"
        ),
        zh: format!(
            "微信已有交易 {no} 的退款,而本账本中没有:{named}(在账本从备份恢复之前,或在其副本上退的);现已记入账本,尚可退 ¥{left}。未发送任何请求:如果顾客还应再退款,请再次发起"
        ),
    })
}

/// The refund may hold money at WeChat (closed ones hold nothing).
fn holds(s: &RefundStatus) -> bool {
    !matches!(s, RefundStatus::RefundClose)
}

fn state_of(s: &RefundStatus) -> RefundState {
    match s {
        RefundStatus::Success => RefundState::Success,
        RefundStatus::RefundClose => RefundState::Closed,
        RefundStatus::Change => RefundState::Change,
        RefundStatus::Processing | RefundStatus::Other(_) => RefundState::Processing,
    }
}

/// No verified list of the sale's refunds: nothing is numbered.
fn unasked(no: &str) -> RefundError {
    RefundError::Refused {
        en: format!(
            "could not ask WeChat about the earlier refunds of sale {no} (no verified answer): a new refund is numbered only once they are known; nothing was sent — try again in a moment"
        ),
        zh: format!(
            "无法向微信查询交易 {no} 先前的退款(没有可验证的应答):只有查清后才会编号新的退款;未发送任何请求 — 请稍后再试"
        ),
    }
}

/// Whether WeChat holds a refund under `no`, the number about to be used. `Some`: it is the
/// refund of this very `refund_ref` (a retry after a restore), now recorded under it. One of
/// ours WeChat holds otherwise is recorded and the new refund refused, as [`learn`] does.
pub(super) async fn number_is_free(
    till: &mut Till,
    row: &SaleRow,
    no: &str,
    refund_ref: Option<&str>,
) -> Result<Option<Refund>, RefundError> {
    let sale = row.out_trade_no.as_str();
    let req = RefundQueryRequest {
        by: RefundRef::OutRefundNo(no.to_string()),
        offset: None,
    };
    let item = match till.call(&req).await {
        Err(CallError::Request(e)) => return Err(e.into()),
        Err(CallError::Transport(_)) => return Err(unasked(sale)),
        Ok(a) => match a.answer {
            Ok(reply) => match reply.result {
                Ok(list) => list.refunds.into_iter().find(|i| i.out_refund_no == no),
                Err(biz) if biz.err_code == "REFUNDNOTEXIST" => return Ok(None),
                Err(_) => return Err(unasked(sale)),
            },
            Err(_) => return Err(unasked(sale)),
        },
    };
    let Some(i) = item else {
        return Err(unasked(sale));
    };
    tracing::warn!(out_refund_no = %no, refund_fee = i.refund_fee.0, "the number about to be used is a refund WeChat holds: recorded");
    let at = till.clock.unix_ms();
    till.journal.insert_refund_of(
        sale,
        &NewRefund {
            out_refund_no: no,
            refund_fee: i.refund_fee,
            reason: "",
            authorised: Authority::FoundAtWeChat,
            pos_refund_ref: refund_ref,
        },
        at,
    )?;
    till.journal
        .update_refund(no, state_of(&i.refund_status), Some(&i.refund_id), None, at)?;
    let now = till.journal.refunds_of(sale)?;
    if refund_ref.is_some() {
        return Ok(now.into_iter().find(|r| r.out_refund_no == no));
    }
    let left = row.total_fee.saturating_sub(crate::journal::held_by(&now));
    Err(RefundError::Refused {
        en: format!(
            "WeChat already holds refund {no} (¥{}) of sale {sale}, which this journal did not know (made before the journal was restored from a backup, or on a copy of it); it is recorded now and ¥{left} is left. Nothing was sent: if the customer is owed another refund, run it again",
            i.refund_fee
        ),
        zh: format!(
            "微信已有交易 {sale} 的退款 {no}(¥{}),而本账本中没有(在账本从备份恢复之前,或在其副本上退的);现已记入账本,尚可退 ¥{left}。未发送任何请求:如果顾客还应再退款,请再次发起",
            i.refund_fee
        ),
    })
}
