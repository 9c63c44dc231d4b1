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
    /// `register` called with no journal id, or one not made by a journal (by hand).
    BadJournal(String),
    /// The till presents another merchant number than the one it registered under.
    MchMismatch {
        till: String,
        registered: String,
        configured: String,
    },
    /// `office add-till` of a till the office has (`till`, maybe in other letter case).
    TillExists {
        asked: String,
        till: String,
        store: String,
    },
    /// A journal row no till writes (the office's check on every row): a hand-edited journal,
    /// or rows forged with the till's password.
    BadRow { seq: String, field: String },
    /// The till was released at the office (`office release-till`) while it shipped, twice
    /// in one round.
    Released(String),
    /// The office's last row of this till is not this journal's row at that seq: the journal
    /// went back (restored from a backup) or sells on two machines. Found by the shipper.
    JournalBehind {
        till: String,
        office_seq: i64,
        local_last: i64,
    },
}

impl Refusal {
    /// A refusal from the office's error message, if it is one.
    pub fn parse(message: &str) -> Option<Self> {
        let rest = message.strip_prefix("paycode:")?;
        let mut parts = rest.splitn(4, ':');
        let kind = parts.next()?;
        let a = parts.next().unwrap_or("").to_string();
        let b = parts.next().unwrap_or("").to_string();
        let c = parts.next().unwrap_or("").to_string();
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
            "bad_journal" => Self::BadJournal(shown(a)),
            "released" => Self::Released(shown(a)),
            "bad_row" => Self::BadRow {
                seq: shown(a),
                field: shown(b),
            },
            "journal_behind" => Self::JournalBehind {
                till: shown(a),
                office_seq: b.parse().unwrap_or(0),
                local_last: 0,
            },
            "mch_mismatch" => Self::MchMismatch {
                till: shown(a),
                registered: shown(b),
                configured: shown(c),
            },
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
            Self::JournalBehind { .. } => "journal_behind",
            Self::BadJournal(_) => "bad_journal",
            Self::Released(_) => "released",
            Self::BadRow { .. } => "bad_row",
            Self::TillExists { .. } => "till_exists",
            Self::MchMismatch { .. } => "mch_mismatch",
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
                "the office refused the journal: till {t} ships another journal now — this machine either has {t}'s config copied onto it, or is the machine {t} moved away from; sales here go on. The machine {t} moved away from: retire it (what it shipped is at the office; ship nothing more from it). A new till: give it its own device_info and office role (`paycode office add-till`). Only if {t} really moved to this machine and the other one is gone for good: `paycode office release-till {t}` at the office"
            ),
            Self::JournalTaken(t) => write!(
                f,
                "the office refused the journal: till {t} already ships this journal — the journal file was copied from another till; give this machine a journal of its own: stop paycode, move the journal file aside (keep it: it holds that till's records), and start paycode again — it makes a fresh journal"
            ),
            Self::BadJournal(t) => write!(
                f,
                "the office refused the registration of till {t}: no journal id, or not one a paycode journal makes (32 hex digits); nothing changed — ship with `paycode office ship`, never by hand"
            ),
            Self::MchMismatch {
                till,
                registered,
                configured,
            } => write!(
                f,
                "the office refused the journal: till {till} is registered under merchant number {registered}, but [merchant] says {configured}; nothing was shipped and sales here go on — correct the config, or if the till really moved to merchant {configured}, run `paycode office release-till {till}` at the office"
            ),
            Self::TillExists { asked, till, store } => {
                let case = if asked == till {
                    String::new()
                } else {
                    format!(" ({asked} differs from it only in letter case)")
                };
                write!(
                    f,
                    "till {till} is already registered at the office, in store {store}{case}; nothing was added — give the new till its own device_info, or if {till}'s machine was replaced, copy its config and password file to the new one and run `paycode office release-till {till}`"
                )
            }
            Self::BadRow { seq, field } => write!(
                f,
                "the office refused journal record no. {seq}: its {field} is not what a till writes — the journal was edited by hand, or this till's password was used to ship made-up rows; nothing from it on was shipped and sales here go on; tell the office, and run `paycode check` here"
            ),
            Self::Released(t) => write!(
                f,
                "till {t} was released at the office again while it shipped (`office release-till`); nothing more was shipped — the next round ships this journal in full"
            ),
            Self::JournalBehind {
                till,
                office_seq,
                local_last,
            } => {
                let which = if local_last >= office_seq {
                    format!(
                        "the office's record no. {office_seq} of till {till} differs from this journal's record no. {office_seq}"
                    )
                } else {
                    format!(
                        "the office holds till {till}'s records up to no. {office_seq}, this journal only up to no. {local_last}"
                    )
                };
                write!(
                    f,
                    "the office did not take the journal: {which} — the journal was restored from a backup, or copied to a second machine that sells too; nothing more was shipped and sales here go on. If this is till {till}'s only machine, run `paycode office release-till {till}` at the office: this journal is then shipped again in full and the office keeps the sales it already held"
                )
            }
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
                "总部拒收账本:收银台 {t} 现在上传的是另一份账本 — 本机要么复制了 {t} 的配置,要么是 {t} 迁走前的旧机器;本机照常收款。若是旧机器:请停用它(它已上传的记录在总部,不要再从它上传)。若是新收银台:请为它设置自己的 device_info 和总部角色(`paycode office add-till`)。只有当 {t} 确实已迁到本机、另一台已永久停用时,才在总部运行 `paycode office release-till {t}`"
            ),
            Self::JournalTaken(t) => format!(
                "总部拒收账本:收银台 {t} 已在上传这份账本 — 账本文件是从另一台收银台复制的;请为本机使用自己的账本:停止 paycode,把账本文件移到别处(请保留,里面是那台收银台的记录),再启动 paycode — 它会新建账本"
            ),
            Self::BadJournal(t) => format!(
                "总部拒绝收银台 {t} 的登记:没有账本编号,或不是 paycode 账本生成的编号(32 位十六进制);未做任何更改 — 请用 `paycode office ship` 上传,不要手工调用"
            ),
            Self::MchMismatch {
                till,
                registered,
                configured,
            } => format!(
                "总部拒收账本:收银台 {till} 登记的商户号为 {registered},但 [merchant] 中为 {configured};未上传任何记录,本机照常收款 — 请改正配置;如果收银台确实已改用商户号 {configured},请在总部运行 `paycode office release-till {till}`"
            ),
            Self::TillExists { asked, till, store } => {
                let case = if asked == till {
                    String::new()
                } else {
                    format!("({asked} 与它仅大小写不同)")
                };
                format!(
                    "收银台 {till} 已在总部登记,属于门店 {store}{case};未添加任何内容 — 请为新收银台设置自己的 device_info;如果是 {till} 换了机器,请把它的配置和密码文件复制到新机器,并运行 `paycode office release-till {till}`"
                )
            }
            Self::BadRow { seq, field } => format!(
                "总部拒收第 {seq} 条账本记录:其 {field} 不是收银台会写出的内容 — 账本被手工改过,或有人用本收银台的密码上传了伪造的记录;该条及之后的记录未上传,本机照常收款;请通知总部,并在本机运行 `paycode check`"
            ),
            Self::Released(t) => format!(
                "上传期间收银台 {t} 在总部再次被解除绑定(`office release-till`);未再上传 — 下一轮将完整上传本账本"
            ),
            Self::JournalBehind {
                till,
                office_seq,
                local_last,
            } => {
                let which = if local_last >= office_seq {
                    format!(
                        "总部保存的收银台 {till} 第 {office_seq} 条记录与本账本的第 {office_seq} 条不同"
                    )
                } else {
                    format!(
                        "总部保存的收银台 {till} 记录到第 {office_seq} 条,本账本只到第 {local_last} 条"
                    )
                };
                format!(
                    "总部未接收账本:{which} — 账本是从备份恢复的,或被复制到另一台也在收款的机器;未再上传记录,本机照常收款。如果这是收银台 {till} 唯一的机器,请在总部运行 `paycode office release-till {till}`:本账本将重新完整上传,总部已保存的交易会保留"
                )
            }
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
        let bad = Refusal::parse("paycode:bad_row:17:total_fee").unwrap();
        assert_eq!(
            bad,
            Refusal::BadRow {
                seq: "17".into(),
                field: "total_fee".into()
            }
        );
        assert!(bad.to_string().contains("no. 17") && bad.zh().contains("第 17 条"));
        let b = Refusal::JournalBehind {
            till: "POS01".into(),
            office_seq: 40,
            local_last: 31,
        };
        assert!(b.to_string().contains("backup") && b.to_string().contains("release-till POS01"));
        assert!(b.zh().contains("备份") && b.zh().contains("release-till POS01"));
        assert_eq!(Refusal::parse("paycode:other:x"), None);
    }
}
