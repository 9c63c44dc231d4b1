//! The manager's authorisation for the commands that give money back (`paycode refund`, and
//! `reverse` of a paid sale): the PIN of `[ui] manager_pin_file`, read from `--pin-file` (a file
//! only paycode's user can read) or typed at a prompt without echo — never an argument, which
//! `ps` and the shell history would show. The refund screen asks for the same PIN.
#![allow(clippy::disallowed_methods)] // IO edge: the prompt reads the terminal.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::config::{PIN_FILE_MAX, read_text};
use crate::journal::Authority;
use crate::tui::app::{Pin, Words};

/// Tries at the prompt before giving up.
const PROMPT_TRIES: u32 = 3;

/// Pause after a wrong PIN, so guessing from a script is slow.
const WRONG_PIN_PAUSE: Duration = Duration::from_secs(2);

/// Wrong PINs in a row, across runs, before the command line's refunds lock (as the refund
/// screen's do), and for how long.
const STRIKES: u32 = 3;
const LOCKOUT_MS: i64 = 5 * 60 * 1000;

/// Wrong PINs in a row and when the last one was, kept beside the journal between runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Strikes {
    count: u32,
    last_ms: i64,
}

impl Strikes {
    /// How long refunds stay locked at `now_ms` (`None`: not locked).
    fn locked_for(self, now_ms: i64) -> Option<Duration> {
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

fn strikes_file(cfg: &Config) -> PathBuf {
    cfg.journal.path.with_file_name("pin-strikes")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn locked_words(left: Duration) -> Words {
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

/// Authorise giving money back from the command line, or say why not (nothing is sent then).
/// `what` names the act for the messages ("refund", "reverse"); `question` ("refund ¥X of sale
/// … to the customer?") is asked above the PIN prompt, and typing the PIN answers it.
pub(crate) fn manager(
    cfg: &Config,
    simulated: bool,
    pin_file: Option<&Path>,
    what: &str,
    question: &Words,
) -> Result<Authority, Words> {
    let Some(pin) = configured_pin(cfg)? else {
        if simulated {
            return Ok(Authority::SimulatorNoPin);
        }
        return Err(Words::new(
            format!(
                "{what} refused: this live till has no manager PIN, and money goes back only with one. Put 4–12 digits in a file only paycode's user can read (chmod 600) and set [ui] manager_pin_file"
            ),
            "已拒绝:本收银台为正式模式且未设置店长密码,退还款项需店长密码。请将 4–12 位数字写入仅 paycode 用户可读的文件(chmod 600),并设置 [ui] manager_pin_file".to_string(),
        ));
    };
    let strikes = strikes_file(cfg);
    if let Some(left) = read_strikes(&strikes)?.locked_for(now_ms()) {
        return Err(locked_words(left));
    }
    if let Some(file) = pin_file {
        if cfg
            .ui
            .manager_pin_file
            .as_deref()
            .is_some_and(|own| same_file(own, file))
        {
            // Anyone who can run paycode can read that one: passing it proves nothing.
            return Err(Words::new(
                "--pin-file names [ui] manager_pin_file itself, which proves nothing about who runs the command: put the PIN in a file of the manager's own (chmod 600), or type it at the prompt".to_string(),
                "--pin-file 指向了 [ui] manager_pin_file 本身,无法证明由谁执行:请把密码放在店长自己的文件中(chmod 600),或在提示时输入".to_string(),
            ));
        }
        let typed = Zeroizing::new(read_text(file, true, PIN_FILE_MAX).map_err(
            |(problem, fix)| {
                Words::new(
                    format!("--pin-file: {problem}; {fix}"),
                    format!("--pin-file 的店长密码文件无法使用:{problem};{fix}"),
                )
            },
        )?);
        return check(&pin, typed.trim(), what, &strikes);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Words::new(
            format!(
                "{what} needs the manager PIN: pass --pin-file FILE (a file only paycode's user can read, chmod 600) or run it in a terminal to be asked"
            ),
            "需要店长密码:请用 --pin-file 指定密码文件(仅 paycode 用户可读,chmod 600),或在终端中运行以输入密码".to_string(),
        ));
    }
    errln!("{}\n{}", question.zh, question.en);
    let mut attempt = 1;
    loop {
        let typed = prompt().map_err(|e| {
            Words::new(
                format!(
                    "cannot read the manager PIN from the terminal: {e}; pass it with --pin-file FILE (chmod 600) instead"
                ),
                format!("无法从终端读取店长密码:{e};请改用 --pin-file 指定密码文件(chmod 600)"),
            )
        })?;
        let Some(typed) = typed else {
            return Err(Words::new(
                format!("{what} cancelled at the PIN prompt: nothing was sent"),
                "已在输入店长密码时取消:未发送任何请求".to_string(),
            ));
        };
        match check(&pin, &typed, what, &strikes) {
            Ok(a) => return Ok(a),
            Err(e) if attempt >= PROMPT_TRIES => return Err(e),
            Err(e) => {
                // This wrong PIN may have been the one that locks (earlier runs count too).
                if read_strikes(&strikes)?.locked_for(now_ms()).is_some() {
                    return Err(e);
                }
                errln!("wrong PIN, try again / 密码错误,请重试");
                attempt += 1;
            }
        }
    }
}

/// Compare in constant time. A wrong PIN is logged (never the digits), counted beside the
/// journal (the third in a row locks refunds for 5 minutes) and answered slowly. `manager`
/// checks the lock before the first try, and after each wrong one at the prompt.
fn check(pin: &Pin, typed: &str, what: &str, strikes: &Path) -> Result<Authority, Words> {
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
fn read_strikes(path: &Path) -> Result<Strikes, Words> {
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
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Read a PIN from the terminal without echo: digits, Backspace, Enter; Esc or Ctrl-C cancels
/// (`None`).
fn prompt() -> std::io::Result<Option<Zeroizing<String>>> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, read};
    let mut err = std::io::stderr();
    write!(
        err,
        "Manager PIN to confirm, Esc to cancel / 店长密码确认,Esc 取消: "
    )?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode()?;
    // Room for the longest PIN, so pushing never reallocates and leaves a copy behind.
    let mut typed = Zeroizing::new(String::with_capacity(16));
    let result = loop {
        let ev = match read() {
            Ok(ev) => ev,
            Err(e) => break Err(e),
        };
        let Event::Key(k) = ev else { continue };
        if k.kind == KeyEventKind::Release {
            continue;
        }
        match k.code {
            KeyCode::Enter => break Ok(Some(std::mem::take(&mut typed))),
            KeyCode::Esc => break Ok(None),
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => break Ok(None),
            KeyCode::Backspace => {
                typed.pop();
            }
            KeyCode::Char(c) if c.is_ascii_digit() && typed.len() < 12 => typed.push(c),
            _ => {}
        }
    };
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = write!(err, "\r\n");
    result
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
