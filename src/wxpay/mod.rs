//! The WeChat Pay v2 protocol (../shared/PROTOCOL.md): no UI, no journal.
pub mod api; // typed requests and verified replies per endpoint; err_code → class
pub mod client; // the only module that knows reqwest: pooled keep-alive, mTLS, failover
pub mod endpoint; // the six v2 endpoints: paths, names, which need mTLS or may fail over
pub mod sign; // MD5 / HMAC-SHA256 signatures, constant-time verify
pub mod xml; // flat <xml> encode/decode with hostile-input limits
