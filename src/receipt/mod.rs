//! Receipts for an ESC/POS thermal printer, as pure functions: the slip a sale, a refund, a
//! reversal or an unresolved ending gets (`build`), its layout in 32 or 48 columns (`layout`),
//! the printer's bytes (`escpos`), a plain-text preview (`preview`) and the printer's status
//! replies (`status`). No IO and no clock: the printing time is a parameter. The IO edge is
//! `crate::printer`.

pub mod build;
pub mod escpos;
pub mod layout;
pub mod preview;
pub mod slip;
pub mod status;
pub mod text;

pub use build::{Header, NotPrintable};
pub use layout::{Encoding, Format, SlipLanguage, Width};
pub use slip::{Align, Item, Slip};
pub use status::PrinterState;
