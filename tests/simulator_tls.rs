//! The simulator over HTTPS: the generated CA and server certificate, the client certificate
//! required on /secapi/* (refused at the transport, never with an HTTP answer), and certificates
//! written to disk by `paycode simulate --write-certs`.
#![allow(clippy::unwrap_used)]

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
    s.authority = Some(CertAuthority::load_or_create(dir.path()).unwrap());
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
