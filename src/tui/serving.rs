//! The cashier screen's side of the local API (`[api] listen`, docs/api.md): the port, the
//! token and a reading journal connection are opened at start; each POS order is held for the
//! worker (which answers it when its sale ends) and shown to the app as `Msg::PosOrder`. A port
//! that cannot be opened is reported on screen and never stops the till's own sales.
#![allow(clippy::disallowed_methods)] // IO edge: orders are stamped with the time they arrived.

use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::{Msg, Words};
use super::i18n::{T, both};
use super::worker::Outbox;
use crate::api::Hub;
use crate::api::admin::AdminJob;
use crate::api::contract::Refusal;
use crate::api::job::{Held, HeldOrder, Job, TillAnswer};
use crate::api::token::Token;
use crate::api::{Channels, Listeners, Owner, serve_orders};
use crate::config::{ApiConfig, Config};
use crate::journal::Journal;
use crate::words::Bilingual;

/// How long a POS order's cancel is watched for while it waits for the scan.
const WATCH_CANCEL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The API's tasks; dropped with the screen, they stop.
pub struct Served(Vec<JoinHandle<()>>);

impl Drop for Served {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// What serving needs, opened before the first order can arrive.
async fn open(cfg: &Config, api: &ApiConfig) -> Result<(Listeners, Option<Token>, Journal), Words> {
    let token = api
        .token_file
        .as_deref()
        .map(|p| Token::read_as(p, "[api] token_file"))
        .transpose()?;
    let reader = Journal::open(&cfg.journal.path).map_err(|e| e.words())?;
    let addr = api.listen;
    let tcp = TcpListener::bind(addr).await.map_err(|e| {
        Words::new(
            format!("cannot listen on {addr}: {e}; is another paycode serving there? change [api] listen"),
            format!("无法监听 {addr}:{e};是否已有另一个 paycode 在该端口服务?请修改 [api] listen"),
        )
    })?;
    let unix = api
        .socket
        .as_deref()
        .map(crate::api::socket::bind)
        .transpose()?;
    Ok((Listeners { tcp, unix }, token, reader))
}

/// Serve the API when `[api]` is configured; `None` when it is not, or could not be opened
/// (the app is told why).
pub async fn start(
    cfg: &Config,
    owner: Owner,
    (held, admin): (Held, mpsc::UnboundedSender<AdminJob>),
    hub: Hub,
    tx: &Outbox,
) -> Option<Served> {
    let api = cfg.api.as_ref()?;
    let (listener, token, reader) = match open(cfg, api).await {
        Ok(o) => o,
        Err(why) => {
            tracing::warn!("the POS API is not served: {}", why.en);
            let _ = tx.send((Msg::Api(Err(why)), Instant::now()));
            return None;
        }
    };
    let shown = listener
        .tcp
        .local_addr()
        .map_or_else(|_| api.listen.to_string(), |a| a.to_string());
    let (jobs, mut orders) = mpsc::unbounded_channel::<Job>();
    let server = tokio::spawn(async move {
        if let Err(e) = serve_orders(
            Channels { jobs, admin },
            reader,
            listener,
            token,
            owner,
            hub,
        )
        .await
        {
            tracing::warn!("the POS API stopped: {e}");
        }
    });
    let out = tx.clone();
    let forward = tokio::spawn(async move {
        while let Some(Job {
            order,
            cancel,
            reply,
        }) = orders.recv().await
        {
            let name = order.pos_ref.as_str().to_string();
            let held_order = HeldOrder {
                pos_ref: order.pos_ref,
                reply,
                cancel: cancel.clone(),
            };
            if let Err(reply) = held.hold(held_order) {
                // The API refuses a second order while one is held; kept should that change.
                let why = both(T::PosBusyOrder);
                reply.send(TillAnswer::Refused(Refusal::new(409, None, why)));
                continue;
            }
            let msg = Msg::PosOrder {
                amount: order.amount,
                pos_ref: name.clone(),
                code: order.code,
            };
            if out.send((msg, Instant::now())).is_err() {
                return;
            }
            // The POS cancels an order still waiting for its scan: the screen turns it down.
            // (Once its sale runs, the worker passes the cancel on.) Watched for an hour.
            let out = out.clone();
            tokio::spawn(async move {
                let watched = tokio::time::timeout(WATCH_CANCEL, cancel.cancelled()).await;
                if watched.is_ok() {
                    let _ = out.send((Msg::PosCancel(name), Instant::now()));
                }
            });
        }
    });
    tracing::info!("the POS API is served on http://{shown}");
    let _ = tx.send((Msg::Api(Ok(format!("http://{shown}"))), Instant::now()));
    Some(Served(vec![server, forward]))
}
