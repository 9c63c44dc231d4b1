//! wxpay::client over TLS on loopback: extra CA, untrusted certificates, mutual TLS, key files.
mod support;

use std::path::{Path, PathBuf};

use paycode::words::Bilingual;
use paycode::wxpay::client::{
    Client, ClientError, ClientSettings, Endpoint, Identity, TransportError,
};
use support::{Behaviour, Pki, TestServer, guard, write_file};
use tempfile::TempDir;

const XML: &str = "<xml><out_trade_no>T1</out_trade_no></xml>";

struct Files {
    _dir: TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    rogue_cert: PathBuf,
    rogue_key: PathBuf,
}

fn files(pki: &Pki) -> Files {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    Files {
        ca: write_file(p, "ca.pem", &pki.ca_pem, 0o644),
        cert: write_file(p, "apiclient_cert.pem", &pki.client_cert_pem, 0o644),
        key: write_file(p, "apiclient_key.pem", &pki.client_key_pem, 0o600),
        rogue_cert: write_file(p, "rogue_cert.pem", &pki.rogue_client_cert_pem, 0o644),
        rogue_key: write_file(p, "rogue_key.pem", &pki.rogue_client_key_pem, 0o600),
        _dir: dir,
    }
}

fn settings(base: &str, f: &Files, identity: Option<Identity>) -> ClientSettings {
    let mut s = ClientSettings::new(base);
    s.extra_root_ca = Some(f.ca.clone());
    s.identity = identity;
    s
}

fn pair(cert: &Path, key: &Path) -> Option<Identity> {
    Some(Identity::PemPair {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
    })
}

#[tokio::test]
async fn extra_ca_trusts_the_simulator_and_keeps_the_connection() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.server_config(false)).await;
    let c = Client::new(settings(&server.url(), &f, None)).expect("client");
    for _ in 0..3 {
        let reply = guard(c.post(Endpoint::Micropay, XML.into()))
            .await
            .expect("reply");
        assert_eq!(reply.status, 200);
    }
    assert_eq!(server.connections(), 1, "TLS connection reused");
}

#[tokio::test]
async fn untrusted_server_certificate_is_a_tls_error() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.rogue_server_config()).await;
    let c = Client::new(settings(&server.url(), &f, None)).expect("client");
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("untrusted");
    // We refused the server's certificate inside the handshake: not one request byte was written.
    assert!(
        matches!(
            err,
            TransportError::Tls {
                request_written: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.maybe_delivered());
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn tls_failure_after_the_request_was_read_may_be_delivered() {
    // The server read the whole request, then broke the TLS stream: that is no handshake failure.
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::Garbage, pki.server_config(false)).await;
    let c = Client::new(settings(&server.url(), &f, None)).expect("client");
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("garbage");
    assert_eq!(server.seen().len(), 1, "the server had the request");
    assert!(
        !matches!(err, TransportError::Tls { .. }),
        "a TLS error after the handshake is not a handshake failure: {err:?}"
    );
    assert!(err.maybe_delivered(), "{err:?}");
}

#[tokio::test]
async fn certificate_for_another_host_is_a_tls_error() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.other_name_server_config()).await;
    let c = Client::new(settings(&server.url(), &f, None)).expect("client");
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("wrong host");
    assert!(matches!(err, TransportError::Tls { .. }), "{err:?}");
    assert!(!err.maybe_delivered());
}

#[tokio::test]
async fn expired_server_certificate_is_a_tls_error() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.expired_server_config()).await;
    let c = Client::new(settings(&server.url(), &f, None)).expect("client");
    let err = guard(c.post(Endpoint::Micropay, XML.into()))
        .await
        .expect_err("expired");
    match &err {
        TransportError::Tls { reason, .. } => assert!(reason.contains("xpired"), "{reason}"),
        other => panic!("expected Tls, got {other:?}"),
    }
}

#[tokio::test]
async fn mutual_tls_with_the_pem_pair_is_accepted() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.server_config(true)).await;
    let c = Client::new(settings(&server.url(), &f, pair(&f.cert, &f.key))).expect("client");
    for ep in [Endpoint::Reverse, Endpoint::Refund] {
        let reply = guard(c.post(ep, XML.into())).await.expect("reply");
        assert_eq!(reply.status, 200);
    }
    let seen = server.seen();
    assert_eq!(seen[0].path, "/secapi/pay/reverse");
    assert_eq!(seen[1].path, "/secapi/pay/refund");
}

#[tokio::test]
async fn server_requiring_a_client_cert_refuses_a_connection_without_one() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.server_config(true)).await;
    let c = Client::new(settings(&server.url(), &f, pair(&f.cert, &f.key))).expect("client");
    // orderquery uses the pool without the merchant certificate.
    let err = guard(c.post(Endpoint::OrderQuery, XML.into()))
        .await
        .expect_err("refused");
    // With TLS 1.3 the client finishes its half of the handshake and writes the request before
    // the server's refusal arrives; the server's TLS layer drops it undecrypted.
    assert!(
        matches!(
            err,
            TransportError::Tls {
                request_written: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.maybe_delivered());
    assert!(
        server.seen().is_empty(),
        "the server never read the request"
    );
}

#[tokio::test]
async fn client_cert_from_another_ca_is_refused() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.server_config(true)).await;
    let c = Client::new(settings(
        &server.url(),
        &f,
        pair(&f.rogue_cert, &f.rogue_key),
    ))
    .expect("client");
    let err = guard(c.post(Endpoint::Reverse, XML.into()))
        .await
        .expect_err("refused");
    assert!(matches!(err, TransportError::Tls { .. }), "{err:?}");
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn secapi_over_https_without_identity_fails_before_sending() {
    let pki = Pki::new();
    let f = files(&pki);
    let server = TestServer::https(Behaviour::ok(), pki.server_config(false)).await;
    let c = Client::new(settings(&server.url(), &f, None)).expect("client");
    let err = guard(c.post(Endpoint::Reverse, XML.into()))
        .await
        .expect_err("no identity");
    assert!(
        matches!(err, TransportError::NoClientCert { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("identity"));
    assert!(!err.maybe_delivered());
    assert_eq!(server.connections(), 0);
}

#[test]
fn key_file_readable_by_others_is_refused_with_the_fix() {
    let pki = Pki::new();
    let f = files(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let open_key = write_file(dir.path(), "key.pem", &pki.client_key_pem, 0o644);
    let err = Client::new(settings(
        "https://127.0.0.1:1",
        &f,
        pair(&f.cert, &open_key),
    ))
    .expect_err("0644 key");
    assert!(matches!(err, ClientError::KeyFileTooOpen { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("chmod 600 {}", open_key.display())),
        "{err}"
    );
    assert!(err.zh().contains("chmod 600"));
}

const P12_PASSWORD: &str = "1900000109";

/// Copies the committed legacy (RC2-40) .p12 fixture into `dir` with `mode` (git keeps no modes).
fn p12_fixture(dir: &Path, mode: u32) -> (PathBuf, String) {
    use std::os::unix::fs::PermissionsExt;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/p12");
    let path = dir.join("apiclient_cert.p12");
    std::fs::copy(src.join("apiclient_cert.p12"), &path).expect("copy p12");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    let ca = std::fs::read_to_string(src.join("ca.pem")).expect("fixture CA");
    (path, ca)
}

#[tokio::test]
async fn legacy_p12_presents_the_merchant_certificate() {
    let pki = Pki::new();
    let f = files(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let (p12, client_ca) = p12_fixture(dir.path(), 0o600);
    let server = TestServer::https(
        Behaviour::ok(),
        pki.server_config_for_clients_of(&client_ca),
    )
    .await;
    let id = Identity::Pkcs12 {
        path: p12,
        password: P12_PASSWORD.into(),
    };
    let c = Client::new(settings(&server.url(), &f, Some(id))).expect("client");
    let reply = guard(c.post(Endpoint::Reverse, XML.into()))
        .await
        .expect("mTLS with the p12 identity");
    assert_eq!(reply.status, 200);
    assert_eq!(server.seen()[0].path, "/secapi/pay/reverse");
}

#[test]
fn p12_with_wrong_password_gives_the_conversion_and_hides_the_password() {
    let pki = Pki::new();
    let f = files(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let (p12, _) = p12_fixture(dir.path(), 0o600);
    let id = Identity::Pkcs12 {
        path: p12.clone(),
        password: "1900000108".into(),
    };
    let err = Client::new(settings("https://127.0.0.1:1", &f, Some(id))).expect_err("password");
    let msg = err.to_string();
    assert!(matches!(err, ClientError::Pkcs12 { .. }), "{err:?}");
    assert!(msg.contains("mch_id"), "{msg}");
    assert!(msg.contains(&format!("openssl pkcs12 -legacy -in {}", p12.display())));
    assert!(msg.contains("chmod 600 apiclient_key.pem"));
    assert!(!msg.contains("1900000108") && !format!("{err:?}").contains("1900000108"));
}

#[test]
fn p12_readable_by_others_is_refused() {
    let pki = Pki::new();
    let f = files(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let (p12, _) = p12_fixture(dir.path(), 0o644);
    let id = Identity::Pkcs12 {
        path: p12.clone(),
        password: P12_PASSWORD.into(),
    };
    let err = Client::new(settings("https://127.0.0.1:1", &f, Some(id))).expect_err("0644");
    assert!(
        err.to_string()
            .contains(&format!("chmod 600 {}", p12.display())),
        "{err}"
    );
}

#[test]
fn bad_pem_files_name_the_setting() {
    let pki = Pki::new();
    let f = files(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = write_file(dir.path(), "junk.pem", "not a certificate\n", 0o600);
    let mut s = settings("https://127.0.0.1:1", &f, None);
    s.extra_root_ca = Some(junk.clone());
    let err = Client::new(s).expect_err("junk ca");
    assert!(err.to_string().starts_with("extra_root_ca file"), "{err}");

    let err = Client::new(settings("https://127.0.0.1:1", &f, pair(&f.cert, &junk)))
        .expect_err("junk key");
    assert!(err.to_string().contains("PRIVATE KEY"), "{err}");

    let missing = dir.path().join("missing.pem");
    let err = Client::new(settings("https://127.0.0.1:1", &f, pair(&missing, &f.key)))
        .expect_err("missing cert");
    assert!(matches!(err, ClientError::ReadFile { .. }), "{err:?}");
}

#[test]
fn certificate_and_key_that_do_not_match_are_refused() {
    let pki = Pki::new();
    let f = files(&pki);
    let err = Client::new(settings(
        "https://127.0.0.1:1",
        &f,
        pair(&f.cert, &f.rogue_key),
    ))
    .expect_err("mismatch");
    assert!(matches!(err, ClientError::Tls { .. }), "{err:?}");
}
