//! docs/openapi.json against the running `paycode serve`: every documented operation is called,
//! every answer's status is one the document lists for it, and its JSON body holds what the
//! document's schema requires (required properties, types, enums, nullable). A path the
//! document does not list is the 404 fallback. So the document cannot drift from the server.
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_methods)] // tests drive real time

mod api_support;
mod checkout_support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use api_support::{Served, http, post_in_background, sale, serve};
use checkout_support::{Harness, wait_for};
use serde_json::{Value, json};

fn doc() -> Value {
    serde_json::from_str(include_str!("../docs/openapi.json")).unwrap()
}

/// `#/components/...` resolved.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.trim_start_matches('#');
            resolve(doc, doc.pointer(ptr).unwrap_or_else(|| panic!("no {r}")))
        }
        None => v,
    }
}

/// What `value` breaks of `schema` (a small subset of JSON Schema: what the document uses).
fn violations(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut bad = Vec::new();
    if value.is_null() {
        if schema["nullable"] != json!(true) && schema.get("type").is_some() {
            bad.push(format!("{at}: null but not nullable"));
        }
        return bad;
    }
    let ok = match schema.get("type").and_then(Value::as_str) {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_u64() || value.is_i64(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !ok {
        bad.push(format!("{at}: {value} is not {}", schema["type"]));
        return bad;
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(value)
    {
        bad.push(format!("{at}: {value} not in {e:?}"));
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        let k = r.as_str().unwrap();
        if value.get(k).is_none() {
            bad.push(format!("{at}: required {k} missing"));
        }
    }
    if let Some(props) = schema["properties"].as_object() {
        for (k, s) in props {
            if let Some(v) = value.get(k) {
                bad.extend(violations(doc, s, v, &format!("{at}.{k}")));
            }
        }
    }
    bad
}

/// The documented path template `path` matches (`{ref}` is one segment).
fn template<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let path = path.split('?').next().unwrap_or(path);
    doc["paths"].as_object().unwrap().keys().find_map(|t| {
        let (a, b): (Vec<&str>, Vec<&str>) = (t.split('/').collect(), path.split('/').collect());
        (a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| x == y || (x.starts_with('{') && !y.is_empty())))
        .then_some(t.as_str())
    })
}

struct Checker {
    doc: Value,
    called: BTreeSet<(String, String)>,
    bad: Vec<String>,
}

impl Checker {
    /// Check one answer of `method path` against the document.
    fn answer(&mut self, method: &str, path: &str, status: u16, ct: &str, body: &str) {
        let Some(t) = template(&self.doc, path) else {
            self.bad
                .push(format!("{method} {path}: not in the document"));
            return;
        };
        self.called.insert((method.to_string(), t.to_string()));
        let op = &self.doc["paths"][t][method];
        let Some(resp) = op["responses"].get(status.to_string()) else {
            self.bad.push(format!(
                "{method} {path}: status {status} not documented: {body}"
            ));
            return;
        };
        let resp = resolve(&self.doc, resp);
        let media = ct.split(';').next().unwrap_or("").trim();
        let Some(m) = resp["content"].get(media) else {
            self.bad.push(format!(
                "{method} {path} {status}: content type {ct:?} not documented"
            ));
            return;
        };
        if media == "application/json" {
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            let at = format!("{method} {path} {status}");
            let errs = violations(&self.doc, &m["schema"], &v, &at);
            self.bad.extend(errs);
        }
    }
}

/// One request; the stream's body is not read (it never ends).
fn call(
    h: &Harness,
    s: &Served,
    c: &mut Checker,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let (status, ct, text) = h.rt.block_on(async {
        let url = format!("{}{path}", s.base);
        let mut r = match method {
            "get" => http().get(url),
            _ => http().post(url),
        };
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = if ct.starts_with("text/event-stream") {
            String::new()
        } else {
            r.text().await.unwrap()
        };
        (status, ct, text)
    });
    c.answer(method, path, status, &ct, &text);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn the_openapi_document_matches_the_running_server() {
    let h = Harness::new();
    let s = serve(&h, &[]);
    let mut c = Checker {
        doc: doc(),
        called: BTreeSet::new(),
        bad: Vec::new(),
    };
    let code = h.code("normal");
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .date();

    call(&h, &s, &mut c, "get", "/v1/health", None, &[]);
    let (st, paid) = call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales",
        Some(sale("1.00", "D-1", &code)),
        &[],
    );
    assert_eq!(st, 200, "{paid}");
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales",
        Some(sale("1.00", "D-1", &code)),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales",
        Some(sale("1.00", "D-2", &code)),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales",
        Some("not json".into()),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales",
        Some(json!({"amount":"1","ref":"D-3"}).to_string()),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales",
        Some("x".repeat(20_000)),
        &[],
    );
    call(&h, &s, &mut c, "get", "/v1/sales/D-1", None, &[]);
    call(&h, &s, &mut c, "get", "/v1/sales/NO-SUCH", None, &[]);
    call(&h, &s, &mut c, "get", "/v1/sales/a%20b", None, &[]);
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales/NO-SUCH/cancel",
        None,
        &[],
    );
    call(&h, &s, &mut c, "post", "/v1/sales/D-1/cancel", None, &[]);
    call(
        &h,
        &s,
        &mut c,
        "get",
        &format!("/v1/history?date={today}"),
        None,
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "get",
        "/v1/history?date=yesterday",
        None,
        &[],
    );
    call(&h, &s, &mut c, "get", "/v1/events", None, &[]);
    call(
        &h,
        &s,
        &mut c,
        "get",
        "/v1/events",
        None,
        &[("last-event-id", "x")],
    );
    call(&h, &s, &mut c, "get", "/display", None, &[]);

    // A running sale is cancelled: 202.
    let waiting = post_in_background(
        &s,
        "/v1/sales",
        sale("2.00", "D-4", &h.code("password_never")),
    );
    wait_for("the sale waits for the password", || {
        h.journal()
            .sales_with_ref("D-4")
            .unwrap()
            .iter()
            .any(|r| !r.state.is_final())
    });
    let (st, v) = call(&h, &s, &mut c, "post", "/v1/sales/D-4/cancel", None, &[]);
    assert_eq!(st, 202, "{v}");
    let (st, v) = waiting.join().unwrap();
    c.answer("post", "/v1/sales", st, "application/json", &v.to_string());

    // The commands of a running till: a refund (and its retry, and refusals), a query, a
    // recover, a reconcile.
    let no = paid["out_trade_no"].as_str().unwrap().to_string();
    let refund = |r: &str| json!({"ref": "D-1", "refund_ref": r, "amount": "0.50"}).to_string();
    let (st, v) = call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/refunds",
        Some(refund("RF-D1")),
        &[],
    );
    assert_eq!(st, 200, "{v}");
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/refunds",
        Some(refund("RF-D1")),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/refunds",
        Some(json!({"ref": "D-1"}).to_string()),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/refunds",
        Some(json!({"ref": "NO-SUCH", "refund_ref": "RF-D2"}).to_string()),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/refunds",
        Some(json!({"ref": "D-1", "refund_ref": "RF-D1", "amount": "0.20"}).to_string()),
        &[],
    );
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/refunds",
        Some("x".repeat(20_000)),
        &[],
    );
    let (st, v) = call(
        &h,
        &s,
        &mut c,
        "post",
        &format!("/v1/orders/{no}/query"),
        None,
        &[],
    );
    assert_eq!(st, 200, "{v}");
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/orders/NO-SUCH/query",
        None,
        &[],
    );
    let (st, v) = call(&h, &s, &mut c, "post", "/v1/recover", None, &[]);
    assert_eq!(st, 200, "{v}");
    let (st, v) = call(
        &h,
        &s,
        &mut c,
        "get",
        &format!("/v1/reconcile?date={today}"),
        None,
        &[],
    );
    assert_eq!(st, 200, "{v}");
    call(&h, &s, &mut c, "get", "/v1/reconcile?date=soon", None, &[]);
    let nonce = "0123456789abcdef0123456789abcdef";
    let (st, v) = call(
        &h,
        &s,
        &mut c,
        "get",
        &format!("/v1/owner?nonce={nonce}"),
        None,
        &[],
    );
    let id = h.journal().journal_id().unwrap();
    assert_eq!(
        (st, v["proof"].as_str()),
        (
            200,
            Some(paycode::api::contract::owner_proof(&id, nonce).as_str())
        )
    );
    call(&h, &s, &mut c, "get", "/v1/owner?nonce=short", None, &[]);

    // A path the document does not list is the fallback 404, not a hidden endpoint; a listed
    // path asked with another method is 405, with the refusal's JSON.
    let (st, _) = h.rt.block_on(async {
        let r = http()
            .get(format!("{}/v1/nothing", s.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), ())
    });
    assert_eq!(st, 404);
    let (st, v) = h.rt.block_on(async {
        let r = http()
            .get(format!("{}/v1/refunds", s.base))
            .send()
            .await
            .unwrap();
        let st = r.status().as_u16();
        (
            st,
            serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap(),
        )
    });
    assert_eq!((st, v["status"].as_str()), (405, Some("rejected")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("POST"), "{v}");
    assert!(!v["message_zh"].as_str().unwrap().is_empty(), "{v}");
    drop(s);

    // With a token: 401 without it, documented for every operation.
    let token = h.dir.path().join("api.token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = serve(&h, &["--token-file", token.to_str().unwrap()]);
    let (st, _) = call(&h, &s, &mut c, "get", "/v1/health", None, &[]);
    assert_eq!(st, 401);
    call(
        &h,
        &s,
        &mut c,
        "post",
        "/v1/sales",
        Some(sale("1.00", "D-5", &code)),
        &[],
    );

    let documented: BTreeSet<(String, String)> = c.doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.clone(), p.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let missed: Vec<_> = documented.difference(&c.called).collect();
    assert!(missed.is_empty(), "documented but never called: {missed:?}");
    assert!(
        c.bad.is_empty(),
        "the document and the server disagree:\n{}",
        c.bad.join("\n")
    );
}
