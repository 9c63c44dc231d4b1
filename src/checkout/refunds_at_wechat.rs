//! Refund numbers, and what WeChat holds under them, asked before a new one is used (FAULTS
//! rows 213–214, 218–219). A journal restored from a backup has lost the refunds made since:
//! its next `<out_trade_no>R<n>` is a number WeChat already holds, and WeChat answers a
//! request under it for the same amount as the retry of that old refund — a refund shown as
//! made that never was. refundquery by `out_trade_no` lists an order's refunds 10 a page
//! (docs/protocol.md §9); the number itself is asked about too.

use super::refund::RefundError;
use super::till::Till;
use crate::journal::{Authority, NewRefund, Refund, RefundState, SaleRow};
use crate::money::Fen;
use crate::wxpay::api::{RefundItem, RefundList, RefundQueryRequest, RefundRef, RefundStatus};
use crate::wxpay::call::CallError;

/// Numbers from a POS's refund id start here; counted ones (`R1`, `R2`, …) stay below.
pub(super) const REF_NUMBERS: u64 = 100_000_000_000_000_000;

/// The refunds an order can have at WeChat (50), 10 listed a page.
const PAGES: usize = 5;

/// `n` of one of this till's refund numbers of `out_trade_no` (`<out_trade_no>R<n>`).
pub(super) fn number_of(out_trade_no: &str, out_refund_no: &str) -> Option<u64> {
    let n = out_refund_no
        .strip_prefix(out_trade_no)?
        .strip_prefix('R')?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The refund number was given from a POS's `refund_ref` (the POS sends it again, not a manager).
pub(super) fn from_a_ref(out_trade_no: &str, out_refund_no: &str) -> bool {
    number_of(out_trade_no, out_refund_no).is_some_and(|n| n >= REF_NUMBERS)
}

/// The number a new refund of `out_trade_no` gets. Under a POS's `refund_ref`: 18 digits of its
/// SHA-256 from [`REF_NUMBERS`] (60 bits: two refs of one sale never meet), so WeChat itself
/// keeps one refund per ref, also when the journal that knew the ref is gone. Otherwise the next
/// counted one after every number the journal has.
pub(super) fn next_number(
    out_trade_no: &str,
    existing: &[Refund],
    refund_ref: Option<&str>,
) -> String {
    if let Some(key) = refund_ref {
        use sha2::Digest;
        let d = sha2::Sha256::digest(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&d[..8]);
        let n = u64::from_be_bytes(first) % (10 * REF_NUMBERS - REF_NUMBERS) + REF_NUMBERS;
        return format!("{out_trade_no}R{n}");
    }
    let counted = existing
        .iter()
        .filter_map(|r| number_of(out_trade_no, &r.out_refund_no))
        .filter(|n| *n < REF_NUMBERS)
        .max()
        .unwrap_or(0);
    format!("{out_trade_no}R{}", counted.max(existing.len() as u64) + 1)
}

/// The refund `k` made under `key` is this request's, unless it was for another amount.
pub(super) fn this_refs(k: &Refund, key: &str, amount: Option<Fen>) -> Result<Refund, RefundError> {
    if amount.is_some_and(|a| a != k.refund_fee) {
        return Err(RefundError::ref_reused(key, k));
    }
    Ok(k.clone())
}

/// What the list of a sale's refunds at WeChat came to.
pub(super) enum Learned {
    /// This much is held by refunds outside this till's numbering (the merchant platform).
    Elsewhere(Fen),
    /// The refund asked for is already made: its number (from the POS's `refund_ref`) is
    /// WeChat's, lost from a restored journal; now recorded under that ref (row 214).
    This(Refund),
}

/// Learn `row`'s refunds from WeChat, every page. Ours the journal lost are recorded and the
/// new refund refused naming them ([`found`]). Returns what refunds outside this till's
/// numbering (made in the merchant platform), or under a number the journal holds for another
/// amount (refused NUMBER_TAKEN, row 199), hold: that is not left to refund.
pub(super) async fn learn(
    till: &mut Till,
    row: &SaleRow,
    refund_ref: Option<&str>,
    amount: Option<Fen>,
) -> Result<Learned, RefundError> {
    let no = row.out_trade_no.as_str();
    let mut items: Vec<RefundItem> = Vec::new();
    for _ in 0..PAGES {
        let req = RefundQueryRequest {
            by: RefundRef::OutTradeNo(no.to_string()),
            offset: (!items.is_empty()).then(|| u32::try_from(items.len()).unwrap_or(u32::MAX)),
        };
        let Some(list) = ask(till, no, &req).await? else {
            break; // REFUNDNOTEXIST: no refund (or none past the last page)
        };
        let page = list.refunds.len();
        items.extend(list.refunds);
        if page == 0 || list.total.is_none_or(|t| items.len() >= t) {
            break;
        }
    }
    let known = till.journal.refunds_of(no)?;
    let held = |i: &&RefundItem| !matches!(i.refund_status, RefundStatus::RefundClose);
    let mut elsewhere = 0;
    let mut lost = Vec::new();
    for i in &items {
        match known.iter().find(|k| k.out_refund_no == i.out_refund_no) {
            Some(k) if k.refund_fee == i.refund_fee => {}
            Some(_) => elsewhere += if held(&i) { i.refund_fee.0 } else { 0 },
            None if number_of(no, &i.out_refund_no).is_some() => lost.push(i),
            None => elsewhere += if held(&i) { i.refund_fee.0 } else { 0 },
        }
    }
    // Amounts are at most money::MAX_ORDER each, 50 refunds an order: no sum overflows.
    let elsewhere = Fen(elsewhere);
    if lost.is_empty() {
        return Ok(Learned::Elsewhere(elsewhere));
    }
    found(till, row, &lost, refund_ref, amount, elsewhere).map(Learned::This)
}

/// Whether WeChat holds a refund under `no`, the number about to be used (a list that lags,
/// or refunds past its pages). `Some`: it is this very `refund_ref`'s refund, now recorded.
/// One of ours otherwise is recorded and the new refund refused ([`found`]).
pub(super) async fn number_is_free(
    till: &mut Till,
    row: &SaleRow,
    no: &str,
    refund_ref: Option<&str>,
    amount: Option<Fen>,
) -> Result<Option<Refund>, RefundError> {
    let sale = row.out_trade_no.as_str();
    let req = RefundQueryRequest {
        by: RefundRef::OutRefundNo(no.to_string()),
        offset: None,
    };
    let Some(list) = ask(till, sale, &req).await? else {
        return Ok(None);
    };
    let Some(i) = list.refunds.iter().find(|i| i.out_refund_no == no) else {
        return Err(unasked(sale));
    };
    found(till, row, &[i], refund_ref, amount, Fen(0)).map(Some)
}

/// One refundquery about `sale`'s refunds: `None` when WeChat verified there is none under it.
/// No verified answer refuses the new refund: a number given blind may be WeChat's old one.
async fn ask(
    till: &Till,
    sale: &str,
    req: &RefundQueryRequest,
) -> Result<Option<RefundList>, RefundError> {
    match till.call(req).await {
        Err(CallError::Request(e)) => Err(e.into()),
        Err(CallError::Transport(_)) => Err(unasked(sale)),
        Ok(a) => match a.answer {
            Ok(reply) => match reply.result {
                Ok(list) => Ok(Some(list)),
                Err(biz) if biz.err_code == "REFUNDNOTEXIST" => Ok(None),
                Err(_) => Err(unasked(sale)),
            },
            Err(_) => Err(unasked(sale)),
        },
    }
}

/// Record `lost` — refunds of ours WeChat holds that the journal lacks — as they are at WeChat.
/// The one numbered from this request's `refund_ref` is this refund and answers it; otherwise
/// the new refund is refused naming them and what is left: the cashier decides with that
/// whether the customer is owed another.
fn found(
    till: &mut Till,
    row: &SaleRow,
    lost: &[&RefundItem],
    refund_ref: Option<&str>,
    amount: Option<Fen>,
    elsewhere: Fen,
) -> Result<Refund, RefundError> {
    let sale = row.out_trade_no.as_str();
    let existing = till.journal.refunds_of(sale)?;
    let mine = refund_ref.map(|_| next_number(sale, &existing, refund_ref));
    let at = till.clock.unix_ms();
    for i in lost {
        let this = mine.as_deref() == Some(i.out_refund_no.as_str());
        tracing::warn!(out_refund_no = %i.out_refund_no, refund_fee = i.refund_fee.0, "a refund WeChat holds that the journal lost: recorded");
        till.journal.insert_refund_of(
            sale,
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
    let now = till.journal.refunds_of(sale)?;
    if let (Some(key), Some(no)) = (refund_ref, &mine)
        && let Some(k) = now.iter().find(|r| &r.out_refund_no == no)
    {
        return this_refs(k, key, amount);
    }
    let left = row
        .total_fee
        .saturating_sub(Fen(crate::journal::held_by(&now).0 + elsewhere.0));
    let named = lost
        .iter()
        .map(|i| format!("{} ¥{}", i.out_refund_no, i.refund_fee))
        .collect::<Vec<_>>()
        .join(", ");
    Err(RefundError::Refused {
        en: format!(
            "WeChat already holds refunds of sale {sale} this journal did not know: {named} (made before the journal was restored from a backup, or on a copy of it); they are recorded now and ¥{left} is left. Nothing was sent: if the customer is owed another refund, run it again"
        ),
        zh: format!(
            "微信已有交易 {sale} 的退款,而本账本中没有:{named}(在账本从备份恢复之前,或在其副本上退的);现已记入账本,尚可退 ¥{left}。未发送任何请求:如果顾客还应再退款,请再次发起"
        ),
    })
}

/// The journal's state for WeChat's `refund_status` (one it does not know is still processing).
pub(super) fn state_of(s: &RefundStatus) -> RefundState {
    match s {
        RefundStatus::Success => RefundState::Success,
        RefundStatus::RefundClose => RefundState::Closed,
        RefundStatus::Change => RefundState::Change,
        RefundStatus::Processing | RefundStatus::Other(_) => RefundState::Processing,
    }
}

/// No verified answer about the sale's refunds: nothing is numbered.
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
