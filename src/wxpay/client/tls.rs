//! rustls configurations (ring provider, system roots plus an optional extra CA, the merchant
//! certificate) and the checks on the files they come from.
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore};

use super::{ClientError, Identity};

/// The two TLS configurations: without and with the merchant certificate.
pub(crate) struct TlsConfigs {
    pub plain: ClientConfig,
    pub mutual: Option<ClientConfig>,
}

/// Builds the configurations. `https_url` is one configured https URL, if any: with no roots at
/// all it would fail every handshake, so that is reported now instead.
pub(crate) fn build(
    extra_root_ca: Option<&Path>,
    identity: Option<&Identity>,
    https_url: Option<&str>,
) -> Result<TlsConfigs, ClientError> {
    let roots = Arc::new(root_store(extra_root_ca)?);
    if let (true, Some(url)) = (roots.is_empty(), https_url) {
        return Err(ClientError::NoRootCertificates {
            url: url.to_string(),
        });
    }
    let plain = builder(&roots)?.with_no_client_auth();
    let mutual = match identity {
        None => None,
        Some(id) => {
            // Named in the error: rustls says only that a key would not parse, not whose.
            let (certs, key, files) = match id {
                Identity::PemPair { cert, key } => (
                    load_certs("identity cert", cert)?,
                    load_key(key)?,
                    format!("{} with {}", key.display(), cert.display()),
                ),
                Identity::Pkcs12 { path, password } => {
                    let (c, k) = load_pkcs12(path, password)?;
                    (c, k, path.display().to_string())
                }
            };
            Some(
                builder(&roots)?
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| ClientError::Tls {
                        reason: format!("{e} ({files})"),
                    })?,
            )
        }
    };
    Ok(TlsConfigs { plain, mutual })
}

fn builder(
    roots: &Arc<RootCertStore>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>, ClientError> {
    // The provider is chosen here, not process-wide, so no other crate's default can slip in.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls {
            reason: e.to_string(),
        })?
        .with_root_certificates(Arc::clone(roots)))
}

/// The system's CA bundle, read once per process: parsing it costs tens of milliseconds and it
/// does not change while paycode runs. Unreadable certificates are skipped; an empty store is
/// reported by the caller.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The system's CA bundle plus the configured extra CA (used for a local simulator).
fn root_store(extra_root_ca: Option<&Path>) -> Result<RootCertStore, ClientError> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(system_roots().iter().cloned());
    if let Some(path) = extra_root_ca {
        for cert in load_certs("extra_root_ca", path)? {
            store.add(cert).map_err(|e| ClientError::BadPem {
                setting: "extra_root_ca",
                path: path.to_path_buf(),
                reason: format!("holds a certificate that cannot be a trust anchor: {e}"),
            })?;
        }
    }
    Ok(store)
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::ReadFile {
        setting,
        path: path.to_path_buf(),
        source,
    })
}

fn load_certs(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let bytes = read(setting, path)?;
    let bad = |reason: String| ClientError::BadPem {
        setting,
        path: path.to_path_buf(),
        reason,
    };
    let certs = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad(
            "holds no \"BEGIN CERTIFICATE\" block; give the PEM certificate file".to_string(),
        ));
    }
    Ok(certs)
}

/// The merchant certificate (DER) inside a `.p12`, for its expiry date (`paycode check`).
pub(crate) fn p12_certificate(path: &Path, password: &str) -> Result<Vec<u8>, ClientError> {
    let (certs, _) = load_pkcs12(path, password)?;
    Ok(certs
        .first()
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default())
}

/// Reads WeChat's `apiclient_cert.p12` (legacy RC2-40 / 3DES encryption; password = mch_id).
fn load_pkcs12(
    path: &Path,
    password: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ClientError> {
    check_key_mode(path)?;
    // Key material is wiped when dropped (FAULTS.md row 87: a dump must not find it).
    let bytes = zeroize::Zeroizing::new(read("identity p12", path)?);
    let bad = |reason: String| ClientError::Pkcs12 {
        path: path.to_path_buf(),
        reason,
    };
    // The p12 library's errors never contain the password.
    let store = p12_keystore::KeyStore::from_pkcs12(
        &bytes,
        password,
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .map_err(|e| bad(format!("{e} (wrong password?)")))?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| bad("it holds no private key".to_string()))?;
    let certs: Vec<CertificateDer<'static>> = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    if certs.is_empty() {
        return Err(bad("its private key has no certificate".to_string()));
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ClientError> {
    check_key_mode(path)?;
    let bytes = zeroize::Zeroizing::new(read("identity key", path)?);
    let bad = |reason: &str| ClientError::BadPem {
        setting: "identity key",
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    match rustls_pemfile::private_key(&mut bytes.as_slice()) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(bad(
            "holds no \"BEGIN PRIVATE KEY\" block; give apiclient_key.pem",
        )),
        Err(_) => Err(bad("is not valid PEM; give apiclient_key.pem")),
    }
}

/// Refuses a private key (or a .p12 holding one) that other accounts on the till can read.
#[cfg(unix)]
fn check_key_mode(path: &Path) -> Result<(), ClientError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| ClientError::ReadFile {
        setting: "identity",
        path: path.to_path_buf(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ClientError::KeyFileTooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_mode(_path: &Path) -> Result<(), ClientError> {
    Ok(())
}
