//! The rules of docs/protocol.md §5–§8 as transitions: what each answer leads to next.

use std::time::Duration;

use super::{ErrClass, Final, Millis, Mode, Payment, Reply, Request, Sale, State, TradeState};
use crate::money::Fen;

/// The err_code a sale ends with when a verified query shows its number is another order's.
pub(crate) const TAKEN: &str = "OUT_TRADE_NO_USED";

/// Reverse `err_code`s worth another call (docs/protocol.md §7); others go to the query.
const REVERSE_RETRY_CODES: [&str; 3] = ["SYSTEMERROR", "USERPAYING", "BANKERROR"];

/// How an unresolved sale's reason starts when its order was never proven its own (the words
/// for the cashier key on it).
pub const NOT_PROVEN: &str = "not reversed: WeChat never showed the order to be this sale's";

/// The reverse answer for an order older than WeChat's 7-day reverse window.
const REVERSE_EXPIRE: &str = "REVERSE_EXPIRE";

/// The `err_code` of a sale that ended because WeChat had no such order.
pub(crate) const NOTEXIST: &str = "ORDERNOTEXIST";

/// WeChat shows the order under the sale's number as REFUND (some refund exists, in part or in
/// full). The order proven the sale's own: it was charged and the money went back. Not proven
/// (a bare REFUND answer has no tag), it may be another till's: this sale took nothing through
/// it, and "charged and refunded" is not what WeChat verified for this sale (FAULTS.md row 82).
fn refunded_order(proven: bool) -> Final {
    if proven {
        Final::Reversed { refunded: true }
    } else {
        Final::Failed {
            err_code: TradeState::Refund.as_str().into(),
            rescan: false,
        }
    }
}

/// What one orderquery answer settles on its own, for a sale settled by hand (`query`, F9, the
/// pending screen): paid for the sale's amount, refunded, closed, or another till's order.
/// Anything else (still waiting, PAYERROR, no verified answer) leaves the sale as it is.
/// `proven`: the order is known to be the sale's (its `Proof`); a refunded order that is not
/// ends not charged, never "charged and refunded" (FAULTS.md row 82).
pub fn settled_by_query(reply: &Reply, total_fee: Fen, proven: bool) -> Option<Final> {
    match reply {
        Reply::QueryState {
            state: TradeState::Success,
            payment: Some(p),
        } if p.total_fee == total_fee => Some(Final::Paid(p.clone())),
        Reply::QueryState {
            state: TradeState::Refund,
            ..
        } => Some(refunded_order(proven)),
        Reply::QueryState {
            state: s @ (TradeState::Closed | TradeState::Revoked),
            ..
        } => Some(Final::Failed {
            err_code: s.as_str().into(),
            rescan: false,
        }),
        Reply::NotOurs { .. } => Some(Final::Failed {
            err_code: TAKEN.into(),
            rescan: false,
        }),
        _ => None,
    }
}

impl Sale {
    /// The micropay answered: paid, definitely not, or open (query).
    pub(super) fn on_micropay(&mut self, now: Millis, reply: Reply) {
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
                    // WeChat answered this very micropay: the order is this sale's.
                    self.proof.own_order = true;
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
                    // paycode sends one micropay per number, so a duplicate answer means the
                    // number is another order's (two tills with one device_info): that order
                    // is never queried, adopted or reversed, and nothing was charged here.
                    ErrClass::Duplicate => {
                        self.number_taken(format!("micropay {err_code}"), err_code)
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

    /// An orderquery while waiting for the customer or an unknown outcome.
    pub(super) fn on_poll_query(&mut self, now: Millis, reply: Reply) {
        if let Some(err_code) = self.sure_query.take() {
            match reply {
                // WeChat itself says there is no such order: the refusal is confirmed.
                Reply::QueryNotExist => {
                    return self.finish(Final::Failed {
                        err_code,
                        rescan: false,
                    });
                }
                Reply::QueryState { .. } | Reply::NotOurs { .. } => {}
                // Nothing verified yet (an unsigned refusal proves nothing): the sale stays
                // open and is asked again, then reversed, never called "not charged" on this.
                other => {
                    self.note(format!("{}; still unconfirmed: {err_code}", other.label()));
                    self.sure_query = Some(err_code);
                    let again = self.policy.unknown_query_after;
                    return self.keep_polling(now, again);
                }
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
                    TradeState::Refund => self.finish(refunded_order(self.proof.proven())),
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
            Reply::NotOurs { why } => self.number_taken(why, TAKEN.into()),
            Reply::QueryNotExist => {
                self.notexist_seen += 1;
                self.note(format!("orderquery ORDERNOTEXIST ×{}", self.notexist_seen));
                // A fresh order may lag; past the waiting deadline the lag is over.
                let trusted = self.notexist_seen >= self.policy.notexist_rounds
                    || now >= self.submitted_at + self.policy.password_timeout;
                if trusted {
                    self.start_reverse(now, Some(NOTEXIST.into()));
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

    /// A reverse answered: confirm with a query, retry, or let the query decide.
    pub(super) fn on_reverse(&mut self, now: Millis, reply: Reply) {
        match reply {
            Reply::ReverseDone { recall: false } => self.schedule(Request::OrderQuery, now),
            Reply::ReverseFail { err_code, recall }
                if !recall && !REVERSE_RETRY_CODES.contains(&err_code.as_str()) =>
            {
                // ORDERNOTEXIST, REVERSE_EXPIRE, …: retrying will not help; the query decides.
                self.reverse_expired |= err_code == REVERSE_EXPIRE;
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
    pub(super) fn on_confirm_query(&mut self, now: Millis, reply: Reply) {
        if !self.proof.proven() {
            // Never reversed again on an open answer: WeChat has to settle it.
            return self.on_check_before_reverse(now, reply);
        }
        match reply {
            Reply::QueryState { state, payment } => match state {
                // The reverse refunded a payment this run verified, whichever state WeChat
                // reports for it now (REFUND, or REVOKED in the other reading).
                TradeState::Revoked if self.proof.verified_paid => {
                    self.finish(Final::Reversed { refunded: true });
                }
                TradeState::Revoked | TradeState::Closed | TradeState::PayError => {
                    self.finish_not_charged(Final::Reversed { refunded: false });
                }
                TradeState::Refund => self.finish(Final::Reversed { refunded: true }),
                // Verified paid for this amount and no longer reversible: a refund returns it.
                TradeState::Success if self.reverse_expired => match payment {
                    Some(p) if p.total_fee == self.total_fee => self.finish(Final::Refunded(p)),
                    other => {
                        let why = match &other {
                            Some(p) => self.fee_mismatch("orderquery", p),
                            None => "orderquery SUCCESS without payment details".into(),
                        };
                        self.note(why);
                        self.give_up();
                    }
                },
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
            // No reverse was ever sent (a sale resumed as reversing before its first one): "no
            // such order" is closed by one, as while waiting.
            Reply::QueryNotExist if self.reverse_attempts == 0 => {
                self.on_check_before_reverse(now, reply)
            }
            Reply::QueryNotExist => self.finish_not_charged(Final::Failed {
                err_code: NOTEXIST.into(),
                rescan: false,
            }),
            Reply::NotOurs { why } => self.number_taken(why, TAKEN.into()),
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

    pub(super) fn start_reverse(&mut self, earliest: Millis, closing: Option<String>) {
        let at = earliest.max(self.submitted_at + self.policy.reverse_not_before);
        self.mode = Mode::Reversing { closing };
        self.password_box = false;
        self.reverse_at(at);
    }

    /// Send a reverse at `at` — only of an order proven this sale's. Any other may be another
    /// till's order under the same number (a copied config, this micropay's answer lost; WeChat
    /// sends `attach` only with a paid order): it is queried instead, until WeChat proves it
    /// this sale's, closes it itself (its 45 s auto-revoke), or `unproven_wait` is over.
    fn reverse_at(&mut self, at: Millis) {
        if self.proof.proven() {
            return self.schedule(Request::Reverse, at);
        }
        match self.last_answer.take() {
            // WeChat answered at this very instant: that answer is as fresh as another query.
            Some((seen, reply)) if seen == at => self.on_check_before_reverse(at, reply),
            _ => {
                self.checking = true;
                self.schedule(Request::OrderQuery, at);
            }
        }
    }

    /// A query while the sale must end: before its first reverse, or at any time while its
    /// order is not proven this sale's. Another till's order is left alone; a closed one ends
    /// the sale as it is; a proven open one is reversed now; an unproven open one is asked
    /// again, until `unproven_wait` (then unresolved).
    pub(super) fn on_check_before_reverse(&mut self, now: Millis, reply: Reply) {
        self.checking = false;
        let horizon = now >= self.unproven_until();
        let sent_reverse = self.reverse_attempts > 0;
        if reply == Reply::QueryNotExist {
            self.notexist_seen += 1;
        }
        match reply {
            Reply::NotOurs { why } => self.number_taken(why, TAKEN.into()),
            // A reverse this sale sent proves the order its own too (a summary from before
            // proofs were kept reads "not proven").
            Reply::QueryState {
                state: TradeState::Refund,
                ..
            } => match refunded_order(sent_reverse || self.proof.proven()) {
                reversed @ Final::Reversed { .. } => self.finish(reversed),
                not_charged => self.finish_not_charged(not_charged),
            },
            Reply::QueryState {
                state: state @ (TradeState::Revoked | TradeState::Closed | TradeState::PayError),
                ..
            } => {
                let otherwise = if sent_reverse {
                    let refunded = state == TradeState::Revoked && self.proof.verified_paid;
                    Final::Reversed { refunded }
                } else {
                    // WeChat closed it without a reverse from this sale: not charged.
                    Final::Failed {
                        err_code: state.as_str().into(),
                        rescan: false,
                    }
                };
                self.finish_not_charged(otherwise);
            }
            // After a reverse, past the horizon (a lost micropay can no longer create the
            // order), or believed (the rounds are over) once WeChat's 15 s floor has passed,
            // "no such order" means not charged — with no reverse: nothing of this sale's is
            // there to close, and a reverse could only touch another till's order created under
            // the number in that instant (WeChat's pages do not say a reverse of a missing
            // order fences the number either: the simulator offers both answers).
            Reply::QueryNotExist if sent_reverse || horizon || self.notexist_believed(now) => {
                self.finish_not_charged(Final::Failed {
                    err_code: NOTEXIST.into(),
                    rescan: false,
                });
            }
            // A verified payment past WeChat's reverse window: the refund rule decides.
            reply if self.reverse_expired && self.proof.verified_paid => {
                self.on_confirm_query(now, reply)
            }
            other if self.proof.proven() => {
                self.note(format!("before the reverse: {}", other.label()));
                let at = now.max(self.submitted_at + self.policy.reverse_not_before);
                self.schedule(Request::Reverse, at);
            }
            other if horizon => {
                let no = format!(
                    "{NOT_PROVEN} (its micropay answer was lost), so it may be another till's order under the same number"
                );
                self.note(format!("{}; {no}", other.label()));
                let why = format!(
                    "{}; {no}; WeChat closes an unpaid order by itself",
                    other.label()
                );
                self.finish(Final::Unresolved { why });
            }
            other => {
                self.note(format!(
                    "waiting for WeChat to settle or close the order: {}",
                    other.label()
                ));
                let interval = self.policy.query_interval.max(Duration::from_millis(1));
                let at = (now + interval).min(self.unproven_until());
                self.checking = true;
                self.schedule(Request::OrderQuery, at);
            }
        }
    }

    /// ORDERNOTEXIST has been answered `notexist_rounds` times (or the waiting time is over)
    /// and WeChat's reverse floor has passed: a fresh order no longer lags this much.
    fn notexist_believed(&self, now: Millis) -> bool {
        let p = &self.policy;
        let rounds = self.notexist_seen >= p.notexist_rounds
            || now >= self.submitted_at + p.password_timeout;
        rounds && now >= self.submitted_at + p.reverse_not_before && !self.proof.proven()
    }

    /// Reverse calls made in this run (a resumed sale gets a fresh budget).
    fn reverses_this_run(&self) -> u32 {
        self.reverse_attempts
            .saturating_sub(self.attempts_before_run)
    }

    fn retry_reverse(&mut self, now: Millis) {
        let made = self.reverses_this_run();
        if made >= self.policy.reverse_max_attempts {
            return self.give_up();
        }
        // Doubling backoff, capped at 4× so ten tries stay within about half a minute.
        let factor = 1u32 << made.saturating_sub(1).min(2);
        let at = now + self.policy.reverse_backoff.saturating_mul(factor);
        let at = at.max(self.submitted_at + self.policy.reverse_not_before);
        self.reverse_at(at);
    }

    fn give_up(&mut self) {
        let made = self.reverses_this_run();
        let last = self.problem.clone().unwrap_or_default();
        let why = format!("reverse not confirmed after {made} attempts; last: {last}");
        self.note(why.clone());
        self.finish_not_charged(Final::Unresolved { why });
    }

    fn paid(&mut self, now: Millis, payment: Payment) {
        // A paid micropay answer counts as a verified payment too (queries set it on arrival).
        self.proof.verified_paid = true;
        if self.cancelled {
            self.note("paid after the cashier cancelled: reversing refunds it".into());
            self.start_reverse(now, None);
        } else {
            self.finish(Final::Paid(payment));
        }
    }

    /// End with `otherwise`, unless the reverse was only closing an order already known not
    /// charged: then it is that refusal (the reverse closed the loop, nothing was taken).
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

    /// The order number belongs to another order: end not charged, touch that order no more.
    fn number_taken(&mut self, why: String, err_code: String) {
        self.note(format!(
            "{why}: order number already used by another order (another till with the same device_info?)"
        ));
        self.finish(Final::Failed {
            err_code,
            rescan: false,
        });
    }

    fn set_closing(&mut self, closing: Option<String>) {
        if let Mode::Reversing { closing: c } = &mut self.mode {
            *c = closing;
        }
    }

    fn schedule(&mut self, request: Request, at: Millis) {
        self.state = State::Scheduled { request, at };
    }

    pub(super) fn finish(&mut self, outcome: Final) {
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
}
