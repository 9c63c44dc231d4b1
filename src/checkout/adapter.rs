//! Verified `wxpay::api` replies (or transport failures) → the flow's `Reply`. Pure: the runner
//! parses the body with the endpoint's `parse_*` and hands the result here.
//!
//! The mapping keeps the rule "unknown is a state" (docs/reliability.md §2): anything
//! unverified, unparsable or unexpected becomes `Reply::Unknown`, which the flow answers with a
//! query — never paid, never failed.

use super::flow::{self, Reply};
use crate::wxpay::api::{self, ReplyError};
use crate::wxpay::client::TransportError;

/// The flow's view of a verified payment.
pub fn payment(p: &api::Payment) -> flow::Payment {
    flow::Payment {
        transaction_id: p.transaction_id.clone(),
        total_fee: p.total_fee,
        time_end: p.time_end.clone(),
    }
}

/// A reply that could not be trusted (the `return_code=FAIL` case excepted).
fn untrusted(e: &ReplyError) -> Reply {
    match e {
        ReplyError::ProtocolFail { return_msg } => Reply::ProtocolRejected {
            return_msg: return_msg.clone(),
        },
        other => Reply::Unknown {
            why: other.to_string(),
        },
    }
}

/// A micropay answer. USERPAYING is an unknown outcome with its own first pause (flow docs).
pub fn micropay(r: &Result<api::Reply<api::Payment>, ReplyError>) -> Reply {
    match r {
        Err(e) => untrusted(e),
        Ok(reply) => match &reply.result {
            Ok(p) => Reply::MicropayPaid(payment(p)),
            Err(biz) if biz.err_code == "USERPAYING" => Reply::MicropayFail {
                err_code: "USERPAYING".into(),
                class: flow::ErrClass::Unknown,
            },
            Err(biz) => Reply::MicropayFail {
                err_code: biz.err_code.clone(),
                class: biz.class,
            },
        },
    }
}

/// An orderquery answer. A trade state this build does not know is an unknown outcome.
pub fn orderquery(r: &Result<api::Reply<api::OrderState>, ReplyError>) -> Reply {
    match r {
        // Signed by WeChat, for this number, with another amount or without the sale's tag:
        // another order owns it.
        Err(ReplyError::Mismatch { field }) if field == "total_fee" || field == "attach" => {
            Reply::NotOurs {
                why: format!("orderquery {field} is not this sale's"),
            }
        }
        Err(ReplyError::Missing { field }) if field == "attach" => Reply::NotOurs {
            why: "orderquery paid answer without this sale's tag".into(),
        },
        Err(e) => untrusted(e),
        Ok(reply) => match &reply.result {
            Err(biz) if biz.err_code == "ORDERNOTEXIST" => Reply::QueryNotExist,
            Err(biz) => Reply::QueryError {
                err_code: biz.err_code.clone(),
            },
            Ok(st) => {
                let state = match flow::TradeState::try_from(&st.trade_state) {
                    Ok(state) => state,
                    Err(s) => {
                        return Reply::Unknown {
                            why: format!("orderquery: unknown trade_state {s}"),
                        };
                    }
                };
                Reply::QueryState {
                    state,
                    payment: st.payment.as_ref().map(payment),
                }
            }
        },
    }
}

/// A reverse answer; `recall` is read from FAIL replies too.
pub fn reverse(r: &Result<api::Reply<api::Reversal>, ReplyError>) -> Reply {
    match r {
        Err(e) => untrusted(e),
        Ok(reply) => {
            let recall = reply.recall();
            match &reply.result {
                Ok(_) => Reply::ReverseDone { recall },
                Err(biz) => Reply::ReverseFail {
                    err_code: biz.err_code.clone(),
                    recall,
                },
            }
        }
    }
}

/// No usable HTTP reply: the request may or may not have taken effect.
pub fn transport(e: &TransportError) -> Reply {
    Reply::Unknown { why: e.to_string() }
}

/// A short line for the event log and the tracing log, and the err_code if there is one.
/// Never contains the code, the key or a body.
pub fn describe(r: &Reply) -> (String, Option<String>) {
    let yn = |b: bool| if b { "Y" } else { "N" };
    match r {
        Reply::MicropayPaid(p) => (
            format!("micropay SUCCESS transaction_id={}", p.transaction_id),
            None,
        ),
        Reply::MicropayFail { err_code, .. } => {
            (format!("micropay {err_code}"), Some(err_code.clone()))
        }
        Reply::QueryState { state, payment } => (
            match payment {
                Some(p) => format!(
                    "orderquery {} transaction_id={}",
                    state.as_str(),
                    p.transaction_id
                ),
                None => format!("orderquery {}", state.as_str()),
            },
            None,
        ),
        Reply::QueryNotExist => (
            "orderquery ORDERNOTEXIST".into(),
            Some("ORDERNOTEXIST".into()),
        ),
        Reply::QueryError { err_code } => {
            (format!("orderquery {err_code}"), Some(err_code.clone()))
        }
        Reply::ReverseDone { recall } => (format!("reverse SUCCESS recall={}", yn(*recall)), None),
        Reply::ReverseFail { err_code, recall } => (
            format!("reverse {err_code} recall={}", yn(*recall)),
            Some(err_code.clone()),
        ),
        Reply::ProtocolRejected { return_msg } => (format!("return_code=FAIL {return_msg}"), None),
        Reply::NotOurs { why } => (format!("orderquery not this sale's order: {why}"), None),
        Reply::Unknown { why } => (format!("unknown outcome: {why}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authcode::AuthCode;
    use crate::money::Fen;
    use crate::wxpay::api::testkit::{merchant, reply};
    use crate::wxpay::api::{
        MicropayRequest, OrderQueryRequest, OrderRef, ReverseRequest, parse_micropay,
        parse_orderquery, parse_reverse,
    };
    use crate::wxpay::sign::SignType;
    use crate::wxpay::xml;

    const PAID: &[(&str, &str)] = &[
        ("result_code", "SUCCESS"),
        ("out_trade_no", "T1"),
        ("transaction_id", "4200000001"),
        ("total_fee", "100"),
        ("cash_fee", "100"),
        ("time_end", "20250131120000"),
    ];

    fn fail(code: &str) -> Vec<(&str, &str)> {
        vec![("result_code", "FAIL"), ("err_code", code)]
    }

    fn mp_req() -> MicropayRequest {
        MicropayRequest {
            out_trade_no: "T1".into(),
            total_fee: Fen(100),
            auth_code: AuthCode::parse("134567890123454321").unwrap(),
            body: "b".into(),
            spbill_create_ip: "127.0.0.1".parse().unwrap(),
            device_info: None,
            attach: None,
            goods_tag: None,
            no_credit: false,
        }
    }

    fn mp(fields: &[(&str, &str)]) -> Reply {
        let m = merchant(SignType::Md5);
        micropay(&parse_micropay(&reply(&m, fields), &mp_req(), &m))
    }

    #[test]
    fn micropay_table() {
        let paid = Reply::MicropayPaid(flow::Payment {
            transaction_id: "4200000001".into(),
            total_fee: Fen(100),
            time_end: "20250131120000".into(),
        });
        let fc = |code: &str, class| Reply::MicropayFail {
            err_code: code.into(),
            class,
        };
        let table: Vec<(Vec<(&str, &str)>, Reply)> = vec![
            (PAID.to_vec(), paid),
            (
                fail("USERPAYING"),
                fc("USERPAYING", flow::ErrClass::Unknown),
            ),
            (
                fail("SYSTEMERROR"),
                fc("SYSTEMERROR", flow::ErrClass::Unknown),
            ),
            (fail("BANKERROR"), fc("BANKERROR", flow::ErrClass::Unknown)),
            (fail("NOTENOUGH"), fc("NOTENOUGH", flow::ErrClass::Rescan)),
            (
                fail("AUTHCODEEXPIRE"),
                fc("AUTHCODEEXPIRE", flow::ErrClass::Rescan),
            ),
            (
                fail("TRADE_ERROR"),
                fc("TRADE_ERROR", flow::ErrClass::Failed),
            ),
            (
                fail("ORDERPAID"),
                fc("ORDERPAID", flow::ErrClass::Duplicate),
            ),
            (fail("SIGNERROR"), fc("SIGNERROR", flow::ErrClass::Setup)),
            (fail("BRAND_NEW"), fc("BRAND_NEW", flow::ErrClass::Unknown)),
        ];
        for (fields, want) in table {
            assert_eq!(mp(&fields), want, "{fields:?}");
        }
    }

    #[test]
    fn untrusted_micropay_replies_are_unknown_never_paid() {
        let m = merchant(SignType::Md5);
        // A SUCCESS with a wrong signature (forged or corrupted).
        let mut forged = String::from_utf8(reply(&m, PAID)).unwrap();
        let at = forged.find("<sign>").unwrap() + "<sign>".len();
        forged.replace_range(at..at + 1, "0");
        let forged2 = forged.replacen("<sign>0", "<sign>1", 1);
        for body in [forged.into_bytes(), forged2.into_bytes()] {
            let r = micropay(&parse_micropay(&body, &mp_req(), &m));
            // One of the two edits surely changed the signature.
            assert!(!matches!(r, Reply::MicropayPaid(_)), "{r:?}");
        }
        // An HTML error page, an empty body, a reply for another order.
        let other = reply(&m, &[("result_code", "SUCCESS"), ("out_trade_no", "T2")]);
        for body in [b"<html>502</html>".to_vec(), Vec::new(), other] {
            let r = micropay(&parse_micropay(&body, &mp_req(), &m));
            assert!(matches!(r, Reply::Unknown { .. }), "{r:?}");
        }
        // return_code=FAIL: refused at protocol level.
        let proto = xml::encode([("return_code", "FAIL"), ("return_msg", "签名错误")]);
        assert_eq!(
            micropay(&parse_micropay(proto.as_bytes(), &mp_req(), &m)),
            Reply::ProtocolRejected {
                return_msg: "签名错误".into()
            }
        );
    }

    #[test]
    fn orderquery_table() {
        let m = merchant(SignType::Md5);
        let q = OrderQueryRequest {
            order: OrderRef::OutTradeNo("T1".into()),
            expect_total_fee: Some(Fen(100)),
            expect_attach: None,
        };
        let run =
            |fields: &[(&str, &str)]| orderquery(&parse_orderquery(&reply(&m, fields), &q, &m));
        fn state(s: &str) -> Vec<(&str, &str)> {
            vec![("result_code", "SUCCESS"), ("trade_state", s)]
        }
        for (wire, want) in [
            ("USERPAYING", flow::TradeState::UserPaying),
            ("NOTPAY", flow::TradeState::NotPay),
            ("CLOSED", flow::TradeState::Closed),
            ("REVOKED", flow::TradeState::Revoked),
            ("PAYERROR", flow::TradeState::PayError),
            ("ACCEPT", flow::TradeState::Accept),
        ] {
            assert_eq!(
                run(&state(wire)),
                Reply::QueryState {
                    state: want,
                    payment: None
                }
            );
        }
        let mut paid = PAID.to_vec();
        paid.push(("trade_state", "SUCCESS"));
        match run(&paid) {
            Reply::QueryState {
                state: flow::TradeState::Success,
                payment: Some(p),
            } => assert_eq!(
                (p.total_fee, p.transaction_id.as_str()),
                (Fen(100), "4200000001")
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(run(&state("WEIRD")), Reply::Unknown { .. }));
        assert_eq!(run(&fail("ORDERNOTEXIST")), Reply::QueryNotExist);
        assert_eq!(
            run(&fail("SYSTEMERROR")),
            Reply::QueryError {
                err_code: "SYSTEMERROR".into()
            }
        );
        // A verified paid answer for a different amount is another order under this number:
        // never paid, never reversed.
        let mut wrong_fee: Vec<(&str, &str)> = paid.clone();
        wrong_fee.retain(|(k, _)| *k != "total_fee");
        wrong_fee.push(("total_fee", "99"));
        assert!(matches!(run(&wrong_fee), Reply::NotOurs { .. }));
        // The sale's own tag: a paid answer without it, or with another, is another till's.
        let tagged = |fields: &[(&str, &str)], tag: &str| {
            let q = OrderQueryRequest {
                expect_attach: Some(tag.into()),
                ..q.clone()
            };
            orderquery(&parse_orderquery(&reply(&m, fields), &q, &m))
        };
        let mut ours: Vec<(&str, &str)> = paid.clone();
        ours.push(("attach", "paycode-1"));
        assert!(matches!(
            tagged(&ours, "paycode-1"),
            Reply::QueryState { .. }
        ));
        assert!(matches!(tagged(&ours, "paycode-2"), Reply::NotOurs { .. }));
        assert!(matches!(tagged(&paid, "paycode-1"), Reply::NotOurs { .. }));
        // Unpaid states carry no payment to check.
        assert!(matches!(
            tagged(&state("USERPAYING"), "paycode-1"),
            Reply::QueryState { .. }
        ));
    }

    #[test]
    fn reverse_table() {
        let m = merchant(SignType::Md5);
        let r = ReverseRequest {
            order: OrderRef::OutTradeNo("T1".into()),
        };
        let run = |fields: &[(&str, &str)]| reverse(&parse_reverse(&reply(&m, fields), &r, &m));
        assert_eq!(
            run(&[("result_code", "SUCCESS"), ("recall", "N")]),
            Reply::ReverseDone { recall: false }
        );
        assert_eq!(
            run(&[("result_code", "SUCCESS"), ("recall", "Y")]),
            Reply::ReverseDone { recall: true }
        );
        assert_eq!(
            run(&[
                ("result_code", "FAIL"),
                ("err_code", "USERPAYING"),
                ("recall", "Y")
            ]),
            Reply::ReverseFail {
                err_code: "USERPAYING".into(),
                recall: true
            }
        );
        assert_eq!(
            run(&fail("REVERSE_EXPIRE")),
            Reply::ReverseFail {
                err_code: "REVERSE_EXPIRE".into(),
                recall: false
            }
        );
        assert!(matches!(
            reverse(&parse_reverse(b"garbage", &r, &m)),
            Reply::Unknown { .. }
        ));
    }

    #[test]
    fn transport_failures_are_unknown_and_descriptions_hold_no_code() {
        let e = TransportError::Timeout {
            host: "api.mch.weixin.qq.com".into(),
            after: std::time::Duration::from_secs(10),
        };
        assert!(matches!(transport(&e), Reply::Unknown { .. }));
        let (line, code) = describe(&mp(&fail("NOTENOUGH")));
        assert_eq!(
            (line.as_str(), code.as_deref()),
            ("micropay NOTENOUGH", Some("NOTENOUGH"))
        );
        let (line, _) = describe(&mp(PAID));
        assert!(line.contains("4200000001") && !line.contains("134567890123454321"));
        let (line, _) = describe(&Reply::ReverseDone { recall: true });
        assert_eq!(line, "reverse SUCCESS recall=Y");
    }
}
