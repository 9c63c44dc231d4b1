//! Fault matrix, hostile replies (FAULTS.md): the micropay reaches the simulator and is applied
//! (the customer is charged), but the reply the till reads is garbage, cut, huge, slow, forged,
//! substituted or an entity payload — or the TLS server is not trusted. Each row: never shown
//! paid on that reply, the sale settles by a verified query, and the invariants hold.
#![allow(clippy::unwrap_used)]

mod checkout_support;

use checkout_support::proxy::Tamper;
use checkout_support::{Harness, Opts, Timing, exit_code_for};
use paycode::journal::SaleState;
use paycode::wxpay::xml::Fields;
use std::time::Duration;

const MICROPAY: &str = "/pay/micropay";

/// An edit of a decoded reply.
type Edit = fn(&mut Fields);

/// Replace the value of field `name`.
fn set(f: &mut Fields, name: &str, value: &str) {
    *f = f
        .iter()
        .map(|(k, v)| if k == name { (k, value) } else { (k, v) })
        .collect();
}

/// Pay with a normal customer through the proxy's current rules: paid once, confirmed by a
/// query, the micropay reply's problem journaled; returns the journal's event details.
fn paid_after_bad_reply(h: &Harness, amount: &str) -> Vec<String> {
    let (r, v) = h.pay(amount, &h.code("normal"));
    assert_eq!(
        (r.code, v["status"].as_str()),
        (0, Some("paid")),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    let no = v["out_trade_no"].as_str().unwrap();
    let order = h.order(no);
    assert_eq!(order.requests.get("micropay"), Some(&1), "one micropay");
    assert!(
        order.requests.get("orderquery").copied().unwrap_or(0) >= 1,
        "paid only on a verified query: {order:?}"
    );
    h.assert_invariants(&[&v]);
    h.journal()
        .events(no)
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect()
}

#[test]
fn html_truncated_or_empty_body_is_unknown_then_queried() {
    let h = Harness::new();
    let p = h.proxy(Opts::default());
    // A captive portal page: long, with a code-like digit run and a marker far from the start.
    let mut html = b"<!DOCTYPE html><html><body><h1>Portal login 134567890123456789</h1>".to_vec();
    html.extend(std::iter::repeat_n(b'x', 8 * 1024));
    html.extend(b"FAR-MARKER</body></html>");
    let cases: [(&str, Tamper); 4] = [
        ("html", Tamper::Body(html)),
        ("xml cut in half", Tamper::HalfBody),
        ("http body cut", Tamper::CutConnection),
        ("empty", Tamper::Body(Vec::new())),
    ];
    for (what, t) in cases {
        p.tamper(MICROPAY, t, 1);
        let events = paid_after_bad_reply(&h, "3.10");
        assert_eq!(p.rules_left(), 0, "{what}: the fault struck");
        assert!(
            events.iter().any(|e| e.starts_with("reply unknown")),
            "{what}: {events:?}"
        );
        // Never the whole body: a short excerpt with code-like digit runs masked.
        assert!(
            events.iter().all(|e| e.len() < 400
                && !e.contains("FAR-MARKER")
                && !e.contains("134567890123456789")),
            "{what}: {events:?}"
        );
    }
}

#[test]
fn oversized_or_slow_drip_body_is_unknown_then_queried() {
    let h = Harness::new();
    let p = h.proxy(Opts {
        read_timeout: "300ms",
        ..Opts::default()
    });
    // 50 MB declared: the client stops at its 64 KiB cap.
    p.tamper(MICROPAY, Tamper::Flood(50 * 1024 * 1024), 1);
    let events = paid_after_bad_reply(&h, "4.20");
    assert!(
        events.iter().any(|e| e.starts_with("reply unknown")),
        "{events:?}"
    );
    // One byte every 100 ms: the whole-request deadline (connect + read) ends it.
    p.tamper(MICROPAY, Tamper::Drip(Duration::from_millis(100)), 1);
    let events = paid_after_bad_reply(&h, "4.30");
    assert!(
        events.iter().any(|e| e.starts_with("reply unknown")),
        "{events:?}"
    );
    assert_eq!(p.rules_left(), 0);
}

#[test]
fn success_with_a_missing_signature_is_never_shown_paid() {
    // (A wrong signature is row cli_pay::wrong_signature_success_is_never_shown_paid.)
    let h = Harness::new();
    let p = h.proxy(Opts::default());
    p.tamper(
        MICROPAY,
        Tamper::Edit(|f| {
            *f = f.iter().filter(|(k, _)| *k != "sign").collect();
        }),
        1,
    );
    let events = paid_after_bad_reply(&h, "5.40");
    assert!(
        events
            .iter()
            .any(|e| e.contains("signature is missing or wrong")),
        "{events:?}"
    );

    // Every reply unsigned: nothing verified ever says paid, so the sale is never shown paid.
    let h = Harness::with(Timing {
        password_timeout: "200ms",
        reverse_max_attempts: 2,
    });
    let p = h.proxy(Opts {
        password_timeout: "200ms",
        reverse_max_attempts: 2,
        ..Opts::default()
    });
    p.tamper(
        "",
        Tamper::Edit(|f| {
            *f = f.iter().filter(|(k, _)| *k != "sign").collect();
        }),
        10_000,
    );
    let (r, v) = h.pay("5.50", &h.code("normal"));
    assert_ne!(v["status"], "paid", "{}", r.stdout);
    assert_eq!(r.code, exit_code_for(v["status"].as_str().unwrap()));
    assert_eq!(v["status"], "unresolved", "{}", r.stdout);
    h.assert_invariants(&[&v]);
}

#[test]
fn correctly_signed_reply_for_another_order_or_amount_is_rejected() {
    let h = Harness::new();
    let p = h.proxy(Opts::default());
    let edits: [(&str, Edit); 3] = [
        ("another order", |f| {
            set(f, "out_trade_no", "till-7SOMEONEELSE")
        }),
        ("another amount", |f| {
            set(f, "total_fee", "1");
            set(f, "cash_fee", "1");
        }),
        ("another merchant", |f| set(f, "mch_id", "1999999999")),
    ];
    for (what, edit) in edits {
        p.tamper(MICROPAY, Tamper::Resign(edit), 1);
        let events = paid_after_bad_reply(&h, "6.70");
        assert_eq!(p.rules_left(), 0, "{what}");
        assert!(
            events.iter().any(|e| e.starts_with("reply unknown")),
            "{what}: {events:?}"
        );
    }
}

#[test]
fn doctype_and_entity_payloads_are_rejected_without_expansion() {
    let h = Harness::new();
    let p = h.proxy(Opts::default());
    let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\
<xml><return_code>SUCCESS</return_code><result_code>&e;</result_code></xml>"
        .to_vec();
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY a \"ha\">");
    for i in 0..10 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("a{}", i - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY a{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    laughs.push_str("]><xml><return_code>&a9;</return_code></xml>");
    for (what, body) in [("xxe", xxe), ("billion laughs", laughs.into_bytes())] {
        p.tamper(MICROPAY, Tamper::Body(body), 1);
        let events = paid_after_bad_reply(&h, "7.80");
        assert!(
            events.iter().any(|e| e.starts_with("reply unknown")),
            "{what}: {events:?}"
        );
        assert!(
            !events.iter().any(|e| e.contains("root:")),
            "{what}: a file was read: {events:?}"
        );
    }
}

#[test]
fn untrusted_tls_certificate_is_never_paid_and_nothing_arrives() {
    // The simulator serves HTTPS with its own CA; the config names no ca_file, so the till
    // must refuse the handshake: no request ever reaches "WeChat".
    let h = Harness::with_sim(
        Timing {
            password_timeout: "200ms",
            reverse_max_attempts: 2,
        },
        |s| s.tls = true,
    );
    assert!(h.sim.base_url.starts_with("https://"));
    h.write_config_with(&Opts {
        password_timeout: "200ms",
        reverse_max_attempts: 2,
        identity: Some(h.client_identity_files()),
        ..Opts::default()
    });
    let (r, v) = h.pay("8.90", &h.code("normal"));
    let status = v["status"].as_str().unwrap();
    assert_ne!(status, "paid", "{}", r.stdout);
    assert_eq!(r.code, exit_code_for(status), "{}", r.stdout);
    let ledger = h.ledger();
    assert!(ledger.orders.is_empty(), "{ledger:?}");
    assert!(
        ledger.totals.requests.values().all(|n| *n == 0),
        "{ledger:?}"
    );
    let no = v["out_trade_no"].as_str().unwrap();
    let s = h.sale(no);
    assert_ne!(s.state, SaleState::Paid);
    let events = h.journal().events(no).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.detail.to_lowercase().contains("certificate")
                || e.detail.to_lowercase().contains("tls")),
        "{events:?}"
    );
    h.assert_invariants(&[&v]);

    // Once the CA is trusted, recovery settles it: WeChat never saw it, so not charged.
    let ca = h.dir.path().join("ca.pem");
    std::fs::write(&ca, h.sim.ca_pem.as_ref().unwrap()).unwrap();
    h.write_config_with(&Opts {
        password_timeout: "200ms",
        reverse_max_attempts: 2,
        identity: Some(h.client_identity_files()),
        ca_file: Some(ca),
        ..Opts::default()
    });
    let rec = h.run(&["recover", "--json"]);
    assert_eq!(rec.code, 0, "{}\n{}", rec.stdout, rec.stderr);
    let rv = rec.json();
    let item = &rv["recovered"][0];
    assert_eq!(item["out_trade_no"], no);
    assert!(
        matches!(item["status"].as_str(), Some("failed" | "reversed")),
        "{item}"
    );
    assert_eq!(h.requests("micropay"), 0, "recovery never charges again");
    h.assert_invariants(&[item]);
}

/// Row 85 (issue 16): a gateway's HTTP 500 page that echoes the request carries the payment
/// code. Its excerpt went unmasked into the journal's events, the flow summary and the log.
/// Every excerpt is masked like the code itself (first 2 and last 4 digits) before it is kept.
#[test]
fn an_error_page_echoing_the_request_never_puts_the_code_in_any_file() {
    let h = Harness::new();
    let p = h.proxy(checkout_support::Opts::default());
    p.tamper(
        "/pay/micropay",
        checkout_support::proxy::Tamper::EchoStatus(500),
        1,
    );
    p.tamper(
        "/pay/orderquery",
        checkout_support::proxy::Tamper::EchoStatus(502),
        2,
    );
    let code = h.code("normal");
    let (r, v) = h.pay("6.00", &code);
    assert!(r.code <= 2, "{v}");
    let files = checkout_support::read_tree(h.dir.path());
    let db = std::fs::read(h.journal_path()).unwrap();
    let db = String::from_utf8_lossy(&db);
    assert!(!files.contains(&code), "a file holds the whole code");
    assert!(!db.contains(&code), "the journal holds the whole code");
    assert!(!r.stdout.contains(&code) && !r.stderr.contains(&code));
    // The excerpt is still there, masked, so the cause can be read.
    let events = h
        .journal()
        .events(v["out_trade_no"].as_str().unwrap())
        .unwrap();
    assert!(
        events.iter().any(|e| e.detail.contains("HTTP 500")
            && e.detail
                .contains(&format!("{}************{}", &code[..2], &code[14..]))),
        "{events:?}"
    );
}

/// No escape, bell, carriage return or direction override in what a command printed.
fn clean_terminal_text(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| {
            (c.is_control() && *c != '\n')
                || ('\u{202a}'..='\u{202e}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} reached the terminal");
}

#[test]
fn signed_reply_fields_of_the_wrong_shape_are_never_kept_or_shown() {
    // Correctly signed (the key is ours) but not the shape WeChat documents: an id is digits
    // (String(32)), an error code is capitals, digits and '_'. Such a reply is not trusted: the
    // sale settles by a query, and nothing of the bad value reaches the journal or the screen.
    let h = Harness::new();
    let p = h.proxy(Opts::default());
    let edits: [(&str, Edit); 5] = [
        ("id with escapes", |f| {
            set(f, "transaction_id", "\u{1b}[2J\u{1b}]0;paid\u{7}4200000001")
        }),
        ("id with a newline", |f| {
            set(f, "transaction_id", "4200000001\nPAID 999.00")
        }),
        ("id of 30 000 digits", |f| {
            let long = "7".repeat(30_000);
            set(f, "transaction_id", &long)
        }),
        ("id with a direction override", |f| {
            set(f, "transaction_id", "4200\u{202e}0000001")
        }),
        ("error code with escapes", |f| {
            set(f, "result_code", "FAIL");
            f.push("err_code", "\u{1b}[31mSYSTEMERROR\u{7}");
            f.push("err_code_des", "busy");
        }),
    ];
    for (what, edit) in edits {
        p.tamper(MICROPAY, Tamper::Resign(edit), 1);
        let (r, v) = h.pay("6.80", &h.code("normal"));
        assert_eq!(p.rules_left(), 0, "{what}: the fault struck");
        assert_eq!(v["status"], "paid", "{what}: {}\n{}", r.stdout, r.stderr);
        let no = v["out_trade_no"].as_str().unwrap();
        assert!(
            h.order(no).requests.get("orderquery").copied().unwrap_or(0) >= 1,
            "{what}: paid only on a verified query"
        );
        clean_terminal_text(what, &r.stdout);
        clean_terminal_text(what, &r.stderr);
        let id = v["transaction_id"].as_str().unwrap_or("");
        assert!(
            !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit()),
            "{what}: kept id {id:?}"
        );
        let events = h.journal().events(no).unwrap();
        assert!(
            events.iter().any(|e| e.detail.starts_with("reply unknown")),
            "{what}: {events:?}"
        );
        for e in &events {
            clean_terminal_text(what, &e.detail);
            assert!(e.detail.len() < 400, "{what}: {}", e.detail.len());
        }
        h.assert_invariants(&[&v]);
    }
}
