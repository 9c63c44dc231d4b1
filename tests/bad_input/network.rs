//! Door 5: replies from the network. Simulator faults and the tampering proxy: gateway errors
//! that echo the request, malformed or hostile XML, bad signatures, replies for another
//! merchant, huge, cut, slow or hanging replies, and control characters, escape sequences and
//! 30 000-character values in signed fields. Each sale ends safe (never shown paid unless
//! charged, the exit status matches, anything open is settled by `recover`), what is shown is
//! sanitized (no raw ESC, BEL, CR or direction override, no whole code, a transaction id of
//! WeChat's shape or none) and no file holds the code.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::checkout_support::proxy::{Proxy, Tamper, systemerror};
use crate::checkout_support::{Harness, Opts, Run, exit_code_for};
use crate::checks::{clean, clean_run, shown};
use crate::tally::Door;
use paycode::journal::SaleState;
use paycode::simulator::Endpoint;
use paycode::simulator::scenario::Fault;
use paycode::wxpay::xml::Fields;

const MICROPAY: &str = "/pay/micropay";
const QUERY: &str = "/pay/orderquery";
const REVERSE: &str = "/secapi/pay/reverse";
const REFUND: &str = "/secapi/pay/refund";

/// Replace or add field `name`.
fn set(f: &mut Fields, name: &str, value: &str) {
    let had = f.get(name).is_some();
    let mut out: Fields = f
        .iter()
        .map(|(k, v)| if k == name { (k, value) } else { (k, v) })
        .collect();
    if !had {
        out.push(name, value);
    }
    *f = out;
}

const ESC: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}";

/// A payment code a hostile reply carries in some field: never kept, shown or written whole.
const ECHOED: &str = "134567890123456789";

/// A signed refusal whose err_code carries `code`.
fn fail_with(f: &mut Fields, code: &str, des: &str) {
    systemerror(f);
    set(f, "err_code", code);
    set(f, "err_code_des", des);
}

/// Every string in a JSON value is clean.
fn clean_json(v: &serde_json::Value, secret: &str) -> Result<(), String> {
    match v {
        serde_json::Value::String(s) => clean("a JSON string", s, &[secret]),
        serde_json::Value::Array(a) => a.iter().try_for_each(|x| clean_json(x, secret)),
        serde_json::Value::Object(o) => o.values().try_for_each(|x| clean_json(x, secret)),
        _ => Ok(()),
    }
}

/// The longest string in a JSON value, in characters.
fn longest(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::String(s) => s.chars().count(),
        serde_json::Value::Array(a) => a.iter().map(longest).max().unwrap_or(0),
        serde_json::Value::Object(o) => o.values().map(longest).max().unwrap_or(0),
        _ => 0,
    }
}

fn wechat_id(what: &str, id: Option<&str>) -> Result<(), String> {
    match id {
        Some(t) if t.is_empty() || t.len() > 32 || !t.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("{what} kept of the wrong shape: {}", shown(t)))
        }
        _ => Ok(()),
    }
}

/// The sale this run showed: clean, exit status as its status, money as the journal says,
/// no file holds the code. Its order number when one was made.
fn judge(h: &Harness, r: &Run, code: &str) -> Result<Option<String>, String> {
    clean_run(r, &[code, ECHOED])?;
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim())
        .map_err(|e| format!("not one JSON object ({e}): {}", shown(&r.stdout)))?;
    clean_json(&v, code)?;
    clean_json(&v, ECHOED)?;
    if let (Some(cash), Some(total)) = (v["cash_fee"].as_u64(), v["total_fee"].as_u64())
        && cash > total
    {
        return Err(format!("cash_fee {cash} kept over total_fee {total}"));
    }
    let status = v["status"].as_str().unwrap_or_default();
    if !["paid", "failed", "reversed", "unresolved"].contains(&status) {
        return Err(format!("status {status:?}: {}", shown(&r.stdout)));
    }
    if r.code != exit_code_for(status) {
        return Err(format!("exit {} for {status}", r.code));
    }
    wechat_id("transaction_id", v["transaction_id"].as_str())?;
    let no = v["out_trade_no"].as_str().map(str::to_string);
    if let Some(no) = &no {
        let s = h.sale(no);
        wechat_id("journal transaction_id", s.transaction_id.as_deref())?;
    }
    let tree = crate::checkout_support::read_tree(&h.dir.path().join("data"));
    if tree.contains(code) || tree.contains(ECHOED) {
        return Err("a file holds the whole code".into());
    }
    Ok(no)
}

/// The journal's state of `no` agrees with the money WeChat holds.
fn money(h: &Harness, no: &str) -> Result<(), String> {
    let s = h.sale(no);
    let (charged, refunded, tx) = h.ledger().order(no).map_or((0, 0, None), |o| {
        (o.charged, o.refunded, o.transaction_id.clone())
    });
    let net = charged - refunded;
    let ok = match s.state {
        SaleState::Paid => net == s.total_fee.0 && s.transaction_id == tx,
        SaleState::Failed | SaleState::Reversed => net == 0,
        _ => h
            .journal()
            .unfinished()
            .unwrap()
            .iter()
            .any(|u| u.out_trade_no == no),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{:?} in the journal, WeChat holds {net}", s.state))
    }
}

/// The journal and WeChat agree on the sale, or `recover` makes them agree (a sale left open,
/// or a definite failure WeChat charged after all, which the closing pass returns), with
/// clean output.
fn settle(h: &Harness, p: &Proxy, no: Option<String>, code: &str) -> Result<(), String> {
    p.clear();
    h.sim.clear_faults();
    let Some(no) = no else { return Ok(()) };
    if h.sale(&no).state.is_final() && money(h, &no).is_ok() {
        return Ok(());
    }
    let r = h.run(&["recover", "--json"]);
    clean_run(&r, &[code])?;
    if !h.sale(&no).state.is_final() {
        return Err(format!("still {:?} after recover", h.sale(&no).state));
    }
    money(h, &no)
}

enum Stage {
    Proxy(&'static str, Tamper, u32),
    Sim(Fault, u32, Endpoint),
}

fn sale(d: &mut Door, h: &Harness, p: &Proxy, name: &str, scenario: &str, stage: Stage) {
    let code = h.code(scenario);
    match stage {
        Stage::Proxy(path, t, n) => p.tamper(path, t, n),
        Stage::Sim(f, n, e) => h.sim.add_fault(f, n, Some(e)),
    }
    d.check(format!("reply: {name}"), || {
        let (r, _) = h.pay("3.00", &code);
        let judged = judge(h, &r, &code);
        let no = judged.as_ref().ok().cloned().flatten();
        let settled = settle(h, p, no, &code);
        judged.and(settled)
    });
    p.clear();
    h.sim.clear_faults();
}

pub fn run(d: &mut Door) {
    let h = Harness::new();
    let p = h.proxy(Opts::default());
    let px = |path, t| Stage::Proxy(path, t, 1);
    let resign = |e: fn(&mut Fields)| Stage::Proxy(MICROPAY, Tamper::Resign(e), 1);
    let normal = "normal";

    // Gateway errors, with and without the request echoed back.
    for status in [500u16, 502, 503, 404] {
        sale(
            d,
            &h,
            &p,
            &format!("HTTP {status}"),
            normal,
            px(MICROPAY, Tamper::Status(status)),
        );
    }
    for status in [500u16, 502] {
        let t = Tamper::EchoStatus(status);
        sale(
            d,
            &h,
            &p,
            &format!("HTTP {status} echoing the request"),
            normal,
            px(MICROPAY, t),
        );
        let t = Tamper::Unreached(status);
        sale(
            d,
            &h,
            &p,
            &format!("HTTP {status} before WeChat"),
            normal,
            px(MICROPAY, t),
        );
    }
    sale(
        d,
        &h,
        &p,
        "every query HTTP 500 echoing",
        "password_confirms",
        Stage::Proxy(QUERY, Tamper::EchoStatus(500), 5),
    );
    // Malformed, hostile and cut bodies.
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("not xml", b"this is not xml".to_vec()),
        ("html page", b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec()),
        ("empty body", vec![]),
        ("nested xml", b"<xml><return_code><x>SUCCESS</x></return_code></xml>".to_vec()),
        ("doctype entity", b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><return_code>&e;</return_code></xml>".to_vec()),
        ("not utf-8", b"<xml><return_code>\xff\xfe</return_code></xml>".to_vec()),
        (
            "unsigned FAIL with escapes",
            format!("<xml><return_code>FAIL</return_code><return_msg><![CDATA[{ESC}\r签名错误]]></return_msg></xml>").into_bytes(),
        ),
        (
            "unsigned FAIL echoing a code",
            b"<xml><return_code>FAIL</return_code><return_msg>bad auth_code 134567890123456789</return_msg></xml>".to_vec(),
        ),
        (
            "unsigned 30 000-digit transaction_id",
            format!("<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><transaction_id>{}</transaction_id></xml>", "4".repeat(30_000)).into_bytes(),
        ),
    ];
    for (name, body) in bodies {
        sale(d, &h, &p, name, normal, px(MICROPAY, Tamper::Body(body)));
    }
    sale(
        d,
        &h,
        &p,
        "half body",
        normal,
        px(MICROPAY, Tamper::HalfBody),
    );
    sale(
        d,
        &h,
        &p,
        "cut connection",
        normal,
        px(MICROPAY, Tamper::CutConnection),
    );
    sale(
        d,
        &h,
        &p,
        "50 MB body",
        normal,
        px(MICROPAY, Tamper::Flood(50 << 20)),
    );
    sale(
        d,
        &h,
        &p,
        "drip",
        normal,
        px(MICROPAY, Tamper::Drip(Duration::from_millis(300))),
    );
    sale(d, &h, &p, "hang", normal, px(MICROPAY, Tamper::Hang));
    // Signatures.
    let edit = |e: fn(&mut Fields)| Stage::Proxy(MICROPAY, Tamper::Edit(e), 1);
    sale(
        d,
        &h,
        &p,
        "unsigned edit of total_fee",
        normal,
        edit(|f| set(f, "total_fee", "1")),
    );
    sale(
        d,
        &h,
        &p,
        "sign removed",
        normal,
        edit(|f| {
            *f = f.iter().filter(|(k, _)| *k != "sign").collect();
        }),
    );
    sale(
        d,
        &h,
        &p,
        "sign garbage",
        normal,
        edit(|f| set(f, "sign", "\u{1b}[2JNOTASIGN")),
    );
    // Correctly signed replies that say something else.
    sale(
        d,
        &h,
        &p,
        "signed for another mch_id",
        normal,
        resign(|f| set(f, "mch_id", "1999999999")),
    );
    sale(
        d,
        &h,
        &p,
        "signed for another appid",
        normal,
        resign(|f| set(f, "appid", "wxsomeoneelse")),
    );
    sale(
        d,
        &h,
        &p,
        "signed for another order",
        normal,
        resign(|f| set(f, "out_trade_no", "till-7OTHER")),
    );
    sale(
        d,
        &h,
        &p,
        "signed for another amount",
        normal,
        resign(|f| {
            set(f, "total_fee", "1");
            set(f, "cash_fee", "1");
        }),
    );
    // Control characters, escape sequences and huge values in signed fields.
    sale(
        d,
        &h,
        &p,
        "transaction_id with escapes",
        normal,
        resign(|f| set(f, "transaction_id", &format!("4200{ESC}"))),
    );
    sale(
        d,
        &h,
        &p,
        "transaction_id with CR",
        normal,
        resign(|f| set(f, "transaction_id", "4200000001\rPAID ¥0.01")),
    );
    sale(
        d,
        &h,
        &p,
        "transaction_id with a direction override",
        normal,
        resign(|f| set(f, "transaction_id", "4200\u{202e}0001")),
    );
    sale(
        d,
        &h,
        &p,
        "transaction_id letters",
        normal,
        resign(|f| set(f, "transaction_id", "TX-not-a-number")),
    );
    sale(
        d,
        &h,
        &p,
        "transaction_id 30 000 digits",
        normal,
        resign(|f| set(f, "transaction_id", &"4".repeat(30_000))),
    );
    sale(
        d,
        &h,
        &p,
        "bank_type with escapes",
        normal,
        resign(|f| set(f, "bank_type", ESC)),
    );
    sale(
        d,
        &h,
        &p,
        "return_msg with escapes",
        normal,
        resign(|f| set(f, "return_msg", ESC)),
    );
    sale(
        d,
        &h,
        &p,
        "device_info with escapes",
        normal,
        resign(|f| set(f, "device_info", ESC)),
    );
    sale(
        d,
        &h,
        &p,
        "err_code with escapes",
        normal,
        resign(|f| fail_with(f, &format!("{ESC}SYSTEMERROR"), "系统超时")),
    );
    sale(
        d,
        &h,
        &p,
        "err_code_des with escapes",
        normal,
        resign(|f| fail_with(f, "SYSTEMERROR", &format!("{ESC}\r系统超时"))),
    );
    sale(
        d,
        &h,
        &p,
        "err_code_des direction override",
        normal,
        resign(|f| fail_with(f, "SYSTEMERROR", "\u{202e}超时统系")),
    );
    sale(
        d,
        &h,
        &p,
        "err_code 30 000 digits",
        normal,
        resign(|f| fail_with(f, &"1".repeat(30_000), "x")),
    );
    sale(
        d,
        &h,
        &p,
        "err_code_des 60 000 characters",
        normal,
        resign(|f| fail_with(f, "SYSTEMERROR", &"长".repeat(20_000))),
    );
    sale(
        d,
        &h,
        &p,
        "err_code_des echoing a code",
        normal,
        resign(|f| fail_with(f, "SYSTEMERROR", "auth_code=134567890123456789")),
    );
    sale(
        d,
        &h,
        &p,
        "decline err_code with escapes",
        normal,
        resign(|f| fail_with(f, &format!("NOTENOUGH{ESC}"), "余额不足")),
    );
    // Informative fields holding a payment code, or too long, or paying more than the order.
    sale(
        d,
        &h,
        &p,
        "openid holding a code",
        normal,
        resign(|f| set(f, "openid", "o134567890123456789x")),
    );
    sale(
        d,
        &h,
        &p,
        "bank_type holding a code",
        normal,
        resign(|f| set(f, "bank_type", ECHOED)),
    );
    sale(
        d,
        &h,
        &p,
        "bank_type 30 000 characters",
        normal,
        resign(|f| set(f, "bank_type", &"B".repeat(30_000))),
    );
    sale(
        d,
        &h,
        &p,
        "err_code a payment code",
        normal,
        resign(|f| fail_with(f, ECHOED, "x")),
    );
    sale(
        d,
        &h,
        &p,
        "err_code_des with line separators",
        normal,
        resign(|f| fail_with(f, "SYSTEMERROR", "系统\u{2028}超时\u{2029}PAID")),
    );
    sale(
        d,
        &h,
        &p,
        "cash_fee over total_fee",
        normal,
        resign(|f| set(f, "cash_fee", "301")),
    );
    sale(
        d,
        &h,
        &p,
        "coupon_fee over total_fee",
        normal,
        resign(|f| set(f, "coupon_fee", "99999")),
    );
    // The same in the orderquery answers of a customer who types the password.
    let q = |e: fn(&mut Fields)| Stage::Proxy(QUERY, Tamper::Resign(e), 50);
    sale(
        d,
        &h,
        &p,
        "query transaction_id with escapes",
        "password_confirms",
        q(|f| set(f, "transaction_id", &format!("4200{ESC}"))),
    );
    sale(
        d,
        &h,
        &p,
        "query trade_state_desc with escapes",
        "password_confirms",
        q(|f| set(f, "trade_state_desc", ESC)),
    );
    sale(
        d,
        &h,
        &p,
        "query openid holding a code",
        "password_confirms",
        q(|f| set(f, "openid", ECHOED)),
    );
    sale(
        d,
        &h,
        &p,
        "query cash_fee over total_fee",
        "password_confirms",
        q(|f| set(f, "cash_fee", "100000")),
    );
    sale(
        d,
        &h,
        &p,
        "query trade_state unknown",
        "password_confirms",
        q(|f| set(f, "trade_state", &format!("WEIRD{ESC}"))),
    );
    sale(
        d,
        &h,
        &p,
        "query err_code with escapes",
        "password_confirms",
        q(|f| fail_with(f, &format!("{ESC}SYSTEMERROR"), ESC)),
    );
    // The reverse of a customer who never types the password.
    sale(
        d,
        &h,
        &p,
        "reverse HTTP 500 echoing",
        "password_never",
        Stage::Proxy(REVERSE, Tamper::EchoStatus(500), 3),
    );
    sale(
        d,
        &h,
        &p,
        "reverse err_code with escapes",
        "password_never",
        Stage::Proxy(
            REVERSE,
            Tamper::Resign(|f| fail_with(f, &format!("{ESC}SYSTEMERROR"), ESC)),
            2,
        ),
    );
    // The simulator's own faults.
    let faults: [(&str, Fault); 8] = [
        ("sim http500", Fault::Http500),
        ("sim html", Fault::Html),
        ("sim wrong sign", Fault::WrongSign),
        ("sim drop", Fault::Drop),
        ("sim drop before", Fault::DropBefore),
        ("sim systemerror", Fault::SystemError),
        ("sim bankerror", Fault::BankError),
        ("sim false decline", Fault::FalseDecline),
    ];
    for (name, f) in faults {
        sale(
            d,
            &h,
            &p,
            name,
            normal,
            Stage::Sim(f, 1, Endpoint::Micropay),
        );
    }
    refunds(d, &h, &p);
    statements(d, &h, &p);
}

const BILL: &str = "/pay/downloadbill";

/// A statement of one trade row with these cells (the current column set).
fn bill(order_no: &str, txn: &str, attach: &str) -> Vec<u8> {
    format!(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n\
`2026-11-27 10:00:00,`wx1,`100,`0,`till-7,`{txn},`{order_no},`o1,`MICROPAY,`SUCCESS,`OTHERS,`CNY,`3.00,`0.00,`0,`0,`0.00,`0.00,`,`,`Goods,`{attach},`0.02,`0.60%,`3.00,`0.00,`\r\n\
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\
`1,`3.00,`0.00,`0.00,`0.02,`3.00,`0.00\r\n"
    )
    .into_bytes()
}

/// Hostile statements for `reconcile`: a cell with escapes, a payment code or 30 000
/// characters. Handled: clean output, nothing written, no crash; a statement whose order or
/// transaction number has another shape is not trusted (nonzero exit, nothing compared).
fn statements(d: &mut Door, h: &Harness, p: &Proxy) {
    let (r, _) = h.pay("3.00", &h.code("normal"));
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: serde_json::Value = r.json();
    let no = v["out_trade_no"].as_str().unwrap();
    let day = paycode::beijing::day_of(h.sale(no).created_ms).to_string();
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        (
            "order number with escapes",
            bill(&format!("A{ESC}"), "4200001", ""),
            true,
        ),
        // A valid shape (a POS may number orders so): shown as an unknown order, masked.
        (
            "order number holding a code",
            bill(ECHOED, "4200001", ""),
            false,
        ),
        (
            "order number 30 000 characters",
            bill(&"A".repeat(30_000), "4200001", ""),
            true,
        ),
        (
            "transaction id with escapes",
            bill("A1", &format!("4200{ESC}"), ""),
            true,
        ),
        (
            "transaction id 30 000 digits",
            bill("A1", &"4".repeat(30_000), ""),
            true,
        ),
        (
            "attach holding a code",
            bill("A1", "4200001", &format!("x{ECHOED}")),
            false,
        ),
        (
            "attach with escapes and separators",
            bill("A1", "4200001", &format!("{ESC}\u{2028}\u{202e}x")),
            false,
        ),
        (
            "attach 30 000 characters",
            bill("A1", "4200001", &"长".repeat(30_000)),
            false,
        ),
    ];
    for (name, body, distrusted) in cases {
        p.tamper(BILL, Tamper::Body(body), 1);
        d.check(format!("statement: {name}"), || {
            let before = crate::checks::mark(h);
            let r = h.run(&["reconcile", "--date", &day, "--json"]);
            clean_run(&r, &[ECHOED])?;
            let v: serde_json::Value = serde_json::from_str(r.stdout.trim())
                .map_err(|e| format!("not one JSON object ({e}): {}", shown(&r.stdout)))?;
            clean_json(&v, ECHOED)?;
            if longest(&v) > 1_000 {
                return Err(format!("a value of {} characters shown", longest(&v)));
            }
            if distrusted && (r.code == 0 || r.code == 1) {
                return Err(format!("exit {} for a statement not trusted", r.code));
            }
            if r.code == 101 {
                return Err("crashed".into());
            }
            crate::checks::journal_untouched(h, &before)
        });
        p.clear();
    }
}

/// A refund whose answer is hostile: clean output, the refund left open or settled.
fn refunds(d: &mut Door, h: &Harness, p: &Proxy) {
    let cases: Vec<(&str, Tamper)> = vec![
        ("refund HTTP 500 echoing", Tamper::EchoStatus(500)),
        (
            "refund err_code_des with escapes",
            Tamper::Resign(|f| fail_with(f, "SYSTEMERROR", &format!("{ESC}\r退款失败"))),
        ),
        (
            "refund refund_id with escapes",
            Tamper::Resign(|f| set(f, "refund_id", ESC)),
        ),
    ];
    for (name, t) in cases {
        let code = h.code("normal");
        let (r, v) = h.pay("4.00", &code);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let no = v["out_trade_no"].as_str().unwrap().to_string();
        p.tamper(REFUND, t, 1);
        d.check(format!("reply: {name}"), || {
            let r = h.run(&["refund", &no, "--no-wait", "--json"]);
            clean_run(&r, &[&code])?;
            let v: serde_json::Value = serde_json::from_str(r.stdout.trim())
                .map_err(|e| format!("not JSON ({e}): {}", shown(&r.stdout)))?;
            clean_json(&v, &code)?;
            if ![0, 1, 2].contains(&r.code) {
                return Err(format!("exit {}", r.code));
            }
            Ok(())
        });
        p.clear();
    }
}
