//! Refunds of paid sales. The `out_refund_no` is committed before the refund request is sent and
//! reused for every retry of the same refund, which is WeChat's idempotency key for refunds.

use super::sales::sale_id;
use super::{Journal, JournalError};
use crate::money::Fen;
use crate::words::Words;
use rusqlite::params;

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// Committed; the request may or may not have reached WeChat.
    Requested,
    /// WeChat accepted it; refundquery reports progress.
    Processing,
    /// The money went back to the customer.
    Success,
    /// WeChat closed the refund (REFUNDCLOSE): nothing was refunded.
    Closed,
    /// The refund to a bank card failed (CHANGE): needs handling in the merchant platform.
    Change,
    /// WeChat refused the refund request definitely (e.g. NOTENOUGH merchant balance).
    Refused,
}

impl RefundState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Processing => "processing",
            Self::Success => "success",
            Self::Closed => "closed",
            Self::Change => "change",
            Self::Refused => "refused",
        }
    }

    /// Parse the stored spelling (unknown text reads as `Requested`: it gets looked at again).
    pub fn from_db(s: &str) -> RefundState {
        match s {
            "processing" => Self::Processing,
            "success" => Self::Success,
            "closed" => Self::Closed,
            "change" => Self::Change,
            "refused" => Self::Refused,
            _ => Self::Requested,
        }
    }

    /// What this state means for the cashier, in both languages (the CLI and the cashier
    /// screen say the same).
    pub fn words(self) -> Words {
        let (en, zh) = match self {
            Self::Success => ("refunded", "退款成功"),
            // Not "check with `paycode refund`": without --amount that refunds all the rest
            // (FAULTS row 209). `recover` follows open refunds and sends nothing new.
            Self::Processing => (
                "accepted, still processing at WeChat (check again later with `paycode recover`, which follows open refunds and refunds nothing more)",
                "已受理,微信处理中(稍后用 `paycode recover` 再查:它跟进未完成的退款,不会再退款)",
            ),
            Self::Requested => (
                "not confirmed yet; run the same refund again (the refund number is reused)",
                "尚未确认;请再次发起同一笔退款(将沿用同一退款单号)",
            ),
            Self::Closed => ("closed by WeChat: nothing refunded", "退款已关闭:未退款"),
            Self::Change => (
                "refund to the bank card failed: handle it in the merchant platform",
                "退款到银行卡失败:请在商户平台处理",
            ),
            Self::Refused => ("refused by WeChat", "微信拒绝退款"),
        };
        Words::new(en, zh)
    }

    /// WeChat accepted it: the money went back or is on its way (the owner's takings count it).
    pub fn accepted(self) -> bool {
        matches!(self, Self::Processing | Self::Success)
    }

    /// The refund may hold part of the sale: it is not closed or refused (an unconfirmed one
    /// counts until WeChat says otherwise).
    pub fn may_hold_money(self) -> bool {
        !matches!(self, Self::Closed | Self::Refused)
    }

    /// True while WeChat may still move money for this refund.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Requested | Self::Processing)
    }
}

/// What let a refund go out, recorded with it (the owner can see who authorised each one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// The manager PIN, typed on the cashier screen's refund step.
    PinOnScreen,
    /// The manager PIN, from `--pin-file` or the prompt of `paycode refund` / `reverse`.
    PinOnCommandLine,
    /// The manager PIN, sent with `POST /v1/refunds` (the POS, or `paycode refund` handed to
    /// the running paycode).
    PinOverApi,
    /// No manager PIN configured: allowed with the simulator only.
    SimulatorNoPin,
    /// paycode itself: a payment that arrived after the cashier was told not to hand over.
    LatePayment,
    /// Not made from this journal: WeChat held it under this till's number when a new refund
    /// was asked (a journal restored from a backup; FAULTS row 213).
    FoundAtWeChat,
}

impl Authority {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PinOnScreen => "pin:screen",
            Self::PinOnCommandLine => "pin:cli",
            Self::PinOverApi => "pin:api",
            Self::SimulatorNoPin => "simulator:no-pin",
            Self::LatePayment => "auto:late-payment",
            Self::FoundAtWeChat => "found:wechat",
        }
    }

    /// Parse the stored spelling (`None`: a refund from before it was recorded).
    pub fn from_db(s: &str) -> Option<Authority> {
        [
            Self::PinOnScreen,
            Self::PinOnCommandLine,
            Self::PinOverApi,
            Self::SimulatorNoPin,
            Self::LatePayment,
            Self::FoundAtWeChat,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// What `refunds` may hold of their sale (see [`RefundState::may_hold_money`]).
pub fn held_by(refunds: &[Refund]) -> Fen {
    refunds
        .iter()
        .filter(|r| r.state.may_hold_money())
        .map(|r| r.refund_fee)
        .sum()
}

/// One refund as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_fee: Fen,
    pub reason: String,
    pub state: RefundState,
    pub refund_id: Option<String>,
    pub err_code: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// What authorised it (`None`: recorded before authorisations were).
    pub authorised: Option<Authority>,
}

/// The `err_code` paycode records for a refund whose number WeChat holds for another refund of
/// the sale (FAULTS.md row 199): WeChat keeps one refund per number, so nothing of this one was
/// made under it. A journal restored from a backup gives such numbers again.
pub const NUMBER_TAKEN: &str = "NUMBER_TAKEN";

impl Refund {
    /// What this refund came to, for the cashier (the CLI, the API and the screen say the
    /// same): its state's words, or why its number could not be used.
    pub fn words(&self) -> Words {
        let no = &self.out_refund_no;
        if self.state == RefundState::Refused
            && self.err_code.as_deref() == Some("TRADE_STATE_ERROR")
        {
            return Words::new(
                format!(
                    "refused by WeChat, nothing refunded: WeChat holds sale {} in a state that cannot be refunded (reversed, or refunded in full — was the journal restored from a backup?); look it up in the merchant platform: what it shows is what the customer has back",
                    self.out_trade_no
                ),
                format!(
                    "微信拒绝退款,未退款:交易 {} 在微信处于不可退款的状态(已撤销或已全额退款 — 账本是否从备份恢复?);请在商户平台查看:以商户平台显示的为准",
                    self.out_trade_no
                ),
            );
        }
        if self.state == RefundState::Refused && self.err_code.as_deref() == Some("INVALID_REQUEST")
        {
            return Words::new(
                format!(
                    "refused by WeChat, nothing refunded: ¥{} is more than WeChat has left of the sale — it holds a refund this journal does not know (made in the merchant platform, or before the journal was restored from a backup?); look up the sale's refunds in the merchant platform and refund at most what is left",
                    self.refund_fee
                ),
                format!(
                    "微信拒绝退款,未退款:¥{} 超过该笔在微信的可退金额 — 微信有一笔本账本中没有的退款(在商户平台退的,或账本从备份恢复之前退的?);请在商户平台查看该笔的退款,最多退剩余金额",
                    self.refund_fee
                ),
            );
        }
        if self.err_code.as_deref() != Some(NUMBER_TAKEN) {
            return self.state.words();
        }
        Words::new(
            format!(
                "not made: WeChat already holds another refund of this sale under number {no}, one this journal does not know (restored from a backup, or copied from another till?); nothing of this ¥{} was refunded — refund it again, it gets a new number; the earlier refund shows in the merchant platform and in `paycode reconcile`",
                self.refund_fee
            ),
            format!(
                "未退款:微信已有该笔交易的另一笔退款使用单号 {no},本账本中没有它(账本是否从备份恢复,或从其他收银台复制?);本次 ¥{} 未退出 — 请重新发起退款,将使用新的退款单号;先前那笔退款可在商户平台和 `paycode reconcile` 中查看",
                self.refund_fee
            ),
        )
    }
}

/// A refund to commit before its request is sent.
#[derive(Debug, Clone, Copy)]
pub struct NewRefund<'a> {
    pub out_refund_no: &'a str,
    pub refund_fee: Fen,
    pub reason: &'a str,
    pub authorised: Authority,
    /// The POS's own id for it (`POST /v1/refunds`), its idempotency key.
    pub pos_refund_ref: Option<&'a str>,
}

const REFUND_COLUMNS: &str = "s.out_trade_no, r.out_refund_no, r.refund_fee, r.reason, r.state,
     r.refund_id, r.err_code, r.created_ms, r.updated_ms, r.authorised";

fn refund_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Refund> {
    let state: String = r.get(4)?;
    Ok(Refund {
        out_trade_no: r.get(0)?,
        out_refund_no: r.get(1)?,
        refund_fee: r.get(2)?,
        reason: r.get(3)?,
        state: RefundState::from_db(&state),
        refund_id: r.get(5)?,
        err_code: r.get(6)?,
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
        authorised: r
            .get::<_, Option<String>>(9)?
            .and_then(|a| Authority::from_db(&a)),
    })
}

impl Journal {
    /// Commit a refund before its request is sent.
    pub fn insert_refund(
        &mut self,
        out_trade_no: &str,
        out_refund_no: &str,
        refund_fee: Fen,
        reason: &str,
        authorised: Authority,
        at_ms: i64,
    ) -> Result<(), JournalError> {
        let new = NewRefund {
            out_refund_no,
            refund_fee,
            reason,
            authorised,
            pos_refund_ref: None,
        };
        self.insert_refund_of(out_trade_no, &new, at_ms)
    }

    /// [`Journal::insert_refund`] with the POS's refund id when it has one (a refund_ref
    /// already used is refused as a duplicate: it names one refund).
    pub fn insert_refund_of(
        &mut self,
        out_trade_no: &str,
        new: &NewRefund<'_>,
        at_ms: i64,
    ) -> Result<(), JournalError> {
        let NewRefund {
            out_refund_no,
            refund_fee,
            reason,
            authorised,
            pos_refund_ref,
        } = *new;
        let tx = self.write_tx()?;
        let id = sale_id(&tx, out_trade_no)?;
        let n = tx.execute(
            "INSERT INTO refunds (sale_id, out_refund_no, refund_fee, reason, state,
                                  created_ms, updated_ms, authorised, pos_refund_ref)
             VALUES (?1, ?2, ?3, ?4, 'requested', ?5, ?5, ?6, ?7)
             ON CONFLICT DO NOTHING",
            params![
                id,
                out_refund_no,
                refund_fee,
                reason,
                at_ms,
                authorised.as_str(),
                pos_refund_ref
            ],
        )?;
        if n == 0 {
            return Err(JournalError::DuplicateOrder(out_refund_no.to_string()));
        }
        tx.execute(
            "INSERT INTO events (sale_id, at_ms, kind, detail) VALUES (?1, ?2, 'refund', ?3)",
            params![
                id,
                at_ms,
                format!(
                    "{out_refund_no} requested refund_fee={} authorised={}",
                    refund_fee.0,
                    authorised.as_str()
                )
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Record what WeChat said about a refund.
    pub fn update_refund(
        &mut self,
        out_refund_no: &str,
        state: RefundState,
        refund_id: Option<&str>,
        err_code: Option<&str>,
        at_ms: i64,
    ) -> Result<(), JournalError> {
        let tx = self.write_tx()?;
        let n = tx.execute(
            "UPDATE refunds SET state = ?2, updated_ms = ?3,
                refund_id = COALESCE(?4, refund_id), err_code = COALESCE(?5, err_code)
             WHERE out_refund_no = ?1",
            params![out_refund_no, state.as_str(), at_ms, refund_id, err_code],
        )?;
        if n == 0 {
            return Err(JournalError::NoSuchSale(out_refund_no.to_string()));
        }
        tx.execute(
            "INSERT INTO events (sale_id, at_ms, kind, detail, err_code)
             SELECT sale_id, ?2, 'refund', ?3, ?4 FROM refunds WHERE out_refund_no = ?1",
            params![
                out_refund_no,
                at_ms,
                format!("{out_refund_no} {}", state.as_str()),
                err_code
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The refund the POS asked for under `pos_refund_ref`, if any.
    pub fn refund_with_ref(&self, pos_refund_ref: &str) -> Result<Option<Refund>, JournalError> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds r JOIN sales s ON s.id = r.sale_id
             WHERE r.pos_refund_ref = ?1"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query_map(params![pos_refund_ref], refund_from_row)?;
        Ok(rows.next().transpose()?)
    }

    /// The refunds of one sale, oldest first.
    pub fn refunds_of(&self, out_trade_no: &str) -> Result<Vec<Refund>, JournalError> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds r JOIN sales s ON s.id = r.sale_id
             WHERE s.out_trade_no = ?1 ORDER BY r.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([out_trade_no], refund_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The refunds a day's history needs: those made in `[from_ms, to_ms)` (the day's money)
    /// and those of the sales made in it (each sale shows its refunds), oldest first, once each.
    pub fn refunds_for_day(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Refund>, JournalError> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds r JOIN sales s ON s.id = r.sale_id
             WHERE (r.created_ms >= ?1 AND r.created_ms < ?2)
                OR (s.created_ms >= ?1 AND s.created_ms < ?2)
             ORDER BY r.created_ms, r.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([from_ms, to_ms], refund_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Refunds created in `[from_ms, to_ms)`, oldest first (for history).
    pub fn refunds_between(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Refund>, JournalError> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds r JOIN sales s ON s.id = r.sale_id
             WHERE r.created_ms >= ?1 AND r.created_ms < ?2 ORDER BY r.created_ms, r.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([from_ms, to_ms], refund_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{NewSale, SaleState, Transition};

    #[test]
    fn refund_number_is_committed_once_and_updated() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let s = NewSale {
            out_trade_no: "T1".into(),
            total_fee: Fen(500),
            code_fp: "fp".into(),
            code_masked: "m".into(),
            device_info: "d".into(),
            attach: None,
            pos_ref: None,
        };
        j.insert_intent(&s, 1).unwrap();
        j.transition("T1", SaleState::Paid, &Transition::default(), 2)
            .unwrap();
        j.insert_refund("T1", "T1R1", Fen(200), "broken", Authority::PinOnScreen, 3)
            .unwrap();
        assert!(matches!(
            j.insert_refund("T1", "T1R1", Fen(200), "again", Authority::PinOnScreen, 4),
            Err(JournalError::DuplicateOrder(_))
        ));
        assert!(
            j.insert_refund("nope", "X", Fen(1), "", Authority::PinOnScreen, 4)
                .is_err()
        );
        j.update_refund("T1R1", RefundState::Processing, Some("5000"), None, 5)
            .unwrap();
        j.update_refund("T1R1", RefundState::Success, None, None, 6)
            .unwrap();
        let r = j.refunds_of("T1").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].state, RefundState::Success);
        assert_eq!(r[0].refund_id.as_deref(), Some("5000"));
        assert_eq!((r[0].refund_fee, r[0].updated_ms), (Fen(200), 6));
        assert!(!r[0].state.is_open());
        assert_eq!(j.refunds_between(0, 4).unwrap().len(), 1);
        assert!(j.refunds_between(4, 10).unwrap().is_empty());
        assert!(
            j.update_refund("nope", RefundState::Closed, None, None, 7)
                .is_err()
        );
    }
}
