//! Scan-gun input: every source (serial, USB HID, keyboard wedge) feeds one pure [`Decoder`]
//! that yields [`ScanEvent`]s; reader threads add [`StatusEvent`]s and send both as
//! [`ScannerMsg`] on a std mpsc channel that the runtime merges with terminal events.

pub mod config;
pub mod decoder;
pub mod hid;
pub mod hid_report;
pub mod keyboard;
pub mod list;
pub mod reader;
pub mod receipt;
pub mod scan_test;
pub mod serial;
pub mod status;

pub use config::ScannerConfig;
pub use decoder::{DecodeSettings, Decoder};
pub use keyboard::{KeyDecision, Wedge, WedgeKey};
pub use reader::ReaderHandle;
pub use status::{ScannerStatus, StatusEvent};

use crate::authcode::{AuthCode, AuthCodeError};
use std::fmt;
use std::time::Instant;

/// Where a scan came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A serial port or USB virtual COM port (CDC-ACM, USB-serial bridge, RS-232).
    Serial,
    /// A keyboard-mode scanner read through hidraw (boot-keyboard reports).
    HidKeyboard,
    /// A HID-POS scanner (usage page 0x8C) read through hidraw.
    HidPos,
    /// Keystrokes typed into the terminal by a keyboard-wedge scanner.
    Wedge,
}

impl Source {
    /// The source name in Simplified Chinese.
    pub fn zh(&self) -> &'static str {
        match self {
            Self::Serial => "串口",
            Self::HidKeyboard => "USB 键盘 (hidraw)",
            Self::HidPos => "USB HID-POS",
            Self::Wedge => "键盘输入",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Serial => "serial",
            Self::HidKeyboard => "USB keyboard (hidraw)",
            Self::HidPos => "USB HID-POS",
            Self::Wedge => "keyboard wedge",
        })
    }
}

/// A scan that is not a WeChat payment code: the reason and how many characters arrived.
/// Carries no scanned text, so it is safe to log and show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    /// Why the scan was refused (its `Display`/`zh()` is the cashier-facing text).
    pub reason: AuthCodeError,
    /// Characters in the frame after stripping prefix, suffix and terminator.
    pub raw_len: usize,
    /// The frame is a paycode receipt's order number (`receipt::order_no`): the refund screen
    /// selects that sale; everywhere else it is refused like any other non-code.
    pub order_no: Option<String>,
}

/// One completed scan (a frame ended by a terminator or an idle gap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEvent {
    /// The validated code, or why it is not one.
    pub result: Result<AuthCode, ScanError>,
    /// Which kind of input produced it.
    pub source: Source,
    /// When the first character of the frame arrived.
    pub started: Instant,
    /// When the frame was completed (terminator received or idle gap passed).
    pub at: Instant,
}

/// What a reader thread sends to the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerMsg {
    /// A completed scan.
    Scan(ScanEvent),
    /// The reader's connection state changed.
    Status(StatusEvent),
}
