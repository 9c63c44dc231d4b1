//! `/pay/orderquery` (docs/protocol.md §6): the state of an order.

use super::micropay::Payment;
use super::{
    Body, Merchant, Reply, ReplyError, RequestError, check_id, check_token, echo, echo_fen,
    must_equal, opt, req, verify_reply,
};
use crate::money::Fen;

/// Which order a query, reverse or refund is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    OutTradeNo(String),
    TransactionId(String),
}

impl OrderRef {
    /// Validate and add the one identifying element.
    pub(crate) fn put(&self, b: &mut Body<'_>) -> Result<(), RequestError> {
        match self {
            Self::OutTradeNo(v) => {
                check_id("out_trade_no", v, 32)?;
                b.put("out_trade_no", v.as_str());
            }
            Self::TransactionId(v) => {
                check_token("transaction_id", v, 32)?;
                b.put("transaction_id", v.as_str());
            }
        }
        Ok(())
    }

    /// The reply must carry back the identifier we asked about, where present.
    pub(crate) fn echo(&self, f: &crate::wxpay::xml::Fields) -> Result<(), ReplyError> {
        match self {
            Self::OutTradeNo(v) => echo(f, "out_trade_no", v),
            Self::TransactionId(v) => echo(f, "transaction_id", v),
        }
    }
}

/// Query one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQueryRequest {
    pub order: OrderRef,
    /// The amount the terminal charged; not sent, but a paid reply must show it.
    pub expect_total_fee: Option<Fen>,
    /// The sale's tag, sent as the micropay's `attach`; not sent here, but a paid reply must
    /// carry it (without it, the order under this number is another till's).
    pub expect_attach: Option<String>,
}

impl OrderQueryRequest {
    /// Validate and build the signed XML body.
    pub fn to_xml(&self, m: &Merchant, nonce: &str) -> Result<String, RequestError> {
        let mut b = Body::new(m, nonce)?;
        self.order.put(&mut b)?;
        Ok(b.finish())
    }
}

/// orderquery `trade_state` as WeChat sent it; the flow narrows it to
/// [`crate::checkout::flow::TradeState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
    Success,
    Refund,
    NotPay,
    Closed,
    Revoked,
    UserPaying,
    PayError,
    Accept,
    /// A state this version does not know: treat as not final.
    Other(String),
}

impl TradeState {
    /// Parse the wire value.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "SUCCESS" => Self::Success,
            "REFUND" => Self::Refund,
            "NOTPAY" => Self::NotPay,
            "CLOSED" => Self::Closed,
            "REVOKED" => Self::Revoked,
            "USERPAYING" => Self::UserPaying,
            "PAYERROR" => Self::PayError,
            "ACCEPT" => Self::Accept,
            other => Self::Other(crate::wxpay::xml::safe_text(other, 32)),
        }
    }

    /// True for states that will not change by waiting (docs/protocol.md §6 table).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Refund | Self::Closed | Self::Revoked | Self::PayError
        )
    }

    /// True when the customer was charged (SUCCESS; REFUND means charged then refunded).
    pub fn was_paid(&self) -> bool {
        matches!(self, Self::Success | Self::Refund)
    }
}

/// A verified order state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    pub trade_state: TradeState,
    pub trade_state_desc: Option<String>,
    pub out_trade_no: Option<String>,
    pub attach: Option<String>,
    /// Present when the order was paid (`SUCCESS` or `REFUND`).
    pub payment: Option<Payment>,
}

/// Verify an orderquery reply against its request.
pub fn parse_orderquery(
    body: &[u8],
    req_: &OrderQueryRequest,
    m: &Merchant,
) -> Result<Reply<OrderState>, ReplyError> {
    let (f, result) = verify_reply(body, m)?;
    req_.order.echo(&f)?;
    if let Some(t) = req_.expect_total_fee {
        echo_fen(&f, "total_fee", t)?;
    }
    let result = match result {
        Err(biz) => Err(biz),
        Ok(()) => {
            let trade_state = TradeState::from_wire(req(&f, "trade_state")?);
            // WeChat promises the payment fields for SUCCESS only: a REFUND reply may carry just
            // the order and its state, and then has no payment to check.
            let bare_refund =
                trade_state == TradeState::Refund && opt(&f, "transaction_id").is_none();
            let payment = if trade_state.was_paid() && !bare_refund {
                if let OrderRef::OutTradeNo(v) = &req_.order {
                    must_equal(&f, "out_trade_no", v)?;
                }
                if let Some(t) = req_.expect_total_fee {
                    // A paid answer without the amount cannot be checked: not trusted.
                    echo_fen(&f, "total_fee", t)?;
                    req(&f, "total_fee")?;
                }
                if let Some(tag) = &req_.expect_attach {
                    must_equal(&f, "attach", tag)?;
                }
                Some(Payment::from_fields(&f)?)
            } else {
                None
            };
            Ok(OrderState {
                trade_state,
                trade_state_desc: opt(&f, "trade_state_desc")
                    .map(|s| crate::wxpay::xml::safe_text(&s, 128)),
                out_trade_no: super::opt_our_id(&f, "out_trade_no", 32)?,
                attach: opt(&f, "attach"),
                payment,
            })
        }
    };
    Ok(Reply { result, fields: f })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{merchant, reply};
    use super::super::{ErrClass, mismatch, missing};
    use super::*;
    use crate::wxpay::sign::SignType;
    use crate::wxpay::xml;

    fn q() -> OrderQueryRequest {
        OrderQueryRequest {
            order: OrderRef::OutTradeNo("T1".into()),
            expect_total_fee: Some(Fen(100)),
            expect_attach: None,
        }
    }

    const PAID: &[(&str, &str)] = &[
        ("result_code", "SUCCESS"),
        ("trade_state", "SUCCESS"),
        ("out_trade_no", "T1"),
        ("transaction_id", "4200000001"),
        ("total_fee", "100"),
        ("cash_fee", "100"),
        ("bank_type", "OTHERS"),
        ("time_end", "20250131120000"),
    ];

    #[test]
    fn request_by_either_id() {
        let m = merchant(SignType::Md5);
        let f = xml::decode(q().to_xml(&m, "n").unwrap().as_bytes()).unwrap();
        assert_eq!(f.get("out_trade_no"), Some("T1"));
        let by_tx = OrderQueryRequest {
            order: OrderRef::TransactionId("4200000001".into()),
            expect_total_fee: None,
            expect_attach: None,
        };
        let f = xml::decode(by_tx.to_xml(&m, "n").unwrap().as_bytes()).unwrap();
        assert_eq!(
            (f.get("transaction_id"), f.get("out_trade_no")),
            (Some("4200000001"), None)
        );
        let bad = OrderQueryRequest {
            order: OrderRef::OutTradeNo("bad no".into()),
            expect_total_fee: None,
            expect_attach: None,
        };
        assert!(bad.to_xml(&m, "n").is_err());
    }

    #[test]
    fn every_trade_state() {
        let m = merchant(SignType::Md5);
        let table = [
            ("SUCCESS", TradeState::Success, true),
            ("REFUND", TradeState::Refund, true),
            ("NOTPAY", TradeState::NotPay, false),
            ("CLOSED", TradeState::Closed, true),
            ("REVOKED", TradeState::Revoked, true),
            ("USERPAYING", TradeState::UserPaying, false),
            ("PAYERROR", TradeState::PayError, true),
            ("ACCEPT", TradeState::Accept, false),
            ("LATER", TradeState::Other("LATER".into()), false),
        ];
        for (wire, state, fin) in table {
            let fields: Vec<(&str, &str)> = PAID
                .iter()
                .map(|&(n, v)| {
                    if n == "trade_state" {
                        (n, wire)
                    } else {
                        (n, v)
                    }
                })
                .collect();
            let s = parse_orderquery(&reply(&m, &fields), &q(), &m)
                .unwrap()
                .result
                .unwrap();
            assert_eq!(s.trade_state, state);
            assert_eq!(s.trade_state.is_final(), fin, "{wire}");
            assert_eq!(s.payment.is_some(), state.was_paid(), "{wire}");
        }
    }

    #[test]
    fn a_refund_reply_may_carry_only_the_order_and_its_state() {
        // WeChat promises the payment fields for SUCCESS only (FAULTS.md row 42).
        let m = merchant(SignType::Md5);
        let bare = [
            ("result_code", "SUCCESS"),
            ("trade_state", "REFUND"),
            ("out_trade_no", "T1"),
        ];
        let s = parse_orderquery(&reply(&m, &bare), &q(), &m)
            .unwrap()
            .result
            .unwrap();
        assert_eq!((s.trade_state, s.payment), (TradeState::Refund, None));
        // SUCCESS without them is not trusted.
        let success = [
            ("result_code", "SUCCESS"),
            ("trade_state", "SUCCESS"),
            ("out_trade_no", "T1"),
        ];
        assert!(parse_orderquery(&reply(&m, &success), &q(), &m).is_err());
    }

    #[test]
    fn paid_state_is_matched_to_the_order() {
        let m = merchant(SignType::HmacSha256);
        fn edit(name: &'static str, v: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
            PAID.iter()
                .filter(|(n, _)| *n != name)
                .copied()
                .chain(v.map(|v| (name, v)))
                .collect::<Vec<_>>()
        }
        let cases = [
            (edit("total_fee", Some("99")), mismatch("total_fee")),
            (edit("total_fee", None), missing("total_fee")),
            (edit("out_trade_no", Some("T2")), mismatch("out_trade_no")),
            (edit("out_trade_no", None), missing("out_trade_no")),
            (edit("trade_state", None), missing("trade_state")),
        ];
        for (fields, want) in cases {
            let fields: Vec<(&str, &str)> = fields.iter().map(|&(a, b)| (a, b)).collect();
            assert_eq!(
                parse_orderquery(&reply(&m, &fields), &q(), &m).unwrap_err(),
                want
            );
        }
    }

    #[test]
    fn order_not_exist_is_a_business_failure() {
        let m = merchant(SignType::Md5);
        let body = reply(
            &m,
            &[("result_code", "FAIL"), ("err_code", "ORDERNOTEXIST")],
        );
        let biz = parse_orderquery(&body, &q(), &m)
            .unwrap()
            .result
            .unwrap_err();
        assert_eq!(
            (biz.err_code.as_str(), biz.class),
            ("ORDERNOTEXIST", ErrClass::Unknown)
        );
    }
}
