//! The WeChat Pay v2 protocol (docs/protocol.md): no UI, no journal.
pub mod api; // typed requests and verified replies per endpoint; err_code → class
pub mod call; // the one typed call: nonce, sign, post to the request's endpoint, verify
pub mod client; // the only module that knows reqwest: pooled keep-alive, mTLS, failover
pub mod endpoint; // the six v2 endpoints: paths, names, which need mTLS or may fail over
pub mod sign; // MD5 / HMAC-SHA256 signatures, constant-time verify
pub mod xml; // flat <xml> encode/decode with hostile-input limits
