//! paycode — a terminal cashier for WeChat Pay payment codes (付款码, micropay).
//!
//! Module map (see ARCHITECTURE.md for the data flow):
#[macro_use]
mod say; // outln!/errln!: printing that survives a closed pipe
pub mod api; // the local API for the store's POS: pure contract, axum edge, bearer token
pub mod authcode; // AuthCode newtype: 18 digits, prefix 10–15, masked Display, wallet detection
pub mod beijing; // WeChat's business day: UTC+8, a day's bounds
pub mod checkout; // the sale: pure flow, runner, recovery
pub mod cli; // clap command tree and dispatch
pub mod config; // config.toml schema, validation, secrets from env/file
pub mod duration; // "5s" / "300ms" durations in config files
pub mod journal; // SQLite write-ahead journal: sales, events, refunds, history
pub mod logging; // tracing to a daily file in the data directory
pub mod manager; // the manager PIN that authorises refunds: read, checked, wrong ones counted
pub mod money; // Fen(u64): parse and format yuan amounts without floats
pub mod office; // the head office: outbox shipping to PostgreSQL, chain reports, merchant reconcile
pub mod pole; // the POS's customer pole display: pure decoder of CD5220/ESC/POS/lines, port reader
pub mod printer; // the receipt printer's IO edge: transports, status, the print queue
pub mod receipt; // receipts as pure functions: slips, layout, ESC/POS bytes, preview, status
pub mod scanner; // scan-gun input: one pure decoder fed by serial, HID and keyboard wedge
pub mod shift; // the shift: report from one handover to the next, closing it (pure report core)
pub mod simulator; // local WeChat Pay v2 server for demos, training and tests
pub mod tui; // the cashier terminal UI: pure app state, views, i18n, runtime loop
pub mod untrusted; // outside text made safe to keep and show: no escapes, masked codes, capped
pub mod words; // Language, Words (one text in zh-CN and English), the Bilingual trait
pub mod wxpay; // WeChat Pay v2 protocol: sign, xml, typed api, http client
