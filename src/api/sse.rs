//! The event hub over HTTP: `GET /v1/events` as server-sent events and the customer display
//! page that reads them. Each subscriber gets its own forwarding task and a small queue: a
//! client that stops reading fills its queue, its task stops draining the hub, and the hub
//! tells it `lagged` — the till's publishing never waits for a socket.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::mpsc;

use super::contract::Refusal;
use super::events::{Delivery, Event, Hub, Resume, State};
use crate::words::Words;

/// The customer display, embedded in the binary (no build step, no external assets).
const DISPLAY_HTML: &str = include_str!("display.html");

/// A comment line this often keeps proxies and idle timers from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How soon a browser's EventSource reconnects after the stream drops.
const RETRY: Duration = Duration::from_secs(1);

/// SSE frames queued for one client before its task stops draining the hub.
const CLIENT_QUEUE: usize = 16;

/// The `Last-Event-ID` header: absent, or a decimal event id.
pub(super) fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, Refusal> {
    let Some(v) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        Refusal::new(
            400,
            Some("Last-Event-ID"),
            Words::new(
                format!(
                    "Last-Event-ID {text:?} is not an event id: send the decimal id of the last event received, or no header to start from the current state"
                ),
                format!(
                    "Last-Event-ID {text:?} 不是事件编号:请发送最后收到的事件的十进制编号,或不带该头从当前状态开始"
                ),
            ),
        )
    })
}

/// The event stream for one subscriber: `state` (or `lagged` when its `Last-Event-ID` is too
/// old), the events it missed, then live ones, with keep-alive comments.
pub(super) fn stream(hub: &Hub, last_event_id: Option<u64>) -> Response {
    let mut sub = hub.subscribe(last_event_id);
    let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
    tokio::spawn(async move {
        let first = match sub.resume {
            Resume::TooOld => lagged(None, &sub.state),
            Resume::Fresh | Resume::Replayed => state(&sub.state),
        };
        if tx.send(first.retry(RETRY)).await.is_err() {
            return;
        }
        loop {
            let d = tokio::select! {
                d = sub.next() => d,
                () = tx.closed() => return,
            };
            let frame = match d {
                Some(Delivery::Event(e)) => event(&e),
                Some(Delivery::Lagged { missed, state }) => lagged(Some(missed), &state),
                None => return,
            };
            if tx.send(frame).await.is_err() {
                return;
            }
        }
    });
    let mut r = Sse::new(Feed(rx))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// `GET /display`.
pub(super) fn display() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // Everything is inline and same-origin: nothing else may load.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
            ),
        ],
        DISPLAY_HTML,
    )
        .into_response()
}

fn event(e: &Event) -> SseEvent {
    SseEvent::default()
        .id(e.id.to_string())
        .event(e.kind.name())
        .data(serde_json::to_string(e).unwrap_or_default())
}

fn state(s: &State) -> SseEvent {
    SseEvent::default()
        .event("state")
        .data(serde_json::to_string(s).unwrap_or_default())
}

/// `missed` is `None` when the client's `Last-Event-ID` is older than the ring (or from an
/// earlier run of paycode).
fn lagged(missed: Option<u64>, s: &State) -> SseEvent {
    let v = json!({
        "missed": missed,
        "state": s,
        "message": "some events were missed (a slow or reconnecting client): this is the current state",
        "message_zh": "部分事件已错过(客户端过慢或重新连接):以下为当前状态",
    });
    SseEvent::default().event("lagged").data(v.to_string())
}

/// The frames of one client, as the stream axum writes out.
struct Feed(mpsc::Receiver<SseEvent>);

impl futures_core::Stream for Feed {
    type Item = Result<SseEvent, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|f| f.map(Ok))
    }
}
