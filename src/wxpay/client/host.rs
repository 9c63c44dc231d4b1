//! API host URLs: validation (https, or http only to this machine) and per-endpoint URLs.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs, UdpSocket};

use reqwest::Url;

use super::{ClientError, Endpoint};

/// One validated API host (primary or backup).
#[derive(Debug, Clone)]
pub(crate) struct Host {
    /// "host:port" for logs and errors.
    pub name: String,
    pub https: bool,
    /// The base URL itself (used to open a connection ahead of time).
    pub root: Url,
    /// One URL per endpoint, indexed by `Endpoint::index`.
    endpoints: Vec<Url>,
}

impl Host {
    /// Validates `raw` from the setting named `setting`.
    pub fn parse(setting: &'static str, raw: &str) -> Result<Host, ClientError> {
        let bad = |reason: &str| ClientError::BadUrl {
            setting,
            url: raw.to_string(),
            reason: reason.to_string(),
        };
        let url = Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
        let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials do not belong in the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("remove the ?query or #fragment"));
        }
        let https = match url.scheme() {
            "https" => true,
            "http" if is_loopback(&host) => false,
            "http" => {
                return Err(ClientError::PlainHttp {
                    setting,
                    url: raw.to_string(),
                });
            }
            _ => return Err(bad("the scheme must be https://")),
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let prefix = url.path().trim_end_matches('/').to_string();
        let endpoints = Endpoint::ALL
            .iter()
            .map(|ep| {
                let mut u = url.clone();
                u.set_path(&format!("{prefix}{}", ep.path()));
                u
            })
            .collect();
        Ok(Host {
            name: format!("{host}:{port}"),
            https,
            root: url,
            endpoints,
        })
    }

    /// The URL of `ep` on this host.
    pub fn url(&self, ep: Endpoint) -> &Url {
        // `endpoints` has one entry per `Endpoint::ALL` member, built in `parse`.
        &self.endpoints[ep.index()]
    }
}

/// True for 127.0.0.0/8, ::1 and "localhost" (`host` as `Url::host_str` gives it).
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let name = bare.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
        }
    }
}

/// The local address of the interface that reaches the API host of `base_url` (the default
/// `spbill_create_ip`). Connecting a UDP socket only picks a route: no packet is sent.
/// Resolves the host name with the system resolver (blocking).
pub fn local_ip_towards(base_url: &str) -> std::io::Result<IpAddr> {
    let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
    let url = Url::parse(base_url).map_err(|e| invalid(format!("{base_url:?}: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| invalid(format!("{base_url:?} has no host")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(443);
    let target = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| invalid(format!("{host} resolves to no address")))?;
    let unspecified = if target.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    };
    let socket = UdpSocket::bind((unspecified, 0))?;
    socket.connect(target)?;
    Ok(socket.local_addr()?.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_rule() {
        for yes in [
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "localhost",
            "LOCALHOST",
            "localhost.",
        ] {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in [
            "10.0.0.1",
            "api.mch.weixin.qq.com",
            "[::2]",
            "localhost.evil.com",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
    }

    #[test]
    fn endpoint_urls_keep_the_path_prefix() {
        let h = Host::parse(
            "base_url",
            "https://api.mch.weixin.qq.com/xdc/apiv2sandbox/",
        )
        .expect("valid");
        assert_eq!(
            h.url(Endpoint::Micropay).as_str(),
            "https://api.mch.weixin.qq.com/xdc/apiv2sandbox/pay/micropay"
        );
        assert_eq!(h.name, "api.mch.weixin.qq.com:443");
        let h = Host::parse("base_url", "http://127.0.0.1:8080").expect("valid");
        assert_eq!(
            h.url(Endpoint::Reverse).as_str(),
            "http://127.0.0.1:8080/secapi/pay/reverse"
        );
        assert!(!h.https);
    }

    #[test]
    fn refuses_plain_http_off_this_machine_and_odd_urls() {
        assert!(matches!(
            Host::parse("base_url", "http://api.mch.weixin.qq.com"),
            Err(ClientError::PlainHttp { .. })
        ));
        for bad in ["ftp://x", "https://u:p@h", "https://h/?a=1", "not a url"] {
            assert!(
                matches!(
                    Host::parse("base_url", bad),
                    Err(ClientError::BadUrl { .. })
                ),
                "{bad}"
            );
        }
    }
}
