//! The printer's answers to DLE EOT 1, 2 and 4 turned into one state. Every reply byte has bits
//! 1 and 4 on and bits 0 and 7 off; a byte without that shape is not a status reply.

use crate::words::{Bilingual, Words};
use std::fmt;

/// Why a printer is offline, from DLE EOT 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineCause {
    /// Paper is being fed with the FEED button.
    Feeding,
    /// An error (cutter jam, head too hot …).
    Error,
    /// Offline for a reason it did not say.
    Unknown,
}

/// What the printer said about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterState {
    Online,
    Offline(OfflineCause),
    PaperOut,
    PaperNearEnd,
    CoverOpen,
    /// No status reply (a USB lp device often sends none): printing is still tried.
    NoReply,
}

/// A reply byte, if it has the fixed bits of one.
fn valid(b: Option<u8>) -> Option<u8> {
    b.filter(|b| b & 0x93 == 0x12)
}

impl PrinterState {
    /// The state from the replies to DLE EOT 1 (`printer`), 2 (`offline`) and 4 (`paper`).
    pub fn from_replies(printer: Option<u8>, offline: Option<u8>, paper: Option<u8>) -> Self {
        let Some(p) = valid(printer) else {
            return Self::NoReply;
        };
        let paper = valid(paper);
        if paper.is_some_and(|b| b & 0x60 == 0x60) {
            return Self::PaperOut;
        }
        if p & 0x08 != 0 {
            let cause = valid(offline);
            return match cause {
                Some(c) if c & 0x04 != 0 => Self::CoverOpen,
                Some(c) if c & 0x20 != 0 => Self::PaperOut,
                Some(c) if c & 0x40 != 0 => Self::Offline(OfflineCause::Error),
                Some(c) if c & 0x08 != 0 => Self::Offline(OfflineCause::Feeding),
                _ => Self::Offline(OfflineCause::Unknown),
            };
        }
        if paper.is_some_and(|b| b & 0x0C == 0x0C) {
            return Self::PaperNearEnd;
        }
        Self::Online
    }

    /// Slips can go out now (a printer that does not answer is tried anyway).
    pub fn can_print(self) -> bool {
        matches!(self, Self::Online | Self::PaperNearEnd | Self::NoReply)
    }

    /// A few words for the status line.
    pub fn short(self) -> Words {
        let (en, zh) = match self {
            Self::Online => ("printer online", "打印机在线"),
            Self::Offline(_) => ("printer offline", "打印机离线"),
            Self::PaperOut => ("printer: paper out", "打印机缺纸"),
            Self::PaperNearEnd => ("printer: paper low", "打印纸将尽"),
            Self::CoverOpen => ("printer: cover open", "打印机盖未合"),
            Self::NoReply => ("printer: no status", "打印机无状态"),
        };
        Words::new(en, zh)
    }

    /// A short name for JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline(_) => "offline",
            Self::PaperOut => "paper_out",
            Self::PaperNearEnd => "paper_near_end",
            Self::CoverOpen => "cover_open",
            Self::NoReply => "no_reply",
        }
    }
}

impl fmt::Display for PrinterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Online => "printer online",
            Self::Offline(OfflineCause::Feeding) => "printer offline: paper is being fed",
            Self::Offline(OfflineCause::Error) => {
                "printer offline: printer error (cutter or head); switch it off and on"
            }
            Self::Offline(OfflineCause::Unknown) => "printer offline",
            Self::PaperOut => "printer out of paper: load a new roll",
            Self::PaperNearEnd => "printer paper nearly out: have a roll ready",
            Self::CoverOpen => "printer cover open: close it",
            Self::NoReply => "printer gives no status (printing is tried anyway)",
        })
    }
}

impl Bilingual for PrinterState {
    fn zh(&self) -> String {
        match self {
            Self::Online => "打印机在线",
            Self::Offline(OfflineCause::Feeding) => "打印机离线:正在走纸",
            Self::Offline(OfflineCause::Error) => "打印机离线:打印机故障(切刀或打印头),请关机重启",
            Self::Offline(OfflineCause::Unknown) => "打印机离线",
            Self::PaperOut => "打印机缺纸:请装入新纸卷",
            Self::PaperNearEnd => "打印纸将尽:请备好纸卷",
            Self::CoverOpen => "打印机盖未合上:请合上",
            Self::NoReply => "打印机未回复状态(仍尝试打印)",
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_become_states() {
        let s = PrinterState::from_replies;
        assert_eq!(s(Some(0x12), Some(0x12), Some(0x12)), PrinterState::Online);
        assert_eq!(s(None, None, None), PrinterState::NoReply);
        // Garbage is not a reply.
        assert_eq!(s(Some(0xFF), None, None), PrinterState::NoReply);
        assert_eq!(
            s(Some(0x12), Some(0x12), Some(0x7E)),
            PrinterState::PaperOut
        );
        assert_eq!(s(Some(0x12), None, Some(0x1E)), PrinterState::PaperNearEnd);
        assert_eq!(
            s(Some(0x1A), Some(0x16), Some(0x12)),
            PrinterState::CoverOpen
        );
        assert_eq!(
            s(Some(0x1A), Some(0x32), Some(0x12)),
            PrinterState::PaperOut
        );
        assert_eq!(
            s(Some(0x1A), Some(0x52), Some(0x12)),
            PrinterState::Offline(OfflineCause::Error)
        );
        assert_eq!(
            s(Some(0x1A), None, None),
            PrinterState::Offline(OfflineCause::Unknown)
        );
        assert!(PrinterState::NoReply.can_print() && !PrinterState::PaperOut.can_print());
        assert!(PrinterState::CoverOpen.zh().contains("盖"));
    }
}
