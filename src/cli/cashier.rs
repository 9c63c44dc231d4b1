//! `paycode` with no subcommand: check for a terminal, load the config, start logging and the
//! runtime, open the till, then hand all of it to the cashier screen's event loop.

use crate::words::Bilingual;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use super::REFUSED;
use crate::checkout::Till;
use crate::config::{Config, Language};
use crate::tui::app::{Pin, Settings, SimInfo, Words};

/// Open the till, run recovery, then the cashier screen.
pub fn run(config_path: &Path) -> ExitCode {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        // Scripts and POS integrations land here: point them at the headless commands.
        errln!(
            "paycode: the cashier screen needs a terminal. Headless commands: pay, query, \
             accept, reverse, refund, history, backup, reconcile, recover, check, config, simulate, \
             scanners, scan-test (paycode --help)."
        );
        errln!(
            "paycode:收银界面需要在终端中运行。可用命令:pay、query、accept、reverse、refund、history、backup、reconcile、recover、check、config、simulate、scanners、scan-test(paycode --help)。"
        );
        return ExitCode::from(REFUSED);
    }
    let cfg = match super::load(config_path, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let _log = super::logging(&cfg);
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let till = match rt.block_on(Till::open(cfg.clone())) {
        Ok(t) => t,
        Err(e) => {
            errln!("paycode: {e}\npaycode:{}", e.zh());
            return ExitCode::from(REFUSED);
        }
    };
    let settings = match settings_of(&cfg, till.is_simulated()) {
        Ok(s) => s,
        Err(w) => {
            errln!("paycode: {}\npaycode:{}", w.en, w.zh);
            return ExitCode::from(REFUSED);
        }
    };
    let result = rt.block_on(crate::tui::event_loop(cfg, till, settings));
    // Reader threads and the input thread stop when their handles drop here.
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("paycode: terminal error: {e}");
            ExitCode::from(1)
        }
    }
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

/// The app's settings from the configuration (and the simulator's scenario table).
fn settings_of(cfg: &Config, simulated: bool) -> Result<Settings, Words> {
    let manager_pin = super::authorise::configured_pin(cfg)?;
    Ok(Settings {
        // F6's last choice outlives a restart; the config is the default until there is one.
        language: crate::tui::prefs::saved_language(cfg).unwrap_or(cfg.ui.language),
        rings: if cfg.ui.bell {
            cfg.ui.rings
        } else {
            crate::config::Rings::OFF
        },
        max_amount: cfg.checkout.max_amount,
        password_timeout: cfg.checkout.policy.password_timeout,
        simulator: simulated.then(|| SimInfo {
            scenarios_en: crate::simulator::scenario_lines(Language::En),
            scenarios_zh: crate::simulator::scenario_lines(Language::Zh),
        }),
        manager_pin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
