//! The local API's HTTP edge (axum over loopback TCP): the process that owns the journal serves
//! the POS. The till is not `Sync`, so one task owns it (`till_loop`, joined beside the server
//! as the cashier screen's worker is) and takes sales one at a time from a channel; a POS that
//! hangs up mid-sale only drops its answer — the sale goes on, and the next retry of its ref is
//! answered with it. Reads (`GET /v1/sales/{ref}`) use a second journal connection and never
//! wait for a running sale.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::contract::{self, BODY_MAX, Refusal};
use super::job::{Job, Reply, TillAnswer};
use super::token::Token;
use crate::checkout::pos_ref::PosRef;
use crate::checkout::{
    CancelToken, Outcome, RetrySchedule, SaleError, Till, close_failures, messages, retry_pending,
    run_sale_for_ref,
};
use crate::journal::{Journal, SaleRow, SaleState};
use crate::money::Fen;
use crate::words::{Bilingual, Words};

/// How often the idle till retries pending sales and closes definite failures.
const IDLE_EVERY: Duration = Duration::from_secs(30);

/// What the API knows of the till's owner.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    /// `[checkout] max_amount`.
    pub ceiling: Fen,
    pub simulated: bool,
    /// A cashier screen takes the scan, so an order may come without `code`.
    pub screen: bool,
}

struct Api {
    jobs: mpsc::UnboundedSender<Job>,
    /// A sale is queued or running: a second one is refused at once.
    sale_running: Arc<AtomicBool>,
    reader: std::sync::Mutex<Journal>,
    token: Option<Token>,
    owner: Owner,
}

/// Serve the API on `listener` until the process ends. `reader` is a second connection to the
/// till's journal; `token`, when set, is required as `Authorization: Bearer …` on every call.
pub async fn serve(
    till: Till,
    reader: Journal,
    listener: TcpListener,
    token: Option<Token>,
) -> std::io::Result<()> {
    let (jobs, rx) = mpsc::unbounded_channel();
    let owner = Owner {
        ceiling: till.config().checkout.max_amount,
        simulated: till.is_simulated(),
        screen: false,
    };
    let (served, ()) = tokio::join!(
        serve_orders(jobs, reader, listener, token, owner),
        till_loop(till, rx)
    );
    served
}

/// Serve the API on `listener`, handing each sale to `jobs` — the cashier screen's runtime,
/// or [`serve`]'s till task — which answers through the job's [`Reply`].
pub async fn serve_orders(
    jobs: mpsc::UnboundedSender<Job>,
    reader: Journal,
    listener: TcpListener,
    token: Option<Token>,
    owner: Owner,
) -> std::io::Result<()> {
    let api = Arc::new(Api {
        owner,
        jobs,
        sale_running: Arc::new(AtomicBool::new(false)),
        reader: std::sync::Mutex::new(reader),
        token,
    });
    let router = Router::new()
        .route("/v1/health", get(health))
        .route("/v1/sales", post(post_sale))
        .route("/v1/sales/{ref}", get(get_sale))
        .fallback(not_found)
        .with_state(api);
    axum::serve(listener, router).await
}

/// The till's task: sales as they come; between them, every [`IDLE_EVERY`], the pending
/// retries and the closing of definite failures that are due, as the cashier screen does.
async fn till_loop(mut till: Till, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut schedule = RetrySchedule::new(IDLE_EVERY, Duration::from_secs(600));
    // The rounds keep their own clock: a POS posting more often than every IDLE_EVERY must
    // not put them off for ever (row 147).
    let mut next_round = tokio::time::Instant::now() + IDLE_EVERY;
    loop {
        let job = tokio::select! {
            job = jobs.recv() => job,
            () = tokio::time::sleep_until(next_round) => {
                let now = till.clock().now();
                let _ = retry_pending(&mut till, &mut schedule, now, |_| {}).await;
                let _ = close_failures(&mut till, &mut schedule, now, |_| {}).await;
                let _ = crate::checkout::refund::follow_open(&mut till, false).await;
                next_round = tokio::time::Instant::now() + IDLE_EVERY;
                continue;
            }
        };
        let Some(Job { order, reply }) = job else {
            return;
        };
        // Refused at parse when nobody can scan; kept as a refusal should that ever change.
        let Some(code) = order.code else {
            reply.send(TillAnswer::Refused(contract::no_screen()));
            continue;
        };
        let never = CancelToken::new();
        let r = run_sale_for_ref(
            &mut till,
            order.amount,
            code,
            &order.pos_ref,
            &never,
            |_| {},
        )
        .await;
        reply.send(TillAnswer::Sale(r));
    }
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
            "no such endpoint: see docs/api.md (POST /v1/sales, GET /v1/sales/{ref}, GET /v1/health)",
            "没有该接口:请参阅 docs/api.md(POST /v1/sales、GET /v1/sales/{ref}、GET /v1/health)",
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
    let order = match contract::parse_sale(&bytes, api.owner.ceiling, api.owner.screen) {
        Ok(o) => o,
        Err(r) => return refused(&r),
    };
    if api.sale_running.swap(true, Ordering::SeqCst) {
        return refused(&Refusal::new(
            409,
            None,
            Words::new(
                "another sale is running on this till; nothing was sent — retry with the same ref when it has ended",
                "本收银台正在进行另一笔收款;未发送任何请求 — 结束后请用相同的 ref 重试",
            ),
        ));
    }
    let pos_ref = order.pos_ref.clone();
    let (answer, rx) = oneshot::channel();
    let back = Reply::new(answer, api.sale_running.clone());
    if api.jobs.send(Job { order, reply: back }).is_err() {
        // The job and its reply were dropped: the running flag is already cleared.
        return refused(&stopping());
    }
    match rx.await {
        Ok(TillAnswer::Sale(Ok(s))) => {
            let mut v = messages::json(&s.outcome);
            v["ref"] = json!(pos_ref.as_str());
            v["existing"] = json!(s.existing);
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
    // The runner's words are the command line's (`--ref`); here the field is `ref`.
    let w = e.words();
    let words = Words::new(
        w.en.replace("--ref ", "ref "),
        w.zh.replace("--ref ", "ref "),
    );
    let mut v = Refusal::new(status, field, words).json();
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
    let pos_ref = match PosRef::parse(&r) {
        Ok(p) => p,
        Err(e) => {
            let w = e.words();
            return refused(&Refusal::new(
                400,
                Some("ref"),
                Words::new(w.en.replace("--ref", "ref"), w.zh.replace("--ref", "ref")),
            ));
        }
    };
    let found = {
        let j = match api.reader.lock() {
            Ok(j) => j,
            Err(p) => p.into_inner(),
        };
        lookup(&j, &pos_ref)
    };
    match found {
        Ok(Some(v)) => reply(200, v),
        Ok(None) => refused(&Refusal::new(
            404,
            Some("ref"),
            Words::new(
                format!(
                    "no sale for ref {}: nothing was charged for it",
                    pos_ref.as_str()
                ),
                format!("ref {} 没有交易:未因此扣款", pos_ref.as_str()),
            ),
        )),
        Err(e) => refused(&Refusal::new(503, None, e.words())),
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
