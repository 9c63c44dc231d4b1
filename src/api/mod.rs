//! The local API for the store's POS (issue 12): HTTP/JSON served by the process that owns the
//! journal (`paycode serve`, or the cashier screen with `[api] listen`). `contract` is the pure
//! request and reply shape, `job` an order handed to the till's owner, `admin` the other till commands (refunds, and
//! `query|recover|reconcile` handed over by a second paycode), `origin` which browser pages may call (CORS), `events` the hub any
//! task publishes sales' progress into, `server` the axum edge, `sse` the event stream and the
//! customer display page, `token` the bearer token required off loopback, `socket` the Unix
//! socket option.

pub mod admin;
pub mod contract;
pub mod events;
pub mod job;
pub mod origin;
mod server;
pub mod socket;
mod sse;
pub mod token;

pub use events::Hub;
pub use server::{Channels, Listeners, Owner, Peer, serve, serve_orders};
