//! Handing a command to the paycode that owns the journal: when `query`, `refund`, `recover` or
//! `reconcile` find the journal locked by a running cashier screen or `paycode serve` with
//! `[api] listen` set, they ask it over the local API (docs/api.md, "Commands of a running
//! till") instead of failing, and print its answer as they would their own (the same `--json`
//! object, the same exit status).

use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

use super::output;
use crate::config::Config;
use crate::words::Words;

/// Long enough for a refund followed to its end (60 s) and a recover of a long pending list.
const ANSWER_WITHIN: Duration = Duration::from_secs(300);

/// One request for the owner.
#[derive(Debug)]
pub(crate) struct Call {
    pub post: bool,
    /// Path and query, e.g. `/v1/orders/X/query`.
    pub path: String,
    pub body: Option<Value>,
}

/// Where the owner listens, as a client reaches it (an unspecified address is this machine).
fn base(cfg: &Config) -> Option<String> {
    let api = cfg.api.as_ref()?;
    let mut addr = api.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    Some(format!("http://{addr}"))
}

/// Whether the owner can be asked at all (`[api]` configured).
pub(crate) fn reachable(cfg: &Config) -> bool {
    cfg.api.is_some()
}

/// Ask the owner; print its answer and return its exit status. Text mode prints the answer's
/// messages (`lines` picks the ones of a list answer).
pub(crate) fn ask(
    cfg: &Config,
    call: Call,
    json: bool,
    lines: fn(&Value) -> Vec<String>,
) -> ExitCode {
    let Some(base) = base(cfg) else {
        return output::rejected(json, &not_served(), None);
    };
    errln!(
        "the journal is in use by the running paycode: handing the command to it at {base} / 账本正由运行中的 paycode 使用:已将命令交给它处理({base})"
    );
    let token = match cfg.api.as_ref().and_then(|a| a.token_file.as_deref()) {
        None => None,
        Some(p) => match crate::api::token::Token::read_as(p, "[api] token_file") {
            Ok(t) => Some(t),
            Err(w) => return output::rejected(json, &w, None),
        },
    };
    // Who answers is checked before anything is sent: the PIN and the token go only to the
    // paycode that owns this very journal (review of stop 26, F1).
    let journal_id =
        match crate::journal::Journal::open(&cfg.journal.path).and_then(|j| j.journal_id()) {
            Ok(id) => id,
            Err(e) => return output::rejected(json, &crate::words::Bilingual::words(&e), None),
        };
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(c) => return c,
    };
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let got = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(ANSWER_WITHIN)
            .no_proxy()
            .build()
            .map_err(Asked::NotSent)?;
        let proof = client
            .get(format!("{base}/v1/owner?nonce={nonce}"))
            .send()
            .await
            .map_err(Asked::NotSent)?
            .text()
            .await
            .map_err(Asked::NotSent)?;
        let proof: Value = serde_json::from_str(&proof).unwrap_or(Value::Null);
        let expected = crate::api::contract::owner_proof(&journal_id, &nonce);
        if proof["proof"].as_str() != Some(expected.as_str()) {
            return Err(Asked::Stranger);
        }
        let url = format!("{base}{}", call.path);
        let mut req = if call.post {
            client.post(url)
        } else {
            client.get(url)
        };
        if let Some(t) = &token {
            req = req.bearer_auth(t.expose());
        }
        if let Some(b) = &call.body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_connect() {
                Asked::NotSent(e)
            } else {
                Asked::Lost(e)
            }
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(Asked::Lost)?;
        Ok((status, text))
    });
    let (status, text) = match got {
        Ok(x) => x,
        Err(Asked::NotSent(e)) => return output::unavailable(json, &unreachable(&base, &e)),
        Err(Asked::Lost(e)) => return output::unavailable(json, &lost(&base, &e)),
        Err(Asked::Stranger) => return output::rejected(json, &stranger(&base), None),
    };
    let Ok(mut v) = serde_json::from_str::<Value>(&text) else {
        return output::unavailable(json, &garbled(&base, status));
    };
    // An answer without its exit status is not one of ours: never taken for done.
    let Some(exit) = v["exit"].as_u64().and_then(|e| u8::try_from(e).ok()) else {
        return output::unavailable(json, &garbled(&base, status));
    };
    // Printed as the command prints its own: the exit status is the process's, not a key.
    if let Some(o) = v.as_object_mut() {
        o.remove("exit");
    }
    let msg = |k: &str| v[k].as_str().unwrap_or("").to_string();
    if json {
        outln!("{v}");
    } else if status >= 300 {
        errln!("paycode: {}", msg("message"));
        errln!("paycode:{}", msg("message_zh"));
    } else {
        for l in lines(&v) {
            outln!("{l}");
        }
    }
    ExitCode::from(exit)
}

/// The answer's own two messages (a refund, a query).
pub(crate) fn messages(v: &Value) -> Vec<String> {
    ["message_zh", "message"]
        .iter()
        .filter_map(|k| v[*k].as_str().map(str::to_string))
        .collect()
}

/// `recover`'s list: each settled sale with its message.
pub(crate) fn recovered(v: &Value) -> Vec<String> {
    let list = v["recovered"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return vec!["nothing to recover / 没有需要恢复的交易".to_string()];
    }
    list.iter()
        .map(|r| {
            format!(
                "{} ({}): {} / {}",
                r["out_trade_no"].as_str().unwrap_or(""),
                r["was"].as_str().unwrap_or(""),
                r["message_zh"].as_str().unwrap_or(""),
                r["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// `reconcile`'s totals and findings.
pub(crate) fn findings(v: &Value) -> Vec<String> {
    let fen = |k: &str| crate::money::Fen(v[k].as_u64().unwrap_or(0));
    let mut out = vec![format!(
        "reconcile {} ({}): journal paid ¥{} refunded ¥{} · WeChat paid ¥{} refunded ¥{} / 对账:账本 收款 ¥{} 退款 ¥{} · 微信 收款 ¥{} 退款 ¥{}",
        v["date"].as_str().unwrap_or(""),
        v["device_info"].as_str().unwrap_or(""),
        fen("journal_paid"),
        fen("journal_refunded"),
        fen("wechat_paid"),
        fen("wechat_refunded"),
        fen("journal_paid"),
        fen("journal_refunded"),
        fen("wechat_paid"),
        fen("wechat_refunded"),
    )];
    for o in v["orders"].as_array().into_iter().flatten() {
        let tag = if o["difference"] == true {
            "DIFF"
        } else {
            "ok  "
        };
        out.push(format!("{tag}  {}", o["message"].as_str().unwrap_or("")));
        out.push(format!("      {}", o["message_zh"].as_str().unwrap_or("")));
    }
    let (n, d) = (
        v["orders"].as_array().map_or(0, Vec::len),
        v["differences"].as_u64().unwrap_or(0),
    );
    out.push(if d == 0 {
        format!("{n} order(s), all agree / {n} 笔订单,全部一致")
    } else {
        format!("{d} of {n} order(s) need a look / {n} 笔订单中 {d} 笔需要核对")
    });
    out
}

/// How asking the owner failed.
enum Asked {
    /// Nothing reached it (no connection).
    NotSent(reqwest::Error),
    /// The request went out; its answer did not come back.
    Lost(reqwest::Error),
    /// What answers is not the paycode of this journal.
    Stranger,
}

fn stranger(base: &str) -> Words {
    Words::new(
        format!(
            "what answers at {base} ([api] listen) is not this till's paycode (it cannot prove it owns this journal — another till's paycode, or another program): nothing was sent to it, no PIN and no token — fix [api] listen, or run the command where this till's paycode runs"
        ),
        format!(
            "{base}([api] listen)上应答的不是本收银台的 paycode(无法证明它拥有本账本 — 可能是另一台收银台或其他程序):未向其发送任何内容,包括密码与令牌 — 请修正 [api] listen,或在本收银台的 paycode 运行处执行该命令"
        ),
    )
}

fn lost(base: &str, e: &reqwest::Error) -> Words {
    let why = crate::untrusted::shown(&e.to_string(), 300);
    Words::new(
        format!(
            "the command reached the paycode at {base} but its answer was lost ({why}): it may have been done — look before asking again (paycode history, paycode query <order>); a refund asked again is a new refund"
        ),
        format!(
            "命令已送达 {base} 上的 paycode,但未收到答复({why}):可能已执行 — 请先查看(paycode history、paycode query <订单号>)再重试;再次退款将是一笔新的退款"
        ),
    )
}

fn not_served() -> Words {
    Words::new(
        "another paycode is using the journal and serves no API to hand the command to: run it there, or set [api] listen",
        "另一个 paycode 正在使用账本,且未提供可转交命令的接口:请在那里执行,或设置 [api] listen",
    )
}

fn unreachable(base: &str, e: &reqwest::Error) -> Words {
    let why = crate::untrusted::shown(&e.to_string(), 300);
    Words::new(
        format!(
            "the journal is locked by another paycode, but its API at {base} did not answer ({why}): nothing was done here — if a sale or refund was asked, look it up before asking again (paycode history)"
        ),
        format!(
            "账本被另一个 paycode 锁定,但其接口 {base} 无应答({why}):此处未执行任何操作 — 如已请求收款或退款,请先查看(paycode history)再重试"
        ),
    )
}

fn garbled(base: &str, status: u16) -> Words {
    Words::new(
        format!(
            "the paycode at {base} answered HTTP {status} without a JSON body: is something else listening there? Check [api] listen"
        ),
        format!(
            "{base} 上的 paycode 返回 HTTP {status} 但没有 JSON 内容:该端口是否被其他程序占用?请检查 [api] listen"
        ),
    )
}
