//! The sale: the pure flow (submit → poll → reverse → final), the runner that drives it against
//! the journal and the WeChat Pay client, and start-up recovery of unfinished sales.
pub mod flow; // pure sale state machine: takes `now`, returns the next step
