//! Seeded random schedules: random policies, starts, cancels, latencies and replies (including
//! replies of the wrong kind). For every seed the flow must finish within a bound, send at most
//! one micropay (none when resumed), never reverse before `reverse_not_before`, and never end
//! Paid without a confirmed payment of the sale's amount.

use std::time::Duration;

use super::*;

/// splitmix64: tiny, deterministic, good enough to shuffle test schedules.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn ms(&mut self, max: u64) -> Duration {
        Duration::from_millis(self.below(max + 1))
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}

fn random_policy(rng: &mut Rng) -> Policy {
    let first_query_after = rng.ms(3000);
    Policy {
        first_query_after,
        query_interval: Duration::from_millis(1) + rng.ms(3000),
        password_timeout: first_query_after + rng.ms(20_000),
        reverse_not_before: rng.ms(20_000),
        reverse_max_attempts: 1 + rng.below(8) as u32,
        reverse_backoff: rng.ms(2000),
        unknown_query_after: rng.ms(3000),
        notexist_rounds: rng.below(5) as u32,
        unproven_wait: rng.ms(90_000),
    }
}

fn random_payment(rng: &mut Rng) -> Option<Payment> {
    match rng.below(4) {
        0 => None,
        1 => Some(payment(Fen(FEE.0 + 1 + rng.below(100)))),
        _ => Some(payment(FEE)),
    }
}

fn random_reply(rng: &mut Rng, request: Request) -> Reply {
    let codes = [
        "SYSTEMERROR",
        "USERPAYING",
        "ORDERNOTEXIST",
        "REVERSE_EXPIRE",
        "X",
    ];
    let states = [
        TradeState::Success,
        TradeState::Refund,
        TradeState::NotPay,
        TradeState::Closed,
        TradeState::Revoked,
        TradeState::UserPaying,
        TradeState::PayError,
        TradeState::Accept,
    ];
    let classes = [
        ErrClass::Unknown,
        ErrClass::Rescan,
        ErrClass::Failed,
        ErrClass::Duplicate,
        ErrClass::Setup,
    ];
    // Mostly a reply of the right kind; sometimes anything at all.
    let kind = if rng.chance(90) {
        request
    } else {
        rng.pick(&[M, Q, R])
    };
    match (kind, rng.below(4)) {
        (_, 0) if rng.chance(50) => unknown("random transport failure"),
        (_, 0) => Reply::ProtocolRejected {
            return_msg: "random refusal".into(),
        },
        (Request::Micropay, 1) => match random_payment(rng) {
            Some(p) => Reply::MicropayPaid(p),
            None => fail("USERPAYING", ErrClass::Unknown),
        },
        (Request::Micropay, _) => fail(rng.pick(&codes), rng.pick(&classes)),
        (Request::OrderQuery, 1) => Reply::QueryNotExist,
        (Request::OrderQuery, 2) if rng.chance(30) => Reply::QueryError {
            err_code: rng.pick(&codes).into(),
        },
        (Request::OrderQuery, _) => Reply::QueryState {
            state: rng.pick(&states),
            payment: random_payment(rng),
        },
        (Request::Reverse, 1) => Reply::ReverseDone {
            recall: rng.chance(30),
        },
        (Request::Reverse, _) => reverse_fail(rng.pick(&codes), rng.chance(50)),
    }
}

/// One seeded schedule; panics with the seed in the message when an invariant breaks.
fn check_seed(seed: u64) -> Final {
    let mut rng = Rng(seed);
    let policy = random_policy(&mut rng);
    let start = rng.below(1_000_000);
    let resumed = rng.chance(30);
    // Whether the order is proven this sale's: only then may a reverse go out.
    let mut proven = false;
    let (mut sale, mut submitted_at, mut now) = if resumed {
        let point = if rng.chance(50) {
            ResumePoint::Submitted
        } else {
            ResumePoint::Reversing {
                attempts: rng.below(12) as u32,
            }
        };
        let now = start + rng.below(60_000);
        let proof = Proof {
            own_order: rng.chance(50),
            verified_paid: false,
        };
        proven = proof.own_order;
        let sale = Sale::resume(
            policy.clone(),
            FEE,
            Millis(start),
            point,
            proof,
            Millis(now),
        );
        (sale, Millis(start), Millis(now))
    } else {
        // The runner may poll a little after creating the sale; submit time is the send.
        let sale = Sale::new(policy.clone(), FEE, Millis(start));
        (sale, Millis(start), Millis(start + rng.below(2000)))
    };
    let mut cancel_at = rng.chance(30).then(|| Millis(start + rng.below(40_000)));
    let mut cancelled = false;
    let mut requests: Vec<(Millis, Request)> = Vec::new();
    let mut confirmed: Vec<Payment> = Vec::new();
    let mut refund_seen = false;
    let mut expired_seen = false;
    let mut revoked_seen = false;
    let mut rescan_seen = false;

    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap();
    // Queries until the deadline, then (an order never proven) until unproven_wait.
    let waiting = policy.password_timeout.max(policy.unproven_wait);
    let bound = 1
        + 3
        + ms(waiting) / ms(policy.query_interval)
        + 1
        + 2 * u64::from(policy.reverse_max_attempts)
        + 2;

    let outcome = loop {
        assert!(requests.len() < 100_000, "seed {seed}: runaway");
        if cancel_at.is_some_and(|c| now >= c) {
            sale.cancel(now);
            cancelled = sale.outcome().is_none();
            cancel_at = None;
        }
        match sale.poll(now) {
            Step::Send(request) => {
                requests.push((now, request));
                match request {
                    Request::Micropay => submitted_at = now,
                    Request::Reverse => {
                        assert!(
                            now >= submitted_at + policy.reverse_not_before,
                            "seed {seed}: reverse at {now:?} before reverse_not_before: {requests:?} {policy:?} {sale:?}"
                        );
                        assert!(
                            proven,
                            "seed {seed}: reversed an order never proven its own"
                        );
                    }
                    Request::OrderQuery => {}
                }
                assert_eq!(sale.poll(now), Step::AwaitingReply, "seed {seed}");
                let reply = random_reply(&mut rng, request);
                proven |= match &reply {
                    Reply::MicropayPaid(p) => p.total_fee == FEE,
                    Reply::MicropayFail { err_code, .. } => err_code == "USERPAYING",
                    Reply::QueryState {
                        state: TradeState::Success,
                        payment: Some(p),
                    } => p.total_fee == FEE,
                    _ => false,
                } && request != R;
                match &reply {
                    Reply::MicropayPaid(p) if request == M => confirmed.push(p.clone()),
                    Reply::QueryState {
                        state: TradeState::Success,
                        payment: Some(p),
                    } if request == Q => confirmed.push(p.clone()),
                    Reply::QueryState {
                        state: TradeState::Refund,
                        ..
                    } => refund_seen = true,
                    Reply::QueryState {
                        state: TradeState::Revoked,
                        ..
                    } => revoked_seen = true,
                    Reply::MicropayFail {
                        class: ErrClass::Rescan,
                        ..
                    } => rescan_seen = true,
                    Reply::ReverseFail { err_code, .. } if err_code == "REVERSE_EXPIRE" => {
                        expired_seen = true
                    }
                    _ => {}
                }
                let latency = rng.below(3000);
                if rng.chance(5) {
                    // The cashier cancels while the request is out.
                    sale.cancel(Millis(now.0 + latency / 2));
                    cancelled = true;
                }
                now = Millis(now.0 + latency);
                sale.on_reply(now, reply);
            }
            Step::WaitUntil(t) => {
                assert!(t > now, "seed {seed}: WaitUntil({t:?}) at {now:?}");
                now = match cancel_at {
                    Some(c) if c < t => c.max(now),
                    _ => t,
                };
            }
            Step::Done(outcome) => break outcome,
            Step::AwaitingReply => panic!("seed {seed}: nothing was outstanding"),
        }
    };

    let micropays = requests.iter().filter(|(_, r)| *r == M).count();
    assert!(micropays <= 1, "seed {seed}: {micropays} micropays");
    if resumed {
        assert_eq!(micropays, 0, "seed {seed}: a resumed sale sent a micropay");
    }
    let n = requests.len() as u64;
    assert!(n <= bound, "seed {seed}: {n} requests, bound {bound}");
    match &outcome {
        Final::Paid(p) => {
            assert_eq!(p.total_fee, FEE, "seed {seed}");
            assert!(
                confirmed.contains(p),
                "seed {seed}: Paid without a Paid reply"
            );
            assert!(!cancelled, "seed {seed}: Paid after cancel");
            assert!(
                requests.iter().all(|(_, r)| *r != R),
                "seed {seed}: Paid after a reverse was sent"
            );
        }
        // REFUND, or REVOKED after a payment this run verified (the other reading).
        Final::Reversed { refunded: true } => assert!(
            refund_seen || (revoked_seen && confirmed.iter().any(|p| p.total_fee == FEE)),
            "seed {seed}"
        ),
        // Only a verified payment of this amount, after a reverse WeChat refused as expired.
        Final::Refunded(p) => {
            assert_eq!(p.total_fee, FEE, "seed {seed}");
            assert!(
                confirmed.contains(p),
                "seed {seed}: Refunded without a Paid reply"
            );
            assert!(expired_seen, "seed {seed}: Refunded without REVERSE_EXPIRE");
        }
        Final::Failed { rescan: true, .. } => assert!(rescan_seen, "seed {seed}"),
        _ => {}
    }
    assert_eq!(sale.outcome(), Some(&outcome), "seed {seed}");
    assert_eq!(sale.resume_point(), None, "seed {seed}");
    outcome
}

#[test]
fn random_schedules_keep_the_invariants() {
    // [paid, failed, reversed, unresolved, refunded]: every kind of ending must be reached.
    let mut endings = [0u32; 5];
    for seed in 0..5000 {
        let slot = match check_seed(seed) {
            Final::Paid(_) => 0,
            Final::Failed { .. } => 1,
            Final::Reversed { .. } => 2,
            Final::Unresolved { .. } => 3,
            Final::Refunded(_) => 4,
        };
        endings[slot] += 1;
    }
    assert!(endings[..4].iter().all(|&n| n > 100), "{endings:?}");
    assert!(endings[4] > 0, "{endings:?}");
}
