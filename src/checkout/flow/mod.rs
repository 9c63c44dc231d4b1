//! The pure sale state machine: micropay → orderquery polling → reverse → final
//! (PROTOCOL.md §5–8, RELIABILITY.md §1.6). No IO, no clock, no randomness: the runner calls
//! `poll(now)` for the next step, performs it, and reports the result with `on_reply(now, …)`.
//!
//! Safety rules it keeps: one micropay per sale for life (an unknown outcome is queried, never
//! resubmitted); Paid only on a confirmed payment of exactly the sale's amount; never a reverse
//! sooner than `reverse_not_before` after submit; every open outcome ends in a reverse.

mod millis;
mod policy;
mod types;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use millis::Millis;
pub use policy::{Policy, PolicyError};
pub use types::{
    ErrClass, Final, Payment, Phase, Reply, Request, ResumePoint, Step, Summary, TradeState,
};

use crate::money::Fen;

/// Reverse `err_code`s worth another call (PROTOCOL.md §7); others go to the query.
const REVERSE_RETRY_CODES: [&str; 3] = ["SYSTEMERROR", "USERPAYING", "BANKERROR"];

/// One sale's flow state. Serializable view for the journal: `summary()`.
#[derive(Debug, Clone)]
pub struct Sale {
    policy: Policy,
    total_fee: Fen,
    submitted_at: Millis,
    state: State,
    mode: Mode,
    queries: u32,
    reverse_attempts: u32,
    /// Reverse calls made before this run (a resumed sale gets a fresh retry budget).
    attempts_before_run: u32,
    notexist_seen: u32,
    /// Set after a SETUP error or a refused micropay: one query decides, then Failed(code).
    sure_query: Option<String>,
    /// The last definite answer was USERPAYING (password box open).
    password_box: bool,
    cancelled: bool,
    problem: Option<String>,
}

#[derive(Debug, Clone)]
enum State {
    Scheduled { request: Request, at: Millis },
    InFlight(Request),
    Done(Final),
}

#[derive(Debug, Clone)]
enum Mode {
    Polling,
    /// `closing`: the order is already known not charged (PAYERROR, trusted ORDERNOTEXIST); the
    /// reverse only closes the loop and the sale ends `Failed { err_code: closing }`.
    Reversing {
        closing: Option<String>,
    },
}

impl Sale {
    /// A new sale of `total_fee`, ready to send its micropay.
    pub fn new(policy: Policy, total_fee: Fen, now: Millis) -> Sale {
        Sale::with_state(
            policy,
            total_fee,
            now,
            Mode::Polling,
            Request::Micropay,
            now,
        )
    }

    /// An unfinished sale from the journal: starts with an orderquery at `now`, never a micropay.
    pub fn resume(
        policy: Policy,
        total_fee: Fen,
        submitted_at: Millis,
        last_known: ResumePoint,
        now: Millis,
    ) -> Sale {
        let (mode, attempts) = match last_known {
            ResumePoint::Submitted => (Mode::Polling, 0),
            ResumePoint::Reversing { attempts } => (Mode::Reversing { closing: None }, attempts),
        };
        let mut sale = Sale::with_state(
            policy,
            total_fee,
            submitted_at,
            mode,
            Request::OrderQuery,
            now,
        );
        sale.reverse_attempts = attempts;
        sale.attempts_before_run = attempts;
        sale
    }

    fn with_state(
        policy: Policy,
        total_fee: Fen,
        submitted_at: Millis,
        mode: Mode,
        request: Request,
        at: Millis,
    ) -> Sale {
        Sale {
            policy,
            total_fee,
            submitted_at,
            state: State::Scheduled { request, at },
            mode,
            queries: 0,
            reverse_attempts: 0,
            attempts_before_run: 0,
            notexist_seen: 0,
            sure_query: None,
            password_box: false,
            cancelled: false,
            problem: None,
        }
    }

    /// The next step at `now`. `Send` marks the request outstanding until `on_reply`.
    pub fn poll(&mut self, now: Millis) -> Step {
        match &self.state {
            State::Done(outcome) => Step::Done(outcome.clone()),
            State::InFlight(_) => Step::AwaitingReply,
            State::Scheduled { at, .. } if now < *at => Step::WaitUntil(*at),
            State::Scheduled { request, .. } => {
                let request = *request;
                match request {
                    Request::Micropay => self.submitted_at = now,
                    Request::OrderQuery => self.queries += 1,
                    Request::Reverse => self.reverse_attempts += 1,
                }
                self.state = State::InFlight(request);
                Step::Send(request)
            }
        }
    }

    /// The result of the outstanding request. A reply with nothing outstanding is ignored.
    pub fn on_reply(&mut self, now: Millis, reply: Reply) {
        let State::InFlight(request) = self.state else {
            return;
        };
        match (request, &self.mode) {
            (Request::Micropay, _) => self.on_micropay(now, reply),
            (Request::OrderQuery, Mode::Polling) => self.on_poll_query(now, reply),
            (Request::OrderQuery, Mode::Reversing { .. }) => self.on_confirm_query(now, reply),
            (Request::Reverse, _) => self.on_reverse(now, reply),
        }
    }

    /// The cashier gave up waiting: reverse as soon as allowed (an outstanding reply is still
    /// read first; a definite Paid then gets reversed too, i.e. refunded).
    pub fn cancel(&mut self, now: Millis) {
        match self.state {
            State::Done(_) => {}
            State::Scheduled {
                request: Request::Micropay,
                ..
            } => {
                // Nothing left the machine: the order number was never used.
                self.finish(Final::Failed {
                    err_code: "CANCELLED".into(),
                    rescan: false,
                });
            }
            _ => {
                self.cancelled = true;
                let idle = matches!(self.state, State::Scheduled { .. });
                if idle && matches!(self.mode, Mode::Polling) && self.sure_query.is_none() {
                    self.start_reverse(now, None);
                }
            }
        }
    }

    /// Where the sale is, for the waiting screen.
    pub fn phase(&self) -> Phase {
        match (&self.state, &self.mode) {
            (State::Done(_), _) => Phase::Done,
            (
                State::Scheduled {
                    request: Request::Micropay,
                    ..
                }
                | State::InFlight(Request::Micropay),
                _,
            ) => Phase::Submitting,
            (_, Mode::Reversing { .. }) => Phase::Reversing {
                attempt: self.reverse_attempts,
            },
            (_, Mode::Polling) if self.password_box => Phase::WaitingForPassword {
                deadline: self.reverse_due(),
                queries: self.queries,
            },
            (_, Mode::Polling) => Phase::Querying,
        }
    }

    /// When the next reverse is due, for the countdown: while polling, the time the sale will
    /// be reversed unless WeChat settles it first; while a reverse is scheduled, its time.
    pub fn deadline(&self) -> Option<Millis> {
        match (&self.state, &self.mode) {
            (State::Done(_), _)
            | (
                State::Scheduled {
                    request: Request::Micropay,
                    ..
                }
                | State::InFlight(Request::Micropay),
                _,
            ) => None,
            (_, Mode::Polling) => Some(self.reverse_due()),
            (
                State::Scheduled {
                    request: Request::Reverse,
                    at,
                },
                _,
            ) => Some(*at),
            _ => None,
        }
    }

    /// orderqueries sent so far.
    pub fn queries(&self) -> u32 {
        self.queries
    }

    /// The outcome once final.
    pub fn outcome(&self) -> Option<&Final> {
        match &self.state {
            State::Done(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// Where to resume after a crash; `None` once final. Conservative before the first send:
    /// the runner may crash after the send without journaling it.
    pub fn resume_point(&self) -> Option<ResumePoint> {
        match (&self.state, &self.mode) {
            (State::Done(_), _) => None,
            (_, Mode::Polling) => Some(ResumePoint::Submitted),
            (_, Mode::Reversing { .. }) => Some(ResumePoint::Reversing {
                attempts: self.reverse_attempts,
            }),
        }
    }

    /// The journal's view of the sale.
    pub fn summary(&self) -> Summary {
        Summary {
            submitted_at: self.submitted_at,
            resume: self.resume_point(),
            queries: self.queries,
            reverse_attempts: self.reverse_attempts,
            cancelled: self.cancelled,
            problem: self.problem.clone(),
            outcome: self.outcome().cloned(),
        }
    }

    fn on_micropay(&mut self, now: Millis, reply: Reply) {
        let p = &self.policy;
        let (first_query, unknown_query) = (p.first_query_after, p.unknown_query_after);
        match reply {
            Reply::MicropayPaid(payment) => {
                if payment.total_fee == self.total_fee {
                    self.paid(now, payment);
                } else {
                    self.note(self.fee_mismatch("micropay", &payment));
                    self.keep_polling(now, unknown_query);
                }
            }
            Reply::MicropayFail { err_code, class } => {
                // USERPAYING is in the unknown bucket, but it has its own, longer first pause.
                if err_code == "USERPAYING" {
                    self.password_box = true;
                    self.note(format!("micropay {err_code}"));
                    return self.keep_polling(now, first_query);
                }
                match class {
                    ErrClass::Rescan => self.finish(Final::Failed {
                        err_code,
                        rescan: true,
                    }),
                    ErrClass::Failed => self.finish(Final::Failed {
                        err_code,
                        rescan: false,
                    }),
                    ErrClass::Duplicate => {
                        self.note(format!("micropay {err_code}: the query decides"));
                        self.keep_polling(now, Duration::ZERO);
                    }
                    ErrClass::Setup => self.query_to_be_sure(now, err_code),
                    ErrClass::Unknown => {
                        self.note(format!("micropay {err_code}"));
                        self.keep_polling(now, unknown_query);
                    }
                }
            }
            Reply::ProtocolRejected { return_msg } => self.query_to_be_sure(now, return_msg),
            other => {
                self.note(format!("micropay: {}", other.label()));
                self.keep_polling(now, unknown_query);
            }
        }
    }

    /// A refusal that should mean "no money moved": one orderquery confirms it.
    fn query_to_be_sure(&mut self, now: Millis, err_code: String) {
        self.note(format!(
            "micropay refused: {err_code}; querying once to be sure"
        ));
        self.sure_query = Some(err_code);
        self.schedule(Request::OrderQuery, now);
    }

    fn on_poll_query(&mut self, now: Millis, reply: Reply) {
        if let Some(err_code) = self.sure_query.take() {
            // Only evidence that the order exists keeps the sale open.
            if !matches!(reply, Reply::QueryState { .. }) {
                return self.finish(Final::Failed {
                    err_code,
                    rescan: false,
                });
            }
        }
        // At least 1 ms apart so that a zero interval (refused by `Policy::check`) cannot spin.
        let interval = self.policy.query_interval.max(Duration::from_millis(1));
        match reply {
            Reply::QueryState { state, payment } => {
                self.notexist_seen = 0;
                self.password_box = state == TradeState::UserPaying;
                match state {
                    TradeState::Success => match payment {
                        Some(p) if p.total_fee == self.total_fee => self.paid(now, p),
                        Some(p) => {
                            self.note(self.fee_mismatch("orderquery", &p));
                            self.keep_polling(now, interval);
                        }
                        None => {
                            self.note("orderquery SUCCESS without payment details".into());
                            self.keep_polling(now, interval);
                        }
                    },
                    TradeState::Refund => self.finish(Final::Reversed { refunded: true }),
                    TradeState::Closed | TradeState::Revoked => self.finish(Final::Failed {
                        err_code: state.as_str().into(),
                        rescan: false,
                    }),
                    TradeState::PayError => {
                        self.start_reverse(now, Some(state.as_str().into()));
                    }
                    TradeState::UserPaying | TradeState::NotPay | TradeState::Accept => {
                        self.keep_polling(now, interval);
                    }
                }
            }
            Reply::QueryNotExist => {
                self.notexist_seen += 1;
                self.note(format!("orderquery ORDERNOTEXIST ×{}", self.notexist_seen));
                // A fresh order may lag; past the waiting deadline the lag is over.
                let trusted = self.notexist_seen >= self.policy.notexist_rounds
                    || now >= self.submitted_at + self.policy.password_timeout;
                if trusted {
                    self.start_reverse(now, Some("ORDERNOTEXIST".into()));
                } else {
                    self.keep_polling(now, interval);
                }
            }
            other => {
                self.note(other.label());
                self.keep_polling(now, interval);
            }
        }
    }

    fn on_reverse(&mut self, now: Millis, reply: Reply) {
        match reply {
            Reply::ReverseDone { recall: false } => self.schedule(Request::OrderQuery, now),
            Reply::ReverseFail { err_code, recall }
                if !recall && !REVERSE_RETRY_CODES.contains(&err_code.as_str()) =>
            {
                // ORDERNOTEXIST, REVERSE_EXPIRE, …: retrying will not help; the query decides.
                self.note(format!("reverse {err_code}"));
                self.schedule(Request::OrderQuery, now);
            }
            other => {
                self.note(other.label());
                self.retry_reverse(now);
            }
        }
    }

    /// The query after a reverse (or on resuming a reverse): is the order closed for good?
    fn on_confirm_query(&mut self, now: Millis, reply: Reply) {
        match reply {
            Reply::QueryState { state, .. } => match state {
                TradeState::Revoked | TradeState::Closed | TradeState::PayError => {
                    self.finish_not_charged(Final::Reversed { refunded: false });
                }
                TradeState::Refund => self.finish(Final::Reversed { refunded: true }),
                TradeState::Success
                | TradeState::UserPaying
                | TradeState::NotPay
                | TradeState::Accept => {
                    // Paid in the race, or not closed yet: the earlier "not charged" is void.
                    self.set_closing(None);
                    self.note(format!("orderquery {} while reversing", state.as_str()));
                    self.retry_reverse(now);
                }
            },
            Reply::QueryNotExist => self.finish_not_charged(Final::Failed {
                err_code: "ORDERNOTEXIST".into(),
                rescan: false,
            }),
            other => {
                // Reverse is idempotent: calling it again is the safe way to ask once more.
                self.note(other.label());
                self.retry_reverse(now);
            }
        }
    }

    /// Query again after `delay`, unless the sale is cancelled or the waiting time is over.
    fn keep_polling(&mut self, now: Millis, delay: Duration) {
        if self.cancelled {
            return self.start_reverse(now, None);
        }
        let at = now + delay;
        let due = self.submitted_at + self.policy.password_timeout;
        if at >= due {
            self.start_reverse(now.max(due), None);
        } else {
            self.schedule(Request::OrderQuery, at);
        }
    }

    fn start_reverse(&mut self, earliest: Millis, closing: Option<String>) {
        self.mode = Mode::Reversing { closing };
        self.password_box = false;
        let at = earliest.max(self.submitted_at + self.policy.reverse_not_before);
        self.schedule(Request::Reverse, at);
    }

    fn retry_reverse(&mut self, now: Millis) {
        let made = self
            .reverse_attempts
            .saturating_sub(self.attempts_before_run);
        if made >= self.policy.reverse_max_attempts {
            return self.give_up();
        }
        // Doubling backoff, capped at 4× so ten tries stay within about half a minute.
        let factor = 1u32 << made.saturating_sub(1).min(2);
        let at = now + self.policy.reverse_backoff.saturating_mul(factor);
        let at = at.max(self.submitted_at + self.policy.reverse_not_before);
        self.schedule(Request::Reverse, at);
    }

    fn give_up(&mut self) {
        let made = self
            .reverse_attempts
            .saturating_sub(self.attempts_before_run);
        let last = self.problem.clone().unwrap_or_default();
        let why = format!("reverse not confirmed after {made} attempts; last: {last}");
        self.note(why.clone());
        match &self.mode {
            Mode::Reversing {
                closing: Some(err_code),
            } => {
                // Already known not charged; the reverse only closed the loop.
                let err_code = err_code.clone();
                self.finish(Final::Failed {
                    err_code,
                    rescan: false,
                });
            }
            _ => self.finish(Final::Unresolved { why }),
        }
    }

    fn paid(&mut self, now: Millis, payment: Payment) {
        if self.cancelled {
            self.note("paid after the cashier cancelled: reversing refunds it".into());
            self.start_reverse(now, None);
        } else {
            self.finish(Final::Paid(payment));
        }
    }

    fn finish_not_charged(&mut self, otherwise: Final) {
        match &self.mode {
            Mode::Reversing {
                closing: Some(err_code),
            } => {
                let err_code = err_code.clone();
                self.finish(Final::Failed {
                    err_code,
                    rescan: false,
                });
            }
            _ => self.finish(otherwise),
        }
    }

    fn set_closing(&mut self, closing: Option<String>) {
        if let Mode::Reversing { closing: c } = &mut self.mode {
            *c = closing;
        }
    }

    fn schedule(&mut self, request: Request, at: Millis) {
        self.state = State::Scheduled { request, at };
    }

    fn finish(&mut self, outcome: Final) {
        self.state = State::Done(outcome);
    }

    fn note(&mut self, problem: String) {
        self.problem = Some(problem);
    }

    fn fee_mismatch(&self, source: &str, p: &Payment) -> String {
        format!(
            "{source} SUCCESS for {} but the sale is {}: not accepted as paid",
            p.total_fee, self.total_fee
        )
    }

    /// When polling stops and the reverse starts (never before `reverse_not_before`).
    fn reverse_due(&self) -> Millis {
        let p = &self.policy;
        (self.submitted_at + p.password_timeout).max(self.submitted_at + p.reverse_not_before)
    }
}
