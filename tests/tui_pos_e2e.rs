//! Issue 12: the cashier screen serves the POS API (`[api] listen`). The real binary in tmux,
//! a real HTTP client as the POS: an amount posted without a code shows on the screen, the
//! wedge scan completes it and the waiting POST answers PAID under its ref; a retry of the ref
//! is answered with the same sale; a second order while one waits is 409 at once; Esc turns
//! an order down (409, nothing sent); an order with its code runs at once. The journal keeps
//! each ref and the simulator's ledger agrees: one charge per paid order.
#![allow(clippy::disallowed_methods)] // tests drive real time
#![allow(clippy::unwrap_used)]

mod api_support;
mod checkout_support;
mod tmux_support;

use std::io::Write;
use std::time::Duration;

use checkout_support::Harness;
use paycode::journal::SaleState;
use serde_json::{Value, json};
use tmux_support::Tmux;

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(90))
        .no_proxy()
        .build()
        .unwrap()
}

async fn post(base: String, body: Value) -> (u16, Value) {
    let r = http()
        .post(format!("{base}/v1/sales"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

async fn get(base: String, path: &str) -> (u16, Value) {
    let r = http().get(format!("{base}{path}")).send().await.unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

/// A loopback port nothing listens on now (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `[api] listen` on a free loopback port in `h`'s config: the API's base URL.
fn serve_api(h: &Harness) -> String {
    let port = free_port();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(h.config_path())
        .unwrap();
    writeln!(f, "\n[api]\nlisten = \"127.0.0.1:{port}\"").unwrap();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_pos_order_posted_to_the_cashier_screen_is_completed_by_the_scan() {
    if !tmux_support::available() {
        eprintln!("SKIPPED: tmux is not installed; the TUI end-to-end test needs it");
        return;
    }
    let h = Harness::new();
    let base = serve_api(&h);
    let t = Tmux::start(&h, "pos", 120, 30, "");
    t.wait_for("No unfinished sales");
    t.wait_for("POS API");

    let (st, health) = h.rt.block_on(get(base.clone(), "/v1/health"));
    assert_eq!(
        (st, &health["cashier_screen"]),
        (200, &json!(true)),
        "{health}"
    );

    // 1. Amount from the POS, code from the scan: the waiting POST gets PAID.
    let waiting = h.rt.spawn(post(
        base.clone(),
        json!({"amount": "12.50", "ref": "POS-1001"}),
    ));
    let s = t.wait_for("POS order POS-1001");
    assert!(s.contains("12.50"), "{s}");
    // Row 168: while it waits, GET says so — never "nothing was charged" (a 404).
    let (st, w) = h.rt.block_on(get(base.clone(), "/v1/sales/POS-1001"));
    assert_eq!((st, w["status"].as_str()), (200, Some("open")), "{w}");
    // While it waits for the scan, another order is turned down at once, nothing sent.
    let (st, busy) = h.rt.block_on(post(
        base.clone(),
        json!({"amount": "1.00", "ref": "POS-OTHER"}),
    ));
    assert_eq!(st, 409, "{busy}");
    let code = h.code("normal");
    t.scan(&code);
    let (st, paid) = h.rt.block_on(waiting).unwrap();
    assert_eq!((st, paid["status"].as_str()), (200, Some("paid")), "{paid}");
    assert_eq!(paid["ref"], "POS-1001");
    assert_eq!(paid["total_fee"], 1250);
    assert!(
        !paid.to_string().contains(&code),
        "the full code never comes back"
    );
    t.wait_for("PAID");

    // Row 167: a retry of the paid ref without a code is answered at once from the journal,
    // never shown on the screen for a scan.
    let (st, again) = h.rt.block_on(post(
        base.clone(),
        json!({"amount": "12.50", "ref": "POS-1001"}),
    ));
    assert_eq!(
        (st, again["existing"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["out_trade_no"], paid["out_trade_no"]);
    assert!(!t.screen().contains("POS order POS-1001"), "{}", t.screen());

    // 2. The POS retries the same ref (its answer was lost): the same sale, nothing sent.
    let (st, again) = h.rt.block_on(post(
        base.clone(),
        json!({"amount": "12.50", "ref": "POS-1001", "code": h.code("normal")}),
    ));
    assert_eq!(
        (st, again["existing"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["out_trade_no"], paid["out_trade_no"]);
    let (st, read) = h.rt.block_on(get(base.clone(), "/v1/sales/POS-1001"));
    assert_eq!((st, read["status"].as_str()), (200, Some("paid")), "{read}");

    // 3. Esc on the screen turns an order down: 409, nothing charged, nothing sent.
    t.type_slowly(&["Enter"]);
    let waiting = h.rt.spawn(post(
        base.clone(),
        json!({"amount": "3.00", "ref": "POS-1002"}),
    ));
    t.wait_for("POS order POS-1002");
    t.type_slowly(&["Escape"]);
    let (st, down) = h.rt.block_on(waiting).unwrap();
    assert_eq!(st, 409, "{down}");
    assert!(
        down["message"]
            .as_str()
            .unwrap()
            .contains("nothing was charged"),
        "{down}"
    );
    assert!(
        down["message_zh"].as_str().unwrap().contains("未扣款"),
        "{down}"
    );

    // 4. An order that carries its code runs at once on the screen.
    let (st, direct) = h.rt.block_on(post(
        base.clone(),
        json!({"amount": "3.00", "ref": "POS-1002", "code": h.code("normal")}),
    ));
    assert_eq!(
        (st, direct["status"].as_str()),
        (200, Some("paid")),
        "{direct}"
    );
    t.wait_for("PAID");

    let sales = h.journal().sales_between(0, i64::MAX).unwrap();
    let got: Vec<_> = sales
        .iter()
        .map(|s| (s.state, s.total_fee.0, s.pos_ref.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (SaleState::Paid, 1250, Some("POS-1001".to_string())),
            (SaleState::Paid, 300, Some("POS-1002".to_string())),
        ]
    );
    h.assert_ledger_agrees();
    assert_eq!(h.ledger().totals.charged, 1550);
    assert_eq!(h.requests("micropay"), 2, "one micropay per paid order");
}

/// Issue 12's "done when": amount posted → the cashier screen in tmux shows it → a wedge scan →
/// the POS receives PAID over SSE, with the password countdown on the way. The cashier's own
/// sale is on the stream too (`ref: null`), and the POS's cancel turns down an order still
/// waiting for its scan.
#[test]
fn the_pos_follows_a_screen_sale_over_the_event_stream_and_can_cancel_a_waiting_order() {
    if !tmux_support::available() {
        eprintln!("SKIPPED: tmux is not installed; the TUI end-to-end test needs it");
        return;
    }
    let h = Harness::new();
    let base = serve_api(&h);
    let t = Tmux::start(&h, "pos-sse", 120, 30, "");
    t.wait_for("POS API");
    let ev = api_support::events(&base, None);

    // A customer who types the password: started, the countdown, then final paid.
    let waiting = h.rt.spawn(post(
        base.clone(),
        json!({"amount": "15.00", "ref": "POS-2001"}),
    ));
    t.wait_for("POS order POS-2001");
    t.scan(&h.code("password_confirms"));
    let frames = ev.until(60, |f| f.event == "final");
    let mine: Vec<_> = frames
        .iter()
        .filter(|f| f.data["ref"] == "POS-2001")
        .collect();
    assert_eq!(
        mine.first().map(|f| f.event.as_str()),
        Some("started"),
        "{frames:#?}"
    );
    assert!(
        mine.iter()
            .any(|f| f.event == "progress" && f.data["seconds_left"].is_u64()),
        "the countdown is on the stream: {frames:#?}"
    );
    let last = mine.last().unwrap();
    assert_eq!(last.data["outcome"]["status"], "paid", "{last:#?}");
    let (st, paid) = h.rt.block_on(waiting).unwrap();
    assert_eq!((st, paid["status"].as_str()), (200, Some("paid")), "{paid}");
    assert_eq!(last.data["out_trade_no"], paid["out_trade_no"]);
    assert!(
        !frames
            .iter()
            .any(|f| f.raw.contains(&h.code("password_confirms")))
    );

    // The cashier's own sale is published too, without a ref.
    t.type_slowly(&["Enter", "2"]);
    t.scan(&h.code("normal"));
    let frames = ev.until(30, |f| f.event == "final");
    let last = frames.last().unwrap();
    assert_eq!(
        (last.data["ref"].is_null(), last.data["total_fee"].as_u64()),
        (true, Some(200)),
        "{last:#?}"
    );

    // The POS cancels an order still waiting for its scan: turned down, nothing sent.
    t.type_slowly(&["Enter"]);
    let waiting = h.rt.spawn(post(
        base.clone(),
        json!({"amount": "4.00", "ref": "POS-2002"}),
    ));
    t.wait_for("POS order POS-2002");
    let (st, c) = h.rt.block_on(async {
        let r = http()
            .post(format!("{base}/v1/sales/POS-2002/cancel"))
            .send()
            .await
            .unwrap();
        let st = r.status().as_u16();
        (st, r.text().await.unwrap())
    });
    assert_eq!(st, 202, "{c}");
    let (st, down) = h.rt.block_on(waiting).unwrap();
    assert_eq!(st, 409, "{down}");
    assert!(
        down["message"].as_str().unwrap().contains("cancelled"),
        "{down}"
    );
    t.wait_for("cancelled by the POS");
    // The stream ends the order too: a display showing "Cancelling" is told it is over.
    let tail = ev.until(10, |f| f.event == "final");
    let (asked, end) = (&tail[tail.len() - 2], &tail[tail.len() - 1]);
    assert_eq!(
        (asked.event.as_str(), asked.data["ref"].as_str()),
        ("cancel_requested", Some("POS-2002")),
        "{tail:#?}"
    );
    assert_eq!(
        (
            end.data["ref"].as_str(),
            end.data["outcome"]["status"].as_str()
        ),
        (Some("POS-2002"), Some("rejected")),
        "{end:#?}"
    );
    assert!(
        end.data["outcome"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("未扣款"),
        "{end:#?}"
    );
    assert_eq!(
        h.requests("micropay"),
        2,
        "nothing sent for the cancelled order"
    );
    h.assert_ledger_agrees();
}

/// A refund asked by the POS, and `paycode query` / `refund` run beside the cashier screen,
/// are done by the screen's worker between sales: one refund per `refund_ref`, the CLI's
/// answers as if it owned the journal, WeChat's ledger agreeing.
#[test]
fn refunds_and_commands_reach_the_running_cashier_screen() {
    if !tmux_support::available() {
        eprintln!("SKIPPED: tmux is not installed; the TUI end-to-end test needs it");
        return;
    }
    let h = Harness::new();
    let base = serve_api(&h);
    let t = Tmux::start(&h, "posrefund", 120, 30, "");
    t.wait_for("No unfinished sales");
    t.wait_for("POS API");
    let (st, paid) = h.rt.block_on(post(
        base.clone(),
        json!({"amount": "8.00", "ref": "POS-3001", "code": h.code("normal")}),
    ));
    assert_eq!((st, paid["status"].as_str()), (200, Some("paid")), "{paid}");
    t.wait_for("PAID");
    let no = paid["out_trade_no"].as_str().unwrap().to_string();

    let refund = |amount: &str| {
        let base = base.clone();
        let body = json!({"ref": "POS-3001", "refund_ref": "RF-3001", "amount": amount});
        h.rt.block_on(async move {
            let r = http()
                .post(format!("{base}/v1/refunds"))
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let st = r.status().as_u16();
            (
                st,
                serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap(),
            )
        })
    };
    let (st, r) = refund("3.00");
    assert_eq!((st, r["status"].as_str()), (200, Some("success")), "{r}");
    let (st, again) = refund("3.00");
    assert_eq!(
        (st, again["existing"].as_bool()),
        (200, Some(true)),
        "{again}"
    );

    let q = h.run(&["query", &no, "--json"]);
    assert_eq!(q.code, 0, "{} {}", q.stdout, q.stderr);
    assert!(q.stderr.contains("handing the command"), "{}", q.stderr);
    assert_eq!(q.json()["refunded"], 300, "{}", q.stdout);
    let r = h.run(&["refund", &no, "--json"]);
    assert_eq!(
        (r.code, r.json()["refund_fee"].as_u64()),
        (0, Some(500)),
        "{}",
        r.stdout
    );

    let l = h.ledger();
    assert_eq!((l.totals.charged, l.totals.refunded), (800, 800), "{l:?}");
    assert_eq!(h.journal().refunds_of(&no).unwrap().len(), 2);
    // The screen is still the cashier's: it takes the next sale.
    assert!(
        t.screen().contains("PAID") || t.screen().contains("Amount"),
        "{}",
        t.screen()
    );
}
