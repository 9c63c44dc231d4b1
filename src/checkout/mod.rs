//! The sale: the pure flow (submit → poll → reverse → final), the runner that drives it against
//! the journal and the WeChat Pay client, and start-up recovery of unfinished sales.
pub mod adapter;
pub mod fingerprint; // keyed hash of a payment code for the journal (never the code itself)
pub mod flow; // pure sale state machine: takes `now`, returns the next step
pub mod order_no; // out_trade_no: device id + strictly increasing Beijing-time stamp // verified api replies → flow::Reply (pure)
