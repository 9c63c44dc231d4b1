//! The sale: the pure flow (submit → poll → reverse → final), the runner that drives it against
//! the journal and the WeChat Pay client, and start-up recovery of unfinished sales.
pub mod adapter; // verified api replies → flow::Reply (pure)
pub mod answers; // each till command's JSON answer and exit status (CLI --json and the local API)
pub mod fingerprint; // keyed hash of a payment code for the journal (never the code itself)
pub mod flow; // pure sale state machine: takes `now`, returns the next step
pub mod handover; // the shift on a running till: its report, the handover that closes it
pub mod health; // one probe for `check` and diagnostics: reachability, key, clock skew, certificate
pub mod link; // the connection to WeChat: identity, client, spbill ip, in-process simulator
pub mod messages; // cashier texts for outcomes and progress, zh-CN and English
pub mod order_no; // out_trade_no: device id + strictly increasing Beijing-time stamp
pub mod pos_ref; // the POS's order id (`pay --ref`): at most one charged sale per ref (pure)
pub mod progress; // Progress events and the Outcome of a sale
pub mod reasons; // why a sale was not charged and what to do, by err_code (CLI and TUI)
pub mod reconcile; // end-of-day: the journal against WeChat's statement (pure)
pub mod recovery; // resume unfinished sales at start-up; the pending list and its retries
pub mod refund; // refunds: number committed first, reused on retry, followed to the end
mod refunds_at_wechat; // a sale's refunds as WeChat holds them, before a new number
pub mod runner; // drives one sale: guards, intent, poll → journal → send → on_reply
pub mod settle; // query or reverse one sale by hand
pub mod statement; // fetch WeChat's statement of a day (downloadbill) for reconcile
pub mod till; // everything a sale needs, built from the config

pub use progress::{Outcome, Progress, Status};
pub use recovery::{
    Recovered, RetrySchedule, close_failures, failures_to_close, pending, recover, retry_pending,
};
pub use runner::{
    CancelToken, Charged, RefSale, SaleError, run_sale, run_sale_cancellable, run_sale_for_ref,
    run_sale_for_ref_cancellable,
};
pub use till::{Till, TillError};
