//! The customer display (`GET /display`) in a real headless Chromium, driven over chromedriver's
//! W3C WebDriver HTTP API with the reqwest client the project already has (no WebDriver crate:
//! a handful of JSON calls, nothing more to build or trust). A sale posted by the test shows its
//! amount, then the password countdown, then PAID in both languages; a display that navigates
//! away and back mid-sale (its stream dropped) still ends on the result.
//!
//! CI installs chromium and chromium-driver (.ci/run). Without them the test fails loudly,
//! unless `PAYCODE_SKIP_BROWSER=1` says to skip it.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests drive real time

mod api_support;
mod checkout_support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api_support::{post_in_background, sale, serve};
use checkout_support::{Harness, Timing};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free loopback port, with one browser session; both ended on drop.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    rt: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Option<Browser> {
        if !(Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()) {
            if std::env::var("PAYCODE_SKIP_BROWSER").as_deref() == Ok("1") {
                eprintln!("SKIPPED: no {CHROMIUM} / {CHROMEDRIVER} and PAYCODE_SKIP_BROWSER=1");
                return None;
            }
            panic!(
                "the display test needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install -y chromium chromium-driver (as .ci/run does), or set PAYCODE_SKIP_BROWSER=1 to skip it knowingly"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut b = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            rt,
            _profile: profile,
        };
        let t = Instant::now();
        while b.call("GET", "/status", None).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let args = json!([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1024,600",
            format!("--user-data-dir={}", b._profile.path().display()),
        ]);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let v = b.call("POST", "/session", Some(caps)).unwrap();
        b.session = v["sessionId"].as_str().unwrap().to_string();
        Some(b)
    }

    /// One WebDriver call; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let c = reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .no_proxy()
                .build()
                .unwrap();
            let req = match method {
                "POST" => c
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.unwrap_or(json!({})).to_string()),
                "DELETE" => c.delete(url),
                _ => c.get(url),
            };
            let r = req.send().await.map_err(|e| e.to_string())?;
            let ok = r.status().is_success();
            let v: Value = serde_json::from_str(&r.text().await.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            if ok {
                Ok(v["value"].clone())
            } else {
                Err(v.to_string())
            }
        })
    }

    fn go(&self, url: &str) {
        let path = format!("/session/{}/url", self.session);
        self.call("POST", &path, Some(json!({ "url": url })))
            .unwrap();
    }

    fn text(&self) -> String {
        let path = format!("/session/{}/execute/sync", self.session);
        let body =
            json!({"script": "return document.body ? document.body.innerText : '';", "args": []});
        self.call("POST", &path, Some(body))
            .unwrap()
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Wait until the page's text holds every one of `words`; the text.
    fn shows(&self, words: &[&str], secs: u64) -> String {
        let t = Instant::now();
        loop {
            let text = self.text();
            if words.iter().all(|w| text.contains(w)) {
                return text;
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "the display never showed {words:?}; it shows:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the page, when `PAYCODE_DISPLAY_SHOTS` names a directory (for a person to look).
    fn shot(&self, name: &str) {
        let Ok(dir) = std::env::var("PAYCODE_DISPLAY_SHOTS") else {
            return;
        };
        let path = format!("/session/{}/screenshot", self.session);
        if let Ok(Value::String(b64)) = self.call("GET", &path, None) {
            let png = base64_decode(&b64);
            std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (screenshots only; no crate for one debugging aid).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | u32::from(val(*c)) << (18 - 6 * i));
        let take = chunk.len().saturating_sub(1);
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    out
}

#[test]
fn the_customer_display_shows_the_amount_the_countdown_then_paid_across_a_reconnect() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let h = Harness::with(Timing {
        password_timeout: "60s",
        reverse_max_attempts: 5,
    });
    let s = serve(&h, &[]);
    let display = format!("{}/display", s.base);
    browser.go(&display);
    browser.shows(&["欢迎光临", "Welcome"], 20);

    let pending = post_in_background(
        &s,
        "/v1/sales",
        sale("12.34", "DSP-1", &h.code("password_never")),
    );
    browser.shows(&["¥12.34"], 20);
    let text = browser.shows(
        &[
            "请在手机上输入支付密码",
            "Enter your password on your phone",
            "秒",
            "s left",
        ],
        20,
    );
    assert!(text.contains("¥12.34"), "{text}");
    browser.shot("countdown");
    let no = h
        .journal()
        .unfinished()
        .unwrap()
        .first()
        .unwrap()
        .out_trade_no
        .clone();

    // The display's stream drops mid-sale (it navigates away and comes back): the state it
    // re-reads puts the same sale back, countdown and all.
    browser.go("about:blank");
    assert!(!browser.text().contains("¥12.34"));
    browser.go(&display);
    browser.shows(&["¥12.34", "请在手机上输入支付密码", "s left"], 20);

    h.sim.confirm(&no).unwrap();
    let text = browser.shows(&["PAID", "支付成功", "¥12.34"], 20);
    assert!(!text.contains("请在手机上输入支付密码"), "{text}");
    browser.shot("paid");
    let (st, v) = pending.join().unwrap();
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");

    // After the sale a reload shows the last result (the state's `last`).
    browser.go(&display);
    browser.shows(&["PAID", "¥12.34"], 20);
}
