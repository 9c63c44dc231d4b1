//! Test support for the wxpay client tests: a small HTTP/1.1 server on 127.0.0.1:0 (plain or TLS,
//! optionally requiring a client certificate) with scripted misbehaviour, and rcgen certificates.
//! The server is hand-written on raw sockets so tests control every byte and pause of a reply.
#![allow(dead_code)] // each test crate uses a different part

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// The `Date` header every scripted reply carries.
pub const SERVER_DATE: &str = "Fri, 27 Nov 2026 02:00:00 GMT";

/// What the server does with each request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Answer with this status and body (keep-alive).
    Reply { status: u16, body: Vec<u8> },
    /// Read the request and never answer.
    Stall,
    /// Declare `total` bytes, then send one byte per `every`.
    Drip { total: usize, every: Duration },
    /// Offer `total` bytes in 64 KiB chunks until the client hangs up; with or without a length.
    Flood { total: u64, declare_length: bool },
    /// Answer with this status and body, say `Connection: close` and hang up: the client keeps
    /// no pooled connection, so its next request opens a new one.
    ReplyThenClose { status: u16, body: Vec<u8> },
    /// Connection `i` (counted from 0) behaves as entry `i`; later ones as the last entry.
    PerConnection(Vec<Behaviour>),
    /// Read the request, then answer with bytes that are neither HTTP nor (over TLS, written
    /// beneath the TLS layer) a valid TLS record: a failure after the request arrived.
    Garbage,
}

impl Behaviour {
    /// A 200 reply with a small XML body.
    pub fn ok() -> Behaviour {
        Behaviour::Reply {
            status: 200,
            body: b"<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>".to_vec(),
        }
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    tls: bool,
    connections: Arc<AtomicUsize>,
    handshakes_failed: Arc<AtomicUsize>,
    written: Arc<AtomicU64>,
    flood_ended: Arc<Notify>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: Option<JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl TestServer {
    /// Starts a plain HTTP server.
    pub async fn http(b: Behaviour) -> TestServer {
        Self::start(b, None).await
    }

    /// Starts an HTTPS server with `config`.
    pub async fn https(b: Behaviour, config: rustls::ServerConfig) -> TestServer {
        Self::start(b, Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn start(b: Behaviour, tls: Option<tokio_rustls::TlsAcceptor>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve_on(listener, b, tls)
    }

    fn serve_on(
        listener: TcpListener,
        b: Behaviour,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> TestServer {
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let handshakes_failed = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicU64::new(0));
        let flood_ended = Arc::new(Notify::new());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let is_tls = tls.is_some();
        let (c, h, w, s, fe) = (
            connections.clone(),
            handshakes_failed.clone(),
            written.clone(),
            seen.clone(),
            flood_ended.clone(),
        );
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection task.
            let mut conns = JoinSet::new();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let index = c.fetch_add(1, Ordering::SeqCst);
                let b = match &b {
                    Behaviour::PerConnection(script) => script
                        .get(index)
                        .or(script.last())
                        .expect("a non-empty script")
                        .clone(),
                    other => other.clone(),
                };
                let (h, tls) = (h.clone(), tls.clone());
                let out = Outputs {
                    written: w.clone(),
                    flood_ended: fe.clone(),
                    seen: s.clone(),
                };
                conns.spawn(async move {
                    match tls {
                        None => serve(tcp, b, out).await,
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(stream) if matches!(b, Behaviour::Garbage) => {
                                garbage_below_tls(stream, out).await
                            }
                            Ok(stream) => serve(stream, b, out).await,
                            Err(_) => {
                                h.fetch_add(1, Ordering::SeqCst);
                            }
                        },
                    }
                });
            }
        });
        TestServer {
            addr,
            tls: is_tls,
            connections,
            handshakes_failed,
            written,
            flood_ended,
            seen,
            task: Some(task),
        }
    }

    /// Stops the server and waits until its listener is closed: new connections are refused.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            // Cancelled: the accept loop and its listener have been dropped.
            let _ = task.await;
        }
    }

    /// Waits until a Flood reply has stopped (client hung up or all sent); returns bytes written.
    pub async fn flood_finished(&self) -> u64 {
        guard(self.flood_ended.notified()).await;
        self.written.load(Ordering::SeqCst)
    }

    /// The base URL ("http://127.0.0.1:PORT" or "https://127.0.0.1:PORT").
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes the server rejected or lost.
    pub fn handshakes_failed(&self) -> usize {
        self.handshakes_failed.load(Ordering::SeqCst)
    }

    /// Body bytes the server managed to write (Flood).
    pub fn body_bytes_written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

/// A port on 127.0.0.1 that refuses connections (bound, not listening) until [`Self::listen`]
/// starts a plain HTTP server on it: a host that is down, then up, at the same address.
pub struct ReservedPort {
    socket: tokio::net::TcpSocket,
    pub addr: SocketAddr,
}

impl ReservedPort {
    pub fn new() -> ReservedPort {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        ReservedPort { socket, addr }
    }

    /// "http://127.0.0.1:PORT".
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts listening and serving `b` on the reserved port.
    pub fn listen(self, b: Behaviour) -> TestServer {
        let listener = self.socket.listen(1024).expect("listen");
        TestServer::serve_on(listener, b, None)
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}")
}

/// Where a connection task reports what it saw and did.
struct Outputs {
    written: Arc<AtomicU64>,
    flood_ended: Arc<Notify>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, b: Behaviour, out: Outputs) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut io, &mut buf).await {
        let head = req.method == "HEAD";
        out.seen.lock().expect("lock").push(req);
        let ok = match &b {
            Behaviour::Reply { status, body } => {
                let mut reply = format!(
                    "HTTP/1.1 {status} Scripted\r\nDate: {SERVER_DATE}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                if !head {
                    reply.extend_from_slice(body);
                }
                io.write_all(&reply).await.is_ok() && io.flush().await.is_ok()
            }
            Behaviour::ReplyThenClose { status, body } => {
                let mut reply = format!(
                    "HTTP/1.1 {status} Scripted\r\nDate: {SERVER_DATE}\r\nContent-Type: text/xml\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                if !head {
                    reply.extend_from_slice(body);
                }
                let _ = io.write_all(&reply).await;
                let _ = io.shutdown().await;
                false
            }
            // Resolved to one entry per connection in the accept loop.
            Behaviour::PerConnection(_) => false,
            Behaviour::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                false
            }
            Behaviour::Drip { total, every } => {
                let headers = format!(
                    "HTTP/1.1 200 OK\r\nDate: {SERVER_DATE}\r\nContent-Length: {total}\r\n\r\n"
                );
                if io.write_all(headers.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..*total {
                    if io.flush().await.is_err() {
                        return;
                    }
                    tokio::time::sleep(*every).await;
                    if io.write_all(b"x").await.is_err() {
                        return;
                    }
                }
                io.flush().await.is_ok()
            }
            Behaviour::Garbage => {
                let _ = io.write_all(b"\x00\x01 not http\r\n\r\n").await;
                let _ = io.flush().await;
                false
            }
            Behaviour::Flood {
                total,
                declare_length,
            } => {
                flood(&mut io, *total, *declare_length, &out.written).await;
                out.flood_ended.notify_one();
                false
            }
        };
        if !ok {
            return;
        }
    }
}

/// An application-data record header with a body no key decrypts, written to the raw socket.
const NOT_A_RECORD: &[u8] = b"\x17\x03\x03\x00\x20this is no TLS ciphertext at all!";

/// Reads one request through TLS, then writes [`NOT_A_RECORD`] beneath it and waits for the hang-up.
async fn garbage_below_tls(
    mut io: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    out: Outputs,
) {
    let mut buf = Vec::new();
    let Some(req) = read_request(&mut io, &mut buf).await else {
        return;
    };
    out.seen.lock().expect("lock").push(req);
    let tcp = io.get_mut().0;
    if tcp.write_all(NOT_A_RECORD).await.is_err() || tcp.flush().await.is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
}

async fn flood<S: AsyncWrite + Unpin>(io: &mut S, total: u64, declare: bool, written: &AtomicU64) {
    let framing = if declare {
        format!("Content-Length: {total}")
    } else {
        "Transfer-Encoding: chunked".to_string()
    };
    let headers = format!("HTTP/1.1 200 OK\r\nDate: {SERVER_DATE}\r\n{framing}\r\n\r\n");
    if io.write_all(headers.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0u64;
    while sent < total {
        let n = chunk
            .len()
            .min(usize::try_from(total - sent).expect("fits"));
        let res = if declare {
            io.write_all(&chunk[..n]).await
        } else {
            let mut framed = format!("{n:x}\r\n").into_bytes();
            framed.extend_from_slice(&chunk[..n]);
            framed.extend_from_slice(b"\r\n");
            io.write_all(&framed).await
        };
        if res.is_err() {
            return;
        }
        sent += n as u64;
        written.store(sent, Ordering::SeqCst);
    }
    if !declare {
        let _ = io.write_all(b"0\r\n\r\n").await;
    }
    let _ = io.flush().await;
}

/// Reads one request (headers and a Content-Length body); None at end of stream or on garbage.
async fn read_request<S: AsyncRead + Unpin>(io: &mut S, buf: &mut Vec<u8>) -> Option<Seen> {
    let end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let mut tmp = [0u8; 4096];
        let n = io.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8(buf[..end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..end + 4);
    while buf.len() < len {
        let mut tmp = [0u8; 4096];
        let n = io.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

/// Certificates for the TLS tests: a CA, a server and a client certificate it signed, and
/// self-signed (untrusted) server and client certificates.
pub struct Pki {
    pub ca_pem: String,
    ca_der: CertificateDer<'static>,
    server: (CertificateDer<'static>, Vec<u8>),
    rogue_server: (CertificateDer<'static>, Vec<u8>),
    other_name_server: (CertificateDer<'static>, Vec<u8>),
    expired_server: (CertificateDer<'static>, Vec<u8>),
    pub client_cert_pem: String,
    pub client_key_pem: String,
    pub rogue_client_cert_pem: String,
    pub rogue_client_key_pem: String,
}

fn leaf(names: &[&str]) -> CertificateParams {
    CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("params")
}

impl Pki {
    /// Generates fresh certificates.
    pub fn new() -> Pki {
        let mut ca_params = leaf(&[]);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca =
            CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
        let server_key = KeyPair::generate().expect("key");
        let server = leaf(&["127.0.0.1", "localhost"])
            .signed_by(&server_key, &ca)
            .expect("server cert");
        let client_key = KeyPair::generate().expect("key");
        let client = leaf(&["till-01"])
            .signed_by(&client_key, &ca)
            .expect("client cert");
        let rogue_key = KeyPair::generate().expect("key");
        let rogue = leaf(&["127.0.0.1", "localhost"])
            .self_signed(&rogue_key)
            .expect("rogue");
        let other_key = KeyPair::generate().expect("key");
        let other = leaf(&["api.mch.weixin.qq.com"])
            .signed_by(&other_key, &ca)
            .expect("other-name cert");
        let expired_key = KeyPair::generate().expect("key");
        let mut expired_params = leaf(&["127.0.0.1", "localhost"]);
        expired_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        expired_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let expired = expired_params
            .signed_by(&expired_key, &ca)
            .expect("expired cert");
        let rogue_client_key = KeyPair::generate().expect("key");
        let rogue_client = leaf(&["till-01"])
            .self_signed(&rogue_client_key)
            .expect("rogue client");
        Pki {
            ca_pem: ca.pem(),
            ca_der: ca.der().clone(),
            server: (server.der().clone(), server_key.serialize_der()),
            rogue_server: (rogue.der().clone(), rogue_key.serialize_der()),
            other_name_server: (other.der().clone(), other_key.serialize_der()),
            expired_server: (expired.der().clone(), expired_key.serialize_der()),
            client_cert_pem: client.pem(),
            client_key_pem: client_key.serialize_pem(),
            rogue_client_cert_pem: rogue_client.pem(),
            rogue_client_key_pem: rogue_client_key.serialize_pem(),
        }
    }

    /// Server config with the CA-signed certificate; `require_client` demands a CA-signed client cert.
    pub fn server_config(&self, require_client: bool) -> rustls::ServerConfig {
        self.config_for(&self.server, require_client)
    }

    /// Server config with the self-signed certificate no client trusts.
    pub fn rogue_server_config(&self) -> rustls::ServerConfig {
        self.config_for(&self.rogue_server, false)
    }

    /// Server config with a CA-signed certificate for another host name only.
    pub fn other_name_server_config(&self) -> rustls::ServerConfig {
        self.config_for(&self.other_name_server, false)
    }

    /// Server config with a CA-signed certificate that expired in 2021.
    pub fn expired_server_config(&self) -> rustls::ServerConfig {
        self.config_for(&self.expired_server, false)
    }

    /// Server config with the CA-signed certificate that requires a client cert from `client_ca_pem`.
    pub fn server_config_for_clients_of(&self, client_ca_pem: &str) -> rustls::ServerConfig {
        let ca = rustls_pemfile::certs(&mut client_ca_pem.as_bytes())
            .next()
            .expect("a certificate")
            .expect("valid PEM");
        self.config_with(&self.server, Some(ca))
    }

    fn config_for(
        &self,
        pair: &(CertificateDer<'static>, Vec<u8>),
        require_client: bool,
    ) -> rustls::ServerConfig {
        self.config_with(pair, require_client.then(|| self.ca_der.clone()))
    }

    fn config_with(
        &self,
        (cert, key): &(CertificateDer<'static>, Vec<u8>),
        client_ca: Option<CertificateDer<'static>>,
    ) -> rustls::ServerConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if let Some(client_ca) = client_ca {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(client_ca).expect("ca");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.clone()));
        builder
            .with_single_cert(vec![cert.clone()], key)
            .expect("server config")
    }
}

/// Writes `contents` to `dir/name` with the given Unix mode and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

/// A hang guard for awaits that must finish (not a timing assertion).
pub async fn guard<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("hang guard: operation did not finish within 60 s")
}
