//! The connection to the office's PostgreSQL (IO edge): rustls (ring) when the office is not on
//! this machine, the server's certificate checked against the system roots and `ca_file`; plain
//! only to loopback or a Unix socket (config validation refuses the rest). The password is set
//! on the connection here and nowhere else; errors never carry it.

use super::OfficeError;
use crate::config::{OfficeConfig, Password, SslMode};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where and how to connect: a till's `[office]`, or the admin's `--url`.
#[derive(Debug, Clone)]
pub struct Target {
    pub pg: tokio_postgres::Config,
    pub sslmode: SslMode,
    pub ca_file: Option<PathBuf>,
}

impl Target {
    /// A till's `[office]`.
    pub fn of(cfg: &OfficeConfig) -> Self {
        Self {
            pg: cfg.pg.clone(),
            sslmode: cfg.sslmode,
            ca_file: cfg.ca_file.clone(),
        }
    }
}

/// The till's office password: `[office] password_file` (read at load), else
/// `PAYCODE_OFFICE_PASSWORD`.
pub fn till_password(cfg: &OfficeConfig) -> Result<Password, OfficeError> {
    if let Some(p) = &cfg.password {
        return Ok(p.clone());
    }
    std::env::var(crate::config::ENV_OFFICE_PASSWORD)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Password::new)
        .ok_or(OfficeError::NoPassword)
}

/// Connect; the connection's task runs on the current runtime until the client is dropped.
pub async fn connect(
    t: &Target,
    password: Option<&Password>,
) -> Result<tokio_postgres::Client, OfficeError> {
    let mut pg = t.pg.clone();
    if let Some(p) = password {
        pg.password(p.expose());
    }
    pg.connect_timeout(Duration::from_secs(5))
        .keepalives_idle(Duration::from_secs(30))
        .application_name("paycode");
    match t.sslmode {
        SslMode::Disable => {
            pg.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, conn) = pg
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| connect_failed(e, &pg))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "office connection ended");
                }
            });
            Ok(client)
        }
        SslMode::Require => {
            pg.ssl_mode(tokio_postgres::config::SslMode::Require);
            let tls =
                tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(t.ca_file.as_deref())?);
            let (client, conn) = pg.connect(tls).await.map_err(|e| connect_failed(e, &pg))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "office connection ended");
                }
            });
            Ok(client)
        }
    }
}

/// A failed connection in words the operator can act on: the login refused (a wrong or
/// missing password) or the office not reached, rather than the driver's bare text.
fn connect_failed(e: tokio_postgres::Error, pg: &tokio_postgres::Config) -> OfficeError {
    let role = pg.get_user().unwrap_or("?").to_string();
    if let Some(db) = e.as_db_error() {
        return match db.code().code() {
            "28P01" | "28000" => OfficeError::Login {
                role,
                missing: false,
            },
            _ => OfficeError::Pg(e),
        };
    }
    if super::pg_text(&e).contains("password missing") {
        return OfficeError::Login {
            role,
            missing: true,
        };
    }
    let host = pg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(n) => n.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    OfficeError::Unreachable {
        at: format!("{host}:{port}"),
        cause: super::pg_text(&e),
    }
}

fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, OfficeError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot read is skipped, as the WeChat client does.
        let _ = roots.add(c);
    }
    if let Some(path) = ca_file {
        let text = crate::config::read_text(path, false, 1024 * 1024)
            .map_err(|(problem, fix)| OfficeError::Tls(format!("{problem}; {fix}")))?;
        for c in rustls_pemfile::certs(&mut text.as_bytes()) {
            let c = c.map_err(|e| OfficeError::Tls(format!("{}: {e}", path.display())))?;
            roots
                .add(c)
                .map_err(|e| OfficeError::Tls(format!("{}: {e}", path.display())))?;
        }
    }
    if roots.is_empty() {
        return Err(OfficeError::Tls(
            "no root certificate to check the office with: install ca-certificates or set [office] ca_file".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| OfficeError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
