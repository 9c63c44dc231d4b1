//! The races and retries of the reverse, the cashier's cancel, ORDERNOTEXIST rounds, wrong
//! amounts, and what the waiting screen sees.

use super::*;

fn userpaying() -> Script {
    Script::micropay(fail("USERPAYING", ErrClass::Unknown))
}

#[test]
fn customer_pays_between_last_query_and_reverse() {
    let run = run(userpaying().confirms(vec![state(TradeState::Refund)]));
    assert_eq!(run.requests, userpaying_until_reverse());
    assert_eq!(run.outcome, Final::Reversed { refunded: true });
}

#[test]
fn success_after_reverse_keeps_reversing_until_refunded() {
    let run =
        run(userpaying().confirms(vec![state(TradeState::Success), state(TradeState::Refund)]));
    let mut want = userpaying_until_reverse();
    want.extend([(31_000, R), (31_000, Q)]);
    assert_eq!(run.requests, want);
    assert_eq!(run.outcome, Final::Reversed { refunded: true });
}

#[test]
fn reverse_refused_while_password_box_open_is_retried() {
    let run = run(userpaying().reverses(vec![
        reverse_fail("USERPAYING", false),
        Reply::ReverseDone { recall: false },
    ]));
    assert_eq!(&run.requests[6..], &[(30_000, R), (31_000, R), (31_000, Q)]);
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
}

#[test]
fn recall_y_three_times_then_success() {
    // Backoff doubles from 1 s and stops growing at 4 s.
    for recall_reply in [
        reverse_fail("SYSTEMERROR", true),
        reverse_fail("SOME_FAILURE", true),
        Reply::ReverseDone { recall: true },
    ] {
        let run = run(userpaying().reverses(vec![
            recall_reply.clone(),
            recall_reply.clone(),
            recall_reply.clone(),
            Reply::ReverseDone { recall: false },
        ]));
        assert_eq!(
            &run.requests[6..],
            &[
                (30_000, R),
                (31_000, R),
                (33_000, R),
                (37_000, R),
                (37_000, Q)
            ],
            "{recall_reply:?}"
        );
        assert_eq!(run.outcome, Final::Reversed { refunded: false });
    }
}

#[test]
fn reverse_that_always_fails_is_unresolved_after_max_attempts() {
    for reverse in [
        reverse_fail("SYSTEMERROR", false),
        unknown("connection refused"),
        Reply::ProtocolRejected {
            return_msg: "证书错误".into(),
        },
    ] {
        let run = run(userpaying().reverses(vec![reverse.clone()]));
        assert_eq!(count(&run, R), 10, "{reverse:?}");
        assert_eq!(count(&run, M), 1);
        let times: Vec<u64> = run.requests[6..].iter().map(|(t, _)| *t).collect();
        assert_eq!(
            times,
            [
                30_000, 31_000, 33_000, 37_000, 41_000, 45_000, 49_000, 53_000, 57_000, 61_000
            ]
        );
        let Final::Unresolved { why } = &run.outcome else {
            panic!("{reverse:?} ended {:?}", run.outcome);
        };
        assert!(why.contains("10 attempts"), "{why}");
    }
}

#[test]
fn systemerror_everywhere_ends_unresolved() {
    // FAULTS.md rows 7 and 7b: micropay and every query SYSTEMERROR, reverse fails too.
    let run = run(Script::micropay(fail("SYSTEMERROR", ErrClass::Unknown))
        .queries(vec![Reply::QueryError {
            err_code: "SYSTEMERROR".into(),
        }])
        .reverses(vec![reverse_fail("SYSTEMERROR", true)])
        .confirms(vec![Reply::QueryError {
            err_code: "SYSTEMERROR".into(),
        }]));
    assert!(matches!(run.outcome, Final::Unresolved { .. }));
    assert_eq!(run.sale.summary().resume, None);
}

#[test]
fn failed_confirm_query_calls_reverse_again() {
    // The reverse worked but the query after it failed: the idempotent reverse is asked again.
    let run = run(userpaying().confirms(vec![unknown("timeout"), state(TradeState::Revoked)]));
    assert_eq!(
        &run.requests[6..],
        &[(30_000, R), (30_000, Q), (31_000, R), (31_000, Q)]
    );
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
}

#[test]
fn reverse_error_that_cannot_be_retried_lets_the_query_decide() {
    let run = run(userpaying()
        .reverses(vec![reverse_fail("REVERSE_EXPIRE", false)])
        .confirms(vec![state(TradeState::Success)]));
    // Paid and too old to reverse: no more reverses, the whole amount goes back by refund.
    assert_eq!(count(&run, R), 1);
    assert!(matches!(run.outcome, Final::Refunded(ref p) if p.total_fee == FEE));
}

#[test]
fn reverse_refused_for_another_reason_keeps_trying_then_gives_up() {
    let run = run(userpaying()
        .reverses(vec![reverse_fail("ORDERNOTEXIST", false)])
        .confirms(vec![state(TradeState::Success)]));
    // A paid order whose reverse keeps failing: keep trying, then Unresolved, never Reversed.
    assert_eq!(count(&run, R), 10);
    assert!(matches!(run.outcome, Final::Unresolved { .. }));
}

#[test]
fn cancel_before_reverse_not_before_waits_for_it() {
    let sale = Sale::new(table_policy(), FEE, Millis(0));
    let run = drive(sale, 0, Some(3000), userpaying().server());
    assert_eq!(run.requests, [(0, M), (15_000, R), (15_000, Q)]);
    assert_eq!(run.outcome, Final::Reversed { refunded: false });
    assert!(run.sale.summary().cancelled);
}

#[test]
fn cancel_after_reverse_not_before_reverses_at_once() {
    let sale = Sale::new(table_policy(), FEE, Millis(0));
    let run = drive(sale, 0, Some(17_000), userpaying().server());
    assert_eq!(
        run.requests,
        [
            (0, M),
            (5000, Q),
            (10_000, Q),
            (15_000, Q),
            (17_000, R),
            (17_000, Q)
        ]
    );
}

#[test]
fn cancel_before_the_micropay_is_sent_sends_nothing() {
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    sale.cancel(Millis(0));
    assert_eq!(sale.poll(Millis(0)), Step::Done(failed("CANCELLED", false)));
    assert_eq!(sale.resume_point(), None);
}

#[test]
fn cancel_while_micropay_in_flight() {
    // A Paid that arrives after the cancel is reversed (refunded), not reported as paid.
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    assert_eq!(sale.poll(Millis(0)), Step::Send(M));
    sale.cancel(Millis(1000));
    assert_eq!(sale.poll(Millis(1000)), Step::AwaitingReply);
    sale.on_reply(Millis(2000), paid());
    assert_eq!(sale.phase(), Phase::Reversing { attempt: 0 });
    assert_eq!(sale.deadline(), Some(Millis(15_000)));
    assert_eq!(sale.poll(Millis(2000)), Step::WaitUntil(Millis(15_000)));
    let run = drive(
        sale,
        15_000,
        None,
        userpaying()
            .confirms(vec![state(TradeState::Refund)])
            .server(),
    );
    assert_eq!(run.requests, [(15_000, R), (15_000, Q)]);
    assert_eq!(run.outcome, Final::Reversed { refunded: true });

    // A definite "not charged" after the cancel needs no reverse.
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    sale.poll(Millis(0));
    sale.cancel(Millis(500));
    sale.on_reply(Millis(600), fail("NOTENOUGH", ErrClass::Rescan));
    assert_eq!(
        sale.poll(Millis(600)),
        Step::Done(failed("NOTENOUGH", true))
    );
}

#[test]
fn a_cancelled_sale_resumes_by_reversing_after_a_crash() {
    // FAULTS.md row 38: the cashier cancelled while a query was in flight; a crash before the
    // reverse must not turn the resumed sale back into plain polling (it would end PAID).
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    sale.poll(Millis(0));
    sale.on_reply(Millis(100), fail("USERPAYING", ErrClass::Unknown));
    assert_eq!(sale.poll(Millis(5100)), Step::Send(Q));
    sale.cancel(Millis(5150));
    assert!(matches!(
        sale.summary().resume,
        Some(ResumePoint::Reversing { .. })
    ));
}

#[test]
fn cancel_does_not_skip_the_query_after_a_setup_error() {
    // A misconfigured till must say "failed", not reverse into Unresolved.
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    sale.poll(Millis(0));
    sale.on_reply(Millis(100), fail("SIGNERROR", ErrClass::Setup));
    sale.cancel(Millis(100));
    assert_eq!(sale.poll(Millis(100)), Step::Send(Q));
    sale.on_reply(Millis(200), Reply::QueryNotExist);
    assert_eq!(
        sale.poll(Millis(200)),
        Step::Done(failed("SIGNERROR", false))
    );
}

#[test]
fn orderquery_notexist_is_trusted_after_the_rounds_at_the_floor() {
    let run = run(Script::micropay(unknown("timeout"))
        .queries(vec![Reply::QueryNotExist])
        .reverses(vec![reverse_fail("ORDERNOTEXIST", false)])
        .confirms(vec![Reply::QueryNotExist]));
    // Believed after three rounds (12 s), at WeChat's 15 s floor; never closed by a reverse
    // (second review B, issue 11: another till may create an order under the number then).
    assert_eq!(
        run.requests,
        [(0, M), (2000, Q), (7000, Q), (12_000, Q), (15_000, Q)]
    );
    assert_eq!(run.outcome, failed("ORDERNOTEXIST", false));
}

#[test]
fn notexist_count_restarts_when_the_order_shows_up() {
    let run = run(Script::micropay(unknown("timeout")).queries(vec![
        Reply::QueryNotExist,
        Reply::QueryNotExist,
        state(TradeState::UserPaying),
        Reply::QueryNotExist,
        Reply::QueryNotExist,
        state(TradeState::Success),
    ]));
    assert_eq!(run.requests.len(), 7);
    assert_eq!(run.requests.last(), Some(&(27_000, Q)));
    assert_eq!(run.outcome, Final::Paid(payment(FEE)));
}

#[test]
fn trusted_notexist_is_void_when_the_order_turns_out_paid() {
    // Trusted ORDERNOTEXIST, then the order shows up paid with this sale's tag (proven): it is
    // reversed, and the query after it still says SUCCESS: "not charged" no longer holds.
    let run = run(Script::micropay(unknown("timeout"))
        .queries(vec![
            Reply::QueryNotExist,
            Reply::QueryNotExist,
            Reply::QueryNotExist,
            state(TradeState::Success),
        ])
        .reverses(vec![Reply::ReverseDone { recall: false }, unknown("reset")])
        .confirms(vec![state(TradeState::Success)]));
    assert_eq!(run.requests[4..6], [(15_000, Q), (15_000, R)]);
    assert!(
        matches!(run.outcome, Final::Unresolved { .. }),
        "{:?}",
        run.outcome
    );
}

#[test]
fn many_notexist_rounds_run_into_the_deadline() {
    let policy = Policy {
        notexist_rounds: 100,
        ..table_policy()
    };
    let script = Script::micropay(unknown("timeout"))
        .queries(vec![Reply::QueryNotExist])
        .confirms(vec![Reply::QueryNotExist]);
    let run = drive(Sale::new(policy, FEE, Millis(0)), 0, None, script.server());
    // The waiting time is over at 30 s: believed then, and never reversed.
    assert_eq!(count(&run, R), 0, "{:?}", run.requests);
    assert_eq!(run.requests.last(), Some(&(30_000, Q)));
    assert_eq!(run.outcome, failed("ORDERNOTEXIST", false));
}

#[test]
fn wrong_total_fee_is_never_paid() {
    let wrong = success_with(Fen(FEE.0 + 1));
    let no_details = Reply::QueryState {
        state: TradeState::Success,
        payment: None,
    };
    for reply in [wrong, no_details] {
        // Still wrong after the reverse: keep reversing, then Unresolved.
        let run = run(userpaying()
            .queries(vec![reply.clone()])
            .confirms(vec![reply.clone()]));
        assert!(matches!(run.outcome, Final::Unresolved { .. }), "{reply:?}");
        assert_eq!(run.requests[..6], userpaying_until_reverse()[..6]);
        let problem = run.sale.summary().problem.unwrap_or_default();
        assert!(problem.contains("SUCCESS"), "{problem}");

        // The reverse refunds whatever was paid.
        let run = run_refunded(reply.clone());
        assert_eq!(run.outcome, Final::Reversed { refunded: true });
    }
}

fn run_refunded(query: Reply) -> Run {
    run(userpaying()
        .queries(vec![query])
        .confirms(vec![state(TradeState::Refund)]))
}

#[test]
fn waiting_screen_sees_phase_deadline_and_queries() {
    // Created at 0, sent at 1 s: the deadlines count from the send.
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    assert_eq!(sale.phase(), Phase::Submitting);
    assert_eq!(sale.deadline(), None);
    assert_eq!(sale.poll(Millis(1000)), Step::Send(M));
    assert_eq!(sale.summary().submitted_at, Millis(1000));
    assert_eq!(sale.phase(), Phase::Submitting);
    sale.on_reply(Millis(1200), fail("USERPAYING", ErrClass::Unknown));
    let waiting = Phase::WaitingForPassword {
        deadline: Millis(31_000),
        queries: 0,
    };
    assert_eq!(sale.phase(), waiting);
    assert_eq!(sale.deadline(), Some(Millis(31_000)));
    assert_eq!(sale.poll(Millis(1200)), Step::WaitUntil(Millis(6200)));
    assert_eq!(sale.poll(Millis(6200)), Step::Send(Q));
    assert_eq!(sale.queries(), 1);
    sale.on_reply(Millis(6300), unknown("timeout"));
    // Still the password box as far as anyone knows.
    assert!(matches!(
        sale.phase(),
        Phase::WaitingForPassword { queries: 1, .. }
    ));
    sale.poll(Millis(11_300));
    sale.on_reply(Millis(11_300), state(TradeState::NotPay));
    assert_eq!(sale.phase(), Phase::Querying);
    sale.cancel(Millis(12_000));
    assert_eq!(sale.phase(), Phase::Reversing { attempt: 0 });
    assert_eq!(sale.deadline(), Some(Millis(16_000)));
    assert_eq!(sale.poll(Millis(16_000)), Step::Send(R));
    assert_eq!(sale.phase(), Phase::Reversing { attempt: 1 });
    assert_eq!(sale.deadline(), None);
    sale.on_reply(Millis(16_100), Reply::ReverseDone { recall: false });
    sale.poll(Millis(16_100));
    sale.on_reply(Millis(16_200), state(TradeState::Revoked));
    assert_eq!(sale.phase(), Phase::Done);
    assert_eq!(sale.deadline(), None);
    assert_eq!(sale.queries(), 3);
}

#[test]
fn stray_and_early_calls_change_nothing() {
    let mut sale = Sale::new(table_policy(), FEE, Millis(0));
    // A reply with nothing outstanding is ignored, including a "paid".
    sale.on_reply(Millis(0), paid());
    assert_eq!(sale.poll(Millis(0)), Step::Send(M));
    // Polling again while the micropay is out never sends it twice.
    assert_eq!(sale.poll(Millis(10)), Step::AwaitingReply);
    assert_eq!(sale.poll(Millis(60_000)), Step::AwaitingReply);
    sale.on_reply(Millis(100), paid());
    let done = Step::Done(Final::Paid(payment(FEE)));
    assert_eq!(sale.poll(Millis(100)), done);
    sale.cancel(Millis(200));
    sale.on_reply(Millis(200), state(TradeState::Refund));
    assert_eq!(sale.poll(Millis(300)), done);
}

#[test]
fn revoked_after_reversing_a_verified_payment_means_charged_and_refunded() {
    // The confirm query sees the payment (paid in the race), the reverse refunds it, and WeChat
    // then reports the order REVOKED (one reading of its pages): charged and refunded.
    let run =
        run(userpaying().confirms(vec![state(TradeState::Success), state(TradeState::Revoked)]));
    assert_eq!(run.outcome, Final::Reversed { refunded: true });
    // Without a verified payment REVOKED stays "not charged".
    let run2 = run_plain();
    assert_eq!(run2, Final::Reversed { refunded: false });
}

fn run_plain() -> Final {
    run(userpaying().confirms(vec![state(TradeState::Revoked)])).outcome
}

#[test]
fn an_order_never_proven_ours_is_checked_right_before_the_reverse() {
    // Second review F3: the micropay's own answer was lost (the number is another till's order:
    // a copied config); the order shows USERPAYING, the cashier cancels, and the other till's
    // customer pays. The order was never proven this sale's, so instead of a reverse it is
    // queried: the payment carries another sale's tag, this sale ends "number taken", and no
    // reverse is ever sent.
    let script = Script::micropay(unknown("connection dropped")).queries(vec![
        state(TradeState::UserPaying),
        Reply::NotOurs {
            why: "orderquery: attach is not this sale's".into(),
        },
    ]);
    let sale = Sale::new(table_policy(), FEE, Millis(0));
    let run = drive(sale, 0, Some(3000), script.server());
    assert_eq!(count(&run, R), 0, "{:?}", run.requests);
    assert_eq!(run.outcome, failed("OUT_TRADE_NO_USED", false));
    // Its own answer (USERPAYING to its own micropay) proves the order is this sale's: no check.
    let run = run_plain_cancelled();
    assert_eq!(
        run.requests.last(),
        Some(&(15_000, Q)),
        "reverse, then confirm"
    );
    assert_eq!(run.requests[run.requests.len() - 2], (15_000, R));
}

fn run_plain_cancelled() -> Run {
    let sale = Sale::new(table_policy(), FEE, Millis(0));
    drive(sale, 0, Some(3000), userpaying().server())
}
