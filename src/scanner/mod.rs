//! Scan-gun input (in progress).
pub mod config;
pub use config::ScannerConfig;
