//! `[wechat] base_url` / `backup_url`: "simulator", an https:// base URL, or http:// to a
//! loopback host (a local simulator). Pure string checks, no URL crate.

use super::BaseUrl;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `"simulator"`, an `https://` base URL, or `http://` to a loopback host. (Pure.)
pub(crate) fn parse_base_url(s: &str) -> Result<BaseUrl, (String, String)> {
    let https_fix =
        "write \"simulator\" or an https:// base URL such as https://api.mch.weixin.qq.com";
    if s == "simulator" {
        return Ok(BaseUrl::Simulator);
    }
    let (scheme, rest) = match (s.strip_prefix("https://"), s.strip_prefix("http://")) {
        (Some(rest), _) => ("https", rest),
        (None, Some(rest)) => ("http", rest),
        (None, None) => {
            return Err((
                format!("{s:?} is neither \"simulator\" nor an http(s):// URL"),
                https_fix.into(),
            ));
        }
    };
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "?#@\\".contains(c))
    {
        return Err((
            format!("{s:?} must be a plain base URL (no spaces, user, query or fragment)"),
            https_fix.into(),
        ));
    }
    let authority = rest.split('/').next().unwrap_or("");
    let bad_host = || (format!("{s:?} has no valid host"), https_fix.to_string());
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']').ok_or_else(bad_host)?;
            let ip: Ipv6Addr = h.parse().map_err(|_| bad_host())?;
            (Host::Ip(IpAddr::V6(ip)), after.strip_prefix(':'))
        }
        None => {
            let (h, port) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            let host = match h.parse::<Ipv4Addr>() {
                Ok(ip) => Host::Ip(IpAddr::V4(ip)),
                Err(_) => {
                    let ok = !h.is_empty()
                        && h.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                        && !h.starts_with(['.', '-']);
                    if !ok {
                        return Err(bad_host());
                    }
                    Host::Name(h.to_ascii_lowercase())
                }
            };
            (host, port)
        }
    };
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|n| n > 0)
    {
        return Err((
            format!("{s:?} has a bad port {p:?}"),
            "use a port number 1-65535".into(),
        ));
    }
    let loopback = match &host {
        Host::Ip(ip) => ip.is_loopback(),
        Host::Name(n) => n == "localhost",
    };
    if scheme == "http" && !loopback {
        return Err((
            format!("plain http:// is allowed only to loopback addresses, and {s:?} is not one"),
            "use https:// (WeChat Pay: https://api.mch.weixin.qq.com), or http://127.0.0.1:PORT \
             for a local simulator"
                .into(),
        ));
    }
    Ok(BaseUrl::Url(s.trim_end_matches('/').to_string()))
}

enum Host {
    Ip(IpAddr),
    Name(String),
}

impl BaseUrl {
    /// True for the built-in simulator or one on this machine (`paycode simulate`): no real
    /// money, so test-speed timings are allowed.
    pub fn is_simulated(&self) -> bool {
        match self {
            BaseUrl::Simulator => true,
            BaseUrl::Url(u) => is_loopback_url(u),
        }
    }
}

/// `http://127.0.0.1:…`, `http://localhost:…`, `http://[::1]:…`: a local simulator.
fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or("");
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host == "localhost"
        || rest.starts_with("[::1]")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        assert!(is_loopback_url("http://127.0.0.1:8900"));
        assert!(is_loopback_url("http://localhost:1/x"));
        assert!(is_loopback_url("http://[::1]:80"));
        assert!(!is_loopback_url("https://api.mch.weixin.qq.com"));
        assert!(!is_loopback_url("simulator"));
    }

    #[test]
    fn base_url_table() {
        let ok = [
            ("simulator", BaseUrl::Simulator),
            (
                "https://api.mch.weixin.qq.com",
                BaseUrl::Url("https://api.mch.weixin.qq.com".into()),
            ),
            (
                "https://api.mch.weixin.qq.com/",
                BaseUrl::Url("https://api.mch.weixin.qq.com".into()),
            ),
            (
                "https://x.example:8443/sandboxnew",
                BaseUrl::Url("https://x.example:8443/sandboxnew".into()),
            ),
            (
                "http://127.0.0.1:8080",
                BaseUrl::Url("http://127.0.0.1:8080".into()),
            ),
            ("http://127.9.9.9", BaseUrl::Url("http://127.9.9.9".into())),
            (
                "http://[::1]:9000",
                BaseUrl::Url("http://[::1]:9000".into()),
            ),
            (
                "http://localhost:1",
                BaseUrl::Url("http://localhost:1".into()),
            ),
            (
                "https://[2001:db8::1]",
                BaseUrl::Url("https://[2001:db8::1]".into()),
            ),
        ];
        for (input, want) in ok {
            assert_eq!(parse_base_url(input), Ok(want), "{input}");
        }
        let bad = [
            ("http://api.mch.weixin.qq.com", "loopback"),
            ("http://10.0.0.1:80", "loopback"),
            ("http://localhost.evil.com", "loopback"),
            ("ftp://x", "neither"),
            ("Simulator", "neither"),
            ("", "neither"),
            ("https://", "no valid host"),
            ("https://user@host", "plain base URL"),
            ("https://host?x=1", "plain base URL"),
            ("https://ho st", "plain base URL"),
            ("https://host:0", "bad port"),
            ("https://host:99999", "bad port"),
            ("https://[::1", "no valid host"),
            ("https://-host", "no valid host"),
        ];
        for (input, want) in bad {
            let got = parse_base_url(input);
            assert!(
                matches!(&got, Err((p, _)) if p.contains(want)),
                "{input}: {got:?}"
            );
        }
    }
}
