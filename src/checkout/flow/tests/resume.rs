//! Sales resumed from the journal after a crash, and the journal's view of a sale.

use super::*;

const LATER: u64 = 600_000;

/// A sale resumed whose journal kept no proof that the order is its own (its micropay's
/// answer never came before the crash).
fn resumed(point: ResumePoint, submitted_at: u64, now: u64, script: Script) -> Run {
    resumed_with(Proof::default(), point, submitted_at, now, script)
}

/// A sale resumed whose own micropay had been answered USERPAYING before the crash.
fn resumed_own(point: ResumePoint, submitted_at: u64, now: u64, script: Script) -> Run {
    let proof = Proof {
        own_order: true,
        verified_paid: false,
    };
    resumed_with(proof, point, submitted_at, now, script)
}

fn resumed_with(
    proof: Proof,
    point: ResumePoint,
    submitted_at: u64,
    now: u64,
    script: Script,
) -> Run {
    let sale = Sale::resume(
        table_policy(),
        FEE,
        Millis(submitted_at),
        point,
        proof,
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
            "never reached WeChat, long past unproven_wait: not charged, no reverse",
            vec![Reply::QueryNotExist],
            vec![(LATER, Q)],
            failed("ORDERNOTEXIST", false),
        ),
        (
            "still pending long after the deadline, never proven its own: unresolved",
            vec![state(TradeState::UserPaying)],
            vec![(LATER, Q)],
            unresolved(),
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
        let run = resumed(ResumePoint::Submitted, 0, LATER, script.clone());
        assert_eq!(run.requests, requests, "{name}");
        if matches!(outcome, Final::Unresolved { .. }) {
            assert!(matches!(run.outcome, Final::Unresolved { .. }), "{name}");
            // Proven its own before the crash: reversed at once.
            let run = resumed_own(ResumePoint::Submitted, 0, LATER, script);
            assert_eq!(run.requests, [(LATER, Q), (LATER, R), (LATER, Q)], "{name}");
            assert_eq!(run.outcome, Final::Reversed { refunded: false }, "{name}");
        } else {
            assert_eq!(run.outcome, outcome, "{name}");
        }
    }
}

fn unresolved() -> Final {
    Final::Unresolved { why: String::new() }
}

#[test]
fn resumed_notexist_past_the_deadline_is_trusted_even_if_the_reverse_cannot_get_through() {
    // No lag lasts ten minutes: the order never existed, so a failing reverse changes nothing.
    let script = after_crash()
        .queries(vec![Reply::QueryNotExist])
        .reverses(vec![unknown("connection refused")])
        .confirms(vec![Reply::QueryNotExist]);
    let run = resumed_own(ResumePoint::Submitted, 0, LATER, script);
    assert_eq!(run.outcome, failed("ORDERNOTEXIST", false));
    // Ten reverses (its own order), then the query decides.
    assert_eq!(count(&run, R), 10);
    // Not proven its own: no reverse at all, the same ending.
    let script = after_crash().queries(vec![Reply::QueryNotExist]);
    let run = resumed(ResumePoint::Submitted, 0, LATER, script);
    assert_eq!(
        (count(&run, R), run.outcome),
        (0, failed("ORDERNOTEXIST", false))
    );

    // A live order whose reverse cannot get through stays unresolved.
    let script = after_crash()
        .queries(vec![state(TradeState::UserPaying)])
        .reverses(vec![unknown("connection refused")])
        .confirms(vec![state(TradeState::UserPaying)]);
    let run = resumed_own(ResumePoint::Submitted, 0, LATER, script);
    assert!(matches!(run.outcome, Final::Unresolved { .. }));
}

#[test]
fn resumed_within_the_window_polls_as_usual() {
    let run = resumed_own(ResumePoint::Submitted, 0, 3000, after_crash());
    let polls = [
        (3000, Q),
        (8000, Q),
        (13_000, Q),
        (18_000, Q),
        (23_000, Q),
        (28_000, Q),
    ];
    let mut want = polls.to_vec();
    want.extend([(30_000, R), (30_000, Q)]);
    assert_eq!(run.requests, want);
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
    // Never proven its own (the answer was lost before the crash): queried to unproven_wait.
    let run = resumed(ResumePoint::Submitted, 0, 3000, after_crash());
    let mut want = polls.to_vec();
    want.extend((0..7).map(|i| (30_000 + i * 5000, Q)));
    assert_eq!(run.requests, want);
    assert!(matches!(run.outcome, Final::Unresolved { .. }));
}

#[test]
fn resumed_reverse_queries_first_then_continues_with_a_fresh_budget() {
    let run = resumed(
        ResumePoint::Reversing { attempts: 4 },
        0,
        LATER,
        after_crash().queries(vec![state(TradeState::Revoked)]),
    );
    assert_eq!(run.requests, [(LATER, Q)]);
    assert_eq!(run.outcome, Final::Reversed { refunded: false });

    // The earlier run used up its attempts; this run may still reverse its own order.
    let notpay = || after_crash().queries(vec![state(TradeState::NotPay)]);
    let run = resumed_own(ResumePoint::Reversing { attempts: 10 }, 0, LATER, notpay());
    assert_eq!(
        run.requests,
        [(LATER, Q), (LATER + 1000, R), (LATER + 1000, Q)]
    );
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
    assert_eq!(run.sale.summary().reverse_attempts, 11);
    // An order never proven its own is not reversed again: long past unproven_wait, unresolved.
    let run = resumed(ResumePoint::Reversing { attempts: 10 }, 0, LATER, notpay());
    assert_eq!(run.requests, [(LATER, Q)]);
    assert!(matches!(run.outcome, Final::Unresolved { .. }));

    // Resumed soon after submit: the reverse still waits for reverse_not_before.
    let userpaying = || after_crash().queries(vec![state(TradeState::UserPaying)]);
    let run = resumed_own(
        ResumePoint::Reversing { attempts: 0 },
        0,
        2000,
        userpaying(),
    );
    assert_eq!(run.requests, [(2000, Q), (15_000, R), (15_000, Q)]);
    // Unproven: asked every 5 s until unproven_wait instead.
    let run = resumed(
        ResumePoint::Reversing { attempts: 0 },
        0,
        2000,
        userpaying(),
    );
    assert_eq!(count(&run, R), 0, "{:?}", run.requests);
    assert_eq!(run.requests.last(), Some(&(60_000, Q)));
}

#[test]
fn resume_point_follows_the_sale() {
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    // Before the first send the journal must already assume the micropay may go out.
    assert_eq!(sale.resume_point(), Some(ResumePoint::Submitted));
    sale.poll(Millis(0));
    sale.on_reply(Millis(0), fail("USERPAYING", ErrClass::Unknown));
    assert_eq!(sale.resume_point(), Some(ResumePoint::Submitted));
    sale.cancel(Millis(1000));
    assert_eq!(
        sale.resume_point(),
        Some(ResumePoint::Reversing { attempts: 0 })
    );
    // Its own micropay's answer proved the order: the reverse goes out at the 15 s floor.
    assert_eq!(sale.poll(Millis(15_000)), Step::Send(R));
    sale.on_reply(Millis(15_000), reverse_fail("SYSTEMERROR", true));
    assert_eq!(
        sale.resume_point(),
        Some(ResumePoint::Reversing { attempts: 1 })
    );

    let summary = sale.summary();
    assert_eq!(summary.submitted_at, Millis(0));
    assert_eq!(summary.queries, 0);
    assert!(summary.cancelled);
    assert!(summary.proof.own_order && !summary.proof.verified_paid);
    assert_eq!(
        summary.problem.as_deref(),
        Some("reverse SYSTEMERROR recall=Y")
    );
    let json = serde_json::to_string(&summary).unwrap();
    assert!(
        json.contains(r#""resume":{"at":"reversing","attempts":1}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""proof":{"own_order":true,"verified_paid":false}"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Summary>(&json).unwrap(), summary);
    // A summary journaled before the proof existed reads as "not proven".
    let old = json.replace(r#","proof":{"own_order":true,"verified_paid":false}"#, "");
    assert_ne!(old, json);
    let read: Summary = serde_json::from_str(&old).unwrap();
    assert_eq!(read.proof, Proof::default());
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
