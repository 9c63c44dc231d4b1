//! The cashier terminal UI: pure state (`app`), drawing (`view`), words (`i18n`), and the one
//! runtime loop that performs effects.

pub mod app;
pub mod i18n;
pub mod view;
