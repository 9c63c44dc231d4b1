//! Reply parsers on arbitrary bytes with fixed requests and merchants: never panic, and any
//! `Ok(Reply)` (a paid result above all) only when the bytes carry a valid signature, checked
//! independently with `wxpay::sign::verify` on the decoded fields. Each decodable input is also
//! re-signed with the merchant key and parsed again, so the checks behind the signature gate
//! (echoes, amounts, coupons, refund lists) are reached too; a re-signed reply must never be
//! refused as badly signed.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use paycode::authcode::AuthCode;
use paycode::money::Fen;
use paycode::wxpay::api::{
    Merchant, MicropayRequest, OrderQueryRequest, OrderRef, RefundQueryRequest, RefundRef, Reply,
    ReplyError, ReverseRequest, TradeState, parse_downloadbill, parse_micropay, parse_orderquery,
    parse_refundquery, parse_reverse, signed_xml,
};
use paycode::wxpay::sign::{self, ApiKey, SignType};
use paycode::wxpay::xml::{self, Fields};

/// The documented test key (docs/protocol.md §2 example), as in tests/protocol_replies.rs.
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

struct Fixture {
    merchants: Vec<Merchant>,
    micropay: MicropayRequest,
    orderqueries: Vec<OrderQueryRequest>,
    reverse: ReverseRequest,
    refundqueries: Vec<RefundQueryRequest>,
}

static FIX: LazyLock<Fixture> = LazyLock::new(|| {
    let key = ApiKey::new(KEY).expect("test key");
    let base = Merchant {
        appid: "wxd930ea5d5a258f4f".into(),
        mch_id: "10000100".into(),
        sub_appid: None,
        sub_mch_id: None,
        key,
        sign_type: SignType::Md5,
    };
    let hmac = Merchant {
        sign_type: SignType::HmacSha256,
        ..base.clone()
    };
    let sp = Merchant {
        sub_appid: Some("wx8888888888888888".into()),
        sub_mch_id: Some("1900000109".into()),
        ..base.clone()
    };
    Fixture {
        merchants: vec![base, hmac, sp],
        micropay: MicropayRequest {
            out_trade_no: "20250131120000-0001".into(),
            total_fee: Fen(2500),
            auth_code: AuthCode::parse("134567890123454321").expect("test code"),
            body: "好味道-南山店-午餐".into(),
            spbill_create_ip: "10.0.0.8".parse().expect("test ip"),
            device_info: Some("TILL-3".into()),
            attach: Some("桌号 7 & 外带".into()),
            goods_tag: None,
            no_credit: false,
        },
        orderqueries: vec![
            OrderQueryRequest {
                order: OrderRef::OutTradeNo("20250131120000-0001".into()),
                expect_total_fee: Some(Fen(2500)),
                expect_attach: None,
            },
            OrderQueryRequest {
                order: OrderRef::TransactionId("4200002345202501311234567890".into()),
                expect_total_fee: None,
                expect_attach: None,
            },
        ],
        reverse: ReverseRequest {
            order: OrderRef::OutTradeNo("20250131120000-0001".into()),
        },
        refundqueries: vec![
            RefundQueryRequest {
                by: RefundRef::OutTradeNo("20250131120000-0001".into()),
            },
            RefundQueryRequest {
                by: RefundRef::OutRefundNo("R20250131-0001".into()),
            },
        ],
    }
});

/// Longest run of consecutive ASCII digits in `s`.
fn longest_digit_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for b in s.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// The invariants every parser shares, for one reply to `body` under merchant `m`.
fn check<T>(body: &[u8], m: &Merchant, r: &Result<Reply<T>, ReplyError>, resigned: bool) {
    match r {
        Ok(reply) => {
            // Trusted only if the bytes themselves decode and carry a valid signature.
            let f = xml::decode(body).expect("an accepted reply must decode");
            let given = f.get("sign").unwrap_or("");
            assert!(
                !given.is_empty() && sign::verify(f.iter(), &m.key, m.sign_type, given),
                "reply accepted without a valid signature"
            );
            assert!(reply.fields == f, "reply fields differ from the document");
            assert_eq!(f.get("return_code"), Some("SUCCESS"));
            assert_eq!(f.get("appid"), Some(m.appid.as_str()));
            assert_eq!(f.get("mch_id"), Some(m.mch_id.as_str()));
            if let Some(sub) = &m.sub_mch_id {
                assert_eq!(f.get("sub_mch_id"), Some(sub.as_str()));
            }
            match &reply.result {
                Ok(_) => assert_eq!(f.get("result_code"), Some("SUCCESS")),
                Err(biz) => {
                    assert_eq!(f.get("result_code"), Some("FAIL"));
                    assert!(longest_digit_run(&biz.err_code_des) < 16);
                }
            }
        }
        Err(e) => {
            if resigned {
                assert!(
                    !matches!(e, ReplyError::BadSignature),
                    "a reply re-signed with the merchant key was refused as badly signed"
                );
            }
            let (en, zh) = (e.to_string(), e.zh());
            assert!(longest_digit_run(&en) < 16, "error leaks digits: {en:?}");
            assert!(longest_digit_run(&zh) < 16, "error leaks digits: {zh:?}");
            let _ = e.outcome_unknown();
        }
    }
}

/// Every parser against every merchant, with the endpoint-specific checks on success.
fn run_all(body: &[u8], only: Option<usize>, resigned: bool) {
    let fx = &*FIX;
    for (i, m) in fx.merchants.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let r = parse_micropay(body, &fx.micropay, m);
        check(body, m, &r, resigned);
        if let Ok(Reply { result: Ok(p), .. }) = &r {
            assert_eq!(p.out_trade_no, fx.micropay.out_trade_no);
            assert_eq!(p.total_fee, fx.micropay.total_fee);
            assert_eq!(p.time_end.len(), 14);
        }
        for q in &fx.orderqueries {
            let r = parse_orderquery(body, q, m);
            check(body, m, &r, resigned);
            if let Ok(Reply { result: Ok(s), .. }) = &r {
                assert_eq!(s.payment.is_some(), s.trade_state.was_paid());
                if let Some(p) = &s.payment {
                    if let OrderRef::OutTradeNo(v) = &q.order {
                        assert_eq!(&p.out_trade_no, v);
                    }
                    if let Some(t) = q.expect_total_fee {
                        assert_eq!(p.total_fee, t);
                    }
                }
                if let TradeState::Other(o) = &s.trade_state {
                    assert!(longest_digit_run(o) < 16);
                }
            }
        }
        let r = parse_reverse(body, &fx.reverse, m);
        check(body, m, &r, resigned);
        if let Ok(reply) = &r {
            let _ = reply.recall();
        }
        for q in &fx.refundqueries {
            let r = parse_refundquery(body, q, m);
            check(body, m, &r, resigned);
            if let Ok(Reply {
                result: Ok(list), ..
            }) = &r
            {
                assert!(list.refunds.len() <= 50);
                if let RefundRef::OutRefundNo(want) = &q.by {
                    assert!(list.refunds.iter().any(|i| &i.out_refund_no == want));
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    run_all(data, None, false);

    // The statement parser (CSV, or a FAIL document): unsigned by design, must not panic.
    if let Ok(bill) = parse_downloadbill(data) {
        assert!(bill.rows.iter().all(|r| r.len() == bill.header.len()));
        assert_eq!(bill.summary.len(), bill.summary_header.len());
        for name in ["应结订单总金额", "手续费总金额"] {
            let _ = bill.summary_amount(name);
        }
        for row in 0..bill.rows.len().min(8) {
            for name in ["应结订单金额", "手续费"] {
                let _ = bill.amount(row, name);
            }
        }
    }

    // Re-sign what decodes, once per merchant (HMAC and service-provider ones included).
    let Ok(f) = xml::decode(data) else { return };
    let unsigned: Fields = f.iter().filter(|(n, _)| *n != "sign").collect();
    for (i, m) in FIX.merchants.iter().enumerate() {
        let doc = signed_xml(unsigned.iter(), &m.key, m.sign_type);
        run_all(doc.as_bytes(), Some(i), true);
    }
});
