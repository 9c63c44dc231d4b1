//! Tests of the sale flow on virtual time: a driver runs a `Sale` against a scripted server and
//! records every request with its time.

mod property;
mod races;
mod replies;
mod resume;
mod unproven;

use std::collections::VecDeque;

use super::*;

pub(super) use Request::{Micropay as M, OrderQuery as Q, Reverse as R};

/// The policy the tables are written against: the defaults, with reverse retries 1 s apart so
/// the expected times read as whole seconds after the first reverse.
pub(super) fn table_policy() -> Policy {
    Policy {
        reverse_backoff: std::time::Duration::from_secs(1),
        ..Policy::default()
    }
}

/// Expected requests with their virtual times in ms.
pub(super) type Requests = Vec<(u64, Request)>;

/// A table row: name, server script, expected requests, expected outcome.
pub(super) type Case = (&'static str, Script, Requests, Final);

/// The sale's amount in every test.
pub(super) const FEE: Fen = Fen(1234);

/// Everything a finished run produced.
pub(super) struct Run {
    pub requests: Vec<(u64, Request)>,
    pub outcome: Final,
    pub sale: Sale,
}

/// Run `sale` from `start` to completion: every `Send` is answered at once by `server`, every
/// `WaitUntil` jumps virtual time, and the cashier cancels at `cancel_at` (if given).
pub(super) fn drive(
    mut sale: Sale,
    start: u64,
    mut cancel_at: Option<u64>,
    mut server: impl FnMut(u64, Request) -> Reply,
) -> Run {
    let mut now = Millis(start);
    let mut requests = Vec::new();
    for _ in 0..10_000 {
        if cancel_at.is_some_and(|c| now.0 >= c) {
            sale.cancel(now);
            cancel_at = None;
        }
        match sale.poll(now) {
            Step::Send(request) => {
                requests.push((now.0, request));
                let reply = server(now.0, request);
                sale.on_reply(now, reply);
            }
            Step::WaitUntil(t) => {
                assert!(t > now, "WaitUntil({t:?}) is not in the future at {now:?}");
                now = match cancel_at {
                    Some(c) if c < t.0 => Millis(c.max(now.0)),
                    _ => t,
                };
            }
            Step::Done(outcome) => {
                return Run {
                    requests,
                    outcome,
                    sale,
                };
            }
            Step::AwaitingReply => panic!("the driver always answers before polling again"),
        }
    }
    panic!("the sale did not finish in 10 000 steps: {requests:?}");
}

/// Scripted answers per request kind; the last answer of each list repeats. Queries after the
/// first reverse are answered from `confirms`.
#[derive(Clone)]
pub(super) struct Script {
    pub micropay: Reply,
    pub queries: Vec<Reply>,
    pub reverses: Vec<Reply>,
    pub confirms: Vec<Reply>,
}

impl Script {
    /// A script whose micropay answers `micropay`; queries say USERPAYING, the reverse succeeds
    /// and the query after it says REVOKED unless changed.
    pub fn micropay(micropay: Reply) -> Script {
        Script {
            micropay,
            queries: vec![state(TradeState::UserPaying)],
            reverses: vec![Reply::ReverseDone { recall: false }],
            confirms: vec![state(TradeState::Revoked)],
        }
    }

    pub fn queries(mut self, replies: Vec<Reply>) -> Script {
        self.queries = replies;
        self
    }

    pub fn reverses(mut self, replies: Vec<Reply>) -> Script {
        self.reverses = replies;
        self
    }

    pub fn confirms(mut self, replies: Vec<Reply>) -> Script {
        self.confirms = replies;
        self
    }

    /// The server closure for `drive`.
    pub fn server(self) -> impl FnMut(u64, Request) -> Reply {
        let mut queries = VecDeque::from(self.queries);
        let mut reverses = VecDeque::from(self.reverses);
        let mut confirms = VecDeque::from(self.confirms);
        let mut reversed = false;
        let micropay = self.micropay;
        move |_, request| match request {
            Request::Micropay => micropay.clone(),
            Request::OrderQuery if reversed => next(&mut confirms),
            Request::OrderQuery => next(&mut queries),
            Request::Reverse => {
                reversed = true;
                next(&mut reverses)
            }
        }
    }
}

fn next(replies: &mut VecDeque<Reply>) -> Reply {
    if replies.len() > 1 {
        replies.pop_front().expect("len > 1")
    } else {
        replies
            .front()
            .cloned()
            .expect("every script list has an answer")
    }
}

/// A new sale at t=0 with the default policy, run against `script`.
/// How many `request`s a run sent.
pub(super) fn count(run: &Run, request: Request) -> usize {
    run.requests.iter().filter(|(_, r)| *r == request).count()
}

pub(super) fn run(script: Script) -> Run {
    drive(
        Sale::new(table_policy(), FEE, Millis(0)),
        0,
        None,
        script.server(),
    )
}

pub(super) fn payment(fee: Fen) -> Payment {
    Payment {
        transaction_id: "4200000000202401011234567890".into(),
        total_fee: fee,
        time_end: "20240101120000".into(),
    }
}

pub(super) fn paid() -> Reply {
    Reply::MicropayPaid(payment(FEE))
}

pub(super) fn fail(err_code: &str, class: ErrClass) -> Reply {
    Reply::MicropayFail {
        err_code: err_code.into(),
        class,
    }
}

pub(super) fn state(state: TradeState) -> Reply {
    let payment = matches!(state, TradeState::Success | TradeState::Refund).then(|| payment(FEE));
    Reply::QueryState { state, payment }
}

pub(super) fn success_with(fee: Fen) -> Reply {
    Reply::QueryState {
        state: TradeState::Success,
        payment: Some(payment(fee)),
    }
}

pub(super) fn unknown(why: &str) -> Reply {
    Reply::Unknown { why: why.into() }
}

pub(super) fn reverse_fail(err_code: &str, recall: bool) -> Reply {
    Reply::ReverseFail {
        err_code: err_code.into(),
        recall,
    }
}

pub(super) fn failed(err_code: &str, rescan: bool) -> Final {
    Final::Failed {
        err_code: err_code.into(),
        rescan,
    }
}

/// The requests of a USERPAYING sale that nobody pays: queries every 5 s, reverse at 30 s.
pub(super) fn userpaying_until_reverse() -> Vec<(u64, Request)> {
    vec![
        (0, M),
        (5000, Q),
        (10_000, Q),
        (15_000, Q),
        (20_000, Q),
        (25_000, Q),
        (30_000, R),
        (30_000, Q),
    ]
}
