//! The shift panel over the history screen (S) and the handover question when the cashier
//! quits: the report since the last handover, what needs doing first, and the handover itself.

use super::{Cmd, Key, Notice, NoticeText, TillCmd, Words};
use crate::shift::report::Report;
use crate::tui::i18n::T;

/// The shift panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShiftPanel {
    /// Reading the journal.
    Loading,
    /// The report; `confirm` while "hand over now?" is asked.
    Shown { report: Report, confirm: bool },
    /// The handover is being recorded.
    Closing,
    /// Why it could not be read or closed.
    Failed(Words),
}

/// Shift state: the panel and the question asked on quitting.
#[derive(Debug, Clone, Default)]
pub struct ShiftView {
    pub panel: Option<ShiftPanel>,
    /// Lines the panel is scrolled down by.
    pub scroll: u16,
    /// "Hand over before leaving?" is on screen.
    pub quit_question: bool,
    /// The handover under way was asked for on quitting: quit once it is recorded.
    quit_after: bool,
}

impl ShiftView {
    /// Open the panel and ask for the report.
    pub(super) fn open(&mut self, out: &mut Vec<Cmd>) {
        self.panel = Some(ShiftPanel::Loading);
        self.scroll = 0;
        out.push(Cmd::Till(TillCmd::LoadShift));
    }

    /// A key while the panel is open; false when the panel is closed (the key was not its own).
    pub(super) fn key(&mut self, k: Key, out: &mut Vec<Cmd>) -> bool {
        let Some(panel) = &mut self.panel else {
            return false;
        };
        match (panel, k) {
            (ShiftPanel::Shown { confirm, .. }, Key::Enter) if *confirm => {
                self.panel = Some(ShiftPanel::Closing);
                out.push(Cmd::Till(TillCmd::CloseShift));
            }
            (ShiftPanel::Shown { confirm, .. }, Key::Esc) if *confirm => *confirm = false,
            (ShiftPanel::Shown { confirm, report }, Key::Char('c' | 'C'))
                if report.closed_id.is_none() =>
            {
                *confirm = true
            }
            (ShiftPanel::Closing, _) => {}
            (_, Key::Esc) => {
                self.panel = None;
                self.scroll = 0;
            }
            (_, Key::Up) => self.scroll = self.scroll.saturating_sub(1),
            (_, Key::Down) => self.scroll = self.scroll.saturating_add(1).min(200),
            _ => {}
        }
        true
    }

    /// Quit asked: put the question. A second quit key while it is asked leaves at once.
    pub(super) fn ask_on_quit(&mut self, out: &mut Vec<Cmd>) {
        if self.quit_question {
            self.quit_question = false;
            out.push(Cmd::Quit);
        } else {
            self.quit_question = true;
        }
    }

    /// A key while the quit question is asked: Enter hands over then quits, Q quits, Esc stays.
    pub(super) fn quit_key(&mut self, k: Key, out: &mut Vec<Cmd>) {
        match k {
            Key::Enter => {
                self.quit_question = false;
                self.quit_after = true;
                self.panel = Some(ShiftPanel::Closing);
                out.push(Cmd::Till(TillCmd::CloseShift));
            }
            Key::Char('q' | 'Q') => {
                self.quit_question = false;
                out.push(Cmd::Quit);
            }
            Key::Esc => self.quit_question = false,
            _ => {}
        }
    }

    /// The report, or the handover, answered.
    pub(super) fn answered(
        &mut self,
        r: Result<Report, Words>,
        out: &mut Vec<Cmd>,
    ) -> Option<Notice> {
        let quit = std::mem::take(&mut self.quit_after);
        match r {
            Ok(report) => {
                let closed = report.closed_id;
                self.panel = Some(ShiftPanel::Shown {
                    report,
                    confirm: false,
                });
                let id = closed?;
                if quit {
                    out.push(Cmd::Quit);
                }
                Some(Notice::info(NoticeText::Tf(
                    T::ShiftHandedOver,
                    vec![id.to_string()],
                )))
            }
            Err(why) => {
                self.panel = Some(ShiftPanel::Failed(why.clone()));
                Some(Notice::error(NoticeText::Failed(T::ShiftFailed, why)))
            }
        }
    }
}
