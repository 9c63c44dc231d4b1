//! The receipt printer's IO edge: the connection (`port`: USB lp device, serial, raw TCP, each
//! with the `[printer] timeout`), the status query, and the print queue in the journal
//! (`queue`): slips are queued after their sale or refund is committed, rendered from the
//! journal and sent when the printer answers. A printer failure never blocks or loses a sale:
//! the slip stays queued and prints with the next one, on the cashier screen's timer, or with
//! `paycode receipt --flush` / `paycode recover`. `spooler` runs the queue on a thread of its
//! own for the cashier screen.

mod port;
pub mod queue;
pub mod spooler;

pub use queue::{Drained, after_commit, drain, print_slip, probe, render};
pub use spooler::Spooler;

use crate::receipt::PrinterState;
use crate::words::{Bilingual, Words};
use std::fmt;

/// Why a slip did not print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintError {
    /// The connection could not be opened (unplugged, refused, no permission, timed out).
    Unreachable { printer: String, why: String },
    /// Writing the slip failed or timed out.
    Write { printer: String, why: String },
    /// The printer answered but cannot print now.
    NotReady(PrinterState),
}

impl fmt::Display for PrintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable { printer, why } => {
                write!(f, "printer unreachable ({printer}): {why}")
            }
            Self::Write { printer, why } => write!(f, "printing failed ({printer}): {why}"),
            Self::NotReady(s) => write!(f, "{s}"),
        }
    }
}

impl Bilingual for PrintError {
    fn zh(&self) -> String {
        match self {
            Self::Unreachable { printer, why } => format!("无法连接打印机({printer}):{why}"),
            Self::Write { printer, why } => format!("打印失败({printer}):{why}"),
            Self::NotReady(s) => s.zh(),
        }
    }
}

impl PrintError {
    /// A few words for the status line.
    pub fn short(&self) -> Words {
        match self {
            Self::Unreachable { .. } => Words::new("printer unreachable", "打印机未连接"),
            Self::Write { .. } => Words::new("printing failed", "打印失败"),
            Self::NotReady(s) => s.short(),
        }
    }

    /// The words with what happens to the slip.
    pub fn queued_words(&self) -> Words {
        Words::new(
            format!(
                "receipt queued, not printed: {self}; it prints when the printer is back (or `paycode receipt --flush`)"
            ),
            format!(
                "小票已排队,未打印:{};打印机恢复后自动打印(或运行 `paycode receipt --flush`)",
                self.zh()
            ),
        )
    }
}
