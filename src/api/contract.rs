//! The local API's contract as pure functions: a request body becomes a validated order or a
//! refusal naming the field and the fix (README.md, "Integrating with your POS"); replies carry
//! the CLI's fields (`status`, `message`, `message_zh`) so a POS reads one shape everywhere.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::authcode::AuthCode;
use crate::checkout::pos_ref::PosRef;
use crate::money::Fen;
use crate::words::{Bilingual, Words};

/// The largest request body read (a sale is well under 1 KiB).
pub const BODY_MAX: usize = 16 * 1024;

/// A request refused before anything was written or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status: 4xx for the caller's mistakes, 409 for a conflict, 503 when the till
    /// cannot take payments now.
    pub status: u16,
    /// The field at fault, when one is.
    pub field: Option<&'static str>,
    pub words: Words,
}

impl Refusal {
    pub fn new(status: u16, field: Option<&'static str>, words: Words) -> Self {
        // Messages may quote what the caller sent: no escapes, no whole payment code; the
        // till's own order numbers stay whole, to be looked up.
        let safe = |s: &str| crate::untrusted::shown_message(s, 600);
        Refusal {
            status,
            field,
            words: Words::new(safe(&words.en), safe(&words.zh)),
        }
    }

    /// The reply body: the CLI's refusal fields plus `field`.
    pub fn json(&self) -> Value {
        json!({
            "status": "rejected",
            "field": self.field,
            "out_trade_no": null,
            "transaction_id": null,
            "err_code": null,
            "message": self.words.en,
            "message_zh": self.words.zh,
        })
    }
}

/// A sale the POS asked for, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleOrder {
    pub amount: Fen,
    pub pos_ref: PosRef,
    /// `None`: the cashier screen shows the amount and the scan there completes the order.
    pub code: Option<AuthCode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSale {
    amount: Option<Value>,
    #[serde(rename = "ref")]
    pos_ref: Option<Value>,
    code: Option<Value>,
}

/// `POST /v1/sales` body: `{"amount": "12.34", "ref": "POS-1001", "code": "13…"}`. `ceiling` is
/// the till's `[checkout] max_amount`; `screen` says a cashier screen can take the scan, so
/// `code` may be left out.
pub fn parse_sale(body: &[u8], ceiling: Fen, screen: bool) -> Result<SaleOrder, Refusal> {
    let raw: RawSale = serde_json::from_slice(body).map_err(|e| {
        let e = e.to_string().replace("struct RawSale", "a sale object");
        Refusal::new(
            400,
            None,
            Words::new(
                format!(
                    "the body is not a sale: {e}; send a JSON object {{\"amount\": \"12.34\", \"ref\": \"<POS order id>\", \"code\": \"<payment code>\"}}"
                ),
                format!(
                    "请求体不是一笔收款:{e};请发送 JSON 对象 {{\"amount\": \"12.34\", \"ref\": \"<POS 订单号>\", \"code\": \"<付款码>\"}}"
                ),
            ),
        )
    })?;
    let amount = text_field(raw.amount, "amount", &AMOUNT_LIKE)?;
    let amount = Fen::parse(&amount, ceiling).map_err(|e| {
        let w = e.words();
        Refusal::new(
            400,
            Some("amount"),
            Words::new(
                format!("amount {amount:?}: {}", w.en),
                format!("amount {amount:?}:{}", w.zh),
            ),
        )
    })?;
    let r = text_field(raw.pos_ref, "ref", &REF_LIKE)?;
    let pos_ref = parse_ref(&r)?;
    let code = match raw.code {
        None | Some(Value::Null) if screen => None,
        None | Some(Value::Null) => return Err(no_screen()),
        given => {
            let code = text_field(given, "code", &CODE_LIKE)?;
            Some(AuthCode::parse(code.trim()).map_err(|e| {
                let w = e.words();
                Refusal::new(
                    400,
                    Some("code"),
                    Words::new(format!("code: {}", w.en), format!("code:{}", w.zh)),
                )
            })?)
        }
    };
    Ok(SaleOrder {
        amount,
        pos_ref,
        code,
    })
}

/// A refund the POS asked for (`POST /v1/refunds`), validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOrder {
    /// The paid sale: the POS's ref, or the till's own order number.
    pub sale: RefundOf,
    /// The POS's own id for the refund: its idempotency key (a retry never refunds twice).
    pub refund_ref: PosRef,
    /// `None`: all that is left of the sale.
    pub amount: Option<Fen>,
    pub reason: String,
    /// The manager PIN as sent; never shown, dropped once checked.
    pub pin: Option<zeroize::Zeroizing<String>>,
    /// `paycode refund` handed over: an open refund of the sale for the same amount is that
    /// refund, followed under its number, as the command does on its own (FAULTS row 208).
    pub follow_open: bool,
}

/// Which sale a refund is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOf {
    Ref(PosRef),
    OutTradeNo(String),
}

/// The longest refund reason (WeChat's `refund_desc` is 80 characters).
pub const REASON_MAX: usize = 80;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefund {
    #[serde(rename = "ref")]
    pos_ref: Option<Value>,
    out_trade_no: Option<Value>,
    refund_ref: Option<Value>,
    amount: Option<Value>,
    reason: Option<Value>,
    pin: Option<Value>,
    follow_open: Option<Value>,
}

/// `POST /v1/refunds` body: `{"ref": "POS-1001" | "out_trade_no": "…", "refund_ref":
/// "RF-1", "amount"?: "2.00", "reason"?: "…", "pin"?: "…"}`.
pub fn parse_refund(body: &[u8], ceiling: Fen) -> Result<RefundOrder, Refusal> {
    let raw: RawRefund = serde_json::from_slice(body).map_err(|e| {
        // serde names the Rust type; the caller sent a JSON object.
        let e = e.to_string().replace("struct RawRefund", "a refund object");
        Refusal::new(
            400,
            None,
            Words::new(
                format!(
                    "the body is not a refund: {e}; send a JSON object {{\"ref\": \"<POS order id>\", \"refund_ref\": \"<POS refund id>\", \"amount\": \"2.00\"}}"
                ),
                format!(
                    "请求体不是一笔退款:{e};请发送 JSON 对象 {{\"ref\": \"<POS 订单号>\", \"refund_ref\": \"<POS 退款单号>\", \"amount\": \"2.00\"}}"
                ),
            ),
        )
    })?;
    let given = |v: &Option<Value>| !matches!(v, None | Some(Value::Null));
    let sale = match (given(&raw.pos_ref), given(&raw.out_trade_no)) {
        (true, true) => {
            return Err(Refusal::new(
                400,
                Some("ref"),
                Words::new(
                    "give ref or out_trade_no, not both: the sale to refund is named once",
                    "ref 与 out_trade_no 只能填写一个:要退款的订单只需指明一次",
                ),
            ));
        }
        (false, false) => {
            return Err(Refusal::new(
                400,
                Some("ref"),
                Words::new(
                    "ref is missing: name the paid sale by the POS's order id (ref) or the till's order number (out_trade_no)",
                    "缺少 ref:请用 POS 订单号(ref)或收银台订单号(out_trade_no)指明已支付的订单",
                ),
            ));
        }
        (true, false) => RefundOf::Ref(parse_ref(&text_field(raw.pos_ref, "ref", &REF_LIKE)?)?),
        (false, true) => {
            let no = text_field(raw.out_trade_no, "out_trade_no", &ORDER_LIKE)?;
            RefundOf::OutTradeNo(no.trim().to_string())
        }
    };
    let refund_ref = text_field(raw.refund_ref, "refund_ref", &REFUND_REF_LIKE)?;
    let refund_ref = PosRef::parse(&refund_ref).map_err(|e| {
        let w = api_words(&e.words());
        Refusal::new(
            400,
            Some("refund_ref"),
            Words::new(
                w.en.replacen("ref", "refund_ref", 1),
                w.zh.replacen("ref", "refund_ref", 1),
            ),
        )
    })?;
    let amount = match raw.amount {
        None | Some(Value::Null) => None,
        given => {
            let text = text_field(given, "amount", &AMOUNT_LIKE)?;
            Some(Fen::parse(text.trim(), ceiling).map_err(|e| {
                let w = e.words();
                Refusal::new(
                    400,
                    Some("amount"),
                    Words::new(
                        format!("amount {text:?}: {}", w.en),
                        format!("amount {text:?}:{}", w.zh),
                    ),
                )
            })?)
        }
    };
    let reason = match raw.reason {
        None | Some(Value::Null) => String::new(),
        given => text_field(given, "reason", &REASON_LIKE)?,
    };
    if reason.chars().count() > REASON_MAX || reason.chars().any(char::is_control) {
        return Err(Refusal::new(
            400,
            Some("reason"),
            Words::new(
                format!(
                    "reason: at most {REASON_MAX} characters, no control characters (WeChat shows it to the customer)"
                ),
                format!("reason:最多 {REASON_MAX} 个字符,不含控制字符(微信会展示给顾客)"),
            ),
        ));
    }
    let pin = match raw.pin {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(zeroize::Zeroizing::new(p)),
        Some(_) => {
            return Err(Refusal::new(
                400,
                Some("pin"),
                Words::new(
                    "pin must be a JSON string of the manager PIN's digits",
                    "pin 必须是由店长密码数字组成的 JSON 字符串",
                ),
            ));
        }
    };
    let follow_open = match raw.follow_open {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            return Err(Refusal::new(
                400,
                Some("follow_open"),
                Words::new(
                    "follow_open must be true or false",
                    "follow_open 必须是 true 或 false",
                ),
            ));
        }
    };
    Ok(RefundOrder {
        sale,
        refund_ref,
        amount,
        reason,
        pin,
        follow_open,
    })
}

/// The proof that the process answering owns the journal with id `journal_id`:
/// HMAC-SHA256 keyed by the id over the caller's fresh `nonce` (`GET /v1/owner`). The caller
/// reads the id from the journal file itself; the answer reveals nothing of it, and nobody
/// without the journal can give it — so a second paycode checks who it talks to before it
/// sends a PIN or a token (cli::owner).
pub fn owner_proof(journal_id: &str, nonce: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    match <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(journal_id.as_bytes()) {
        Ok(mut m) => {
            m.update(b"paycode owner ");
            m.update(nonce.as_bytes());
            hex::encode(m.finalize().into_bytes())
        }
        // HMAC takes a key of any length: never reached.
        Err(_) => String::new(),
    }
}

/// `GET /v1/owner` query: `nonce=` 32 to 128 hex digits.
pub fn parse_owner_query(query: &str) -> Result<String, Refusal> {
    let nonce = query
        .split('&')
        .find_map(|p| p.strip_prefix("nonce="))
        .unwrap_or("");
    if (32..=128).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(nonce.to_string());
    }
    Err(Refusal::new(
        400,
        Some("nonce"),
        Words::new(
            "nonce: give 32 to 128 hex digits, fresh for each ask (GET /v1/owner?nonce=…)",
            "nonce:请提供 32–128 位十六进制数字,每次询问都须新生成(GET /v1/owner?nonce=…)",
        ),
    ))
}

/// A ref from a body or a path; its refusal names the field `ref`.
pub fn parse_ref(r: &str) -> Result<PosRef, Refusal> {
    PosRef::parse(r).map_err(|e| Refusal::new(400, Some("ref"), api_words(&e.words())))
}

/// Words of the runner or the ref parser, worded for the command line's `--ref`: here the
/// field is `ref`.
pub fn api_words(w: &Words) -> Words {
    Words::new(w.en.replace("--ref", "ref"), w.zh.replace("--ref", "ref"))
}

/// `code` left out where no cashier screen can take the scan.
pub(crate) fn no_screen() -> Refusal {
    Refusal::new(
        400,
        Some("code"),
        Words::new(
            "code is missing: `paycode serve` has no cashier screen to scan at — send the 18 digits the scanner read, or run the cashier screen with [api] listen set so the cashier scans",
            "缺少 code:`paycode serve` 没有收银界面可扫码 — 请发送扫码枪读到的 18 位数字,或运行设置了 [api] listen 的收银界面,由收银员扫码",
        ),
    )
}

/// A required string field; a number or anything else names the field and the form wanted.
/// What each field should hold, in both languages: (English, Chinese).
const AMOUNT_LIKE: (&str, &str) = (
    "\"12.34\" (yuan, as a string)",
    "\"12.34\"(以元为单位的字符串)",
);
const REF_LIKE: (&str, &str) = ("the POS's own order id", "POS 自己的订单号");
const CODE_LIKE: (&str, &str) = ("the 18 digits the scanner read", "扫码枪读到的 18 位数字");
const ORDER_LIKE: (&str, &str) = ("the till's order number", "收银台订单号");
const REFUND_REF_LIKE: (&str, &str) = (
    "the POS's own id for this refund (a retry with it never refunds twice)",
    "POS 自己的退款单号(用它重试不会重复退款)",
);
const REASON_LIKE: (&str, &str) = (
    "a short reason shown to the customer",
    "展示给顾客的简短原因",
);

fn text_field(
    v: Option<Value>,
    name: &'static str,
    (like, like_zh): &(&str, &str),
) -> Result<String, Refusal> {
    match v {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(Refusal::new(
            400,
            Some(name),
            Words::new(
                format!("{name} is missing: give {like}"),
                format!("缺少 {name}:请填写 {like_zh}"),
            ),
        )),
        Some(_) => Err(Refusal::new(
            400,
            Some(name),
            Words::new(
                format!(
                    "{name} must be a JSON string: give {like} (a JSON number can lose cents or digits)"
                ),
                format!("{name} 必须是 JSON 字符串:请填写 {like_zh}(JSON 数字可能丢失分或位数)"),
            ),
        )),
    }
}

/// `GET /v1/history` query: `date=YYYY-MM-DD` (a Beijing-time day), required, nothing else.
pub fn parse_history_query(query: &str) -> Result<time::Date, Refusal> {
    let mut date = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "date" {
            return Err(Refusal::new(
                400,
                None,
                Words::new(
                    format!("unknown query parameter {k:?}: the only one is date=YYYY-MM-DD"),
                    format!("未知的查询参数 {k:?}:只接受 date=YYYY-MM-DD"),
                ),
            ));
        }
        date = Some(v);
    }
    let Some(v) = date else {
        return Err(Refusal::new(
            400,
            Some("date"),
            Words::new(
                "date is missing: ask for a Beijing-time day, e.g. /v1/history?date=2026-01-31",
                "缺少 date:请指定北京时间的日期,例如 /v1/history?date=2026-01-31",
            ),
        ));
    };
    crate::beijing::parse_day(v).ok_or_else(|| {
        Refusal::new(
            400,
            Some("date"),
            Words::new(
                format!("date {v:?} is not a date: use YYYY-MM-DD, like 2026-01-31"),
                format!("date {v:?} 不是日期:请按 YYYY-MM-DD 填写,例如 2026-01-31"),
            ),
        )
    })
}

/// The refusal of a body over [`BODY_MAX`].
pub fn too_large() -> Refusal {
    Refusal::new(
        413,
        None,
        Words::new(
            format!("the body is over {BODY_MAX} bytes: a sale or a refund is a small JSON object"),
            format!("请求体超过 {BODY_MAX} 字节:一笔收款或退款只是一个小的 JSON 对象"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Fen = Fen(500_000);
    const CODE: &str = "134567890123456789";

    fn refused(body: &str) -> Refusal {
        match parse_sale(body.as_bytes(), MAX, false) {
            Err(r) => r,
            Ok(o) => panic!("accepted {body}: {o:?}"),
        }
    }

    #[test]
    fn a_history_query_is_one_date() {
        let d = parse_history_query("date=2026-01-31").unwrap();
        assert_eq!(d.to_string(), "2026-01-31");
        for (q, field) in [
            ("", Some("date")),
            ("date=2026-13-01", Some("date")),
            ("date=yesterday", Some("date")),
            ("date=2026-01-31&x=1", None),
        ] {
            let r = parse_history_query(q).unwrap_err();
            assert_eq!((r.status, r.field), (400, field), "{q}: {r:?}");
            assert!(
                r.words.en.contains("date") && r.words.zh.contains("date"),
                "{q}"
            );
        }
    }

    #[test]
    fn a_sale_is_parsed() {
        let o = parse_sale(
            format!(r#"{{"amount":"12.34","ref":"POS-1","code":"{CODE}"}}"#).as_bytes(),
            MAX,
            false,
        )
        .unwrap();
        assert_eq!((o.amount, o.pos_ref.as_str()), (Fen(1234), "POS-1"));
        assert!(o.code.is_some());
    }

    #[test]
    fn a_refusal_keeps_the_tills_own_order_number_whole() {
        let no = "till-b20261203201000523";
        let r = Refusal::new(409, None, Words::new(format!("sale {no} {CODE}"), no));
        assert!(r.words.en.contains(no), "{}", r.words.en);
        assert!(!r.words.en.contains(CODE), "{}", r.words.en);
    }

    #[test]
    fn without_a_code_only_a_cashier_screen_takes_the_order() {
        let body = br#"{"amount":"12.34","ref":"POS-2"}"#;
        let o = parse_sale(body, MAX, true).unwrap();
        assert_eq!((o.amount, o.code), (Fen(1234), None));
        let r = parse_sale(body, MAX, false).unwrap_err();
        assert_eq!((r.status, r.field), (400, Some("code")));
        assert!(r.words.en.contains("[api] listen"), "{}", r.words.en);
        // A code that is there but wrong is refused on a screen too.
        let bad = br#"{"amount":"1","ref":"A","code":"1345678901234567"}"#;
        assert_eq!(parse_sale(bad, MAX, true).unwrap_err().field, Some("code"));
    }

    #[test]
    fn every_refusal_names_the_field_and_never_echoes_a_code() {
        let cases = [
            ("not json", None),
            (r#"{"amount":"1","ref":"A","code":"1","tip":1}"#, None),
            (r#"{"ref":"A","code":"1"}"#, Some("amount")),
            (r#"{"amount":12.34,"ref":"A","code":"1"}"#, Some("amount")),
            (r#"{"amount":"1.234","ref":"A","code":"1"}"#, Some("amount")),
            (
                r#"{"amount":"9999999","ref":"A","code":"1"}"#,
                Some("amount"),
            ),
            (r#"{"amount":"1","code":"1"}"#, Some("ref")),
            (r#"{"amount":"1","ref":"a b","code":"1"}"#, Some("ref")),
            (r#"{"amount":"1","ref":"A"}"#, Some("code")),
            (
                r#"{"amount":"1","ref":"A","code":134567890123456789}"#,
                Some("code"),
            ),
            (
                r#"{"amount":"1","ref":"A","code":"1345678901234567"}"#,
                Some("code"),
            ),
        ];
        for (body, field) in cases {
            let r = refused(body);
            assert_eq!((r.status, r.field), (400, field), "{body}: {r:?}");
            assert!(!r.words.zh.is_empty() && !r.words.en.is_empty());
            if let Some(f) = field {
                assert!(r.words.en.contains(f), "{body}: {}", r.words.en);
            }
        }
        // A code sent as the ref or in an unknown field is masked in the message.
        for body in [
            format!(r#"{{"amount":"1","ref":"{CODE}","code":"{CODE}"}}"#),
            format!(r#"{{"amount":"1","ref":"A","code":"{CODE}","{CODE}":1}}"#),
            format!(r#"{{"amount":"{CODE}","ref":"A","code":"{CODE}"}}"#),
        ] {
            let r = refused(&body);
            let j = r.json().to_string();
            assert!(!j.contains(CODE), "{j}");
        }
    }
}
