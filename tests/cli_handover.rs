//! `paycode query|refund|recover|reconcile` while another paycode owns the journal (issue 12):
//! with `[api] listen` set they hand the command to the running `paycode serve` over the local
//! API (with its token) and print its answer as their own — the same JSON, the same exit
//! status — instead of failing on the journal lock. Real processes, real HTTP, the simulator.
#![allow(clippy::unwrap_used)]

mod api_support;
mod checkout_support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;

use checkout_support::Harness;
use serde_json::{Value, json};

const TOKEN: &str = "a-token-of-the-till-0123456789abcdef";

/// Configure `[api]` on a free loopback port with a token file; the address.
fn with_api(h: &Harness) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = h.dir.path().join("api.token");
    std::fs::write(&token, TOKEN).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut text = std::fs::read_to_string(h.config_path()).unwrap();
    text.push_str(&format!(
        "\n[api]\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"{}\"\n",
        token.display()
    ));
    std::fs::write(h.config_path(), text).unwrap();
    format!("http://127.0.0.1:{port}")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn commands_are_handed_to_the_running_paycode_and_answer_as_their_own() {
    let h = Harness::new();
    let base = with_api(&h);
    let mut child = h.spawn(&["serve"]);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on"), "{line}");
    let served = api_support::Served {
        child,
        base: base.clone(),
    };
    let (st, v) = api_support::post(
        &h,
        &served,
        "/v1/sales",
        &api_support::sale("12.34", "POS-H1", &h.code("normal")),
        Some(TOKEN),
    );
    assert_eq!((st, v["status"].as_str()), (200, Some("paid")), "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();

    // query: handed over, not refused on the lock.
    let r = h.run(&["query", &no, "--json"]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert!(r.stderr.contains("handing the command"), "{}", r.stderr);
    let handed = r.json();
    assert_eq!(
        (handed["status"].as_str(), handed["journal"].as_str()),
        (Some("paid"), Some("paid")),
        "{handed}"
    );
    // Text mode prints the answer in both languages.
    let r = h.run(&["query", &no]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("支付成功") && r.stdout.contains("PAID"),
        "{}",
        r.stdout
    );
    // No such sale: the owner's refusal, exit 3.
    let r = h.run(&["query", "NOPE-1", "--json"]);
    assert_eq!(
        (r.code, r.json()["status"].as_str()),
        (3, Some("rejected")),
        "{}",
        r.stdout
    );

    // refund: part, then the rest; WeChat refunds exactly the sale.
    let r = h.run(&["refund", &no, "--amount", "2.00", "--json"]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert_eq!(r.json()["refund_fee"], 200, "{}", r.stdout);
    let r = h.run(&["refund", &no, "--json"]);
    assert_eq!(
        (r.code, r.json()["refund_fee"].as_u64()),
        (0, Some(1034)),
        "{}",
        r.stdout
    );
    let r = h.run(&["refund", &no, "--json"]);
    assert_eq!(r.code, 3, "nothing left to refund: {}", r.stdout);
    let l = h.ledger();
    assert_eq!((l.totals.charged, l.totals.refunded), (1234, 1234), "{l:?}");

    // recover and reconcile.
    let r = h.run(&["recover", "--json"]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert_eq!(r.json()["unresolved"], 0, "{}", r.stdout);
    let r = h.run(&["reconcile", "--json"]);
    let rec = r.json();
    assert_eq!(
        (r.code, rec["status"].as_str()),
        (0, Some("agrees")),
        "{rec}"
    );
    assert_eq!(rec["journal_paid"], 1234, "{rec}");
    let r = h.run(&["reconcile"]);
    assert!(r.stdout.contains("all agree"), "{}", r.stdout);

    // The API itself wants the token the commands carried.
    let (st, _) = api_support::post(&h, &served, "/v1/recover", "", None);
    assert_eq!(st, 401);

    // With the owner gone, the same commands run here and print the same JSON shape.
    drop(served);
    let r = h.run(&["query", &no, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("handing the command"), "{}", r.stderr);
    let local = r.json();
    let mut without_refunds = keys(&handed);
    without_refunds.insert("refunded".into());
    assert_eq!(keys(&local), without_refunds, "{local} vs {handed}");
    assert_eq!(local["out_trade_no"], json!(no));
}

#[test]
fn with_the_owner_not_answering_nothing_is_done_and_the_command_says_so() {
    let h = Harness::new();
    with_api(&h);
    // Something holds the journal lock but serves nothing on [api] listen.
    let lock = h.journal_path().with_extension("db.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = h.run(&["refund", "X-1", "--amount", "1.00", "--json"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(r.code, 2, "{} {}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["status"], "unavailable", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("nothing was done here"),
        "{v}"
    );
    assert!(
        v["message_zh"].as_str().unwrap().contains("未执行任何操作"),
        "{v}"
    );
    assert_eq!(h.requests("refund"), 0);
}

/// Something else answers on `[api] listen` (another till's paycode, any program) while the
/// journal is locked: the command must not hand it the PIN or the token, nor take its "ok"
/// for done (review of stop 26, F1).
#[test]
fn a_stranger_on_the_port_gets_no_pin_no_token_and_is_not_believed() {
    use std::io::{Read, Write};
    let h = Harness::new();
    let base = with_api(&h);
    let pin = h.dir.path().join("manager.pin");
    let mine = h.dir.path().join("mine.pin");
    for p in [&pin, &mine] {
        std::fs::write(p, "4321\n").unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let text = std::fs::read_to_string(h.config_path()).unwrap();
    let text = text.replace(
        "[ui]\n",
        &format!("[ui]\nmanager_pin_file = \"{}\"\n", pin.display()),
    );
    std::fs::write(h.config_path(), text).unwrap();
    // The stranger: 200 {"status":"ok"} to anything, every request kept.
    let addr = base.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind(&addr).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            s.set_read_timeout(Some(std::time::Duration::from_millis(300)))
                .unwrap();
            let mut buf = [0u8; 8192];
            let mut got = Vec::new();
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    // Headers in; a body, if any, follows in the same or the next read.
                    if let Ok(n) = s.read(&mut buf) {
                        got.extend_from_slice(&buf[..n]);
                    }
                    break;
                }
            }
            kept.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&got));
            let body = "{\"status\":\"ok\"}";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let lock = h.journal_path().with_extension("db.lock");
    // The journal exists (a sale was made here before), and is locked by something.
    let (r, v) = h.pay("1.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let no = v["out_trade_no"].as_str().unwrap();
    let refund = h.run(&[
        "refund",
        no,
        "--amount",
        "0.50",
        "--pin-file",
        mine.to_str().unwrap(),
        "--json",
    ]);
    let query = h.run(&["query", no, "--json"]);
    let recover = h.run(&["recover", "--json"]);
    let _ = holder.kill();
    let _ = holder.wait();
    for (what, r) in [
        ("refund", &refund),
        ("query", &query),
        ("recover", &recover),
    ] {
        assert_eq!(r.code, 3, "{what}: {} {}", r.stdout, r.stderr);
        let v = r.json();
        assert_eq!(v["status"], "rejected", "{what}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains("not this till's"),
            "{what}: {v}"
        );
        assert!(
            v["message_zh"].as_str().unwrap().contains("不是本收银台"),
            "{what}: {v}"
        );
    }
    let seen = seen.lock().unwrap().clone();
    assert!(
        !seen.contains("4321"),
        "the PIN went to a stranger:\n{seen}"
    );
    assert!(
        !seen.contains(TOKEN),
        "the token went to a stranger:\n{seen}"
    );
    assert!(!seen.contains("/v1/refunds"), "{seen}");
    assert_eq!(h.requests("refund"), 0);
}

/// The owner proves itself, takes the refund and dies before answering: the command must not
/// say nothing was done — the refund may have gone out (review of stop 26, F2; row 178).
#[test]
fn an_answer_lost_after_the_request_reached_the_owner_says_it_may_have_been_done() {
    use std::io::{Read, Write};
    let h = Harness::new();
    let base = with_api(&h);
    let (r, v) = h.pay("1.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let id = h.journal().journal_id().unwrap();
    let addr = base.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind(&addr).unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let Some(nonce) = head
                .split_once("nonce=")
                .map(|(_, rest)| rest.split(' ').next().unwrap_or("").to_string())
            else {
                // The command itself: taken, then the owner "dies" without a word.
                drop(s);
                continue;
            };
            let body = format!(
                "{{\"status\":\"ok\",\"proof\":\"{}\"}}",
                paycode::api::contract::owner_proof(&id, &nonce)
            );
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let lock = h.journal_path().with_extension("db.lock");
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let no = v["out_trade_no"].as_str().unwrap();
    let r = h.run(&["refund", no, "--amount", "0.50", "--json"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(r.code, 2, "{} {}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["status"], "unavailable", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("may have been done"),
        "{v}"
    );
    assert!(
        v["message_zh"].as_str().unwrap().contains("可能已执行"),
        "{v}"
    );
    assert!(
        !v["message"].as_str().unwrap().contains("nothing was done"),
        "{v}"
    );
}

/// Review of the refunds (F6; FAULTS row 208): a refund handed to the running paycode whose
/// every answer was lost ("not confirmed yet; run the same refund again — the refund number is
/// reused"), run again as told once the network is back. Each handed-over run was a new
/// refund, so the second one was R2: ¥6.00 went back for one ¥3.00 refund. Now a handed-over
/// run follows the open refund of the same amount, as `paycode refund` does on its own.
#[test]
fn the_same_refund_run_again_through_the_owner_is_the_same_refund() {
    use checkout_support::proxy::Tamper;
    let h = Harness::new();
    let proxy = h.proxy(checkout_support::Opts::default());
    let base = with_api(&h);
    let (r, v) = h.pay("10.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{v}");
    let no = v["out_trade_no"].as_str().unwrap().to_string();
    let mut child = h.spawn(&["serve"]);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on"), "{line}");
    let _served = api_support::Served { child, base };
    // WeChat makes R1; every answer to it, and to the queries about it, is lost (the first
    // query, of the sale's refunds before R1 is numbered, passes).
    proxy.tamper("/secapi/pay/refund", Tamper::Status(502), 10_000);
    proxy.tamper("/pay/refundquery", Tamper::Pass, 2);
    proxy.tamper("/pay/refundquery", Tamper::Status(502), 10_000);
    let first = h.run(&["refund", &no, "--amount", "3.00", "--no-wait", "--json"]);
    assert!(
        first.stderr.contains("handing the command"),
        "{}",
        first.stderr
    );
    assert_eq!(first.json()["status"], "requested", "{}", first.stdout);
    assert_eq!(h.order(&no).refunded, 300, "WeChat made R1");
    proxy.clear();
    let again = h.run(&["refund", &no, "--amount", "3.00", "--json"]);
    let j = again.json();
    assert_eq!(
        (j["status"].as_str(), j["out_refund_no"].as_str()),
        (Some("success"), Some(format!("{no}R1").as_str())),
        "{j}"
    );
    assert_eq!(h.order(&no).refunded, 300, "one ¥3.00 refund");
}
