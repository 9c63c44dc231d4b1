//! `/secapi/pay/refund` and `/pay/refundquery` (docs/protocol.md §9).

use super::orderquery::OrderRef;
use super::{
    Body, Merchant, Reply, ReplyError, RequestError, check_amount, check_id, check_text,
    check_token, echo, echo_fen, fen, must_equal, opt, opt_count, opt_fen, req, verify_reply,
};
use crate::money::Fen;
use crate::wxpay::xml::Fields;

/// Refund (part of) a paid order. Retry with the same `out_refund_no`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub order: OrderRef,
    /// Merchant refund number: 1–64 of `[0-9A-Za-z_\-|*]`.
    pub out_refund_no: String,
    pub total_fee: Fen,
    pub refund_fee: Fen,
    /// Reason shown to the customer, ≤80 characters.
    pub refund_desc: Option<String>,
}

impl RefundRequest {
    /// Validate and build the signed XML body.
    pub fn to_xml(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        check_id("out_refund_no", &self.out_refund_no, 64)?;
        check_amount("total_fee", self.total_fee)?;
        check_amount("refund_fee", self.refund_fee)?;
        if self.refund_fee > self.total_fee {
            return Err(RequestError::RefundOverTotal);
        }
        if let Some(d) = &self.refund_desc {
            check_text("refund_desc", d, 80, false)?;
        }
        let mut b = Body::new(m, nonce)?;
        self.order.put(&mut b)?;
        b.put("out_refund_no", self.out_refund_no.as_str());
        b.put("total_fee", self.total_fee.0.to_string());
        b.put("refund_fee", self.refund_fee.0.to_string());
        b.opt("refund_desc", self.refund_desc.as_deref());
        Ok(b.finish())
    }
}

/// A refund WeChat accepted (not yet finished: poll refundquery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAccepted {
    pub transaction_id: String,
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_fee: Fen,
    pub total_fee: Fen,
    pub cash_fee: Option<Fen>,
    pub cash_refund_fee: Option<Fen>,
}

/// Verify a refund reply against its request.
pub fn parse_refund(
    body: &[u8],
    r: &RefundRequest,
    m: &Merchant,
) -> Result<Reply<RefundAccepted>, ReplyError> {
    let (f, result) = verify_reply(body, m)?;
    r.order.echo(&f)?;
    echo(&f, "out_refund_no", &r.out_refund_no)?;
    echo_fen(&f, "total_fee", r.total_fee)?;
    echo_fen(&f, "refund_fee", r.refund_fee)?;
    let result = match result {
        Err(biz) => Err(biz),
        Ok(()) => {
            must_equal(&f, "out_refund_no", &r.out_refund_no)?;
            Ok(RefundAccepted {
                transaction_id: super::wechat_id(&f, "transaction_id")?,
                out_trade_no: req(&f, "out_trade_no")?.to_string(),
                out_refund_no: r.out_refund_no.clone(),
                refund_id: super::wechat_id(&f, "refund_id")?,
                refund_fee: fen(&f, "refund_fee")?,
                total_fee: fen(&f, "total_fee")?,
                cash_fee: opt_fen(&f, "cash_fee")?,
                cash_refund_fee: opt_fen(&f, "cash_refund_fee")?,
            })
        }
    };
    Ok(Reply { result, fields: f })
}

/// Which refund(s) to look up, in WeChat's priority order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundRef {
    RefundId(String),
    OutRefundNo(String),
    TransactionId(String),
    OutTradeNo(String),
}

/// Query refund progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundQueryRequest {
    pub by: RefundRef,
    /// By order: the first refund of the page (WeChat lists 10 at a time).
    pub offset: Option<u32>,
}

impl RefundQueryRequest {
    /// Validate and build the signed XML body.
    pub fn to_xml(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        let mut b = Body::new(m, nonce)?;
        let (name, v) = self.pair();
        match &self.by {
            RefundRef::OutRefundNo(_) => check_id(name, v, 64)?,
            RefundRef::OutTradeNo(_) => check_id(name, v, 32)?,
            RefundRef::RefundId(_) | RefundRef::TransactionId(_) => check_token(name, v, 32)?,
        }
        b.put(name, v);
        b.opt("offset", self.offset.map(|o| o.to_string()).as_deref());
        Ok(b.finish())
    }

    fn pair(&self) -> (&'static str, &str) {
        match &self.by {
            RefundRef::RefundId(v) => ("refund_id", v),
            RefundRef::OutRefundNo(v) => ("out_refund_no", v),
            RefundRef::TransactionId(v) => ("transaction_id", v),
            RefundRef::OutTradeNo(v) => ("out_trade_no", v),
        }
    }
}

/// `refund_status_$n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundStatus {
    Success,
    RefundClose,
    Processing,
    /// Refund to the bank card failed; needs manual handling.
    Change,
    Other(String),
}

impl RefundStatus {
    fn from_wire(s: &str) -> Self {
        match s {
            "SUCCESS" => Self::Success,
            "REFUNDCLOSE" => Self::RefundClose,
            "PROCESSING" => Self::Processing,
            "CHANGE" => Self::Change,
            other => Self::Other(crate::wxpay::xml::safe_text(other, 32)),
        }
    }
}

/// One refund of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundItem {
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_fee: Fen,
    pub refund_status: RefundStatus,
    /// `yyyy-MM-dd HH:mm:ss` as sent, when finished.
    pub refund_success_time: Option<String>,
}

/// The refunds of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundList {
    pub transaction_id: Option<String>,
    pub out_trade_no: Option<String>,
    pub total_fee: Option<Fen>,
    pub refunds: Vec<RefundItem>,
    /// `total_refund_count`: the order's refunds in all, when they take more than a page.
    pub total: Option<usize>,
}

/// An order has at most 50 refunds; a larger count is refused rather than looped over.
const MAX_REFUNDS: u64 = 50;

/// Verify a refundquery reply against its request.
pub fn parse_refundquery(
    body: &[u8],
    r: &RefundQueryRequest,
    m: &Merchant,
) -> Result<Reply<RefundList>, ReplyError> {
    let (f, result) = verify_reply(body, m)?;
    let (name, v) = r.pair();
    // out_refund_no / refund_id come back indexed; order ids come back plain.
    match &r.by {
        RefundRef::TransactionId(_) | RefundRef::OutTradeNo(_) => echo(&f, name, v)?,
        RefundRef::RefundId(_) | RefundRef::OutRefundNo(_) => {}
    }
    let result = match result {
        Err(biz) => Err(biz),
        Ok(()) => {
            let list = refund_list(&f)?;
            if let RefundRef::RefundId(want) | RefundRef::OutRefundNo(want) = &r.by {
                let hit = list.refunds.iter().any(|i| match &r.by {
                    RefundRef::RefundId(_) => &i.refund_id == want,
                    _ => &i.out_refund_no == want,
                });
                if !hit {
                    return Err(super::mismatch(name));
                }
            }
            Ok(list)
        }
    };
    Ok(Reply { result, fields: f })
}

fn refund_list(f: &Fields) -> Result<RefundList, ReplyError> {
    let n =
        opt_count(f, "refund_count", MAX_REFUNDS)?.ok_or_else(|| super::missing("refund_count"))?;
    let mut refunds = Vec::with_capacity(n);
    for i in 0..n {
        refunds.push(RefundItem {
            out_refund_no: super::our_id(f, &format!("out_refund_no_{i}"), 64)?,
            refund_id: super::wechat_id(f, &format!("refund_id_{i}"))?,
            refund_fee: fen(f, &format!("refund_fee_{i}"))?,
            refund_status: RefundStatus::from_wire(req(f, &format!("refund_status_{i}"))?),
            refund_success_time: opt(f, &format!("refund_success_time_{i}")),
        });
    }
    Ok(RefundList {
        transaction_id: super::opt_wechat_id(f, "transaction_id")?,
        out_trade_no: super::opt_our_id(f, "out_trade_no", 32)?,
        total_fee: opt_fen(f, "total_fee")?,
        refunds,
        total: opt_count(f, "total_refund_count", MAX_REFUNDS)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{merchant, reply};
    use super::super::{invalid, mismatch, missing};
    use super::*;
    use crate::wxpay::sign::SignType;
    use crate::wxpay::xml;

    fn rr() -> RefundRequest {
        RefundRequest {
            order: OrderRef::OutTradeNo("T1".into()),
            out_refund_no: "R1".into(),
            total_fee: Fen(100),
            refund_fee: Fen(40),
            refund_desc: Some("退货".into()),
        }
    }

    #[test]
    fn refund_request_rules() {
        let m = merchant(SignType::Md5);
        let f = xml::decode(rr().to_xml(&m, "n").unwrap().as_bytes()).unwrap();
        assert_eq!(
            (
                f.get("refund_fee"),
                f.get("total_fee"),
                f.get("refund_desc")
            ),
            (Some("40"), Some("100"), Some("退货"))
        );
        let mut over = rr();
        over.refund_fee = Fen(101);
        assert_eq!(over.to_xml(&m, "n"), Err(RequestError::RefundOverTotal));
        let mut zero = rr();
        zero.refund_fee = Fen(0);
        assert!(zero.to_xml(&m, "n").is_err());
        let mut long = rr();
        long.refund_desc = Some("退".repeat(81));
        assert!(matches!(
            long.to_xml(&m, "n"),
            Err(RequestError::TooLong {
                field: "refund_desc",
                ..
            })
        ));
    }

    #[test]
    fn refund_reply_echoes() {
        let m = merchant(SignType::Md5);
        let good: &[(&str, &str)] = &[
            ("result_code", "SUCCESS"),
            ("transaction_id", "4200"),
            ("out_trade_no", "T1"),
            ("out_refund_no", "R1"),
            ("refund_id", "5030"),
            ("refund_fee", "40"),
            ("total_fee", "100"),
            ("cash_fee", "100"),
        ];
        let ok = parse_refund(&reply(&m, good), &rr(), &m)
            .unwrap()
            .result
            .unwrap();
        assert_eq!((ok.refund_fee, ok.refund_id.as_str()), (Fen(40), "5030"));
        for (name, bad, want) in [
            ("refund_fee", "41", mismatch("refund_fee")),
            ("out_refund_no", "R2", mismatch("out_refund_no")),
            ("total_fee", "1x", invalid("total_fee")),
        ] {
            let f: Vec<(&str, &str)> = good
                .iter()
                .map(|&(n, v)| if n == name { (n, bad) } else { (n, v) })
                .collect();
            assert_eq!(parse_refund(&reply(&m, &f), &rr(), &m).unwrap_err(), want);
        }
    }

    #[test]
    fn refundquery_indexed_fields() {
        let m = merchant(SignType::HmacSha256);
        let q = RefundQueryRequest {
            by: RefundRef::OutTradeNo("T1".into()),
            offset: None,
        };
        let f = xml::decode(q.to_xml(&m, "n").unwrap().as_bytes()).unwrap();
        assert_eq!(f.get("out_trade_no"), Some("T1"));
        let body: &[(&str, &str)] = &[
            ("result_code", "SUCCESS"),
            ("out_trade_no", "T1"),
            ("transaction_id", "4200"),
            ("total_fee", "100"),
            ("refund_count", "2"),
            ("out_refund_no_0", "R1"),
            ("refund_id_0", "5030"),
            ("refund_fee_0", "40"),
            ("refund_status_0", "SUCCESS"),
            ("refund_success_time_0", "2025-01-31 12:00:00"),
            ("out_refund_no_1", "R2"),
            ("refund_id_1", "5031"),
            ("refund_fee_1", "60"),
            ("refund_status_1", "PROCESSING"),
        ];
        let list = parse_refundquery(&reply(&m, body), &q, &m)
            .unwrap()
            .result
            .unwrap();
        assert_eq!(list.refunds.len(), 2);
        assert_eq!(list.total, None, "one page: no total_refund_count");
        // WeChat lists an order's refunds 10 at a time: the next page by offset, and the
        // order's count in total_refund_count.
        let page2 = RefundQueryRequest {
            by: RefundRef::OutTradeNo("T1".into()),
            offset: Some(10),
        };
        let f2 = xml::decode(page2.to_xml(&m, "n").unwrap().as_bytes()).unwrap();
        assert_eq!(f2.get("offset"), Some("10"));
        let mut paged = body.to_vec();
        paged.push(("total_refund_count", "12"));
        let list2 = parse_refundquery(&reply(&m, &paged), &page2, &m)
            .unwrap()
            .result
            .unwrap();
        assert_eq!(list2.total, Some(12));
        assert_eq!(list.refunds[0].refund_status, RefundStatus::Success);
        assert_eq!(list.refunds[1].refund_status, RefundStatus::Processing);
        assert_eq!(list.refunds[1].refund_fee, Fen(60));
        assert_eq!(list.refunds[1].refund_success_time, None);
        // Asked by out_refund_no: it must be in the list.
        let by_r3 = RefundQueryRequest {
            by: RefundRef::OutRefundNo("R3".into()),
            offset: None,
        };
        assert_eq!(
            parse_refundquery(&reply(&m, body), &by_r3, &m).unwrap_err(),
            mismatch("out_refund_no")
        );
        let short: Vec<(&str, &str)> = body
            .iter()
            .filter(|(n, _)| *n != "refund_fee_1")
            .copied()
            .collect();
        assert_eq!(
            parse_refundquery(&reply(&m, &short), &q, &m).unwrap_err(),
            missing("refund_fee_1")
        );
        let huge: Vec<(&str, &str)> = body
            .iter()
            .map(|&(n, v)| {
                if n == "refund_count" {
                    (n, "51")
                } else {
                    (n, v)
                }
            })
            .collect();
        assert_eq!(
            parse_refundquery(&reply(&m, &huge), &q, &m).unwrap_err(),
            invalid("refund_count")
        );
        let other_order: Vec<(&str, &str)> = body
            .iter()
            .map(|&(n, v)| {
                if n == "out_trade_no" {
                    (n, "T2")
                } else {
                    (n, v)
                }
            })
            .collect();
        assert_eq!(
            parse_refundquery(&reply(&m, &other_order), &q, &m).unwrap_err(),
            mismatch("out_trade_no")
        );
    }
}
