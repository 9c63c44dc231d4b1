//! Command-line entry: the clap command tree and dispatch to the library.
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Check the configuration file and print what it resolves to (secrets hidden).
    Config,
    /// List serial ports and HID devices, mark the configured scanner, check permissions.
    Scanners,
    /// Open the configured scanner(s) and print every scan and status change live.
    ScanTest,
}

/// Parse the process arguments and run the chosen command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Scanners) => scanner_command(&cli.config, |cfg| {
            crate::scanner::list::run(&cfg, &mut std::io::stdout()).map_err(|e| e.to_string())
        }),
        Some(Command::ScanTest) => {
            scanner_command(&cli.config, |cfg| crate::scanner::scan_test::run(&cfg))
        }
        Some(Command::Config) | None => {
            eprintln!("paycode: nothing to run yet");
            ExitCode::from(3)
        }
    }
}

/// Run a scanner command with the `[scanner]` section (interim: the full loader replaces this).
fn scanner_command(
    path: &std::path::Path,
    f: impl FnOnce(crate::scanner::ScannerConfig) -> Result<(), String>,
) -> ExitCode {
    match crate::scanner::config::load_section(path).and_then(f) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paycode: {e}");
            ExitCode::from(2)
        }
    }
}
