//! The local API for the store's POS (issue 12): HTTP/JSON served by the process that owns the
//! journal (`paycode serve`). `contract` is the pure request and reply shape, `server` the axum
//! edge, `token` the bearer token required off loopback.

pub mod contract;
mod server;
pub mod token;

pub use server::serve;
