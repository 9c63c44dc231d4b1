//! The local API for the store's POS (issue 12): HTTP/JSON served by the process that owns the
//! journal (`paycode serve`, or the cashier screen with `[api] listen`). `contract` is the pure
//! request and reply shape, `job` an order handed to the till's owner, `server` the axum edge,
//! `token` the bearer token required off loopback.

pub mod contract;
pub mod job;
mod server;
pub mod token;

pub use server::{Owner, serve, serve_orders};
