//! A POS order handed to whoever owns the till — `paycode serve`'s till task, or the cashier
//! screen — with the one answer the waiting request gets. The answer also frees the "a sale is
//! running" flag, so whichever owner finishes (or drops) the order, the next POST is taken.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use super::contract::{Refusal, SaleOrder};
use crate::checkout::pos_ref::PosRef;
use crate::checkout::{CancelToken, RefSale, SaleError};

/// How an order ended for the POS: the runner's answer, or a refusal by the owner before
/// anything was written or sent (the cashier screen busy, the cashier pressed Esc).
#[derive(Debug)]
pub enum TillAnswer {
    Sale(Result<RefSale, SaleError>),
    Refused(Refusal),
}

/// The waiting request's end of an order. Dropped unanswered (the owner stopped), the request
/// is told paycode is stopping; either way the running flag is cleared.
#[derive(Debug)]
pub struct Reply {
    tx: Option<oneshot::Sender<TillAnswer>>,
    running: Arc<AtomicBool>,
}

impl Reply {
    pub(super) fn new(tx: oneshot::Sender<TillAnswer>, running: Arc<AtomicBool>) -> Self {
        Reply {
            tx: Some(tx),
            running,
        }
    }

    /// Answer the POS. It may have hung up: the sale stands in the journal either way.
    pub fn send(mut self, answer: TillAnswer) {
        // Cleared first: a POS that retries the moment it reads the answer is taken.
        self.running.store(false, Ordering::SeqCst);
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(answer);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
    }
}

/// The POS order the cashier screen holds while it waits for the scan and its sale runs —
/// at most one, as the API takes one sale at a time. The runtime puts it here, the worker
/// takes it to answer when the sale ends, the app's refusals take it to turn it down.
#[derive(Debug, Clone, Default)]
pub struct Held(Arc<Mutex<Option<HeldOrder>>>);

/// The order the screen holds: its ref, its answer, and the POS's cancel.
#[derive(Debug)]
pub struct HeldOrder {
    pub pos_ref: PosRef,
    pub reply: Reply,
    pub cancel: CancelToken,
}

impl Held {
    /// Hold `reply` for `pos_ref`; an order already held keeps its place and `reply` is given
    /// back.
    pub fn hold(&self, order: HeldOrder) -> Result<(), Reply> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return Err(order.reply);
        }
        *slot = Some(order);
        Ok(())
    }

    /// The held order if it is `pos_ref`'s.
    pub fn take(&self, pos_ref: &str) -> Option<HeldOrder> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(|o| o.pos_ref.as_str() == pos_ref) {
            slot.take()
        } else {
            None
        }
    }
}

/// One order for the till's owner.
#[derive(Debug)]
pub struct Job {
    pub order: SaleOrder,
    /// `POST /v1/sales/{ref}/cancel` fires it: the sale stops waiting and reverses by the rules.
    pub cancel: CancelToken,
    pub reply: Reply,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::Words;

    #[test]
    fn answering_or_dropping_frees_the_till_for_the_next_order() {
        let running = Arc::new(AtomicBool::new(true));
        let (tx, mut rx) = oneshot::channel();
        Reply::new(tx, running.clone()).send(TillAnswer::Refused(Refusal::new(
            409,
            None,
            Words::new("busy", "忙"),
        )));
        assert!(!running.load(Ordering::SeqCst));
        assert!(matches!(rx.try_recv(), Ok(TillAnswer::Refused(r)) if r.status == 409));

        running.store(true, Ordering::SeqCst);
        let (tx, mut rx) = oneshot::channel::<TillAnswer>();
        drop(Reply::new(tx, running.clone()));
        assert!(!running.load(Ordering::SeqCst));
        assert!(
            rx.try_recv().is_err(),
            "a dropped order is never answered as done"
        );
    }

    #[test]
    fn one_order_is_held_and_only_its_ref_takes_it() {
        let running = Arc::new(AtomicBool::new(true));
        let held = Held::default();
        let r = |n: &str| PosRef::parse(n).unwrap();
        let order = |n: &str, tx| HeldOrder {
            pos_ref: r(n),
            reply: Reply::new(tx, running.clone()),
            cancel: CancelToken::new(),
        };
        let (tx, _rx) = oneshot::channel();
        assert!(held.hold(order("A-1", tx)).is_ok());
        let (tx2, _rx2) = oneshot::channel();
        assert!(held.hold(order("B-2", tx2)).is_err());
        assert!(held.take("B-2").is_none());
        assert_eq!(held.take("A-1").map(|o| o.pos_ref), Some(r("A-1")));
        assert!(held.take("A-1").is_none());
    }
}
