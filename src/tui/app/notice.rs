//! The one-line message under the body; stored as a key so a language switch re-words it.

use crate::authcode::AuthCodeError;
use crate::config::Language;
use crate::money::MoneyError;
use crate::scanner::StatusEvent;
use crate::tui::i18n::{T, tr, trf};
use crate::words::Bilingual;

/// How the notice is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// The words of a notice, kept language-neutral until drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeText {
    /// A fixed text.
    T(T),
    /// A text with placeholders filled.
    Tf(T, Vec<String>),
    /// A refused amount.
    Money(MoneyError),
    /// A refused payment code (names the wallet it belongs to).
    Code(AuthCodeError),
    /// A scanner status change.
    Scanner(StatusEvent),
    /// A message from outside the app, in both languages.
    Words(super::Words),
    /// A text with one placeholder filled by an outside message (e.g. "Export failed: {0}").
    Failed(T, super::Words),
}

impl NoticeText {
    /// The words in `lang`.
    pub fn render(&self, lang: Language) -> String {
        match (self, lang) {
            (Self::T(t), _) => tr(lang, *t).to_string(),
            (Self::Tf(t, args), _) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                trf(lang, *t, &args)
            }
            (Self::Money(e), Language::En) => e.to_string(),
            (Self::Money(e), Language::Zh) => e.zh(),
            (Self::Code(e), Language::En) => e.to_string(),
            (Self::Code(e), Language::Zh) => e.zh(),
            (Self::Scanner(e), Language::En) => e.to_string(),
            (Self::Scanner(e), Language::Zh) => e.zh(),
            (Self::Words(w), _) => w.get(lang).to_string(),
            (Self::Failed(t, w), _) => trf(lang, *t, &[w.get(lang)]),
        }
    }
}

/// A message for the cashier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: NoticeText,
    pub level: Level,
}

impl Notice {
    /// An informational notice.
    pub fn info(text: NoticeText) -> Notice {
        Notice {
            text,
            level: Level::Info,
        }
    }

    /// Something the cashier should look at.
    pub fn warn(text: NoticeText) -> Notice {
        Notice {
            text,
            level: Level::Warn,
        }
    }

    /// Input refused or an operation failed.
    pub fn error(text: NoticeText) -> Notice {
        Notice {
            text,
            level: Level::Error,
        }
    }
}
