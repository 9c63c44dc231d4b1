//! Certificates for the HTTPS simulator: a CA (rcgen), a server certificate for
//! 127.0.0.1/localhost, merchant client certificates, and the rustls server config that asks for
//! a client certificate optionally (the edge refuses `/secapi/*` without one).
//!
//! The CA's key sits in a plain directory, so the CA itself is kept harmless: name-constrained to
//! `localhost`, 127.0.0.0/8 and ::1 (a certificate it signs for any other host fails webpki's
//! check, even where the CA is trusted) and short-lived (90 days). A CA on disk that lacks either
//! is replaced, with a note (`load_or_create`).

use super::SimError;
use super::cert_dir;
use crate::config::{SIMULATOR_CA_CN, SIMULATOR_CA_ORG};
use crate::words::Words;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// How long a fresh CA lives: a stolen key is useless after this.
const CA_LIFE: Duration = Duration::days(90);
/// A CA on disk with less than this left is replaced (its certificates would end too soon).
const CA_RENEW_BEFORE: Duration = Duration::days(30);
/// Certificates start a day back, so a clock a little behind still accepts them.
const BACKDATE: Duration = Duration::days(1);

/// The simulator's certificate authority (PEM). `Debug` hides the key.
#[derive(Clone)]
pub struct CertAuthority {
    cert_pem: String,
    key_pem: String,
    /// The CA certificate's end: no certificate it issues outlives it.
    not_after: OffsetDateTime,
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

#[allow(clippy::disallowed_methods)] // IO edge: certificate validity is wall-clock time
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The CA's name and role, always the same, so a CA key read back from disk signs certificates
/// that chain to the CA certificate written earlier (the issuer side needs only these).
fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::CommonName, SIMULATOR_CA_CN);
    p.distinguished_name
        .push(DnType::OrganizationName, SIMULATOR_CA_ORG);
    // No intermediate CAs: everything it signs is a leaf.
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

/// The only names the CA may vouch for: this machine.
fn permitted_subtrees() -> Vec<GeneralSubtree> {
    vec![
        GeneralSubtree::DnsName("localhost".into()),
        GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([127, 0, 0, 0], 8)),
        GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix(
            std::net::Ipv6Addr::LOCALHOST.octets(),
            128,
        )),
    ]
}

/// `permitted_subtrees` as x509-parser reads them back, to compare with a CA from disk.
fn permitted_as_read() -> Vec<String> {
    let mut v6 = std::net::Ipv6Addr::LOCALHOST.octets().to_vec();
    v6.extend([0xff; 16]);
    vec![
        "dns:localhost".into(),
        format!("ip:{}", hex::encode([127, 0, 0, 0, 255, 0, 0, 0])),
        format!("ip:{}", hex::encode(v6)),
    ]
}

impl CertAuthority {
    /// A fresh CA, valid from a day ago for [`CA_LIFE`].
    pub fn generate() -> Result<Self, SimError> {
        Self::generate_at(now())
    }

    /// A fresh CA made at `now`.
    fn generate_at(now: OffsetDateTime) -> Result<Self, SimError> {
        let key = KeyPair::generate().map_err(tls_err("CA key"))?;
        let mut p = ca_params();
        p.name_constraints = Some(NameConstraints {
            permitted_subtrees: permitted_subtrees(),
            excluded_subtrees: Vec::new(),
        });
        p.not_before = now - BACKDATE;
        p.not_after = now + CA_LIFE;
        let cert = p.self_signed(&key).map_err(tls_err("CA certificate"))?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            not_after: p.not_after,
        })
    }

    /// A CA from PEM text (as written by [`CertAuthority::write_dir`]); not checked for its
    /// constraints or dates (`load_or_create` does that).
    pub fn from_pem(cert_pem: String, key_pem: String) -> Result<Self, SimError> {
        KeyPair::from_pem(&key_pem).map_err(tls_err("CA key"))?;
        let not_after = read_ca(&cert_pem, &key_pem, now())
            .map(|c| c.not_after)
            .map_err(|why| SimError::Tls(format!("CA certificate: {}", why.en)))?;
        Ok(Self {
            cert_pem,
            key_pem,
            not_after,
        })
    }

    /// The CA certificate (what a client trusts).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    fn issue(&self, mut params: CertificateParams, what: &str) -> Result<Identity, SimError> {
        let ca_key = KeyPair::from_pem(&self.key_pem).map_err(tls_err("CA key"))?;
        let issuer = Issuer::new(ca_params(), ca_key);
        params.not_before = now() - BACKDATE;
        params.not_after = self.not_after;
        let key = KeyPair::generate().map_err(tls_err(what))?;
        let cert = params.signed_by(&key, &issuer).map_err(tls_err(what))?;
        Ok(Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// A server certificate for 127.0.0.1, ::1 and localhost, ending with the CA.
    pub fn server_identity(&self) -> Result<Identity, SimError> {
        let names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        let mut p = CertificateParams::new(names).map_err(tls_err("server certificate"))?;
        p.distinguished_name.push(DnType::CommonName, "localhost");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(p, "server certificate")
    }

    /// A merchant API client certificate (like `apiclient_cert.pem`), CN = `mch_id`, ending
    /// with the CA.
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

    /// Read `ca.pem` + `ca_key.pem` from `dir`, or create them there if absent. A CA there
    /// that has expired, ends within 30 days, lacks the name constraints (an older paycode
    /// wrote it) or does not match its key is replaced by a fresh one; the note says so.
    /// `dir` and the files must pass `cert_dir`'s checks (no links, this user's, key private).
    pub fn load_or_create(dir: &Path) -> Result<(Self, Option<Words>), SimError> {
        cert_dir::prepare(dir)?;
        let (cert, key) = (dir.join("ca.pem"), dir.join("ca_key.pem"));
        let mut replaced = None;
        if cert_dir::reusable(&cert, false)? && cert_dir::reusable(&key, true)? {
            let cert_pem = cert_dir::read(&cert)?;
            let key_pem = cert_dir::read(&key)?;
            match read_ca(&cert_pem, &key_pem, now()) {
                Ok(c) => {
                    return Ok((
                        Self {
                            cert_pem,
                            key_pem,
                            not_after: c.not_after,
                        },
                        None,
                    ));
                }
                Err(why) => replaced = Some(replaced_note(dir, &why)),
            }
        }
        let ca = Self::generate()?;
        // The key first: a ca.pem beside an older key would not verify and is replaced again.
        cert_dir::write(&key, &ca.key_pem, true)?;
        cert_dir::write(&cert, &ca.cert_pem, false)?;
        Ok((ca, replaced))
    }

    /// Write `ca.pem`, `apiclient_cert.pem` and `apiclient_key.pem` (keys mode 600) into `dir`
    /// (reusing a sound CA already there, see `load_or_create`), so a config can point at
    /// them; plus the note if an old CA was replaced.
    pub fn write_dir(dir: &Path, mch_id: &str) -> Result<(Self, Option<Words>), SimError> {
        let (ca, note) = Self::load_or_create(dir)?;
        let client = ca.client_identity(mch_id)?;
        cert_dir::write(&dir.join("apiclient_key.pem"), &client.key_pem, true)?;
        cert_dir::write(&dir.join("apiclient_cert.pem"), &client.cert_pem, false)?;
        Ok((ca, note))
    }
}

/// What `read_ca` learns of a sound CA.
struct SoundCa {
    not_after: OffsetDateTime,
}

/// The CA certificate `cert_pem` with its key `key_pem`, if fit to keep signing at `now`: it
/// parses, the key is its key, it is name-constrained to this machine, and it is valid for
/// more than [`CA_RENEW_BEFORE`]. Otherwise why not (the note's reason). Pure.
fn read_ca(cert_pem: &str, key_pem: &str, now: OffsetDateTime) -> Result<SoundCa, Words> {
    let unreadable = |e: &dyn fmt::Display| {
        Words::new(
            format!("it cannot be read as a certificate: {e}"),
            format!("无法作为证书读取:{e}"),
        )
    };
    let der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .next()
        .ok_or_else(|| unreadable(&"no PEM certificate"))?
        .map_err(|e| unreadable(&e))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| unreadable(&e))?;
    let key = KeyPair::from_pem(key_pem).map_err(|e| unreadable(&e))?;
    if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(Words::new(
            "ca_key.pem is not its key",
            "ca_key.pem 不是它的私钥",
        ));
    }
    let permitted: Option<Vec<String>> = cert.name_constraints().ok().flatten().map(|nc| {
        nc.value
            .permitted_subtrees
            .iter()
            .flatten()
            .map(|t| match &t.base {
                x509_parser::extensions::GeneralName::DNSName(n) => format!("dns:{n}"),
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    format!("ip:{}", hex::encode(b))
                }
                other => format!("{other:?}"),
            })
            .collect()
    });
    if permitted != Some(permitted_as_read()) {
        return Err(Words::new(
            "it may sign certificates for any host name, not only localhost and 127.0.0.1 \
             (an older paycode made it)",
            "它可为任意主机名签发证书,而不仅限于 localhost 与 127.0.0.1(由旧版 paycode 生成)",
        ));
    }
    let (from, to) = (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    );
    let now_s = now.unix_timestamp();
    if to <= now_s {
        return Err(Words::new("it has expired", "它已过期"));
    }
    if to - now_s < CA_RENEW_BEFORE.whole_seconds() {
        return Err(Words::new(
            "it expires within 30 days",
            "它将在 30 天内过期",
        ));
    }
    if from > now_s {
        return Err(Words::new("it is not valid yet", "它尚未生效"));
    }
    let not_after = OffsetDateTime::from_unix_timestamp(to).map_err(|e| unreadable(&e))?;
    Ok(SoundCa { not_after })
}

/// The one-line note for a CA replaced in `dir`.
fn replaced_note(dir: &Path, why: &Words) -> Words {
    let d = dir.display();
    Words::new(
        format!(
            "simulator: replaced the CA in {d} with a new one because {}; certificates from the \
             old CA no longer verify, trust the new {d}/ca.pem",
            why.en
        ),
        format!(
            "模拟器:已替换 {d} 中的 CA,原因:{};旧 CA 签发的证书不再有效,请改为信任新的 {d}/ca.pem",
            why.zh
        ),
    )
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
        let (a, note) = CertAuthority::write_dir(dir.path(), "1000000001").unwrap();
        assert!(note.is_none());
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
        let (b, note) = CertAuthority::write_dir(dir.path(), "1000000001").unwrap();
        assert!(note.is_none());
        assert_eq!(a.cert_pem(), b.cert_pem(), "the CA is reused, not replaced");
        assert!(format!("{a:?}").contains("hidden"));
    }
}
