//! `/pay/downloadbill` (docs/protocol.md §10): the next-day statement, CSV text (unsigned).

use super::{Body, Merchant, ReplyError, RequestError, check_token, invalid, is_date8};
use crate::money::Fen;
use crate::wxpay::xml;

/// Which trades the statement lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillType {
    All,
    Success,
    Refund,
}

impl BillType {
    /// The wire value of `bill_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "ALL",
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
        }
    }
}

/// Fetch the statement of one day (plain text; we never ask for GZIP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadBillRequest {
    /// `yyyyMMdd`, Beijing date.
    pub bill_date: String,
    pub bill_type: BillType,
    /// Only this terminal's trades.
    pub device_info: Option<String>,
}

impl DownloadBillRequest {
    /// Validate and build the signed XML body.
    pub fn to_xml(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        if !is_date8(&self.bill_date) {
            return Err(RequestError::BadDate { field: "bill_date" });
        }
        if let Some(d) = &self.device_info {
            check_token("device_info", d, 32)?;
        }
        let mut b = Body::new(m, nonce)?;
        b.put("bill_date", self.bill_date.as_str());
        b.put("bill_type", self.bill_type.as_str());
        b.opt("device_info", self.device_info.as_deref());
        Ok(b.finish())
    }
}

/// A parsed statement: back-ticks stripped, values kept as text; amounts via [`Bill::amount`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub summary_header: Vec<String>,
    pub summary: Vec<String>,
}

impl Bill {
    /// Index of a column of the trade rows by its (Chinese) header name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// An amount of trade row `row` in column `name`, as fen.
    pub fn amount(&self, row: usize, name: &str) -> Result<Fen, ReplyError> {
        let v = self
            .column(name)
            .and_then(|c| self.rows.get(row)?.get(c))
            .ok_or_else(|| super::missing(name))?;
        yuan_to_fen(v).ok_or_else(|| invalid(name))
    }

    /// A value of the summary row by its header name.
    pub fn summary_value(&self, name: &str) -> Option<&str> {
        let i = self.summary_header.iter().position(|h| h == name)?;
        self.summary.get(i).map(String::as_str)
    }

    /// An amount of the summary row, as fen.
    pub fn summary_amount(&self, name: &str) -> Result<Fen, ReplyError> {
        let v = self
            .summary_value(name)
            .ok_or_else(|| super::missing(name))?;
        yuan_to_fen(v).ok_or_else(|| invalid(name))
    }
}

/// A statement amount (`0.01`, `12`, `0.00`) as fen; zero allowed, at most two decimals.
pub fn yuan_to_fen(s: &str) -> Option<Fen> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return None;
    }
    if s.bytes().all(|b| b == b'0' || b == b'.') {
        return Some(Fen(0));
    }
    Fen::parse_order(s).ok()
}

pub use crate::wxpay::endpoint::MAX_BILL;

/// Parse a downloadbill reply: CSV on success, `return_code=FAIL` XML otherwise
/// ("No Bill Exist", "Bill Creating") as [`ReplyError::ProtocolFail`].
pub fn parse_downloadbill(body: &[u8]) -> Result<Bill, ReplyError> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"<") {
        let f = xml::decode(body)?;
        return Err(match f.get("return_code") {
            Some("FAIL") => ReplyError::ProtocolFail {
                return_msg: xml::safe_text(f.get("return_msg").unwrap_or(""), 128),
            },
            _ => invalid("return_code"),
        });
    }
    if body.len() > MAX_BILL {
        return Err(xml::XmlError::TooLarge {
            len: body.len(),
            cap: MAX_BILL,
        }
        .into());
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ReplyError::Xml(xml::XmlError::InvalidUtf8 {
            at: e.valid_up_to(),
            excerpt: xml::excerpt(body, e.valid_up_to()),
        })
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_plain(lines.next().ok_or_else(|| super::missing("bill header"))?);
    let mut rows = Vec::new();
    let mut summary_header = None;
    for line in lines.by_ref() {
        if line.starts_with('`') {
            rows.push(split_ticked(line));
        } else {
            summary_header = Some(split_plain(line));
            break;
        }
    }
    let summary_header = summary_header.ok_or_else(|| super::missing("bill summary"))?;
    let summary = match lines.next() {
        Some(l) if l.starts_with('`') => split_ticked(l),
        _ => return Err(super::missing("bill summary row")),
    };
    if lines.next().is_some() {
        return Err(invalid("bill trailing lines"));
    }
    if rows.iter().any(|r| r.len() != header.len()) {
        return Err(invalid("bill row width"));
    }
    if summary.len() != summary_header.len() {
        return Err(invalid("bill summary width"));
    }
    Ok(Bill {
        header,
        rows,
        summary_header,
        summary,
    })
}

fn split_plain(line: &str) -> Vec<String> {
    line.trim_end_matches('\r')
        .split(',')
        .map(|s| s.trim().to_string())
        .collect()
}

/// Every value starts with a back-tick, so split on ",`" (values may contain commas).
fn split_ticked(line: &str) -> Vec<String> {
    let line = line.trim_end_matches('\r');
    line.strip_prefix('`')
        .unwrap_or(line)
        .split(",`")
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::merchant;
    use super::*;
    use crate::wxpay::sign::SignType;

    const BILL: &str = "\u{feff}交易时间,公众账号ID,商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率\r\n\
`2025-01-31 12:00:01,`wxd930ea5d5a258f4f,`10000100,`POS-01,`4200000001,`T1,`oUpF8u,`MICROPAY,`SUCCESS,`CMB_CREDIT,`CNY,`12.34,`0.00,`品牌-门店,饮料,`,`0.07,`0.60%\r\n\
`2025-01-31 12:05:00,`wxd930ea5d5a258f4f,`10000100,`POS-01,`4200000002,`T2,`oUpF8v,`MICROPAY,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`零钱,`,`0.00,`0.60%\r\n\
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\
`2,`12.35,`0.00,`0.00,`0.07,`12.35,`0.00\r\n";

    #[test]
    fn parses_a_statement() {
        let b = parse_downloadbill(BILL.as_bytes()).unwrap();
        assert_eq!(b.rows.len(), 2);
        assert_eq!(b.header[0], "交易时间");
        assert_eq!(b.rows[0][5], "T1");
        assert_eq!(b.rows[0][13], "品牌-门店,饮料");
        assert_eq!(b.amount(0, "应结订单金额"), Ok(Fen(1234)));
        assert_eq!(b.amount(1, "应结订单金额"), Ok(Fen(1)));
        assert_eq!(b.amount(1, "手续费"), Ok(Fen(0)));
        assert_eq!(b.summary_value("总交易单数"), Some("2"));
        assert_eq!(b.summary_amount("应结订单总金额"), Ok(Fen(1235)));
        assert!(b.amount(0, "费率").is_err());
    }

    #[test]
    fn failure_is_xml() {
        let body = xml::encode([("return_code", "FAIL"), ("return_msg", "No Bill Exist")]);
        assert_eq!(
            parse_downloadbill(body.as_bytes()),
            Err(ReplyError::ProtocolFail {
                return_msg: "No Bill Exist".into()
            })
        );
        assert!(parse_downloadbill(b"<xml><a>").is_err());
    }

    #[test]
    fn malformed_statements() {
        for bad in [
            "",
            "a,b\n`1,`2\n",
            "a,b\n`1,`2\nx,y\n",
            "a,b\n`1\nx\n`1\n",
            "a,b\n`1,`2\nx\n`1,`2\n",
            "a,b\n`1,`2\nx\n`1\nmore\n",
        ] {
            assert!(parse_downloadbill(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(parse_downloadbill(b"a\n`\xff\nx\n`1\n").is_err());
    }

    #[test]
    fn yuan_amounts_without_floats() {
        for (s, want) in [
            ("0.01", Some(1)),
            ("0.00", Some(0)),
            ("0", Some(0)),
            ("12.3", Some(1230)),
            ("12.34", Some(1234)),
            ("0.001", None),
            ("-1.00", None),
            ("1e2", None),
            ("", None),
            (".5", None),
        ] {
            assert_eq!(yuan_to_fen(s), want.map(Fen), "{s:?}");
        }
    }

    #[test]
    fn request_rules() {
        let m = merchant(SignType::Md5);
        let r = DownloadBillRequest {
            bill_date: "20250131".into(),
            bill_type: BillType::Success,
            device_info: Some("POS-01".into()),
        };
        let f = xml::decode(r.to_xml(&m, "n").unwrap().as_bytes()).unwrap();
        assert_eq!(
            (f.get("bill_date"), f.get("bill_type"), f.get("tar_type")),
            (Some("20250131"), Some("SUCCESS"), None)
        );
        for d in ["2025-01-31", "20251331", "2025013", ""] {
            let bad = DownloadBillRequest {
                bill_date: d.into(),
                ..r.clone()
            };
            assert_eq!(
                bad.to_xml(&m, "n"),
                Err(RequestError::BadDate { field: "bill_date" })
            );
        }
    }
}
