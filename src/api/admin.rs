//! The till commands the API runs on the process that owns the journal — a POS's refund, and
//! `paycode query|refund|recover|reconcile` handed over by a second paycode that found the
//! journal locked. Each is done by the till's owner between sales, one at a time, and answered
//! with the command line's `--json` object plus `exit` (its exit status).

use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::contract::{RefundOf, RefundOrder, Refusal};
use crate::checkout::Till;
use crate::checkout::answers;
use crate::checkout::refund::{RefundAsk, RefundError, refund_for_ref};
use crate::checkout::settle::{SettleError, query_sale};
use crate::checkout::statement::{StatementError, check_day, compare_day};
use crate::journal::{Authority, SaleState};
use crate::words::{Bilingual, Words};

/// How long a refund is followed before it is answered (it goes on at WeChat).
const REFUND_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A command for the till's owner.
#[derive(Debug)]
pub enum AdminCmd {
    /// A refund, its manager PIN already checked.
    Refund {
        order: RefundOrder,
        authorised: Authority,
    },
    /// Ask WeChat about one sale; settle it if the answer is final.
    Query { out_trade_no: String },
    /// Resume unfinished sales, retry pending ones, close definite failures.
    Recover,
    /// This till's journal against WeChat's statement of a Beijing-time day; `today` is the
    /// caller's (time is a parameter).
    Reconcile { day: time::Date, today: time::Date },
}

/// The HTTP status and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    pub status: u16,
    pub body: Value,
}

/// A command and where its answer goes (the caller may have hung up: the work stands).
#[derive(Debug)]
pub struct AdminJob {
    pub cmd: AdminCmd,
    pub reply: oneshot::Sender<Answered>,
}

impl AdminJob {
    /// Do it on `till` and answer.
    pub async fn run(self, till: &mut Till) -> Option<Done> {
        let (answered, done) = perform(till, self.cmd).await;
        let _ = self.reply.send(answered);
        done
    }
}

/// What the owner may want to act on after a command (a slip to print).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Refunded {
        out_trade_no: String,
        out_refund_no: String,
    },
}

fn ran(exit: u8, mut v: Value) -> Answered {
    v["exit"] = json!(exit);
    Answered {
        status: 200,
        body: v,
    }
}

/// A refusal: nothing was done (exit 3).
pub fn refused(r: &Refusal) -> Answered {
    stopped(r, 3)
}

/// A command that stopped with the exit status `exit` (2: something may be left open).
fn stopped(r: &Refusal, exit: u8) -> Answered {
    let mut v = r.json();
    v["exit"] = json!(exit);
    if exit == 2 {
        v["status"] = json!("unresolved");
    }
    Answered {
        status: r.status,
        body: v,
    }
}

async fn perform(till: &mut Till, cmd: AdminCmd) -> (Answered, Option<Done>) {
    match cmd {
        AdminCmd::Refund { order, authorised } => refund(till, order, authorised).await,
        AdminCmd::Query { out_trade_no } => (query(till, &out_trade_no).await, None),
        AdminCmd::Recover => (recover(till).await, None),
        AdminCmd::Reconcile { day, today } => (reconcile(till, day, today).await, None),
    }
}

async fn refund(
    till: &mut Till,
    order: RefundOrder,
    authorised: Authority,
) -> (Answered, Option<Done>) {
    let no = match paid_sale(till, &order.sale) {
        Ok(no) => no,
        Err(r) => return (refused(&r), None),
    };
    let asked = RefundAsk {
        amount: order.amount,
        reason: &order.reason,
        authorised,
        refund_ref: Some(order.refund_ref.as_str()),
        follow_open: order.follow_open,
    };
    match refund_for_ref(till, &no, &asked, Some(REFUND_WAIT), |_| {}).await {
        Ok((o, existing)) => {
            let (exit, mut v) = answers::refund(&o);
            v["existing"] = json!(existing);
            v["refund_ref"] = json!(order.refund_ref.as_str());
            let done = o.refund.state.may_hold_money().then(|| Done::Refunded {
                out_trade_no: o.refund.out_trade_no.clone(),
                out_refund_no: o.refund.out_refund_no.clone(),
            });
            (ran(exit, v), done)
        }
        Err(e) => {
            let (status, field) = match &e {
                RefundError::NotFound(_) => (404, Some("out_trade_no")),
                RefundError::Refused { .. } => (409, None),
                RefundError::RefReused { .. } => (409, Some("refund_ref")),
                RefundError::Request(_) => (400, Some("reason")),
                RefundError::Journal(_) => (503, None),
            };
            // The journal failed, maybe after the request went out: not "refused before
            // sending" — open, followed again by `recover` (review of stop 26, F3).
            let exit = if matches!(e, RefundError::Journal(_)) {
                2
            } else {
                3
            };
            (stopped(&Refusal::new(status, field, e.words()), exit), None)
        }
    }
}

/// The till's order number of the paid sale a refund is of.
fn paid_sale(till: &Till, of: &RefundOf) -> Result<String, Refusal> {
    let journal_down = |e: crate::journal::JournalError| Refusal::new(503, None, e.words());
    match of {
        RefundOf::OutTradeNo(no) => match till.journal().sale(no).map_err(journal_down)? {
            Some(_) => Ok(no.clone()),
            None => {
                let shown = crate::untrusted::shown_arg(no);
                Err(Refusal::new(
                    404,
                    Some("out_trade_no"),
                    Words::new(
                        format!("no sale {shown} on this till: check the order number"),
                        format!("本收银台没有订单 {shown}:请核对订单号"),
                    ),
                ))
            }
        },
        RefundOf::Ref(r) => {
            let rows = till
                .journal()
                .sales_with_ref(r.as_str())
                .map_err(journal_down)?;
            let r = r.as_str();
            if let Some(paid) = rows.iter().find(|s| s.state == SaleState::Paid) {
                return Ok(paid.out_trade_no.clone());
            }
            match rows.last() {
                None => Err(Refusal::new(
                    404,
                    Some("ref"),
                    Words::new(
                        format!(
                            "no sale for ref {r}: nothing was charged for it, so nothing is refunded"
                        ),
                        format!("ref {r} 没有交易:未因此扣款,无需退款"),
                    ),
                )),
                Some(last) => Err(Refusal::new(
                    409,
                    Some("ref"),
                    crate::checkout::refund::not_paid_words(&last.out_trade_no, last.state),
                )),
            }
        }
    }
}

async fn query(till: &mut Till, no: &str) -> Answered {
    match query_sale(till, no).await {
        Ok(a) => {
            let given_back = match till.journal().refunds_of(no) {
                Ok(rs) if a.after == SaleState::Paid => crate::journal::refunded_of(no, &rs),
                _ => crate::money::Fen(0),
            };
            let (exit, v) = answers::query(no, &a, given_back);
            ran(exit, v)
        }
        Err(e) => {
            let status = match &e {
                SettleError::NotFound(_) => 404,
                SettleError::Refused { .. } => 409,
                SettleError::Sale(_) => 503,
            };
            let field = matches!(e, SettleError::NotFound(_)).then_some("out_trade_no");
            stopped(&Refusal::new(status, field, e.words()), e.exit_code())
        }
    }
}

async fn recover(till: &mut Till) -> Answered {
    match crate::checkout::recovery::recover_now(till, |_| {}).await {
        Ok(done) => {
            let (exit, v) = answers::recover(&done);
            ran(exit, v)
        }
        Err((why, exit)) => stopped(&Refusal::new(503, None, why), exit),
    }
}

async fn reconcile(till: &mut Till, day: time::Date, today: time::Date) -> Answered {
    if let Err(e) = check_day(day, today, till.is_simulated()) {
        return refused(&Refusal::new(400, Some("date"), e.words()));
    }
    match compare_day(till, day).await {
        Ok(report) => {
            let device = till.config().merchant.device_info.clone();
            let (exit, v) = answers::reconcile(day, &device, &report);
            ran(exit, v)
        }
        Err(e @ StatementError::Request(_)) => refused(&Refusal::new(400, None, e.words())),
        Err(e) => {
            let mut v =
                json!({"status": "unavailable", "message": e.to_string(), "message_zh": e.zh()});
            v["exit"] = json!(2);
            Answered {
                status: 503,
                body: v,
            }
        }
    }
}
