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
    pub cors_origins: Vec<String>,
    pub socket: Option<PathBuf>,
}

/// `[api]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The cashier screen and `paycode serve` listen here.
    pub listen: SocketAddr,
    /// The bearer token every call must carry (required off loopback); read when serving.
    pub token_file: Option<PathBuf>,
    /// Browser pages (`scheme://host[:port]`) allowed to call the API; any other page is
    /// refused (403).
    pub cors_origins: Vec<String>,
    /// Also serve the API on this Unix socket (mode 600: only paycode's user may call it).
    pub socket: Option<PathBuf>,
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
    let cors_origins = raw
        .cors_origins
        .iter()
        .map(|o| origin(o))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| {
            ctx.err(
                "api",
                "cors_origins",
                crate::untrusted::shown(&problem, 200),
                "list the POS page's origin exactly as the browser sends it, like [\"http://192.168.1.20:3000\"]",
            )
        })?;
    let socket = match raw.socket {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(ctx.err(
                "api",
                "socket",
                "the path is empty",
                "give a path like \"/run/paycode/api.sock\" in a directory only paycode's user can write, or remove socket",
            ));
        }
        Some(p) => Some(base.join(p)),
        None => None,
    };
    Ok(ApiConfig {
        listen,
        token_file,
        cors_origins,
        socket,
    })
}

/// A configured origin in the form browsers send: `scheme://host[:port]`, no path, no
/// wildcard; `Err` says what is wrong.
fn origin(text: &str) -> Result<String, String> {
    let t = text.trim();
    let Some((scheme, rest)) = t.split_once("://") else {
        return Err(format!("{t:?} has no scheme: write it as http://host:port"));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("{t:?}: the scheme must be http or https"));
    }
    if rest.is_empty() || rest.contains(['/', '*', ' ', '?', '#', '@']) {
        return Err(format!(
            "{t:?} is not an origin: only scheme://host[:port], no path and no wildcard"
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_origins_are_configured() {
        assert_eq!(
            origin(" https://pos.example "),
            Ok("https://pos.example".into())
        );
        for bad in [
            "pos.local",
            "ftp://x",
            "http://",
            "http://a/b",
            "*",
            "http://*.x",
            "https://a b",
        ] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }
}
