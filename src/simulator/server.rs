//! The IO edge: axum on hyper over TCP or TLS. It reads the clock, decodes nothing itself, hands
//! each request to the pure core, sleeps the answer's delay and writes (or drops) it.
#![allow(clippy::disallowed_methods)] // IO edge: the server edge is where simulated time is read from the clock.

use super::ledger::{AdminError, OrderStatus, Sim, SimTime};
use super::oplog::{Op, Outcome, apply};
use super::reply::{Body as ReplyBody, SimReply, render};
use super::rules::{Endpoint, is_secapi};
use super::scenario::{Fault, scenarios};
use super::store::Store;
use super::tls::{CertAuthority, server_config};
use super::view::LedgerView;
use super::{SimError, SimSettings};
use crate::wxpay::sign::ApiKey;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Method, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Largest request body accepted (WeChat's requests are a few hundred bytes).
const MAX_REQUEST: usize = 64 * 1024;

/// The simulator and, when it shares state with other processes, its log.
struct Core {
    sim: Sim,
    store: Option<Store>,
}

/// The shared simulator behind every connection.
struct Shared {
    core: Mutex<Core>,
    start: Instant,
    time_scale: u32,
}

impl Shared {
    fn core(&self) -> MutexGuard<'_, Core> {
        // A panic while holding the lock leaves consistent data (every mutation is one step).
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Simulated time of this process alone: real time since start × `time_scale`.
    fn local_now(&self) -> SimTime {
        self.start.elapsed().saturating_mul(self.time_scale.max(1))
    }

    /// Apply one change (and log it when the state is shared).
    fn run(&self, op: Op) -> Outcome {
        let mut core = self.core();
        let Core { sim, store } = &mut *core;
        match store {
            Some(st) => st.run(sim, op, self.time_scale),
            None => apply(sim, &op, self.local_now()),
        }
    }

    /// One WeChat request (a shared log scrubs its payment code, `Store::run`).
    fn request(&self, ep: Endpoint, post: bool, body: &[u8]) -> (SimReply, ApiKey) {
        let key = self.core().sim.settings().merchant.key.clone();
        let op = Op::Request {
            ep,
            post,
            body: body.to_vec(),
        };
        match self.run(op) {
            Outcome::Reply(r) => (r, key),
            // `apply` answers a request with a reply; anything else is a bug, answered as 500.
            _ => (SimReply::now(ReplyBody::Http500), key),
        }
    }

    /// A trainer action on order `no`: a value that is not an order number, or names no order,
    /// is refused before anything is logged (it may be a payment code posted by mistake).
    fn trainer(&self, no: &str, op: fn(String) -> Op) -> Result<OrderStatus, AdminError> {
        if !super::rules::order_no_ok(no) {
            return Err(AdminError::BadNumber);
        }
        if !self.view(|sim, _| sim.has_order(no)) {
            return Err(AdminError::NoOrder(String::new()));
        }
        admin(self.run(op(no.to_string())))
    }

    /// Look at (and lazily advance) the state as of now, caught up with other processes.
    fn view<R>(&self, f: impl FnOnce(&mut Sim, SimTime) -> R) -> R {
        let mut core = self.core();
        let Core { sim, store } = &mut *core;
        let now = match store {
            Some(st) => st.refresh(sim, self.time_scale),
            None => self.local_now(),
        };
        let now = sim.shifted(now);
        f(sim, now)
    }

    /// Real time to wait for a simulated delay.
    fn real(&self, d: Duration) -> Duration {
        d / self.time_scale.max(1)
    }
}

/// A simulator serving on a loopback port. Dropping it stops the server.
pub struct RunningSim {
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT` (no trailing slash).
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The CA certificate to trust (TLS only).
    pub ca_pem: Option<String>,
    /// A merchant client certificate signed by that CA (TLS only).
    pub client_cert_pem: Option<String>,
    /// Its private key, PKCS#8 PEM (TLS only). Never printed by `Debug`.
    pub client_key_pem: Option<String>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for RunningSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSim")
            .field("base_url", &self.base_url)
            .field("tls", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl RunningSim {
    /// Simulated time now.
    pub fn now(&self) -> SimTime {
        self.shared.view(|_, now| now)
    }

    /// Every order and the totals (same as `GET /__sim/ledger`).
    pub fn ledger(&self) -> LedgerView {
        self.shared.view(|sim, now| sim.ledger(now))
    }

    /// Trainer: move simulated time forward by `by` (same as `POST /__sim/advance`).
    pub fn advance(&self, by: Duration) {
        self.shared.run(Op::Advance(by));
    }

    /// Trainer: the customer confirms the password for this order now.
    pub fn confirm(&self, out_trade_no: &str) -> Result<OrderStatus, AdminError> {
        self.shared.trainer(out_trade_no, Op::Confirm)
    }

    /// Trainer: the customer closes the password box for this order now.
    pub fn cancel(&self, out_trade_no: &str) -> Result<OrderStatus, AdminError> {
        self.shared.trainer(out_trade_no, Op::Cancel)
    }

    /// Queue a fault for the next `count` requests (to `endpoint` only, if given).
    pub fn add_fault(&self, fault: Fault, count: u32, endpoint: Option<Endpoint>) {
        self.shared.run(Op::Fault {
            fault,
            count,
            endpoint,
        });
    }

    /// Trainer: the faults still queued (same as `GET /__sim/fault`).
    pub fn queued_faults(&self) -> Vec<crate::simulator::ledger::FaultRule> {
        self.shared.view(|sim, _| sim.pending_faults().to_vec())
    }

    /// Trainer: drop every queued fault (same as `DELETE /__sim/fault`).
    pub fn clear_faults(&self) {
        self.shared.run(Op::ClearFaults);
    }

    /// Stop accepting, close open connections and wait for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// A trainer action's result out of an [`Outcome`].
fn admin(out: Outcome) -> Result<OrderStatus, AdminError> {
    match out {
        Outcome::Admin(r) => r,
        // `apply` answers a trainer action with its result; nothing else reaches here.
        _ => Err(AdminError::NoOrder(String::new())),
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Start a simulator (HTTP, or HTTPS with mTLS on `/secapi/*` when `settings.tls`).
pub async fn start(settings: SimSettings) -> Result<RunningSim, SimError> {
    let (sim, store) = match &settings.store {
        Some(path) => {
            let (store, sim) = Store::open(path, &settings)?;
            (sim, Some(store))
        }
        None => {
            let epoch = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
            (Sim::new(settings.core(epoch)), None)
        }
    };
    let shared = Arc::new(Shared {
        core: Mutex::new(Core { sim, store }),
        start: Instant::now(),
        time_scale: settings.time_scale.max(1),
    });
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: settings.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: settings.listen,
        source,
    })?;
    let (tls, ca_pem, client) = if settings.tls {
        let ca = match settings.authority.clone() {
            Some(ca) => ca,
            None => CertAuthority::generate()?,
        };
        let server = ca.server_identity()?;
        let client = ca.client_identity(&settings.mch_id)?;
        let cfg = server_config(&ca, &server)?;
        (
            Some(tokio_rustls::TlsAcceptor::from(cfg)),
            Some(ca.cert_pem().to_string()),
            Some(client),
        )
    } else {
        (None, None, None)
    };
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (stop, stop_rx) = watch::channel(false);
    let router = router(shared.clone());
    let task = tokio::spawn(accept_loop(listener, tls, router, stop_rx));
    Ok(RunningSim {
        base_url: format!("{scheme}://{host}:{}", addr.port()),
        addr,
        ca_pem,
        client_cert_pem: client.as_ref().map(|c| c.cert_pem.clone()),
        client_key_pem: client.map(|c| c.key_pem),
        shared,
        stop,
        task: Some(task),
    })
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let tcp = tokio::select! {
            _ = stop.changed() => return,
            acc = listener.accept() => match acc {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("simulator accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (tcp, peer) = tcp;
        let local = peer.ip().is_loopback();
        let (router, tls, mut stop) = (router.clone(), tls.clone(), stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.changed() => {}
                _ = serve(tcp, tls, router, local) => {}
            }
        });
    }
}

/// Why the edge closed a connection without an HTTP answer.
#[derive(Debug, thiserror::Error)]
enum Closed {
    #[error("client certificate required on /secapi")]
    NoClientCert,
    #[error("fault injection: connection dropped")]
    Dropped,
}

/// Marker on a response: close the connection instead of sending it.
#[derive(Clone, Copy)]
struct DropConnection;

/// `local`: the peer is on this machine; only then do the trainer's `/__sim/*` calls (confirm
/// a customer's password, queue faults) answer.
async fn serve(
    tcp: tokio::net::TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    local: bool,
) {
    let _ = tcp.set_nodelay(true);
    match tls {
        None => http(TokioIo::new(tcp), router, true, local).await,
        Some(acceptor) => {
            let hs = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await;
            let Ok(Ok(stream)) = hs else {
                return; // handshake failed (bad or untrusted client certificate) or timed out
            };
            let has_cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .is_some_and(|c| !c.is_empty());
            http(TokioIo::new(stream), router, has_cert, local).await;
        }
    }
}

async fn http<I>(io: TokioIo<I>, router: Router, has_cert: bool, local: bool)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let router = router.clone();
        async move {
            if !has_cert && is_secapi(req.uri().path()) {
                // Like WeChat: no certificate, no answer. The client sees a transport failure.
                return Err(Closed::NoClientCert);
            }
            if !local && req.uri().path().starts_with("/__sim/") {
                return Ok(json(
                    StatusCode::FORBIDDEN,
                    &serde_json::json!({
                        "error": "the simulator's /__sim/* trainer calls answer only from this machine (127.0.0.1 / ::1)",
                        "error_zh": "模拟器的 /__sim/* 训练接口只接受本机(127.0.0.1 / ::1)的请求",
                    }),
                ));
            }
            let resp = match router.oneshot(req.map(Body::new)).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            if resp.extensions().get::<DropConnection>().is_some() {
                return Err(Closed::Dropped);
            }
            Ok(resp)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, svc)
        .await;
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__sim/ledger", get(ledger))
        .route("/__sim/scenarios", get(scenario_table))
        .route("/__sim/confirm/{no}", post(confirm))
        .route("/__sim/cancel/{no}", post(cancel))
        .route(
            "/__sim/fault",
            post(fault).get(faults_queued).delete(faults_cleared),
        )
        .route("/__sim/advance", post(advance))
        .fallback(wechat)
        .with_state(shared)
}

fn json(status: StatusCode, v: &impl serde::Serialize) -> Response<Body> {
    let body = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn ledger(State(s): State<Arc<Shared>>) -> Response<Body> {
    let view = s.view(|sim, now| sim.ledger(now));
    json(StatusCode::OK, &view)
}

async fn scenario_table() -> Response<Body> {
    json(StatusCode::OK, &scenarios())
}

fn admin_result(no: &str, r: Result<OrderStatus, AdminError>) -> Response<Body> {
    match r {
        Ok(state) => json(
            StatusCode::OK,
            &serde_json::json!({ "out_trade_no": no, "state": state.as_str() }),
        ),
        Err(e) => {
            let status = match e {
                AdminError::NoOrder(_) => StatusCode::NOT_FOUND,
                AdminError::BadNumber => StatusCode::BAD_REQUEST,
                _ => StatusCode::CONFLICT,
            };
            json(status, &serde_json::json!({ "error": e.to_string() }))
        }
    }
}

async fn confirm(State(s): State<Arc<Shared>>, Path(no): Path<String>) -> Response<Body> {
    let r = s.trainer(&no, Op::Confirm);
    admin_result(&no, r)
}

async fn cancel(State(s): State<Arc<Shared>>, Path(no): Path<String>) -> Response<Body> {
    let r = s.trainer(&no, Op::Cancel);
    admin_result(&no, r)
}

/// `POST /__sim/fault` body.
#[derive(serde::Deserialize)]
struct FaultRequest {
    kind: String,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    ms: u64,
}

fn one() -> u32 {
    1
}

async fn fault(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response<Body> {
    let bad = |e: String| json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": e }));
    let req: FaultRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad(format!(
                "body must be JSON like {{\"kind\":\"drop\",\"count\":1,\"endpoint\":\"micropay\"}}: {e}"
            ));
        }
    };
    let Some(kind) = Fault::from_kind(&req.kind, req.ms) else {
        return bad(AdminError::UnknownFault(req.kind).to_string());
    };
    let endpoint = match req.endpoint.as_deref() {
        None | Some("") => None,
        Some(name) => match Endpoint::from_name(name) {
            Some(e) => Some(e),
            None => return bad(AdminError::UnknownEndpoint(name.to_string()).to_string()),
        },
    };
    s.run(Op::Fault {
        fault: kind,
        count: req.count,
        endpoint,
    });
    let queued = s.view(|sim, _| sim.pending_faults().to_vec());
    json(StatusCode::OK, &serde_json::json!({ "queued": queued }))
}

/// `GET /__sim/fault`: the faults still queued.
async fn faults_queued(State(s): State<Arc<Shared>>) -> Response<Body> {
    let queued = s.view(|sim, _| sim.pending_faults().to_vec());
    json(StatusCode::OK, &serde_json::json!({ "queued": queued }))
}

/// `DELETE /__sim/fault`: drop every queued fault (kept in the shared log like any change).
async fn faults_cleared(State(s): State<Arc<Shared>>) -> Response<Body> {
    s.run(Op::ClearFaults);
    let queued = s.view(|sim, _| sim.pending_faults().to_vec());
    json(StatusCode::OK, &serde_json::json!({ "queued": queued }))
}

/// `POST /__sim/advance` body: how far to move simulated time.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    #[serde(default)]
    days: u64,
    #[serde(default)]
    secs: u64,
}

async fn advance(State(s): State<Arc<Shared>>, body: axum::body::Bytes) -> Response<Body> {
    let req: AdvanceRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let e = format!("body must be JSON like {{\"days\":8}} or {{\"secs\":90}}: {e}");
            return json(StatusCode::BAD_REQUEST, &serde_json::json!({ "error": e }));
        }
    };
    let by = Duration::from_secs(req.days.saturating_mul(86_400).saturating_add(req.secs));
    s.run(Op::Advance(by));
    let now = s.view(|_, now| now);
    json(
        StatusCode::OK,
        &serde_json::json!({ "advanced_secs": by.as_secs(), "now_secs": now.as_secs() }),
    )
}

/// Every WeChat path (any method: non-POST gets REQUIRE_POST_METHOD).
async fn wechat(State(s): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let Some(ep) = Endpoint::from_path(req.uri().path()) else {
        return (StatusCode::NOT_FOUND, "not a WeChat Pay v2 path\n").into_response();
    };
    let is_post = req.method() == Method::POST;
    let body = match axum::body::to_bytes(req.into_body(), MAX_REQUEST).await {
        Ok(b) => b,
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
        }
    };
    let (reply, key) = s.request(ep, is_post, &body);
    let out = render(&reply, &key);
    if !out.delay.is_zero() {
        tokio::time::sleep(s.real(out.delay)).await;
    }
    let mut resp = Response::new(Body::from(out.body));
    *resp.status_mut() = StatusCode::from_u16(out.status).unwrap_or(StatusCode::OK);
    if let Ok(v) = header::HeaderValue::from_str(out.content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    if out.drop {
        resp.extensions_mut().insert(DropConnection);
    }
    resp
}
