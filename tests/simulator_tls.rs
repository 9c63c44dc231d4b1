//! The simulator over HTTPS: the generated CA and server certificate, the client certificate
//! required on /secapi/* (refused at the transport, never with an HTTP answer), and certificates
//! written to disk by `paycode simulate --write-certs`.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // certificate validity is wall-clock time

mod simulator_support;

use paycode::simulator::{CertAuthority, start};
use paycode::wxpay::sign::SignType;
use simulator_support::*;
use std::process::Command;

#[tokio::test]
async fn https_with_client_certificate_pays_reverses_and_refunds() {
    let sim = started(true).await;
    assert!(sim.base_url.starts_with("https://127.0.0.1:"));
    let http = client(&sim, true);
    let (paid, unpaid) = (order_no("P"), order_no("U"));
    assert_eq!(
        micropay(&http, &sim, &paid, &code("normal"), "700")
            .await
            .get("result_code"),
        Some("SUCCESS")
    );
    micropay(&http, &sim, &unpaid, &code("password_never"), "100").await;
    let f = call(
        &http,
        &sim,
        "/secapi/pay/refund",
        &[
            ("out_trade_no", &paid),
            ("out_refund_no", "TLSR1"),
            ("total_fee", "700"),
            ("refund_fee", "200"),
        ],
    )
    .await;
    assert_eq!(f.get("result_code"), Some("SUCCESS"));
    let f = call(
        &http,
        &sim,
        "/secapi/pay/reverse",
        &[("out_trade_no", &unpaid)],
    )
    .await;
    assert_eq!(
        (f.get("result_code"), f.get("recall")),
        (Some("SUCCESS"), Some("N"))
    );
    assert_eq!(trade_state(&http, &sim, &unpaid).await, "REVOKED");
    let l = ledger(&http, &sim).await;
    assert_eq!(l.totals.charged, 700);
    assert_eq!(l.order(&unpaid).unwrap().requests.get("reverse"), Some(&1));
}

#[tokio::test]
async fn secapi_without_client_certificate_fails_at_the_transport() {
    let sim = started(true).await;
    let http = client(&sim, false);
    let no = order_no("N");
    // Non-secapi paths work over TLS without a client certificate.
    micropay(&http, &sim, &no, &code("password_never"), "100").await;
    for path in [
        "/secapi/pay/reverse",
        "/xdc/apiv2sandbox/secapi/pay/reverse",
        "/secapi/pay/refund",
    ] {
        let err = http
            .post(format!("{}{path}", sim.base_url))
            .body(signed_body(&[("out_trade_no", &no)], SignType::Md5))
            .send()
            .await
            .unwrap_err();
        assert!(err.status().is_none(), "no HTTP answer for {path}: {err}");
        assert!(!err.is_timeout(), "refused, not hung: {err}");
    }
    // Nothing happened to the order, and the refused calls never reached the core.
    assert_eq!(trade_state(&http, &sim, &no).await, "USERPAYING");
    let o = order(&http, &sim, &no).await;
    assert_eq!(o.requests.get("reverse"), None);
    assert_eq!(
        ledger(&http, &sim).await.totals.requests.get("reverse"),
        None
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_in_the_handshake() {
    let sim = started(true).await;
    install_ring();
    let stranger = CertAuthority::generate()
        .unwrap()
        .client_identity(MCH_ID)
        .unwrap();
    let pem = format!("{}{}", stranger.cert_pem, stranger.key_pem);
    let http = reqwest::Client::builder()
        .tls_certs_only([
            reqwest::Certificate::from_pem(sim.ca_pem.as_ref().unwrap().as_bytes()).unwrap(),
        ])
        .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let err = http
        .post(format!("{}/pay/orderquery", sim.base_url))
        .body(signed_body(&[("out_trade_no", "X")], SignType::Md5))
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err}");
}

#[tokio::test]
async fn the_server_certificate_is_not_publicly_trusted() {
    let sim = started(true).await;
    install_ring();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(
            CertAuthority::generate().unwrap().cert_pem().as_bytes(),
        )
        .unwrap()])
        .no_proxy()
        .build()
        .unwrap();
    let err = http
        .get(format!("{}/__sim/ledger", sim.base_url))
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err}");
}

#[tokio::test]
async fn certificates_written_by_the_cli_work_against_a_server_using_that_ca() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_paycode"))
        .arg("--config")
        .arg(dir.path().join("absent.toml"))
        .arg("simulate")
        .arg("--write-certs")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("apiclient_key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut s = settings(true);
    s.authority = Some(CertAuthority::load_or_create(dir.path()).unwrap().0);
    let sim = start(s).await.unwrap();
    install_ring();
    let pem = format!(
        "{}{}",
        read("apiclient_cert.pem"),
        read("apiclient_key.pem")
    );
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(read("ca.pem").as_bytes()).unwrap()])
        .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let no = order_no("W");
    micropay(&http, &sim, &no, &code("normal"), "100").await;
    let f = call(&http, &sim, "/secapi/pay/reverse", &[("out_trade_no", &no)]).await;
    assert_eq!(f.get("result_code"), Some("SUCCESS"));
    assert_eq!(order(&http, &sim, &no).await.refunded, 100);
}

/// A verifier that trusts the simulator CA `ca_pem` and nothing else.
fn only_trusting(ca_pem: &str) -> std::sync::Arc<rustls::client::WebPkiServerVerifier> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider)
        .build()
        .unwrap()
}

fn der_of(pem: &str) -> rustls::pki_types::CertificateDer<'static> {
    rustls_pemfile::certs(&mut pem.as_bytes())
        .next()
        .unwrap()
        .unwrap()
}

/// The security issue "trust is never widened silently": the simulator CA's key sits in a
/// plain directory beside it, so whoever reads it can sign any name. A certificate signed with
/// it for WeChat's host must fail verification by rustls/webpki even when that CA is the only
/// trust anchor; the simulator's own loopback identity still verifies.
#[test]
fn a_certificate_the_simulator_ca_signs_for_wechats_host_does_not_verify() {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};
    let dir = tempfile::tempdir().unwrap();
    let (ca, _) = CertAuthority::write_dir(dir.path(), MCH_ID).unwrap();
    // What someone holding ca_key.pem does: the CA's name is public, its key is on disk.
    let key_pem = std::fs::read_to_string(dir.path().join("ca_key.pem")).unwrap();
    let mut issuer_params = rcgen::CertificateParams::default();
    issuer_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "paycode WeChat Pay simulator CA");
    issuer_params.distinguished_name.push(
        rcgen::DnType::OrganizationName,
        "paycode simulator (not real)",
    );
    issuer_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = rcgen::Issuer::new(issuer_params, rcgen::KeyPair::from_pem(&key_pem).unwrap());
    let mut forged = rcgen::CertificateParams::new(vec!["api.mch.weixin.qq.com".into()]).unwrap();
    forged.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let forged = forged
        .signed_by(&rcgen::KeyPair::generate().unwrap(), &issuer)
        .unwrap();

    let verifier = only_trusting(ca.cert_pem());
    let host = ServerName::try_from("api.mch.weixin.qq.com").unwrap();
    let err = verifier
        .verify_server_cert(forged.der(), &[], &host, &[], UnixTime::now())
        .expect_err("a forged WeChat certificate verified");
    assert!(
        format!("{err:?}").contains("NameConstraint"),
        "refused for its name: {err:?}"
    );

    let server = ca.server_identity().unwrap();
    for name in ["localhost", "127.0.0.1", "::1"] {
        let name = ServerName::try_from(name).unwrap();
        verifier
            .verify_server_cert(&der_of(&server.cert_pem), &[], &name, &[], UnixTime::now())
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
}

/// The CA lives about 90 days, and no certificate it issues outlives it.
#[test]
fn the_ca_is_short_lived_and_its_certificates_end_with_it() {
    let ca = CertAuthority::generate().unwrap();
    let end = |pem: &str| {
        let der = der_of(pem);
        let (_, c) = x509_parser::parse_x509_certificate(&der).unwrap();
        c.validity().not_after.timestamp()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ca_end = end(ca.cert_pem());
    assert!(
        ca_end > now + 80 * 86_400 && ca_end <= now + 91 * 86_400,
        "{ca_end}"
    );
    assert!(end(&ca.server_identity().unwrap().cert_pem) <= ca_end);
    assert!(end(&ca.client_identity(MCH_ID).unwrap().cert_pem) <= ca_end);
}

/// A CA written by an older paycode (no name constraints, valid until 4096), one that has
/// expired and one about to: each is replaced by a fresh CA with a note in both languages,
/// and the fresh one is then reused without a note.
#[test]
fn an_old_expired_or_expiring_ca_on_disk_is_replaced_with_a_note() {
    use std::os::unix::fs::PermissionsExt;
    let day = time::Duration::days(1);
    let now = time::OffsetDateTime::now_utc();
    for (what, not_after) in [
        ("unconstrained", None),
        ("expired", Some(now - day)),
        ("expiring", Some(now + day * 5)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut p = rcgen::CertificateParams::default();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "paycode WeChat Pay simulator CA");
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        if let Some(t) = not_after {
            p.not_before = now - day * 100;
            p.not_after = t;
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let old = p.self_signed(&key).unwrap().pem();
        std::fs::write(dir.path().join("ca.pem"), &old).unwrap();
        let key_file = dir.path().join("ca_key.pem");
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();

        let (ca, note) = CertAuthority::load_or_create(dir.path()).unwrap();
        let note = note.unwrap_or_else(|| panic!("{what}: no note"));
        assert!(
            note.en.contains("replaced") && note.zh.contains("已替换"),
            "{what}: {note:?}"
        );
        assert!(
            note.en.contains(&dir.path().display().to_string()),
            "{note:?}"
        );
        assert_ne!(ca.cert_pem(), old, "{what}");
        let on_disk = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
        assert_eq!(on_disk, ca.cert_pem(), "{what}");
        let (again, note) = CertAuthority::load_or_create(dir.path()).unwrap();
        assert_eq!((again.cert_pem(), note), (ca.cert_pem(), None), "{what}");
    }
}
