//! Client construction errors and transport errors, with the classification of reqwest failures.
use crate::words::Bilingual;
use std::error::Error as StdError;
use std::path::PathBuf;
use std::time::Duration;

/// A bad client setting, found before any request is sent. Each message names the setting and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A URL setting does not parse or has a part the API cannot use.
    #[error(
        "{setting} = {url:?} is not a usable URL ({reason}); write it like \"https://api.mch.weixin.qq.com\""
    )]
    BadUrl {
        setting: &'static str,
        url: String,
        reason: String,
    },
    /// Plain http toward a non-loopback host.
    #[error(
        "{setting} = {url:?} uses plain http:// to a host that is not this machine; use https:// (plain http is only allowed for 127.0.0.1, ::1 or localhost)"
    )]
    PlainHttp { setting: &'static str, url: String },
    /// A duration or size setting is zero.
    #[error("{setting} must be greater than zero")]
    Zero { setting: &'static str },
    /// A certificate or key file could not be read.
    #[error("cannot read {setting} file {}: {source}; check the path and that paycode may read it", .path.display())]
    ReadFile {
        setting: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A PEM file holds nothing usable.
    #[error("{setting} file {} {reason}", .path.display())]
    BadPem {
        setting: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// The private key file is readable by group or others.
    #[error("private key file {} is readable by other users (mode {mode:o}); run: chmod 600 {}", .path.display(), .path.display())]
    KeyFileTooOpen { path: PathBuf, mode: u32 },
    /// A `.p12` bundle could not be opened.
    #[error("cannot load {} ({reason}); check the password (WeChat sets it to your mch_id), or convert it once to a PEM pair and set identity to the two files:\n  openssl pkcs12 -legacy -in {} -clcerts -nokeys -out apiclient_cert.pem\n  openssl pkcs12 -legacy -in {} -nocerts -nodes -out apiclient_key.pem && chmod 600 apiclient_key.pem", .path.display(), .path.display(), .path.display())]
    Pkcs12 { path: PathBuf, reason: String },
    /// No CA certificates to verify an https server with.
    #[error(
        "no trusted CA certificates found on this machine for {url}; install the system CA bundle (e.g. apt-get install ca-certificates) or set extra_root_ca"
    )]
    NoRootCertificates { url: String },
    /// The TLS configuration was refused (for example, certificate and key do not match).
    #[error("TLS setup failed: {reason}; check that identity cert and key belong together")]
    Tls { reason: String },
    /// The HTTP client could not be built.
    #[error("HTTP client setup failed: {reason}")]
    Build { reason: String },
}

impl Bilingual for ClientError {
    fn zh(&self) -> String {
        match self {
            Self::BadUrl { setting, url, .. } => {
                format!(
                    "{setting} = {url:?} 不是可用的网址；请写成 \"https://api.mch.weixin.qq.com\""
                )
            }
            Self::PlainHttp { setting, url } => {
                format!("{setting} = {url:?} 使用明文 http:// 访问非本机地址；请改用 https://")
            }
            Self::Zero { setting } => format!("{setting} 必须大于零"),
            Self::ReadFile { setting, path, .. } => {
                format!(
                    "无法读取 {setting} 文件 {}；请检查路径和权限",
                    path.display()
                )
            }
            Self::BadPem { setting, path, .. } => {
                format!(
                    "{setting} 文件 {} 内容无效（需要 PEM 格式）",
                    path.display()
                )
            }
            Self::KeyFileTooOpen { path, .. } => format!(
                "私钥文件 {} 可被其他用户读取；请执行：chmod 600 {}",
                path.display(),
                path.display()
            ),
            Self::Pkcs12 { path, .. } => format!(
                "无法加载 .p12 证书 {}；请检查密码（即商户号），或用 openssl pkcs12 -legacy 转换为 PEM 证书和私钥",
                path.display()
            ),
            Self::NoRootCertificates { url } => {
                format!(
                    "本机没有可信的根证书，无法验证 {url}；请安装 ca-certificates 或设置 extra_root_ca"
                )
            }
            Self::Tls { reason } => format!("TLS 配置失败:{reason};请检查证书与私钥是否匹配"),
            Self::Build { .. } => "HTTP 客户端初始化失败".to_string(),
        }
    }
}

/// Why a request got no usable reply. `maybe_delivered` tells whether WeChat may have acted on it.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No connection was made (refused, unreachable, DNS, connect timeout): the request was not sent.
    #[error("cannot connect to {host}: {reason}")]
    Connect { host: String, reason: String },
    /// The TLS handshake failed (untrusted, expired or wrong-host certificate, client cert refused).
    #[error("TLS with {host} failed: {reason}")]
    Tls {
        host: String,
        reason: String,
        /// False when the handshake failed before the request was handed to the connection.
        /// True when the server refused the handshake after this side had finished its half and
        /// written the encrypted request (TLS 1.3): the server's TLS layer drops such bytes
        /// undecrypted, so its HTTP layer never saw them, but they did leave this machine.
        request_written: bool,
    },
    /// The endpoint needs the merchant certificate and none is configured.
    #[error(
        "{path} needs the merchant API certificate; set identity (apiclient_cert.pem + apiclient_key.pem)"
    )]
    NoClientCert { path: &'static str },
    /// The whole-request timeout passed after the connection was made.
    #[error("no complete reply from {host} within {} ms", .after.as_millis())]
    Timeout { host: String, after: Duration },
    /// The request was sent but reading the reply failed.
    #[error("reading the reply from {host} failed: {reason}")]
    Body { host: String, reason: String },
    /// The reply is larger than `max_reply_bytes`; reading stopped there.
    #[error("reply from {host} is larger than {limit} bytes")]
    TooLarge { host: String, limit: usize },
    /// The server answered with a non-2xx HTTP status.
    #[error("{host} answered HTTP {status}: {excerpt}")]
    Status {
        host: String,
        status: u16,
        /// At most 80 characters of the body, control characters removed.
        excerpt: String,
    },
}

impl TransportError {
    /// True unless the request surely never reached WeChat (then a retry cannot double-charge).
    pub fn maybe_delivered(&self) -> bool {
        !matches!(
            self,
            Self::Connect { .. } | Self::Tls { .. } | Self::NoClientCert { .. }
        )
    }
}

impl Bilingual for TransportError {
    /// The whole story in Chinese: what happened, whether the request left, and the system's
    /// own reason (it has no Chinese form) so nothing is cut from what the English says.
    fn zh(&self) -> String {
        match self {
            Self::Connect { host, reason } => {
                format!("无法连接 {host}(请求未发出):{reason}")
            }
            Self::Tls {
                host,
                request_written: false,
                reason,
            } => format!("与 {host} 的安全连接失败(证书问题,请求未发出):{reason}"),
            Self::Tls { host, reason, .. } => {
                format!("{host} 拒绝了安全连接(证书问题,请求未被受理):{reason}")
            }
            Self::NoClientCert { path } => format!("{path} 需要商户 API 证书;请配置 identity"),
            Self::Timeout { host, after } => {
                format!(
                    "{host} 在 {} 毫秒内未完整应答(请求可能已送达)",
                    after.as_millis()
                )
            }
            Self::Body { host, reason } => {
                format!("读取 {host} 的应答失败(请求可能已送达):{reason}")
            }
            Self::TooLarge { host, limit } => format!("{host} 的应答超过 {limit} 字节"),
            Self::Status {
                host,
                status,
                excerpt,
            } => format!("{host} 返回 HTTP {status}:{excerpt}"),
        }
    }
}

/// Where in the exchange a reqwest error happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Phase {
    /// Sending the request and waiting for the status line.
    Send,
    /// Reading the reply body (the server already answered).
    Body,
}

/// Sorts a reqwest error into our buckets.
/// `timeout` is the whole-request timeout, reported when reqwest's own timer fired.
pub(crate) fn classify(
    e: &reqwest::Error,
    host: &str,
    phase: Phase,
    timeout: Duration,
) -> TransportError {
    let host = host.to_string();
    let reason = chain_text(e);
    if e.is_timeout() && !(phase == Phase::Send && e.is_connect()) {
        return TransportError::Timeout {
            host,
            after: timeout,
        };
    }
    if phase == Phase::Body {
        return TransportError::Body { host, reason };
    }
    // The handshake runs inside reqwest's connector, before hyper writes a byte of the request:
    // a TLS error there is a handshake failure with nothing sent. After the connector, only a
    // handshake refusal by the server (TLS 1.3: our half finished, the request written
    // encrypted, then its certificate alert) still means its HTTP layer never saw the request;
    // any other TLS error then (a broken record, an internal alert) may follow a request it read.
    if let Some(tls) = find_rustls_error(e) {
        let connecting = e.is_connect();
        if connecting || refuses_handshake(tls) {
            return TransportError::Tls {
                host,
                reason: tls.to_string(),
                request_written: !connecting,
            };
        }
        return TransportError::Body { host, reason };
    }
    if e.is_connect() {
        return TransportError::Connect { host, reason };
    }
    TransportError::Body { host, reason }
}

/// True for the alerts a server sends only while it refuses a handshake, never once it has
/// accepted one: the client's certificate missing, unknown, expired, revoked or not allowed, and
/// `decrypt_error`, which RFC 8446 §6.2 reserves for handshake cryptography (a record that does
/// not decrypt is `bad_record_mac`).
fn refuses_handshake(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        e,
        rustls::Error::AlertReceived(
            A::HandshakeFailure
                | A::NoCertificate
                | A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::AccessDenied
                | A::CertificateRequired
                | A::DecryptError
        )
    )
}

/// The rustls error somewhere in the source chain, looking inside `io::Error` wrappers too
/// (`io::Error::source` skips the wrapped error itself).
fn find_rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(tls) = find_rustls_error(inner)
        {
            return Some(tls);
        }
        cur = err.source();
    }
    None
}

/// The error and its causes on one line (URLs never hold secrets; bodies are never in errors).
fn chain_text(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut cur = StdError::source(e);
    while let Some(err) = cur {
        out.push_str(": ");
        out.push_str(&err.to_string());
        cur = err.source();
    }
    out
}

/// At most 80 characters of a reply body for logs and errors, control characters and direction
/// marks dropped and
/// digit runs of 16 or more masked — an error page may echo the request, payment code and all
/// (FAULTS.md row 85). Masked over the whole body first, so a code at the cut is masked too.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let plain: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_control() && !crate::untrusted::is_direction_mark(*c))
        .collect();
    crate::authcode::mask_digit_runs(&plain)
        .chars()
        .take(80)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let body = format!("<xml>\n{}</xml>", "é".repeat(200));
        let ex = excerpt(body.as_bytes());
        assert_eq!(ex.chars().count(), 80);
        assert!(ex.starts_with("<xml>é"));
        assert!(!ex.contains('\n'));
    }

    #[test]
    fn only_handshake_alerts_prove_a_refused_handshake() {
        use rustls::AlertDescription as A;
        for yes in [
            A::CertificateRequired,
            A::BadCertificate,
            A::UnknownCA,
            A::DecryptError,
        ] {
            assert!(
                refuses_handshake(&rustls::Error::AlertReceived(yes)),
                "{yes:?}"
            );
        }
        // After a handshake: the peer's internal error, a record that does not decrypt here.
        for no in [
            rustls::Error::AlertReceived(A::InternalError),
            rustls::Error::AlertReceived(A::BadRecordMac),
            rustls::Error::DecryptError,
        ] {
            assert!(!refuses_handshake(&no), "{no:?}");
        }
    }

    #[test]
    fn only_unsent_failures_are_not_delivered() {
        let host = || "h".to_string();
        let not_sent = TransportError::Connect {
            host: host(),
            reason: "refused".into(),
        };
        assert!(!not_sent.maybe_delivered());
        let timeout = TransportError::Timeout {
            host: host(),
            after: Duration::from_secs(1),
        };
        assert!(timeout.maybe_delivered());
        let status = TransportError::Status {
            host: host(),
            status: 502,
            excerpt: String::new(),
        };
        assert!(status.maybe_delivered());
    }
}
