//! The local API's HTTP edge (axum over loopback TCP): the process that owns the journal serves
//! the POS. The till is not `Sync`, so one task owns it (`till_loop`, joined beside the server
//! as the cashier screen's worker is) and takes sales one at a time from a channel; a POS that
//! hangs up mid-sale only drops its answer — the sale goes on, and the next retry of its ref is
//! answered with it. Reads (`GET /v1/sales/{ref}`) use a second journal connection and never
//! wait for a running sale. The till task publishes every step into the event hub
//! (`GET /v1/events`, the customer display at `/display`), and a running sale can be asked to
//! cancel (`POST /v1/sales/{ref}/cancel`: the runner reverses by the rules).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::admin::{AdminCmd, AdminJob, Answered};
use super::contract::{self, BODY_MAX, Refusal};
use super::events::Hub;
use super::job::{Job, Reply, TillAnswer};
use super::origin::{self, Origin};
use super::sse;
use super::token::Token;
use crate::checkout::pos_ref::PosRef;
use crate::checkout::{
    CancelToken, Outcome, RetrySchedule, SaleError, Till, close_failures, messages, retry_pending,
    run_sale_for_ref_cancellable,
};
use crate::journal::{Journal, SaleRow, SaleState};
use crate::money::Fen;
use crate::words::{Bilingual, Words};

/// How often the idle till retries pending sales and closes definite failures.
const IDLE_EVERY: Duration = Duration::from_secs(30);

/// What the API knows of the till's owner.
#[derive(Debug, Clone)]
pub struct Owner {
    /// `[checkout] max_amount`.
    pub ceiling: Fen,
    pub simulated: bool,
    /// A cashier screen takes the scan, so an order may come without `code`.
    pub screen: bool,
    /// `[api] cors_origins`: the browser pages allowed to call.
    pub cors_origins: Vec<String>,
    /// The till's config (the manager PIN a refund needs is checked against it).
    pub config: Arc<crate::config::Config>,
}

/// Who called: a TCP peer, or a process on this machine through the Unix socket (allowed by
/// the socket file's mode, so counted as loopback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Tcp(SocketAddr),
    Local,
}

impl Peer {
    fn is_loopback(self) -> bool {
        match self {
            Peer::Tcp(a) => a.ip().is_loopback(),
            Peer::Local => true,
        }
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TcpListener>) -> Self {
        Peer::Tcp(*stream.remote_addr())
    }
}

impl
    axum::extract::connect_info::Connected<
        axum::serve::IncomingStream<'_, tokio::net::UnixListener>,
    > for Peer
{
    fn connect_info(_: axum::serve::IncomingStream<'_, tokio::net::UnixListener>) -> Self {
        Peer::Local
    }
}

/// Where the API is served: a TCP port, and the Unix socket when `[api] socket` is set.
#[derive(Debug)]
pub struct Listeners {
    pub tcp: TcpListener,
    pub unix: Option<tokio::net::UnixListener>,
}

/// The sale queued or running, for `POST /v1/sales/{ref}/cancel`.
struct Running {
    pos_ref: PosRef,
    cancel: CancelToken,
}

struct Api {
    jobs: mpsc::UnboundedSender<Job>,
    /// Refunds and the commands a second paycode hands over, for the till's owner.
    admin: mpsc::UnboundedSender<AdminJob>,
    /// A sale is queued or running: a second one is refused at once. Cleared by the order's
    /// [`Reply`] when it is answered (or dropped), whoever owns the till.
    sale_running: Arc<AtomicBool>,
    /// The last order taken; its sale is running while `sale_running` is set.
    running: Mutex<Option<Running>>,
    hub: Hub,
    reader: std::sync::Mutex<Journal>,
    /// This journal's id (`GET /v1/owner` proves it); `None` if it could not be read.
    journal_id: Option<String>,
    token: Option<Token>,
    owner: Owner,
}

/// Serve the API on `listener` until the process ends. `reader` is a second connection to the
/// till's journal; `token`, when set, is required as `Authorization: Bearer …` on every call
/// (the event stream and the display page excepted for loopback peers). The till's sales are
/// published into `hub`, which other producers may share.
pub async fn serve(
    till: Till,
    reader: Journal,
    listeners: Listeners,
    token: Option<Token>,
    hub: Hub,
) -> std::io::Result<()> {
    let (jobs, rx) = mpsc::unbounded_channel();
    let (admin, admin_rx) = mpsc::unbounded_channel();
    let owner = Owner {
        config: Arc::new(till.config().clone()),
        ceiling: till.config().checkout.max_amount,
        simulated: till.is_simulated(),
        screen: false,
        cors_origins: till
            .config()
            .api
            .as_ref()
            .map(|a| a.cors_origins.clone())
            .unwrap_or_default(),
    };
    let channels = Channels { jobs, admin };
    let (served, ()) = tokio::join!(
        serve_orders(channels, reader, listeners, token, owner, hub.clone()),
        till_loop(till, rx, admin_rx, &hub)
    );
    served
}

/// Where the API hands its work: sales, and the other till commands.
#[derive(Debug, Clone)]
pub struct Channels {
    pub jobs: mpsc::UnboundedSender<Job>,
    pub admin: mpsc::UnboundedSender<AdminJob>,
}

/// Serve the API on `listener`, handing each sale to `jobs` — the cashier screen's runtime,
/// or [`serve`]'s till task — which answers through the job's [`Reply`] and publishes its
/// progress into `hub`; refunds and handed-over commands go to `admin`, done by the same owner.
pub async fn serve_orders(
    Channels { jobs, admin }: Channels,
    reader: Journal,
    listeners: Listeners,
    token: Option<Token>,
    owner: Owner,
    hub: Hub,
) -> std::io::Result<()> {
    let journal_id = reader.journal_id().ok();
    let api = Arc::new(Api {
        journal_id,
        owner,
        jobs,
        admin,
        sale_running: Arc::new(AtomicBool::new(false)),
        running: Mutex::new(None),
        hub,
        reader: Mutex::new(reader),
        token,
    });
    let router = Router::new()
        .route("/v1/health", get(health))
        .route("/v1/sales", post(post_sale))
        .route("/v1/sales/{ref}", get(get_sale))
        .route("/v1/sales/{ref}/cancel", post(cancel_sale))
        .route("/v1/events", get(events))
        .route("/v1/history", get(history))
        .route("/v1/refunds", post(post_refund))
        .route("/v1/orders/{out_trade_no}/query", post(query_order))
        .route("/v1/recover", post(recover))
        .route("/v1/reconcile", get(reconcile))
        .route("/v1/owner", get(owner_proof))
        .route("/display", get(display))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(api.clone(), cors))
        .with_state(api);
    let tcp = axum::serve(
        listeners.tcp,
        router.clone().into_make_service_with_connect_info::<Peer>(),
    );
    match listeners.unix {
        None => tcp.await,
        Some(unix) => {
            let local = axum::serve(unix, router.into_make_service_with_connect_info::<Peer>());
            tokio::try_join!(tcp.into_future(), local.into_future()).map(|_| ())
        }
    }
}

/// The till's task: sales as they come; between them, every [`IDLE_EVERY`], the pending
/// retries and the closing of definite failures that are due, as the cashier screen does.
async fn till_loop(
    mut till: Till,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    mut admin: mpsc::UnboundedReceiver<AdminJob>,
    hub: &Hub,
) {
    let mut schedule = RetrySchedule::new(IDLE_EVERY, Duration::from_secs(600));
    // The rounds keep their own clock: a POS posting more often than every IDLE_EVERY must
    // not put them off for ever (row 147).
    let mut next_round = tokio::time::Instant::now() + IDLE_EVERY;
    loop {
        let job = tokio::select! {
            job = jobs.recv() => job,
            Some(a) = admin.recv() => {
                let _ = a.run(&mut till).await;
                continue;
            }
            () = tokio::time::sleep_until(next_round) => {
                let now = till.clock().now();
                let _ = retry_pending(&mut till, &mut schedule, now, |_| {}).await;
                let _ = close_failures(&mut till, &mut schedule, now, |_| {}).await;
                let _ = crate::checkout::refund::follow_open(&mut till, false).await;
                next_round = tokio::time::Instant::now() + IDLE_EVERY;
                continue;
            }
        };
        let Some(Job {
            order,
            cancel,
            reply,
        }) = job
        else {
            return;
        };
        // Refused at parse when nobody can scan; kept as a refusal should that ever change.
        let Some(code) = order.code else {
            reply.send(TillAnswer::Refused(contract::no_screen()));
            continue;
        };
        let pos_ref = order.pos_ref.as_str();
        let publish = |p| hub.progress(Some(pos_ref), &p);
        let amount = order.amount;
        let r =
            run_sale_for_ref_cancellable(&mut till, amount, code, &order.pos_ref, &cancel, publish)
                .await;
        // A journal write failed mid-sale: no outcome, but the display must not count down on.
        if let Err(
            e @ SaleError::Stopped {
                out_trade_no,
                total_fee,
                ..
            },
        ) = &r
        {
            let words = e.words();
            hub.stopped(Some(pos_ref), out_trade_no, *total_fee, &words);
        }
        // Ended: the reply clears the running flag, so a cancel from now on is answered 409
        // with the outcome. The POS may have hung up: the sale stands in the journal either way.
        reply.send(TillAnswer::Sale(r));
    }
}

/// Browser pages: a listed origin is answered with the CORS headers (a preflight with 204), any
/// other page is refused before the handler runs (docs/api.md, "Browser POS").
async fn cors(
    State(api): State<Arc<Api>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (from, host) = (
        header_text(req.headers(), header::ORIGIN),
        header_text(req.headers(), header::HOST),
    );
    // Without a token only this machine's own name is answered (DNS rebinding, row 163).
    if api.token.is_none() && !host.as_deref().is_some_and(origin::loopback_host) {
        let shown = crate::untrusted::shown_arg(host.as_deref().unwrap_or(""));
        return refused(&Refusal::new(
            403,
            None,
            Words::new(
                format!(
                    "Host {shown:?}: without a token this till answers only on 127.0.0.1 or localhost — call it there, or set a token file"
                ),
                format!(
                    "Host {shown:?}:未配置令牌时本收银台只响应 127.0.0.1 或 localhost — 请用该地址调用,或配置令牌文件"
                ),
            ),
        ));
    }
    let seen = origin::check(from.as_deref(), host.as_deref(), &api.owner.cors_origins);
    let allowed = match seen {
        Origin::Own => return next.run(req).await,
        Origin::Refused(o) => {
            let shown = crate::untrusted::shown_arg(&o);
            return refused(&Refusal::new(
                403,
                None,
                Words::new(
                    format!(
                        "a web page from {shown} may not call this till: nothing was done — add its origin to [api] cors_origins if it is the store's POS"
                    ),
                    format!(
                        "来自 {shown} 的网页无权调用本收银台:未执行任何操作 — 如果它是本店的 POS,请将其 origin 加入 [api] cors_origins"
                    ),
                ),
            ));
        }
        Origin::Listed(o) => o,
    };
    let preflight = req.method() == axum::http::Method::OPTIONS;
    let mut resp = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&allowed) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::HeaderValue::from_static("authorization, content-type, last-event-id"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            header::HeaderValue::from_static("600"),
        );
    }
    resp
}

fn header_text(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A JSON reply.
fn reply(status: u16, v: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn refused(r: &Refusal) -> Response {
    reply(r.status, r.json())
}

impl Api {
    /// The event stream and the display page: read-only, never a code or a secret, so a
    /// loopback peer (the till's own customer screen) needs no token; anyone else does, in the
    /// `Authorization` header like every call (a browser's EventSource cannot send one: the
    /// display page is for loopback, docs/api.md).
    fn authorise_display(&self, peer: Peer, headers: &HeaderMap) -> Result<(), Box<Response>> {
        if peer.is_loopback() {
            return Ok(());
        }
        self.authorise(headers)
    }

    /// Every call carries the token when one is configured.
    fn authorise(&self, headers: &HeaderMap) -> Result<(), Box<Response>> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given.is_some_and(|g| token.matches(g)) {
            return Ok(());
        }
        Err(Box::new(refused(&Refusal::new(
            401,
            None,
            Words::new(
                "not authorised: send Authorization: Bearer <the token in the API token file>",
                "未授权:请发送 Authorization: Bearer <API 令牌文件中的令牌>",
            ),
        ))))
    }
}

async fn not_found(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    refused(&Refusal::new(
        404,
        None,
        Words::new(
            "no such endpoint: see docs/api.md (POST /v1/sales, GET /v1/sales/{ref}, POST /v1/sales/{ref}/cancel, GET /v1/events, GET /v1/history?date=YYYY-MM-DD, GET /v1/health, GET /display)",
            "没有该接口:请参阅 docs/api.md(POST /v1/sales、GET /v1/sales/{ref}、POST /v1/sales/{ref}/cancel、GET /v1/events、GET /v1/history?date=YYYY-MM-DD、GET /v1/health、GET /display)",
        ),
    ))
}

/// A listed path asked with another method: which methods it takes (axum answered an empty
/// 405).
async fn wrong_method(
    State(api): State<Arc<Api>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    let path = uri.path();
    let takes = if path == "/v1/sales"
        || path == "/v1/refunds"
        || path == "/v1/recover"
        || path.ends_with("/cancel")
        || path.ends_with("/query")
    {
        "POST"
    } else {
        "GET"
    };
    let shown = crate::untrusted::shown_arg(path);
    refused(&Refusal::new(
        405,
        None,
        Words::new(
            format!("{method} is not taken on {shown}: use {takes} (docs/api.md)"),
            format!("{shown} 不接受 {method}:请使用 {takes}(docs/api.md)"),
        ),
    ))
}

async fn health(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    reply(
        200,
        json!({
            "status": "ok",
            "simulated": api.owner.simulated,
            "cashier_screen": api.owner.screen,
            "sale_running": api.sale_running.load(Ordering::SeqCst),
        }),
    )
}

async fn post_sale(State(api): State<Arc<Api>>, headers: HeaderMap, body: Body) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    let Ok(bytes) = axum::body::to_bytes(body, BODY_MAX).await else {
        return refused(&contract::too_large());
    };
    // `code` may be left out for now: a retry of a ref with a sale is answered without one.
    let order = match contract::parse_sale(&bytes, api.owner.ceiling, true) {
        Ok(o) => o,
        Err(r) => return refused(&r),
    };
    // The ref's earlier sale answers at once, from the journal — never shown on the screen
    // for a scan, never handed to the till (row 167).
    if let Some(resp) = earlier_answer(&api, &order.pos_ref, order.amount) {
        return resp;
    }
    if order.code.is_none() && !api.owner.screen {
        return refused(&contract::no_screen());
    }
    if api.sale_running.swap(true, Ordering::SeqCst) {
        let same = lock(&api.running)
            .as_ref()
            .is_some_and(|r| r.pos_ref == order.pos_ref);
        let r = order.pos_ref.as_str();
        return refused(&if same {
            Refusal::new(
                409,
                Some("ref"),
                Words::new(
                    format!(
                        "ref {r} is already on this till (waiting for the customer's code, or being charged); nothing new was sent — follow it with GET /v1/sales/{r} or GET /v1/events"
                    ),
                    format!(
                        "ref {r} 已在本收银台处理中(等待顾客付款码或正在扣款);未发送新的请求 — 请用 GET /v1/sales/{r} 或 GET /v1/events 跟进"
                    ),
                ),
            )
        } else {
            Refusal::new(
                409,
                None,
                Words::new(
                    "another sale is running on this till; nothing was sent — retry with the same ref when it has ended",
                    "本收银台正在进行另一笔收款;未发送任何请求 — 结束后请用相同的 ref 重试",
                ),
            )
        });
    }
    let pos_ref = order.pos_ref.clone();
    let (answer, rx) = oneshot::channel();
    let cancel = CancelToken::new();
    *lock(&api.running) = Some(Running {
        pos_ref: pos_ref.clone(),
        cancel: cancel.clone(),
    });
    let job = Job {
        order,
        cancel,
        reply: Reply::new(answer, api.sale_running.clone()),
    };
    if api.jobs.send(job).is_err() {
        // The job and its reply were dropped: the running flag is already cleared.
        return refused(&stopping());
    }
    match rx.await {
        Ok(TillAnswer::Sale(Ok(s))) => {
            let mut v = messages::json(&s.outcome);
            v["ref"] = json!(pos_ref.as_str());
            v["existing"] = json!(s.existing);
            // Recent declines WeChat did not answer about first (row 164): one may still hide
            // a payment, which the rounds return.
            v["unchecked"] = json!(s.unchecked);
            v["closed"] = s
                .closed
                .iter()
                .map(|r| {
                    let mut c = messages::json(&r.outcome);
                    c["was"] = json!(r.was.as_str());
                    c
                })
                .collect();
            reply(200, v)
        }
        Ok(TillAnswer::Sale(Err(e))) => sale_refused(&e),
        Ok(TillAnswer::Refused(r)) => refused(&r),
        Err(_) => refused(&stopping()),
    }
}

/// The answer for a ref that already has a sale: its paid (or unsettled) sale, or 409 for a
/// ref of another amount; `None` when a new charge may go ahead. The till's runner checks
/// again (a sale may land between), so this only answers sooner.
fn earlier_answer(api: &Api, pos_ref: &PosRef, amount: Fen) -> Option<Response> {
    let j = lock(&api.reader);
    let rows = match j.sales_with_ref(pos_ref.as_str()) {
        Ok(r) => r,
        Err(e) => return Some(refused(&Refusal::new(503, None, e.words()))),
    };
    match crate::checkout::pos_ref::check(&rows, amount) {
        crate::checkout::pos_ref::RefCheck::Charge => None,
        crate::checkout::pos_ref::RefCheck::OtherAmount(row) => {
            Some(sale_refused(&SaleError::RefAmount {
                pos_ref: pos_ref.as_str().to_string(),
                out_trade_no: row.out_trade_no,
                amount: row.total_fee,
            }))
        }
        crate::checkout::pos_ref::RefCheck::Existing(_) => match lookup(&j, pos_ref) {
            Ok(Some(mut v)) if v["status"] != "open" => {
                v["existing"] = json!(true);
                v["closed"] = json!([]);
                v["unchecked"] = json!([]);
                Some(reply(200, v))
            }
            Ok(Some(v)) => {
                let mut r = Refusal::new(
                    409,
                    Some("ref"),
                    Words::new(
                        format!("ref {0}'s sale is still being settled with WeChat; nothing new was sent — follow it with GET /v1/sales/{0}", pos_ref.as_str()),
                        format!("ref {0} 的交易仍在与微信确认;未发送新的请求 — 请用 GET /v1/sales/{0} 跟进", pos_ref.as_str()),
                    ),
                )
                .json();
                r["sale"] = v;
                Some(reply(409, r))
            }
            Ok(None) => None,
            Err(e) => Some(refused(&Refusal::new(503, None, e.words()))),
        },
    }
}

/// The till task has ended (the process is stopping).
fn stopping() -> Refusal {
    Refusal::new(
        503,
        None,
        Words::new(
            "paycode is stopping; ask again with the same ref once it is back — a sale already started is in the journal and is settled on restart",
            "paycode 正在停止;恢复后请用相同的 ref 再次请求 — 已开始的交易记录在账本中,重启后会处理",
        ),
    )
}

/// A sale the runner refused, as the HTTP status a POS can act on.
fn sale_refused(e: &SaleError) -> Response {
    let status = match e {
        SaleError::BadAmount { .. } => 400,
        SaleError::Busy { .. }
        | SaleError::DuplicateScan { .. }
        | SaleError::RefAmount { .. }
        | SaleError::RefUnsettled { .. }
        | SaleError::DeclineUnsettled { .. }
        | SaleError::DeclineOpen { .. } => 409,
        SaleError::Request(_) => 500,
        SaleError::PaymentsDisabled(_) | SaleError::Journal(_) | SaleError::Stopped { .. } => 503,
    };
    let field = match e {
        SaleError::BadAmount { .. } | SaleError::RefAmount { .. } => Some("amount"),
        SaleError::DuplicateScan { .. } => Some("code"),
        _ => None,
    };
    let mut v = Refusal::new(status, field, contract::api_words(&e.words())).json();
    // A sale left open is `unresolved` with its number (settled on restart, never charged
    // again); else the sale the refusal is about, to look up.
    for (k, x) in e.json_fields() {
        v[k] = x;
    }
    reply(status, v)
}

async fn get_sale(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(r): Path<String>,
) -> Response {
    if let Err(resp) = api.authorise(&headers) {
        return *resp;
    }
    let pos_ref = match contract::parse_ref(&r) {
        Ok(p) => p,
        Err(e) => return refused(&e),
    };
    match lookup(&lock(&api.reader), &pos_ref) {
        Ok(Some(v)) => reply(200, v),
        Ok(None) if on_till(&api, &pos_ref) => reply(200, waiting(&pos_ref)),
        Ok(None) => refused(&no_sale(&pos_ref)),
        Err(e) => refused(&Refusal::new(503, None, e.words())),
    }
}

fn no_sale(pos_ref: &PosRef) -> Refusal {
    let r = pos_ref.as_str();
    Refusal::new(
        404,
        Some("ref"),
        Words::new(
            format!("no sale for ref {r}: nothing was charged for it"),
            format!("ref {r} 没有交易:未因此扣款"),
        ),
    )
}

/// A lock whose holder panicked still guards consistent data (each use is one call).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The sale that answers for a ref: its paid one, else one still open or unresolved, else the
/// latest attempt (all ended not charged).
fn lookup(j: &Journal, pos_ref: &PosRef) -> Result<Option<Value>, crate::journal::JournalError> {
    let rows = j.sales_with_ref(pos_ref.as_str())?;
    let pick = rows
        .iter()
        .find(|s| s.state == SaleState::Paid)
        .or_else(|| rows.iter().find(|s| !s.state.is_final()))
        .or_else(|| rows.last());
    let Some(row) = pick else { return Ok(None) };
    let flow = j
        .flow(&row.out_trade_no)?
        .and_then(|f| serde_json::from_str(&f).ok());
    let mut v = match Outcome::from_journal(row, flow.as_ref()) {
        Some(o) => messages::json(&o),
        None => running(row),
    };
    v["ref"] = json!(pos_ref.as_str());
    Ok(Some(v))
}

/// The ref's order is on the till now with no sale in the journal yet (on the cashier screen,
/// waiting for the customer's code).
fn on_till(api: &Api, pos_ref: &PosRef) -> bool {
    api.sale_running.load(Ordering::SeqCst)
        && lock(&api.running)
            .as_ref()
            .is_some_and(|r| &r.pos_ref == pos_ref)
}

/// An order waiting for the customer's code: nothing charged yet, but it may be any moment.
fn waiting(pos_ref: &PosRef) -> Value {
    json!({
        "status": "open",
        "ref": pos_ref.as_str(),
        "out_trade_no": null,
        "transaction_id": null,
        "total_fee": null,
        "err_code": null,
        "message": "the order is waiting for the customer's code on the cashier screen: nothing is charged yet — do not take another payment for it; follow it with GET /v1/events",
        "message_zh": "该订单正在收银界面等待顾客付款码:尚未扣款 — 请勿为其另收款;请用 GET /v1/events 跟进",
    })
}

/// A sale still being settled (no outcome yet).
fn running(row: &SaleRow) -> Value {
    json!({
        "status": "open",
        "out_trade_no": row.out_trade_no,
        "transaction_id": null,
        "total_fee": row.total_fee.0,
        "err_code": null,
        "message": "the sale is still being settled with WeChat: ask again in a few seconds; do not hand over the goods yet",
        "message_zh": "该笔交易仍在与微信确认:请几秒后再查询;暂勿交付商品",
    })
}

async fn events(
    State(api): State<Arc<Api>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = api.authorise_display(peer, &headers) {
        return *r;
    }
    match sse::last_event_id(&headers) {
        Ok(last) => sse::stream(&api.hub, last),
        Err(r) => refused(&r),
    }
}

async fn display(
    State(api): State<Arc<Api>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = api.authorise_display(peer, &headers) {
        return *r;
    }
    sse::display()
}

/// `POST /v1/sales/{ref}/cancel`: the running sale of the ref stops waiting and is reversed by
/// the rules (a customer already charged is refunded; never "cancelled" while charged). 202
/// with where it stands; 409 with the outcome when it already ended; 404 when the ref has none.
async fn cancel_sale(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(r): Path<String>,
) -> Response {
    if let Err(resp) = api.authorise(&headers) {
        return *resp;
    }
    let pos_ref = match contract::parse_ref(&r) {
        Ok(p) => p,
        Err(e) => return refused(&e),
    };
    let asked = {
        let running = lock(&api.running);
        let live = api.sale_running.load(Ordering::SeqCst);
        match running
            .as_ref()
            .filter(|run| live && run.pos_ref == pos_ref)
        {
            Some(run) => {
                let first = !run.cancel.is_cancelled();
                run.cancel.cancel();
                Some(first)
            }
            None => None,
        }
    };
    if let Some(first) = asked {
        let now = if first {
            api.hub.cancel_requested(pos_ref.as_str())
        } else {
            // Asked again: the same answer, no second event.
            let st = api.hub.state();
            match st
                .open
                .into_iter()
                .rev()
                .find(|e| e.pos_ref.as_deref() == Some(pos_ref.as_str()))
            {
                Some(e) => e,
                None => api.hub.cancel_requested(pos_ref.as_str()),
            }
        };
        return reply(
            202,
            json!({
                "status": "cancelling",
                "ref": pos_ref.as_str(),
                "out_trade_no": now.out_trade_no,
                "total_fee": now.total_fee,
                "current": now,
                "message": "cancel requested: paycode reverses the sale as soon as WeChat allows — the customer ends not charged, or refunded in full if the password was already entered; the outcome follows on GET /v1/events and GET /v1/sales/{ref}",
                "message_zh": "已请求取消:paycode 将在微信允许时立即撤销该笔交易 — 顾客不会被扣款,若已输入密码则全额退回;结果见 GET /v1/events 与 GET /v1/sales/{ref}",
            }),
        );
    }
    match lookup(&lock(&api.reader), &pos_ref) {
        Ok(Some(sale)) => {
            let st = sale["status"].as_str().unwrap_or("open").to_string();
            let r = pos_ref.as_str();
            let words = if st == "open" {
                Words::new(
                    format!(
                        "sale {} of ref {r} is not running on this till now (it is being settled by paycode's own rounds): it cannot be cancelled here; follow it with GET /v1/sales/{r}",
                        sale["out_trade_no"].as_str().unwrap_or("")
                    ),
                    format!(
                        "ref {r} 的交易 {} 当前不在本收银台进行(paycode 正在自动处理):此处无法取消;请用 GET /v1/sales/{r} 跟进",
                        sale["out_trade_no"].as_str().unwrap_or("")
                    ),
                )
            } else {
                Words::new(
                    format!(
                        "the sale of ref {r} already ended ({st}): nothing to cancel; if it was paid and the customer wants the money back, refund it"
                    ),
                    format!("ref {r} 的交易已结束({st}):无可取消;如已付款且顾客要退款,请办理退款"),
                )
            };
            let mut v = Refusal::new(409, Some("ref"), words).json();
            v["sale"] = sale;
            reply(409, v)
        }
        Ok(None) => refused(&no_sale(&pos_ref)),
        Err(e) => refused(&Refusal::new(503, None, e.words())),
    }
}

/// `GET /v1/history?date=YYYY-MM-DD`: the Beijing-time day as `paycode history --json` prints
/// it (the same function), from the reader connection.
async fn history(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    let day = match contract::parse_history_query(q.as_deref().unwrap_or("")) {
        Ok(d) => d,
        Err(r) => return refused(&r),
    };
    match crate::journal::day_json(&lock(&api.reader), day) {
        Ok(v) => reply(200, v),
        Err(e) => refused(&Refusal::new(503, None, e.words())),
    }
}

/// Hand `cmd` to the till's owner and wait for its answer.
async fn admin_answer(api: &Api, cmd: AdminCmd) -> Response {
    let (answer, rx) = oneshot::channel();
    if api.admin.send(AdminJob { cmd, reply: answer }).is_err() {
        return refused(&stopping());
    }
    match rx.await {
        Ok(Answered { status, body }) => reply(status, body),
        Err(_) => refused(&stopping()),
    }
}

/// `POST /v1/refunds`: a refund of a paid sale under the POS's own `refund_ref` (docs/api.md).
/// The manager PIN is checked here, before anything is queued, written or sent.
async fn post_refund(State(api): State<Arc<Api>>, headers: HeaderMap, body: Body) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    let Ok(bytes) = axum::body::to_bytes(body, BODY_MAX).await else {
        return refused(&contract::too_large());
    };
    let mut order = match contract::parse_refund(&bytes, api.owner.ceiling) {
        Ok(o) => o,
        Err(r) => return admin_refused(&r),
    };
    let pin = order.pin.take();
    let (cfg, simulated) = (api.owner.config.clone(), api.owner.simulated);
    // A wrong PIN is answered slowly (and counted): off the async threads.
    let checked = tokio::task::spawn_blocking(move || {
        crate::manager::over_api(&cfg, simulated, pin.as_deref().map(String::as_str))
    })
    .await;
    let authorised = match checked {
        Ok(Ok(a)) => a,
        Ok(Err(why)) => return admin_refused(&Refusal::new(403, Some("pin"), why)),
        Err(_) => return refused(&stopping()),
    };
    admin_answer(&api, AdminCmd::Refund { order, authorised }).await
}

fn admin_refused(r: &Refusal) -> Response {
    let a = super::admin::refused(r);
    reply(a.status, a.body)
}

/// `POST /v1/orders/{out_trade_no}/query`: `paycode query` on the till's owner.
async fn query_order(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    admin_answer(&api, AdminCmd::Query { out_trade_no: no }).await
}

/// `POST /v1/recover`: `paycode recover` on the till's owner.
async fn recover(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    admin_answer(&api, AdminCmd::Recover).await
}

/// `GET /v1/reconcile?date=YYYY-MM-DD`: `paycode reconcile` on the till's owner.
async fn reconcile(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = api.authorise(&headers) {
        return *r;
    }
    let day = match contract::parse_history_query(q.as_deref().unwrap_or("")) {
        Ok(d) => d,
        Err(r) => return admin_refused(&r),
    };
    #[allow(clippy::disallowed_methods)] // IO edge: the statement's day is judged against today
    let today = crate::beijing::day_of(time::OffsetDateTime::now_utc().unix_timestamp() * 1000);
    admin_answer(&api, AdminCmd::Reconcile { day, today }).await
}

/// `GET /v1/owner?nonce=…`: proof that this process owns its journal, for a second paycode
/// that wants to hand it a command (cli::owner). No token: the answer reveals nothing.
async fn owner_proof(State(api): State<Arc<Api>>, RawQuery(q): RawQuery) -> Response {
    let nonce = match contract::parse_owner_query(q.as_deref().unwrap_or("")) {
        Ok(n) => n,
        Err(r) => return refused(&r),
    };
    match &api.journal_id {
        Some(id) => reply(
            200,
            json!({"status": "ok", "proof": contract::owner_proof(id, &nonce)}),
        ),
        None => refused(&Refusal::new(
            503,
            None,
            Words::new(
                "this paycode cannot read its journal's id: hand it nothing; check the journal",
                "本 paycode 无法读取账本编号:请勿转交命令;请检查账本",
            ),
        )),
    }
}
