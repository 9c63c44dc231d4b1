//! The cashier terminal UI: pure state (`app`), drawing (`view`), words (`i18n`), and the one
//! runtime loop (`runtime`, with the till task in `worker`) that performs effects.

pub mod app;
pub mod export;
pub mod i18n;
pub mod runtime;
pub mod terminal;
pub mod view;
pub mod worker;

pub use runtime::run;
