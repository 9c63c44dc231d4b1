//! The cashier terminal UI: pure state (`app`), drawing (`view`), words (`i18n`), and the one
//! runtime loop (`runtime`, with the till task in `worker` and the POS API in `serving`) that
//! performs effects. The screen's
//! bootstrap (terminal check, config, logging, the till) is the composition root's: `cli::cashier`.

pub mod app;
pub mod i18n;
pub mod prefs;
pub mod runtime;
pub mod serving;
pub mod terminal;
pub mod view;
pub mod worker;

pub use runtime::event_loop;
