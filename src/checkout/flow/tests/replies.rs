//! Table-driven: every micropay error class and every orderquery trade state.

use super::*;

/// Queries at 2, 7, …, 27 s after an unknown micropay outcome; its order was never proven this
/// sale's, so from the deadline (30 s) it is queried instead of reversed, every 5 s until
/// `unproven_wait` (60 s).
fn unknown_until_unproven_wait() -> Vec<(u64, Request)> {
    let mut requests = vec![(0, M)];
    requests.extend((0..6).map(|i| (2000 + i * 5000, Q)));
    requests.extend((0..7).map(|i| (30_000 + i * 5000, Q)));
    requests
}

/// An unresolved ending; the table compares the variant only (the reason is prose).
fn unresolved() -> Final {
    Final::Unresolved { why: String::new() }
}

#[test]
fn every_micropay_answer() {
    let system_error = || Reply::QueryError {
        err_code: "SYSTEMERROR".into(),
    };
    let cases: Vec<Case> = vec![
        (
            "SUCCESS is paid at once",
            Script::micropay(paid()),
            vec![(0, M)],
            Final::Paid(payment(FEE)),
        ),
        (
            "SUCCESS for another amount is a mismatch: query decides",
            Script::micropay(Reply::MicropayPaid(payment(Fen(1))))
                .queries(vec![state(TradeState::Success)]),
            vec![(0, M), (2000, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            "USERPAYING then paid on the third query",
            Script::micropay(fail("USERPAYING", ErrClass::Unknown)).queries(vec![
                state(TradeState::UserPaying),
                state(TradeState::UserPaying),
                state(TradeState::Success),
            ]),
            vec![(0, M), (5000, Q), (10_000, Q), (15_000, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            "USERPAYING and never paid: reverse at the deadline",
            Script::micropay(fail("USERPAYING", ErrClass::Unknown)),
            userpaying_until_reverse(),
            Final::Reversed { refunded: false },
        ),
        (
            "SYSTEMERROR, every query SYSTEMERROR: never reversed (not proven), unresolved",
            Script::micropay(fail("SYSTEMERROR", ErrClass::Unknown)).queries(vec![system_error()]),
            unknown_until_unproven_wait(),
            unresolved(),
        ),
        (
            "BANKERROR then queries fail in transport: unresolved",
            Script::micropay(fail("BANKERROR", ErrClass::Unknown))
                .queries(vec![unknown("timeout")]),
            unknown_until_unproven_wait(),
            unresolved(),
        ),
        (
            "an unlisted err_code is unknown, never success; NOTPAY until WeChat revokes it",
            Script::micropay(fail("SOMETHING_NEW", ErrClass::Unknown)).queries(
                std::iter::repeat_n(state(TradeState::NotPay), 12)
                    .chain([state(TradeState::Revoked)])
                    .collect(),
            ),
            unknown_until_unproven_wait(),
            failed("REVOKED", false),
        ),
        (
            "transport failure on micropay: query, never a second micropay",
            Script::micropay(unknown("read timeout")).queries(vec![state(TradeState::Success)]),
            vec![(0, M), (2000, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            "ORDERPAID: another order's number, never queried or adopted",
            Script::micropay(fail("ORDERPAID", ErrClass::Duplicate))
                .queries(vec![state(TradeState::Success)]),
            vec![(0, M)],
            failed("ORDERPAID", false),
        ),
        (
            "OUT_TRADE_NO_USED: not charged, never queried or reversed",
            Script::micropay(fail("OUT_TRADE_NO_USED", ErrClass::Duplicate))
                .queries(vec![state(TradeState::Closed)]),
            vec![(0, M)],
            failed("OUT_TRADE_NO_USED", false),
        ),
        (
            "a verified query for another amount: the number is taken, never reversed",
            Script::micropay(unknown("read timeout")).queries(vec![Reply::NotOurs {
                why: "orderquery total_fee differs".into(),
            }]),
            vec![(0, M), (2000, Q)],
            failed("OUT_TRADE_NO_USED", false),
        ),
        (
            "RESCAN: failed with the rescan hint",
            Script::micropay(fail("AUTHCODEEXPIRE", ErrClass::Rescan)),
            vec![(0, M)],
            failed("AUTHCODEEXPIRE", true),
        ),
        (
            "FAILED: failed, no rescan hint",
            Script::micropay(fail("TRADE_ERROR", ErrClass::Failed)),
            vec![(0, M)],
            failed("TRADE_ERROR", false),
        ),
        (
            "SETUP: one query finds no order, failed",
            Script::micropay(fail("SIGNERROR", ErrClass::Setup))
                .queries(vec![Reply::QueryNotExist]),
            vec![(0, M), (0, Q)],
            failed("SIGNERROR", false),
        ),
        (
            "SETUP: an unsigned refusal of the query proves nothing; asked again until verified",
            Script::micropay(fail("NOAUTH", ErrClass::Setup)).queries(vec![
                Reply::ProtocolRejected {
                    return_msg: "签名错误".into(),
                },
                Reply::QueryNotExist,
            ]),
            vec![(0, M), (0, Q), (2000, Q)],
            failed("NOAUTH", false),
        ),
        (
            "SETUP but the query shows a live order: normal polling",
            Script::micropay(fail("LACK_PARAMS", ErrClass::Setup)).queries(vec![
                state(TradeState::UserPaying),
                unknown("timeout"),
                state(TradeState::Success),
            ]),
            vec![(0, M), (0, Q), (5000, Q), (10_000, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            "return_code=FAIL then an unanswered query: open, asked again, failed once verified",
            Script::micropay(Reply::ProtocolRejected {
                return_msg: "XML格式错误".into(),
            })
            .queries(vec![unknown("connection reset"), Reply::QueryNotExist]),
            vec![(0, M), (0, Q), (2000, Q)],
            failed("XML格式错误", false),
        ),
        (
            "a reply of the wrong kind is an unknown outcome",
            Script::micropay(Reply::ReverseDone { recall: false })
                .queries(vec![state(TradeState::Success)]),
            vec![(0, M), (2000, Q)],
            Final::Paid(payment(FEE)),
        ),
    ];
    for (name, script, requests, outcome) in cases {
        let run = run(script);
        assert_eq!(run.requests, requests, "{name}");
        if matches!(outcome, Final::Unresolved { .. }) {
            assert!(
                matches!(run.outcome, Final::Unresolved { .. }),
                "{name}: {:?}",
                run.outcome
            );
        } else {
            assert_eq!(run.outcome, outcome, "{name}");
        }
        assert_eq!(run.sale.outcome(), Some(&run.outcome), "{name}");
    }
}

#[test]
fn an_unverified_refusal_never_ends_not_charged() {
    // FAULTS.md row 30: an unsigned return_code=FAIL, then nothing answers: queried until
    // unproven_wait, never reversed (nothing proves the order this sale's), unresolved — "not
    // charged" is said only on a verified answer.
    let run = run(Script::micropay(Reply::ProtocolRejected {
        return_msg: "XML格式错误".into(),
    })
    .queries(vec![unknown("HTTP 502")])
    .reverses(vec![unknown("HTTP 502")])
    .confirms(vec![unknown("HTTP 502")]));
    assert!(
        matches!(run.outcome, Final::Unresolved { .. }),
        "{:?}",
        run.outcome
    );
    assert!(count(&run, Q) >= 2, "{:?}", run.requests);
    assert_eq!(count(&run, R), 0, "{:?}", run.requests);
}

#[test]
fn every_trade_state_after_userpaying() {
    let then_paid = |s| vec![state(s), state(TradeState::Success)];
    let cases: Vec<(TradeState, Vec<Reply>, Requests, Final)> = vec![
        (
            TradeState::Success,
            vec![state(TradeState::Success)],
            vec![(0, M), (5000, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            TradeState::Refund,
            vec![state(TradeState::Refund)],
            vec![(0, M), (5000, Q)],
            Final::Reversed { refunded: true },
        ),
        (
            TradeState::Closed,
            vec![state(TradeState::Closed)],
            vec![(0, M), (5000, Q)],
            failed("CLOSED", false),
        ),
        (
            TradeState::Revoked,
            vec![state(TradeState::Revoked)],
            vec![(0, M), (5000, Q)],
            failed("REVOKED", false),
        ),
        (
            // Not charged, but the loop is closed with a reverse (not before 15 s).
            TradeState::PayError,
            vec![state(TradeState::PayError)],
            vec![(0, M), (5000, Q), (15_000, R), (15_000, Q)],
            failed("PAYERROR", false),
        ),
        (
            TradeState::NotPay,
            then_paid(TradeState::NotPay),
            vec![(0, M), (5000, Q), (10_000, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            TradeState::UserPaying,
            then_paid(TradeState::UserPaying),
            vec![(0, M), (5000, Q), (10_000, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            TradeState::Accept,
            then_paid(TradeState::Accept),
            vec![(0, M), (5000, Q), (10_000, Q)],
            Final::Paid(payment(FEE)),
        ),
    ];
    for (trade_state, queries, requests, outcome) in cases {
        let name = trade_state.as_str();
        let wire = crate::wxpay::api::TradeState::from_wire(name);
        assert_eq!(TradeState::try_from(&wire), Ok(trade_state));
        let run = run(Script::micropay(fail("USERPAYING", ErrClass::Unknown)).queries(queries));
        assert_eq!(run.requests, requests, "{name}");
        assert_eq!(run.outcome, outcome, "{name}");
    }
    let odd = crate::wxpay::api::TradeState::from_wire("SUCCESS ");
    assert!(TradeState::try_from(&odd).is_err());
}

#[test]
fn paid_after_payerror_reverse_is_a_refund() {
    // PAYERROR, but the query after the closing reverse says the money was refunded.
    let run = run(Script::micropay(fail("USERPAYING", ErrClass::Unknown))
        .queries(vec![state(TradeState::PayError)])
        .confirms(vec![state(TradeState::Refund)]));
    assert_eq!(run.outcome, Final::Reversed { refunded: true });
}

#[test]
fn query_errors_keep_polling_until_the_deadline() {
    // USERPAYING, then every query fails: SYSTEMERROR, garbage, refused, wrong reply kind.
    let run = run(
        Script::micropay(fail("USERPAYING", ErrClass::Unknown)).queries(vec![
            Reply::QueryError {
                err_code: "SYSTEMERROR".into(),
            },
            unknown("unparsable body"),
            Reply::ProtocolRejected {
                return_msg: "system busy".into(),
            },
            Reply::ReverseDone { recall: false },
            unknown("bad signature"),
        ]),
    );
    assert_eq!(run.requests, userpaying_until_reverse());
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
}

#[test]
fn what_one_query_settles_by_hand() {
    use crate::checkout::flow::settled_by_query;
    assert_eq!(
        settled_by_query(&success_with(FEE), FEE, true),
        Some(Final::Paid(payment(FEE)))
    );
    assert_eq!(
        settled_by_query(&success_with(Fen(1)), FEE, true),
        None,
        "another amount"
    );
    assert_eq!(
        settled_by_query(&state(TradeState::Refund), FEE, true),
        Some(Final::Reversed { refunded: true })
    );
    // Not proven the sale's own (row 82): refunded, but not "charged and refunded".
    assert_eq!(
        settled_by_query(&state(TradeState::Refund), FEE, false),
        Some(failed("REFUND", false))
    );
    assert_eq!(
        settled_by_query(&state(TradeState::Revoked), FEE, true),
        Some(failed("REVOKED", false))
    );
    let not_ours = Reply::NotOurs {
        why: "attach".into(),
    };
    assert_eq!(
        settled_by_query(&not_ours, FEE, true),
        Some(failed("OUT_TRADE_NO_USED", false)),
        "another till's order: not charged here, never adopted"
    );
    for open in [
        state(TradeState::UserPaying),
        state(TradeState::PayError),
        unknown("timeout"),
    ] {
        assert_eq!(settled_by_query(&open, FEE, true), None, "{open:?}");
    }
}
