//! A seed's schedule: the sales, the faults queued before each step, when the cashier cancels,
//! when the customer acts, and where the process "crashes". A pure function of the seed.

use std::time::Duration;

use paycode::money::Fen;
use paycode::simulator::scenario::Fault;
use paycode::simulator::{Endpoint, Scenario, scenarios};

use super::rng::Rng;
use super::world::Variants;

/// Faults for the next `count` requests (to `endpoint` only, if set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlan {
    pub fault: Fault,
    pub count: u32,
    pub endpoint: Option<Endpoint>,
}

/// The customer acts through the trainer controls (confirms or closes the password box).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Customer {
    Confirms,
    Closes,
}

/// One restart: faults queued while the till is down, and maybe a crash during recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPlan {
    pub faults: Vec<FaultPlan>,
    /// Start the next sale before recovering (the till must refuse it while a sale is open).
    pub eager_sale: bool,
    /// Abort `recover` this long after it started, then restart again.
    pub crash_recovery_at: Vec<Duration>,
}

/// One sale (one customer, one code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalePlan {
    pub amount: Fen,
    pub scenario: &'static Scenario,
    /// The code's serial: distinct within a seed, so every sale is a different customer.
    pub serial: u64,
    pub faults: Vec<FaultPlan>,
    /// The cashier presses cancel this long after the sale started.
    pub cancel_at: Option<Duration>,
    /// The customer acts this long after the micropay was sent.
    pub customer_at: Option<(Duration, Customer)>,
    /// The sale is aborted (in-process kill) this long after it started.
    pub crash_at: Option<Duration>,
    /// What happens at the restart (after a crash, or a clean restart when `restart` is set).
    pub restart: Option<RestartPlan>,
    /// The same code is scanned again right after the sale (must be refused as a duplicate).
    pub rescan: bool,
    /// Retry the pending list after this sale.
    pub retry_pending: bool,
}

/// Everything one seed does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub seed: u64,
    /// "WeChat" revokes unpaid orders by itself (45 simulated seconds).
    pub auto_revoke: bool,
    /// The simulator's reading where WeChat's documentation has two.
    pub variants: Variants,
    pub sales: Vec<SalePlan>,
}

/// The fault kinds the simulator knows, `delay` with a simulated length.
fn fault(rng: &mut Rng) -> Fault {
    match rng.below(11) {
        // Simulated time (÷500 real): short, around the policy's waits, past the 80 ms
        // request timeout.
        0 => Fault::Delay(Duration::from_millis(match rng.below(3) {
            0 => rng.range(0, 5_000),
            1 => rng.range(5_000, 30_000),
            _ => rng.range(45_000, 60_000),
        })),
        1 => Fault::Drop,
        2 => Fault::Http500,
        3 => Fault::Html,
        4 => Fault::SystemError,
        5 => Fault::BankError,
        6 => Fault::WrongSign,
        7 => Fault::Recall,
        8 => Fault::FalseDecline,
        9 => Fault::Decline,
        _ => Fault::DropBefore,
    }
}

fn faults(rng: &mut Rng, none_in: u64) -> Vec<FaultPlan> {
    if rng.below(none_in) == 0 {
        return Vec::new();
    }
    (0..rng.range(1, 3))
        .map(|_| FaultPlan {
            fault: fault(rng),
            count: rng.range(1, 3) as u32,
            endpoint: match rng.below(20) {
                0..=7 => None,
                8..=11 => Some(Endpoint::Micropay),
                12..=16 => Some(Endpoint::OrderQuery),
                _ => Some(Endpoint::Reverse),
            },
        })
        .collect()
}

fn ms(rng: &mut Rng, max: u64) -> Duration {
    Duration::from_millis(rng.range(0, max))
}

fn amount(rng: &mut Rng) -> Fen {
    Fen(match rng.below(8) {
        0 => 1,
        1 => 100_000,                         // exactly the no-password limit
        2 | 3 => rng.range(100_001, 500_000), // the customer is asked for a password
        _ => rng.range(2, 99_999),
    })
}

fn restart(rng: &mut Rng) -> RestartPlan {
    RestartPlan {
        faults: faults(rng, 2),
        eager_sale: rng.chance(1, 2),
        crash_recovery_at: {
            let mut at = Vec::new();
            for _ in 0..2 {
                if rng.chance(1, 4) {
                    at.push(ms(rng, 60));
                }
            }
            at
        },
    }
}

impl Plan {
    /// The schedule of `seed`.
    pub fn of(seed: u64) -> Plan {
        let mut rng = Rng::new(seed);
        let auto_revoke = rng.chance(1, 2);
        let n = rng.range(1, 4);
        let sales = (0..n)
            .map(|i| {
                let crash_at = rng.chance(3, 10).then(|| ms(&mut rng, 100));
                SalePlan {
                    amount: amount(&mut rng),
                    scenario: rng.pick(scenarios()),
                    serial: seed.wrapping_mul(100).wrapping_add(i) % 1_000_000_000_000,
                    faults: faults(&mut rng, 3),
                    cancel_at: rng.chance(1, 4).then(|| ms(&mut rng, 80)),
                    customer_at: rng.chance(1, 4).then(|| {
                        let who = if rng.chance(7, 10) {
                            Customer::Confirms
                        } else {
                            Customer::Closes
                        };
                        (ms(&mut rng, 80), who)
                    }),
                    restart: (crash_at.is_some() || rng.chance(1, 10)).then(|| restart(&mut rng)),
                    crash_at,
                    rescan: rng.chance(1, 10),
                    retry_pending: rng.chance(1, 2),
                }
            })
            .collect();
        // Drawn last, so the schedules of earlier seeds stay as they were.
        let variants = Variants {
            unknown_reverse_succeeds: rng.chance(1, 2),
            bare_refund_state: rng.chance(1, 2),
            reversed_paid_revoked: rng.chance(1, 2),
            // A reverse refused while the password box is open: WeChat itself closes that box
            // (its 45 s auto-revoke), else a customer who never types would hold it forever.
            reverse_userpaying: rng.chance(1, 2) && auto_revoke,
        };
        Plan {
            seed,
            auto_revoke,
            variants,
            sales,
        }
    }
}
