//! Chaos harness shared by tests/chaos.rs (seeded in-process runs) and tests/crash_loop.rs
//! (SIGKILL of the real binary): a seeded PRNG, the seed → schedule function, a simulator +
//! journal world, the in-process runner and the invariant checker.
#![allow(clippy::unwrap_used, dead_code)]

pub mod invariants;
pub mod pair;
pub mod plan;
pub mod rng;
pub mod run;
pub mod stats;
pub mod world;
