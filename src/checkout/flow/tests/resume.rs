//! Sales resumed from the journal after a crash, and the journal's view of a sale.

use super::*;

const LATER: u64 = 600_000;

fn resumed(point: ResumePoint, submitted_at: u64, now: u64, script: Script) -> Run {
    let sale = Sale::resume(
        table_policy(),
        FEE,
        Millis(submitted_at),
        point,
        Millis(now),
    );
    drive(sale, now, None, script.server())
}

/// A script for resumed sales: the micropay must never be sent.
fn after_crash() -> Script {
    Script::micropay(unknown("a resumed sale must not send a micropay"))
}

#[test]
fn resumed_submitted_sale_is_settled_by_a_query() {
    let cases: Vec<(&str, Vec<Reply>, Requests, Final)> = vec![
        (
            "applied before the crash: paid",
            vec![state(TradeState::Success)],
            vec![(LATER, Q)],
            Final::Paid(payment(FEE)),
        ),
        (
            "never reached WeChat: not charged, closed by one reverse",
            vec![Reply::QueryNotExist],
            vec![(LATER, Q), (LATER, R), (LATER, Q)],
            failed("ORDERNOTEXIST", false),
        ),
        (
            "still pending long after the deadline: reverse at once",
            vec![state(TradeState::UserPaying)],
            vec![(LATER, Q), (LATER, R), (LATER, Q)],
            Final::Reversed { refunded: false },
        ),
        (
            "WeChat auto-revoked it",
            vec![state(TradeState::Revoked)],
            vec![(LATER, Q)],
            failed("REVOKED", false),
        ),
    ];
    for (name, queries, requests, outcome) in cases {
        let script = after_crash()
            .queries(queries.clone())
            .reverses(vec![reverse_fail("ORDERNOTEXIST", false)])
            .confirms(
                queries
                    .iter()
                    .map(|q| match q {
                        Reply::QueryNotExist => Reply::QueryNotExist,
                        _ => state(TradeState::Revoked),
                    })
                    .collect(),
            );
        let run = resumed(ResumePoint::Submitted, 0, LATER, script);
        assert_eq!(run.requests, requests, "{name}");
        assert_eq!(run.outcome, outcome, "{name}");
    }
}

#[test]
fn resumed_notexist_past_the_deadline_is_trusted_even_if_the_reverse_cannot_get_through() {
    // No lag lasts ten minutes: the order never existed, so a failing reverse changes nothing.
    let script = after_crash()
        .queries(vec![Reply::QueryNotExist])
        .reverses(vec![unknown("connection refused")])
        .confirms(vec![Reply::QueryNotExist]);
    let run = resumed(ResumePoint::Submitted, 0, LATER, script);
    assert_eq!(run.outcome, failed("ORDERNOTEXIST", false));
    // Ten reverses, each after a fresh query (the order was never proven this sale's).
    assert_eq!(count(&run, R), 10);
    assert_eq!(run.requests.len(), 1 + 2 * 10 - 1);

    // A live order whose reverse cannot get through stays unresolved.
    let script = after_crash()
        .queries(vec![state(TradeState::UserPaying)])
        .reverses(vec![unknown("connection refused")])
        .confirms(vec![state(TradeState::UserPaying)]);
    let run = resumed(ResumePoint::Submitted, 0, LATER, script);
    assert!(matches!(run.outcome, Final::Unresolved { .. }));
}

#[test]
fn resumed_within_the_window_polls_as_usual() {
    let run = resumed(ResumePoint::Submitted, 0, 3000, after_crash());
    assert_eq!(
        run.requests,
        [
            (3000, Q),
            (8000, Q),
            (13_000, Q),
            (18_000, Q),
            (23_000, Q),
            (28_000, Q),
            // A resumed sale never saw its micropay's answer: checked right before the reverse.
            (30_000, Q),
            (30_000, R),
            (30_000, Q)
        ]
    );
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
}

#[test]
fn resumed_reverse_checks_first_then_continues_with_a_fresh_budget() {
    let run = resumed(
        ResumePoint::Reversing { attempts: 4 },
        0,
        LATER,
        after_crash().queries(vec![state(TradeState::Revoked)]),
    );
    assert_eq!(run.requests, [(LATER, Q)]);
    assert_eq!(run.outcome, Final::Reversed { refunded: false });

    // The earlier run used up its attempts; this run may still reverse.
    let run = resumed(
        ResumePoint::Reversing { attempts: 10 },
        0,
        LATER,
        after_crash().queries(vec![state(TradeState::NotPay)]),
    );
    // Never proven this sale's order: each reverse is preceded by a fresh query.
    assert_eq!(
        run.requests,
        [
            (LATER, Q),
            (LATER + 1000, Q),
            (LATER + 1000, R),
            (LATER + 1000, Q)
        ]
    );
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
    assert_eq!(run.sale.summary().reverse_attempts, 11);

    // Resumed soon after submit: the reverse still waits for reverse_not_before.
    let run = resumed(
        ResumePoint::Reversing { attempts: 0 },
        0,
        2000,
        after_crash().queries(vec![state(TradeState::UserPaying)]),
    );
    assert_eq!(
        run.requests,
        [(2000, Q), (15_000, Q), (15_000, R), (15_000, Q)],
        "checked again right before the reverse"
    );
}

#[test]
fn resume_point_follows_the_sale() {
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    // Before the first send the journal must already assume the micropay may go out.
    assert_eq!(sale.resume_point(), Some(ResumePoint::Submitted));
    sale.poll(Millis(0));
    sale.on_reply(Millis(0), unknown("timeout"));
    assert_eq!(sale.resume_point(), Some(ResumePoint::Submitted));
    sale.cancel(Millis(1000));
    assert_eq!(
        sale.resume_point(),
        Some(ResumePoint::Reversing { attempts: 0 })
    );
    // Never proven this sale's order (the micropay's answer was lost): checked first.
    assert_eq!(sale.poll(Millis(15_000)), Step::Send(Q));
    sale.on_reply(Millis(15_000), state(TradeState::UserPaying));
    assert_eq!(
        sale.resume_point(),
        Some(ResumePoint::Reversing { attempts: 0 })
    );
    assert_eq!(sale.poll(Millis(15_000)), Step::Send(R));
    sale.on_reply(Millis(15_000), reverse_fail("SYSTEMERROR", true));
    assert_eq!(
        sale.resume_point(),
        Some(ResumePoint::Reversing { attempts: 1 })
    );

    let summary = sale.summary();
    assert_eq!(summary.submitted_at, Millis(0));
    assert_eq!(summary.queries, 1, "the check before the reverse");
    assert!(summary.cancelled);
    assert_eq!(
        summary.problem.as_deref(),
        Some("reverse SYSTEMERROR recall=Y")
    );
    let json = serde_json::to_string(&summary).unwrap();
    assert!(
        json.contains(r#""resume":{"at":"reversing","attempts":1}"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Summary>(&json).unwrap(), summary);
}

#[test]
fn final_summary_serializes_the_outcome() {
    let run = run(Script::micropay(paid()));
    let summary = run.sale.summary();
    assert_eq!(summary.resume, None);
    let json = serde_json::to_string(&summary).unwrap();
    assert!(
        json.contains(r#""outcome":{"status":"paid","transaction_id":"4200000000202401011234567890","total_fee":1234"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Summary>(&json).unwrap(), summary);
}
