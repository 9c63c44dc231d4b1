//! Figure 7: the local API's cost (issue 12). One `paycode serve` till task on loopback, driven
//! by a std-socket keep-alive client; every figure beside its baseline from this process:
//! `GET /v1/health` and `GET /v1/sales/{ref}` against the bare loopback round trip (the bare
//! server of `setup`), and a whole sale by `POST /v1/sales` against the same sale run directly
//! with `run_sale_for_ref` on a second till of the same simulator, alternating in rounds; then
//! the event stream: the same POST's answer against its `final` event on a `GET /v1/events`
//! subscriber, both timed from the POST going out, in the same run.
#![allow(clippy::disallowed_methods)] // tests and benches drive real time

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use paycode::checkout::pos_ref::PosRef;
use paycode::checkout::{Status, run_sale_for_ref};
use paycode::money::Fen;
use paycode::simulator::{RunningSim, code_for, scenario};

use crate::setup::{self, BareClient, BareServer};
use crate::stats::{Dist, loadavg, times};

/// A keep-alive HTTP/1.1 client over std sockets (no framework: its own cost stays out).
struct Conn {
    s: TcpStream,
    addr: SocketAddr,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn { s, addr }
    }

    /// One request; the status and body.
    fn call(&mut self, method: &str, path: &str, body: &str) -> (u16, String) {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.s.write_all(req.as_bytes()).expect("write");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    let status = head
                        .split_whitespace()
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                    return (status, body);
                }
            }
            let n = self.s.read(&mut chunk).expect("read");
            assert!(n > 0, "server closed");
            buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// `paycode serve`'s server on its own thread (the till task is not `Send`); its address.
fn start_api(sim: &RunningSim, dir: &Path) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    let url = sim.base_url.clone();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let till = setup::till_at(&url, &dir, "API", 1, None).await;
            let reader =
                paycode::journal::Journal::open(&till.config().journal.path).expect("reader");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            let listeners = paycode::api::Listeners {
                tcp: listener,
                unix: None,
            };
            let _ =
                paycode::api::serve(till, reader, listeners, None, paycode::api::Hub::default())
                    .await;
        });
    });
    rx.recv().expect("api address")
}

fn code(i: u64) -> String {
    let normal = scenario::by_key("normal").expect("normal");
    code_for(normal, 3_000_000 + i)
}

pub fn figures(rt: &tokio::runtime::Runtime, dir: &Path, n: usize, sales: usize) {
    std::fs::create_dir_all(dir.join("api")).expect("dir");
    std::fs::create_dir_all(dir.join("direct")).expect("dir");
    let sim = rt.block_on(setup::simulator(1));
    let addr = start_api(&sim, &dir.join("api"));
    let mut api = Conn::open(addr);
    let bare = BareServer::start();
    let mut bare_client = BareClient::connect(bare.addr);

    // Reads: alternate bare / health / ref lookup.
    let (st, body) = api.call(
        "POST",
        "/v1/sales",
        &format!(
            r#"{{"amount":"0.01","ref":"BENCH-0","code":"{}"}}"#,
            code(0)
        ),
    );
    assert_eq!(st, 200, "{body}");
    let (mut b, mut h, mut g) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let t = Instant::now();
        bare_client.post();
        b.push(t.elapsed());
        while bare.received.try_recv().is_ok() {}
        let t = Instant::now();
        let (st, _) = api.call("GET", "/v1/health", "");
        h.push(t.elapsed());
        assert_eq!(st, 200);
        let t = Instant::now();
        let (st, _) = api.call("GET", "/v1/sales/BENCH-0", "");
        g.push(t.elapsed());
        assert_eq!(st, 200);
    }
    let (b, h, g) = (Dist::of(b), Dist::of(h), Dist::of(g));
    println!("\n7. local API, {n} calls each, load average {}", loadavg());
    println!("   bare loopback round trip   {}", b.ms());
    println!(
        "   GET /v1/health             {}  p50 {} of bare",
        h.ms(),
        times(h.p50, b.p50)
    );
    println!(
        "   GET /v1/sales/{{ref}}        {}  p50 {} of bare",
        g.ms(),
        times(g.p50, b.p50)
    );

    // Whole sales: over the API, and the same sale run directly on another till.
    let mut direct_till = rt.block_on(setup::till_at(
        &sim.base_url,
        &dir.join("direct"),
        "DIR",
        1,
        None,
    ));
    let (mut via, mut direct) = (Vec::new(), Vec::new());
    for i in 0..sales as u64 {
        let t = Instant::now();
        let (st, body) = api.call(
            "POST",
            "/v1/sales",
            &format!(
                r#"{{"amount":"0.01","ref":"B-{i}","code":"{}"}}"#,
                code(10_000 + i)
            ),
        );
        via.push(t.elapsed());
        assert!(st == 200 && body.contains("\"paid\""), "{body}");
        let pos_ref = PosRef::parse(&format!("D-{i}")).expect("ref");
        let c = paycode::authcode::AuthCode::parse(&code(20_000 + i)).expect("code");
        let t = Instant::now();
        let s = rt
            .block_on(run_sale_for_ref(
                &mut direct_till,
                Fen(1),
                c,
                &pos_ref,
                |_| {},
            ))
            .expect("sale");
        direct.push(t.elapsed());
        assert_eq!(s.outcome.status(), Status::Paid);
    }
    let (v, d) = (Dist::of(via), Dist::of(direct));
    println!("   sale, run directly         {}", d.ms());
    println!(
        "   sale by POST /v1/sales     {}  p50 {} of direct (+{} µs)",
        v.ms(),
        times(v.p50, d.p50),
        v.p50.saturating_sub(d.p50).as_micros()
    );

    // The event stream: when the `final` event reaches a subscriber, against the POST's answer.
    let finals = subscribe(addr);
    let (mut answer, mut event, mut ahead, mut behind) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..sales as u64 {
        let r = format!("E-{i}");
        let t = Instant::now();
        let (st, body) = api.call(
            "POST",
            "/v1/sales",
            &format!(
                r#"{{"amount":"0.01","ref":"{r}","code":"{}"}}"#,
                code(30_000 + i)
            ),
        );
        let answered = t.elapsed();
        assert!(st == 200 && body.contains("\"paid\""), "{body}");
        let arrived = loop {
            let (got, at) = finals
                .recv_timeout(Duration::from_secs(10))
                .expect("final event");
            if got == r {
                break at.duration_since(t);
            }
        };
        answer.push(answered);
        event.push(arrived);
        // The hub hears the outcome before the answer is written: usually ahead.
        ahead.push(answered.saturating_sub(arrived));
        behind.push(arrived.saturating_sub(answered));
    }
    let (a, e) = (Dist::of(answer), Dist::of(event));
    let (ahead, behind) = (Dist::of(ahead), Dist::of(behind));
    println!("   POST /v1/sales answered    {}", a.ms());
    println!(
        "   its final SSE event        {}  p50 {} of the answer",
        e.ms(),
        times(e.p50, a.p50)
    );
    println!("   event ahead of the answer  {}", ahead.us());
    println!("   event behind the answer    {}", behind.us());
}

/// A `GET /v1/events` subscriber on its own thread: the ref of each `final` event and when it
/// arrived. Decodes HTTP/1.1 chunking by hand so no event is split or delayed by a framework.
fn subscribe(addr: SocketAddr) -> mpsc::Receiver<(String, Instant)> {
    let (tx, rx) = mpsc::channel();
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let req =
        format!("GET /v1/events HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n");
    s.write_all(req.as_bytes()).expect("write");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).expect("head");
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut text = String::new();
        loop {
            let mut size = String::new();
            if r.read_line(&mut size).unwrap_or(0) == 0 {
                return;
            }
            let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
                continue;
            };
            let mut chunk = vec![0u8; n + 2];
            if r.read_exact(&mut chunk).is_err() {
                return;
            }
            let at = Instant::now();
            text.push_str(&String::from_utf8_lossy(&chunk[..n]));
            while let Some(end) = text.find("\n\n") {
                let frame: String = text.drain(..end + 2).collect();
                if !frame.lines().any(|l| l == "event: final") {
                    continue;
                }
                let data = frame.lines().find_map(|l| l.strip_prefix("data: "));
                let v: serde_json::Value =
                    serde_json::from_str(data.unwrap_or("null")).unwrap_or_default();
                let r = v["ref"].as_str().unwrap_or("").to_string();
                if tx.send((r, at)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}
