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
}
