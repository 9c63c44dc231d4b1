//! `paycode serve`'s event stream, cancel and history (issue 12, parts 1–2) as a POS and a
//! customer display use them: the real binary on loopback, a real HTTP client reading
//! `GET /v1/events`, the in-test simulator behind it. A sale's stream from `started` through
//! the password countdown to `final`, resumed with `Last-Event-ID`; a cancel mid-password
//! reversed (and refunded when the customer had already paid: never "cancelled" while
//! charged); cancels of unknown and ended refs refused; the day's history in the CLI's shape.
#![allow(clippy::unwrap_used)]

mod api_support;
mod checkout_support;

use api_support::{Frame, events, get, http, post, post_in_background, sale, serve};
use checkout_support::proxy::Tamper;
use checkout_support::{Harness, Opts, Timing};

/// A till whose customers have 30 s to type the password (a countdown a test can watch).
fn slow_password() -> Harness {
    Harness::with(Timing {
        password_timeout: "30s",
        reverse_max_attempts: 5,
    })
}

/// The order number the stream's `started` event announced.
fn out_trade_no(frames: &[Frame]) -> String {
    let started = frames.iter().find(|f| f.event == "started").unwrap();
    started.data["out_trade_no"].as_str().unwrap().to_string()
}

fn is_final(f: &Frame) -> bool {
    f.event == "final"
}

fn waiting(f: &Frame) -> bool {
    f.event == "progress" && f.data["step"] == "waiting_for_password"
}

#[test]
fn the_stream_follows_a_sale_through_the_password_countdown_to_paid_and_resumes() {
    let h = slow_password();
    let s = serve(&h, &[]);
    let es = events(&s.base, None);
    let first = es.next(10);
    assert_eq!(first.event, "state", "{first:?}");
    assert_eq!(first.data["open"], serde_json::json!([]));
    assert!(first.data["last"].is_null());

    let code = h.code("password_never");
    let pending = post_in_background(&s, "/v1/sales", sale("12.34", "EV-1", &code));
    // Counting down: at least two different seconds-left while the customer types.
    let mut left = Vec::new();
    let mut got = es.until(20, |f| {
        if waiting(f) {
            left.push(f.data["seconds_left"].as_u64().unwrap());
            left.dedup();
        }
        left.len() >= 2
    });
    assert_eq!(got[0].event, "started", "{:?}", got[0]);
    assert!(left[0] > left[1] && left[0] <= 30, "{left:?}");
    let no = got[0].data["out_trade_no"].as_str().unwrap().to_string();
    let w = got.iter().find(|f| waiting(f)).unwrap();
    assert!(
        w.data["message_zh"]
            .as_str()
            .unwrap()
            .contains("等待顾客输入密码"),
        "{w:?}"
    );
    h.sim.confirm(&no).unwrap();
    got.extend(es.until(20, is_final));
    let end = got.last().unwrap();
    let outcome = &end.data["outcome"];
    assert_eq!(
        (outcome["status"].as_str(), outcome["exit_code"].as_u64()),
        (Some("paid"), Some(0)),
        "{end:?}"
    );
    assert!(outcome["message_zh"].as_str().unwrap().contains("支付成功"));
    for f in &got {
        assert_eq!(f.data["ref"], "EV-1", "{f:?}");
        assert_eq!(f.data["out_trade_no"], no.as_str(), "{f:?}");
        assert_eq!(f.data["total_fee"], 1234, "{f:?}");
        assert_eq!(f.data["id"].as_u64(), f.id, "the id line is the event's id");
        assert!(
            !f.raw.contains(&code),
            "a payment code in the stream: {}",
            f.raw
        );
    }
    let ids: Vec<u64> = got.iter().map(|f| f.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");

    // The POS's answer and GET say the same as the final event.
    let (st, answer) = pending.join().unwrap();
    assert_eq!(
        (st, answer["status"].as_str()),
        (200, Some("paid")),
        "{answer}"
    );
    let (_, looked) = get(&h, &s, "/v1/sales/EV-1", None);
    for k in [
        "status",
        "out_trade_no",
        "message",
        "message_zh",
        "total_fee",
    ] {
        assert_eq!(outcome[k], answer[k], "{k}");
        assert_eq!(outcome[k], looked[k], "{k}");
    }

    // A display that saw only `started` reconnects: the state, then exactly what it missed.
    let again = events(&s.base, Some(&ids[0].to_string()));
    let st = again.next(10);
    assert_eq!(st.event, "state");
    assert_eq!(st.data["last"]["id"].as_u64(), ids.last().copied());
    let replayed = again.until(10, is_final);
    assert_eq!(
        replayed.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        got[1..].iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        "the replay is the original"
    );
    // An id from an earlier run of paycode: told so, with the state.
    let old = events(&s.base, Some("999999"));
    let f = old.next(10);
    assert_eq!(f.event, "lagged", "{f:?}");
    assert_eq!(f.data["state"]["last"]["id"].as_u64(), ids.last().copied());
    assert!(f.data["message_zh"].as_str().unwrap().contains("当前状态"));
    // A Last-Event-ID that is not an id is refused, naming the header.
    let (st, v) = h.rt.block_on(async {
        let r = http()
            .get(format!("{}/v1/events", s.base))
            .header("last-event-id", "abc")
            .send()
            .await
            .unwrap();
        let st = r.status().as_u16();
        (
            st,
            serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).unwrap(),
        )
    });
    assert_eq!(
        (st, v["field"].as_str()),
        (400, Some("Last-Event-ID")),
        "{v}"
    );
    h.assert_invariants(&[&answer]);
}

#[test]
fn a_cancel_after_the_customer_paid_ends_reversed_with_the_money_returned() {
    let h = slow_password();
    let p = h.proxy(Opts {
        password_timeout: "30s",
        ..Opts::default()
    });
    // The customer enters the password just as the cancel's reverse reaches WeChat.
    p.tamper("/secapi/pay/reverse", Tamper::ConfirmFirst, 1);
    let s = serve(&h, &[]);
    let es = events(&s.base, None);
    let pending = post_in_background(
        &s,
        "/v1/sales",
        sale("14.00", "EV-C1", &h.code("password_never")),
    );
    let got = es.until(20, waiting);
    let no = out_trade_no(&got);

    let (st, v) = post(&h, &s, "/v1/sales/EV-C1/cancel", "", None);
    assert_eq!((st, v["status"].as_str()), (202, Some("cancelling")), "{v}");
    assert_eq!(v["out_trade_no"], no.as_str());
    assert!(
        v["message_zh"].as_str().unwrap().contains("全额退回"),
        "{v}"
    );
    let rest = es.until(30, is_final);
    assert!(
        rest.iter().any(|f| f.event == "cancel_requested"),
        "{rest:#?}"
    );
    let outcome = &rest.last().unwrap().data["outcome"];
    assert_eq!(outcome["status"], "reversed", "{outcome}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .contains("has been refunded in full"),
        "{outcome}"
    );
    let (st, answer) = pending.join().unwrap();
    assert_eq!(
        (st, answer["status"].as_str()),
        (200, Some("reversed")),
        "{answer}"
    );
    let order = h.order(&no);
    assert_eq!(
        (order.charged, order.refunded),
        (1400, 1400),
        "charged, then returned"
    );
    assert_eq!(h.ledger().totals.net, 0, "no net charge");
    h.assert_invariants(&[&answer]);

    // Cancelled again once it ended: 409 with the outcome.
    let (st, v) = post(&h, &s, "/v1/sales/EV-C1/cancel", "", None);
    assert_eq!((st, v["field"].as_str()), (409, Some("ref")), "{v}");
    assert_eq!(v["sale"]["status"], "reversed");
    assert!(v["message_zh"].as_str().unwrap().contains("已结束"), "{v}");
}

#[test]
fn a_cancel_mid_password_is_reversed_not_charged_and_unknown_refs_are_404() {
    let h = slow_password();
    let s = serve(&h, &[]);
    let es = events(&s.base, None);
    let pending = post_in_background(
        &s,
        "/v1/sales",
        sale("3.00", "EV-C2", &h.code("password_never")),
    );
    let got = es.until(20, waiting);
    let no = out_trade_no(&got);
    let (st, v) = post(&h, &s, "/v1/sales/EV-C2/cancel", "", None);
    assert_eq!(st, 202, "{v}");
    // Asked twice: the same answer, one event.
    let (st, _) = post(&h, &s, "/v1/sales/EV-C2/cancel", "", None);
    assert!(st == 202 || st == 409, "{st}");
    let rest = es.until(30, is_final);
    assert_eq!(
        rest.iter()
            .filter(|f| f.event == "cancel_requested")
            .count(),
        1,
        "{rest:#?}"
    );
    let (_, answer) = pending.join().unwrap();
    assert_eq!(answer["status"], "reversed", "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("not charged"),
        "{answer}"
    );
    assert_eq!(h.order(&no).charged, 0);
    assert_eq!(h.ledger().totals.net, 0);

    let (st, v) = post(&h, &s, "/v1/sales/NOPE-9/cancel", "", None);
    assert_eq!((st, v["field"].as_str()), (404, Some("ref")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("NOPE-9"), "{v}");
    assert!(!v["message_zh"].as_str().unwrap().is_empty());
    h.assert_invariants(&[&answer]);
}

#[test]
fn history_is_the_cli_history_json_and_a_bad_date_is_named() {
    let h = Harness::new();
    let s = serve(&h, &[]);
    let code = h.code("normal");
    let (st, v) = post(&h, &s, "/v1/sales", &sale("2.50", "EV-H1", &code), None);
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");
    let row = h.sale(v["out_trade_no"].as_str().unwrap());
    let day = paycode::beijing::day_of(row.created_ms).to_string();

    let (st, api) = get(&h, &s, &format!("/v1/history?date={day}"), None);
    assert_eq!(st, 200, "{api}");
    let cli = h.run(&["history", "--date", &day, "--json"]).json();
    assert_eq!(api, cli, "one shape for the API and the CLI");
    assert_eq!(api["sales"][0]["ref"], "EV-H1");
    assert_eq!(api["paid_total"], 250);
    assert!(api["sales"][0]["code"].as_str().unwrap().contains('*'));
    assert!(!api.to_string().contains(&code), "only the masked code");

    for (q, field) in [
        ("?date=2026-02-30", Some("date")),
        ("?date=today", Some("date")),
        ("", Some("date")),
        ("?day=2026-01-01", None),
    ] {
        let (st, v) = get(&h, &s, &format!("/v1/history{q}"), None);
        assert_eq!((st, v["field"].as_str()), (400, field), "{q}: {v}");
        assert_eq!(v["status"], "rejected");
        assert!(!v["message_zh"].as_str().unwrap().is_empty(), "{q}");
    }
}
