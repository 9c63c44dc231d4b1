//! Certificates for the HTTPS simulator: a CA (rcgen), a server certificate for
//! 127.0.0.1/localhost, merchant client certificates, and the rustls server config that asks for
//! a client certificate optionally (the edge refuses `/secapi/*` without one).

use super::SimError;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The simulator's certificate authority (PEM). `Debug` hides the key.
#[derive(Clone)]
pub struct CertAuthority {
    cert_pem: String,
    key_pem: String,
}

impl fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CertAuthority(<key hidden>)")
    }
}

/// A certificate and its private key, PEM.
#[derive(Clone)]
pub struct Identity {
    /// Certificate, PEM.
    pub cert_pem: String,
    /// PKCS#8 private key, PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identity(<key hidden>)")
    }
}

fn tls_err(what: &str) -> impl Fn(rcgen::Error) -> SimError + '_ {
    move |e| SimError::Tls(format!("{what}: {e}"))
}

/// Always the same CA parameters, so a CA key read back from disk signs certificates that
/// chain to the CA certificate written earlier.
fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::CommonName, "paycode WeChat Pay simulator CA");
    p.distinguished_name
        .push(DnType::OrganizationName, "paycode simulator (not real)");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

impl CertAuthority {
    /// A fresh CA.
    pub fn generate() -> Result<Self, SimError> {
        let key = KeyPair::generate().map_err(tls_err("CA key"))?;
        let cert = ca_params()
            .self_signed(&key)
            .map_err(tls_err("CA certificate"))?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A CA from PEM text (as written by [`CertAuthority::write_dir`]).
    pub fn from_pem(cert_pem: String, key_pem: String) -> Result<Self, SimError> {
        KeyPair::from_pem(&key_pem).map_err(tls_err("CA key"))?;
        Ok(Self { cert_pem, key_pem })
    }

    /// The CA certificate (what a client trusts).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    fn issue(&self, params: CertificateParams, what: &str) -> Result<Identity, SimError> {
        let ca_key = KeyPair::from_pem(&self.key_pem).map_err(tls_err("CA key"))?;
        let issuer = Issuer::new(ca_params(), ca_key);
        let key = KeyPair::generate().map_err(tls_err(what))?;
        let cert = params.signed_by(&key, &issuer).map_err(tls_err(what))?;
        Ok(Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// A server certificate for 127.0.0.1, ::1 and localhost.
    pub fn server_identity(&self) -> Result<Identity, SimError> {
        let names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        let mut p = CertificateParams::new(names).map_err(tls_err("server certificate"))?;
        p.distinguished_name.push(DnType::CommonName, "localhost");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(p, "server certificate")
    }

    /// A merchant API client certificate (like `apiclient_cert.pem`), CN = `mch_id`.
    pub fn client_identity(&self, mch_id: &str) -> Result<Identity, SimError> {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, mch_id);
        p.distinguished_name.push(
            DnType::OrganizationName,
            "paycode simulator merchant (not real)",
        );
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(p, "client certificate")
    }

    /// Read `ca.pem` + `ca_key.pem` from `dir`, or create them there if absent.
    pub fn load_or_create(dir: &Path) -> Result<Self, SimError> {
        let io = |source| SimError::CertDir {
            path: dir.to_path_buf(),
            source,
        };
        let (cert, key) = (dir.join("ca.pem"), dir.join("ca_key.pem"));
        if cert.exists() && key.exists() {
            let cert_pem = std::fs::read_to_string(&cert).map_err(io)?;
            let key_pem = std::fs::read_to_string(&key).map_err(io)?;
            return Self::from_pem(cert_pem, key_pem);
        }
        std::fs::create_dir_all(dir).map_err(io)?;
        let ca = Self::generate()?;
        write_file(&cert, &ca.cert_pem, false).map_err(io)?;
        write_file(&key, &ca.key_pem, true).map_err(io)?;
        Ok(ca)
    }

    /// Write `ca.pem`, `apiclient_cert.pem` and `apiclient_key.pem` (keys mode 600) into `dir`
    /// (reusing the CA already there), so a config can point at them.
    pub fn write_dir(dir: &Path, mch_id: &str) -> Result<Self, SimError> {
        let ca = Self::load_or_create(dir)?;
        let client = ca.client_identity(mch_id)?;
        let io = |source| SimError::CertDir {
            path: dir.to_path_buf(),
            source,
        };
        write_file(&dir.join("apiclient_cert.pem"), &client.cert_pem, false).map_err(io)?;
        write_file(&dir.join("apiclient_key.pem"), &client.key_pem, true).map_err(io)?;
        Ok(ca)
    }
}

/// Write `text` to `path`; private files get mode 600 (also when they already existed).
fn write_file(path: &Path, text: &str, private: bool) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    std::io::Write::write_all(&mut f, text.as_bytes())
}

/// rustls server config: `server` as identity, client certificates signed by `ca` requested
/// but optional (the edge enforces them on `/secapi/*`).
pub fn server_config(
    ca: &CertAuthority,
    server: &Identity,
) -> Result<Arc<rustls::ServerConfig>, SimError> {
    let e = |what: &str| {
        let what = what.to_string();
        move |err: rustls::Error| SimError::Tls(format!("{what}: {err}"))
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    let ca_der = rustls_pemfile::certs(&mut ca.cert_pem.as_bytes())
        .next()
        .ok_or_else(|| SimError::Tls("the CA PEM holds no certificate".into()))?
        .map_err(|err| SimError::Tls(format!("CA PEM: {err}")))?;
    roots.add(ca_der).map_err(e("CA certificate"))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|err| SimError::Tls(format!("client verifier: {err}")))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(e("protocol versions"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server.cert_der.clone()], key)
        .map_err(e("server certificate"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_and_modes_and_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let a = CertAuthority::write_dir(dir.path(), "1000000001").unwrap();
        for f in [
            "ca.pem",
            "ca_key.pem",
            "apiclient_cert.pem",
            "apiclient_key.pem",
        ] {
            let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
            assert!(text.starts_with("-----BEGIN"), "{f}");
        }
        #[cfg(unix)]
        for f in ["ca_key.pem", "apiclient_key.pem"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let b = CertAuthority::write_dir(dir.path(), "1000000001").unwrap();
        assert_eq!(a.cert_pem(), b.cert_pem(), "the CA is reused, not replaced");
        assert!(format!("{a:?}").contains("hidden"));
    }
}
