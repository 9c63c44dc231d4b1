//! Shared helpers of the simulator integration tests: start a simulator, talk to it over real
//! HTTP(S) with reqwest, verify every signed answer, read the ledger.
#![allow(clippy::unwrap_used, dead_code)]

use paycode::config::SIMULATOR_DEMO_KEY;
use paycode::simulator::{LedgerView, RunningSim, SimSettings, start};
use paycode::wxpay::sign::{ApiKey, SignType, sign, verify};
use paycode::wxpay::xml::{Fields, decode, encode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const APPID: &str = "wxpaycodesimulator";
pub const MCH_ID: &str = "1000000001";

pub fn key() -> ApiKey {
    ApiKey::new(SIMULATOR_DEMO_KEY).unwrap()
}

/// A fresh serial per call so every test gets unused payment codes and owners.
pub fn serial() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fresh code for the scenario with this key.
pub fn code(key: &str) -> String {
    paycode::simulator::code_for(paycode::simulator::scenario::by_key(key).unwrap(), serial())
}

/// A fresh out_trade_no.
pub fn order_no(tag: &str) -> String {
    format!("T{tag}{}", serial())
}

pub fn settings(tls: bool) -> SimSettings {
    let mut s = SimSettings::demo().unwrap();
    s.tls = tls;
    s
}

pub fn install_ring() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client for `sim`; over TLS it trusts the simulator CA and, if `with_cert`, presents the
/// merchant client certificate.
pub fn client(sim: &RunningSim, with_cert: bool) -> reqwest::Client {
    install_ring();
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy();
    if let Some(ca) = &sim.ca_pem {
        b = b.tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()]);
        if with_cert {
            let pem = format!(
                "{}{}",
                sim.client_cert_pem.as_ref().unwrap(),
                sim.client_key_pem.as_ref().unwrap()
            );
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
    }
    b.build().unwrap()
}

pub async fn started(tls: bool) -> RunningSim {
    start(settings(tls)).await.unwrap()
}

/// Sign `pairs` (plus appid, mch_id, nonce_str) with `st`, as our client would.
pub fn signed_body(pairs: &[(&str, &str)], st: SignType) -> String {
    let mut f: Fields = [
        ("appid", APPID),
        ("mch_id", MCH_ID),
        ("nonce_str", "testnonce"),
    ]
    .into_iter()
    .chain(pairs.iter().copied())
    .collect();
    if st == SignType::HmacSha256 {
        f.push("sign_type", "HMAC-SHA256");
    }
    let s = sign(&f, &key(), st);
    f.push("sign", s);
    encode(&f)
}

/// POST `body` to `path`; returns status and text.
pub async fn post_raw(
    http: &reqwest::Client,
    sim: &RunningSim,
    path: &str,
    body: String,
) -> (u16, String) {
    let r = http
        .post(format!("{}{path}", sim.base_url))
        .header("content-type", "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Decode an answer and, when `return_code=SUCCESS`, insist on a valid signature with `st`.
pub fn verified(text: &str, st: SignType) -> Fields {
    let f = decode(text.as_bytes()).unwrap_or_else(|e| panic!("not XML: {e}: {text}"));
    if f.get("return_code") == Some("SUCCESS") {
        let s = f
            .get("sign")
            .expect("a SUCCESS answer is signed")
            .to_string();
        assert!(verify(&f, &key(), st, &s), "bad signature on {text}");
    } else {
        assert_eq!(f.get("sign"), None, "FAIL answers are unsigned");
    }
    f
}

/// A signed MD5 call; the verified answer.
pub async fn call(
    http: &reqwest::Client,
    sim: &RunningSim,
    path: &str,
    pairs: &[(&str, &str)],
) -> Fields {
    let (status, text) = post_raw(http, sim, path, signed_body(pairs, SignType::Md5)).await;
    assert_eq!(status, 200, "{text}");
    verified(&text, SignType::Md5)
}

pub async fn micropay(
    http: &reqwest::Client,
    sim: &RunningSim,
    no: &str,
    code: &str,
    fee: &str,
) -> Fields {
    call(http, sim, "/pay/micropay", &micropay_pairs(no, code, fee)).await
}

pub fn micropay_pairs<'a>(no: &'a str, code: &'a str, fee: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("body", "Paycode-Test-Goods"),
        ("out_trade_no", no),
        ("total_fee", fee),
        ("spbill_create_ip", "127.0.0.1"),
        ("auth_code", code),
        ("device_info", "POS01"),
    ]
}

pub async fn trade_state(http: &reqwest::Client, sim: &RunningSim, no: &str) -> String {
    let f = call(http, sim, "/pay/orderquery", &[("out_trade_no", no)]).await;
    f.get("trade_state").unwrap_or("-").to_string()
}

pub async fn ledger(http: &reqwest::Client, sim: &RunningSim) -> LedgerView {
    let r = http
        .get(format!("{}/__sim/ledger", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

/// The ledger row of one order.
pub async fn order(
    http: &reqwest::Client,
    sim: &RunningSim,
    no: &str,
) -> paycode::simulator::OrderView {
    ledger(http, sim)
        .await
        .order(no)
        .cloned()
        .unwrap_or_else(|| panic!("{no} not in the ledger"))
}

/// Poll orderquery until `want` (hang guard: 2000 rounds of 5 ms).
pub async fn wait_state(http: &reqwest::Client, sim: &RunningSim, no: &str, want: &str) {
    for _ in 0..2000 {
        if trade_state(http, sim, no).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{no} never reached {want}");
}
