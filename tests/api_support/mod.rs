//! Shared by the API tests: `paycode serve` as a child process on a free loopback port, a real
//! HTTP client, and a server-sent-events reader.
#![allow(clippy::unwrap_used, dead_code)]
#![allow(clippy::disallowed_methods)] // tests drive real time

use std::io::{BufRead, BufReader, Read};
use std::process::Child;
use std::time::Duration;

use serde_json::{Value, json};

use crate::checkout_support::Harness;

pub struct Served {
    pub child: Child,
    pub base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `paycode serve` on a free loopback port; its first stdout line names the address.
pub fn serve(h: &Harness, extra: &[&str]) -> Served {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = h.spawn(&args);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.is_empty() {
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("serve did not start: {err}");
    }
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    Served { child, base }
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()
        .unwrap()
}

/// POST `body` to `path`: the status and the JSON reply.
pub fn post(h: &Harness, s: &Served, path: &str, body: &str, token: Option<&str>) -> (u16, Value) {
    h.rt.block_on(async {
        let mut r = http()
            .post(format!("{}{path}", s.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(json!({ "raw": text })),
        )
    })
}

pub fn get(h: &Harness, s: &Served, path: &str, token: Option<&str>) -> (u16, Value) {
    h.rt.block_on(async {
        let mut r = http().get(format!("{}{path}", s.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(json!({ "raw": text })),
        )
    })
}

pub fn sale(amount: &str, pos_ref: &str, code: &str) -> String {
    json!({ "amount": amount, "ref": pos_ref, "code": code }).to_string()
}

/// One server-sent event as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub event: String,
    pub id: Option<u64>,
    pub data: Value,
    /// The frame's text as it came over the wire.
    pub raw: String,
}

/// `GET /v1/events` read on its own thread, frames handed over as they arrive.
pub struct Events {
    rx: std::sync::mpsc::Receiver<Frame>,
    /// Keep-alive comments seen.
    pub comments: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Subscribe to `base`'s event stream, with `Last-Event-ID` when given; panics on a non-200.
pub fn events(base: &str, last_event_id: Option<&str>) -> Events {
    let url = format!("{base}/v1/events");
    let last = last_event_id.map(str::to_string);
    let (tx, rx) = std::sync::mpsc::channel();
    let (ok_tx, ok_rx) = std::sync::mpsc::channel();
    let comments = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = comments.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let _ = rustls::crypto::ring::default_provider().install_default();
            // No overall timeout: a stream lives as long as the test reads it.
            let client = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .no_proxy()
                .build()
                .unwrap();
            let mut req = client.get(url);
            if let Some(l) = last {
                req = req.header("last-event-id", l);
            }
            let mut r = req.send().await.unwrap();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            ok_tx.send((r.status().as_u16(), ct)).unwrap();
            // Bytes until a frame is whole: a chunk may end inside a character (decoding each
            // chunk on its own turned a split 剩 into U+FFFD now and then).
            let mut buf: Vec<u8> = Vec::new();
            while let Ok(Some(chunk)) = r.chunk().await {
                buf.extend_from_slice(&chunk);
                while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                    let bytes: Vec<u8> = buf.drain(..end + 2).collect();
                    let raw = String::from_utf8(bytes).unwrap();
                    match parse_frame(&raw) {
                        Some(f) => {
                            if tx.send(f).is_err() {
                                return;
                            }
                        }
                        None => {
                            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                }
            }
        });
    });
    let (status, ct) = ok_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(status, 200, "GET /v1/events");
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    Events { rx, comments }
}

/// A frame's fields; `None` for a comment-only frame (keep-alive).
fn parse_frame(raw: &str) -> Option<Frame> {
    let (mut event, mut id, mut data) = (String::from("message"), None, String::new());
    let mut any = false;
    for line in raw.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = v.trim().to_string();
            any = true;
        } else if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
            any = true;
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
            any = true;
        } else if line.starts_with("retry:") {
            any = true;
        }
    }
    any.then(|| Frame {
        event,
        id,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        raw: raw.to_string(),
    })
}

impl Events {
    /// The next frame, within `secs`.
    pub fn next(&self, secs: u64) -> Frame {
        self.rx
            .recv_timeout(Duration::from_secs(secs))
            .unwrap_or_else(|e| panic!("no event within {secs} s: {e}"))
    }

    /// Frames up to and including the first that `until` accepts, within `secs` in all.
    pub fn until(&self, secs: u64, mut until: impl FnMut(&Frame) -> bool) -> Vec<Frame> {
        let end = std::time::Instant::now() + Duration::from_secs(secs);
        let mut got = Vec::new();
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(f) => {
                    let stop = until(&f);
                    got.push(f);
                    if stop {
                        return got;
                    }
                }
                Err(e) => panic!("not within {secs} s ({e}); got {got:#?}"),
            }
        }
    }
}

/// POST `body` to `path` on a thread of its own (a sale that waits for the customer): join it
/// for the status and the reply.
pub fn post_in_background(
    s: &Served,
    path: &str,
    body: String,
) -> std::thread::JoinHandle<(u16, Value)> {
    let url = format!("{}{path}", s.base);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let r = http().post(url).body(body).send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(json!({ "raw": text })),
            )
        })
    })
}
