//! The manager's authorisation for the commands that give money back (`paycode refund`, and
//! `reverse` of a paid sale): the PIN of `[ui] manager_pin_file`, read from `--pin-file` (a file
//! only paycode's user can read) or typed at a prompt without echo — never an argument, which
//! `ps` and the shell history would show. The refund screen asks for the same PIN.
#![allow(clippy::disallowed_methods)] // IO edge: the prompt reads the terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;
use zeroize::Zeroizing;

use crate::config::Config;
use crate::config::{PIN_FILE_MAX, read_text};
use crate::journal::Authority;
use crate::manager::{
    check, configured_pin, locked_words, no_pin_live, now_ms, read_strikes, same_file, strikes_file,
};
use crate::words::Words;

/// Tries at the prompt before giving up.
const PROMPT_TRIES: u32 = 3;

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
        return Err(no_pin_live(what));
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
            return Err(pin_file_is_own());
        }
        return check(&pin, read_pin_file(file)?.trim(), what, &strikes);
    }
    if !std::io::stdin().is_terminal() {
        return Err(needs_pin(what));
    }
    errln!("{}\n{}", question.zh, question.en);
    let mut attempt = 1;
    loop {
        let typed = prompt().map_err(|e| unreadable(&e))?;
        let Some(typed) = typed else {
            return Err(cancelled(what));
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

/// The PIN to send with a refund handed to the running paycode, which checks and counts it
/// (`None`: no PIN is configured — the owner refuses a live till's refund then). From
/// `--pin-file`, or typed once at a prompt: never checked here, so the count is the owner's.
pub(crate) fn pin_to_send(
    cfg: &Config,
    pin_file: Option<&Path>,
    what: &str,
    question: &Words,
) -> Result<Option<Zeroizing<String>>, Words> {
    if cfg.ui.manager_pin_file.is_none() {
        return Ok(None);
    }
    if let Some(file) = pin_file {
        if cfg
            .ui
            .manager_pin_file
            .as_deref()
            .is_some_and(|own| same_file(own, file))
        {
            return Err(pin_file_is_own());
        }
        return Ok(Some(Zeroizing::new(
            read_pin_file(file)?.trim().to_string(),
        )));
    }
    if !std::io::stdin().is_terminal() {
        return Err(needs_pin(what));
    }
    errln!("{}\n{}", question.zh, question.en);
    match prompt() {
        Ok(Some(t)) => Ok(Some(t)),
        Ok(None) => Err(cancelled(what)),
        Err(e) => Err(unreadable(&e)),
    }
}

/// Anyone who can run paycode can read `[ui] manager_pin_file`: passing it proves nothing.
fn pin_file_is_own() -> Words {
    Words::new(
        "--pin-file names [ui] manager_pin_file itself, which proves nothing about who runs the command: put the PIN in a file of the manager's own (chmod 600), or type it at the prompt",
        "--pin-file 指向了 [ui] manager_pin_file 本身,无法证明由谁执行:请把密码放在店长自己的文件中(chmod 600),或在提示时输入",
    )
}

fn read_pin_file(file: &Path) -> Result<Zeroizing<String>, Words> {
    read_text(file, true, PIN_FILE_MAX)
        .map(Zeroizing::new)
        .map_err(|(problem, fix)| {
            Words::new(
                format!("--pin-file: {problem}; {fix}"),
                format!("--pin-file 的店长密码文件无法使用:{problem};{fix}"),
            )
        })
}

fn needs_pin(what: &str) -> Words {
    Words::new(
        format!(
            "{what} needs the manager PIN: pass --pin-file FILE (a file only paycode's user can read, chmod 600) or run it in a terminal to be asked"
        ),
        "需要店长密码:请用 --pin-file 指定密码文件(仅 paycode 用户可读,chmod 600),或在终端中运行以输入密码",
    )
}

fn unreadable(e: &std::io::Error) -> Words {
    Words::new(
        format!(
            "cannot read the manager PIN from the terminal: {e}; pass it with --pin-file FILE (chmod 600) instead"
        ),
        format!("无法从终端读取店长密码:{e};请改用 --pin-file 指定密码文件(chmod 600)"),
    )
}

fn cancelled(what: &str) -> Words {
    Words::new(
        format!("{what} cancelled at the PIN prompt: nothing was sent"),
        "已在输入店长密码时取消:未发送任何请求",
    )
}
