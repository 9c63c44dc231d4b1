//! The office's refusals of a till, raised by `paycode.register` as `paycode:<kind>:<detail>`
//! and put in words here, in both languages. Pure.

use crate::words::Bilingual;

/// Why the office would not take this till's journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The login role is no till's (`office add-till` was not run for it).
    NotATill(String),
    /// Another till is registered under this `device_info`.
    DeviceTaken(String),
    /// This role belongs to one till; the config says another `device_info`.
    DeviceMismatch {
        registered: String,
        configured: String,
    },
    /// This till's role already ships another journal: a copied config (or journal) on a
    /// second machine.
    JournalMismatch(String),
    /// This journal is already shipped by another till (a copied journal file).
    JournalTaken(String),
}

impl Refusal {
    /// A refusal from the office's error message, if it is one.
    pub fn parse(message: &str) -> Option<Self> {
        let rest = message.strip_prefix("paycode:")?;
        let mut parts = rest.splitn(3, ':');
        let kind = parts.next()?;
        let a = parts.next().unwrap_or("").to_string();
        let b = parts.next().unwrap_or("").to_string();
        let shown = |s: String| crate::untrusted::shown(&s, 64);
        Some(match kind {
            "not_a_till" => Self::NotATill(shown(a)),
            "device_taken" => Self::DeviceTaken(shown(a)),
            "device_mismatch" => Self::DeviceMismatch {
                registered: shown(a),
                configured: shown(b),
            },
            "journal_mismatch" => Self::JournalMismatch(shown(a)),
            "journal_taken" => Self::JournalTaken(shown(a)),
            _ => return None,
        })
    }

    /// Stable name for JSON.
    pub fn key(&self) -> &'static str {
        match self {
            Self::NotATill(_) => "not_a_till",
            Self::DeviceTaken(_) => "device_taken",
            Self::DeviceMismatch { .. } => "device_mismatch",
            Self::JournalMismatch(_) => "journal_mismatch",
            Self::JournalTaken(_) => "journal_taken",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotATill(role) => write!(
                f,
                "the office refused the journal: the role {role} is no till's — at the office run `paycode office add-till`, and put what it prints in this till's [office]"
            ),
            Self::DeviceTaken(d) => write!(
                f,
                "the office refused the journal: another till is registered as device_info {d} — give every till its own [merchant] device_info and its own office role (`paycode office add-till`)"
            ),
            Self::DeviceMismatch {
                registered,
                configured,
            } => write!(
                f,
                "the office refused the journal: this office role belongs to till {registered}, but [merchant] device_info is {configured} — use the [office] lines made for this till"
            ),
            Self::JournalMismatch(t) => write!(
                f,
                "the office refused the journal: till {t} already ships another journal — this config was copied from another till; sales here go on, but give this machine its own device_info and office role (`paycode office add-till`)"
            ),
            Self::JournalTaken(t) => write!(
                f,
                "the office refused the journal: till {t} already ships this journal — the journal file was copied from another till; give this machine a journal of its own"
            ),
        }
    }
}

impl Bilingual for Refusal {
    fn zh(&self) -> String {
        match self {
            Self::NotATill(role) => format!(
                "总部拒收账本:角色 {role} 不属于任何收银台 — 请在总部运行 `paycode office add-till`,并把输出写入本机的 [office]"
            ),
            Self::DeviceTaken(d) => format!(
                "总部拒收账本:已有另一台收银台登记为 device_info {d} — 请为每台收银台设置不同的 [merchant] device_info 和各自的总部角色(`paycode office add-till`)"
            ),
            Self::DeviceMismatch {
                registered,
                configured,
            } => format!(
                "总部拒收账本:该总部角色属于收银台 {registered},但 [merchant] device_info 为 {configured} — 请使用为本收银台生成的 [office] 设置"
            ),
            Self::JournalMismatch(t) => format!(
                "总部拒收账本:收银台 {t} 已在上传另一份账本 — 本配置是从另一台收银台复制的;本机照常收款,但请为本机设置自己的 device_info 和总部角色(`paycode office add-till`)"
            ),
            Self::JournalTaken(t) => format!(
                "总部拒收账本:收银台 {t} 已在上传这份账本 — 账本文件是从另一台收银台复制的;请为本机使用自己的账本"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_read_and_told_in_both_languages() {
        let r = Refusal::parse("paycode:journal_mismatch:POS01").unwrap();
        assert_eq!(r, Refusal::JournalMismatch("POS01".into()));
        assert!(r.to_string().contains("copied"));
        assert!(r.zh().contains("复制"));
        let m = Refusal::parse("paycode:device_mismatch:A:B").unwrap();
        assert_eq!(
            m,
            Refusal::DeviceMismatch {
                registered: "A".into(),
                configured: "B".into()
            }
        );
        assert_eq!(Refusal::parse("duplicate key value"), None);
        assert_eq!(Refusal::parse("paycode:other:x"), None);
    }
}
