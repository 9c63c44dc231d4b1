//! The pure sale state machine: micropay → orderquery polling → reverse → final
//! (docs/protocol.md §5–§8, docs/reliability.md §4). No IO, no clock, no randomness: the
//! runner calls `poll(now)` for the next step, performs it, and reports the result with
//! `on_reply(now, …)`.
//!
//! Safety rules it keeps: one micropay per sale for life (an unknown outcome is queried, never
//! resubmitted); Paid only on a confirmed payment of exactly the sale's amount; never a reverse
//! sooner than `reverse_not_before` after submit; every open outcome ends in a reverse of an order
//! proven this sale's, or in WeChat's own verdict (unresolved when none came).

pub mod closing;
mod millis;
mod policy;
mod rules;
mod types;

#[cfg(test)]
mod tests;

pub use millis::Millis;
pub use policy::{Policy, PolicyError};
pub use rules::{NOT_PROVEN, settled_by_query};
pub use types::{
    ErrClass, Final, Payment, Phase, Proof, Reply, Request, ResumePoint, Step, Summary, TradeState,
};

use crate::money::Fen;

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
    /// WeChat answered the reverse REVERSE_EXPIRE: past its 7-day window only a refund returns
    /// a payment.
    reverse_expired: bool,
    /// What WeChat proved about the order under the number. An order not proven this sale's is
    /// never reversed (`rules::reverse_at`): it may be another till's with the same number.
    proof: Proof,
    /// The sale must end but its order is not proven: the queries are waiting for WeChat
    /// (`Phase::Confirming`) instead of a reverse.
    checking: bool,
    /// The last orderquery answer and when it came: a decision due at that same instant uses
    /// it instead of asking again.
    last_answer: Option<(Millis, Reply)>,
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
    /// `proof` is what the journal's summary kept (`Proof::default()` when it has none).
    pub fn resume(
        policy: Policy,
        total_fee: Fen,
        submitted_at: Millis,
        last_known: ResumePoint,
        proof: Proof,
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
        sale.proof = proof;
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
            reverse_expired: false,
            proof: Proof::default(),
            checking: false,
            last_answer: None,
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
            (Request::OrderQuery, _) => {
                if let Reply::QueryState {
                    state: TradeState::Success,
                    payment: Some(p),
                } = &reply
                {
                    self.proof.verified_paid |= p.total_fee == self.total_fee;
                }
                self.last_answer = Some((now, reply.clone()));
                self.on_query(now, reply);
            }
            (Request::Reverse, _) => self.on_reverse(now, reply),
        }
    }

    /// An orderquery answered, in whichever mode the sale is.
    fn on_query(&mut self, now: Millis, reply: Reply) {
        match &self.mode {
            Mode::Polling => self.on_poll_query(now, reply),
            Mode::Reversing { .. } if self.checking => self.on_check_before_reverse(now, reply),
            Mode::Reversing { .. } => self.on_confirm_query(now, reply),
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
            (_, Mode::Reversing { .. }) if self.checking => Phase::Confirming {
                until: self.unproven_until(),
            },
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

    /// WeChat proved the order this sale's: the end of the waiting is a reverse, not more
    /// questions (`Phase::Confirming`).
    pub fn proven(&self) -> bool {
        self.proof.proven()
    }

    /// The refund a `Final::Refunded` asked for was not accepted by WeChat (no answer, refused,
    /// abnormal): the sale is unresolved, and a later retry sends it again.
    pub fn refund_not_accepted(&mut self, why: String) {
        if matches!(self.state, State::Done(Final::Refunded(_))) {
            self.problem = Some(why.clone());
            self.state = State::Done(Final::Unresolved { why });
        }
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
            (_, Mode::Polling) if !self.cancelled => Some(ResumePoint::Submitted),
            // Reversing, or told "cancelling": after a crash it is still reversed.
            _ => Some(ResumePoint::Reversing {
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
            proof: self.proof,
        }
    }

    /// When polling stops and the reverse starts (never before `reverse_not_before`).
    fn reverse_due(&self) -> Millis {
        let p = &self.policy;
        (self.submitted_at + p.password_timeout).max(self.submitted_at + p.reverse_not_before)
    }

    /// Until when an order not proven this sale's is queried instead of reversed.
    fn unproven_until(&self) -> Millis {
        (self.submitted_at + self.policy.unproven_wait).max(self.reverse_due())
    }
}
