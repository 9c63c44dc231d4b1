//! The event hub (issue 12): what the till's sales are doing, for `GET /v1/events` and the
//! customer display. Any task publishes into it with plain calls (`progress`, `finished`, …) —
//! the API's till task now, the cashier screen's worker later — and nothing here knows HTTP.
//! Events carry a monotonically increasing id; the last [`RECENT`] are kept so a display that
//! reconnects with `Last-Event-ID` misses nothing recent. Publishing never waits: a subscriber
//! that falls behind the bounded broadcast is told it lagged and given the current state.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::checkout::{Outcome, Progress, messages};
use crate::config::Language;
use crate::money::Fen;
use crate::words::Words;

/// Events kept for `Last-Event-ID` resume, and the broadcast's depth before a subscriber lags.
pub const RECENT: usize = 256;

/// Sales whose latest event the state keeps (one till runs one at a time; a few to spare).
const OPEN_MAX: usize = 8;

/// One thing that happened to one sale. Never a payment code (not even masked), never a key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: u64,
    /// The POS's order id, when the sale has one (API sales; none for the cashier screen's).
    #[serde(rename = "ref")]
    pub pos_ref: Option<String>,
    /// `None` only for a cancel asked before the sale had its number.
    pub out_trade_no: Option<String>,
    /// Fen, once known (from the start of the sale).
    pub total_fee: Option<u64>,
    #[serde(flatten)]
    pub kind: Kind,
}

/// What happened; `kind` in the JSON and the SSE `event:` name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// The charge goes out (or an unfinished sale is resumed).
    Started,
    /// A step the runner reported: `step` names it, `seconds_left` counts the password wait
    /// (and the other waits) down, `message`/`message_zh` are the CLI's progress line.
    Progress {
        step: &'static str,
        seconds_left: Option<u64>,
        queries: Option<u32>,
        message: String,
        message_zh: String,
    },
    /// Someone asked to cancel: the runner reverses when the rules allow.
    CancelRequested,
    /// How the sale ended: the object `GET /v1/sales/{ref}` and `pay --json` give, plus
    /// `exit_code` (the CLI's: 0 paid, 1 not charged, 2 unresolved).
    Final { outcome: Value },
}

impl Kind {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Started => "started",
            Kind::Progress { .. } => "progress",
            Kind::CancelRequested => "cancel_requested",
            Kind::Final { .. } => "final",
        }
    }
}

/// What a display needs on (re)connecting: the latest event of each sale still running, oldest
/// first, and the last sale that ended.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct State {
    pub open: Vec<Event>,
    pub last: Option<Event>,
}

/// How a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// No `Last-Event-ID`: start from the state.
    Fresh,
    /// Every event after the given id is in the backlog.
    Replayed,
    /// The id is older than the ring (or from an earlier run of paycode): some were missed.
    TooOld,
}

/// What a subscriber receives after its backlog.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Event(Event),
    /// The subscriber fell `missed` events behind; `state` is where things stand now.
    Lagged {
        missed: u64,
        state: State,
    },
}

/// A subscriber: the state and backlog at the moment it joined, then live events.
pub struct Subscription {
    pub state: State,
    pub resume: Resume,
    pub backlog: VecDeque<Event>,
    rx: broadcast::Receiver<Event>,
    hub: Hub,
}

impl Subscription {
    /// The next delivery: the backlog first, then live; `None` when the hub is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        if let Some(e) = self.backlog.pop_front() {
            return Some(Delivery::Event(e));
        }
        match self.rx.recv().await {
            Ok(e) => Some(Delivery::Event(e)),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Delivery::Lagged {
                missed,
                state: self.hub.state(),
            }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// The hub; cloning shares it.
#[derive(Clone)]
pub struct Hub(Arc<Shared>);

struct Shared {
    tx: broadcast::Sender<Event>,
    book: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    last_id: u64,
    recent: VecDeque<Event>,
    /// Latest event of each sale not ended yet.
    open: VecDeque<Event>,
    last: Option<Event>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(RECENT)
    }
}

impl Hub {
    /// A hub whose subscribers lag after `depth` unread events.
    pub fn new(depth: usize) -> Hub {
        let (tx, _) = broadcast::channel(depth.max(1));
        Hub(Arc::new(Shared {
            tx,
            book: Mutex::new(Book::default()),
        }))
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        // A publisher that panicked mid-update leaves a consistent book (each step is one push).
        match self.0.book.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        }
    }

    /// A runner's progress step for the sale of `pos_ref` (if it has one). `Submitting` and
    /// `Recovering` also announce the sale (`started`); `Done` is [`Hub::finished`].
    pub fn progress(&self, pos_ref: Option<&str>, p: &Progress) {
        let (no, fee) = match p {
            Progress::Done(o) => return self.finished(pos_ref, o),
            Progress::Recovering {
                out_trade_no,
                total_fee,
            }
            | Progress::Submitting {
                out_trade_no,
                total_fee,
            } => (out_trade_no, Some(*total_fee)),
            Progress::WaitingForPassword { out_trade_no, .. }
            | Progress::Querying { out_trade_no, .. }
            | Progress::Reversing { out_trade_no, .. }
            | Progress::Confirming { out_trade_no, .. } => (out_trade_no, None),
        };
        let mut book = self.book();
        let known = book.open_of(no).cloned();
        let fee = fee.or_else(|| known.as_ref().and_then(|e| e.total_fee.map(Fen)));
        let pos_ref = pos_ref
            .map(str::to_string)
            .or_else(|| known.as_ref().and_then(|e| e.pos_ref.clone()));
        if fee.is_some() && known.is_none() {
            self.publish(
                &mut book,
                pos_ref.clone(),
                Some(no.clone()),
                fee,
                Kind::Started,
            );
        }
        self.publish(&mut book, pos_ref, Some(no.clone()), fee, step(p));
    }

    /// A sale ended with `outcome`.
    pub fn finished(&self, pos_ref: Option<&str>, outcome: &Outcome) {
        let mut v = messages::json(outcome);
        v["exit_code"] = outcome.status().exit_code().into();
        self.ended(pos_ref, &outcome.out_trade_no, outcome.total_fee, v);
    }

    /// A sale stopped without an outcome (a journal write failed mid-sale): unresolved, settled
    /// on restart; `words` say so.
    pub fn stopped(
        &self,
        pos_ref: Option<&str>,
        out_trade_no: &str,
        total_fee: Fen,
        words: &Words,
    ) {
        let v = serde_json::json!({
            "status": "unresolved",
            "out_trade_no": out_trade_no,
            "total_fee": total_fee.0,
            "message": words.en,
            "message_zh": words.zh,
            "exit_code": 2,
        });
        self.ended(pos_ref, out_trade_no, total_fee, v);
    }

    fn ended(&self, pos_ref: Option<&str>, no: &str, fee: Fen, outcome: Value) {
        let mut book = self.book();
        let pos_ref = pos_ref
            .map(str::to_string)
            .or_else(|| book.open_of(no).and_then(|e| e.pos_ref.clone()));
        let kind = Kind::Final { outcome };
        self.publish(&mut book, pos_ref, Some(no.to_string()), Some(fee), kind);
    }

    /// The POS's order `pos_ref` was turned down before any sale began (cancelled while it
    /// waited for the scan): its end, so a display showing "Cancelling" is told it is over.
    pub fn withdrawn(&self, pos_ref: &str, words: &Words) {
        let mut book = self.book();
        let v = serde_json::json!({
            "status": "rejected",
            "out_trade_no": null,
            "total_fee": null,
            "message": words.en,
            "message_zh": words.zh,
            "exit_code": 3,
        });
        let kind = Kind::Final { outcome: v };
        self.publish(&mut book, Some(pos_ref.to_string()), None, None, kind);
    }

    /// A cancel was asked for the running sale of `pos_ref`; its event.
    pub fn cancel_requested(&self, pos_ref: &str) -> Event {
        let mut book = self.book();
        let known = book
            .open
            .iter()
            .rev()
            .find(|e| e.pos_ref.as_deref() == Some(pos_ref))
            .cloned();
        let no = known.as_ref().and_then(|e| e.out_trade_no.clone());
        let fee = known.as_ref().and_then(|e| e.total_fee.map(Fen));
        let kind = Kind::CancelRequested;
        self.publish(&mut book, Some(pos_ref.to_string()), no, fee, kind)
    }

    /// Where things stand now.
    pub fn state(&self) -> State {
        self.book().state()
    }

    /// Join: the state, the events after `last_event_id` still in the ring, then live ones.
    pub fn subscribe(&self, last_event_id: Option<u64>) -> Subscription {
        let book = self.book();
        // Subscribing under the lock: nothing is published between the backlog and the first
        // live event, so none is missed or sent twice.
        let rx = self.0.tx.subscribe();
        let (resume, backlog) = match last_event_id {
            None => (Resume::Fresh, VecDeque::new()),
            Some(id) => {
                let oldest = book.recent.front().map_or(book.last_id + 1, |e| e.id);
                if id > book.last_id || id + 1 < oldest {
                    (Resume::TooOld, VecDeque::new())
                } else {
                    let after = book.recent.iter().filter(|e| e.id > id).cloned().collect();
                    (Resume::Replayed, after)
                }
            }
        };
        Subscription {
            state: book.state(),
            resume,
            backlog,
            rx,
            hub: self.clone(),
        }
    }

    fn publish(
        &self,
        book: &mut Book,
        pos_ref: Option<String>,
        out_trade_no: Option<String>,
        fee: Option<Fen>,
        kind: Kind,
    ) -> Event {
        book.last_id += 1;
        let e = Event {
            id: book.last_id,
            pos_ref,
            out_trade_no,
            total_fee: fee.map(|f| f.0),
            kind,
        };
        book.record(&e);
        // No subscriber is not an error; a full channel drops the oldest for laggards only.
        let _ = self.0.tx.send(e.clone());
        e
    }
}

impl Book {
    fn open_of(&self, no: &str) -> Option<&Event> {
        self.open
            .iter()
            .find(|e| e.out_trade_no.as_deref() == Some(no))
    }

    fn record(&mut self, e: &Event) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(e.clone());
        let same = |o: &Event| o.out_trade_no.is_some() && o.out_trade_no == e.out_trade_no;
        self.open.retain(|o| !same(o));
        if matches!(e.kind, Kind::Final { .. }) {
            self.last = Some(e.clone());
        } else if e.out_trade_no.is_some() {
            if self.open.len() == OPEN_MAX {
                self.open.pop_front();
            }
            self.open.push_back(e.clone());
        }
    }

    fn state(&self) -> State {
        State {
            open: self.open.iter().cloned().collect(),
            last: self.last.clone(),
        }
    }
}

/// The progress event of a runner step (never `Done`).
fn step(p: &Progress) -> Kind {
    let (step, seconds_left, queries) = match p {
        Progress::Recovering { .. } => ("recovering", None, None),
        Progress::Submitting { .. } => ("submitting", None, None),
        Progress::WaitingForPassword {
            remaining, queries, ..
        } => (
            "waiting_for_password",
            Some(remaining.as_secs()),
            Some(*queries),
        ),
        Progress::Querying {
            remaining, queries, ..
        } => ("querying", remaining.map(|r| r.as_secs()), Some(*queries)),
        Progress::Reversing { remaining, .. } => {
            ("reversing", remaining.map(|r| r.as_secs()), None)
        }
        Progress::Confirming { remaining, .. } => ("confirming", Some(remaining.as_secs()), None),
        Progress::Done(_) => ("done", None, None),
    };
    Kind::Progress {
        step,
        seconds_left,
        queries,
        message: messages::progress(p, Language::En),
        message_zh: messages::progress(p, Language::Zh),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::flow::{Final, Payment};
    use std::time::Duration;

    fn submitting(no: &str) -> Progress {
        Progress::Submitting {
            out_trade_no: no.into(),
            total_fee: Fen(1234),
        }
    }

    fn waiting(no: &str, secs: u64) -> Progress {
        Progress::WaitingForPassword {
            out_trade_no: no.into(),
            remaining: Duration::from_millis(secs * 1000 + 400),
            queries: 1,
            reverses: true,
        }
    }

    fn paid(no: &str) -> Outcome {
        Outcome {
            out_trade_no: no.into(),
            total_fee: Fen(1234),
            result: Final::Paid(Payment {
                transaction_id: "4200".into(),
                total_fee: Fen(1234),
                time_end: String::new(),
            }),
            transaction_id: Some("4200".into()),
            bank_type: None,
            cash_fee: None,
            note: None,
        }
    }

    fn kinds(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.name()).collect()
    }

    async fn take(sub: &mut Subscription, n: usize) -> Vec<Event> {
        let mut out = Vec::new();
        while out.len() < n {
            match sub.next().await {
                Some(Delivery::Event(e)) => out.push(e),
                other => panic!("expected an event, got {other:?}"),
            }
        }
        out
    }

    #[tokio::test]
    async fn a_sale_is_started_counted_down_and_ended_with_the_outcome_json() {
        let hub = Hub::default();
        let mut sub = hub.subscribe(None);
        assert_eq!(
            (sub.resume, sub.state.clone()),
            (Resume::Fresh, State::default())
        );
        hub.progress(Some("POS-1"), &submitting("T1"));
        hub.progress(Some("POS-1"), &waiting("T1", 12));
        hub.progress(None, &waiting("T1", 11));
        hub.progress(Some("POS-1"), &Progress::Done(paid("T1")));
        let got = take(&mut sub, 5).await;
        assert_eq!(
            kinds(&got),
            ["started", "progress", "progress", "progress", "final"]
        );
        assert_eq!(
            got.iter().map(|e| e.id).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5],
            "ids increase by one"
        );
        // Every event names the sale, its ref (remembered when a producer does not pass it)
        // and its amount.
        for e in &got {
            assert_eq!(e.pos_ref.as_deref(), Some("POS-1"));
            assert_eq!(e.out_trade_no.as_deref(), Some("T1"));
            assert_eq!(e.total_fee, Some(1234));
        }
        let Kind::Progress {
            step,
            seconds_left,
            message_zh,
            ..
        } = &got[3].kind
        else {
            panic!("{:?}", got[3]);
        };
        assert_eq!((*step, *seconds_left), ("waiting_for_password", Some(11)));
        assert!(message_zh.contains("剩余 11 秒"), "{message_zh}");
        let j = serde_json::to_value(&got[4]).unwrap();
        assert_eq!(j["kind"], "final");
        assert_eq!(j["ref"], "POS-1");
        assert_eq!(j["outcome"]["status"], "paid");
        assert_eq!(j["outcome"]["exit_code"], 0);
        assert!(
            j["outcome"]["message_zh"]
                .as_str()
                .unwrap()
                .contains("支付成功")
        );
        // The state: nothing running, the last sale paid.
        let st = hub.state();
        assert!(st.open.is_empty());
        assert_eq!(st.last.map(|e| e.id), Some(5));
    }

    #[tokio::test]
    async fn last_event_id_resumes_from_the_ring_and_a_too_old_one_says_so() {
        let hub = Hub::default();
        hub.progress(Some("R"), &submitting("T1"));
        hub.progress(Some("R"), &waiting("T1", 9));
        hub.progress(Some("R"), &waiting("T1", 8));
        // started 1, submitting 2, waiting 3 and 4.
        let mut sub = hub.subscribe(Some(1));
        assert_eq!(sub.resume, Resume::Replayed);
        assert_eq!(sub.state.open.last().map(|e| e.id), Some(4));
        hub.progress(Some("R"), &waiting("T1", 7));
        let got = take(&mut sub, 4).await;
        assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 3, 4, 5]);
        // Up to date: nothing to replay.
        assert!(hub.subscribe(Some(5)).backlog.is_empty());
        assert_eq!(hub.subscribe(Some(5)).resume, Resume::Replayed);
        // An id from an earlier run of paycode (beyond the newest).
        assert_eq!(hub.subscribe(Some(99)).resume, Resume::TooOld);
        // An id that fell out of the ring.
        for s in 0..(RECENT as u64 + 10) {
            hub.progress(Some("R"), &waiting("T1", s));
        }
        assert_eq!(hub.subscribe(Some(2)).resume, Resume::TooOld);
        let newest = hub.state().open[0].id;
        let near = hub.subscribe(Some(newest - 3));
        assert_eq!(near.backlog.len(), 3);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged_and_the_publisher_never_waits() {
        let hub = Hub::new(4);
        let mut slow = hub.subscribe(None);
        hub.progress(Some("R"), &submitting("T1"));
        for s in (0..10).rev() {
            hub.progress(Some("R"), &waiting("T1", s));
        }
        // 12 published (started, submitting, 10 waits), 4 held: the slow one hears it missed
        // 8 and where things stand.
        match slow.next().await {
            Some(Delivery::Lagged { missed, state }) => {
                assert_eq!(missed, 8);
                assert_eq!(state.open.last().map(|e| e.id), Some(12));
            }
            other => panic!("{other:?}"),
        }
        let rest = take(&mut slow, 4).await;
        assert_eq!(rest.last().map(|e| e.id), Some(12));
    }

    #[tokio::test]
    async fn a_cancel_names_the_running_sale_of_the_ref() {
        let hub = Hub::default();
        // Asked before the sale had its number.
        let early = hub.cancel_requested("R");
        assert_eq!((early.out_trade_no, early.total_fee), (None, None));
        hub.progress(Some("R"), &submitting("T1"));
        let e = hub.cancel_requested("R");
        assert_eq!(e.kind, Kind::CancelRequested);
        assert_eq!(
            (e.out_trade_no.as_deref(), e.total_fee),
            (Some("T1"), Some(1234))
        );
        // A second producer's sale (no ref) alongside: the state keeps both apart.
        hub.progress(None, &submitting("T2"));
        let st = hub.state();
        assert_eq!(st.open.len(), 2, "{st:?}");
        hub.stopped(
            Some("R"),
            "T1",
            Fen(1234),
            &Words::new("journal write failed", "账本写入失败"),
        );
        let st = hub.state();
        let last = st.last.unwrap();
        let Kind::Final { outcome } = last.kind else {
            panic!()
        };
        assert_eq!(
            (outcome["status"].as_str(), outcome["exit_code"].as_u64()),
            (Some("unresolved"), Some(2))
        );
        assert_eq!(st.open.len(), 1);
    }
}
