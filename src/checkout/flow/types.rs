//! The flow's own inputs and outputs. The runner maps `wxpay::api` replies into `Reply` (already
//! verified and classified) and builds the real request for each `Request`.

use serde::{Deserialize, Serialize};

use super::millis::Millis;
use crate::money::Fen;
use crate::wxpay::api;

/// What the runner must send next; it builds the XML with the sale's one `out_trade_no`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Request {
    /// `/pay/micropay`: sent at most once per sale.
    Micropay,
    /// `/pay/orderquery` by `out_trade_no`.
    OrderQuery,
    /// `/secapi/pay/reverse` by `out_trade_no` (mutual TLS).
    Reverse,
}

/// A payment WeChat confirmed (micropay SUCCESS or orderquery `trade_state=SUCCESS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// WeChat's `transaction_id`.
    pub transaction_id: String,
    /// `total_fee` as WeChat reported it; the flow compares it with the sale's amount.
    pub total_fee: Fen,
    /// `time_end` (yyyyMMddHHmmss, Beijing time) as sent by WeChat.
    pub time_end: String,
}

/// Our bucket for a micropay `err_code` (docs/protocol.md §5), shared with the protocol layer.
pub use crate::wxpay::api::ErrClass;

/// orderquery `trade_state` (docs/protocol.md §6): [`api::TradeState`] without its `Other(String)`.
///
/// Narrower on purpose: a state this build does not know is an unknown outcome, and the flow
/// has exactly one way to say that, [`Reply::Unknown`]. The adapter turns `Other` into it (via
/// `TryFrom`), so each rule matches the eight known states exhaustively and no rule needs an
/// "`Other` behaves like `Unknown`" arm kept in step with the others. `Copy` keeps the rules and
/// the table tests simple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TradeState {
    /// Paid.
    Success,
    /// Paid, then refunded (e.g. a reverse raced the customer's payment).
    Refund,
    /// Not paid yet.
    NotPay,
    /// Closed: not charged.
    Closed,
    /// Revoked (reversed unpaid, or auto-revoked): not charged.
    Revoked,
    /// The customer is entering the password.
    UserPaying,
    /// The payment failed (e.g. password box closed): not charged, still reverse.
    PayError,
    /// Accepted, awaiting processing.
    Accept,
}

impl TryFrom<&api::TradeState> for TradeState {
    /// The state this build does not know, as WeChat sent it (sanitised by the api layer).
    type Error = String;

    fn try_from(s: &api::TradeState) -> Result<Self, String> {
        Ok(match s {
            api::TradeState::Success => Self::Success,
            api::TradeState::Refund => Self::Refund,
            api::TradeState::NotPay => Self::NotPay,
            api::TradeState::Closed => Self::Closed,
            api::TradeState::Revoked => Self::Revoked,
            api::TradeState::UserPaying => Self::UserPaying,
            api::TradeState::PayError => Self::PayError,
            api::TradeState::Accept => Self::Accept,
            api::TradeState::Other(other) => return Err(other.clone()),
        })
    }
}

impl TradeState {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
            Self::NotPay => "NOTPAY",
            Self::Closed => "CLOSED",
            Self::Revoked => "REVOKED",
            Self::UserPaying => "USERPAYING",
            Self::PayError => "PAYERROR",
            Self::Accept => "ACCEPT",
        }
    }
}

/// What the runner learned from the last `Request`, already verified and classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// micropay `result_code=SUCCESS` with a verified signature and matching order.
    MicropayPaid(Payment),
    /// micropay `result_code=FAIL`.
    MicropayFail { err_code: String, class: ErrClass },
    /// orderquery answered with a trade state (`payment` for SUCCESS/REFUND).
    QueryState {
        state: TradeState,
        payment: Option<Payment>,
    },
    /// orderquery `err_code=ORDERNOTEXIST`.
    QueryNotExist,
    /// orderquery `result_code=FAIL` with another code (SYSTEMERROR, …).
    QueryError { err_code: String },
    /// reverse `result_code=SUCCESS`; `recall=Y` asks for another call.
    ReverseDone { recall: bool },
    /// reverse `result_code=FAIL`.
    ReverseFail { err_code: String, recall: bool },
    /// `return_code=FAIL`: the request was refused at protocol level.
    ProtocolRejected { return_msg: String },
    /// A verified orderquery for this order number that is not this sale's order (another
    /// amount): the number is taken by another order, so this sale's micropay charged nothing.
    NotOurs { why: String },
    /// Transport failure, timeout, garbage, bad signature or mismatched reply.
    Unknown { why: String },
}

impl Reply {
    /// A short label for notes ("reverse reply to orderquery").
    pub(super) fn label(&self) -> String {
        match self {
            Self::MicropayPaid(_) => "micropay SUCCESS".into(),
            Self::MicropayFail { err_code, .. } => format!("micropay {err_code}"),
            Self::QueryState { state, .. } => format!("orderquery {}", state.as_str()),
            Self::QueryNotExist => "orderquery ORDERNOTEXIST".into(),
            Self::QueryError { err_code } => format!("orderquery {err_code}"),
            Self::ReverseDone { recall } => format!("reverse SUCCESS recall={}", yn(*recall)),
            Self::ReverseFail { err_code, recall } => {
                format!("reverse {err_code} recall={}", yn(*recall))
            }
            Self::ProtocolRejected { return_msg } => format!("return_code=FAIL {return_msg}"),
            Self::NotOurs { why } => format!("orderquery: not this sale's order: {why}"),
            Self::Unknown { why } => format!("unknown outcome: {why}"),
        }
    }
}

fn yn(b: bool) -> &'static str {
    if b { "Y" } else { "N" }
}

/// How a sale ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Final {
    /// Paid; WeChat confirmed the sale's exact amount.
    Paid(Payment),
    /// Not charged. `rescan`: a fresh payment code (new order number) may succeed.
    /// `err_code` is WeChat's code, a trade state, or `CANCELLED` (cancelled before sending).
    Failed { err_code: String, rescan: bool },
    /// Reversed: not charged, or charged and refunded (`refunded`).
    Reversed { refunded: bool },
    /// Charged after the cashier was told not to hand over goods, and past WeChat's 7-day
    /// reverse window: the whole amount goes back to the customer through the refund API.
    /// The flow ends here; the runner sends the refund and keeps this outcome only once WeChat
    /// accepted it (else the sale stays unresolved and is retried).
    Refunded(Payment),
    /// The outcome could not be settled: do not hand over goods; check the merchant app.
    Unresolved { why: String },
}

/// What the runner does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Journal the `summary()`, then send this request and report its result with `on_reply`.
    Send(Request),
    /// Nothing to do before this time (or before `cancel`).
    WaitUntil(Millis),
    /// A `Send` is outstanding; report its result with `on_reply` first.
    AwaitingReply,
    /// The sale is over.
    Done(Final),
}

/// Where the sale is, for the waiting screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The micropay is being sent.
    Submitting,
    /// The customer is entering the password; the reverse comes at `deadline` if nothing changes.
    WaitingForPassword { deadline: Millis, queries: u32 },
    /// The outcome is unknown; orderquery will settle it.
    Querying,
    /// Reversing; `attempt` reverse calls have been sent so far.
    Reversing { attempt: u32 },
    /// The sale must end, but nothing proves the order under its number is this sale's (its
    /// micropay's answer was lost), so it is not reversed: WeChat is asked until it shows the
    /// order paid with this sale's tag, closes it itself, or `until` passes (then unresolved).
    Confirming { until: Millis },
    /// Final; `poll` returns the outcome.
    Done,
}

/// Where to pick up an unfinished sale after a crash. A resumed sale starts with an orderquery
/// and never sends a micropay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum ResumePoint {
    /// The intent was journaled; the micropay may or may not have reached WeChat.
    Submitted,
    /// Reversing: `attempts` reverse calls were sent before the crash.
    Reversing { attempts: u32 },
}

/// What WeChat proved about the order under the sale's number; kept in the journal's summary so
/// that a sale resumed after a crash still knows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Proof {
    /// WeChat answered this sale's own micropay with USERPAYING: the order is this sale's.
    pub own_order: bool,
    /// A verified answer had the order paid for the sale's amount (with the sale's tag): a later
    /// `REVOKED` (one reading of WeChat's pages for a reversed paid order) means charged and
    /// refunded.
    pub verified_paid: bool,
}

impl Proof {
    /// The order is this sale's: it may be reversed.
    pub fn proven(self) -> bool {
        self.own_order || self.verified_paid
    }
}

/// The sale's flow state as the journal stores it before each request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// When the micropay was sent (the creation time until then).
    pub submitted_at: Millis,
    /// Where to resume after a crash; `None` once the sale is final.
    pub resume: Option<ResumePoint>,
    /// orderqueries sent so far.
    pub queries: u32,
    /// reverse calls sent so far (all runs).
    pub reverse_attempts: u32,
    /// The cashier pressed cancel.
    pub cancelled: bool,
    /// The last thing that went wrong, for the log and the pending list.
    pub problem: Option<String>,
    /// The outcome once final.
    pub outcome: Option<Final>,
    /// What WeChat proved about the order (absent in summaries written before it existed).
    #[serde(default)]
    pub proof: Proof,
}
