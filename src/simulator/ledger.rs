//! The pure core: every order and customer the simulator knows, and `handle`, which turns one
//! request (plus the simulated time `now`) into one answer. No clock, no IO, no randomness:
//! states advance lazily when a request arrives with a later `now`.

use super::reply::{Body, SimReply};
use super::rules::{Endpoint, Merchant, Refusal, check_common};
use super::scenario::{Customer, Fault, FaultPhase};
use crate::authcode::AuthCode;
use crate::money::Fen;
use crate::wxpay::sign::SignType;
use crate::wxpay::xml::{Fields, XmlError, decode};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use time::macros::{format_description, offset};
use time::{OffsetDateTime, format_description::BorrowedFormatItem};

/// Simulated time: how long since the simulator's epoch (`CoreSettings::epoch_unix`).
pub type SimTime = Duration;

/// What the pure core needs to know.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// The one merchant that exists.
    pub merchant: Merchant,
    /// Amounts above this need the customer's password.
    pub no_password_limit: Fen,
    /// No-password payments per customer per (Beijing) day.
    pub daily_no_password_count: u32,
    /// Unpaid orders are revoked this long after creation.
    pub auto_revoke_after: Duration,
    /// A refund stays PROCESSING this long.
    pub refund_delay: Duration,
    /// Added to every answer.
    pub reply_delay: Duration,
    /// A reverse of an unknown order answers SUCCESS instead of ORDERNOTEXIST.
    pub unknown_reverse_succeeds: bool,
    /// orderquery of a refunded order carries only `out_trade_no` and `trade_state`.
    pub bare_refund_state: bool,
    /// A reversed paid order is queried as REVOKED instead of REFUND.
    pub reversed_paid_revoked: bool,
    /// A reverse while the customer's password box is open answers USERPAYING.
    pub reverse_userpaying: bool,
    /// Unix seconds at `SimTime` zero (for `time_end`, bill dates, the daily count).
    pub epoch_unix: i64,
}

/// A simulated order's state (its `as_str` is the `trade_state` the simulator reports); the
/// client-side types are `wxpay::api::TradeState` and `checkout::flow::TradeState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Waiting for the customer's password.
    UserPaying,
    /// Paid.
    Success,
    /// Not paid: declined, or the customer closed the password box.
    PayError,
    /// Closed unpaid: reversed or auto-revoked.
    Revoked,
    /// Paid, then (partly) refunded or reversed.
    Refund,
}

impl OrderStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserPaying => "USERPAYING",
            Self::Success => "SUCCESS",
            Self::PayError => "PAYERROR",
            Self::Revoked => "REVOKED",
            Self::Refund => "REFUND",
        }
    }
}

/// One refund of an order.
#[derive(Debug, Clone)]
pub(crate) struct RefundRec {
    pub out_refund_no: String,
    pub refund_id: String,
    pub fee: u64,
    pub created: SimTime,
    pub done_at: SimTime,
}

impl RefundRec {
    /// PROCESSING until `done_at`, then SUCCESS.
    pub fn status(&self, now: SimTime) -> &'static str {
        if now >= self.done_at {
            "SUCCESS"
        } else {
            "PROCESSING"
        }
    }
}

/// One order (one `out_trade_no`).
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount: u64,
    /// The customer's code (full value stays inside the simulator).
    pub code: AuthCode,
    pub scenario: &'static str,
    pub device_info: String,
    pub attach: String,
    pub body: String,
    /// The micropay's business parameters, to tell a retry from a different request.
    pub fingerprint: String,
    pub created: SimTime,
    pub state: OrderStatus,
    pub customer: Customer,
    /// err_code / description of a declined or closed order (for retries and trade_state_desc).
    pub fail: Option<(&'static str, String)>,
    pub paid_at: Option<SimTime>,
    pub closed_at: Option<SimTime>,
    /// When a reverse succeeded (it also refunds a paid order).
    pub reversed_at: Option<SimTime>,
    pub reverse_refund: u64,
    pub recall_left: u32,
    pub refunds: Vec<RefundRec>,
    pub requests: BTreeMap<&'static str, u32>,
}

impl Order {
    /// Apply whatever the customer or WeChat did between the last request and `now`.
    pub fn advance(&mut self, now: SimTime, auto_revoke_after: Duration) {
        if self.state != OrderStatus::UserPaying {
            return;
        }
        let revoke_at = self.created + auto_revoke_after;
        let act = match self.customer {
            Customer::ConfirmsAfter(d) => Some((self.created + d, true)),
            Customer::ClosesAfter(d) => Some((self.created + d, false)),
            Customer::Never => None,
        };
        match act {
            Some((at, pays)) if at < revoke_at && at <= now => {
                if pays {
                    self.pay(at);
                } else {
                    self.state = OrderStatus::PayError;
                    self.closed_at = Some(at);
                    self.fail = Some(("ORDERCLOSED", "用户取消支付".into()));
                }
            }
            _ if revoke_at <= now => {
                self.state = OrderStatus::Revoked;
                self.closed_at = Some(revoke_at);
                self.fail = Some(("ORDERCLOSED", "超时未支付,订单已撤销".into()));
            }
            _ => {}
        }
    }

    pub fn pay(&mut self, at: SimTime) {
        self.state = OrderStatus::Success;
        self.paid_at = Some(at);
    }

    /// Money taken from the customer.
    pub fn charged(&self) -> u64 {
        if self.paid_at.is_some() {
            self.amount
        } else {
            0
        }
    }

    /// Money back with the customer by `now` (finished refunds and a reverse).
    pub fn refunded(&self, now: SimTime) -> u64 {
        let done: u64 = self
            .refunds
            .iter()
            .filter(|r| r.status(now) == "SUCCESS")
            .map(|r| r.fee)
            .sum();
        done + self.reverse_refund
    }

    /// Refund money asked for, finished or not.
    pub fn refund_requested(&self) -> u64 {
        self.refunds.iter().map(|r| r.fee).sum::<u64>() + self.reverse_refund
    }

    pub fn state_desc(&self) -> String {
        match (self.state, &self.fail) {
            (OrderStatus::PayError | OrderStatus::Revoked, Some((_, des))) => des.clone(),
            (OrderStatus::UserPaying, _) => "需要用户输入支付密码".into(),
            (OrderStatus::Success, _) => "支付成功".into(),
            (OrderStatus::Refund, _) if self.reversed_at.is_some() => "已撤销并退款".into(),
            (OrderStatus::Refund, _) => "转入退款".into(),
            (OrderStatus::PayError, None) => "支付失败".into(),
            (OrderStatus::Revoked, None) => "已撤销".into(),
        }
    }

    pub fn count(&mut self, ep: Endpoint) {
        *self.requests.entry(ep.name()).or_default() += 1;
    }
}

/// A fault queued by `POST /__sim/fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FaultRule {
    /// What happens.
    pub fault: Fault,
    /// For how many more matching requests.
    pub remaining: u32,
    /// Only requests to this endpoint (all endpoints if `None`).
    pub endpoint: Option<Endpoint>,
}

/// Why an admin action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// The number is not echoed: it may be anything a caller posted (a payment code).
    #[error("no such order: check the out_trade_no (GET /__sim/ledger lists them)")]
    NoOrder(String),
    #[error(
        "not an order number: an out_trade_no is 1 to 32 of 0-9, A-Z, a-z and _-|* (GET /__sim/ledger lists them)"
    )]
    BadNumber,
    #[error("order {0:?} is {1}, not waiting for a password; nothing to do")]
    NotWaiting(String, &'static str),
    #[error(
        "unknown fault kind {0:?}: use delay, drop, drop_before, http500, html, systemerror, bankerror, wrong_sign or recall"
    )]
    UnknownFault(String),
    #[error(
        "unknown endpoint {0:?}: use micropay, orderquery, reverse, refund, refundquery or downloadbill"
    )]
    UnknownEndpoint(String),
}

/// The simulator's whole state.
#[derive(Debug)]
pub struct Sim {
    pub(crate) cfg: CoreSettings,
    pub(crate) orders: Vec<Order>,
    pub(crate) by_no: HashMap<String, usize>,
    pub(crate) codes: HashMap<String, usize>,
    pub(crate) no_password_used: HashMap<(String, i64), u32>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) requests: BTreeMap<&'static str, u64>,
    seq: u64,
    /// Simulated time skipped by the trainer (`Op::Advance`), added to every reading.
    skipped: Duration,
}

impl Sim {
    /// An empty simulator.
    pub fn new(cfg: CoreSettings) -> Self {
        Self {
            cfg,
            orders: Vec::new(),
            by_no: HashMap::new(),
            codes: HashMap::new(),
            no_password_used: HashMap::new(),
            faults: Vec::new(),
            requests: BTreeMap::new(),
            seq: 0,
            skipped: Duration::ZERO,
        }
    }

    /// `now` as this simulator sees it: with the skipped time added.
    pub fn shifted(&self, now: SimTime) -> SimTime {
        now.saturating_add(self.skipped)
    }

    /// Trainer: jump simulated time forward by `by` (orders age, windows pass).
    pub fn skip(&mut self, by: Duration) {
        self.skipped = self.skipped.saturating_add(by);
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &CoreSettings {
        &self.cfg
    }

    /// One HTTP request as received: method, raw body.
    pub fn handle_request(
        &mut self,
        ep: Endpoint,
        is_post: bool,
        body: &[u8],
        now: SimTime,
    ) -> SimReply {
        let refused = if !is_post {
            Some("REQUIRE_POST_METHOD: 请使用post方法")
        } else if body.iter().all(u8::is_ascii_whitespace) {
            Some("POST_DATA_EMPTY: post数据为空")
        } else {
            None
        };
        let fields = match (refused, decode(body)) {
            (Some(msg), _) => Err(msg),
            (None, Err(XmlError::InvalidUtf8 { .. })) => Err("NOT_UTF8: 编码格式错误"),
            (None, Err(_)) => Err("XML_FORMAT_ERROR: XML格式错误"),
            (None, Ok(f)) => Ok(f),
        };
        match fields {
            Ok(f) => self.handle(ep, &f, now),
            Err(msg) => {
                *self.requests.entry(ep.name()).or_default() += 1;
                let mut r = SimReply::fail(msg);
                r.delay = self.cfg.reply_delay;
                r
            }
        }
    }

    /// One decoded request to `ep` at simulated time `now`.
    pub fn handle(&mut self, ep: Endpoint, f: &Fields, now: SimTime) -> SimReply {
        *self.requests.entry(ep.name()).or_default() += 1;
        let mut reply = match check_common(f, &self.cfg.merchant) {
            Err(Refusal::Protocol(msg)) => SimReply::fail(msg),
            Err(Refusal::Business(st, code, des)) => self.answer(f, st, Some((code, &des)), vec![]),
            Ok(st) => match self.take_fault(ep, FaultPhase::Before) {
                Some(Fault::Decline) => self.answer(f, st, Some(("NOTENOUGH", "余额不足")), vec![]),
                Some(_) => SimReply::now(Body::Drop),
                None => self.handle_applied(ep, f, st, now),
            },
        };
        reply.delay += self.cfg.reply_delay;
        reply
    }

    /// A request that reached the simulated WeChat and is applied (its answer may still suffer
    /// an After fault).
    fn handle_applied(&mut self, ep: Endpoint, f: &Fields, st: SignType, now: SimTime) -> SimReply {
        let (reply, scenario_fault) = match ep {
            Endpoint::Micropay => self.micropay(f, st, now),
            Endpoint::OrderQuery => (self.orderquery(f, st, now), None),
            Endpoint::Reverse => (self.reverse(f, st, now), None),
            Endpoint::Refund => (self.refund(f, st, now), None),
            Endpoint::RefundQuery => (self.refundquery(f, st, now), None),
            Endpoint::DownloadBill => (self.downloadbill(f, now), None),
        };
        let fault = scenario_fault.or_else(|| self.take_fault(ep, FaultPhase::After));
        match fault {
            Some(k) => self.apply_fault(reply, k, f, st),
            None => reply,
        }
    }

    /// A `return_code=SUCCESS` answer: common fields, `result_code` from `err`, then `extra`
    /// (empty values left out, as WeChat does).
    pub(crate) fn answer(
        &mut self,
        req: &Fields,
        st: SignType,
        err: Option<(&str, &str)>,
        extra: Vec<(String, String)>,
    ) -> SimReply {
        let nonce = self.next_nonce();
        let m = &self.cfg.merchant;
        let mut f = Fields::new();
        f.push("return_code", "SUCCESS");
        f.push("return_msg", "OK");
        f.push("appid", m.appid.as_str());
        f.push("mch_id", m.mch_id.as_str());
        for echo in ["sub_mch_id", "sub_appid", "device_info"] {
            if let Some(v) = req.get(echo).filter(|v| !v.is_empty()) {
                f.push(echo, v);
            }
        }
        f.push("nonce_str", nonce);
        match err {
            None => f.push("result_code", "SUCCESS"),
            Some((code, des)) => {
                f.push("result_code", "FAIL");
                f.push("err_code", code);
                f.push("err_code_des", des);
            }
        }
        for (n, v) in extra {
            if !v.is_empty() {
                f.push(n, v);
            }
        }
        SimReply::now(Body::Signed {
            fields: f,
            sign_type: st,
            wrong_sign: false,
        })
    }

    fn next_nonce(&mut self) -> String {
        self.seq += 1;
        // Deterministic but distinct per answer; WeChat only promises "random".
        format!("sim{:016x}", self.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A fresh id: `prefix`, the Beijing date of `now`, then `digits` digits of a counter.
    pub(crate) fn next_id(&mut self, prefix: &str, now: SimTime, digits: usize) -> String {
        self.seq += 1;
        format!("{prefix}{}{:0digits$}", self.date(now), self.seq)
    }

    /// Beijing wall time of a simulated instant.
    pub(crate) fn beijing(&self, t: SimTime) -> OffsetDateTime {
        let secs = self
            .cfg
            .epoch_unix
            .saturating_add(i64::try_from(t.as_secs()).unwrap_or(i64::MAX / 2));
        OffsetDateTime::from_unix_timestamp(secs)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(offset!(+8))
    }

    fn format(&self, t: SimTime, fmt: &[BorrowedFormatItem<'_>]) -> String {
        self.beijing(t).format(fmt).unwrap_or_default()
    }

    /// `yyyyMMddHHmmss`, Beijing time.
    pub(crate) fn compact_time(&self, t: SimTime) -> String {
        self.format(
            t,
            format_description!("[year][month][day][hour][minute][second]"),
        )
    }

    /// `yyyy-MM-dd HH:mm:ss`, Beijing time.
    pub(crate) fn dashed_time(&self, t: SimTime) -> String {
        self.format(
            t,
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        )
    }

    /// `yyyyMMdd`, Beijing date.
    pub(crate) fn date(&self, t: SimTime) -> String {
        self.format(t, format_description!("[year][month][day]"))
    }

    /// Bring every order up to `now`.
    pub(crate) fn advance_all(&mut self, now: SimTime) {
        let after = self.cfg.auto_revoke_after;
        for o in &mut self.orders {
            o.advance(now, after);
        }
    }

    /// The order with this out_trade_no, brought up to `now`.
    pub(crate) fn order_mut(&mut self, out_trade_no: &str, now: SimTime) -> Option<&mut Order> {
        let after = self.cfg.auto_revoke_after;
        let i = *self.by_no.get(out_trade_no)?;
        let o = self.orders.get_mut(i)?;
        o.advance(now, after);
        Some(o)
    }

    /// Index of the order named by `out_trade_no` or `transaction_id`.
    pub(crate) fn find(&self, f: &Fields) -> Option<usize> {
        if let Some(t) = f.get("transaction_id").filter(|t| !t.is_empty()) {
            return self.orders.iter().position(|o| o.transaction_id == t);
        }
        f.get("out_trade_no")
            .and_then(|n| self.by_no.get(n).copied())
    }

    /// Consume one queued fault for `ep` that strikes in `phase`.
    pub(crate) fn take_fault(&mut self, ep: Endpoint, phase: FaultPhase) -> Option<Fault> {
        let i = self
            .faults
            .iter()
            .position(|r| r.endpoint.is_none_or(|e| e == ep) && r.fault.phase() == phase)?;
        let rule = self.faults.get_mut(i)?;
        rule.remaining = rule.remaining.saturating_sub(1);
        let fault = rule.fault;
        if rule.remaining == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }

    fn apply_fault(
        &mut self,
        mut reply: SimReply,
        fault: Fault,
        f: &Fields,
        st: SignType,
    ) -> SimReply {
        match fault {
            Fault::Delay(d) => reply.delay += d,
            Fault::Drop => reply.body = Body::Drop,
            Fault::Http500 => reply.body = Body::Http500,
            Fault::Html => reply.body = Body::Html,
            Fault::SystemError => {
                reply = self.answer(f, st, Some(("SYSTEMERROR", "系统超时")), vec![]);
            }
            Fault::BankError => {
                reply = self.answer(f, st, Some(("BANKERROR", "银行系统异常")), vec![]);
            }
            Fault::FalseDecline => {
                reply = self.answer(f, st, Some(("NOTENOUGH", "余额不足")), vec![]);
            }
            Fault::WrongSign => {
                if let Body::Signed { wrong_sign, .. } = &mut reply.body {
                    *wrong_sign = true;
                }
            }
            Fault::Recall | Fault::DropBefore | Fault::Decline => {}
        }
        reply
    }

    /// Queue `fault` for the next `count` requests (to `endpoint` only, if given).
    pub fn add_fault(&mut self, fault: Fault, count: u32, endpoint: Option<Endpoint>) {
        if count > 0 {
            self.faults.push(FaultRule {
                fault,
                remaining: count,
                endpoint,
            });
        }
    }

    /// Drop every queued fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> &[FaultRule] {
        &self.faults
    }

    /// Trainer: the customer types the password now.
    pub fn confirm(&mut self, out_trade_no: &str, now: SimTime) -> Result<OrderStatus, AdminError> {
        let o = self.waiting(out_trade_no, now)?;
        o.pay(now);
        Ok(o.state)
    }

    /// Trainer: the customer closes the password box now (→ PAYERROR).
    pub fn cancel(&mut self, out_trade_no: &str, now: SimTime) -> Result<OrderStatus, AdminError> {
        let o = self.waiting(out_trade_no, now)?;
        o.state = OrderStatus::PayError;
        o.closed_at = Some(now);
        o.fail = Some(("ORDERCLOSED", "用户取消支付".into()));
        Ok(o.state)
    }

    /// Whether an order has this number (the trainer checks before anything is logged).
    pub fn has_order(&self, out_trade_no: &str) -> bool {
        self.by_no.contains_key(out_trade_no)
    }

    fn waiting(&mut self, no: &str, now: SimTime) -> Result<&mut Order, AdminError> {
        let o = self
            .order_mut(no, now)
            .ok_or_else(|| AdminError::NoOrder(no.to_string()))?;
        if o.state == OrderStatus::UserPaying {
            Ok(o)
        } else {
            Err(AdminError::NotWaiting(no.to_string(), o.state.as_str()))
        }
    }
}
