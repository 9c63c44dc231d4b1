//! Connection states of a scanner reader, worded for the installer with the fix included.

use super::Source;
use crate::words::Bilingual;
use std::fmt;
use std::io;
use std::time::Instant;

/// A reader's connection state; sent only when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerStatus {
    /// The device is open and being read.
    Connected { path: String },
    /// The device went away (unplugged, EOF, I/O error); the reader keeps retrying.
    Disconnected { reason: String },
    /// No device matches the configuration (not plugged in, wrong path or VID:PID).
    NotFound { wanted: String },
    /// The device exists but this user may not open it.
    PermissionDenied { path: String },
    /// Another program holds the device open exclusively.
    Busy { path: String },
    /// Any other failure opening the device.
    Failed { path: String, message: String },
}

/// Which kind of device node a fix should name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// ttyACM / ttyUSB / ttyS: group `dialout`.
    Tty,
    /// hidraw: no default group, needs the udev rule.
    Hidraw,
}

impl ScannerStatus {
    /// Classify an error from opening `path` (pure, so the mapping is testable as root).
    pub fn from_open_error(kind: io::ErrorKind, path: &str, message: &str) -> ScannerStatus {
        match kind {
            io::ErrorKind::PermissionDenied => {
                ScannerStatus::PermissionDenied { path: path.into() }
            }
            io::ErrorKind::NotFound => ScannerStatus::NotFound {
                wanted: path.into(),
            },
            io::ErrorKind::ResourceBusy | io::ErrorKind::WouldBlock => {
                ScannerStatus::Busy { path: path.into() }
            }
            _ if message.contains("exclusive lock") || message.contains("busy") => {
                ScannerStatus::Busy { path: path.into() }
            }
            _ => ScannerStatus::Failed {
                path: path.into(),
                message: message.into(),
            },
        }
    }

    /// The fix for a permission problem on this kind of node, in English.
    pub fn permission_fix(node: NodeKind) -> &'static str {
        match node {
            NodeKind::Tty => {
                "add the cashier user to group dialout (sudo usermod -aG dialout USER, then log in \
                 again) or install udev/70-paycode-scanner.rules (see udev/README.md)"
            }
            NodeKind::Hidraw => {
                "hidraw nodes are root-only by default: install udev/70-paycode-scanner.rules with \
                 your scanner's VID:PID and add the user to group plugdev (see udev/README.md)"
            }
        }
    }

    /// The permission fix in Simplified Chinese.
    pub fn permission_fix_zh(node: NodeKind) -> &'static str {
        match node {
            NodeKind::Tty => {
                "把收银账户加入 dialout 组(sudo usermod -aG dialout 用户名,重新登录生效),\
                 或安装 udev/70-paycode-scanner.rules(见 udev/README.md)"
            }
            NodeKind::Hidraw => {
                "hidraw 设备默认只有 root 可读:按扫码枪的 VID:PID 安装 \
                 udev/70-paycode-scanner.rules 并把用户加入 plugdev 组(见 udev/README.md)"
            }
        }
    }

    /// Whether scans can arrive in this state.
    pub fn is_connected(&self) -> bool {
        matches!(self, ScannerStatus::Connected { .. })
    }
}

/// A status change of one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// Which reader.
    pub source: Source,
    /// Node kind, to word the permission fix.
    pub node: NodeKind,
    /// The new state.
    pub status: ScannerStatus,
    /// When it changed.
    pub at: Instant,
}

impl Bilingual for StatusEvent {
    fn zh(&self) -> String {
        let src = self.source.zh();
        match &self.status {
            ScannerStatus::Connected { path } => format!("扫码枪已连接({src},{path})"),
            ScannerStatus::Disconnected { reason } => {
                format!("扫码枪已断开({src}:{reason});正在重连,可先用键盘输入")
            }
            ScannerStatus::NotFound { wanted } => {
                format!("未找到扫码枪({src},{wanted}):检查 USB 线和配置;仍可用键盘输入")
            }
            ScannerStatus::PermissionDenied { path } => format!(
                "无权打开扫码枪 {path}:{}",
                ScannerStatus::permission_fix_zh(self.node)
            ),
            ScannerStatus::Busy { path } => {
                format!("扫码枪 {path} 被其他程序占用:关闭其他 paycode 或串口工具")
            }
            ScannerStatus::Failed { path, message } => format!("打开扫码枪 {path} 失败:{message}"),
        }
    }
}

impl fmt::Display for StatusEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let src = self.source;
        match &self.status {
            ScannerStatus::Connected { path } => write!(f, "scanner connected ({src}, {path})"),
            ScannerStatus::Disconnected { reason } => write!(
                f,
                "scanner disconnected ({src}: {reason}); reconnecting, keyboard entry still works"
            ),
            ScannerStatus::NotFound { wanted } => write!(
                f,
                "scanner not found ({src}, {wanted}): check the USB cable and [scanner] config; \
                 keyboard entry still works"
            ),
            ScannerStatus::PermissionDenied { path } => write!(
                f,
                "permission denied opening scanner {path}: {}",
                ScannerStatus::permission_fix(self.node)
            ),
            ScannerStatus::Busy { path } => write!(
                f,
                "scanner {path} is in use by another program: close the other paycode or serial \
                 terminal"
            ),
            ScannerStatus::Failed { path, message } => {
                write!(f, "opening scanner {path} failed: {message}")
            }
        }
    }
}
