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
    /// Validate config.toml and print the resolved settings, secrets hidden.
    Config,
    /// Run the built-in WeChat Pay simulator as a standalone server (no real money).
    Simulate(crate::simulator::cli::SimulateArgs),
}

/// Parse the process arguments and run the chosen command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Config) => config(&cli.config),
        Some(Command::Simulate(args)) => crate::simulator::cli::run(&args, &cli.config),
        None => {
            eprintln!("paycode: nothing to run yet");
            ExitCode::from(3)
        }
    }
}

/// `paycode config`: exit 0 and print the settings, or exit 3 with the one-line reason.
fn config(path: &std::path::Path) -> ExitCode {
    match crate::config::load(path) {
        Ok(cfg) => {
            print!("{}", cfg.render());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("paycode: invalid configuration: {e}");
            ExitCode::from(3)
        }
    }
}
