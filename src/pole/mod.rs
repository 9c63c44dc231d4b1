//! The legacy POS's customer pole display, stood in for (issue 12 part 3, docs/pole-display.md):
//! a pure `decode`r of what the POS sends (CD5220, ESC/POS, plain lines) into the total shown,
//! and `port`, the reader thread on the serial port or pty that sends [`PoleMsg`]s.

pub mod decode;
pub mod port;
pub mod total;

pub use decode::{CommandSet, Decoder};

use crate::money::Fen;
use crate::scanner::ScannerStatus;
use crate::words::Bilingual;
use std::fmt;

/// What the pole-display reader sends to the cashier screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoleMsg {
    /// The POS showed this total.
    Total(Fen),
    /// The port opened, went away or cannot be opened.
    Status(PortEvent),
}

/// The pole-display port's state. The states are a serial reader's, as the scanner's are;
/// the words are the POS's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortEvent(pub ScannerStatus);

impl PortEvent {
    /// Totals can arrive.
    pub fn is_open(&self) -> bool {
        self.0.is_connected()
    }
}

impl fmt::Display for PortEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let typed = "type the amount meanwhile";
        match &self.0 {
            ScannerStatus::Connected { path } => {
                write!(
                    f,
                    "POS display port {path} open: the POS's totals fill the amount"
                )
            }
            ScannerStatus::Disconnected { reason } => {
                write!(f, "POS display port gone ({reason}); reconnecting, {typed}")
            }
            ScannerStatus::NotFound { wanted } => write!(
                f,
                "POS display port {wanted} not found: check the cable and [pos_display] port; {typed}"
            ),
            ScannerStatus::PermissionDenied { path } => write!(
                f,
                "permission denied opening the POS display port {path}: {}",
                ScannerStatus::permission_fix(crate::scanner::status::NodeKind::Tty)
            ),
            ScannerStatus::Busy { path } => write!(
                f,
                "POS display port {path} is in use by another program: close it; {typed}"
            ),
            ScannerStatus::Failed { path, message } => {
                write!(
                    f,
                    "opening the POS display port {path} failed: {message}; {typed}"
                )
            }
        }
    }
}

impl Bilingual for PortEvent {
    fn zh(&self) -> String {
        let typed = "可先手动输入金额";
        match &self.0 {
            ScannerStatus::Connected { path } => {
                format!("收银机客显口 {path} 已连接:收银机的金额会自动填入")
            }
            ScannerStatus::Disconnected { reason } => {
                format!("收银机客显口已断开({reason}),正在重连;{typed}")
            }
            ScannerStatus::NotFound { wanted } => {
                format!("未找到收银机客显口 {wanted}:检查连线和 [pos_display] port;{typed}")
            }
            ScannerStatus::PermissionDenied { path } => format!(
                "无权打开收银机客显口 {path}:{}",
                ScannerStatus::permission_fix_zh(crate::scanner::status::NodeKind::Tty)
            ),
            ScannerStatus::Busy { path } => {
                format!("收银机客显口 {path} 被其他程序占用:请关闭它;{typed}")
            }
            ScannerStatus::Failed { path, message } => {
                format!("打开收银机客显口 {path} 失败:{message};{typed}")
            }
        }
    }
}
