//! `[api]`: the local API for the store's POS (docs/api.md). Absent: the cashier screen serves
//! nothing (a port is opened only when asked for), and `paycode serve` listens on loopback.

use super::ConfigError;
use super::error::Ctx;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where `paycode serve` listens when neither `--listen` nor `[api] listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8765";

/// The file shape of `[api]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawApi {
    pub listen: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// `[api]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The cashier screen and `paycode serve` listen here.
    pub listen: SocketAddr,
    /// The bearer token every call must carry (required off loopback); read when serving.
    pub token_file: Option<PathBuf>,
}

/// Check `[api]`; relative paths are taken from the config file's directory (`base`).
pub(crate) fn resolve(raw: RawApi, base: &Path, ctx: &Ctx) -> Result<ApiConfig, ConfigError> {
    let text = raw.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let listen: SocketAddr = text.trim().parse().map_err(|_| {
        ctx.err(
            "api",
            "listen",
            format!("{:?} is not an address", crate::untrusted::shown_arg(&text)),
            "write IP:PORT, like \"127.0.0.1:8765\"",
        )
    })?;
    let token_file = match raw.token_file {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(ctx.err(
                "api",
                "token_file",
                "the path is empty",
                "give a mode-600 file holding the token, or remove token_file",
            ));
        }
        Some(p) => Some(base.join(p)),
        None => None,
    };
    if !listen.ip().is_loopback() && token_file.is_none() {
        return Err(ctx.err(
            "api",
            "listen",
            format!("{listen} can be reached from other machines, and no token_file is set: anyone there could take payments"),
            "listen on \"127.0.0.1:8765\", or set token_file to a mode-600 file so every call needs the token",
        ));
    }
    Ok(ApiConfig { listen, token_file })
}
