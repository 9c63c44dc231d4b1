//! The manager PIN that authorises giving money back (refunds, the reverse of a paid sale):
//! read from `[ui] manager_pin_file`, compared in constant time, wrong PINs counted beside the
//! journal across runs (the third in a row locks refunds for five minutes) and answered slowly.
//! The cashier screen's refund step, the command line's prompt (`cli::authorise`) and the local
//! API's `POST /v1/refunds` all check it here.
#![allow(clippy::disallowed_methods)] // IO edge: the lockout reads the wall clock.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::config::{PIN_FILE_MAX, read_text};
use crate::journal::Authority;
use crate::words::Words;

/// Pause after a wrong PIN, so guessing from a script is slow.
const WRONG_PIN_PAUSE: Duration = Duration::from_secs(2);

/// Wrong PINs in a row, across runs, before the command line's refunds lock (as the refund
/// screen's do), and for how long.
const STRIKES: u32 = 3;
const LOCKOUT_MS: i64 = 5 * 60 * 1000;

/// The manager PIN that unlocks refunds; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(pub String);

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// Wiped when dropped, like the API key.
impl Drop for Pin {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Pin {
    /// Constant-time comparison with what was typed.
    pub fn matches(&self, typed: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0.len() == typed.len() && bool::from(self.0.as_bytes().ct_eq(typed.as_bytes()))
    }
}

/// Wrong PINs in a row and when the last one was, kept beside the journal between runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Strikes {
    count: u32,
    last_ms: i64,
}

impl Strikes {
    /// How long refunds stay locked at `now_ms` (`None`: not locked).
    pub(crate) fn locked_for(self, now_ms: i64) -> Option<Duration> {
        let until = self.last_ms.saturating_add(LOCKOUT_MS);
        (self.count >= STRIKES && now_ms < until)
            .then(|| Duration::from_millis(u64::try_from(until - now_ms).unwrap_or(0)))
    }

    /// One more wrong PIN at `now_ms`; a run of them older than the lockout starts again.
    fn after_wrong(self, now_ms: i64) -> Strikes {
        let stale = now_ms >= self.last_ms.saturating_add(LOCKOUT_MS);
        Strikes {
            count: if stale { 1 } else { self.count + 1 },
            last_ms: now_ms,
        }
    }

    fn parse(text: &str) -> Strikes {
        let mut it = text.split_whitespace().map(str::parse::<i64>);
        match (it.next(), it.next()) {
            (Some(Ok(count)), Some(Ok(last_ms))) => Strikes {
                count: u32::try_from(count).unwrap_or(0),
                last_ms,
            },
            _ => Strikes::default(),
        }
    }
}

pub(crate) fn strikes_file(cfg: &Config) -> PathBuf {
    cfg.journal.path.with_file_name("pin-strikes")
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn locked_words(left: Duration) -> Words {
    let mins = left.as_secs().div_ceil(60).max(1);
    Words::new(
        format!(
            "refunds are locked after {STRIKES} wrong manager PINs: try again in {mins} min; nothing was sent"
        ),
        format!("店长密码连续错误 {STRIKES} 次,退款已锁定:请 {mins} 分钟后再试;未发送任何请求"),
    )
}

/// The configured manager PIN (`None`: none is set).
pub(crate) fn configured_pin(cfg: &Config) -> Result<Option<Pin>, Words> {
    let Some(path) = &cfg.ui.manager_pin_file else {
        return Ok(None);
    };
    // The same checks as at load (a regular file, private, at most PIN_FILE_MAX bytes): it may
    // have been swapped since.
    let text = Zeroizing::new(read_text(path, true, PIN_FILE_MAX).map_err(|(problem, fix)| {
        Words::new(
            format!(
                "cannot use the manager PIN file {}: {problem}; {fix}; fix [ui] manager_pin_file",
                path.display()
            ),
            format!(
                "无法使用店长密码文件 {}:{problem};{fix};请修正 [ui] manager_pin_file",
                path.display()
            ),
        )
    })?);
    pin_of(&text, path).map(Some)
}

/// The manager PIN in `text` (the file at `path`): 4 to 12 digits, what the refund screen's
/// keypad can type; anything else would lock the manager out or be guessed at once.
pub(crate) fn pin_of(text: &str, path: &std::path::Path) -> Result<Pin, Words> {
    let pin = text.trim();
    let digits = pin.bytes().all(|b| b.is_ascii_digit());
    if digits && (4..=12).contains(&pin.len()) {
        return Ok(Pin(pin.to_string()));
    }
    let what_en = if pin.is_empty() {
        "is empty".to_string()
    } else if !digits {
        "holds characters other than digits, which the refund keypad cannot type".to_string()
    } else {
        format!("holds {} digits", pin.len())
    };
    let what_zh = if pin.is_empty() {
        "为空".to_string()
    } else if !digits {
        "含有数字以外的字符,退款键盘无法输入".to_string()
    } else {
        format!("为 {} 位数字", pin.len())
    };
    Err(Words::new(
        format!(
            "the manager PIN file {} {what_en}; put 4 to 12 digits in it ([ui] manager_pin_file)",
            path.display()
        ),
        format!(
            "店长密码文件 {} {what_zh};请写入 4–12 位数字([ui] manager_pin_file)",
            path.display()
        ),
    ))
}

/// Authorise a refund asked over the local API with the PIN `sent` in the request (`None`:
/// none was): the same PIN, lockout and count as the command line's, or why not (nothing is
/// sent then). Blocks for a moment after a wrong PIN: call it off the async threads.
pub fn over_api(cfg: &Config, simulated: bool, sent: Option<&str>) -> Result<Authority, Words> {
    let Some(pin) = configured_pin(cfg)? else {
        if simulated {
            return Ok(Authority::SimulatorNoPin);
        }
        return Err(no_pin_live("refund"));
    };
    let strikes = strikes_file(cfg);
    if let Some(left) = read_strikes(&strikes)?.locked_for(now_ms()) {
        return Err(locked_words(left));
    }
    let Some(sent) = sent else {
        return Err(Words::new(
            "pin is missing: a refund needs the manager PIN of this till ([ui] manager_pin_file); nothing was sent",
            "缺少 pin:退款需要本收银台的店长密码([ui] manager_pin_file);未发送任何请求",
        ));
    };
    check(&pin, sent.trim(), "refund", &strikes).map(|_| Authority::PinOverApi)
}

/// A live till without a manager PIN gives no money back.
pub fn no_pin_live(what: &str) -> Words {
    Words::new(
        format!(
            "{what} refused: this live till has no manager PIN, and money goes back only with one. Put 4–12 digits in a file only paycode's user can read (chmod 600) and set [ui] manager_pin_file"
        ),
        "已拒绝:本收银台为正式模式且未设置店长密码,退还款项需店长密码。请将 4–12 位数字写入仅 paycode 用户可读的文件(chmod 600),并设置 [ui] manager_pin_file".to_string(),
    )
}

/// Compare in constant time. A wrong PIN is logged (never the digits), counted beside the
/// journal (the third in a row locks refunds for 5 minutes) and answered slowly. `manager`
/// checks the lock before the first try, and after each wrong one at the prompt.
pub(crate) fn check(
    pin: &Pin,
    typed: &str,
    what: &str,
    strikes: &Path,
) -> Result<Authority, Words> {
    if pin.matches(typed) {
        let _ = std::fs::remove_file(strikes);
        return Ok(Authority::PinOnCommandLine);
    }
    let after = read_strikes(strikes)?.after_wrong(now_ms());
    let locked = after.count >= STRIKES;
    tracing::warn!(
        target: "audit",
        command = what,
        in_a_row = after.count,
        locked,
        "command line: wrong manager PIN"
    );
    // A wrong PIN that cannot be counted would make the lockout useless: refused as such.
    let counted = std::fs::write(strikes, format!("{} {}\n", after.count, after.last_ms));
    std::thread::sleep(WRONG_PIN_PAUSE);
    if let Err(e) = counted {
        tracing::error!(error = %e, "cannot record a wrong manager PIN beside the journal");
        return Err(uncountable(strikes, &e));
    }
    if locked {
        return Err(locked_words(Duration::from_millis(LOCKOUT_MS as u64)));
    }
    Err(Words::new(
        format!("{what} refused: wrong manager PIN; nothing was sent"),
        "已拒绝:店长密码错误;未发送任何请求".to_string(),
    ))
}

/// The wrong-PIN count: none yet, or what the file says. One that cannot be read (a directory
/// planted there, no permission) refuses the refund: the lockout must not be sidestepped.
pub(crate) fn read_strikes(path: &Path) -> Result<Strikes, Words> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Strikes::parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Strikes::default()),
        Err(e) => Err(uncountable(path, &e)),
    }
}

fn uncountable(path: &Path, e: &std::io::Error) -> Words {
    Words::new(
        format!(
            "refunds refused: wrong manager PINs cannot be counted in {} ({e}); make it a writable file (or remove it) beside the journal",
            path.display()
        ),
        format!(
            "已拒绝退款:无法在 {} 记录店长密码错误次数({e});请确保它是账本旁可写的文件(或删除它)",
            path.display()
        ),
    )
}

/// The same file under two names (links, relative paths).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Language;

    #[test]
    fn a_pin_file_must_hold_4_to_12_keypad_digits() {
        let path = std::path::Path::new("/etc/paycode/pin");
        assert_eq!(pin_of("2468\n", path).unwrap().0, "2468");
        assert_eq!(pin_of("  123456789012 ", path).unwrap().0, "123456789012");
        for (text, why) in [
            ("", "is empty"),
            ("  \n\t", "is empty"),
            ("12a4", "other than digits"),
            ("１２３４", "other than digits"),
            ("123", "holds 3 digits"),
            ("1234567890123", "holds 13 digits"),
        ] {
            let e = pin_of(text, path).unwrap_err();
            let (en, zh) = (e.get(Language::En), e.get(Language::Zh));
            assert!(en.contains(why), "{text:?}: {en}");
            assert!(en.contains("manager_pin_file"), "names the key: {en}");
            assert!(zh.contains("manager_pin_file"), "{zh}");
        }
    }

    #[test]
    fn three_wrong_pins_in_a_row_lock_for_five_minutes() {
        let t = 1_000_000;
        let s = Strikes::default().after_wrong(t).after_wrong(t + 1000);
        assert_eq!(s.locked_for(t + 1000), None, "two are not enough");
        let s = s.after_wrong(t + 2000);
        assert_eq!(
            s.locked_for(t + 2000),
            Some(Duration::from_millis(LOCKOUT_MS as u64))
        );
        assert_eq!(
            s.locked_for(t + 2000 + LOCKOUT_MS),
            None,
            "over after 5 min"
        );
        // A wrong PIN long after the last starts a new run.
        assert_eq!(s.after_wrong(t + 2000 + LOCKOUT_MS).count, 1);
        assert_eq!(Strikes::parse(&format!("{} {}\n", s.count, s.last_ms)), s);
        assert_eq!(Strikes::parse("garbage"), Strikes::default());
    }
}
