//! Which browser pages may call the API (CORS, `[api] cors_origins`): a pure rule. A request
//! without an `Origin` header (curl, a POS program) or from the API's own pages passes; a page
//! of a listed origin passes and is told so; any other page is refused before the handler runs
//! — a browser would hide the answer from it, but a "simple" cross-site POST would still be
//! performed, and a web page must never start a sale on the till.

/// How a request's origin stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No `Origin` header, or the API's own (`http://<Host>`): no CORS headers needed.
    Own,
    /// A listed origin: answered with `Access-Control-Allow-Origin` naming it.
    Listed(String),
    /// Any other page: 403, nothing done.
    Refused(String),
}

/// The stand of `origin` for a request to `host` (its `Host` header) under `listed`.
pub fn check(origin: Option<&str>, host: Option<&str>, listed: &[String]) -> Origin {
    let Some(o) = origin else { return Origin::Own };
    let o = o.trim();
    if host.is_some_and(|h| o == format!("http://{h}")) {
        return Origin::Own;
    }
    if listed.iter().any(|l| l == o) {
        return Origin::Listed(o.to_string());
    }
    Origin::Refused(o.to_string())
}

/// Whether a request's `Host` names this machine's loopback (`127.0.0.1`, `localhost`, `[::1]`,
/// with any port). Without a token the API answers only such requests: a page that rebinds its
/// own name to 127.0.0.1 (DNS rebinding) sends its own name as `Host` and is refused.
pub fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_listed_and_refused() {
        let listed = vec!["http://pos.local:3000".to_string()];
        let host = Some("127.0.0.1:8765");
        assert_eq!(check(None, host, &listed), Origin::Own);
        assert_eq!(
            check(Some("http://127.0.0.1:8765"), host, &listed),
            Origin::Own
        );
        assert_eq!(
            check(Some("http://pos.local:3000"), host, &listed),
            Origin::Listed("http://pos.local:3000".into())
        );
        assert!(matches!(
            check(Some("http://evil.example"), host, &listed),
            Origin::Refused(_)
        ));
        assert!(matches!(
            check(Some("null"), host, &listed),
            Origin::Refused(_)
        ));
        assert!(matches!(
            check(Some("http://pos.local:3000"), host, &[]),
            Origin::Refused(_)
        ));
    }

    #[test]
    fn only_loopback_names_pass_without_a_token() {
        for ok in [
            "127.0.0.1:8765",
            "localhost:8765",
            "[::1]:8765",
            "127.0.0.1",
            "localhost",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8765",
            "192.168.1.5:8765",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
