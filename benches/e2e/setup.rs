//! What every e2e measurement needs: a simulator on loopback, tills pointed at it (each with its
//! own journal on the real disk, so `synchronous=FULL` costs what it costs at a till), and the
//! bare loopback HTTP baseline (std sockets, no framework) the figures are divided by.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use paycode::checkout::Till;
use paycode::config::{SIMULATOR_APPID, SIMULATOR_DEMO_KEY, SIMULATOR_MCH_ID, SecretEnv};
use paycode::simulator::{self, RunningSim, SimSettings};

/// A simulator whose clock runs `time_scale` times faster than real time.
pub async fn simulator(time_scale: u32) -> RunningSim {
    let mut s = SimSettings::demo().expect("demo settings");
    s.time_scale = time_scale;
    simulator::start(s).await.expect("simulator")
}

/// A till with its journal under `dir`, sending to `sim`; `device` keeps order numbers of
/// parallel tills apart. Checkout timings are the defaults, with `first_query_after` and
/// `query_interval` from `schedule` when given, each divided by `scale`.
pub async fn till(
    sim: &RunningSim,
    dir: &Path,
    device: &str,
    scale: u32,
    schedule: Option<(Duration, Duration)>,
) -> Till {
    till_at(&sim.base_url, dir, device, scale, schedule).await
}

/// [`till`] for a simulator known by its URL (a till task on a thread of its own).
pub async fn till_at(
    base_url: &str,
    dir: &Path,
    device: &str,
    scale: u32,
    schedule: Option<(Duration, Duration)>,
) -> Till {
    let text = format!(
        r#"[merchant]
appid = "{SIMULATOR_APPID}"
mch_id = "{SIMULATOR_MCH_ID}"
device_info = "{device}"
spbill_create_ip = "127.0.0.1"

[wechat]
base_url = "{url}"

[journal]
path = "paycode.db"
log_dir = "logs"
"#,
        url = base_url
    );
    let env = SecretEnv {
        api_key: Some(SIMULATOR_DEMO_KEY.to_string()),
        p12_password: None,
    };
    let mut cfg = paycode::config::from_str_with_env(&text, &dir.join("config.toml"), &env)
        .expect("bench config");
    let c = &mut cfg.checkout;
    if let Some((first, interval)) = schedule {
        c.policy.first_query_after = first;
        c.policy.query_interval = interval;
    }
    for d in [
        &mut c.policy.first_query_after,
        &mut c.policy.query_interval,
        &mut c.policy.password_timeout,
        &mut c.policy.reverse_not_before,
        &mut c.policy.reverse_backoff,
        &mut c.policy.unknown_query_after,
    ] {
        *d /= scale.max(1);
    }
    Till::open(cfg).await.expect("till")
}

/// A micropay-sized XML body (the real request is ~550 bytes).
pub fn body_like_micropay() -> String {
    let mut b = String::from("<xml>");
    while b.len() < 540 {
        b.push_str("<field>0123456789abcdef</field>");
    }
    b.push_str("</xml>");
    b
}

/// A bare HTTP/1.1 server on loopback: one thread, std sockets, reports the instant each
/// request was complete (headers + Content-Length bytes) and answers `200 ok`.
pub struct BareServer {
    pub addr: SocketAddr,
    pub received: Receiver<Instant>,
}

impl BareServer {
    /// Start it; it lives until the process exits or its receiver is dropped.
    pub fn start() -> BareServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, received) = channel();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { return };
                let _ = s.set_nodelay(true);
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Ok(n) = s.read(&mut chunk) else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(len) = complete_request(&buf) {
                            if tx.send(Instant::now()).is_err() {
                                return;
                            }
                            buf.drain(..len);
                            if s.write_all(REPLY).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        BareServer { addr, received }
    }
}

/// The bare server's whole answer.
const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// Length of the first complete request in `buf`, if there is one.
fn complete_request(buf: &[u8]) -> Option<usize> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= end + len).then_some(end + len)
}

/// A keep-alive client of [`BareServer`].
pub struct BareClient {
    stream: TcpStream,
    request: Vec<u8>,
}

impl BareClient {
    /// Connect once; every `post` reuses the connection.
    pub fn connect(addr: SocketAddr) -> BareClient {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let body = body_like_micropay();
        let request = format!(
            "POST /pay/micropay HTTP/1.1\r\nhost: {addr}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        BareClient { stream, request }
    }

    /// Send one POST and read the whole answer.
    pub fn post(&mut self) {
        self.stream.write_all(&self.request).expect("write");
        let mut reply = [0u8; REPLY.len()];
        let mut got = 0;
        while got < REPLY.len() {
            let n = self.stream.read(&mut reply[got..]).expect("read");
            assert!(n > 0, "bare server closed");
            got += n;
        }
    }
}

/// Bare loopback POST: from the first byte written to the server holding the whole request,
/// and the full round trip, `n` times on one keep-alive connection.
pub fn bare_post(n: usize) -> (Vec<Duration>, Vec<Duration>) {
    let server = BareServer::start();
    let mut client = BareClient::connect(server.addr);
    let (mut one_way, mut round) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t = Instant::now();
        client.post();
        let done = t.elapsed();
        let at = server.received.recv().expect("server");
        one_way.push(at.saturating_duration_since(t));
        round.push(done);
    }
    (one_way, round)
}

/// A timeout for a whole measurement phase (hang guard, not a timed assertion).
pub const HANG_GUARD: Duration = Duration::from_secs(600);
