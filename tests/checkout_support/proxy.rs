//! A tampering HTTP/1.1 proxy in front of the simulator, for the reply faults the simulator
//! cannot produce itself: every request reaches the simulator (so its ledger shows what really
//! happened), and the reply is passed on, replaced, re-signed, cut short, dripped or flooded.
//! Hand-written on raw sockets so the test controls every byte and pause.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paycode::config::SIMULATOR_DEMO_KEY;
use paycode::wxpay::sign::{ApiKey, SignType, sign};
use paycode::wxpay::xml::{Fields, decode, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one reply.
#[derive(Clone)]
pub enum Tamper {
    /// 200 with this body instead of the simulator's.
    Body(Vec<u8>),
    /// The simulator's body cut to its first half (a complete HTTP message: the XML is cut).
    HalfBody,
    /// Declare the simulator's length, send half of it, then close (the HTTP body is cut).
    CutConnection,
    /// The simulator's reply, one byte per `every`.
    Drip(Duration),
    /// 200 declaring `bytes` of body and offering them until the client hangs up.
    Flood(u64),
    /// Decode the reply, apply the edit, and sign it again with the merchant key: a correctly
    /// signed reply that says something else.
    Resign(fn(&mut Fields)),
    /// Decode the reply and apply the edit without signing again.
    Edit(fn(&mut Fields)),
    /// Before forwarding, the customer confirms the password for this order (simulator admin).
    ConfirmFirst,
    /// Forward and answer untouched (a rule ahead of others for the same path: these pass).
    Pass,
    /// Forward, then answer this HTTP status with an empty body (a gateway error).
    Status(u16),
    /// Do not forward: answer this HTTP status with an empty body (WeChat never sees it).
    Unreached(u16),
    /// Forward, then answer this HTTP status with the request itself as the body: a gateway
    /// error page that echoes what it was sent (payment code included).
    EchoStatus(u16),
    /// Do not forward, never answer: a black-holed request (the client times out).
    Hang,
    /// Close the client's connection without an answer, and pass the request on this much
    /// later: a gateway that accepted it delivers it late.
    Late(Duration),
}

struct Rule {
    path: &'static str,
    tamper: Tamper,
    left: u32,
}

/// A running proxy; stops with the runtime that started it.
pub struct Proxy {
    pub addr: SocketAddr,
    rules: Arc<Mutex<Vec<Rule>>>,
    /// Paths of the requests seen, in order.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// Listen on a loopback port and forward to the simulator at `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, s) = (rules.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(tcp, upstream, r.clone(), s.clone()));
            }
        });
        Proxy { addr, rules, seen }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Tamper with the next `count` replies to requests whose path ends with `path`.
    pub fn tamper(&self, path: &'static str, tamper: Tamper, count: u32) {
        self.rules.lock().unwrap().push(Rule {
            path,
            tamper,
            left: count,
        });
    }

    /// Paths of the requests seen so far.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Drop every tampering rule not used up yet (the outage is over).
    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// Tampering rules not used up yet.
    pub fn rules_left(&self) -> usize {
        self.rules.lock().unwrap().len()
    }
}

/// An edit for [`Tamper::Resign`]: a refundquery answers `REFUNDNOTEXIST` (a list that does
/// not show a refund yet).
pub fn refund_not_exist(f: &mut Fields) {
    systemerror(f);
    let mut out: Fields = f
        .iter()
        .filter(|(k, _)| !k.starts_with("err_code"))
        .collect();
    out.push("err_code", "REFUNDNOTEXIST");
    out.push("err_code_des", "退款订单查询失败");
    *f = out;
}

/// An edit for [`Tamper::Resign`]: a refundquery's list also holds a ¥4.00 refund made in the
/// merchant platform (a number not the till's).
pub fn plus_platform_refund(f: &mut Fields) {
    let n: usize = f
        .get("refund_count")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut out: Fields = f
        .iter()
        .filter(|(k, _)| *k != "refund_count" && *k != "sign")
        .collect();
    out.push("refund_count", (n + 1).to_string());
    out.push(format!("out_refund_no_{n}"), "PLATFORM-1");
    out.push(format!("refund_id_{n}"), "50302026120400000000000000999");
    out.push(format!("refund_fee_{n}"), "400");
    out.push(format!("refund_status_{n}"), "SUCCESS");
    *f = out;
}

/// An edit for [`Tamper::Resign`]: the reply becomes a business `SYSTEMERROR`
/// (docs/protocol.md §5): only the envelope fields stay.
pub fn systemerror(f: &mut Fields) {
    let keep = [
        "return_code",
        "return_msg",
        "appid",
        "mch_id",
        "nonce_str",
        "device_info",
    ];
    let mut out: Fields = f.iter().filter(|(k, _)| keep.contains(k)).collect();
    out.push("result_code", "FAIL");
    out.push("err_code", "SYSTEMERROR");
    out.push("err_code_des", "系统超时");
    *f = out;
}

fn take(rules: &Mutex<Vec<Rule>>, path: &str) -> Option<Tamper> {
    let mut rules = rules.lock().unwrap();
    let i = rules.iter().position(|r| path.ends_with(r.path))?;
    let rule = &mut rules[i];
    rule.left -= 1;
    let t = rule.tamper.clone();
    if rule.left == 0 {
        rules.remove(i);
    }
    Some(t)
}

struct Request {
    path: String,
    body: Vec<u8>,
}

/// Read one request (head + Content-Length body) from a keep-alive connection.
async fn read_request(io: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len = header(&head, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                read_more(io, buf).await?;
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            return Some(Request { path, body });
        }
        read_more(io, buf).await?;
    }
}

async fn read_more(io: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    let n = io.read(&mut chunk).await.ok()?;
    if n == 0 {
        return None;
    }
    buf.extend_from_slice(&chunk[..n]);
    Some(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// One exchange with the simulator on a fresh connection; `None` when it dropped the
/// connection without an answer (a simulator `drop` fault).
async fn upstream_call(
    upstream: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    let mut io = TcpStream::connect(upstream).await.ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {upstream}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    io.write_all(head.as_bytes()).await.ok()?;
    io.write_all(body).await.ok()?;
    let mut raw = Vec::new();
    io.read_to_end(&mut raw).await.ok()?;
    let end = find(&raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, raw[end + 4..].to_vec()))
}

async fn serve(
    mut io: TcpStream,
    upstream: SocketAddr,
    rules: Arc<Mutex<Vec<Rule>>>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut io, &mut buf).await {
        seen.lock().unwrap().push(req.path.clone());
        let tamper = take(&rules, &req.path);
        if let Some(Tamper::ConfirmFirst) = &tamper {
            let f = decode(&req.body).unwrap();
            let no = f.get("out_trade_no").unwrap().to_string();
            let confirm = format!("/__sim/confirm/{no}");
            let (status, _) = upstream_call(upstream, "POST", &confirm, b"")
                .await
                .unwrap();
            assert_eq!(status, 200, "the customer could not confirm {no}");
        }
        if let Some(Tamper::Hang) = tamper {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        if let Some(Tamper::Late(after)) = tamper {
            drop(io);
            tokio::time::sleep(after).await;
            let _ = upstream_call(upstream, "POST", &req.path, &req.body).await;
            return;
        }
        if let Some(Tamper::Unreached(code)) = tamper {
            if !reply(&mut io, code, b"").await {
                return;
            }
            continue;
        }
        let Some((status, body)) = upstream_call(upstream, "POST", &req.path, &req.body).await
        else {
            return; // the simulator dropped it: so does the proxy
        };
        let ok = match tamper {
            None | Some(Tamper::ConfirmFirst | Tamper::Pass) => reply(&mut io, status, &body).await,
            Some(Tamper::Body(b)) => reply(&mut io, 200, &b).await,
            Some(Tamper::Status(code) | Tamper::Unreached(code)) => reply(&mut io, code, b"").await,
            Some(Tamper::EchoStatus(code)) => {
                // Like a gateway's error page: the request's fields, the code among the first.
                let f = decode(&req.body).unwrap();
                let mut fields: Vec<(String, String)> = f
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                fields.sort_by_key(|(k, _)| k != "auth_code");
                let page: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let page = format!("Bad request: {}", page.join("&"));
                reply(&mut io, code, page.as_bytes()).await
            }
            Some(Tamper::Hang | Tamper::Late(_)) => return,
            Some(Tamper::HalfBody) => reply(&mut io, status, &body[..body.len() / 2]).await,
            Some(Tamper::Resign(edit)) => {
                let mut f = decode(&body).unwrap();
                edit(&mut f);
                let key = ApiKey::new(SIMULATOR_DEMO_KEY).unwrap();
                let st = f
                    .get("sign_type")
                    .and_then(SignType::from_wire)
                    .unwrap_or(SignType::Md5);
                let unsigned: Fields = f.iter().filter(|(k, _)| *k != "sign").collect();
                let mut signed = unsigned.clone();
                signed.push("sign", sign(unsigned.iter(), &key, st));
                reply(&mut io, status, encode(signed.iter()).as_bytes()).await
            }
            Some(Tamper::Edit(edit)) => {
                let mut f = decode(&body).unwrap();
                edit(&mut f);
                reply(&mut io, status, encode(f.iter()).as_bytes()).await
            }
            Some(Tamper::CutConnection) => {
                let head = format!(
                    "HTTP/1.1 {status} OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = io.write_all(head.as_bytes()).await;
                let _ = io.write_all(&body[..body.len() / 2]).await;
                return;
            }
            Some(Tamper::Drip(every)) => {
                let head = format!(
                    "HTTP/1.1 {status} OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if io.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for b in body {
                    tokio::time::sleep(every).await;
                    if io.write_all(&[b]).await.is_err() {
                        return; // the client gave up
                    }
                }
                true
            }
            Some(Tamper::Flood(bytes)) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {bytes}\r\n\r\n"
                );
                if io.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'<'; 64 * 1024];
                let mut sent = 0u64;
                while sent < bytes {
                    if io.write_all(&chunk).await.is_err() {
                        return; // the client hung up: its cap worked
                    }
                    sent += chunk.len() as u64;
                }
                true
            }
        };
        if !ok {
            return;
        }
    }
}

async fn reply(io: &mut TcpStream, status: u16, body: &[u8]) -> bool {
    let head = format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    io.write_all(head.as_bytes()).await.is_ok() && io.write_all(body).await.is_ok()
}
