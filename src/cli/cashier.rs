//! `paycode` with no subcommand: check for a terminal, load the config, start logging and the
//! runtime, open the till, then hand all of it to the cashier screen's event loop.

use crate::words::Bilingual;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use super::REFUSED;
use crate::checkout::Till;
use crate::config::{Config, Language};
use crate::tui::app::{Settings, SimInfo, Words};

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
    super::office::background(&rt, &cfg);
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

/// The app's settings from the configuration (and the simulator's scenario table).
fn settings_of(cfg: &Config, simulated: bool) -> Result<Settings, Words> {
    let manager_pin = crate::manager::configured_pin(cfg)?;
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
