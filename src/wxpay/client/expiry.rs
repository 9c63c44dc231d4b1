//! How long the client's TLS identity stays valid: `paycode check` fails a certificate close to
//! expiry and the cashier's diagnostics screen shows the days left.

use std::path::PathBuf;

use super::Identity;
use super::tls::p12_certificate;

impl Identity {
    /// The certificate file and the days from `now_unix` until it expires (negative: expired),
    /// PEM or `.p12`.
    pub fn days_left(&self, now_unix: i64) -> (PathBuf, Result<i64, String>) {
        match self {
            Identity::PemPair { cert, .. } => (
                cert.clone(),
                std::fs::read(cert)
                    .map_err(|e| e.to_string())
                    .and_then(|pem| cert_days_left(&pem, now_unix)),
            ),
            Identity::Pkcs12 { path, password } => (
                path.clone(),
                p12_certificate(path, password)
                    .map_err(|e| e.to_string())
                    .and_then(|der| der_days_left(&der, now_unix)),
            ),
        }
    }
}

/// Days from `now_unix` until the first certificate of `pem` expires (negative: expired).
pub fn cert_days_left(pem: &[u8], now_unix: i64) -> Result<i64, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).map_err(|e| format!("not PEM: {e}"))?;
    der_days_left(&block.contents, now_unix)
}

/// Days from `now_unix` until the DER certificate `der` expires (negative: expired).
fn der_days_left(der: &[u8], now_unix: i64) -> Result<i64, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let not_after = cert.validity().not_after.timestamp();
    Ok((not_after - now_unix).div_euclid(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_days() {
        let mut params = rcgen::CertificateParams::new(vec!["x".to_string()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2030, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        // 2029-12-22 00:00 UTC: 10 days left.
        assert_eq!(cert_days_left(pem.as_bytes(), 1_892_592_000), Ok(10));
        assert!(cert_days_left(pem.as_bytes(), 1_893_456_000 + 86_400).unwrap() < 0);
        assert!(cert_days_left(b"junk", 0).is_err());
    }
}
