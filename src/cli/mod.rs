//! Command-line entry: the clap command tree and dispatch to the library. Subcommands live in
//! their own files; this one holds what they share (config, runtime, till, output).
mod authorise;
mod backup;
mod cashier;
mod check;
mod history;
mod office;
mod office_reconcile;
mod office_report;
mod output;
mod owner;
mod pay;
mod process;
mod receipt;
mod reconcile;
mod refund;
mod serve;
mod shift;

use crate::words::{Bilingual, Words};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::checkout::{Till, TillError};
use crate::config::{Config, Language};

#[derive(Parser, Debug)]
#[command(name = "paycode", version, about = "WeChat Pay payment-code cashier")]
pub struct Cli {
    /// Path of the configuration file.
    #[arg(
        long,
        global = true,
        env = "PAYCODE_CONFIG",
        default_value = "config.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate config.toml and print the resolved settings, secrets hidden.
    Config,
    /// Run the built-in WeChat Pay simulator as a standalone server (no real money).
    Simulate(crate::simulator::cli::SimulateArgs),
    /// Take one payment headless: exit 0 paid, 1 not charged, 2 unresolved, 3 refused.
    Pay(pay::PayArgs),
    /// Ask WeChat about one sale; settles it in the journal if WeChat's answer is final.
    Query(pay::OrderArgs),
    /// Keep a late payment: a sale held as not charged or unresolved that WeChat has as paid.
    Accept(pay::OrderArgs),
    /// Reverse (撤销) an unresolved or recent sale; a paid sale older than 7 days needs a refund.
    Reverse(pay::ReverseArgs),
    /// Refund (part of) a paid sale and follow the refund until it is done.
    Refund(refund::RefundArgs),
    /// Sales of one Beijing-time day with totals by state.
    History(history::HistoryArgs),
    /// The shift since the last handover; `--close` hands over, `--id`/`--date` show closed ones.
    Shift(shift::ShiftArgs),
    /// Write a consistent copy of the journal (safe while paycode runs).
    Backup(backup::BackupArgs),
    /// Compare this till's journal with WeChat's statement of a day: exit 0 agrees, 1 differences.
    Reconcile(reconcile::ReconcileArgs),
    /// Resume every unfinished sale and retry the pending (unresolved) ones.
    Recover(pay::JsonArg),
    /// The head office: init, add-till, release-till, add-reader, ship, report, reconcile
    /// (docs/office.md).
    Office(office::OfficeArgs),
    /// Serve the local API for the store's POS, headless (docs/api.md).
    Serve(serve::ServeArgs),
    /// Reprint a sale's or refund's slip, preview it (--preview) or print the queue (--flush):
    /// exit 0 printed, 1 queued (printer away), 3 refused.
    Receipt(receipt::ReceiptArgs),
    /// Check config, secret file permissions, certificate expiry, clock skew and API reachability.
    Check,
    /// List serial ports and HID devices, mark the configured scanner, check permissions.
    Scanners,
    /// Open the configured scanner(s) and print every scan and status change live.
    ScanTest,
}

/// Parse the process arguments and run the chosen command.
pub fn main() -> ExitCode {
    process::protect();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Usage errors exit 3 ("refused before sending"), never clap's 2 (= unresolved).
            let json = std::env::args().any(|a| a == "--json");
            let help = matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if help {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if !json {
                // clap quotes the argument, which may be a payment code or carry escape
                // sequences: every line masked, control characters shown as '?'.
                for line in e.to_string().lines() {
                    errln!("{}", crate::wxpay::xml::safe_text(line, 400));
                }
            }
            return match e.kind() {
                // A script that asked for JSON gets its one object on stdout here too.
                _ if json => {
                    let text = e.to_string();
                    let first = text
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("error: ");
                    // An argument may be a payment code: long digit runs are masked.
                    let first = crate::wxpay::xml::safe_text(first, 200);
                    output::refusal(
                        true,
                        &Words::new(
                            format!("invalid command line: {first}; see paycode --help"),
                            format!("命令行参数有误:{first};请查看 paycode --help"),
                        ),
                        None,
                        REFUSED,
                    )
                }
                _ => ExitCode::from(REFUSED),
            };
        }
    };
    match cli.command {
        Some(Command::Config) => config(&cli.config),
        Some(Command::Simulate(args)) => crate::simulator::cli::run(&args, &cli.config),
        Some(Command::Pay(args)) => pay::pay(&cli.config, &args),
        Some(Command::Query(args)) => pay::query(&cli.config, &args),
        Some(Command::Reverse(args)) => pay::reverse(&cli.config, &args),
        Some(Command::Accept(args)) => pay::accept(&cli.config, &args),
        Some(Command::Refund(args)) => refund::run(&cli.config, &args),
        Some(Command::History(args)) => history::run(&cli.config, &args),
        Some(Command::Shift(args)) => shift::run(&cli.config, &args),
        Some(Command::Backup(args)) => backup::run(&cli.config, &args),
        Some(Command::Reconcile(args)) => reconcile::run(&cli.config, &args),
        Some(Command::Recover(args)) => pay::recover(&cli.config, &args),
        Some(Command::Serve(args)) => serve::run(&cli.config, &args),
        Some(Command::Office(args)) => office::run(&cli.config, &args),
        Some(Command::Receipt(args)) => receipt::run(&cli.config, &args),
        Some(Command::Check) => check::run(&cli.config),
        Some(Command::Scanners) => scanner_command(&cli.config, |cfg| {
            crate::scanner::list::run(&cfg, &mut std::io::stdout()).map_err(|e| e.to_string())
        }),
        Some(Command::ScanTest) => {
            scanner_command(&cli.config, |cfg| crate::scanner::scan_test::run(&cfg))
        }
        None => cashier::run(&cli.config),
    }
}

/// `paycode config`: exit 0 and print the settings, or exit 3 with the one-line reason.
fn config(path: &Path) -> ExitCode {
    match crate::config::load(path) {
        Ok(cfg) => {
            out!("{}", cfg.render());
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("paycode: invalid configuration: {}", shown_config_error(&e));
            ExitCode::from(3)
        }
    }
}

/// Run a scanner command with the `[scanner]` section of the full, validated configuration.
fn scanner_command(
    path: &Path,
    f: impl FnOnce(crate::scanner::ScannerConfig) -> Result<(), String>,
) -> ExitCode {
    let cfg = match crate::config::load(path) {
        Ok(cfg) => cfg,
        Err(e) => {
            errln!("paycode: invalid configuration: {}", shown_config_error(&e));
            return ExitCode::from(REFUSED);
        }
    };
    match f(cfg.scanner) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("paycode: {e}");
            ExitCode::from(2)
        }
    }
}

/// A config refusal as echoed: it names values and paths from the file and the command line,
/// so escapes and anything shaped like a payment code never pass.
fn shown_config_error(e: &crate::config::ConfigError) -> String {
    crate::untrusted::shown(&e.to_string(), 2000)
}

/// Exit status 3: refused before anything was sent.
pub(crate) const REFUSED: u8 = 3;

/// Load the config or say why not (exit 3).
pub(crate) fn load(path: &Path, json: bool) -> Result<Config, ExitCode> {
    crate::config::load(path).map_err(|e| {
        output::rejected(
            json,
            // The Chinese line names the file, the key and the fix too (in English words).
            &Words::new(
                format!("invalid configuration: {}", shown_config_error(&e)),
                format!("配置无效,请按提示修正:{}", shown_config_error(&e)),
            ),
            None,
        )
    })
}

/// A runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            errln!("paycode: cannot start the async runtime: {e}");
            ExitCode::from(REFUSED)
        })
}

/// Open the till (journal lock, client, simulator) and print the simulator banner if any.
pub(crate) async fn open_till(cfg: Config, json: bool) -> Result<Till, ExitCode> {
    match Till::open(cfg).await {
        Ok(t) => {
            if t.is_simulated() {
                errln!("SIMULATOR — no real money / 模拟器 — 不涉及真实资金");
            }
            Ok(t)
        }
        Err(e) => Err(till_error(&e, json)),
    }
}

fn till_error(e: &TillError, json: bool) -> ExitCode {
    output::rejected(json, &e.words(), None)
}

/// Start file logging in the configured log directory (kept until the command ends).
pub(crate) fn logging(cfg: &Config) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    match crate::logging::init(&cfg.journal.log_dir) {
        Ok(g) => Some(g),
        Err(e) => {
            // Never a crash loop under the kiosk unit: the till works on, without a log file.
            let dir = cfg.journal.log_dir.display();
            errln!(
                "paycode: cannot write logs to {dir}: {e}; going on without a log file — fix [journal] log_dir"
            );
            errln!(
                "paycode:无法写入日志目录 {dir}:{e};将在无日志文件的情况下继续 — 请修正 [journal] log_dir"
            );
            None
        }
    }
}

/// The cashier language of the config.
pub(crate) fn lang(cfg: &Config) -> Language {
    cfg.ui.language
}

/// Load the config, start logging and a runtime, open the till, run `f`.
pub(crate) fn with_till<F, Fut>(config: &Path, json: bool, f: F) -> ExitCode
where
    F: FnOnce(Till) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    with_till_or_owner(config, json, None::<fn(&Config) -> Handed>, f)
}

/// A command handed to the journal's owner: the request, how text mode prints its answer.
pub(crate) type Handed = Result<(owner::Call, fn(&serde_json::Value) -> Vec<String>), ExitCode>;

/// [`with_till`], or — when another paycode holds the journal and serves `[api]` — `hand`'s
/// request to it, its answer printed as `f`'s own would be (cli::owner).
pub(crate) fn with_till_or_owner<H, F, Fut>(
    config: &Path,
    json: bool,
    hand: Option<H>,
    f: F,
) -> ExitCode
where
    H: FnOnce(&Config) -> Handed,
    F: FnOnce(Till) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let cfg = match load(config, json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Some(hand) = hand
        && owner::reachable(&cfg)
        && matches!(
            crate::checkout::till::lock_journal(&cfg.journal.path),
            Err(TillError::Locked { .. })
        )
    {
        return match hand(&cfg) {
            Ok((call, lines)) => owner::ask(&cfg, call, json, lines),
            Err(code) => code,
        };
    }
    with_loaded_till(cfg, json, f)
}

fn with_loaded_till<F, Fut>(cfg: Config, json: bool, f: F) -> ExitCode
where
    F: FnOnce(Till) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let _log = logging(&cfg);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    rt.block_on(async move {
        match open_till(cfg, json).await {
            Ok(t) => f(t).await,
            Err(c) => c,
        }
    })
}
