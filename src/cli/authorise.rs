//! The manager's authorisation for the commands that give money back (`paycode refund`, and
//! `reverse` of a paid sale): the PIN of `[ui] manager_pin_file`, read from `--pin-file` (a file
//! only paycode's user can read) or typed at a prompt without echo — never an argument, which
//! `ps` and the shell history would show. The refund screen asks for the same PIN.
#![allow(clippy::disallowed_methods)] // IO edge: the prompt reads the terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::config::read_text;
use crate::journal::Authority;
use crate::tui::app::{Pin, Words};

/// Tries at the prompt before giving up.
const PROMPT_TRIES: u32 = 3;

/// Pause after a wrong PIN, so guessing from a script is slow.
const WRONG_PIN_PAUSE: Duration = Duration::from_secs(2);

/// The configured manager PIN (`None`: none is set).
pub(crate) fn configured_pin(cfg: &Config) -> Result<Option<Pin>, Words> {
    let Some(path) = &cfg.ui.manager_pin_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Words::new(
            format!(
                "cannot read the manager PIN file {}: {e}; fix [ui] manager_pin_file",
                path.display()
            ),
            format!(
                "无法读取店长密码文件 {}:{e};请修正 [ui] manager_pin_file",
                path.display()
            ),
        )
    })?;
    super::cashier::pin_of(&text, path).map(Some)
}

/// Authorise giving money back from the command line, or say why not (nothing is sent then).
/// `what` names the act for the messages ("refund", "reverse").
pub(crate) fn manager(
    cfg: &Config,
    simulated: bool,
    pin_file: Option<&Path>,
    what: &str,
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
    if let Some(file) = pin_file {
        let typed = read_text(file, true).map_err(|(problem, fix)| {
            Words::new(
                format!("--pin-file: {problem}; {fix}"),
                format!("--pin-file:{problem};{fix}"),
            )
        })?;
        return check(&pin, typed.trim(), what);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Words::new(
            format!(
                "{what} needs the manager PIN: pass --pin-file FILE (a file only paycode's user can read, chmod 600) or run it in a terminal to be asked"
            ),
            "需要店长密码:请用 --pin-file 指定密码文件(仅 paycode 用户可读,chmod 600),或在终端中运行以输入密码".to_string(),
        ));
    }
    let mut attempt = 1;
    loop {
        let typed = prompt().map_err(|e| {
            Words::new(
                format!("cannot read the manager PIN from the terminal: {e}"),
                format!("无法从终端读取店长密码:{e}"),
            )
        })?;
        let Some(typed) = typed else {
            return Err(Words::new(
                format!("{what} cancelled at the PIN prompt: nothing was sent"),
                "已在输入店长密码时取消:未发送任何请求".to_string(),
            ));
        };
        match check(&pin, &typed, what) {
            Ok(a) => return Ok(a),
            Err(e) if attempt >= PROMPT_TRIES => return Err(e),
            Err(_) => {
                errln!("wrong PIN, try again / 密码错误,请重试");
                attempt += 1;
            }
        }
    }
}

/// Compare in constant time; a wrong PIN is logged (never the digits) and answered slowly.
fn check(pin: &Pin, typed: &str, what: &str) -> Result<Authority, Words> {
    if pin.matches(typed) {
        return Ok(Authority::PinOnCommandLine);
    }
    tracing::warn!(command = what, "command line: wrong manager PIN");
    std::thread::sleep(WRONG_PIN_PAUSE);
    Err(Words::new(
        format!("{what} refused: wrong manager PIN; nothing was sent"),
        "已拒绝:店长密码错误;未发送任何请求".to_string(),
    ))
}

/// Read a PIN from the terminal without echo: digits, Backspace, Enter; Esc or Ctrl-C cancels
/// (`None`).
fn prompt() -> std::io::Result<Option<String>> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, read};
    let mut err = std::io::stderr();
    write!(err, "Manager PIN / 店长密码: ")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let mut typed = String::new();
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
