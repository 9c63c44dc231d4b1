//! Typed requests and verified replies per endpoint (docs/protocol.md §4–§10).
//!
//! Pure: a request is built into an XML string from values (the nonce is a parameter); a reply
//! body is decoded, its signature verified, its echo fields matched to the request, and only then
//! turned into a typed result. Anything that fails those checks is a [`ReplyError`], which the
//! checkout engine treats as "outcome unknown" (query), never as success.

mod bill;
mod call;
mod micropay;
mod orderquery;
mod refund;
mod reverse;

pub use bill::{Bill, BillType, DownloadBillRequest, MAX_BILL, parse_downloadbill, yuan_to_fen};
pub use call::Call;
pub use micropay::{Coupon, MicropayRequest, Payment, parse_micropay};
pub use orderquery::{OrderQueryRequest, OrderRef, OrderState, TradeState, parse_orderquery};
pub use refund::{
    RefundAccepted, RefundItem, RefundList, RefundQueryRequest, RefundRef, RefundRequest,
    RefundStatus, parse_refund, parse_refundquery,
};
pub use reverse::{Reversal, ReverseRequest, parse_reverse};

use super::sign::{self, ApiKey, SignType};
use super::xml::{self, Fields, XmlError};
use crate::money::{Fen, MAX_ORDER};
use crate::words::Bilingual;

/// The merchant identity every request carries, with the key that signs it.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub appid: String,
    pub mch_id: String,
    /// Service-provider mode: the sub-merchant's appid (optional even then).
    pub sub_appid: Option<String>,
    /// Service-provider mode: the sub-merchant (required in that mode).
    pub sub_mch_id: Option<String>,
    pub key: ApiKey,
    pub sign_type: SignType,
}

/// What an `err_code` means for the sale (docs/protocol.md §5 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ErrClass {
    /// Result unknown: query, never show failure.
    Unknown,
    /// Not charged: the customer needs a new code (and the sale a new order number).
    Rescan,
    /// Not charged; the order number is dead.
    Failed,
    /// The order number was used before; orderquery decides.
    Duplicate,
    /// Our configuration or request is wrong: alert.
    Setup,
}

/// Bucket an `err_code`; codes not in the table are [`ErrClass::Unknown`].
pub fn classify(err_code: &str) -> ErrClass {
    match err_code {
        "AUTHCODEEXPIRE" | "AUTH_CODE_ERROR" | "AUTH_CODE_INVALID" | "NOTENOUGH"
        | "NOTSUPORTCARD" | "BUYER_MISMATCH" => ErrClass::Rescan,
        "TRADE_ERROR" | "ORDERCLOSED" | "ORDERREVERSED" => ErrClass::Failed,
        "ORDERPAID" | "OUT_TRADE_NO_USED" => ErrClass::Duplicate,
        "PARAM_ERROR"
        | "NOAUTH"
        | "XML_FORMAT_ERROR"
        | "REQUIRE_POST_METHOD"
        | "SIGNERROR"
        | "LACK_PARAMS"
        | "NOT_UTF8"
        | "APPID_NOT_EXIST"
        | "MCHID_NOT_EXIST"
        | "APPID_MCHID_NOT_MATCH"
        | "INVALID_REQUEST"
        | "POST_DATA_EMPTY" => ErrClass::Setup,
        _ => ErrClass::Unknown,
    }
}

/// A verified business failure (`result_code=FAIL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizError {
    pub err_code: String,
    /// WeChat's description, sanitised (control characters and long digit runs masked).
    pub err_code_des: String,
    pub class: ErrClass,
}

/// A verified reply: the business result plus every returned element (unknown ones included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<T> {
    pub result: Result<T, BizError>,
    /// All elements of the reply in document order, signature-checked.
    pub fields: Fields,
}

/// Why a request could not be built. Each message names the field and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{field} is empty: fill it in")]
    Empty { field: &'static str },
    #[error("{field} is too long: {len} characters, at most {max} are allowed; shorten it")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} has characters that are not allowed; use only {allowed}")]
    BadChars {
        field: &'static str,
        allowed: &'static str,
    },
    #[error(
        "{field} holds a run of digits that reads as a customer's payment code: leave the code out (it would be stored and printed whole)"
    )]
    HoldsCode { field: &'static str },
    #[error("{field} must be above zero")]
    ZeroAmount { field: &'static str },
    #[error("refund_fee is larger than total_fee: refund at most the order amount")]
    RefundOverTotal,
    #[error("{field} is not a date: use yyyyMMdd, like 20250131")]
    BadDate { field: &'static str },
    #[error(
        "sub_appid is set without sub_mch_id: service-provider mode needs sub_mch_id; set it or remove sub_appid"
    )]
    SubAppidWithoutSubMch,
}

impl Bilingual for RequestError {
    fn zh(&self) -> String {
        match self {
            Self::Empty { field } => format!("{field} 为空:请填写"),
            Self::TooLong { field, len, max } => {
                format!("{field} 太长:{len} 个字符,最多 {max} 个;请缩短")
            }
            Self::BadChars { field, allowed } => {
                format!("{field} 含有不允许的字符;只能使用 {allowed}")
            }
            Self::ZeroAmount { field } => format!("{field} 必须大于零"),
            Self::HoldsCode { field } => format!(
                "{field} 含有一串看起来是顾客付款码的数字:请去掉付款码(否则会被完整保存和打印)"
            ),
            Self::RefundOverTotal => "退款金额 refund_fee 大于订单金额 total_fee:最多退订单金额".into(),
            Self::BadDate { field } => format!("{field} 不是日期:请按 yyyyMMdd 填写,例如 20250131"),
            Self::SubAppidWithoutSubMch => {
                "设置了 sub_appid 但没有 sub_mch_id:服务商模式需要 sub_mch_id;请填写或删除 sub_appid"
                    .into()
            }
        }
    }
}

/// Why a reply cannot be trusted. Only [`ReplyError::ProtocolFail`] means "not charged".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("unreadable reply: {0}")]
    Xml(#[from] XmlError),
    #[error("WeChat Pay rejected the request at protocol level: {return_msg}")]
    ProtocolFail { return_msg: String },
    #[error("reply signature is missing or wrong")]
    BadSignature,
    #[error("reply does not match the request: {field} differs")]
    Mismatch { field: String },
    #[error("reply lacks {field}")]
    Missing { field: String },
    #[error("reply has an invalid {field}")]
    Invalid { field: String },
}

impl ReplyError {
    /// True when the request may have taken effect: query before deciding anything.
    pub fn outcome_unknown(&self) -> bool {
        !matches!(self, Self::ProtocolFail { .. })
    }
}

impl Bilingual for ReplyError {
    fn zh(&self) -> String {
        match self {
            Self::Xml(e) => format!("应答无法解析:{e}"),
            Self::ProtocolFail { return_msg } => format!("微信支付在协议层拒绝了请求:{return_msg}"),
            Self::BadSignature => "应答签名缺失或错误".into(),
            Self::Mismatch { field } => format!("应答与请求不符:{field} 不同"),
            Self::Missing { field } => format!("应答缺少 {field}"),
            Self::Invalid { field } => format!("应答中的 {field} 无效"),
        }
    }
}

/// Sign `fields` and encode them with the `sign` element appended (both sides of the wire).
pub fn signed_xml<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    key: &ApiKey,
    sign_type: SignType,
) -> String {
    let sig = sign::sign(fields.clone(), key, sign_type);
    let mut out = xml::encode(fields);
    // The signature is uppercase hex: nothing to escape.
    out.truncate(out.len() - "</xml>".len());
    out.push_str("<sign>");
    out.push_str(&sig);
    out.push_str("</sign></xml>");
    out
}

/// Longest remote free text kept (`return_msg`, `err_code_des`).
const REMOTE_TEXT_MAX: usize = 128;

/// Alphabet of order and refund numbers (docs/protocol.md §4, §9).
const ID_ALPHABET: &str = "digits, letters and _ - | *";

// ---- request side -------------------------------------------------------------------------

/// A request under construction: merchant fields first, `sign` last.
pub(crate) struct Body<'m> {
    m: &'m Merchant,
    fields: Vec<(&'static str, String)>,
}

impl<'m> Body<'m> {
    /// Start a request with the merchant identity, the nonce and (for HMAC) `sign_type`.
    pub(crate) fn new(m: &'m Merchant, nonce: &str) -> Result<Self, RequestError> {
        check_token("appid", &m.appid, 32)?;
        check_token("mch_id", &m.mch_id, 32)?;
        if let Some(v) = &m.sub_appid {
            check_token("sub_appid", v, 32)?;
            if m.sub_mch_id.is_none() {
                return Err(RequestError::SubAppidWithoutSubMch);
            }
        }
        if let Some(v) = &m.sub_mch_id {
            check_token("sub_mch_id", v, 32)?;
        }
        check_token("nonce_str", nonce, 32)?;
        let mut b = Self {
            m,
            fields: Vec::with_capacity(16),
        };
        b.put("appid", &m.appid);
        b.put("mch_id", &m.mch_id);
        b.opt("sub_appid", m.sub_appid.as_deref());
        b.opt("sub_mch_id", m.sub_mch_id.as_deref());
        b.put("nonce_str", nonce);
        if m.sign_type == SignType::HmacSha256 {
            b.put("sign_type", m.sign_type.as_str());
        }
        Ok(b)
    }

    pub(crate) fn put(&mut self, name: &'static str, value: impl Into<String>) {
        self.fields.push((name, value.into()));
    }

    pub(crate) fn opt(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.put(name, v);
        }
    }

    /// Sign and encode.
    pub(crate) fn finish(self) -> String {
        signed_xml(
            self.fields.iter().map(|(n, v)| (*n, v.as_str())),
            &self.m.key,
            self.m.sign_type,
        )
    }
}

/// Non-empty, at most `max` printable ASCII characters (ids, nonces, device ids).
pub(crate) fn check_token(field: &'static str, v: &str, max: usize) -> Result<(), RequestError> {
    if v.is_empty() {
        return Err(RequestError::Empty { field });
    }
    if v.len() > max {
        return Err(RequestError::TooLong {
            field,
            len: v.chars().count(),
            max,
        });
    }
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RequestError::BadChars {
            field,
            allowed: "printable ASCII without spaces",
        });
    }
    Ok(())
}

/// An order or refund number: 1..=`max` of `[0-9A-Za-z_\-|*]`.
pub(crate) fn check_id(field: &'static str, v: &str, max: usize) -> Result<(), RequestError> {
    check_token(field, v, max)?;
    if !v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
    {
        return Err(RequestError::BadChars {
            field,
            allowed: ID_ALPHABET,
        });
    }
    Ok(())
}

/// Free text (body, attach, refund_desc): at most `max` characters, no control characters.
pub(crate) fn check_text(
    field: &'static str,
    v: &str,
    max: usize,
    required: bool,
) -> Result<(), RequestError> {
    if v.is_empty() {
        return if required {
            Err(RequestError::Empty { field })
        } else {
            Ok(())
        };
    }
    let len = v.chars().count();
    if len > max {
        return Err(RequestError::TooLong { field, len, max });
    }
    // A direction override would reorder what the customer reads on the receipt.
    if !crate::untrusted::is_plain(v) {
        return Err(RequestError::BadChars {
            field,
            allowed: "text without control characters or direction overrides (no line breaks or tabs)",
        });
    }
    // A customer's code in a reason or a description would be stored and printed whole.
    if crate::authcode::holds_code(v) {
        return Err(RequestError::HoldsCode { field });
    }
    Ok(())
}

pub(crate) fn check_amount(field: &'static str, v: Fen) -> Result<(), RequestError> {
    if v.0 == 0 {
        Err(RequestError::ZeroAmount { field })
    } else {
        Ok(())
    }
}

// ---- reply side ---------------------------------------------------------------------------

/// Decode, check `return_code`, verify the signature over all elements, match the merchant
/// echo fields, and split on `result_code`. Endpoint echo checks follow in each parser.
pub(crate) fn verify_reply(
    body: &[u8],
    m: &Merchant,
) -> Result<(Fields, Result<(), BizError>), ReplyError> {
    let f = xml::decode(body)?;
    match f.get("return_code") {
        Some("SUCCESS") => {}
        Some("FAIL") => {
            return Err(ReplyError::ProtocolFail {
                return_msg: xml::safe_text(f.get("return_msg").unwrap_or(""), REMOTE_TEXT_MAX),
            });
        }
        Some(_) => return Err(invalid("return_code")),
        None => return Err(missing("return_code")),
    }
    let given = f.get("sign").unwrap_or("");
    if given.is_empty() || !sign::verify(f.iter(), &m.key, m.sign_type, given) {
        return Err(ReplyError::BadSignature);
    }
    must_equal(&f, "appid", &m.appid)?;
    must_equal(&f, "mch_id", &m.mch_id)?;
    match &m.sub_mch_id {
        Some(sub) => must_equal(&f, "sub_mch_id", sub)?,
        None if nonempty(&f, "sub_mch_id").is_some() => return Err(mismatch("sub_mch_id")),
        None => {}
    }
    if let Some(sub) = &m.sub_appid {
        echo(&f, "sub_appid", sub)?;
    }
    let result = match f.get("result_code") {
        Some("SUCCESS") => Ok(()),
        Some("FAIL") => {
            let err_code = req(&f, "err_code")?.to_string();
            if !is_err_code(&err_code) {
                return Err(invalid("err_code"));
            }
            Err(BizError {
                class: classify(&err_code),
                err_code_des: xml::safe_text(f.get("err_code_des").unwrap_or(""), REMOTE_TEXT_MAX),
                err_code,
            })
        }
        Some(_) => return Err(invalid("result_code")),
        None => return Err(missing("result_code")),
    };
    Ok((f, result))
}

pub(crate) fn missing(field: &str) -> ReplyError {
    ReplyError::Missing {
        field: field.to_string(),
    }
}

pub(crate) fn invalid(field: &str) -> ReplyError {
    ReplyError::Invalid {
        field: field.to_string(),
    }
}

pub(crate) fn mismatch(field: &str) -> ReplyError {
    ReplyError::Mismatch {
        field: field.to_string(),
    }
}

/// A present, non-empty value.
pub(crate) fn nonempty<'f>(f: &'f Fields, name: &str) -> Option<&'f str> {
    f.get(name).filter(|v| !v.is_empty())
}

/// A required, non-empty value.
pub(crate) fn req<'f>(f: &'f Fields, name: &str) -> Result<&'f str, ReplyError> {
    nonempty(f, name).ok_or_else(|| missing(name))
}

/// The longest informative value kept whole (WeChat's fields of this kind are String(128) at
/// most; a longer one is cut, marked).
const OPT_MAX: usize = 128;

/// An optional value, owned, made safe by [`crate::untrusted::kept`]: informative fields
/// (`bank_type`, `openid`, …) are kept and shown but never relied on, so a code in one is
/// masked and a 30 000-character one cut.
pub(crate) fn opt(f: &Fields, name: &str) -> Option<String> {
    opt_max(f, name, OPT_MAX)
}

/// [`opt`] with its own cap (`promotion_detail` is a JSON list).
pub(crate) fn opt_max(f: &Fields, name: &str, max: usize) -> Option<String> {
    nonempty(f, name).map(|v| crate::untrusted::kept(v, max))
}

/// An optional number of ours echoed back: of our shape, or the reply is not trusted.
pub(crate) fn opt_our_id(f: &Fields, name: &str, max: usize) -> Result<Option<String>, ReplyError> {
    match nonempty(f, name) {
        None => Ok(None),
        Some(_) => our_id(f, name, max).map(Some),
    }
}

/// The longest id WeChat makes (`transaction_id`, `refund_id`: String(32)).
const WECHAT_ID_MAX: usize = 32;

/// Whether `v` has the shape of an id WeChat makes: 1 to 32 digits (docs/protocol.md §5). A
/// signed reply whose id has another shape (escape sequences, a line break, 30 000 digits) is
/// not trusted: such a value would be kept in the journal and shown on every screen.
pub fn is_wechat_id(v: &str) -> bool {
    !v.is_empty() && v.len() <= WECHAT_ID_MAX && v.bytes().all(|b| b.is_ascii_digit())
}

/// A required id WeChat made.
pub(crate) fn wechat_id(f: &Fields, name: &str) -> Result<String, ReplyError> {
    let v = req(f, name)?;
    if is_wechat_id(v) {
        Ok(v.to_string())
    } else {
        Err(invalid(name))
    }
}

/// An optional id WeChat made (present but malformed is an error).
pub(crate) fn opt_wechat_id(f: &Fields, name: &str) -> Result<Option<String>, ReplyError> {
    match nonempty(f, name) {
        None => Ok(None),
        Some(v) if is_wechat_id(v) => Ok(Some(v.to_string())),
        Some(_) => Err(invalid(name)),
    }
}

/// Whether `v` has the shape WeChat allows a merchant's order or refund number: 1 to `max` of
/// digits, letters and `_-|*`.
pub fn is_our_id(v: &str, max: usize) -> bool {
    !v.is_empty()
        && v.len() <= max
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
}

/// A number of ours echoed back (`out_trade_no`, `out_refund_no`): our alphabet, at most `max`.
pub(crate) fn our_id(f: &Fields, name: &str, max: usize) -> Result<String, ReplyError> {
    let v = req(f, name)?;
    if is_our_id(v, max) {
        Ok(v.to_string())
    } else {
        Err(invalid(name))
    }
}

/// Whether `v` has the shape of a WeChat error code: capitals, digits and `_`, at most 32, and
/// no digit run that could be a payment code (it is kept and shown as the reason).
fn is_err_code(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 32
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !crate::authcode::holds_code(v)
}

/// If present, the element must equal what we sent.
pub(crate) fn echo(f: &Fields, name: &str, expected: &str) -> Result<(), ReplyError> {
    match nonempty(f, name) {
        Some(v) if v != expected => Err(mismatch(name)),
        _ => Ok(()),
    }
}

/// The element must be present and equal what we sent.
pub(crate) fn must_equal(f: &Fields, name: &str, expected: &str) -> Result<(), ReplyError> {
    if req(f, name)? == expected {
        Ok(())
    } else {
        Err(mismatch(name))
    }
}

/// If present, the amount must equal what we sent.
pub(crate) fn echo_fen(f: &Fields, name: &str, expected: Fen) -> Result<(), ReplyError> {
    match opt_fen(f, name)? {
        Some(v) if v != expected => Err(mismatch(name)),
        _ => Ok(()),
    }
}

/// Strict non-negative decimal integer: digits only, no sign, no leading zeros, no overflow.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

/// An amount of one order in integer fen: at most [`MAX_ORDER`], which WeChat never exceeds,
/// so every amount kept fits the journal and every sum of them stays far from overflow.
fn order_fen(v: &str) -> Option<Fen> {
    parse_uint(v).map(Fen).filter(|f| *f <= MAX_ORDER)
}

/// A required amount in integer fen.
pub(crate) fn fen(f: &Fields, name: &str) -> Result<Fen, ReplyError> {
    order_fen(req(f, name)?).ok_or_else(|| invalid(name))
}

/// An optional amount in integer fen (present but malformed is an error).
pub(crate) fn opt_fen(f: &Fields, name: &str) -> Result<Option<Fen>, ReplyError> {
    nonempty(f, name)
        .map(|v| order_fen(v).ok_or_else(|| invalid(name)))
        .transpose()
}

/// An optional count (`coupon_count`, `refund_count`), bounded to keep loops small.
pub(crate) fn opt_count(f: &Fields, name: &str, max: u64) -> Result<Option<usize>, ReplyError> {
    match nonempty(f, name) {
        None => Ok(None),
        Some(v) => match parse_uint(v) {
            Some(n) if n <= max => usize::try_from(n).map(Some).map_err(|_| invalid(name)),
            _ => Err(invalid(name)),
        },
    }
}

/// A `yyyyMMddHHmmss` time (Beijing time), checked for shape and ranges, kept as text.
pub(crate) fn time14(f: &Fields, name: &str) -> Result<String, ReplyError> {
    let v = req(f, name)?;
    if is_time14(v) {
        Ok(v.to_string())
    } else {
        Err(invalid(name))
    }
}

pub(crate) fn is_time14(v: &str) -> bool {
    if v.len() != 14 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let n = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(99);
    is_date8(&v[..8]) && n(8..10) < 24 && n(10..12) < 60 && n(12..14) < 60
}

/// `yyyyMMdd` with a plausible month and day.
pub(crate) fn is_date8(v: &str) -> bool {
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let n = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(0);
    (1..=12).contains(&n(4..6)) && (1..=31).contains(&n(6..8)) && n(0..4) >= 2000
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Shared fixtures for the endpoint unit tests.
    use super::*;

    pub const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    pub fn merchant(t: SignType) -> Merchant {
        Merchant {
            appid: "wxd930ea5d5a258f4f".into(),
            mch_id: "10000100".into(),
            sub_appid: None,
            sub_mch_id: None,
            key: ApiKey::new(KEY).unwrap(),
            sign_type: t,
        }
    }

    /// A signed reply with the merchant echo fields and `extra`.
    pub fn reply(m: &Merchant, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut f: Vec<(&str, &str)> = vec![
            ("return_code", "SUCCESS"),
            ("return_msg", "OK"),
            ("appid", &m.appid),
            ("mch_id", &m.mch_id),
            ("nonce_str", "5K8264ILTKCH16CQ"),
        ];
        if let Some(s) = &m.sub_mch_id {
            f.push(("sub_mch_id", s));
        }
        f.extend_from_slice(extra);
        signed_xml(f.iter().copied(), &m.key, m.sign_type).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;

    #[test]
    fn classify_matches_the_table() {
        let table: &[(&[&str], ErrClass)] = &[
            (
                &["SYSTEMERROR", "BANKERROR", "USERPAYING"],
                ErrClass::Unknown,
            ),
            (
                &[
                    "AUTHCODEEXPIRE",
                    "AUTH_CODE_ERROR",
                    "AUTH_CODE_INVALID",
                    "NOTENOUGH",
                    "NOTSUPORTCARD",
                    "BUYER_MISMATCH",
                ],
                ErrClass::Rescan,
            ),
            (
                &["TRADE_ERROR", "ORDERCLOSED", "ORDERREVERSED"],
                ErrClass::Failed,
            ),
            (&["ORDERPAID", "OUT_TRADE_NO_USED"], ErrClass::Duplicate),
            (
                &[
                    "PARAM_ERROR",
                    "NOAUTH",
                    "XML_FORMAT_ERROR",
                    "REQUIRE_POST_METHOD",
                    "SIGNERROR",
                    "LACK_PARAMS",
                    "NOT_UTF8",
                    "APPID_NOT_EXIST",
                    "MCHID_NOT_EXIST",
                    "APPID_MCHID_NOT_MATCH",
                    "INVALID_REQUEST",
                    "POST_DATA_EMPTY",
                ],
                ErrClass::Setup,
            ),
            (
                &["", "NEW_CODE", "systemerror", "NOTSUPPORTCARD"],
                ErrClass::Unknown,
            ),
        ];
        for (codes, class) in table {
            for c in *codes {
                assert_eq!(classify(c), *class, "{c}");
            }
        }
    }

    #[test]
    fn strict_integers() {
        for (s, want) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("01", None),
            ("+1", None),
            ("-1", None),
            ("1.0", None),
            (" 1", None),
            ("", None),
            ("１", None),
        ] {
            assert_eq!(parse_uint(s), want, "{s:?}");
        }
    }

    #[test]
    fn dates_and_times() {
        assert!(is_date8("20250131") && !is_date8("20251301") && !is_date8("2025013"));
        assert!(is_time14("20250131235959") && !is_time14("20250131245959"));
        assert!(!is_time14("2025013123595x"));
    }

    #[test]
    fn base_request_fields_and_checks() {
        let mut m = merchant(SignType::HmacSha256);
        let body = Body::new(&m, "abc").unwrap().finish();
        let f = xml::decode(body.as_bytes()).unwrap();
        assert_eq!(f.get("sign_type"), Some("HMAC-SHA256"));
        assert!(sign::verify(
            f.iter(),
            &m.key,
            m.sign_type,
            f.get("sign").unwrap()
        ));
        m.sign_type = SignType::Md5;
        let f = xml::decode(Body::new(&m, "abc").unwrap().finish().as_bytes()).unwrap();
        assert_eq!(f.get("sign_type"), None);
        let bad: &[(&str, RequestError)] = &[
            ("", RequestError::Empty { field: "nonce_str" }),
            (
                "a b",
                RequestError::BadChars {
                    field: "nonce_str",
                    allowed: "printable ASCII without spaces",
                },
            ),
            (
                &"x".repeat(33),
                RequestError::TooLong {
                    field: "nonce_str",
                    len: 33,
                    max: 32,
                },
            ),
        ];
        for (nonce, want) in bad {
            assert_eq!(Body::new(&m, nonce).err().as_ref(), Some(want));
        }
        m.sub_appid = Some("wxsub".into());
        assert_eq!(
            Body::new(&m, "n").err(),
            Some(RequestError::SubAppidWithoutSubMch)
        );
    }

    #[test]
    fn request_errors_exist_in_both_languages() {
        let all = [
            RequestError::Empty { field: "body" },
            RequestError::TooLong {
                field: "body",
                len: 200,
                max: 127,
            },
            RequestError::BadChars {
                field: "out_trade_no",
                allowed: ID_ALPHABET,
            },
            RequestError::ZeroAmount { field: "total_fee" },
            RequestError::RefundOverTotal,
            RequestError::BadDate { field: "bill_date" },
            RequestError::SubAppidWithoutSubMch,
        ];
        for e in all {
            assert!(!e.to_string().is_empty() && !e.zh().is_empty());
        }
    }

    #[test]
    fn verify_reply_steps() {
        let m = merchant(SignType::Md5);
        let ok = reply(&m, &[("result_code", "SUCCESS")]);
        assert!(verify_reply(&ok, &m).unwrap().1.is_ok());
        let fail = reply(
            &m,
            &[
                ("result_code", "FAIL"),
                ("err_code", "USERPAYING"),
                ("err_code_des", "需要用户输入支付密码\u{1}"),
            ],
        );
        let biz = verify_reply(&fail, &m).unwrap().1.unwrap_err();
        assert_eq!(biz.class, ErrClass::Unknown);
        assert_eq!(biz.err_code_des, "需要用户输入支付密码?");
        let no_result = reply(&m, &[]);
        assert_eq!(
            verify_reply(&no_result, &m).unwrap_err(),
            missing("result_code")
        );
        let fail_no_code = reply(&m, &[("result_code", "FAIL")]);
        assert_eq!(
            verify_reply(&fail_no_code, &m).unwrap_err(),
            missing("err_code")
        );
        let proto = xml::encode([("return_code", "FAIL"), ("return_msg", "签名错误")]);
        let e = verify_reply(proto.as_bytes(), &m).unwrap_err();
        assert!(!e.outcome_unknown());
        assert_eq!(
            e,
            ReplyError::ProtocolFail {
                return_msg: "签名错误".into()
            }
        );
        let odd = xml::encode([("return_code", "MAYBE")]);
        assert_eq!(
            verify_reply(odd.as_bytes(), &m).unwrap_err(),
            invalid("return_code")
        );
    }

    #[test]
    fn signed_xml_verifies() {
        let m = merchant(SignType::Md5);
        let doc = signed_xml([("a", "1"), ("b", "")], &m.key, m.sign_type);
        let f = xml::decode(doc.as_bytes()).unwrap();
        assert!(sign::verify(
            f.iter(),
            &m.key,
            m.sign_type,
            f.get("sign").unwrap()
        ));
    }
}
