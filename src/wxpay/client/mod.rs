//! HTTP transport to WeChat Pay: posts an XML string to an endpoint and returns the raw reply
//! bytes. The only module that knows reqwest. It does not sign, parse or know about orders.
//!
//! One pooled keep-alive client (rustls with the ring provider) serves every call; connect and
//! whole-request timeouts, a reply size cap, failover to the backup host that can never resend a
//! payment the primary may have received (`failover`).
#![allow(clippy::disallowed_methods)] // IO edge: the HTTP edge measures round trips.
mod error;
mod expiry;
mod failover;
mod host;
mod tls;

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, DATE, HeaderValue};

pub use error::{ClientError, TransportError};
use error::{Phase, classify, excerpt};
pub use expiry::cert_days_left;
use failover::HostChoice;
pub use failover::STICKY_PERIOD;
use host::Host;
pub use host::local_ip_towards;

pub use crate::wxpay::endpoint::Endpoint;

/// The merchant API certificate for mutual TLS.
#[derive(Clone)]
pub enum Identity {
    /// `apiclient_cert.pem` + `apiclient_key.pem` (the key file must be mode 600).
    PemPair { cert: PathBuf, key: PathBuf },
    /// `apiclient_cert.p12` as WeChat ships it (legacy RC2-40); the password is the mch_id.
    Pkcs12 { path: PathBuf, password: String },
}

/// The .p12 password is wiped when dropped, like the API key.
impl Drop for Identity {
    fn drop(&mut self) {
        if let Identity::Pkcs12 { password, .. } = self {
            zeroize::Zeroize::zeroize(password);
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::PemPair { cert, key } => f
                .debug_struct("PemPair")
                .field("cert", cert)
                .field("key", key)
                .finish(),
            Identity::Pkcs12 { path, .. } => f
                .debug_struct("Pkcs12")
                .field("path", path)
                .field("password", &"***")
                .finish(),
        }
    }
}

/// Everything the client needs; see `ClientSettings::new` for the defaults.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// "https://api.mch.weixin.qq.com", or "http://127.0.0.1:PORT"; may carry a path prefix.
    pub base_url: String,
    /// "https://api2.mch.weixin.qq.com": a failed call may be repeated there (micropay and
    /// refund only when the primary surely never got it); see `Client::post`.
    pub backup_url: Option<String>,
    /// Time allowed to open the TCP connection (TLS handshake included).
    pub connect_timeout: Duration,
    /// Time allowed for the whole request, reply body included.
    pub timeout: Duration,
    /// Longest reply accepted.
    pub max_reply_bytes: usize,
    /// An extra trusted CA (PEM), for the local simulator's TLS.
    pub extra_root_ca: Option<PathBuf>,
    /// The merchant certificate, presented to `/secapi/*`.
    pub identity: Option<Identity>,
}

impl ClientSettings {
    /// Settings for `base_url` with the defaults: connect 5 s, whole request 10 s, replies ≤ 64 KiB.
    pub fn new(base_url: impl Into<String>) -> ClientSettings {
        ClientSettings {
            base_url: base_url.into(),
            backup_url: None,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_reply_bytes: 64 * 1024,
            extra_root_ca: None,
            identity: None,
        }
    }
}

/// Which host answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostUsed {
    /// `base_url`.
    Primary,
    /// `backup_url`.
    Backup,
}

impl HostUsed {
    /// The other one.
    pub fn other(self) -> HostUsed {
        match self {
            Self::Primary => Self::Backup,
            Self::Backup => Self::Primary,
        }
    }

    /// "primary" or "backup", for logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Backup => "backup",
        }
    }
}

/// A 2xx reply, unparsed.
#[derive(Debug, Clone)]
pub struct RawReply {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The reply body, at most `max_reply_bytes`.
    pub body: Vec<u8>,
    /// Which host answered.
    pub host: HostUsed,
    /// The HTTP `Date` header, for clock-skew checks.
    pub server_date: Option<String>,
    /// Time from the call to the end of the body, failover included.
    pub elapsed: Duration,
}

impl RawReply {
    /// Seconds the server's clock is ahead of `now_unix`, from its `Date` header.
    pub fn clock_skew(&self, now_unix: i64) -> Option<i64> {
        self.server_date
            .as_deref()
            .and_then(|d| clock_skew(d, now_unix))
    }
}

/// Seconds a server's clock is ahead of ours, from its HTTP `Date` header
/// (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn clock_skew(date_header: &str, now_unix: i64) -> Option<i64> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(date_header.trim(), &fmt).ok()?;
    Some(t.assume_utc().unix_timestamp() - now_unix)
}

/// The WeChat Pay HTTP client: cheap to share behind an `Arc`, connections are pooled.
#[derive(Debug)]
pub struct Client {
    plain: reqwest::Client,
    // A second pool for /secapi/*: TLS client auth happens at the handshake, before the path is
    // known, so one pool would present the merchant certificate on every connection; keeping it
    // apart means an expired or refused certificate can never break micropay connections.
    mutual: Option<reqwest::Client>,
    primary: Host,
    backup: Option<Host>,
    /// Which host goes first; shared by every call of this client (held only between tries).
    choice: Mutex<HostChoice>,
    timeout: Duration,
    max_reply_bytes: usize,
    /// How the latest call went (the cashier screen's network light reads it).
    last: Mutex<Option<LastCall>>,
}

/// The outcome of one call to WeChat: when it ended, how long it took, whether a 2xx reply came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastCall {
    pub at: Instant,
    pub took: Duration,
    pub ok: bool,
}

impl Client {
    /// Validates the settings, loads certificates and builds the connection pools (no IO to the hosts).
    pub fn new(s: ClientSettings) -> Result<Client, ClientError> {
        if s.connect_timeout.is_zero() {
            return Err(ClientError::Zero {
                setting: "connect_timeout",
            });
        }
        if s.timeout.is_zero() {
            return Err(ClientError::Zero { setting: "timeout" });
        }
        if s.max_reply_bytes == 0 {
            return Err(ClientError::Zero {
                setting: "max_reply_bytes",
            });
        }
        let primary = Host::parse("base_url", &s.base_url)?;
        let backup = s
            .backup_url
            .as_deref()
            .map(|u| Host::parse("backup_url", u))
            .transpose()?;
        let https_url = [Some(&primary), backup.as_ref()]
            .into_iter()
            .flatten()
            .find(|h| h.https)
            .map(|h| h.root.as_str());
        let configs = tls::build(s.extra_root_ca.as_deref(), s.identity.as_ref(), https_url)?;
        let plain = build_pool(configs.plain, &s)?;
        let mutual = configs.mutual.map(|c| build_pool(c, &s)).transpose()?;
        Ok(Client {
            plain,
            mutual,
            primary,
            backup,
            choice: Mutex::new(HostChoice::default()),
            timeout: s.timeout,
            max_reply_bytes: s.max_reply_bytes,
            last: Mutex::new(None),
        })
    }

    /// How the latest call (not the warm-up probe) went, if one was made.
    pub fn last_call(&self) -> Option<LastCall> {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Posts `xml` to `ep` and returns the 2xx reply. With a backup host, a failed try may be
    /// repeated once on the other host (`failover::failover_reason`), and after the backup
    /// answered for the primary it goes first for [`STICKY_PERIOD`].
    pub async fn post(&self, ep: Endpoint, xml: String) -> Result<RawReply, TransportError> {
        let start = Instant::now();
        let result = self.post_at(ep, xml, start).await;
        let done = LastCall {
            at: Instant::now(),
            took: start.elapsed(),
            ok: result.is_ok(),
        };
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(done);
        result
    }

    /// [`Client::post`] with the moment that decides which host goes first and when a
    /// preference for the backup ends (tests pass their own; `elapsed` still uses the clock).
    pub async fn post_at(
        &self,
        ep: Endpoint,
        xml: String,
        now: Instant,
    ) -> Result<RawReply, TransportError> {
        let start = Instant::now();
        let Some(backup) = self.backup.as_ref() else {
            let result = self
                .attempt(ep, xml, &self.primary, HostUsed::Primary)
                .await;
            return result.map(|r| raw_reply(r, HostUsed::Primary, start));
        };
        let first = self.choice().first(now);
        let second = first.other();
        let host = |h: HostUsed| match h {
            HostUsed::Primary => &self.primary,
            HostUsed::Backup => backup,
        };
        // The copy kept for a second try: the same bytes, so a retry is the same request.
        let body = xml.clone();
        let e = match self.attempt(ep, body, host(first), first).await {
            Ok(r) => return Ok(raw_reply(r, first, start)),
            Err(e) => e,
        };
        let Some(reason) = failover::failover_reason(ep, &e) else {
            return Err(e);
        };
        tracing::warn!(endpoint = ep.path(), from = first.name(), from_host = %host(first).name,
            to = second.name(), to_host = %host(second).name, reason, error = %e,
            "failing over to the other host");
        match self.attempt(ep, xml, host(second), second).await {
            Ok(r) => {
                self.choice().record(now, first, second);
                match second {
                    HostUsed::Backup => tracing::warn!(
                        endpoint = ep.path(),
                        period_s = STICKY_PERIOD.as_secs(),
                        "the backup host answered; it goes first for the period"
                    ),
                    HostUsed::Primary => tracing::info!(
                        endpoint = ep.path(),
                        "the primary host answered; it goes first again"
                    ),
                }
                Ok(raw_reply(r, second, start))
            }
            // Keep the error that admits the request may have gone through.
            Err(e2) if e.maybe_delivered() => {
                tracing::warn!(endpoint = ep.path(), error = %e2, "the other host failed too");
                Err(e)
            }
            Err(e2) => Err(e2),
        }
    }

    /// The host preference; a panic elsewhere while it was held cannot leave it half-written
    /// (it is one `Copy` value), so a poisoned lock is still usable.
    fn choice(&self) -> std::sync::MutexGuard<'_, HostChoice> {
        self.choice.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the keep-alive connection to the primary host ahead of the first sale (a HEAD
    /// request to the base URL; any HTTP status counts as success).
    pub async fn warm_up(&self) -> Result<(), TransportError> {
        let host = &self.primary;
        let send = self.plain.head(host.root.clone()).send();
        match tokio::time::timeout(self.timeout, send).await {
            Ok(Ok(resp)) => {
                tracing::debug!(host = %host.name, status = resp.status().as_u16(), "connection warmed up");
                Ok(())
            }
            Ok(Err(e)) => Err(classify(&e, &host.name, Phase::Send, self.timeout)),
            Err(_) => Err(TransportError::Timeout {
                host: host.name.clone(),
                after: self.timeout,
            }),
        }
    }

    /// One try on one host, bounded by the whole-request timeout; logged with the host's role
    /// (never the request body: it holds the payment code).
    async fn attempt(
        &self,
        ep: Endpoint,
        xml: String,
        host: &Host,
        role: HostUsed,
    ) -> Result<(u16, Vec<u8>, Option<String>), TransportError> {
        let start = Instant::now();
        let pool = if ep.needs_client_cert() && host.https {
            self.mutual
                .as_ref()
                .ok_or(TransportError::NoClientCert { path: ep.path() })?
        } else {
            &self.plain
        };
        let result =
            match tokio::time::timeout(self.timeout, self.exchange(pool, ep, xml, host)).await {
                Ok(r) => r,
                Err(_) => Err(TransportError::Timeout {
                    host: host.name.clone(),
                    after: self.timeout,
                }),
            };
        let elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok((status, _, _)) => {
                tracing::info!(endpoint = ep.path(), host = %host.name, role = role.name(), status, elapsed_ms, "reply")
            }
            Err(e) => {
                tracing::warn!(endpoint = ep.path(), host = %host.name, role = role.name(), elapsed_ms, error = %e, "no reply")
            }
        }
        result
    }

    async fn exchange(
        &self,
        pool: &reqwest::Client,
        ep: Endpoint,
        xml: String,
        host: &Host,
    ) -> Result<(u16, Vec<u8>, Option<String>), TransportError> {
        let mut resp = pool
            .post(host.url(ep).clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            )
            .body(xml)
            .send()
            .await
            .map_err(|e| classify(&e, &host.name, Phase::Send, self.timeout))?;
        let status = resp.status().as_u16();
        let server_date = resp
            .headers()
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let ok = (200..300).contains(&status);
        let limit = ep.reply_cap(self.max_reply_bytes);
        let too_large = || TransportError::TooLarge {
            host: host.name.clone(),
            limit,
        };
        if ok && resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        // Stream the body and stop at the cap: a hostile or broken server cannot make us buffer more.
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| classify(&e, &host.name, Phase::Body, self.timeout))?
        {
            let room = limit - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        if !ok {
            return Err(TransportError::Status {
                host: host.name.clone(),
                status,
                excerpt: excerpt(&body),
            });
        }
        if truncated {
            return Err(too_large());
        }
        Ok((status, body, server_date))
    }
}

/// One try's result as the reply of the whole call (which began at `start`).
fn raw_reply(
    (status, body, server_date): (u16, Vec<u8>, Option<String>),
    host: HostUsed,
    start: Instant,
) -> RawReply {
    RawReply {
        status,
        body,
        host,
        server_date,
        elapsed: start.elapsed(),
    }
}

fn build_pool(
    mut tls: rustls::ClientConfig,
    s: &ClientSettings,
) -> Result<reqwest::Client, ClientError> {
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(s.connect_timeout)
        // Backstop only: `Client::attempt` bounds each try with the same whole-request timeout.
        .timeout(s.timeout)
        .http1_only()
        // The API never redirects; following one could carry a payment code to another host.
        .redirect(reqwest::redirect::Policy::none())
        // Retries are the caller's decision (a re-sent micropay is a business decision).
        .retry(reqwest::retry::never())
        // Requests go straight to the API host; environment proxy variables are ignored.
        .no_proxy()
        .user_agent(concat!("paycode/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ClientError::Build {
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_skew_from_the_date_header() {
        assert_eq!(
            clock_skew("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
            Some(0)
        );
        assert_eq!(
            clock_skew("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_700),
            Some(77)
        );
        assert_eq!(clock_skew("yesterday", 0), None);
    }

    use super::*;

    #[test]
    fn endpoint_table() {
        let paths: Vec<_> = Endpoint::ALL.iter().map(|e| e.path()).collect();
        assert_eq!(
            paths,
            [
                "/pay/micropay",
                "/pay/orderquery",
                "/secapi/pay/reverse",
                "/secapi/pay/refund",
                "/pay/refundquery",
                "/pay/downloadbill"
            ]
        );
        for (i, ep) in Endpoint::ALL.iter().enumerate() {
            assert_eq!(ep.index(), i);
        }
        let mtls: Vec<_> = Endpoint::ALL
            .iter()
            .filter(|e| e.needs_client_cert())
            .collect();
        assert_eq!(mtls, [&Endpoint::Reverse, &Endpoint::Refund]);
        let money: Vec<_> = Endpoint::ALL.iter().filter(|e| e.moves_money()).collect();
        assert_eq!(money, [&Endpoint::Micropay, &Endpoint::Refund]);
    }

    #[test]
    fn p12_password_never_in_debug() {
        let s = ClientSettings {
            identity: Some(Identity::Pkcs12 {
                path: "apiclient_cert.p12".into(),
                password: "1900000109".into(),
            }),
            ..ClientSettings::new("https://api.mch.weixin.qq.com")
        };
        let dbg = format!("{s:?}");
        assert!(dbg.contains("apiclient_cert.p12"));
        assert!(!dbg.contains("1900000109"));
    }

    #[test]
    fn zero_settings_are_refused() {
        let mut s = ClientSettings::new("http://127.0.0.1:1");
        s.max_reply_bytes = 0;
        let err = Client::new(s).expect_err("zero cap");
        assert!(err.to_string().contains("max_reply_bytes"));
    }
}
