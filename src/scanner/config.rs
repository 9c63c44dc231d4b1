//! The `[scanner]` section of config.toml (placeholder until the scanner issue fills it).

/// Scanner settings; every field has a default so the section may be omitted.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScannerConfig {}
